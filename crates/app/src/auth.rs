//! Webhook trust: HMAC-SHA256 signatures over a timestamp and the raw body, HubSpot's v3
//! request signature, bearer tokens for reads. Several secrets may be valid at once, so a
//! secret can be rotated without downtime. Every comparison is constant-time.
//!
//! leadclock's own scheme:
//! - `X-Leadclock-Timestamp`: Unix seconds when the request was signed;
//! - `X-Leadclock-Signature`: `v1=` + hex HMAC-SHA256(secret, `{timestamp}.{raw body}`);
//!   several `v1=` values may be sent, comma-separated (signing with old and new secret).
//!
//! HubSpot v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256(client secret,
//! method + URI + body + `X-HubSpot-Request-Timestamp`), the timestamp in milliseconds.
//!
//! Both are refused outside a 5-minute window around the server's clock. A replay inside the
//! window is a duplicate event (same id or body), so it changes nothing.

use crate::error::HttpError;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

pub const TIMESTAMP_HEADER: &str = "x-leadclock-timestamp";
pub const SIGNATURE_HEADER: &str = "x-leadclock-signature";
pub const HUBSPOT_SIGNATURE_HEADER: &str = "x-hubspot-signature-v3";
pub const HUBSPOT_TIMESTAMP_HEADER: &str = "x-hubspot-request-timestamp";
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// How far a signed timestamp may be from the server's clock, either way.
pub const REPLAY_WINDOW: Duration = Duration::minutes(5);

type HmacSha256 = Hmac<Sha256>;

/// A shared secret. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(s: &str) -> Self {
        Secret(s.trim().as_bytes().to_vec())
    }
    /// Comma-separated secrets (the rotation list); blanks are ignored.
    pub fn list(s: &str) -> Vec<Secret> {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(Secret::new)
            .collect()
    }
    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Who may call: secrets for webhooks (leadclock and HubSpot schemes) and tokens for reads.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    pub webhook_secrets: Vec<Secret>,
    pub hubspot_secrets: Vec<Secret>,
    pub read_tokens: Vec<Secret>,
    /// Accept everything (local trials only).
    pub insecure: bool,
}

impl AuthConfig {
    /// `LEADCLOCK_WEBHOOK_SECRETS`, `LEADCLOCK_HUBSPOT_CLIENT_SECRETS`, `LEADCLOCK_READ_TOKENS`
    /// (each comma-separated).
    pub fn from_env() -> Self {
        let list = |k: &str| std::env::var(k).map(|v| Secret::list(&v)).unwrap_or_default();
        AuthConfig {
            webhook_secrets: list("LEADCLOCK_WEBHOOK_SECRETS"),
            hubspot_secrets: list("LEADCLOCK_HUBSPOT_CLIENT_SECRETS"),
            read_tokens: list("LEADCLOCK_READ_TOKENS"),
            insecure: false,
        }
    }

    pub fn accepts_webhooks(&self) -> bool {
        self.insecure || !self.webhook_secrets.is_empty() || !self.hubspot_secrets.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("request is not signed: send {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} (or HubSpot's v3 signature)")]
    Missing,
    #[error("{0} is malformed")]
    Malformed(&'static str),
    #[error("the signed timestamp is more than 5 minutes from the server's clock")]
    Stale(&'static str),
    #[error("the signature does not match")]
    BadSignature(&'static str),
    #[error("reads need Authorization: Bearer <token>")]
    NoToken,
}

impl HttpError for AuthError {
    fn status(&self) -> u16 {
        401
    }
    fn code(&self) -> &'static str {
        match self {
            AuthError::Stale(_) => "stale_request",
            _ => "unauthorized",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            AuthError::Missing => Some(SIGNATURE_HEADER.into()),
            AuthError::Malformed(h) | AuthError::Stale(h) | AuthError::BadSignature(h) => Some((*h).into()),
            AuthError::NoToken => Some(AUTHORIZATION_HEADER.into()),
        }
    }
    fn message(&self) -> String {
        self.to_string()
    }
}

/// What a check needs from a request, whatever the transport.
pub struct Signed<'a> {
    pub method: &'a str,
    /// The full URL the sender called (HubSpot signs it).
    pub uri: &'a str,
    pub body: &'a [u8],
    /// Header lookup by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
}

/// Which scheme a request passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Leadclock,
    HubSpot,
    Insecure,
}

fn within_window(t: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    (now - t).abs() <= REPLAY_WINDOW
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Hex HMAC of `{timestamp}.{body}`: what a sender puts after `v1=`.
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let mut mac = secret.mac();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// HubSpot decodes these escapes in the URI before signing.
fn hubspot_uri(uri: &str) -> String {
    const ESCAPES: [(&str, &str); 12] = [
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
    ];
    let mut out = uri.to_owned();
    for (from, to) in ESCAPES {
        out = out.replace(from, to).replace(&from.to_ascii_lowercase(), to);
    }
    out
}

/// Base64 HubSpot v3 signature of a request.
pub fn sign_hubspot(secret: &Secret, method: &str, uri: &str, body: &[u8], timestamp_ms: i64) -> String {
    let mut mac = secret.mac();
    mac.update(method.as_bytes());
    mac.update(hubspot_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn verify_leadclock(cfg: &AuthConfig, req: &Signed, sig: &str, now: DateTime<Utc>) -> Result<Scheme, AuthError> {
    let ts_raw = (req.header)(TIMESTAMP_HEADER).ok_or(AuthError::Malformed(TIMESTAMP_HEADER))?;
    let ts: i64 = ts_raw
        .trim()
        .parse()
        .map_err(|_| AuthError::Malformed(TIMESTAMP_HEADER))?;
    let t = DateTime::<Utc>::from_timestamp(ts, 0).ok_or(AuthError::Malformed(TIMESTAMP_HEADER))?;
    if !within_window(t, now) {
        return Err(AuthError::Stale(TIMESTAMP_HEADER));
    }
    let candidates: Vec<Vec<u8>> = sig
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(hex_decode)
        .collect();
    if candidates.is_empty() {
        return Err(AuthError::Malformed(SIGNATURE_HEADER));
    }
    for secret in &cfg.webhook_secrets {
        for c in &candidates {
            let mut mac = secret.mac();
            mac.update(format!("{ts}.").as_bytes());
            mac.update(req.body);
            if mac.verify_slice(c).is_ok() {
                return Ok(Scheme::Leadclock);
            }
        }
    }
    Err(AuthError::BadSignature(SIGNATURE_HEADER))
}

fn verify_hubspot(cfg: &AuthConfig, req: &Signed, sig: &str, now: DateTime<Utc>) -> Result<Scheme, AuthError> {
    let ts_raw = (req.header)(HUBSPOT_TIMESTAMP_HEADER).ok_or(AuthError::Malformed(HUBSPOT_TIMESTAMP_HEADER))?;
    let ms: i64 = ts_raw
        .trim()
        .parse()
        .map_err(|_| AuthError::Malformed(HUBSPOT_TIMESTAMP_HEADER))?;
    let t = DateTime::<Utc>::from_timestamp_millis(ms).ok_or(AuthError::Malformed(HUBSPOT_TIMESTAMP_HEADER))?;
    if !within_window(t, now) {
        return Err(AuthError::Stale(HUBSPOT_TIMESTAMP_HEADER));
    }
    let given = base64::engine::general_purpose::STANDARD
        .decode(sig.trim())
        .map_err(|_| AuthError::Malformed(HUBSPOT_SIGNATURE_HEADER))?;
    let uri = hubspot_uri(req.uri);
    for secret in &cfg.hubspot_secrets {
        let mut mac = secret.mac();
        mac.update(req.method.as_bytes());
        mac.update(uri.as_bytes());
        mac.update(req.body);
        mac.update(ms.to_string().as_bytes());
        if mac.verify_slice(&given).is_ok() {
            return Ok(Scheme::HubSpot);
        }
    }
    Err(AuthError::BadSignature(HUBSPOT_SIGNATURE_HEADER))
}

/// Checks a webhook's signature. Unsigned, wrongly signed and stale requests are refused.
pub fn verify_webhook(cfg: &AuthConfig, req: &Signed, now: DateTime<Utc>) -> Result<Scheme, AuthError> {
    if cfg.insecure {
        return Ok(Scheme::Insecure);
    }
    if let Some(sig) = (req.header)(SIGNATURE_HEADER) {
        return verify_leadclock(cfg, req, &sig, now);
    }
    if let Some(sig) = (req.header)(HUBSPOT_SIGNATURE_HEADER) {
        return verify_hubspot(cfg, req, &sig, now);
    }
    Err(AuthError::Missing)
}

/// Checks `Authorization: Bearer <token>` on a read.
pub fn verify_read(cfg: &AuthConfig, header: &dyn Fn(&str) -> Option<String>) -> Result<(), AuthError> {
    if cfg.insecure {
        return Ok(());
    }
    let given = header(AUTHORIZATION_HEADER).ok_or(AuthError::NoToken)?;
    let token = given.trim().strip_prefix("Bearer ").ok_or(AuthError::NoToken)?.trim();
    // Compare MACs of the token so the comparison is constant-time whatever the lengths.
    let key = Secret::new("leadclock-read-token-compare");
    let digest = |b: &[u8]| {
        let mut m = key.mac();
        m.update(b);
        m.finalize().into_bytes()
    };
    let want = digest(token.as_bytes());
    for t in &cfg.read_tokens {
        let mut m = key.mac();
        m.update(&t.0);
        if m.verify_slice(&want).is_ok() {
            return Ok(());
        }
    }
    Err(AuthError::BadSignature(AUTHORIZATION_HEADER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg() -> AuthConfig {
        AuthConfig {
            webhook_secrets: Secret::list("old-secret, new-secret"),
            hubspot_secrets: Secret::list("hs-client-secret"),
            read_tokens: Secret::list("read-token-1"),
            insecure: false,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    fn check(headers: &[(&str, String)], body: &[u8]) -> Result<Scheme, AuthError> {
        let map: HashMap<String, String> = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let req = Signed {
            method: "POST",
            uri: "https://hooks.example.com/v1/events/form?src=hs",
            body,
            header: &lookup,
        };
        verify_webhook(&cfg(), &req, now())
    }

    #[test]
    fn leadclock_signatures_with_rotation() {
        let body = br#"{"lead_id":"L"}"#;
        let ts = now().timestamp();
        for secret in ["old-secret", "new-secret"] {
            let sig = format!("v1={}", sign(&Secret::new(secret), ts, body));
            assert_eq!(
                check(&[(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, sig)], body),
                Ok(Scheme::Leadclock)
            );
        }
        // Dual-signed: one stale value and one good one.
        let sig = format!(
            "v1={},v1={}",
            sign(&Secret::new("retired"), ts, body),
            sign(&Secret::new("new-secret"), ts, body)
        );
        assert!(check(&[(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, sig)], body).is_ok());
    }

    #[test]
    fn refusals() {
        let body = br#"{"lead_id":"L"}"#;
        let ts = now().timestamp();
        let good = format!("v1={}", sign(&Secret::new("new-secret"), ts, body));
        assert_eq!(check(&[], body), Err(AuthError::Missing));
        assert_eq!(
            check(
                &[(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, good.clone())],
                br#"{"lead_id":"M"}"#
            ),
            Err(AuthError::BadSignature(SIGNATURE_HEADER))
        );
        let stale = now().timestamp() - 301;
        let sig = format!("v1={}", sign(&Secret::new("new-secret"), stale, body));
        assert_eq!(
            check(&[(TIMESTAMP_HEADER, stale.to_string()), (SIGNATURE_HEADER, sig)], body),
            Err(AuthError::Stale(TIMESTAMP_HEADER))
        );
        assert_eq!(
            check(&[(SIGNATURE_HEADER, good.clone())], body),
            Err(AuthError::Malformed(TIMESTAMP_HEADER))
        );
        assert_eq!(
            check(&[(TIMESTAMP_HEADER, "soon".into()), (SIGNATURE_HEADER, good)], body),
            Err(AuthError::Malformed(TIMESTAMP_HEADER))
        );
        assert_eq!(
            check(
                &[
                    (TIMESTAMP_HEADER, ts.to_string()),
                    (SIGNATURE_HEADER, "sha256=zz".into())
                ],
                body
            ),
            Err(AuthError::Malformed(SIGNATURE_HEADER))
        );
        let e = AuthError::Stale(TIMESTAMP_HEADER);
        assert_eq!((e.status(), e.code()), (401, "stale_request"));
    }

    #[test]
    fn hubspot_v3() {
        let body = br#"{"lead_id":"L"}"#;
        let ms = now().timestamp_millis();
        let sig = sign_hubspot(
            &Secret::new("hs-client-secret"),
            "POST",
            "https://hooks.example.com/v1/events/form?src=hs",
            body,
            ms,
        );
        let ok = check(
            &[
                (HUBSPOT_TIMESTAMP_HEADER, ms.to_string()),
                (HUBSPOT_SIGNATURE_HEADER, sig.clone()),
            ],
            body,
        );
        assert_eq!(ok, Ok(Scheme::HubSpot));
        // Escaped characters in the URI sign the same as their decoded form.
        assert_eq!(hubspot_uri("https://h/x%3Fa%3Ab"), "https://h/x?a:b");
        let old = ms - 6 * 60 * 1000;
        assert_eq!(
            check(
                &[
                    (HUBSPOT_TIMESTAMP_HEADER, old.to_string()),
                    (HUBSPOT_SIGNATURE_HEADER, sig)
                ],
                body
            ),
            Err(AuthError::Stale(HUBSPOT_TIMESTAMP_HEADER))
        );
    }

    #[test]
    fn read_tokens() {
        let c = cfg();
        assert!(verify_read(&c, &|_| Some("Bearer read-token-1".into())).is_ok());
        assert!(verify_read(&c, &|_| Some("Bearer nope".into())).is_err());
        assert_eq!(verify_read(&c, &|_| None), Err(AuthError::NoToken));
        let open = AuthConfig {
            insecure: true,
            ..Default::default()
        };
        assert!(verify_read(&open, &|_| None).is_ok());
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", cfg()).matches("redacted").count(), 4);
        assert!(!format!("{:?}", cfg()).contains("new-secret"));
    }
}
