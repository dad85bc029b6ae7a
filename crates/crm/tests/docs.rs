//! The signed examples in docs/integrations are computed here, so the guides cannot drift.
mod common;

use common::fixture;
use leadclock_app::auth::{sign_hubspot, Secret};
use leadclock_crm::hubspot::signature::{sign_legacy, LegacyRequest};
use leadclock_crm::signature::hex_hmac;
use leadclock_crm::SigningSecret;

fn guide(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/integrations")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The guide shows this exact body and this exact signature.
fn shows(guide: &str, body: &[u8], signature: &str) {
    let body = std::str::from_utf8(body).expect("UTF-8 body");
    assert!(guide.contains(body), "the guide does not show the signed body {body}");
    assert!(
        guide.contains(signature),
        "the guide does not show the signature {signature}"
    );
}

pub const HUBSPOT_SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
pub const HUBSPOT_TIMESTAMP_MS: i64 = 1_718_000_060_000;

#[test]
fn hubspot_guide_examples() {
    let g = guide("hubspot.md");
    // The reference vector of the shared notes (H1), recomputed with the one existing signer.
    let h1 = sign_hubspot(
        &Secret::new(HUBSPOT_SECRET),
        "POST",
        "https://leadclock.example.com/hooks/hubspot?tenant=acme",
        &fixture("hubspot/owner-change.json"),
        HUBSPOT_TIMESTAMP_MS,
    );
    assert_eq!(h1, "tp9gODkFPUiYbUZ/n8nor8A5/8bMOTgbdVCBeXzicYM=");
    let body = fixture("hubspot/owner-change.json");
    let v3 = sign_hubspot(
        &Secret::new(HUBSPOT_SECRET),
        "POST",
        "https://leadclock.example.com/v1/hooks/hubspot",
        &body,
        HUBSPOT_TIMESTAMP_MS,
    );
    let wf = fixture("hubspot/workflow-custom.json");
    let uri = "https://leadclock.example.com/v1/hooks/hubspot/workflow";
    let v2 = sign_legacy(
        &SigningSecret::new(HUBSPOT_SECRET),
        "v2",
        &LegacyRequest {
            method: "POST",
            uri,
            body: &wf,
        },
    )
    .unwrap();
    let wf3 = sign_hubspot(&Secret::new(HUBSPOT_SECRET), "POST", uri, &wf, HUBSPOT_TIMESTAMP_MS);
    shows(&g, &body, &v3);
    shows(&g, &wf, &v2);
    shows(&g, &wf, &wf3);
}

#[test]
fn outreach_guide_example() {
    let body = fixture("outreach/mailing-delivered.json");
    let sig = hex_hmac::<sha2::Sha256>(&SigningSecret::new("outreach-webhook-secret"), &body);
    shows(&guide("outreach.md"), &body, &sig);
}

#[test]
fn salesloft_guide_example() {
    let body = fixture("salesloft/call-created.json");
    let sig = hex_hmac::<sha1::Sha1>(&SigningSecret::new("salesloft-callback-token"), &body);
    shows(&guide("salesloft.md"), &body, &sig);
}

#[test]
fn salesforce_guide_example() {
    let g = guide("salesforce.md");
    let body = String::from_utf8(fixture("salesforce/lead-notification.xml")).unwrap();
    assert!(g.contains(body.trim()), "the guide shows the example message");
    assert!(g.contains(leadclock_crm::salesforce::ACK), "the guide shows the Ack");
}
