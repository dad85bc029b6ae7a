//! The form webhook parser must answer any bytes with an event or a 4xx error, never a panic.
#![no_main]

use leadclock_app::error::HttpError;
use leadclock_app::wire::{parse_event, Kind};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static POLICY: OnceLock<leadclock_domain::Policy> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let policy = POLICY.get_or_init(|| leadclock_domain::Policy::parse(include_str!("../../policies/example.toml")).unwrap());
    let now = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    match parse_event(Kind::Form, data, policy, now) {
        Ok(event) => {
            // Whatever parses folds without panicking.
            let _ = leadclock_domain::Lead::fold(event.lead_id.clone(), [&event], policy);
        }
        Err(e) => assert!((400..500).contains(&e.status()), "{e:?}"),
    }
});
