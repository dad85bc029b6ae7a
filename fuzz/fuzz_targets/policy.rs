//! The policy parser must report problems for any text, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match leadclock_domain::Policy::parse(text) {
            Ok(p) => assert!(!p.lead_types.is_empty() && p.calendars.contains_key(&p.default_calendar)),
            Err(problems) => assert!(!problems.is_empty()),
        }
        let _ = leadclock_domain::policy::parse_calendars(text);
    }
});
