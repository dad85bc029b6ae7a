//! The report for a period: the overall section, its breakdown, and what is not sliced.

use super::bands::MQL_TO_SQL;
use super::dimension::Dimension;
use super::flags::flags;
use super::judging::{may_reach_sql, Judging};
use super::open::{open_slas, OpenSla};
use super::reps::{rep_scores, RepScore};
use super::rows::{count, rows, Row};
use super::section::{section, Context, Section};
use super::stats::Rate;
use super::{in_period, previous_period};
use crate::clock::ClockStatus;
use crate::event::Classified;
use crate::lead::Lead;
use crate::policy::Judge;
use crate::scope::Scope;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub overall: Section,
    pub by: Option<Dimension>,
    pub groups: BTreeMap<String, Section>,
    pub conversion_by_source: BTreeMap<String, Rate>,
    pub reps: Vec<RepScore>,
    /// The [`OPEN_LISTED`](super::open::OPEN_LISTED) open SLAs with the soonest deadlines.
    pub open_slas: Vec<OpenSla>,
    /// Every clock running now, listed or not.
    pub open_total: u64,
    /// Of those, the ones already past their deadline.
    pub open_breached: u64,
    /// Leads the policy's classification rules kept out of every SLA, engaged in the period.
    pub excluded: Excluded,
    /// MQLs engaged in the period that named no lead type and matched no rule: clocked for
    /// assignment only, listed so the rules can be fixed.
    pub unclassified: u64,
    /// Plain-language warnings from the benchmark bands.
    pub flags: Vec<String>,
    /// Not a metric: outbox messages the dispatcher gave up on, when the host counted any.
    /// Filled by the host after [`report`] (which never sets it), so the metrics above stay a
    /// function of the events alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letters: Option<u64>,
    /// Which policy version judged the MQLs engaged in the period, oldest version first.
    pub policy_versions: Vec<VersionUse>,
}

/// How many of the period's MQLs one policy version judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionUse {
    pub version: u32,
    /// When the version took effect; `None` for a version in force since the beginning.
    pub effective_from: Option<DateTime<Utc>>,
    pub mqls: u64,
}

fn version_uses(rows: &[Row], judge: &dyn Judge, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<VersionUse> {
    let mut by_version: BTreeMap<u32, u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| in_period(r.cycle.engaged_at, from, to)) {
        *by_version.entry(r.version).or_default() += 1;
    }
    by_version
        .into_iter()
        .map(|(version, mqls)| VersionUse {
            version,
            effective_from: judge.effective_from(version),
            mqls,
        })
        .collect()
}

/// Excluded leads, in all and per rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Excluded {
    pub total: u64,
    pub by_rule: BTreeMap<String, u64>,
}

fn excluded(leads: &[Lead], from: DateTime<Utc>, to: DateTime<Utc>) -> Excluded {
    let mut out = Excluded::default();
    let cycles = leads
        .iter()
        .flat_map(|l| l.cycles.iter())
        .filter(|c| in_period(c.engaged_at, from, to));
    for (rule, _) in cycles.filter_map(|c| c.excluded()) {
        out.total += 1;
        *out.by_rule.entry(rule.to_owned()).or_default() += 1;
    }
    out
}

/// The period being reported and how to count it.
struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    judging: Judging,
}

impl Period {
    /// The section of `rows`, with their MQLs of the previous period of equal length.
    fn section(&self, rows: &[&Row], held: u64) -> Section {
        let (prev_from, prev_to) = previous_period(self.from, self.to);
        let previous_mqls = rows
            .iter()
            .filter(|r| in_period(r.cycle.engaged_at, prev_from, prev_to))
            .count() as u64;
        let ctx = Context {
            previous_mqls,
            held,
            judging: &self.judging,
        };
        section(rows, ctx, self.from, self.to)
    }

    /// One section per value of `dim`, leaving out groups with nothing in either period.
    fn groups(&self, rows: &[Row], dim: Dimension) -> BTreeMap<String, Section> {
        let mut split: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
        for r in rows {
            split.entry(r.dimension(dim)).or_default().push(r);
        }
        split
            .into_iter()
            .map(|(k, rs)| (k, self.section(&rs, 0)))
            .filter(|(_, s)| s.volume.mqls + s.sla.overall.assigned + s.volume.previous_period_mqls > 0)
            .collect()
    }

    /// MQL → SQL of the period's MQL cohort per source.
    fn conversion_by_source(&self, rows: &[Row]) -> BTreeMap<String, Rate> {
        let mut by_source: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        for r in rows
            .iter()
            .filter(|r| in_period(r.cycle.engaged_at, self.from, self.to))
        {
            let e = by_source.entry(r.dimension(Dimension::Source)).or_default();
            e.1 += 1;
            e.0 += u64::from(r.cycle.sql_at.is_some());
            e.2 += u64::from(may_reach_sql(r.cycle));
        }
        by_source
            .into_iter()
            .map(|(k, (n, d, open))| {
                // As in a section: in progress first, then the sample size.
                let rate = self.judging.conversion(Rate::new(n, d).banded(&MQL_TO_SQL), open);
                (k, self.judging.alone(rate))
            })
            .collect()
    }
}

/// The report for `[from, to)` over `leads` (any leads; those outside the period count only
/// where a cohort rule says so), broken down `by` a dimension when given.
///
/// Each lead is judged by the policy `judge` gives it: a [`crate::Policy`] judges all alike, a
/// [`crate::policy::Versions`] by the version in force at each cycle's engagement.
pub fn report(
    leads: &[Lead],
    judge: &dyn Judge,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: Option<Dimension>,
    now: DateTime<Utc>,
) -> Report {
    let period = Period {
        from,
        to,
        judging: Judging::new(&judge.current().reports, to, now),
    };
    let rows = rows(leads, judge, now);
    // Re-engagements over the recycle limit: suppressed cycles, so not in `rows`.
    let held = leads
        .iter()
        .flat_map(|l| l.cycles.iter())
        .filter(|c| c.suppressed && in_period(c.engaged_at, from, to))
        .count() as u64;
    let all: Vec<&Row> = rows.iter().collect();
    let overall = period.section(&all, held);
    let open = open_slas(leads, judge, now);
    Report {
        from,
        to,
        generated_at: now,
        flags: flags(&overall),
        dead_letters: None,
        overall,
        by,
        groups: by.map(|dim| period.groups(&rows, dim)).unwrap_or_default(),
        conversion_by_source: period.conversion_by_source(&rows),
        reps: rep_scores(&rows, from, to),
        open_total: open.len() as u64,
        open_breached: open.iter().filter(|o| o.status == ClockStatus::Breached).count() as u64,
        open_slas: open.into_iter().take(super::open::OPEN_LISTED).collect(),
        policy_versions: version_uses(&rows, judge, from, to),
        excluded: excluded(leads, from, to),
        unclassified: count(&all, |r| {
            in_period(r.cycle.engaged_at, from, to) && r.cycle.classified == Some(Classified::Unclassified)
        }),
    }
}

/// The report a reader with `scope` sees over `leads` (the leads that scope sees): as
/// [`report`], with the parts that name people cut to the scope's own. A lead handed from a
/// manager's team to another stays in the team's figures (its team worked it), but its new
/// owner's open clock, rep score and owner row are not the manager's to see; nor are leads
/// nobody owns yet, which only an unscoped reader sees.
pub fn report_for(
    leads: &[Lead],
    judge: &dyn Judge,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: Option<Dimension>,
    now: DateTime<Utc>,
    scope: &Scope,
) -> Report {
    let mut report = report(leads, judge, from, to, by, now);
    if *scope == Scope::All {
        return report;
    }
    let directory = &judge.current().directory;
    let covered = leads
        .iter()
        .flat_map(|l| l.cycles.iter())
        .flat_map(|c| &c.stints)
        .filter(|s| scope.covers(s, directory));
    let (owners, teams): (BTreeSet<&str>, BTreeSet<&str>) = covered
        .map(|s| (s.owner.as_str(), Scope::team_of(s, directory).unwrap_or("(none)")))
        .unzip();
    report.reps.retain(|r| owners.contains(r.owner.as_str()));
    match by {
        Some(Dimension::Owner) => report.groups.retain(|k, _| owners.contains(k.as_str())),
        Some(Dimension::Team) => report.groups.retain(|k, _| teams.contains(k.as_str())),
        _ => {}
    }
    let held_now = leads.iter().filter(|l| {
        l.current_cycle()
            .and_then(|c| c.current_stint())
            .is_some_and(|s| scope.covers(s, directory))
    });
    let open = open_slas(held_now, judge, now);
    report.open_total = open.len() as u64;
    report.open_breached = open.iter().filter(|o| o.status == ClockStatus::Breached).count() as u64;
    report.open_slas = open.into_iter().take(super::open::OPEN_LISTED).collect();
    report
}
