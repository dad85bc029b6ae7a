//! What every event-parser target checks: any bytes give an event or a 4xx, never a panic,
//! and whatever parses folds.

use leadclock_app::error::HttpError;
use leadclock_app::inbound::{leadclock_json::parse_event, Kind};
use std::sync::OnceLock;

static POLICY: OnceLock<leadclock_domain::Policy> = OnceLock::new();

pub fn check_event(kind: Kind, data: &[u8]) {
    let policy =
        POLICY.get_or_init(|| leadclock_domain::Policy::parse(include_str!("../../policies/example.toml")).unwrap());
    let now = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    match parse_event(kind, data, policy, now) {
        Ok(event) => {
            let _ = leadclock_domain::Lead::fold(event.lead_id.clone(), [&event], policy);
        }
        Err(e) => assert!((400..500).contains(&e.status()), "{e:?}"),
    }
}
