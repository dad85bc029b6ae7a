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
use serde::{Deserialize, Serialize};
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

/// Read back from kept facts, where counts of zero are left out (a manual impl, so the API's
/// schema keeps every field required).
impl<'de> Deserialize<'de> for Excluded {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Kept {
            total: u64,
            by_rule: BTreeMap<String, u64>,
        }
        let k = Kept::deserialize(d)?;
        Ok(Excluded {
            total: k.total,
            by_rule: k.by_rule,
        })
    }
}

/// Every figure of a report but its open list, being added up from rows: counts and the
/// delays the distributions are made of, so any split of the rows merges back. Serializable:
/// what a lead adds to a day is kept in this shape ([`super::aggregate`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct Counts {
    pub(super) overall: SectionTally,
    /// Per dimension broken down by, per value.
    pub(super) groups: BTreeMap<Dimension, BTreeMap<String, SectionTally>>,
    /// Re-engagements over the recycle limit, engaged in the period (suppressed cycles).
    held: u64,
    /// Per source, the MQLs engaged in the period.
    by_source: BTreeMap<String, SourceTally>,
    reps: RepTally,
    excluded: Excluded,
    unclassified: u64,
    /// MQLs engaged in the period per policy version that judged them.
    versions: BTreeMap<u32, u64>,
}

/// One source's MQL → SQL conversion being added up.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(default)]
struct SourceTally {
    sql: u64,
    mqls: u64,
    may_reach_sql: u64,
}

impl Counts {
    /// Adds the rows and cycles of `leads` for the periods `p`, broken down by each of `dims`.
    pub(super) fn add(
        &mut self,
        leads: &[Lead],
        judge: &dyn Judge,
        now: DateTime<Utc>,
        p: &Periods,
        dims: &[Dimension],
    ) {
        for r in rows(leads, judge, now) {
            self.add_row(&r, p, dims);
        }
        for c in leads.iter().flat_map(|l| l.cycles.iter()) {
            let engaged = p.engaged(c.engaged_at);
            self.held += u64::from(c.suppressed && engaged);
            if let (true, Some((rule, _))) = (engaged, c.excluded()) {
                self.excluded.total += 1;
                *self.excluded.by_rule.entry(rule.to_owned()).or_default() += 1;
            }
        }
    }

    fn add_row(&mut self, r: &Row, p: &Periods, dims: &[Dimension]) {
        self.overall.add(r, p);
        for &dim in dims {
            let groups = self.groups.entry(dim).or_default();
            groups.entry(r.dimension(dim)).or_default().add(r, p);
        }
        self.reps.add(r, p.from, p.to);
        if p.engaged(r.cycle.engaged_at) {
            let e = self.by_source.entry(r.dimension(Dimension::Source)).or_default();
            e.sql += u64::from(r.cycle.sql_at.is_some());
            e.mqls += 1;
            e.may_reach_sql += u64::from(may_reach_sql(r.cycle));
            *self.versions.entry(r.version).or_default() += 1;
            self.unclassified += u64::from(r.cycle.classified == Some(Classified::Unclassified));
        }
    }

    /// Adds what `o` added up (over other rows, or other days of the same period).
    pub(super) fn merge(&mut self, o: Counts) {
        self.overall.merge(o.overall);
        for (dim, groups) in o.groups {
            let mine = self.groups.entry(dim).or_default();
            for (k, g) in groups {
                mine.entry(k).or_default().merge(g);
            }
        }
        self.held += o.held;
        for (k, t) in o.by_source {
            let e = self.by_source.entry(k).or_default();
            (e.sql, e.mqls, e.may_reach_sql) = (e.sql + t.sql, e.mqls + t.mqls, e.may_reach_sql + t.may_reach_sql);
        }
        self.reps.merge(o.reps);
        self.excluded.total += o.excluded.total;
        for (rule, n) in o.excluded.by_rule {
            *self.excluded.by_rule.entry(rule).or_default() += n;
        }
        self.unclassified += o.unclassified;
        for (v, n) in o.versions {
            *self.versions.entry(v).or_default() += n;
        }
    }

    /// Counts the MQLs of `o`, a period's, as the previous period's of this one (overall and
    /// per group of `dims`): all lead velocity needs of the period before.
    pub(super) fn merge_as_previous(&mut self, o: &Counts, dims: &[Dimension]) {
        self.overall.previous_mqls += o.overall.mqls;
        for dim in dims {
            let mine = self.groups.entry(*dim).or_default();
            for (k, g) in o.groups.get(dim).into_iter().flatten() {
                mine.entry(k.clone()).or_default().previous_mqls += g.mqls;
            }
        }
    }
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
    counts: Counts,
    open: OpenTally,
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
            counts: Counts::default(),
            open: OpenTally::default(),
            covered_owners: BTreeSet::new(),
            covered_teams: BTreeSet::new(),
        }
    }

    /// Adds `leads` (the leads the reader sees; any leads, those outside the period count only
    /// where a cohort rule says so).
    pub fn add(&mut self, leads: &[Lead]) {
        let dims: Vec<Dimension> = self.by.into_iter().collect();
        self.counts.add(leads, self.judge, self.now, &self.periods, &dims);
        if self.scope != Scope::All {
            self.add_covered(leads);
        }
        self.add_open(leads);
    }

    /// The dimensions broken down by.
    /// The breakdowns this report shows.
    pub fn dims(&self) -> Vec<Dimension> {
        self.by.into_iter().collect()
    }

    pub(super) fn counts_mut(&mut self) -> &mut Counts {
        &mut self.counts
    }

    pub(super) fn periods(&self) -> Periods {
        self.periods
    }

    pub(super) fn judge(&self) -> &'a (dyn Judge + Sync) {
        self.judge
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Whose leads this report counts.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub(super) fn is_unscoped(&self) -> bool {
        self.scope == Scope::All
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
        self.counts.merge(other.counts);
        self.open.merge(other.open);
        self.covered_owners.extend(other.covered_owners);
        self.covered_teams.extend(other.covered_teams);
    }

    /// The report.
    pub fn finish(self) -> Report {
        let judging = self.judging;
        let mut counts = self.counts;
        let overall = counts.overall.finish(counts.held, &judging);
        let by_group = self.by.and_then(|d| counts.groups.remove(&d)).unwrap_or_default();
        let mut groups: BTreeMap<String, Section> = by_group
            .into_iter()
            .filter(|(_, g)| !g.is_empty())
            .map(|(k, g)| (k, g.finish(0, &judging)))
            .collect();
        let mut reps = counts.reps.finish();
        if self.scope != Scope::All {
            let (owners, teams) = (&self.covered_owners, &self.covered_teams);
            reps.retain(|r| owners.contains(&r.owner));
            match self.by {
                Some(Dimension::Owner) => groups.retain(|k, _| owners.contains(k)),
                Some(Dimension::Team) => groups.retain(|k, _| teams.contains(k)),
                _ => {}
            }
        }
        let by_source = counts.by_source.into_iter().map(|(k, t)| {
            // As in a section: in progress first, then the sample size.
            let rate = judging.conversion(Rate::new(t.sql, t.mqls).banded(&MQL_TO_SQL), t.may_reach_sql);
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
            policy_versions: counts
                .versions
                .into_iter()
                .map(|(version, mqls)| VersionUse {
                    version,
                    effective_from: judge.effective_from(version),
                    mqls,
                })
                .collect(),
            excluded: counts.excluded,
            unclassified: counts.unclassified,
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
