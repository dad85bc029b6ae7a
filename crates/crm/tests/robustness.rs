//! No input makes a parser panic: every truncation of every fixture, and random bytes.
mod common;

use leadclock_crm::export::{self, DateReader, ImportOptions, Mapping};
use leadclock_crm::salesforce::OutboundMessage;
use leadclock_crm::{hubspot, outreach, salesloft};
use proptest::prelude::*;

const SALESLOFT_EVENTS: [&str; 4] = ["call_created", "email_updated", "person_updated", "cadence_created"];

/// The readers a fixture directory is for.
fn own_parsers(dir: &str, bytes: &[u8]) {
    match dir {
        "hubspot" => {
            let _ = hubspot::parse_events(bytes);
            let _ = hubspot::parse_workflow(bytes, Some(62515));
            let _ = hubspot::parse_workflow(bytes, None);
        }
        "salesforce" => {
            if let Ok(msg) = OutboundMessage::parse(&String::from_utf8_lossy(bytes)) {
                let _ = msg.facts();
            }
        }
        "outreach" => {
            let _ = outreach::parse(bytes);
        }
        "salesloft" => {
            for event in SALESLOFT_EVENTS {
                let _ = salesloft::parse(event, bytes);
            }
        }
        export => {
            // An export file through its own mapping (or, for other bytes, through all of them).
            let own: Vec<&Mapping> = mappings()
                .iter()
                .filter(|(file, _)| export.ends_with(file))
                .map(|(_, m)| m)
                .collect();
            let chosen = if own.is_empty() {
                mappings().iter().map(|(_, m)| m).collect()
            } else {
                own
            };
            let opts = ImportOptions {
                account: "00D000000000001AAA".into(),
                dates: DateReader {
                    tz: Some(chrono_tz::UTC),
                },
            };
            for mapping in chosen {
                let _ = export::import(mapping, &opts, bytes);
            }
        }
    }
}

/// Runs `bytes` through every reader; results are ignored, only panics fail.
fn every_parser(bytes: &[u8]) {
    for dir in ["hubspot", "salesforce", "outreach", "salesloft", "any export"] {
        own_parsers(dir, bytes);
    }
}

/// The shipped mappings, each with the fixture file it reads.
fn mappings() -> &'static [(&'static str, Mapping)] {
    static MAPPINGS: std::sync::OnceLock<Vec<(&str, Mapping)>> = std::sync::OnceLock::new();
    MAPPINGS.get_or_init(|| {
        [
            ("hubspot-contacts.csv", export::HUBSPOT_CONTACTS),
            ("salesforce-lead.csv", export::SALESFORCE_LEAD),
            ("salesforce-leadhistory.csv", export::SALESFORCE_LEAD_HISTORY),
            ("salesforce-task.csv", export::SALESFORCE_TASK),
        ]
        .iter()
        .map(|(file, m)| (*file, Mapping::from_toml(m).expect("shipped mapping")))
        .collect()
    })
}

#[test]
fn every_truncation_of_every_fixture_is_an_answer_not_a_panic() {
    let fixtures = common::all_fixtures();
    assert!(fixtures.len() >= 24, "{} fixtures", fixtures.len());
    for (name, bytes) in &fixtures {
        let dir = if name.starts_with("exports/") {
            name.as_str()
        } else {
            name.split('/').next().unwrap_or_default()
        };
        for end in 0..=bytes.len() {
            // Every truncation through the fixture's own readers; every 7th through all of them.
            let all = end % 7 == 0 || end == bytes.len();
            let result = std::panic::catch_unwind(|| {
                own_parsers(dir, &bytes[..end]);
                if all {
                    every_parser(&bytes[..end]);
                }
            });
            assert!(result.is_ok(), "{name} truncated at {end} panicked");
        }
    }
}

#[test]
fn deep_or_huge_xml_is_refused() {
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    assert!(OutboundMessage::parse(&deep).is_err());
    let wide = format!("<a>{}</a>", "<b/>".repeat(200_000));
    assert!(OutboundMessage::parse(&wide).is_err());
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        every_parser(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(pick in 0usize..64, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let fixtures = common::all_fixtures();
        let (_, bytes) = &fixtures[pick % fixtures.len()];
        let mut bytes = bytes.clone();
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        every_parser(&bytes);
    }
}
