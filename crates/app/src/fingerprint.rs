//! What an event says, as a hash: equal for the same event however it was spelled (instants in
//! UTC, numbers in one form, keys sorted), and different for anything else it says. Derived
//! event ids and the `event_id_conflict` check both use it.

use leadclock_domain::Event;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of the normalized event, without its id and its origin (live or history is how
/// it arrived, not what it says).
pub fn of(event: &Event) -> String {
    hex::encode(Sha256::digest(canonical(event).as_bytes()))
}

/// The normalized JSON: serde's own form of the parsed event (UTC instants, canonical numbers),
/// keys sorted (`serde_json::Map` is a `BTreeMap`).
fn canonical(event: &Event) -> String {
    let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.remove("event_id");
        map.remove("origin");
    }
    v.to_string()
}

/// The id of an event sent without one: its kind and the first 128 bits of its fingerprint.
pub fn derived_id(kind: &str, event: &Event) -> leadclock_domain::EventId {
    let fp = of(event);
    leadclock_domain::EventId::parse(&format!("{kind}-{}", &fp[..32])).expect("hex ids are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::leadclock_json::parse_event;
    use crate::inbound::Kind;
    use leadclock_domain::Policy;

    fn parse(kind: Kind, body: &str) -> Event {
        let policy = Policy::parse(include_str!("../../../policies/example.toml")).unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T16:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        parse_event(kind, body.as_bytes(), &policy, now).unwrap()
    }

    #[test]
    fn the_same_event_spelled_differently_is_one_event() {
        let a = parse(
            Kind::Assignment,
            r#"{"lead_id":"L","occurred_at":"2026-11-23T15:00:00Z","owner":"alice"}"#,
        );
        let b = parse(
            Kind::Assignment,
            r#"{"owner":"alice","occurred_at":"2026-11-23T15:00:00+00:00","lead_id":"L"}"#,
        );
        let c = parse(
            Kind::Assignment,
            r#"{"lead_id":"L","occurred_at":"2026-11-23T10:00:00.000-05:00","owner":"alice"}"#,
        );
        assert_eq!(a.event_id, b.event_id);
        assert_eq!(a.event_id, c.event_id);
        let f1 = parse(
            Kind::Form,
            r#"{"lead_id":"L","occurred_at":"2026-11-23T15:00:00Z","lead_type":"demo_request","score":42}"#,
        );
        let f2 = parse(
            Kind::Form,
            r#"{"lead_id":"L","occurred_at":"2026-11-23T15:00:00Z","lead_type":"demo_request","score":42.0}"#,
        );
        assert_eq!(f1.event_id, f2.event_id);
        let other = parse(
            Kind::Assignment,
            r#"{"lead_id":"L","occurred_at":"2026-11-23T15:00:01Z","owner":"alice"}"#,
        );
        assert_ne!(a.event_id, other.event_id);
        // History or live, it is the same fact.
        let h = parse(
            Kind::Assignment,
            r#"{"lead_id":"L","occurred_at":"2026-11-23T15:00:00Z","owner":"alice","history":true}"#,
        );
        assert_eq!((h.event_id.clone(), of(&h)), (a.event_id.clone(), of(&a)));
    }
}
