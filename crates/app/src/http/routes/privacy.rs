//! `POST /v1/privacy/erasure`: erases one person's data, named by lead id or by email, with an
//! admin token. The anonymous timeline and every metric stay.

use crate::error::ErrorBody;
use crate::handlers::privacy::{ContactEmail, Erasure, PrivacyError, Subject};
use crate::http::extract::AdminBody;
use crate::http::response::{error, json};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use axum::extract::State;
use axum::response::Response;
use leadclock_domain::LeadId;
use serde::Deserialize;

/// The request: exactly one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct ErasureRequest {
    /// A lead whose personal data to erase.
    #[schema(pattern = r"^\s*[!-.0-~]{1,128}\s*$")]
    lead_id: Option<String>,
    /// An email: every lead whose form names it (any letter case) is erased.
    #[schema(max_length = 320)]
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

#[utoipa::path(
    post,
    path = "/v1/privacy/erasure",
    tag = "privacy",
    summary = "Erase one person's personal data, by lead id or email; timelines and metrics stay",
    security(("admin_token" = [])),
    request_body(content = ErasureRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Erased; a retry, or an email no form names, erases nothing and lists no leads", body = Erasure),
        (status = 400, description = "`invalid_field` (`body`, `lead_id` or `email`): not exactly one of the two, or malformed", body = ErrorBody),
        (status = 401, description = "No admin token (a read token is not one): `unauthorized`", body = ErrorBody),
        (status = 404, description = "`lead_not_found`: the `lead_id` names no stored lead (an email that names none answers 200 with no leads)", body = ErrorBody),
        (status = 413, description = "`body_too_large`: over 4 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not `application/json`", body = ErrorBody),
        (status = 500, description = "`store_unavailable`: the store failed for good", body = ErrorBody),
        (status = 503, description = "`store_unavailable`: the store failed for now; retry after `Retry-After`", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
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
