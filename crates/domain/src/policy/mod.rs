//! The SLA policy: calendars, lead types with their targets and ladders, the assignment SLA,
//! which touches count, and the directory that turns roles into people.
//!
//! Parsing collects every problem it can find, each with its location, so one
//! `leadclock policy check` run shows all that is wrong.

use crate::calendar::{Calendar, WallInterval};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, e.g. `lead_types.demo_request.within`.
    pub path: String,
    /// 1-based line in the source, when it can be found.
    pub line: Option<usize>,
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
            .map(|o| o.to_ascii_lowercase())
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
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Person {
    pub name: Option<String>,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub slack: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Team {
    pub calendar: Option<String>,
    pub manager: Option<String>,
    pub exec: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directory {
    pub people: BTreeMap<String, Person>,
    pub teams: BTreeMap<String, Team>,
    pub ops: Vec<String>,
    pub exec: Vec<String>,
    pub manager: Vec<String>,
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
}

// ---------- raw file shape ----------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    timezone: String,
    #[serde(default)]
    hours: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    holidays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Option<String>,
    at: String,
    after: Option<String>,
    before: Option<String>,
    notify: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTouches {
    channels: Option<Vec<String>>,
    excluded_outcomes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSla {
    label: Option<String>,
    within: Option<String>,
    by: Option<String>,
    clock: Option<String>,
    ladder: Option<String>,
    escalate: Option<Vec<RawStep>>,
    touches: Option<RawTouches>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    name: Option<String>,
    team: Option<String>,
    manager: Option<String>,
    slack: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    calendar: Option<String>,
    manager: Option<String>,
    exec: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDirectory {
    #[serde(default)]
    ops: Vec<String>,
    #[serde(default)]
    exec: Vec<String>,
    #[serde(default)]
    manager: Vec<String>,
    #[serde(default)]
    people: BTreeMap<String, RawPerson>,
    #[serde(default)]
    teams: BTreeMap<String, RawTeam>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLadder {
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    default_calendar: Option<String>,
    reporting_timezone: Option<String>,
    recycle_limit: Option<i64>,
    #[serde(default)]
    calendars: BTreeMap<String, RawCalendar>,
    #[serde(default)]
    regions: BTreeMap<String, String>,
    touches: Option<RawTouches>,
    assignment: Option<RawSla>,
    #[serde(default)]
    ladders: BTreeMap<String, RawLadder>,
    #[serde(default)]
    lead_types: BTreeMap<String, RawSla>,
    #[serde(default)]
    directory: RawDirectory,
}

/// Only the `[calendars.*]` tables of any TOML file.
#[derive(Deserialize)]
struct CalendarsOnly {
    #[serde(default)]
    calendars: BTreeMap<String, RawCalendar>,
}

struct Problems<'a> {
    src: &'a str,
    list: Vec<Problem>,
}

impl Problems<'_> {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        let line = locate(self.src, &path);
        self.list.push(Problem {
            path,
            line,
            message: message.into(),
        });
    }
}

/// Best-effort line of a dotted path: the table header, then the key below it.
fn locate(src: &str, path: &str) -> Option<usize> {
    let parts: Vec<&str> = path.split('.').collect();
    for split in (1..=parts.len()).rev() {
        let (table, rest) = parts.split_at(split);
        let header = format!("[{}]", table.join("."));
        if let Some(h) = src.lines().position(|l| l.trim() == header) {
            let Some(key) = rest.first() else { return Some(h + 1) };
            let key = key.split('[').next().unwrap_or(key);
            let found = src
                .lines()
                .enumerate()
                .skip(h + 1)
                .take_while(|(_, l)| !l.trim_start().starts_with('['))
                .find(|(_, l)| l.trim_start().starts_with(key))
                .map(|(i, _)| i + 1);
            return found.or(Some(h + 1));
        }
    }
    // Inline tables or top-level keys.
    let last = parts.last()?;
    src.lines()
        .position(|l| {
            l.trim_start().starts_with(&format!("{last} ")) || l.trim_start().starts_with(&format!("{last}="))
        })
        .map(|i| i + 1)
}

fn toml_problem(src: &str, e: toml::de::Error) -> Problem {
    let line = e.span().map(|s| src[..s.start.min(src.len())].lines().count().max(1));
    Problem {
        path: "(file)".into(),
        line,
        message: e.message().to_string(),
    }
}

/// Parses a duration like `90s`, `5m`, `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration like 90s, 5m or 1h30m ({e})"))?;
    Duration::from_std(d).map_err(|_| format!("{s:?} is too long"))
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn build_calendar(name: &str, raw: &RawCalendar, p: &mut Problems) -> Option<Calendar> {
    let base = format!("calendars.{name}");
    let tz: Option<Tz> = match raw.timezone.parse() {
        Ok(tz) => Some(tz),
        Err(_) => {
            p.add(
                format!("{base}.timezone"),
                format!("{:?} is not an IANA time zone", raw.timezone),
            );
            None
        }
    };
    let mut week: [Vec<WallInterval>; 7] = Default::default();
    for (day, ivs) in &raw.hours {
        let Some(i) = DAYS.iter().position(|d| d == day) else {
            p.add(
                format!("{base}.hours.{day}"),
                "day must be one of mon, tue, wed, thu, fri, sat, sun",
            );
            continue;
        };
        for iv in ivs {
            match WallInterval::parse(iv) {
                Ok(w) => week[i].push(w),
                Err(e) => p.add(format!("{base}.hours.{day}"), e),
            }
        }
    }
    let mut holidays = Vec::new();
    for h in &raw.holidays {
        match NaiveDate::parse_from_str(h, "%Y-%m-%d") {
            Ok(d) => holidays.push(d),
            Err(_) => p.add(
                format!("{base}.holidays"),
                format!("{h:?} is not a date like 2026-12-25"),
            ),
        }
    }
    let tz = tz?;
    match Calendar::new(name, tz, week, holidays) {
        Ok(c) => Some(c),
        Err(e) => {
            p.add(format!("{base}.hours"), e);
            None
        }
    }
}

fn build_calendars(raw: &BTreeMap<String, RawCalendar>, p: &mut Problems) -> BTreeMap<String, Calendar> {
    raw.iter()
        .filter_map(|(n, c)| build_calendar(n, c, p).map(|c| (n.clone(), c)))
        .collect()
}

/// Parses just the calendars of any TOML file (a full policy or a calendars-only file).
pub fn parse_calendars(src: &str) -> Result<BTreeMap<String, Calendar>, Vec<Problem>> {
    let raw: CalendarsOnly = toml::from_str(src).map_err(|e| vec![toml_problem(src, e)])?;
    let mut p = Problems { src, list: Vec::new() };
    let cals = build_calendars(&raw.calendars, &mut p);
    if !p.list.is_empty() {
        return Err(p.list);
    }
    if cals.is_empty() {
        return Err(vec![Problem {
            path: "calendars".into(),
            line: None,
            message: "no [calendars.NAME] table found".into(),
        }]);
    }
    Ok(cals)
}

fn build_steps(path: &str, raw: &[RawStep], basis_ok: bool, p: &mut Problems) -> Vec<Step> {
    let mut out = Vec::new();
    if raw.is_empty() {
        p.add(path, "a ladder needs at least one step");
    }
    for (i, s) in raw.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let anchor = match s.at.as_str() {
            "deadline" => Anchor::Deadline,
            "end_of_business_day" => Anchor::EndOfBusinessDay,
            other => {
                p.add(
                    format!("{here}.at"),
                    format!("{other:?} must be \"deadline\" or \"end_of_business_day\""),
                );
                continue;
            }
        };
        if anchor == Anchor::EndOfBusinessDay && !basis_ok {
            p.add(format!("{here}.at"), "end_of_business_day needs a business calendar");
        }
        let offset = match (&s.after, &s.before) {
            (Some(_), Some(_)) => {
                p.add(&here, "give `after` or `before`, not both");
                Duration::zero()
            }
            (Some(a), None) => parse_duration(a).unwrap_or_else(|e| {
                p.add(format!("{here}.after"), e);
                Duration::zero()
            }),
            (None, Some(b)) => -parse_duration(b).unwrap_or_else(|e| {
                p.add(format!("{here}.before"), e);
                Duration::zero()
            }),
            (None, None) => Duration::zero(),
        };
        let mut notify = Vec::new();
        for r in &s.notify {
            match Role::parse(r) {
                Some(role) => notify.push(role),
                None => p.add(
                    format!("{here}.notify"),
                    format!("{r:?} must be owner, manager, exec or ops"),
                ),
            }
        }
        if s.notify.is_empty() {
            p.add(format!("{here}.notify"), "a step must notify at least one role");
        }
        let name = s.name.clone().unwrap_or_else(|| s.notify.join("+"));
        out.push(Step {
            name,
            anchor,
            offset,
            notify,
        });
    }
    out
}

fn build_touches(path: &str, raw: Option<&RawTouches>, inherit: &TouchRule, p: &mut Problems) -> TouchRule {
    let Some(raw) = raw else { return inherit.clone() };
    let lower = |v: &Vec<String>| v.iter().map(|s| s.to_ascii_lowercase()).collect::<Vec<_>>();
    let channels = raw
        .channels
        .as_ref()
        .map(lower)
        .unwrap_or_else(|| inherit.channels.clone());
    if channels.is_empty() {
        p.add(format!("{path}.channels"), "no channel would ever stop the clock");
    }
    TouchRule {
        channels,
        excluded_outcomes: raw
            .excluded_outcomes
            .as_ref()
            .map(lower)
            .unwrap_or_else(|| inherit.excluded_outcomes.clone()),
    }
}

fn build_sla(path: &str, raw: &RawSla, ladders: &BTreeMap<String, Vec<Step>>, p: &mut Problems) -> Option<SlaRule> {
    let basis = match raw.clock.as_deref() {
        None | Some("business") => Basis::Business,
        Some("calendar") => Basis::Calendar,
        Some(other) => {
            p.add(
                format!("{path}.clock"),
                format!("{other:?} must be \"business\" or \"calendar\""),
            );
            Basis::Business
        }
    };
    let target = match (&raw.within, &raw.by) {
        (Some(w), None) => match parse_duration(w) {
            Ok(duration) => Some(Target::Within { duration, basis }),
            Err(e) => {
                p.add(format!("{path}.within"), e);
                None
            }
        },
        (None, Some(b)) if b == "end_of_business_day" => {
            if basis == Basis::Calendar {
                p.add(format!("{path}.by"), "end_of_business_day needs clock = \"business\"");
            }
            Some(Target::EndOfBusinessDay)
        }
        (None, Some(b)) => {
            p.add(format!("{path}.by"), format!("{b:?} must be \"end_of_business_day\""));
            None
        }
        (Some(_), Some(_)) => {
            p.add(path, "give `within` or `by`, not both");
            None
        }
        (None, None) => {
            p.add(path, "needs `within = \"5m\"` or `by = \"end_of_business_day\"`");
            None
        }
    };
    let ladder = match (&raw.ladder, &raw.escalate) {
        (Some(_), Some(_)) => {
            p.add(path, "give `ladder` or `escalate`, not both");
            Vec::new()
        }
        (Some(name), None) => match ladders.get(name) {
            Some(steps) => steps.clone(),
            None => {
                p.add(
                    format!("{path}.ladder"),
                    format!("no ladder named {name:?} in [ladders]"),
                );
                Vec::new()
            }
        },
        (None, Some(steps)) => build_steps(&format!("{path}.escalate"), steps, basis == Basis::Business, p),
        (None, None) => Vec::new(),
    };
    Some(SlaRule {
        target: target?,
        ladder,
    })
}

impl Policy {
    /// Parses and validates a policy; on failure returns every problem found.
    pub fn parse(src: &str) -> Result<Policy, Vec<Problem>> {
        let raw: RawPolicy = toml::from_str(src).map_err(|e| vec![toml_problem(src, e)])?;
        let mut p = Problems { src, list: Vec::new() };

        let calendars = build_calendars(&raw.calendars, &mut p);
        if raw.calendars.is_empty() {
            p.add("calendars", "at least one [calendars.NAME] table is required");
        }
        let known_cal = |name: &str| raw.calendars.contains_key(name);

        let default_calendar = match raw.default_calendar {
            Some(c) => {
                if !known_cal(&c) {
                    p.add("default_calendar", format!("no calendar named {c:?}"));
                }
                c
            }
            None if raw.calendars.len() == 1 => raw.calendars.keys().next().cloned().unwrap_or_default(),
            None => {
                p.add("default_calendar", "required when there is more than one calendar");
                String::new()
            }
        };
        for (region, cal) in &raw.regions {
            if !known_cal(cal) {
                p.add(format!("regions.{region}"), format!("no calendar named {cal:?}"));
            }
        }
        let reporting_timezone = match raw.reporting_timezone.as_deref() {
            None => calendars.get(&default_calendar).map(|c| c.tz).unwrap_or(Tz::UTC),
            Some(s) => s.parse().unwrap_or_else(|_| {
                p.add("reporting_timezone", format!("{s:?} is not an IANA time zone"));
                Tz::UTC
            }),
        };
        let recycle_limit = match raw.recycle_limit {
            None => 2,
            Some(n) if (0..=100).contains(&n) => n as u32,
            Some(n) => {
                p.add("recycle_limit", format!("{n} must be between 0 and 100"));
                2
            }
        };

        let default_touches = TouchRule {
            channels: ["call", "email", "meeting", "sms", "chat", "linkedin", "video"]
                .map(String::from)
                .to_vec(),
            excluded_outcomes: ["voicemail", "no_answer", "bounced", "wrong_number"]
                .map(String::from)
                .to_vec(),
        };
        let touches = build_touches("touches", raw.touches.as_ref(), &default_touches, &mut p);

        let ladders: BTreeMap<String, Vec<Step>> = raw
            .ladders
            .iter()
            .map(|(n, l)| {
                (
                    n.clone(),
                    build_steps(&format!("ladders.{n}.steps"), &l.steps, true, &mut p),
                )
            })
            .collect();

        let assignment = match &raw.assignment {
            Some(a) => {
                if a.touches.is_some() {
                    p.add(
                        "assignment.touches",
                        "touch rules belong to lead types, not the assignment SLA",
                    );
                }
                build_sla("assignment", a, &ladders, &mut p)
            }
            None => {
                p.add(
                    "assignment",
                    "an [assignment] SLA (engagement to assignment, owned by ops) is required",
                );
                None
            }
        };

        let mut lead_types = BTreeMap::new();
        if raw.lead_types.is_empty() {
            p.add("lead_types", "at least one [lead_types.NAME] table is required");
        }
        for (name, lt) in &raw.lead_types {
            let path = format!("lead_types.{name}");
            if crate::event::LeadId::parse(name).is_err() {
                p.add(
                    &path,
                    "lead type names may hold only printable ASCII without spaces or '/'",
                );
            }
            let touches = build_touches(&format!("{path}.touches"), lt.touches.as_ref(), &touches, &mut p);
            if let Some(sla) = build_sla(&path, lt, &ladders, &mut p) {
                let label = lt.label.clone().unwrap_or_else(|| name.clone());
                lead_types.insert(
                    name.clone(),
                    LeadType {
                        name: name.clone(),
                        label,
                        sla,
                        touches,
                    },
                );
            }
        }

        let d = &raw.directory;
        for (team, t) in &d.teams {
            if let Some(c) = &t.calendar {
                if !known_cal(c) {
                    p.add(
                        format!("directory.teams.{team}.calendar"),
                        format!("no calendar named {c:?}"),
                    );
                }
            }
        }
        for (who, person) in &d.people {
            if let Some(t) = &person.team {
                if !d.teams.contains_key(t) {
                    p.add(
                        format!("directory.people.{who}.team"),
                        format!("no team named {t:?} in [directory.teams]"),
                    );
                }
            }
        }
        let directory = Directory {
            people: d
                .people
                .iter()
                .map(|(k, v)| {
                    let person = Person {
                        name: v.name.clone(),
                        team: v.team.clone(),
                        manager: v.manager.clone(),
                        slack: v.slack.clone(),
                        email: v.email.clone(),
                    };
                    (k.clone(), person)
                })
                .collect(),
            teams: d
                .teams
                .iter()
                .map(|(k, v)| {
                    let team = Team {
                        calendar: v.calendar.clone(),
                        manager: v.manager.clone(),
                        exec: v.exec.clone(),
                    };
                    (k.clone(), team)
                })
                .collect(),
            ops: d.ops.clone(),
            exec: d.exec.clone(),
            manager: d.manager.clone(),
        };
        let uses = |role: Role| {
            assignment
                .iter()
                .chain(lead_types.values().map(|l: &LeadType| &l.sla))
                .any(|s| s.ladder.iter().any(|st| st.notify.contains(&role)))
        };
        if uses(Role::Ops) && directory.ops.is_empty() {
            p.add("directory.ops", "a ladder notifies ops, so list who ops is");
        }
        if uses(Role::Exec) && directory.exec.is_empty() && directory.teams.values().all(|t| t.exec.is_none()) {
            p.add("directory.exec", "a ladder notifies exec, so list who exec is");
        }

        if !p.list.is_empty() {
            return Err(p.list);
        }
        Ok(Policy {
            calendars,
            default_calendar,
            regions: raw.regions,
            reporting_timezone,
            recycle_limit,
            assignment: assignment.expect("checked above"),
            lead_types,
            directory,
        })
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
