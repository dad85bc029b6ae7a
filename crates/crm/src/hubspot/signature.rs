//! HubSpot's legacy request signatures, `X-HubSpot-Signature` with `X-HubSpot-Signature-Version`:
//!
//! - `v1`: hex SHA-256 of `client secret + raw body` (Webhooks API deliveries);
//! - `v2`: hex SHA-256 of `client secret + method + URI + raw body` (workflow webhook actions
//!   and CRM cards).
//!
//! Neither has a timestamp, so neither resists a replay; a replay is a duplicate fact anyway.
//! HubSpot also sends v3 (`X-HubSpot-Signature-v3`, HMAC with a timestamp) on the same
//! requests; that check lives in `leadclock-app` and is preferred when present.

use crate::signature::{SignatureError, SigningSecret};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const SIGNATURE_HEADER: &str = "x-hubspot-signature";
pub const VERSION_HEADER: &str = "x-hubspot-signature-version";

/// The parts of a request a legacy signature covers.
pub struct LegacyRequest<'a> {
    pub method: &'a str,
    /// The full URL HubSpot called, exactly as configured (scheme, host, path, query).
    pub uri: &'a str,
    pub body: &'a [u8],
}

/// The hex signature HubSpot would send for `version` (`v1` or `v2`).
pub fn sign_legacy(secret: &SigningSecret, version: &str, req: &LegacyRequest) -> Result<String, SignatureError> {
    let mut hash = Sha256::new();
    hash.update(secret.bytes());
    match version.trim() {
        "v1" => {}
        "v2" => {
            hash.update(req.method.as_bytes());
            hash.update(req.uri.as_bytes());
        }
        _ => return Err(SignatureError::Malformed(VERSION_HEADER)),
    }
    hash.update(req.body);
    Ok(hex::encode(hash.finalize()))
}

/// Checks `X-HubSpot-Signature` against every client secret; returns the index that matched.
pub fn verify_legacy(
    secrets: &[SigningSecret],
    version: Option<&str>,
    signature: Option<&str>,
    req: &LegacyRequest,
) -> Result<usize, SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecrets);
    }
    let version = version.ok_or(SignatureError::Missing(VERSION_HEADER))?;
    let given = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let given = hex::decode(given.trim()).map_err(|_| SignatureError::Malformed(SIGNATURE_HEADER))?;
    for (i, secret) in secrets.iter().enumerate() {
        let want =
            hex::decode(sign_legacy(secret, version, req)?).map_err(|_| SignatureError::Malformed(SIGNATURE_HEADER))?;
        if bool::from(want.ct_eq(&given)) {
            return Ok(i);
        }
    }
    Err(SignatureError::Mismatch(SIGNATURE_HEADER))
}
