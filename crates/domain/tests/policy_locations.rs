//! Every policy problem points at the line and column of the key or value it is about.

use leadclock_domain::policy::{report_problems, Problem};
use leadclock_domain::Policy;

/// A calendar, an assignment SLA and a lead type: the least a valid policy holds.
const VALID_TAIL: &str = r#"
[assignment]
within = "5m"

[lead_types.demo]
within = "5m"
"#;

fn problems(src: &str) -> Vec<Problem> {
    match Policy::parse(src) {
        Ok(_) => panic!("expected problems in:\n{src}"),
        Err(problems) => problems,
    }
}

/// `(line, column)` of the one problem at `path` whose message contains `says`.
fn position(problems: &[Problem], path: &str, says: &str) -> (Option<usize>, Option<usize>) {
    let found: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.path == path && p.message.contains(says))
        .collect();
    match found.as_slice() {
        [one] => (one.line, one.column),
        _ => panic!("expected one problem at {path} saying {says:?}, got {problems:#?}"),
    }
}

#[test]
fn a_top_level_key() {
    let src = format!(
        "{}{VALID_TAIL}",
        r#"# comment
default_calendar = "nowhere"
  recycle_limit = 500
reporting_timezone = "Mars/Base"

[calendars.us]
timezone = "UTC"
hours = { mon = ["09:00-17:00"] }
"#
    );
    let ps = problems(&src);
    assert_eq!(position(&ps, "default_calendar", "nowhere"), (Some(2), Some(20)));
    assert_eq!(position(&ps, "recycle_limit", "500"), (Some(3), Some(19)));
    assert_eq!(position(&ps, "reporting_timezone", "IANA"), (Some(4), Some(22)));
    assert_eq!(ps.len(), 3, "{ps:#?}");
}

#[test]
fn a_key_in_a_table() {
    let src = format!(
        "{}{VALID_TAIL}",
        r#"[calendars.us]
hours = { mon = ["09:00-17:00"] }
holidays = ["2026-12-25", "2026-13-01"]
timezone = "America/Nowhere"

[regions]
na = "us"
eu = "nowhere"
"#
    );
    let ps = problems(&src);
    assert_eq!(position(&ps, "calendars.us.timezone", "IANA"), (Some(4), Some(12)));
    assert_eq!(
        position(&ps, "calendars.us.holidays", "2026-13-01"),
        (Some(3), Some(27))
    );
    assert_eq!(position(&ps, "regions.eu", "nowhere"), (Some(8), Some(6)));
}

#[test]
fn a_key_inside_an_inline_table() {
    let src = format!(
        "{}{VALID_TAIL}",
        r#"[calendars.us]
timezone = "UTC"

hours = { mon = ["09:00-17:00"], funday = ["10:00-11:00"], tue = ["9-17"] }
"#
    );
    let ps = problems(&src);
    assert_eq!(
        position(&ps, "calendars.us.hours.funday", "day must be"),
        (Some(4), Some(34))
    );
    // A bad interval points at the interval itself.
    assert_eq!(position(&ps, "calendars.us.hours.tue", "\"9\""), (Some(4), Some(67)));
}

#[test]
fn an_element_of_an_array_of_inline_tables() {
    let src = r#"[calendars.us]
timezone = "UTC"
hours = { mon = ["09:00-17:00"] }

[assignment]
within = "5m"
escalate = [
  { at = "deadline", notify = ["owner"] },
    { at = "midnight", notify = ["owner"] },
  { at = "deadline", after = "1h", before = "1h", notify = ["owner"] },
]

[lead_types.demo]
within = "5m"
escalate = [{ at = "deadline", notify = ["owner"] }, { at = "midnight", notify = ["owner"] }]
"#;
    let ps = problems(src);
    assert_eq!(
        position(&ps, "assignment.escalate[1].at", "midnight"),
        (Some(9), Some(12))
    );
    // A problem with the element as a whole points at the element.
    assert_eq!(position(&ps, "assignment.escalate[2]", "not both"), (Some(10), Some(3)));
    assert_eq!(
        position(&ps, "lead_types.demo.escalate[1].at", "midnight"),
        (Some(15), Some(61))
    );
    assert_eq!(ps.len(), 3, "{ps:#?}");
}

#[test]
fn a_ladder_step_over_several_lines() {
    let src = format!(
        "{}{VALID_TAIL}",
        r#"[calendars.us]
timezone = "UTC"
hours = { mon = ["09:00-17:00"] }

[ladders.standard]
steps = [
  { name = "owner", at = "deadline", notify = ["owner"] },
  { name = "manager", at = "deadline", after = "2 fortnights", notify = ["owner", "manager"] },

  { name = "exec", at = "deadline", after = "4h", notify = ["manager", "boss"] },
  { name = "nobody", at = "deadline", notify = [] },
]

[ladders.empty]
steps = []
"#
    );
    let ps = problems(&src);
    assert_eq!(
        position(&ps, "ladders.standard.steps[1].after", "fortnights"),
        (Some(8), Some(48))
    );
    assert_eq!(
        position(&ps, "ladders.standard.steps[2].notify", "boss"),
        (Some(10), Some(72))
    );
    assert_eq!(
        position(&ps, "ladders.standard.steps[3].notify", "at least one role"),
        (Some(11), Some(48))
    );
    assert_eq!(
        position(&ps, "ladders.empty.steps", "at least one step"),
        (Some(15), Some(9))
    );
    assert_eq!(ps.len(), 4, "{ps:#?}");
}

#[test]
fn a_directory_persons_team() {
    let src = format!(
        "{}{VALID_TAIL}",
        r#"[calendars.us]
timezone = "UTC"
hours = { mon = ["09:00-17:00"] }

[directory.teams.east]
calendar = "west_coast"

[directory.people.alice]
name = "Alice"
team = "east"

[directory.people.bob]
name = "Bob"
team = "west"
"#
    );
    let ps = problems(&src);
    assert_eq!(
        position(&ps, "directory.people.bob.team", "\"west\""),
        (Some(14), Some(8))
    );
    assert_eq!(
        position(&ps, "directory.teams.east.calendar", "west_coast"),
        (Some(6), Some(12))
    );
    assert_eq!(ps.len(), 2, "{ps:#?}");
}

#[test]
fn a_syntax_error() {
    let ps = problems("[calendars.x]\ntimezone = \"UTC\"\nhours = { mon = [\"09:00-17:00\"] \n");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].path, "(file)");
    assert_eq!(ps[0].line, Some(3));
    assert!(ps[0].column.is_some(), "{ps:#?}");
}

#[test]
fn a_schema_error_points_at_the_unknown_key() {
    let src = format!(
        "{}{VALID_TAIL}",
        r#"[calendars.us]
timezone = "UTC"
hours = { mon = ["09:00-17:00"] }
  recycle = 3
"#
    );
    let ps = problems(&src);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(ps[0].message.contains("recycle"), "{ps:#?}");
    assert_eq!((ps[0].line, ps[0].column), (Some(4), Some(3)));
}

#[test]
fn a_table_as_a_whole_points_at_its_header() {
    let src = r#"[calendars.us]
timezone = "UTC"
hours = { mon = ["09:00-17:00"] }

[calendars.closed]
timezone = "UTC"
hours = {}

[assignment]
label = "Assignment"
within = "5m"
by = "end_of_business_day"
touches = { channels = ["call"] }
escalate = [{ at = "deadline", notify = ["ops"] }]

[lead_types.demo]
label = "Demo"

[lead_types.trial]
within = "1h"
escalate = [{ at = "deadline", notify = ["ops"] }]

[directory]
exec = ["cro"]
"#;
    let ps = problems(src);
    assert_eq!(
        position(&ps, "calendars.closed.hours", "no open hours"),
        (Some(5), Some(12))
    );
    assert_eq!(position(&ps, "assignment", "not both"), (Some(9), Some(2)));
    assert_eq!(
        position(&ps, "assignment.touches", "belong to lead types"),
        (Some(13), Some(24))
    );
    assert_eq!(position(&ps, "lead_types.demo", "needs `within"), (Some(16), Some(13)));
    assert_eq!(position(&ps, "directory.ops", "notifies ops"), (Some(23), Some(2)));
    // Nothing to point at: there is no default_calendar key to show.
    assert_eq!(position(&ps, "default_calendar", "required"), (None, None));
}

#[test]
fn dotted_keys_and_arrays_of_tables_have_positions_too() {
    let src = r#"calendars.us.timezone = "UTC"
calendars.us.hours.mon = ["09:00-17:00", "25:00-26:00"]
assignment.within = "5m"

[[assignment.escalate]]
at = "deadline"
notify = ["owner"]

[[assignment.escalate]]
at = "sunrise"
notify = ["owner"]

[lead_types.demo]
within = "5m"
touches.channels = []
"#;
    let ps = problems(src);
    assert_eq!(position(&ps, "calendars.us.hours.mon", "25:00"), (Some(2), Some(42)));
    assert_eq!(
        position(&ps, "assignment.escalate[1].at", "sunrise"),
        (Some(10), Some(6))
    );
    assert_eq!(
        position(&ps, "lead_types.demo.touches.channels", "no channel"),
        (Some(15), Some(20))
    );
    assert_eq!(ps.len(), 3, "{ps:#?}");
}

#[test]
fn the_report_format_shows_the_line_but_not_the_column() {
    let src = "[calendars.x]\ntimezone = \"Mars/Olympus\"\nhours = { mon = [\"09:00-17:00\"] }\n";
    let ps = problems(src);
    let tz = ps
        .iter()
        .find(|p| p.path == "calendars.x.timezone")
        .unwrap_or_else(|| panic!("{ps:#?}"));
    assert_eq!((tz.line, tz.column), (Some(2), Some(12)));
    assert_eq!(
        tz.to_string(),
        "line 2: calendars.x.timezone: \"Mars/Olympus\" is not an IANA time zone"
    );
    let report = report_problems("bad.toml", &ps);
    assert!(
        report.starts_with(&format!("bad.toml: {} problem(s)\n", ps.len())),
        "{report}"
    );
    assert!(
        report.contains("\n  bad.toml:2: calendars.x.timezone: \"Mars/Olympus\" is not an IANA time zone"),
        "{report}"
    );
    // A problem with no position keeps the bare `FILE: path: message` form.
    assert!(
        report.contains("\n  bad.toml: lead_types: at least one [lead_types.NAME] table is required"),
        "{report}"
    );
}
