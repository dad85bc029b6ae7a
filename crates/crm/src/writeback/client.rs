//! Sends write-back updates: HubSpot with a private-app token, Salesforce with the OAuth 2.0
//! client-credentials flow of a connected app (a fresh access token when the cached one is
//! refused). Each send is one attempt; retrying, backoff and dead letters are the caller's.
//! Rate limits come back as a retry with the wait the CRM asked for.

use super::{hubspot_request, salesforce_request, CrmObject, Figures};
use crate::fact::{RecordKey, Source};
use chrono::Duration;
use reqwest::{Response, StatusCode};
use std::fmt;
use std::sync::Mutex;

/// A credential: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(String);

impl Credential {
    /// `None` for a blank value (the setting is off).
    pub fn parse(s: &str) -> Option<Credential> {
        let s = s.trim();
        (!s.is_empty()).then(|| Credential(s.to_owned()))
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(…)")
    }
}

/// HubSpot: a private app's access token (scope `crm.objects.contacts.write`).
#[derive(Debug, Clone)]
pub struct HubSpot {
    pub token: Credential,
    /// `https://api.hubapi.com` unless a test points it elsewhere.
    pub api_base: String,
}

/// Salesforce: a connected (or external client) app with the client-credentials flow enabled.
#[derive(Debug, Clone)]
pub struct Salesforce {
    /// The org's My Domain URL (`https://acme.my.salesforce.com`): the token endpoint's host.
    pub login_url: String,
    pub client_id: Credential,
    pub client_secret: Credential,
    /// `v62.0`.
    pub api_version: String,
}

/// What is configured. Both off by default: nothing is written until a team asks for it.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub hubspot: Option<HubSpot>,
    pub salesforce: Option<Salesforce>,
}

impl Settings {
    pub fn is_on(&self) -> bool {
        self.hubspot.is_some() || self.salesforce.is_some()
    }
}

/// One attempt that did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WriteError {
    pub message: String,
    /// The CRM asked to wait this long (HubSpot `Retry-After`, Salesforce's daily limit).
    pub retry_after: Option<Duration>,
    /// Retrying the same request cannot succeed (the record is gone, a field is missing).
    pub permanent: bool,
}

impl WriteError {
    fn retry(message: String) -> Self {
        WriteError {
            message,
            retry_after: None,
            permanent: false,
        }
    }
    fn permanent(message: String) -> Self {
        WriteError {
            message,
            retry_after: None,
            permanent: true,
        }
    }
}

/// How long to wait after Salesforce's `REQUEST_LIMIT_EXCEEDED`: the limit is a rolling 24 h,
/// so retrying every few seconds only spends what frees up.
const SALESFORCE_LIMIT_WAIT: Duration = Duration::minutes(15);

/// A cached Salesforce session: the access token and the instance it is good for.
#[derive(Clone)]
struct Session {
    token: Credential,
    instance_url: String,
}

pub struct Client {
    http: reqwest::Client,
    settings: Settings,
    session: Mutex<Option<Session>>,
}

impl Client {
    pub fn new(settings: Settings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .expect("a TLS client with default settings builds");
        Client {
            http,
            settings,
            session: Mutex::new(None),
        }
    }

    /// The cached Salesforce session (a panic elsewhere leaves a usable value: it is replaced whole).
    fn cached(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a record of this CRM is written back.
    pub fn writes(&self, record: &RecordKey) -> bool {
        let on = match record.crm {
            Source::HubSpot => self.settings.hubspot.is_some(),
            Source::Salesforce => self.settings.salesforce.is_some(),
            _ => false,
        };
        on && CrmObject::of(record).is_some()
    }

    /// Writes one record's figures: one attempt (two for Salesforce when its session expired).
    pub async fn write(&self, record: &RecordKey, figures: &Figures) -> Result<(), WriteError> {
        match (CrmObject::of(record), &self.settings) {
            (Some(CrmObject::HubSpotContact), Settings { hubspot: Some(h), .. }) => {
                self.write_hubspot(h, &record.id, figures).await
            }
            (
                Some(object),
                Settings {
                    salesforce: Some(sf), ..
                },
            ) if record.crm == Source::Salesforce => self.write_salesforce(sf, object, &record.id, figures).await,
            _ => Err(WriteError::permanent(format!(
                "write-back is not configured for {}",
                record.crm
            ))),
        }
    }

    async fn write_hubspot(&self, h: &HubSpot, id: &str, figures: &Figures) -> Result<(), WriteError> {
        let (path, body) = hubspot_request(id, figures);
        let sent = self
            .http
            .patch(format!("{}{path}", h.api_base.trim_end_matches('/')))
            .bearer_auth(h.token.expose())
            .json(&body)
            .send()
            .await;
        let response = sent.map_err(|e| WriteError::retry(format!("HubSpot unreachable: {}", without_url(&e))))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = retry_after_seconds(&response);
        let detail = error_text(response).await;
        let message = format!("HubSpot answered {status}: {detail}");
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => WriteError {
                message,
                retry_after,
                permanent: false,
            },
            // The contact is gone (merged or deleted), or a property is missing or invalid:
            // the same request will not succeed.
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST => WriteError::permanent(message),
            _ => WriteError::retry(message),
        })
    }

    async fn write_salesforce(
        &self,
        sf: &Salesforce,
        object: CrmObject,
        id: &str,
        figures: &Figures,
    ) -> Result<(), WriteError> {
        let (path, body) = salesforce_request(&sf.api_version, object, id, figures);
        for fresh in [false, true] {
            let session = self.session(sf, fresh).await?;
            let sent = self
                .http
                .patch(format!("{}{path}", session.instance_url.trim_end_matches('/')))
                .bearer_auth(session.token.expose())
                .json(&body)
                .send()
                .await;
            let response =
                sent.map_err(|e| WriteError::retry(format!("Salesforce unreachable: {}", without_url(&e))))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let detail = error_text(response).await;
            if status == StatusCode::UNAUTHORIZED && !fresh {
                // INVALID_SESSION_ID: the token expired or was revoked; one more try with a new one.
                *self.cached() = None;
                continue;
            }
            return Err(salesforce_error(status, detail));
        }
        Err(WriteError::retry("Salesforce refused a fresh session".into()))
    }

    /// The cached session, or a new one from the token endpoint.
    async fn session(&self, sf: &Salesforce, fresh: bool) -> Result<Session, WriteError> {
        if !fresh {
            if let Some(s) = self.cached().clone() {
                return Ok(s);
            }
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", sf.client_id.expose()),
            ("client_secret", sf.client_secret.expose()),
        ];
        let url = format!("{}/services/oauth2/token", sf.login_url.trim_end_matches('/'));
        let sent = self.http.post(url).form(&form).send().await;
        let response =
            sent.map_err(|e| WriteError::retry(format!("Salesforce token endpoint unreachable: {}", without_url(&e))))?;
        let status = response.status();
        if !status.is_success() {
            let detail = error_text(response).await;
            return Err(WriteError::retry(format!(
                "Salesforce refused the client credentials ({status}): {detail}"
            )));
        }
        #[derive(serde::Deserialize)]
        struct Token {
            access_token: String,
            instance_url: String,
        }
        let t: Token = response
            .json()
            .await
            .map_err(|e| WriteError::retry(format!("Salesforce token response unreadable: {}", without_url(&e))))?;
        let session = Session {
            token: Credential::parse(&t.access_token)
                .ok_or_else(|| WriteError::retry("Salesforce returned an empty access token".into()))?,
            instance_url: t.instance_url,
        };
        *self.cached() = Some(session.clone());
        Ok(session)
    }
}

/// Salesforce's error list (`[{"errorCode": …, "message": …}]`) read into a retry decision.
fn salesforce_error(status: StatusCode, detail: String) -> WriteError {
    let message = format!("Salesforce answered {status}: {detail}");
    if detail.contains("REQUEST_LIMIT_EXCEEDED") {
        return WriteError {
            message,
            retry_after: Some(SALESFORCE_LIMIT_WAIT),
            permanent: false,
        };
    }
    match status {
        // ENTITY_IS_DELETED, NOT_FOUND, INVALID_FIELD, a field-level-security refusal.
        StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST => WriteError::permanent(message),
        _ => WriteError::retry(message),
    }
}

/// `Retry-After` in seconds (HubSpot's 429s), when present and sane.
fn retry_after_seconds(r: &Response) -> Option<Duration> {
    let secs: i64 = r.headers().get("retry-after")?.to_str().ok()?.trim().parse().ok()?;
    (0..=86_400).contains(&secs).then(|| Duration::seconds(secs))
}

/// The start of an error body, for people: the CRMs' error bodies name codes and fields,
/// never the figures' record contents.
async fn error_text(r: Response) -> String {
    let text = r.text().await.unwrap_or_default();
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// A transport error without the URL it carries (a URL may hold an instance name).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_decode() {
        "unreadable body"
    } else {
        "request failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_limit_waits_and_missing_records_are_permanent() {
        let limit = salesforce_error(
            StatusCode::FORBIDDEN,
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#.into(),
        );
        assert_eq!(limit.retry_after, Some(SALESFORCE_LIMIT_WAIT));
        assert!(!limit.permanent);
        assert!(salesforce_error(StatusCode::NOT_FOUND, "[]".into()).permanent);
        assert!(!salesforce_error(StatusCode::SERVICE_UNAVAILABLE, String::new()).permanent);
    }

    #[test]
    fn credentials_never_print() {
        let c = Credential::parse(" pat-na1-secret ").unwrap();
        assert_eq!(format!("{c:?}"), "Credential(…)");
        assert!(Credential::parse("  ").is_none());
    }
}
