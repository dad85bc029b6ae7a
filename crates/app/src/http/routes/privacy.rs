//! `POST /v1/privacy/erasure`: erases one person's data, named by lead id or by email, with an
//! admin token. The anonymous timeline and every metric stay.

use crate::handlers::privacy::{ContactEmail, PrivacyError, Subject};
use crate::http::extract::AdminBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use axum::extract::State;
use axum::response::Response;
use leadclock_domain::LeadId;
use serde::Deserialize;

/// The request: exactly one of the two.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasureRequest {
    lead_id: Option<String>,
    email: Option<String>,
}

/// The subject a request names, checked.
fn subject(body: &[u8]) -> Result<Subject, PrivacyError> {
    let invalid = |field, message: String| PrivacyError::Invalid { field, message };
    let req: ErasureRequest =
        serde_json::from_slice(body).map_err(|e| invalid("body", format!("is not an erasure request: {e}")))?;
    match (req.lead_id, req.email) {
        (Some(id), None) => LeadId::parse(&id)
            .map(Subject::Lead)
            .map_err(|e| invalid("lead_id", e.0)),
        (None, Some(email)) => ContactEmail::parse(&email)
            .map(Subject::Email)
            .map_err(|e| invalid("email", e)),
        _ => Err(invalid("body", "must name exactly one of lead_id and email".into())),
    }
}

pub async fn erasure<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, AdminBody(body): AdminBody) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let subject = match subject(&body) {
        Ok(s) => s,
        Err(e) => return error(&e),
    };
    match state.app.erase(&subject).await {
        Ok(done) => json(200, &done),
        Err(e) => error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HttpError;

    #[test]
    fn a_request_names_exactly_one_subject() {
        assert!(matches!(subject(br#"{"lead_id":"L-1"}"#), Ok(Subject::Lead(_))));
        assert!(matches!(
            subject(br#"{"email":"ada@example.com"}"#),
            Ok(Subject::Email(_))
        ));
        for (body, field) in [
            (&br#"{}"#[..], "body"),
            (br#"{"lead_id":"L-1","email":"ada@example.com"}"#, "body"),
            (br#"{"lead_id":"a b"}"#, "lead_id"),
            (br#"{"email":"nobody"}"#, "email"),
            (br#"{"name":"Ada"}"#, "body"),
            (b"not json", "body"),
        ] {
            let e = subject(body).unwrap_err();
            assert_eq!((e.status(), e.field().as_deref()), (400, Some(field)), "{body:?}");
        }
    }
}
