//! Shared pieces of the vendors' body signatures: the secret list (several are valid at once, so
//! a secret can be rotated) and a constant-time check of a hex HMAC over the raw body.
//!
//! HubSpot's v3 signature lives in `leadclock-app` (`auth::sign_hubspot`); this crate adds only
//! what the vendors' own routes need (HubSpot v1/v2, Outreach, Salesloft).

use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::Digest;
use hmac::{Mac, SimpleHmac};
use std::fmt;

/// A shared secret (Outreach webhook secret, Salesloft callback token, HubSpot client secret).
/// Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    pub fn new(s: &str) -> Self {
        SigningSecret(s.trim().as_bytes().to_vec())
    }
    /// A comma-separated rotation list (`LEADCLOCK_OUTREACH_SECRETS=old,new`); blanks are ignored.
    pub fn list(s: &str) -> Vec<SigningSecret> {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(SigningSecret::new)
            .collect()
    }
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request carries no {0} header")]
    Missing(&'static str),
    #[error("{0} is not a hex digest of the right length")]
    Malformed(&'static str),
    #[error("{0} does not match the body with any configured secret")]
    Mismatch(&'static str),
    #[error("no secret is configured for this source")]
    NoSecrets,
}

/// Hex `HMAC-<D>(secret, body)`: what a vendor puts in its signature header.
pub fn hex_hmac<D>(secret: &SigningSecret, body: &[u8]) -> String
where
    D: Digest + BlockSizeUser + Clone,
{
    let mut mac = new_mac::<D>(secret);
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a hex HMAC header against every secret, in constant time per comparison.
/// Returns the index of the secret that matched (to tell when an old one can be dropped).
pub fn verify_hex_hmac<D>(
    secrets: &[SigningSecret],
    body: &[u8],
    header: Option<&str>,
    header_name: &'static str,
) -> Result<usize, SignatureError>
where
    D: Digest + BlockSizeUser + Clone,
{
    if secrets.is_empty() {
        return Err(SignatureError::NoSecrets);
    }
    let given = header.ok_or(SignatureError::Missing(header_name))?;
    let given = hex::decode(given.trim()).map_err(|_| SignatureError::Malformed(header_name))?;
    if given.len() != <D as Digest>::output_size() {
        return Err(SignatureError::Malformed(header_name));
    }
    for (i, secret) in secrets.iter().enumerate() {
        let mut mac = new_mac::<D>(secret);
        mac.update(body);
        if mac.verify_slice(&given).is_ok() {
            return Ok(i);
        }
    }
    Err(SignatureError::Mismatch(header_name))
}

fn new_mac<D>(secret: &SigningSecret) -> SimpleHmac<D>
where
    D: Digest + BlockSizeUser + Clone,
{
    // HMAC accepts keys of any length (RFC 2104 hashes long keys), so this cannot fail.
    match <SimpleHmac<D> as Mac>::new_from_slice(secret.bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Sha256;

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mac = hex_hmac::<Sha256>(&SigningSecret::new("Jefe"), b"what do ya want for nothing?");
        assert_eq!(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn rotation_and_refusals() {
        let secrets = SigningSecret::list("old, new");
        let sig = hex_hmac::<Sha256>(&SigningSecret::new("new"), b"body");
        assert_eq!(verify_hex_hmac::<Sha256>(&secrets, b"body", Some(&sig), "h"), Ok(1));
        assert_eq!(
            verify_hex_hmac::<Sha256>(&secrets, b"bodY", Some(&sig), "h"),
            Err(SignatureError::Mismatch("h"))
        );
        assert_eq!(
            verify_hex_hmac::<Sha256>(&secrets, b"body", None, "h"),
            Err(SignatureError::Missing("h"))
        );
        assert_eq!(
            verify_hex_hmac::<Sha256>(&secrets, b"body", Some("zz"), "h"),
            Err(SignatureError::Malformed("h"))
        );
        assert_eq!(
            verify_hex_hmac::<Sha256>(&secrets, b"body", Some("abcd"), "h"),
            Err(SignatureError::Malformed("h"))
        );
        assert_eq!(
            verify_hex_hmac::<Sha256>(&[], b"body", Some(&sig), "h"),
            Err(SignatureError::NoSecrets)
        );
        assert_eq!(format!("{:?}", secrets[0]), "SigningSecret(<redacted>)");
    }
}
