//! The policy model seen from outside: the JSON/TOML form of its enums, and the shipped policies.

use chrono::Duration;
use leadclock_domain::policy::{Anchor, Basis, Role, Target};
use leadclock_domain::Policy;
use serde::Deserialize;

/// A one-field document, so an enum can be read from TOML the way any serde format would.
#[derive(Deserialize)]
struct One<T> {
    v: T,
}

fn read<T: for<'de> Deserialize<'de>>(name: &str) -> Result<T, toml::de::Error> {
    toml::from_str::<One<T>>(&format!("v = {name:?}")).map(|o| o.v)
}

#[test]
fn roles_serialize_and_deserialize_as_their_names() {
    assert_eq!(Role::ALL.len(), 4);
    for role in Role::ALL {
        assert_eq!(toml::Value::try_from(role).ok(), Some(toml::Value::from(role.as_str())));
        assert_eq!(read::<Role>(role.as_str()).ok(), Some(role));
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::Exec.as_str(), "exec");
    assert!(read::<Role>("Owner").is_err());
    assert_eq!(Role::parse("boss"), None);
}

#[test]
fn bases_serialize_and_deserialize_as_their_names() {
    for basis in Basis::ALL {
        assert_eq!(
            toml::Value::try_from(basis).ok(),
            Some(toml::Value::from(basis.as_str()))
        );
        assert_eq!(read::<Basis>(basis.as_str()).ok(), Some(basis));
        assert_eq!(Basis::parse(basis.as_str()), Some(basis));
    }
    assert_eq!(Basis::Business.as_str(), "business");
    assert_eq!(Basis::Calendar.as_str(), "calendar");
    assert!(read::<Basis>("wall").is_err());
}

const EXAMPLE: &str = include_str!("../../../policies/example.toml");
const FAST: &str = include_str!("../../../tests/fixtures/fast.toml");

fn parse(src: &str) -> Policy {
    Policy::parse(src).unwrap_or_else(|problems| panic!("{problems:#?}"))
}

#[test]
fn the_example_policy_reads_as_before() {
    let p = parse(EXAMPLE);
    assert_eq!(p.default_calendar, "us_east");
    assert_eq!(p.reporting_timezone, chrono_tz::America::New_York);
    assert_eq!(p.recycle_limit, 2);
    assert_eq!(p.calendars["emea"].tz, chrono_tz::Europe::London);
    assert_eq!(p.regions.get("na").map(String::as_str), Some("us_east"));
    assert_eq!(
        p.assignment.target,
        Target::Within {
            duration: Duration::minutes(5),
            basis: Basis::Business
        }
    );
    let ops: Vec<(&str, Duration, &[Role])> = p
        .assignment
        .ladder
        .iter()
        .map(|s| (s.name.as_str(), s.offset, s.notify.as_slice()))
        .collect();
    assert_eq!(
        ops,
        [
            ("ops", Duration::zero(), &[Role::Ops][..]),
            ("ops-exec", Duration::hours(1), &[Role::Ops, Role::Exec][..])
        ]
    );
    let exec = &p.lead_types["free_trial"].sla.ladder[2];
    assert_eq!(
        (exec.anchor, exec.notify.as_slice()),
        (Anchor::EndOfBusinessDay, &[Role::Manager, Role::Exec][..])
    );
    assert_eq!(p.lead_types["content_mql"].label, "Content MQL (scoring threshold)");
    assert_eq!(p.lead_types["content_mql"].touches.excluded_outcomes, ["bounced"]);
    assert_eq!(p.lead_types["demo_request"].touches.excluded_outcomes.len(), 4);
    assert_eq!(p.directory.ops, ["revops-oncall"]);
    assert_eq!(p.directory.teams["emea"].manager.as_deref(), Some("hans"));
    assert_eq!(p.directory.people["amelie"].team.as_deref(), Some("emea"));
    assert_eq!(p.directory.people.len(), 6);
}

#[test]
fn the_fast_fixture_reads_as_before() {
    let p = parse(FAST);
    assert_eq!(p.default_calendar, "always");
    assert_eq!(p.reporting_timezone, chrono_tz::UTC);
    assert_eq!(p.lead_types.len(), 3);
    assert_eq!(
        p.assignment.target,
        Target::Within {
            duration: Duration::seconds(3),
            basis: Basis::Calendar
        }
    );
    let offsets: Vec<Duration> = p.lead_types["demo_request"]
        .sla
        .ladder
        .iter()
        .map(|s| s.offset)
        .collect();
    assert_eq!(offsets, [Duration::zero(), Duration::seconds(2), Duration::seconds(4)]);
    let spaced: Vec<&str> = p.lead_types["free_trial"]
        .sla
        .ladder
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(spaced, ["owner", "manager"]);
    // No [touches]: the built-in rule, under which a voicemail does not count.
    assert!(!p.lead_types["content_mql"].touches.qualifies("call", Some("voicemail")));
    assert_eq!(p.directory.people["alice"].slack.as_deref(), Some("U0ALICE"));
    assert_eq!(p.calendar_name_for(Some("alice"), None, None), "always");
}

#[test]
fn privacy_keeps_contact_data_ninety_days_unless_told() {
    assert_eq!(parse(FAST).privacy.contact_retention, Some(Duration::days(90)));
    let with = |v: &str| format!("{FAST}\n[privacy]\ncontact_retention = \"{v}\"\n");
    assert_eq!(
        parse(&with("30days")).privacy.contact_retention,
        Some(Duration::days(30))
    );
    assert_eq!(parse(&with("off")).privacy.contact_retention, None);
    // Past the calendar's range, a cutoff counted back from now could not be computed.
    for bad in ["soon", "1h", "290000000years", "36501days"] {
        let problems = Policy::parse(&with(bad)).expect_err(bad);
        assert!(
            problems.iter().any(|p| p.path == "privacy.contact_retention"),
            "{bad}: {problems:?}"
        );
    }
}

#[test]
fn crm_owners_match_directory_people_by_id_then_email_then_key_then_name() {
    let directory = r#"
[directory.people.ann]
name = "Ann Smith"
email = "ann@example.com"
crm_ids = ["hubspot:101", "0055e000001AbCd"]

[directory.people.ben]
name = "ann@example.com"
crm_ids = ["salesforce:0055e000001abcd"]

[directory.people."Ann Smith"]
name = "Someone Else"

[directory.people.adam]
crm_ids = ["202"]

[directory.people.zoe]
crm_ids = ["hubspot:202"]
"#;
    let p = parse(&format!("{FAST}\n{directory}"));
    let d = &p.directory;
    // A CRM id, qualified by its system or bare; ids compare exactly (Salesforce's differ by case).
    assert_eq!(d.person_for_owner("hubspot", "101"), Some("ann"));
    assert_eq!(d.person_for_owner("salesforce", "101"), None);
    // An id qualified by its system beats a bare one, whatever the keys' order.
    assert_eq!(d.person_for_owner("hubspot", "202"), Some("zoe"));
    assert_eq!(d.person_for_owner("salesforce", "202"), Some("adam"));
    assert_eq!(d.person_for_owner("salesforce", "0055e000001AbCd"), Some("ann"));
    assert_eq!(d.person_for_owner("salesforce", "0055e000001abcd"), Some("ben"));
    // An email beats a display name that happens to be the same text.
    assert_eq!(d.person_for_owner("hubspot", "ANN@example.com"), Some("ann"));
    // A directory key beats another person's display name.
    assert_eq!(d.person_for_owner("hubspot", "ann smith"), Some("Ann Smith"));
    assert_eq!(d.person_for_owner("hubspot", "someone else"), Some("Ann Smith"));
    assert_eq!(d.person_for_owner("hubspot", "Carol"), None);
}
