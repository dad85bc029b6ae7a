//! Webhook trust: HMAC-SHA256 signatures over the request (timestamp, method, path, query and
//! raw body), HubSpot's v3 request signature, bearer tokens for reads. Several secrets may be
//! valid at once, so a secret can be rotated without downtime. Every comparison is constant-time.
//!
//! leadclock's own scheme, v2 (`docs/signatures.md` has a worked example and a test vector):
//! - `X-Leadclock-Timestamp`: Unix seconds when the request was signed;
//! - `X-Leadclock-Signature`: `v2=` + hex HMAC-SHA256(secret, canonical request), where the
//!   canonical request is `{timestamp}\n{METHOD}\n{path and query}\n{raw body}`: the path and
//!   query exactly as the sender put them on the request line (`/v1/events/form` or
//!   `/v1/events/form?src=x`, percent-escapes untouched, no host, so a proxy that rewrites the
//!   host does not break it). Several values may be sent, comma-separated (old and new secret).
//!
//! Signing the route means a body signed for `/v1/events/touch` is refused at
//! `/v1/events/assignment`. v1 (`v1=` over `{timestamp}.{body}`) did not; it is refused unless
//! `LEADCLOCK_ACCEPT_SIGNATURE_V1=1` is set for a migration (on either host), and then a
//! deprecation warning is logged once per process.
//!
//! HubSpot v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256(client secret,
//! method + URI + body + `X-HubSpot-Request-Timestamp`), the timestamp in milliseconds.
//!
//! Both are refused outside a 5-minute window around the server's clock. A replay of the same
//! request inside the window is a duplicate event (same id or body), so it changes nothing.

use crate::error::HttpError;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
pub use leadclock_crm::signature::SigningSecret;
use leadclock_domain::Scope;
use sha2::Sha256;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

pub const TIMESTAMP_HEADER: &str = "x-leadclock-timestamp";
pub const SIGNATURE_HEADER: &str = "x-leadclock-signature";
pub const HUBSPOT_SIGNATURE_HEADER: &str = "x-hubspot-signature-v3";
pub const HUBSPOT_TIMESTAMP_HEADER: &str = "x-hubspot-request-timestamp";
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// Set to `1` (or `true`) to accept leadclock v1 signatures during a migration.
pub const ACCEPT_V1_ENV: &str = "LEADCLOCK_ACCEPT_SIGNATURE_V1";
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

/// A read token and what it lets its holder see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadToken {
    pub secret: Secret,
    pub scope: Scope,
}

impl ReadToken {
    /// A token that sees every lead.
    pub fn all(token: &str) -> Self {
        ReadToken {
            secret: Secret::new(token),
            scope: Scope::All,
        }
    }

    /// `TOKEN` (every lead), `team:NAME=TOKEN` (a manager: the team's leads) or
    /// `person:NAME=TOKEN` (a rep: their own queue).
    ///
    /// An entry that looks scoped (a `:` before any `=`) must parse as a scope, and a bare
    /// token may hold `=` only as trailing padding: a mistyped scope (`Team :east=…`, a name
    /// split by a comma) is refused rather than read as a token that sees every lead.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        let colon = entry.find(':');
        let equals = entry.find('=');
        let scoped = colon.is_some_and(|c| equals.is_none_or(|e| c < e));
        if !scoped {
            if entry.trim_end_matches('=').contains('=') {
                return Err(
                    "a bare read token holds '=' only as trailing padding; a scoped one is team:NAME=TOKEN".into(),
                );
            }
            return Ok(ReadToken::all(entry));
        }
        let (scope, token) = entry
            .split_once('=')
            .ok_or("a scoped read token is team:NAME=TOKEN or person:NAME=TOKEN")?;
        if token.trim().is_empty() {
            return Err("a scoped read token has an empty token after '='".into());
        }
        Ok(ReadToken {
            secret: Secret::new(token.trim()),
            scope: Scope::parse(scope)?,
        })
    }

    /// Comma-separated entries. One that does not parse is left out and logged by its position
    /// only (the reason may quote a person's name or the token): read as a bare token it would
    /// see every lead, more than it was meant to.
    pub fn list(s: &str) -> Vec<Self> {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .enumerate()
            .filter_map(|(i, entry)| {
                ReadToken::parse(entry)
                    .map_err(|_| {
                        tracing::error!(
                            entry = i + 1,
                            "read token refused: not TOKEN, team:NAME=TOKEN or person:NAME=TOKEN"
                        );
                    })
                    .ok()
            })
            .collect()
    }
}

/// Who may call: secrets for webhooks (leadclock and HubSpot schemes) and tokens for reads.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    pub webhook_secrets: Vec<Secret>,
    pub hubspot_secrets: Vec<Secret>,
    /// Read tokens, each with what it may see.
    pub read_tokens: Vec<ReadToken>,
    /// Tokens for the privacy routes (erasure): separate from read tokens, so a dashboard's
    /// token cannot erase anything.
    pub admin_tokens: Vec<Secret>,
    /// Bearer tokens a HubSpot workflow's "Send a webhook" action sends
    /// (`POST /v1/hooks/hubspot/workflow`), for workflows outside a HubSpot app.
    pub hubspot_workflow_tokens: Vec<Secret>,
    /// The `{secret}` path segments of `POST /v1/hooks/salesforce/{secret}`: Salesforce's
    /// Outbound Messages carry no signature.
    pub salesforce_path_secrets: Vec<Secret>,
    /// The Salesforce org ids (15 or 18 characters) whose Outbound Messages are accepted.
    pub salesforce_org_ids: Vec<leadclock_crm::salesforce::SalesforceId>,
    /// Outreach webhook secrets (`POST /v1/hooks/outreach`: hex HMAC-SHA256 of the body).
    pub outreach_secrets: Vec<SigningSecret>,
    /// Salesloft webhook callback tokens (`POST /v1/hooks/salesloft`: hex HMAC-SHA1 of the body).
    pub salesloft_tokens: Vec<SigningSecret>,
    /// Accept everything (local trials only).
    pub insecure: bool,
}

impl AuthConfig {
    /// `LEADCLOCK_WEBHOOK_SECRETS`, `LEADCLOCK_HUBSPOT_CLIENT_SECRETS`, `LEADCLOCK_READ_TOKENS`,
    /// `LEADCLOCK_ADMIN_TOKENS` (each comma-separated).
    pub fn from_env() -> Self {
        let list = |k: &str| std::env::var(k).map(|v| Secret::list(&v)).unwrap_or_default();
        let signing = |k: &str| std::env::var(k).map(|v| SigningSecret::list(&v)).unwrap_or_default();
        AuthConfig {
            webhook_secrets: list("LEADCLOCK_WEBHOOK_SECRETS"),
            hubspot_secrets: list("LEADCLOCK_HUBSPOT_CLIENT_SECRETS"),
            read_tokens: std::env::var("LEADCLOCK_READ_TOKENS")
                .map(|v| ReadToken::list(&v))
                .unwrap_or_default(),
            admin_tokens: list("LEADCLOCK_ADMIN_TOKENS"),
            hubspot_workflow_tokens: list("LEADCLOCK_HUBSPOT_WORKFLOW_TOKENS"),
            salesforce_path_secrets: list("LEADCLOCK_SALESFORCE_PATH_SECRETS"),
            salesforce_org_ids: salesforce_orgs(&std::env::var("LEADCLOCK_SALESFORCE_ORG_IDS").unwrap_or_default()),
            outreach_secrets: signing("LEADCLOCK_OUTREACH_SECRETS"),
            salesloft_tokens: signing("LEADCLOCK_SALESLOFT_TOKENS"),
            insecure: false,
        }
    }

    pub fn accepts_webhooks(&self) -> bool {
        self.insecure
            || !self.webhook_secrets.is_empty()
            || !self.hubspot_secrets.is_empty()
            || !self.hubspot_workflow_tokens.is_empty()
            || !self.salesforce_path_secrets.is_empty()
            || !self.outreach_secrets.is_empty()
            || !self.salesloft_tokens.is_empty()
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
    #[error("this route needs Authorization: Bearer <token>")]
    NoToken,
    #[error(
        "this route takes HubSpot's v3 signature ({HUBSPOT_SIGNATURE_HEADER}), signed with the app's client secret"
    )]
    NotHubSpot,
    #[error("v1 signatures (timestamp and body only) are no longer accepted: sign with v2 (see docs/signatures.md), or set {ACCEPT_V1_ENV}=1 on the server during a migration")]
    V1Refused,
    /// A sales tool's route, and no secret for it is configured (the setting is named).
    #[error("no secret is configured for this route: set {0}")]
    NotConfigured(&'static str),
    #[error("the request carries no {0} header")]
    NoSignature(&'static str),
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
            AuthError::Missing | AuthError::V1Refused => Some(SIGNATURE_HEADER.into()),
            AuthError::Malformed(h) | AuthError::Stale(h) | AuthError::BadSignature(h) => Some((*h).into()),
            AuthError::NoToken => Some(AUTHORIZATION_HEADER.into()),
            AuthError::NotHubSpot => Some(HUBSPOT_SIGNATURE_HEADER.into()),
            AuthError::NotConfigured(setting) => Some((*setting).into()),
            AuthError::NoSignature(h) => Some((*h).into()),
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
    /// leadclock v2: the route is signed.
    Leadclock,
    /// leadclock v1, accepted only during a migration.
    LeadclockV1,
    HubSpot,
    Insecure,
}

/// Whether leadclock v1 signatures are still accepted (a migration setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Signatures {
    Refused,
    Accepted,
}

impl V1Signatures {
    /// [`ACCEPT_V1_ENV`], read once per process: `1` or `true` accepts v1, anything else refuses.
    pub fn from_env() -> Self {
        static SETTING: OnceLock<V1Signatures> = OnceLock::new();
        *SETTING.get_or_init(|| match std::env::var(ACCEPT_V1_ENV).as_deref().map(str::trim) {
            Ok("1" | "true") => V1Signatures::Accepted,
            _ => V1Signatures::Refused,
        })
    }
}

/// Logs, once per process, that a v1 signature was accepted.
fn warn_v1_deprecated() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "accepted a leadclock v1 signature ({ACCEPT_V1_ENV} is set): v1 does not sign the route; \
move every sender to v2, then unset {ACCEPT_V1_ENV}"
        );
    }
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex HMAC of `{timestamp}.{body}`: what a v1 sender put after `v1=`. Kept for the migration
/// and its tests; new senders use [`sign_v2`].
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    hex(&v1_mac(secret, timestamp, body).finalize().into_bytes())
}

fn v1_mac(secret: &Secret, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = secret.mac();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac
}

/// The v2 canonical request: `{timestamp}\n{METHOD}\n{path and query}\n{body}`.
fn v2_mac(secret: &Secret, timestamp: i64, method: &str, target: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = secret.mac();
    mac.update(format!("{timestamp}\n{method}\n{target}\n").as_bytes());
    mac.update(body);
    mac
}

/// Hex HMAC of the v2 canonical request: what a sender puts after `v2=`. `target` is the path
/// and query as the sender puts them on the request line (`/v1/events/form?src=x`).
pub fn sign_v2(secret: &Secret, timestamp: i64, method: &str, target: &str, body: &[u8]) -> String {
    hex(&v2_mac(secret, timestamp, method, target, body).finalize().into_bytes())
}

/// The path and query of the URL the sender called (`https://host/p?q` gives `/p?q`).
fn request_target(url: &str) -> &str {
    let Some((_, rest)) = url.split_once("://") else {
        return url;
    };
    rest.find('/').map_or("/", |i| &rest[i..])
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

/// The signed timestamp, if it is well-formed and inside the window.
fn leadclock_timestamp(req: &Signed, now: DateTime<Utc>) -> Result<i64, AuthError> {
    let ts_raw = (req.header)(TIMESTAMP_HEADER).ok_or(AuthError::Malformed(TIMESTAMP_HEADER))?;
    let ts: i64 = ts_raw
        .trim()
        .parse()
        .map_err(|_| AuthError::Malformed(TIMESTAMP_HEADER))?;
    let t = DateTime::<Utc>::from_timestamp(ts, 0).ok_or(AuthError::Malformed(TIMESTAMP_HEADER))?;
    if !within_window(t, now) {
        return Err(AuthError::Stale(TIMESTAMP_HEADER));
    }
    Ok(ts)
}

/// The hex values after `prefix` (`v2=`) in a comma-separated signature header.
fn candidates(sig: &str, prefix: &str) -> Vec<Vec<u8>> {
    sig.split(',')
        .filter_map(|part| part.trim().strip_prefix(prefix))
        .filter_map(hex_decode)
        .collect()
}

fn any_matches(cfg: &AuthConfig, given: &[Vec<u8>], mac: impl Fn(&Secret) -> HmacSha256) -> bool {
    cfg.webhook_secrets
        .iter()
        .any(|secret| given.iter().any(|c| mac(secret).verify_slice(c).is_ok()))
}

fn verify_leadclock(
    cfg: &AuthConfig,
    req: &Signed,
    sig: &str,
    now: DateTime<Utc>,
    v1: V1Signatures,
) -> Result<Scheme, AuthError> {
    let ts = leadclock_timestamp(req, now)?;
    let (v2s, v1s) = (candidates(sig, "v2="), candidates(sig, "v1="));
    if v2s.is_empty() && v1s.is_empty() {
        return Err(AuthError::Malformed(SIGNATURE_HEADER));
    }
    let target = request_target(req.uri);
    if any_matches(cfg, &v2s, |s| v2_mac(s, ts, req.method, target, req.body)) {
        return Ok(Scheme::Leadclock);
    }
    if v1s.is_empty() {
        return Err(AuthError::BadSignature(SIGNATURE_HEADER));
    }
    if v1 == V1Signatures::Refused {
        // A sender that also sent a v2 value signed something else: say so, not "upgrade".
        return Err(if v2s.is_empty() {
            AuthError::V1Refused
        } else {
            AuthError::BadSignature(SIGNATURE_HEADER)
        });
    }
    if any_matches(cfg, &v1s, |s| v1_mac(s, ts, req.body)) {
        warn_v1_deprecated();
        return Ok(Scheme::LeadclockV1);
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

/// Checks a webhook's signature. Unsigned, wrongly signed and stale requests are refused, and
/// v1 signatures unless [`ACCEPT_V1_ENV`] allows them.
pub fn verify_webhook(cfg: &AuthConfig, req: &Signed, now: DateTime<Utc>) -> Result<Scheme, AuthError> {
    verify_webhook_with(cfg, req, now, V1Signatures::from_env())
}

/// [`verify_webhook`] with the v1 migration setting given rather than read from the environment.
pub fn verify_webhook_with(
    cfg: &AuthConfig,
    req: &Signed,
    now: DateTime<Utc>,
    v1: V1Signatures,
) -> Result<Scheme, AuthError> {
    if cfg.insecure {
        return Ok(Scheme::Insecure);
    }
    if let Some(sig) = (req.header)(SIGNATURE_HEADER) {
        return verify_leadclock(cfg, req, &sig, now, v1);
    }
    if let Some(sig) = (req.header)(HUBSPOT_SIGNATURE_HEADER) {
        return verify_hubspot(cfg, req, &sig, now);
    }
    Err(AuthError::Missing)
}

/// Checks `Authorization: Bearer <token>` on a read: what the token may see.
pub fn verify_read(cfg: &AuthConfig, header: &dyn Fn(&str) -> Option<String>) -> Result<Scope, AuthError> {
    let token = bearer(cfg, header)?;
    read_scope(cfg, token.as_deref())
}

/// The scope of a read token (the dashboard's session cookie holds one); `None` passes only
/// when auth is off.
pub fn read_scope(cfg: &AuthConfig, token: Option<&str>) -> Result<Scope, AuthError> {
    if cfg.insecure {
        return Ok(Scope::All);
    }
    let token = token.ok_or(AuthError::NoToken)?;
    let secrets: Vec<&Secret> = cfg.read_tokens.iter().map(|t| &t.secret).collect();
    matching(&secrets, token)
        .map(|i| cfg.read_tokens[i].scope.clone())
        .ok_or(AuthError::BadSignature(AUTHORIZATION_HEADER))
}

/// A comma-separated list of plain values (org ids: not secrets).
pub fn plain_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The Salesforce org ids of a comma-separated setting. A mistyped one would refuse its org's
/// messages: it is logged when the setting is read (an org id is no secret).
pub fn salesforce_orgs(s: &str) -> Vec<leadclock_crm::salesforce::SalesforceId> {
    plain_list(s)
        .iter()
        .filter_map(|o| {
            leadclock_crm::salesforce::SalesforceId::parse(o)
                .map_err(|e| tracing::warn!(org = %o, error = %e, "LEADCLOCK_SALESFORCE_ORG_IDS entry ignored"))
                .ok()
        })
        .collect()
}

/// Whether `given` is one of the Salesforce path secrets (constant-time, as every check).
pub fn verify_salesforce_path(cfg: &AuthConfig, given: &str) -> bool {
    if cfg.insecure {
        return true;
    }
    let secrets: Vec<&Secret> = cfg.salesforce_path_secrets.iter().collect();
    matching(&secrets, given).is_some()
}

/// A sales tool whose webhooks sign the raw body with a shared secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesTool {
    Outreach,
    Salesloft,
}

impl SalesTool {
    /// The setting that holds its secrets.
    pub fn setting(self) -> &'static str {
        match self {
            SalesTool::Outreach => "LEADCLOCK_OUTREACH_SECRETS",
            SalesTool::Salesloft => "LEADCLOCK_SALESLOFT_TOKENS",
        }
    }
}

/// Checks a sales tool's body signature against its configured secrets (any of them: rotation).
pub fn verify_sales_tool(
    cfg: &AuthConfig,
    tool: SalesTool,
    body: &[u8],
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<(), AuthError> {
    use leadclock_crm::signature::SignatureError as E;
    if cfg.insecure {
        return Ok(());
    }
    let (result, name) = match tool {
        SalesTool::Outreach => {
            let h = leadclock_crm::outreach::SIGNATURE_HEADER;
            (
                leadclock_crm::outreach::verify(&cfg.outreach_secrets, body, header(h).as_deref()),
                h,
            )
        }
        SalesTool::Salesloft => {
            let h = leadclock_crm::salesloft::SIGNATURE_HEADER;
            (
                leadclock_crm::salesloft::verify(&cfg.salesloft_tokens, body, header(h).as_deref()),
                h,
            )
        }
    };
    match result {
        Ok(_) => Ok(()),
        Err(E::NoSecrets) => Err(AuthError::NotConfigured(tool.setting())),
        Err(E::Missing(_)) => Err(AuthError::NoSignature(name)),
        Err(E::Malformed(_)) => Err(AuthError::Malformed(name)),
        Err(E::Mismatch(_)) => Err(AuthError::BadSignature(name)),
    }
}

/// Checks `Authorization: Bearer <token>` against the HubSpot workflow tokens.
pub fn verify_hubspot_workflow(cfg: &AuthConfig, header: &dyn Fn(&str) -> Option<String>) -> Result<(), AuthError> {
    verify_bearer(cfg, &cfg.hubspot_workflow_tokens, header)
}

/// Checks `Authorization: Bearer <token>` against the admin tokens (erasure).
pub fn verify_admin(cfg: &AuthConfig, header: &dyn Fn(&str) -> Option<String>) -> Result<(), AuthError> {
    verify_bearer(cfg, &cfg.admin_tokens, header)
}

fn verify_bearer(
    cfg: &AuthConfig,
    tokens: &[Secret],
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<(), AuthError> {
    if cfg.insecure {
        return Ok(());
    }
    let token = bearer(cfg, header)?.ok_or(AuthError::NoToken)?;
    let tokens: Vec<&Secret> = tokens.iter().collect();
    matching(&tokens, &token)
        .map(|_| ())
        .ok_or(AuthError::BadSignature(AUTHORIZATION_HEADER))
}

/// The token of `Authorization: Bearer <token>`: `None` when auth is off and none was sent.
fn bearer(cfg: &AuthConfig, header: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, AuthError> {
    let Some(given) = header(AUTHORIZATION_HEADER) else {
        return if cfg.insecure {
            Ok(None)
        } else {
            Err(AuthError::NoToken)
        };
    };
    match given.trim().strip_prefix("Bearer ") {
        Some(token) => Ok(Some(token.trim().to_owned())),
        None if cfg.insecure => Ok(None),
        None => Err(AuthError::NoToken),
    }
}

/// Which of `tokens` is `given`. Every token is compared, each as a MAC of the token, so the
/// time taken says nothing about which matched or how long they are.
fn matching(tokens: &[&Secret], given: &str) -> Option<usize> {
    let key = Secret::new("leadclock-read-token-compare");
    let want = {
        let mut m = key.mac();
        m.update(given.as_bytes());
        m.finalize().into_bytes()
    };
    let mut found = None;
    for (i, t) in tokens.iter().enumerate() {
        let mut m = key.mac();
        m.update(&t.0);
        if m.verify_slice(&want).is_ok() && found.is_none() {
            found = Some(i);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg() -> AuthConfig {
        AuthConfig {
            webhook_secrets: Secret::list("old-secret, new-secret"),
            hubspot_secrets: Secret::list("hs-client-secret"),
            read_tokens: ReadToken::list("read-token-1"),
            admin_tokens: Vec::new(),
            hubspot_workflow_tokens: Vec::new(),
            salesforce_path_secrets: Secret::list("sf-path-1"),
            salesforce_org_ids: Vec::new(),
            outreach_secrets: SigningSecret::list("old, outreach-webhook-secret"),
            salesloft_tokens: Vec::new(),
            insecure: false,
        }
    }

    /// The shared notes' vectors O1 and L1 (`../shared/reference/crm-payloads.md` §7).
    #[test]
    fn sales_tool_signatures_check_the_raw_body_with_each_configured_secret() {
        let o1 = br#"{"data":{"type":"mailing","id":5001,"attributes":{"deliveredAt":"2024-06-10T14:05:00.000Z","state":"delivered","updatedAt":"2024-06-10T14:05:00.000Z"},"relationships":{"prospect":{"data":{"type":"prospect","id":42}}}},"meta":{"deliveredAt":"2024-06-10T07:05:01.123-07:00","eventName":"mailing.delivered","jobId":"job-1"}}"#;
        let o1_sig = "a030a0ec00ac2b9b1cfb13954a5d58d5715101dd3e83065f34071d8def560bd9";
        let headers = |name: &'static str, v: &'static str| move |h: &str| (h == name).then(|| v.to_owned());
        let mut c = cfg();
        let outreach = headers("outreach-webhook-signature", o1_sig);
        assert_eq!(verify_sales_tool(&c, SalesTool::Outreach, o1, &outreach), Ok(()));
        assert_eq!(
            verify_sales_tool(&c, SalesTool::Outreach, b"{}", &outreach),
            Err(AuthError::BadSignature("outreach-webhook-signature"))
        );
        assert_eq!(
            verify_sales_tool(&c, SalesTool::Outreach, o1, &|_: &str| None),
            Err(AuthError::NoSignature("outreach-webhook-signature"))
        );
        let l1 = br#"{"id":777,"to":"+15555550100","duration":62,"disposition":"Connected","sentiment":null,"created_at":"2024-06-10T10:05:00.000000-04:00","updated_at":"2024-06-10T10:05:00.000000-04:00","user":{"_href":"https://api.salesloft.com/v2/users/55","id":55},"called_person":{"_href":"https://api.salesloft.com/v2/people/4242","id":4242}}"#;
        let salesloft = headers("x-salesloft-signature", "325b27fdf1545bb1225bd09b4cb95e397b541da8");
        assert_eq!(
            verify_sales_tool(&c, SalesTool::Salesloft, l1, &salesloft),
            Err(AuthError::NotConfigured("LEADCLOCK_SALESLOFT_TOKENS")),
            "no token configured: refused, naming the setting"
        );
        c.salesloft_tokens = SigningSecret::list("salesloft-callback-token");
        assert_eq!(verify_sales_tool(&c, SalesTool::Salesloft, l1, &salesloft), Ok(()));
        // Outreach's SHA-256 signature is not Salesloft's SHA-1 one.
        assert_eq!(
            verify_sales_tool(&c, SalesTool::Salesloft, l1, &headers("x-salesloft-signature", o1_sig)),
            Err(AuthError::Malformed("x-salesloft-signature"))
        );
    }

    #[test]
    fn salesforce_path_secrets_match_exactly() {
        let c = cfg();
        assert!(verify_salesforce_path(&c, "sf-path-1"));
        assert!(!verify_salesforce_path(&c, "sf-path-"));
        assert!(!verify_salesforce_path(&c, ""));
        assert!(
            !verify_salesforce_path(&AuthConfig::default(), "sf-path-1"),
            "none configured: none accepted"
        );
        assert_eq!(plain_list(" 00D1, ,00D2 "), ["00D1", "00D2"]);
        assert_eq!(salesforce_orgs("00D000000000001AAA, not-an-org").len(), 1);
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    const URL: &str = "https://hooks.example.com/v1/events/form?src=hs";
    const TARGET: &str = "/v1/events/form?src=hs";

    fn check_at(
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        v1: V1Signatures,
    ) -> Result<Scheme, AuthError> {
        let map: HashMap<String, String> = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let req = Signed {
            method,
            uri: url,
            body,
            header: &lookup,
        };
        verify_webhook_with(&cfg(), &req, now(), v1)
    }

    fn check(headers: &[(&str, String)], body: &[u8]) -> Result<Scheme, AuthError> {
        check_at("POST", URL, headers, body, V1Signatures::Refused)
    }

    fn v2(secret: &str, ts: i64, target: &str, body: &[u8]) -> String {
        format!("v2={}", sign_v2(&Secret::new(secret), ts, "POST", target, body))
    }

    #[test]
    fn leadclock_signatures_with_rotation() {
        let body = br#"{"lead_id":"L"}"#;
        let ts = now().timestamp();
        for secret in ["old-secret", "new-secret"] {
            let sig = v2(secret, ts, TARGET, body);
            assert_eq!(
                check(&[(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, sig)], body),
                Ok(Scheme::Leadclock)
            );
        }
        // Dual-signed: one stale value and one good one.
        let sig = format!(
            "{},{}",
            v2("retired", ts, TARGET, body),
            v2("new-secret", ts, TARGET, body)
        );
        assert!(check(&[(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, sig)], body).is_ok());
    }

    /// The vector in docs/signatures.md, computed there with Python's `hmac`, not with this code.
    #[test]
    fn v2_test_vector() {
        let body = br#"{"event_id":"t-1","lead_id":"L-1","occurred_at":"2026-09-21T14:13:20Z","channel":"call"}"#;
        let sig = sign_v2(
            &Secret::new("whsec-example"),
            1_790_000_000,
            "POST",
            "/v1/events/touch?src=docs",
            body,
        );
        assert_eq!(sig, "0e1e2c0cd261747cce2bbf232230a74d3a280fcfe3eadb01b1bca2b708f3aa3f");
    }

    #[test]
    fn v2_signs_the_route_method_and_query() {
        let body = br#"{"lead_id":"L","owner":"mallory"}"#;
        let ts = now().timestamp();
        let headers = |sig: String| [(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, sig)];
        let touch = v2("new-secret", ts, "/v1/events/touch", body);
        let at = |method: &str, url: &str| check_at(method, url, &headers(touch.clone()), body, V1Signatures::Refused);
        assert_eq!(at("POST", "https://h.example/v1/events/touch"), Ok(Scheme::Leadclock));
        // The host is not signed: a proxy may rewrite it.
        assert_eq!(
            at("POST", "http://10.0.0.7:8080/v1/events/touch"),
            Ok(Scheme::Leadclock)
        );
        let refused = Err(AuthError::BadSignature(SIGNATURE_HEADER));
        assert_eq!(at("POST", "https://h.example/v1/events/assignment"), refused);
        assert_eq!(at("PUT", "https://h.example/v1/events/touch"), refused);
        assert_eq!(at("POST", "https://h.example/v1/events/touch?src=x"), refused);
        assert_eq!(at("POST", "https://h.example/prefix/v1/events/touch"), refused);
        assert_eq!(request_target("https://h.example"), "/");
        assert_eq!(request_target("/v1/x?y=1"), "/v1/x?y=1");
    }

    #[test]
    fn v1_is_refused_unless_the_migration_setting_accepts_it() {
        let body = br#"{"lead_id":"L"}"#;
        let ts = now().timestamp();
        let old = format!("v1={}", sign(&Secret::new("new-secret"), ts, body));
        let headers = |sig: &str| [(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, sig.to_owned())];
        let e = check(&headers(&old), body).unwrap_err();
        assert_eq!(e, AuthError::V1Refused);
        assert_eq!(
            (e.status(), e.code(), e.field().as_deref()),
            (401, "unauthorized", Some(SIGNATURE_HEADER))
        );
        assert!(e.message().contains(ACCEPT_V1_ENV));
        let accepted = |sig: &str| check_at("POST", URL, &headers(sig), body, V1Signatures::Accepted);
        assert_eq!(accepted(&old), Ok(Scheme::LeadclockV1));
        let forged = format!("v1={}", sign(&Secret::new("guess"), ts, body));
        assert_eq!(accepted(&forged), Err(AuthError::BadSignature(SIGNATURE_HEADER)));
        // Sent during a migration: v2 first, v1 beside it for servers not yet upgraded.
        let both = format!("{},{old}", v2("new-secret", ts, TARGET, body));
        assert_eq!(check(&headers(&both), body), Ok(Scheme::Leadclock));
        // A v2 value that does not match is a bad signature, even with a good v1 beside it.
        let wrong_route = format!("{},{old}", v2("new-secret", ts, "/v1/events/touch", body));
        assert_eq!(
            check(&headers(&wrong_route), body),
            Err(AuthError::BadSignature(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn refusals() {
        let body = br#"{"lead_id":"L"}"#;
        let ts = now().timestamp();
        let good = v2("new-secret", ts, TARGET, body);
        assert_eq!(check(&[], body), Err(AuthError::Missing));
        assert_eq!(
            check(
                &[(TIMESTAMP_HEADER, ts.to_string()), (SIGNATURE_HEADER, good.clone())],
                br#"{"lead_id":"M"}"#
            ),
            Err(AuthError::BadSignature(SIGNATURE_HEADER))
        );
        let stale = now().timestamp() - 301;
        let sig = v2("new-secret", stale, TARGET, body);
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
    fn scoped_read_tokens_say_what_they_see() {
        let c = AuthConfig {
            read_tokens: ReadToken::list(
                "all-tok, team:east=maria-tok, person:alice=alice-tok, team:=bad, person:bob, \
                 Team :West=west-tok, seen:x=seen-tok, team:a,b=ab-tok, padded==",
            ),
            ..cfg()
        };
        let scope = |t: &str| verify_read(&c, &|_| Some(format!("Bearer {t}")));
        assert_eq!(scope("all-tok"), Ok(Scope::All));
        assert_eq!(scope("maria-tok"), Ok(Scope::Team("east".into())));
        assert_eq!(scope("alice-tok"), Ok(Scope::Person("alice".into())));
        // Malformed scoped entries are refused whole, never read as a token that sees all.
        assert_eq!(
            scope("west-tok"),
            Ok(Scope::Team("West".into())),
            "kind in any case, spaces trimmed"
        );
        assert_eq!(
            scope("padded=="),
            Ok(Scope::All),
            "base64 padding is part of a bare token"
        );
        assert_eq!(c.read_tokens.len(), 5);
        for refused in [
            "bad",
            "person:bob",
            "team:=bad",
            "seen-tok",
            "seen:x=seen-tok",
            "b=ab-tok",
            "ab-tok",
        ] {
            assert!(scope(refused).is_err(), "{refused} must not be a token");
        }
        assert_eq!(read_scope(&c, Some("alice-tok")), Ok(Scope::Person("alice".into())));
        assert_eq!(read_scope(&c, None), Err(AuthError::NoToken));
    }

    #[test]
    fn admin_tokens_are_not_read_tokens() {
        let c = AuthConfig {
            admin_tokens: Secret::list("admin-token-1"),
            ..cfg()
        };
        assert!(verify_admin(&c, &|_| Some("Bearer admin-token-1".into())).is_ok());
        assert!(verify_admin(&c, &|_| Some("Bearer read-token-1".into())).is_err());
        assert!(verify_read(&c, &|_| Some("Bearer admin-token-1".into())).is_err());
        assert_eq!(verify_admin(&cfg(), &|_| None), Err(AuthError::NoToken));
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", cfg()).matches("redacted").count(), 7);
        assert!(!format!("{:?}", cfg()).contains("new-secret"));
        assert!(!format!("{:?}", cfg()).contains("outreach-webhook-secret"));
        assert!(!format!("{:?}", cfg()).contains("sf-path-1"));
    }
}
