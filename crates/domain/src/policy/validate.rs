//! Raw policy → [`Policy`], collecting every problem instead of stopping at the first.

use super::problems::{parse_toml, Problems};
use super::raw::{RawPolicy, RawSla, Span, TopKeys};
use super::{calendars, classify, delivery, directory, ladders};
use super::{LeadType, Policy, Problem, SlaRule, TouchRule, DEFAULT_OPEN_FOR};
use crate::calendar::Calendar;
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// Recycles allowed when the policy does not say.
const DEFAULT_RECYCLE_LIMIT: u32 = 2;
const MAX_RECYCLE_LIMIT: u32 = 100;

/// Reads `src` and builds the policy, or returns every problem found.
pub(super) fn policy(src: &str) -> Result<Policy, Vec<Problem>> {
    let raw: RawPolicy = parse_toml(src)?;
    let keys = TopKeys::read(src);
    let mut p = Problems::new(src);
    let calendars = calendars::calendars(&raw.calendars, &mut p);
    if raw.calendars.is_empty() {
        p.add("calendars", None, "at least one [calendars.NAME] table is required");
    }
    let default_calendar = default_calendar(&raw, &mut p);
    check_regions(&raw, &mut p);
    let reporting_timezone = reporting_zone(&raw, &calendars, &default_calendar, &mut p);
    let recycle_limit = recycle_limit(&raw, &mut p);
    let touches = ladders::touches(
        "touches",
        raw.touches.as_ref(),
        &default_touches(),
        keys.span("touches"),
        &mut p,
    );
    let ladders = ladders::ladders(&raw.ladders, &mut p);
    let assignment = assignment(raw.assignment.as_ref(), keys.span("assignment"), &ladders, &mut p);
    let open_for = delivery::days_or_off("open_for", raw.open_for.as_ref(), &mut p).unwrap_or(Some(DEFAULT_OPEN_FOR));
    let lead_types = lead_types(&raw, &touches, &ladders, open_for, &mut p);
    let directory = directory::directory(&raw.directory, &raw.calendars, &mut p);
    let slas = assignment.iter().chain(lead_types.values().map(|l| &l.sla));
    directory::role_coverage(slas, &raw.directory, keys.span("directory"), &directory, &mut p);
    let delivery = delivery::delivery(&raw.delivery, &mut p);
    let privacy = delivery::privacy(&raw.privacy, &mut p);
    let reports = delivery::reports(&raw.reports, &mut p);
    let crm = delivery::crm(&raw.crm, &mut p);
    let classify = classify::rules(&raw.classify, &raw.lead_types, &mut p);
    let regions = raw
        .regions
        .into_iter()
        .map(|(region, cal)| (region.into_inner(), cal.into_inner()))
        .collect();
    p.finish(assignment.map(|assignment| Policy {
        calendars,
        default_calendar,
        regions,
        reporting_timezone,
        recycle_limit,
        assignment,
        lead_types,
        directory,
        delivery,
        privacy,
        reports,
        crm,
        open_for,
        classify,
    }))
}

/// The calendar named by `default_calendar`, or the only one there is.
fn default_calendar(raw: &RawPolicy, p: &mut Problems) -> String {
    match &raw.default_calendar {
        Some(c) => {
            if !raw.calendars.contains_key(c.get_ref().as_str()) {
                p.add(
                    "default_calendar",
                    c.span(),
                    format!("no calendar named {:?}", c.get_ref()),
                );
            }
            c.get_ref().clone()
        }
        None if raw.calendars.len() == 1 => raw
            .calendars
            .keys()
            .next()
            .map(|k| k.get_ref().clone())
            .unwrap_or_default(),
        None => {
            p.add(
                "default_calendar",
                None,
                "required when there is more than one calendar",
            );
            String::new()
        }
    }
}

/// Every `[regions]` entry must name a calendar.
fn check_regions(raw: &RawPolicy, p: &mut Problems) {
    for (region, cal) in &raw.regions {
        if !raw.calendars.contains_key(cal.get_ref().as_str()) {
            p.add(
                format!("regions.{}", region.get_ref()),
                cal.span(),
                format!("no calendar named {:?}", cal.get_ref()),
            );
        }
    }
}

/// The zone reports bucket days in: as given, else the default calendar's, else UTC.
fn reporting_zone(raw: &RawPolicy, calendars: &BTreeMap<String, Calendar>, default: &str, p: &mut Problems) -> Tz {
    match &raw.reporting_timezone {
        None => calendars.get(default).map_or(Tz::UTC, |c| c.tz),
        Some(tz) => calendars::time_zone(tz, "reporting_timezone", p).unwrap_or(Tz::UTC),
    }
}

fn recycle_limit(raw: &RawPolicy, p: &mut Problems) -> u32 {
    let Some(n) = &raw.recycle_limit else {
        return DEFAULT_RECYCLE_LIMIT;
    };
    match u32::try_from(*n.get_ref()) {
        Ok(limit) if limit <= MAX_RECYCLE_LIMIT => limit,
        _ => {
            let message = format!("{} must be between 0 and {MAX_RECYCLE_LIMIT}", n.get_ref());
            p.add("recycle_limit", n.span(), message);
            DEFAULT_RECYCLE_LIMIT
        }
    }
}

/// The touches that count when `[touches]` does not say: any real conversation.
fn default_touches() -> TouchRule {
    TouchRule {
        channels: ["call", "email", "meeting", "sms", "chat", "linkedin", "video"]
            .map(String::from)
            .to_vec(),
        excluded_outcomes: ["voicemail", "no_answer", "bounced", "wrong_number"]
            .map(String::from)
            .to_vec(),
    }
}

/// The systems SLA from engagement to assignment, written `at`; every policy has one.
fn assignment(
    raw: Option<&RawSla>,
    at: Option<Span>,
    ladders: &BTreeMap<String, ladders::Ladder>,
    p: &mut Problems,
) -> Option<SlaRule> {
    let Some(a) = raw else {
        p.add(
            "assignment",
            None,
            "an [assignment] SLA (engagement to assignment, owned by ops) is required",
        );
        return None;
    };
    if let Some(t) = &a.touches {
        p.add(
            "assignment.touches",
            t.span().or(at.clone()),
            "touch rules belong to lead types, not the assignment SLA",
        );
    }
    if let Some(t) = &a.open_for {
        p.add(
            "assignment.open_for",
            Some(t.span()),
            "open_for belongs at the top level or to lead types, not the assignment SLA",
        );
    }
    ladders::sla("assignment", a, at, ladders, p)
}

/// The lead types that validate, each with its SLA and its touch rules (inheriting `touches`).
fn lead_types(
    raw: &RawPolicy,
    touches: &TouchRule,
    ladders: &BTreeMap<String, ladders::Ladder>,
    open_for: Option<chrono::Duration>,
    p: &mut Problems,
) -> BTreeMap<String, LeadType> {
    if raw.lead_types.is_empty() {
        p.add("lead_types", None, "at least one [lead_types.NAME] table is required");
    }
    let mut out = BTreeMap::new();
    for (name, lt) in &raw.lead_types {
        let (at, name) = (Some(name.span()), name.get_ref());
        let path = format!("lead_types.{name}");
        if [crate::event::EXCLUDED_TYPE, crate::event::UNCLASSIFIED_TYPE].contains(&name.as_str()) {
            p.add(
                &path,
                at.clone(),
                format!("{name:?} is reserved for leads the classification rules exclude or cannot type"),
            );
        }
        if crate::event::LeadId::parse(name).is_err() {
            let message = "lead type names may hold only printable ASCII without spaces or '/'";
            p.add(&path, at.clone(), message);
        }
        let touches = ladders::touches(&format!("{path}.touches"), lt.touches.as_ref(), touches, at.clone(), p);
        let Some(sla) = ladders::sla(&path, lt, at, ladders, p) else {
            continue;
        };
        let label = lt.label.clone().unwrap_or_else(|| name.clone());
        let mode = super::delivery::mode(&format!("{path}.mode"), lt.mode.as_ref(), p);
        let own_horizon = delivery::days_or_off(&format!("{path}.open_for"), lt.open_for.as_ref(), p);
        let lead_type = LeadType {
            name: name.clone(),
            label,
            sla,
            touches,
            mode,
            open_for: own_horizon.unwrap_or(open_for),
        };
        out.insert(name.clone(), lead_type);
    }
    out
}
