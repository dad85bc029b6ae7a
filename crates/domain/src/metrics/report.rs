//! The report for a period: the overall section, its breakdown, and what is not sliced.

use super::bands::MQL_TO_SQL;
use super::dimension::Dimension;
use super::flags::flags;
use super::judging::{may_reach_sql, Judging};
use super::open::{open_slas, OpenClock, OpenSla, OpenTally};
use super::reps::{RepScore, RepTally};
use super::rows::{rows, Row};
use super::section::{Periods, Section, SectionTally};
use super::stats::Rate;
use crate::event::Classified;
use crate::lead::Lead;
use crate::policy::Judge;
use crate::scope::Scope;
use crate::LeadId;
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

/// Excluded leads, in all and per rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Excluded {
    pub total: u64,
    pub by_rule: BTreeMap<String, u64>,
}

/// A report being added up, a chunk of leads at a time: any split of the same leads, added in
/// any chunks and merged in any order, gives the same report (a property test says so). A
/// host streams leads through it, holding one chunk at a time, not every lead of the period.
pub struct Tally<'a> {
    /// `Sync`: a host adds chunks up between reads, across awaits of a multi-threaded runtime.
    judge: &'a (dyn Judge + Sync),
    periods: Periods,
    judging: Judging,
    by: Option<Dimension>,
    now: DateTime<Utc>,
    scope: Scope,
    overall: SectionTally,
    groups: BTreeMap<String, SectionTally>,
    /// Re-engagements over the recycle limit, engaged in the period (suppressed cycles).
    held: u64,
    /// Per source: SQLs, MQLs, MQLs that may still reach SQL.
    by_source: BTreeMap<String, (u64, u64, u64)>,
    reps: RepTally,
    open: OpenTally,
    excluded: Excluded,
    unclassified: u64,
    versions: BTreeMap<u32, u64>,
    /// Owners and teams of the stints `scope` covers (unused when it covers all).
    covered_owners: BTreeSet<String>,
    covered_teams: BTreeSet<String>,
}

impl<'a> Tally<'a> {
    /// The report for `[from, to)` as a reader with `scope` sees it, broken down `by` a
    /// dimension when given; each lead judged by the policy `judge` gives it.
    pub fn new(
        judge: &'a (dyn Judge + Sync),
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        by: Option<Dimension>,
        now: DateTime<Utc>,
        scope: Scope,
    ) -> Tally<'a> {
        Tally {
            judge,
            periods: Periods::new(from, to),
            judging: Judging::new(&judge.current().reports, to, now),
            by,
            now,
            scope,
            overall: SectionTally::default(),
            groups: BTreeMap::new(),
            held: 0,
            by_source: BTreeMap::new(),
            reps: RepTally::default(),
            open: OpenTally::default(),
            excluded: Excluded::default(),
            unclassified: 0,
            versions: BTreeMap::new(),
            covered_owners: BTreeSet::new(),
            covered_teams: BTreeSet::new(),
        }
    }

    /// Adds `leads` (the leads the reader sees; any leads, those outside the period count only
    /// where a cohort rule says so).
    pub fn add(&mut self, leads: &[Lead]) {
        let p = self.periods;
        for r in rows(leads, self.judge, self.now) {
            self.add_row(&r);
        }
        for c in leads.iter().flat_map(|l| l.cycles.iter()) {
            let engaged = p.engaged(c.engaged_at);
            self.held += u64::from(c.suppressed && engaged);
            if let (true, Some((rule, _))) = (engaged, c.excluded()) {
                self.excluded.total += 1;
                *self.excluded.by_rule.entry(rule.to_owned()).or_default() += 1;
            }
        }
        if self.scope != Scope::All {
            self.add_covered(leads);
        }
        self.add_open(leads);
    }

    fn add_row(&mut self, r: &Row) {
        let p = self.periods;
        self.overall.add(r, &p);
        if let Some(dim) = self.by {
            self.groups.entry(r.dimension(dim)).or_default().add(r, &p);
        }
        self.reps.add(r, p.from, p.to);
        if p.engaged(r.cycle.engaged_at) {
            let e = self.by_source.entry(r.dimension(Dimension::Source)).or_default();
            e.0 += u64::from(r.cycle.sql_at.is_some());
            e.1 += 1;
            e.2 += u64::from(may_reach_sql(r.cycle));
            *self.versions.entry(r.version).or_default() += 1;
            self.unclassified += u64::from(r.cycle.classified == Some(Classified::Unclassified));
        }
    }

    /// A lead handed from a manager's team to another stays in the team's figures (its team
    /// worked it), but its new owner's row, rep score and open clock are not the manager's.
    fn add_covered(&mut self, leads: &[Lead]) {
        let directory = &self.judge.current().directory;
        let stints = leads.iter().flat_map(|l| l.cycles.iter()).flat_map(|c| &c.stints);
        for s in stints.filter(|s| self.scope.covers(s, directory)) {
            self.covered_owners.insert(s.owner.clone());
            self.covered_teams
                .insert(Scope::team_of(s, directory).unwrap_or("(none)").to_owned());
        }
    }

    /// The clocks running now: every one for an unscoped reader; for a scoped one, those of
    /// leads held now by someone the scope covers (nobody's leads only an unscoped reader sees).
    fn add_open(&mut self, leads: &[Lead]) {
        let directory = &self.judge.current().directory;
        let held_now = leads.iter().filter(|l| {
            self.scope == Scope::All
                || l.current_cycle()
                    .and_then(|c| c.current_stint())
                    .is_some_and(|s| self.scope.covers(s, directory))
        });
        self.open.add(open_slas(held_now, self.judge, self.now));
    }

    /// Adds the open clocks of a lead with no event in the period's span (this one and the one
    /// before): all a report counts of such a lead, so a host need not read it. Unscoped
    /// reports only: a scoped reader's list depends on who held the lead before.
    pub fn add_open_clocks(&mut self, lead_id: &LeadId, clocks: &[OpenClock]) {
        debug_assert!(self.scope == Scope::All, "a scoped report reads its leads");
        self.open
            .add(clocks.iter().filter_map(|c| c.at(lead_id, self.now)).collect());
    }

    /// Adds what `other` added up (the same report's, over other leads).
    pub fn merge(&mut self, other: Tally) {
        self.overall.merge(other.overall);
        for (k, g) in other.groups {
            self.groups.entry(k).or_default().merge(g);
        }
        self.held += other.held;
        for (k, (sql, mqls, open)) in other.by_source {
            let e = self.by_source.entry(k).or_default();
            (e.0, e.1, e.2) = (e.0 + sql, e.1 + mqls, e.2 + open);
        }
        self.reps.merge(other.reps);
        self.open.merge(other.open);
        self.excluded.total += other.excluded.total;
        for (rule, n) in other.excluded.by_rule {
            *self.excluded.by_rule.entry(rule).or_default() += n;
        }
        self.unclassified += other.unclassified;
        for (v, n) in other.versions {
            *self.versions.entry(v).or_default() += n;
        }
        self.covered_owners.extend(other.covered_owners);
        self.covered_teams.extend(other.covered_teams);
    }

    /// The report.
    pub fn finish(self) -> Report {
        let judging = self.judging;
        let overall = self.overall.finish(self.held, &judging);
        let mut groups: BTreeMap<String, Section> = self
            .groups
            .into_iter()
            .filter(|(_, g)| !g.is_empty())
            .map(|(k, g)| (k, g.finish(0, &judging)))
            .collect();
        let mut reps = self.reps.finish();
        if self.scope != Scope::All {
            let (owners, teams) = (&self.covered_owners, &self.covered_teams);
            reps.retain(|r| owners.contains(&r.owner));
            match self.by {
                Some(Dimension::Owner) => groups.retain(|k, _| owners.contains(k)),
                Some(Dimension::Team) => groups.retain(|k, _| teams.contains(k)),
                _ => {}
            }
        }
        let by_source = self.by_source.into_iter().map(|(k, (sql, mqls, open))| {
            // As in a section: in progress first, then the sample size.
            let rate = judging.conversion(Rate::new(sql, mqls).banded(&MQL_TO_SQL), open);
            (k, judging.alone(rate))
        });
        let judge = self.judge;
        Report {
            from: self.periods.from,
            to: self.periods.to,
            generated_at: self.now,
            flags: flags(&overall),
            dead_letters: None,
            overall,
            by: self.by,
            groups,
            conversion_by_source: by_source.collect(),
            reps,
            open_total: self.open.total,
            open_breached: self.open.breached,
            open_slas: self.open.listed(),
            policy_versions: self
                .versions
                .into_iter()
                .map(|(version, mqls)| VersionUse {
                    version,
                    effective_from: judge.effective_from(version),
                    mqls,
                })
                .collect(),
            excluded: self.excluded,
            unclassified: self.unclassified,
        }
    }
}

/// The report for `[from, to)` over `leads` (any leads; those outside the period count only
/// where a cohort rule says so), broken down `by` a dimension when given.
///
/// Each lead is judged by the policy `judge` gives it: a [`crate::Policy`] judges all alike, a
/// [`crate::policy::Versions`] by the version in force at each cycle's engagement.
pub fn report(
    leads: &[Lead],
    judge: &(dyn Judge + Sync),
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: Option<Dimension>,
    now: DateTime<Utc>,
) -> Report {
    report_for(leads, judge, from, to, by, now, &Scope::All)
}

/// The report a reader with `scope` sees over `leads` (the leads that scope sees): as
/// [`report`], with the parts that name people cut to the scope's own (see [`Tally`]).
pub fn report_for(
    leads: &[Lead],
    judge: &(dyn Judge + Sync),
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: Option<Dimension>,
    now: DateTime<Utc>,
    scope: &Scope,
) -> Report {
    let mut tally = Tally::new(judge, from, to, by, now, scope.clone());
    tally.add(leads);
    tally.finish()
}
