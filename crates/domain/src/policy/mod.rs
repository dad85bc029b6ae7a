//! The SLA policy: calendars, lead types with their targets and ladders, the assignment SLA,
//! which touches count, and the directory that turns roles into people.
//!
//! Parsing collects every problem it can find, each with its location, so one
//! `leadclock policy check` run shows all that is wrong.
//!
//! This file holds the model. `raw` is the file's TOML schema; `validate` turns it into the
//! model with the help of `calendars`, `ladders`, `directory` and `classify`; `problems` places
//! each problem at the line and column of the key or value it is about. `classify` also holds
//! [`Policy::classify`] and [`Policy::explain`], which apply the `[[classify]]` rules.

mod calendars;
mod classify;
mod delivery;
mod directory;
mod ladders;
mod problems;
mod raw;
mod validate;
mod versions;

pub use versions::{Judge, Version, Versions, VersionsError};

use crate::calendar::Calendar;
use crate::event::StageChange;
use chrono::Duration;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, e.g. `lead_types.demo_request.within`.
    pub path: String,
    /// 1-based line of the offending key or value; `None` when the problem is something missing.
    pub line: Option<usize>,
    /// 1-based column (in characters) on that line; not shown by `Display` or [`report_problems`].
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem of a file, one per line as `FILE:LINE: path: message` (for people and logs).
pub fn report_problems(file: &str, problems: &[Problem]) -> String {
    let mut out = format!("{file}: {} problem(s)", problems.len());
    for p in problems {
        let at = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        out.push_str(&format!("\n  {file}{at}: {}: {}", p.path, p.message));
    }
    out
}

/// Which time an SLA counts; its JSON form is [`Basis::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Only open business time counts.
    Business,
    /// Wall-clock time counts, around the clock.
    Calendar,
}

impl Basis {
    pub const ALL: [Basis; 2] = [Basis::Business, Basis::Calendar];

    /// The name a policy's `clock = "..."` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Business => "business",
            Basis::Calendar => "calendar",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Within { duration: Duration, basis: Basis },
    EndOfBusinessDay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Deadline,
    EndOfBusinessDay,
}

/// Who a ladder step notifies; its JSON form is [`Role::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Manager,
    Exec,
    Ops,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Manager, Role::Exec, Role::Ops];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Exec => "exec",
            Role::Ops => "ops",
        }
    }
    /// The role a policy's `notify = [...]` names, exactly as written.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub anchor: Anchor,
    /// Signed: negative fires before the anchor.
    pub offset: Duration,
    pub notify: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaRule {
    pub target: Target,
    pub ladder: Vec<Step>,
    /// How old a due step may be when leadclock first learns of it and still be delivered;
    /// `None` takes [`Delivery::stale_after`].
    pub stale_after: Option<Duration>,
}

/// Whether due steps are delivered, or only computed and recorded (a phased rollout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Live,
    Shadow,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Shadow => "shadow",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Live, Mode::Shadow].into_iter().find(|m| m.as_str() == s)
    }
}

/// `[delivery]`: the rules every delivery path applies to a due step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// How long a step that an event made due (or overdue) waits for late events before it
    /// is delivered.
    pub settle: Duration,
    /// A step already this far past its due instant when leadclock first learns of it is
    /// recorded as missed (`stale`), not delivered.
    pub stale_after: Duration,
    /// The default mode; teams and lead types may say otherwise.
    pub mode: Mode,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            settle: Duration::seconds(60),
            stale_after: Duration::minutes(15),
            mode: Mode::Live,
        }
    }
}

/// `[crm]`: the stage each value of a CRM's status picklist means. A team's picklist is its
/// own (renamed, added values), so the defaults below — HubSpot's and Salesforce's standard
/// values — are replaced, per CRM, by a table the policy writes. A value absent from the map
/// has no SLA meaning (skipped with its reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmStages {
    /// HubSpot `hs_lead_status` → stage.
    pub hubspot_lead_status: BTreeMap<String, StageChange>,
    /// Salesforce Lead `Status` → stage.
    pub salesforce_status: BTreeMap<String, StageChange>,
}

impl Default for CrmStages {
    fn default() -> Self {
        let map = |pairs: &[(&str, StageChange)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        CrmStages {
            hubspot_lead_status: map(&[
                ("IN_PROGRESS", StageChange::Sal),
                ("CONNECTED", StageChange::Sal),
                ("OPEN_DEAL", StageChange::Sal),
                ("UNQUALIFIED", StageChange::Rejected),
            ]),
            salesforce_status: map(&[
                ("Working - Contacted", StageChange::Sal),
                ("Closed - Not Converted", StageChange::Rejected),
                ("Qualified", StageChange::Sql),
                ("Closed - Converted", StageChange::Sql),
            ]),
        }
    }
}

/// `[privacy]`: how long a lead's personal data (contact, attributes, unknown fields) is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privacy {
    /// Erased this long after the lead's last event; `None` keeps it until erased by request.
    pub contact_retention: Option<Duration>,
    /// How long the CRM and sales-tool webhooks are kept as received, for `replay-hooks` to
    /// map them again after a mapping fix; `None` keeps none. Unlike `contact_retention`,
    /// `"off"` here means *not kept*: a raw body is personal data in bulk.
    pub raw_hooks: Option<Duration>,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            contact_retention: Some(Duration::days(90)),
            raw_hooks: Some(Duration::days(90)),
        }
    }
}

/// `[reports]`: when a figure may carry a band or raise a flag ("no false red").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reports {
    /// A conversion figure (SAL → SQL, SQL → opportunity, MQL → SQL) of a cohort younger than
    /// this is *in progress*: shown with the leads still open, never banded. The methodology
    /// says to allow a full sales cycle, 60–90 days, before measuring a cohort's conversion.
    pub sales_cycle: Duration,
    /// No band or flag is drawn on fewer leads than this.
    pub min_sample: u64,
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            sales_cycle: Duration::days(60),
            min_sample: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchRule {
    pub channels: Vec<String>,
    pub excluded_outcomes: Vec<String>,
}

impl TouchRule {
    /// Whether a touch stops the response clock.
    pub fn qualifies(&self, channel: &str, outcome: Option<&str>) -> bool {
        let channel = channel.to_ascii_lowercase();
        let ok_channel = self.channels.iter().any(|c| c == "*" || *c == channel);
        let excluded = outcome
            .map(str::to_ascii_lowercase)
            .is_some_and(|o| self.excluded_outcomes.contains(&o));
        ok_channel && !excluded
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadType {
    pub name: String,
    pub label: String,
    pub sla: SlaRule,
    pub touches: TouchRule,
    pub mode: Option<Mode>,
    /// An untouched lead of this type closes as `no_response` this long after engagement;
    /// `None` keeps it open until something happens.
    pub open_for: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Person {
    pub name: Option<String>,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub slack: Option<String>,
    pub email: Option<String>,
    /// The person's owner ids in the CRMs: `"hubspot:123"`, `"salesforce:005…"`, or a bare id
    /// that matches in any CRM.
    pub crm_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Team {
    pub calendar: Option<String>,
    pub manager: Option<String>,
    pub exec: Option<String>,
    pub mode: Option<Mode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directory {
    pub people: BTreeMap<String, Person>,
    pub teams: BTreeMap<String, Team>,
    pub ops: Vec<String>,
    pub exec: Vec<String>,
    pub manager: Vec<String>,
}

impl Directory {
    /// The directory person a CRM names as an owner, by the first of: a CRM id in the person's
    /// `crm_ids` (`"{system}:{id}"` first, then the bare id), the person's `email`, the directory key,
    /// the person's display `name`. Emails, keys and names compare case-insensitively; CRM ids
    /// exactly (Salesforce ids differ by case). `None` when nobody matches.
    pub fn person_for_owner(&self, system: &str, owner: &str) -> Option<&str> {
        let qualified = format!("{system}:{owner}");
        let by_qualified_id = |p: &Person| p.crm_ids.contains(&qualified);
        let by_bare_id = |p: &Person| p.crm_ids.iter().any(|c| c == owner);
        let by_email =
            |p: &Person| owner.contains('@') && p.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(owner));
        let by_name = |p: &Person| p.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(owner));
        let find =
            |hit: &dyn Fn(&str, &Person) -> bool| self.people.iter().find(|(k, p)| hit(k, p)).map(|(k, _)| k.as_str());
        find(&|_, p| by_qualified_id(p))
            .or_else(|| find(&|_, p| by_bare_id(p)))
            .or_else(|| find(&|_, p| by_email(p)))
            .or_else(|| find(&|k, _| k.eq_ignore_ascii_case(owner)))
            .or_else(|| find(&|_, p| by_name(p)))
    }
}

/// What classification rules read about a lead, whichever path it came in by: the form's known
/// fields, and a flat map of the sender's other properties (the JSON API's `attributes`, a CRM's
/// `form_name`, `lifecycle_stage`, `hs_analytics_source`, …). A blank value counts as absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LeadFacts {
    /// The lead type the sender named, if any; it wins over every rule.
    pub lead_type: Option<String>,
    pub source: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub account: Option<String>,
    pub score: Option<f64>,
    /// By exact (case-sensitive) name; a rule reads one as `properties.NAME`.
    pub properties: BTreeMap<String, String>,
}

/// The fact a condition reads, written `source`, `score`, `properties.NAME`, … in a policy.
///
/// `lead_type` is not one: an explicit lead type wins before any rule is tried.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Source,
    Region,
    Segment,
    Account,
    Score,
    Property(String),
}

/// Why a condition's `field` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("lead_type cannot be a condition: an explicit lead_type wins over every rule")]
    LeadType,
    #[error("\"properties.\" needs a property name after the dot")]
    NoPropertyName,
    #[error("{0:?} is not a field: use source, region, segment, account, score or properties.NAME")]
    Unknown(String),
}

/// A case-insensitive glob: `*` stands for any run of characters, `?` for any one character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    /// The pattern lowercased, as characters, so matching allocates only for the text.
    lower: Vec<char>,
}

/// Why a glob was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("a pattern must not be empty (use present = true for \"any value\")")]
    Empty,
}

/// What a condition asks of its field's value. Every test but `Present(false)` fails on a missing
/// value.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Equal to one of these, ignoring case.
    Equals(Vec<String>),
    /// Matched by one of these globs.
    Matches(Vec<Glob>),
    /// A number at least this; a value that is not a number does not match.
    AtLeast(f64),
    /// A number below this; a value that is not a number does not match.
    Below(f64),
    /// Has a value (`true`) or has none (`false`).
    Present(bool),
}

/// One condition of a rule: a field and the test its value must pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub test: Test,
}

/// What a rule does to a lead it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Gives the lead this type (a key of [`Policy::lead_types`]).
    LeadType(String),
    /// Keeps the lead out of every SLA, for this reason.
    Exclude(String),
}

/// One `[[classify]]` rule: it matches when every `when` condition holds and no `unless` one does.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyRule {
    /// Unique in the policy; recorded with the leads the rule classifies.
    pub name: String,
    pub when: Vec<Condition>,
    pub unless: Vec<Condition>,
    pub action: Action,
}

/// Why a lead has its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedBy {
    /// The facts named it.
    Explicit,
    /// The rule of this name gave it.
    Rule(String),
}

/// The result of [`Policy::classify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    Typed {
        lead_type: String,
        by: TypedBy,
    },
    Excluded {
        rule: String,
        reason: String,
    },
    /// The facts named a lead type the policy does not have; no rule was tried, so the sender
    /// can be told rather than the lead being typed by a rule it did not ask for.
    UnknownLeadType(String),
    /// No lead type given and no rule matched.
    Unclassified,
}

/// Which list of a rule a failed condition is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A `when` condition did not hold.
    When,
    /// An `unless` condition held.
    Unless,
}

/// Why a rule did not match: its first condition that decided so, and the value it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub part: Part,
    pub condition: Condition,
    /// The field's value as text; `None` when the facts did not have it.
    pub seen: Option<String>,
}

/// One rule as [`Policy::explain`] saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTrace {
    pub rule: String,
    /// `None` when the rule matches.
    pub failure: Option<Failure>,
}

/// Every rule in order, each with whether it matched and why not, and the classification.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub rules: Vec<RuleTrace>,
    pub result: Classification,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub calendars: BTreeMap<String, Calendar>,
    pub default_calendar: String,
    pub regions: BTreeMap<String, String>,
    pub reporting_timezone: Tz,
    pub recycle_limit: u32,
    pub assignment: SlaRule,
    pub lead_types: BTreeMap<String, LeadType>,
    pub directory: Directory,
    pub delivery: Delivery,
    pub privacy: Privacy,
    pub reports: Reports,
    pub crm: CrmStages,
    /// The `open_for` of lead types that do not set their own (and of leads whose type the
    /// policy does not know).
    pub open_for: Option<Duration>,
    /// The `[[classify]]` rules, in the policy's order: the first that matches wins.
    pub classify: Vec<ClassifyRule>,
}

/// Parses a duration like `90s`, `5m`, `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration like 90s, 5m or 1h30m ({e})"))?;
    Duration::from_std(d).map_err(|_| format!("{s:?} is too long"))
}

/// Parses just the calendars of any TOML file (a full policy or a calendars-only file).
pub fn parse_calendars(src: &str) -> Result<BTreeMap<String, Calendar>, Vec<Problem>> {
    calendars::calendars_only(src)
}

/// How long an untouched lead stays open when the policy does not say: long past any SLA's
/// last step, short enough that the open set (and every report over it) stops growing.
pub const DEFAULT_OPEN_FOR: Duration = Duration::days(30);

impl Policy {
    /// How long an untouched lead of `lead_type` stays open, if it ever closes.
    pub fn open_for(&self, lead_type: &str) -> Option<Duration> {
        self.lead_types.get(lead_type).map_or(self.open_for, |lt| lt.open_for)
    }

    /// Parses and validates a policy; on failure returns every problem found.
    pub fn parse(src: &str) -> Result<Policy, Vec<Problem>> {
        validate::policy(src)
    }

    /// The calendar name for a lead: owner's team, else region, else the default.
    pub fn calendar_name_for(&self, owner: Option<&str>, team: Option<&str>, region: Option<&str>) -> &str {
        let team = team.or_else(|| {
            owner
                .and_then(|o| self.directory.people.get(o))
                .and_then(|p| p.team.as_deref())
        });
        if let Some(c) = team
            .and_then(|t| self.directory.teams.get(t))
            .and_then(|t| t.calendar.as_deref())
        {
            return c;
        }
        if let Some(c) = region.and_then(|r| self.regions.get(r)) {
            return c;
        }
        &self.default_calendar
    }

    /// How far past due a step may be when first learned of and still be delivered.
    pub fn stale_after(&self, rule: &SlaRule) -> Duration {
        rule.stale_after.unwrap_or(self.delivery.stale_after)
    }

    /// The delivery mode for a lead type and an owner's team. A team's or a lead type's own
    /// setting overrides the default; when both are set and disagree, shadow wins, so nobody
    /// is paged unless every setting that names the lead allows it.
    pub fn mode_for(&self, lead_type: &str, team: Option<&str>) -> Mode {
        let by_type = self.lead_types.get(lead_type).and_then(|l| l.mode);
        let by_team = team.and_then(|t| self.directory.teams.get(t)).and_then(|t| t.mode);
        match (by_type, by_team) {
            (None, None) => self.delivery.mode,
            (Some(m), None) | (None, Some(m)) => m,
            (Some(a), Some(b)) if a == b => a,
            (Some(_), Some(_)) => Mode::Shadow,
        }
    }

    /// The team a person belongs to in the directory.
    pub fn team_of(&self, person: &str) -> Option<&str> {
        self.directory.people.get(person).and_then(|p| p.team.as_deref())
    }

    pub fn calendar(&self, name: &str) -> &Calendar {
        self.calendars
            .get(name)
            .or_else(|| self.calendars.get(&self.default_calendar))
            .expect("validated policy has its default calendar")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const EXAMPLE: &str = include_str!("../../../../policies/example.toml");

    #[test]
    fn example_policy_is_valid_and_has_the_five_tiers() {
        let p = Policy::parse(EXAMPLE).unwrap_or_else(|e| panic!("{e:#?}"));
        for t in [
            "demo_request",
            "free_trial",
            "contact_form",
            "content_mql",
            "event_attendee",
        ] {
            assert!(p.lead_types.contains_key(t), "{t}");
        }
        assert_eq!(
            p.lead_types["demo_request"].sla.target,
            Target::Within {
                duration: Duration::minutes(5),
                basis: Basis::Business
            }
        );
        assert_eq!(p.lead_types["event_attendee"].sla.target, Target::EndOfBusinessDay);
        let ladder = &p.lead_types["demo_request"].sla.ladder;
        assert_eq!(ladder.len(), 3);
        assert_eq!(ladder[1].offset, Duration::hours(2));
        assert_eq!(ladder[2].anchor, Anchor::EndOfBusinessDay);
        assert!(p.calendars.len() >= 2);
        assert_eq!(p.recycle_limit, 2);
    }

    #[test]
    fn reports_every_problem_with_its_location() {
        let src = r#"
default_calendar = "nowhere"

[calendars.us]
timezone = "America/Nowhere"
hours = { mon = ["09:00-17:00"], funday = ["10:00-11:00"] }
holidays = ["2026-13-01"]

[assignment]
within = "5 parsecs"

[lead_types.demo]
within = "5m"
ladder = "missing"
"#;
        let problems = Policy::parse(src).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "default_calendar",
            "calendars.us.timezone",
            "calendars.us.hours.funday",
            "calendars.us.holidays",
            "assignment.within",
            "lead_types.demo.ladder",
        ] {
            assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
        }
        let tz = problems.iter().find(|p| p.path == "calendars.us.timezone").unwrap();
        assert_eq!(tz.line, Some(5));
        let lad = problems.iter().find(|p| p.path == "lead_types.demo.ladder").unwrap();
        assert_eq!(lad.line, Some(14));
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let problems = Policy::parse("[calendars.x]\ntimezone = \n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let src = EXAMPLE.replace("recycle_limit", "recycle_limt");
        let problems = Policy::parse(&src).unwrap_err();
        assert!(problems[0].message.contains("recycle_limt"), "{problems:?}");
    }

    #[test]
    fn calendars_only_file() {
        let cals = parse_calendars("[calendars.x]\ntimezone = \"UTC\"\nhours = { mon = [\"00:00-24:00\"] }\n").unwrap();
        assert!(cals.contains_key("x"));
        assert!(parse_calendars("a = 1").is_err());
    }

    #[test]
    fn touch_rules() {
        let p = Policy::parse(EXAMPLE).unwrap();
        let t = &p.lead_types["demo_request"].touches;
        assert!(t.qualifies("call", Some("connected")));
        assert!(t.qualifies("Email", None));
        assert!(!t.qualifies("call", Some("voicemail")));
        assert!(!t.qualifies("carrier_pigeon", None));
    }

    #[test]
    fn calendar_choice_prefers_team_then_region_then_default() {
        let p = Policy::parse(EXAMPLE).unwrap();
        assert_eq!(p.calendar_name_for(Some("amelie"), None, Some("na")), "emea");
        assert_eq!(p.calendar_name_for(Some("stranger"), None, Some("emea")), "emea");
        assert_eq!(p.calendar_name_for(None, None, None), p.default_calendar);
    }
}
