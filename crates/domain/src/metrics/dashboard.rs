//! What the dashboard shows beyond a report: the queue of running clocks by business time to
//! breach, and MQL → SQL conversion by how fast the lead was answered. Pure, like every
//! metric: a function of the folded leads and `now`.

use super::bands::MQL_TO_SQL;
use super::judging::{may_reach_sql, Judging};
use super::rows::{count, rows, Row};
use super::stats::Rate;
use crate::clock::{self, ClockStatus, ClockView};
use crate::lead::Lead;
use crate::policy::Judge;
use crate::ClockKind;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One running clock on the "Now" page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queued {
    pub lead_id: String,
    pub lead_type: String,
    pub clock: ClockKind,
    pub owner: Option<String>,
    pub team: Option<String>,
    /// The calendar the clock counts on.
    pub calendar: String,
    pub deadline: Option<DateTime<Utc>>,
    /// Open business seconds from now to the deadline; negative once breached (the business
    /// time since). `None` when the calendar never opens.
    pub business_seconds_left: Option<i64>,
    pub status: ClockStatus,
    /// Under a quarter of the clock's business budget is left.
    pub at_risk: bool,
    /// The next escalation step not yet due: its name and instant.
    pub next_step: Option<(String, DateTime<Utc>)>,
}

/// Every running clock of `leads`' current cycles, soonest breach (in business time) first;
/// breached clocks lead, longest breached first.
pub fn queue(leads: &[Lead], judge: &dyn Judge, now: DateTime<Utc>) -> Vec<Queued> {
    let mut out: Vec<Queued> = leads
        .iter()
        .filter_map(|l| l.current_cycle().map(|c| (l, c)))
        .flat_map(|(l, c)| {
            let policy = judge.judge(c).0;
            clock::cycle_clocks(c, policy, now)
                .into_iter()
                .filter(ClockView::is_running)
                .map(move |v| queued(l, c, policy, v, now))
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |q: &Queued| (q.business_seconds_left.is_none(), q.business_seconds_left, q.deadline);
        key(a).cmp(&key(b)).then_with(|| a.lead_id.cmp(&b.lead_id))
    });
    out
}

fn queued(lead: &Lead, c: &crate::lead::Cycle, policy: &crate::Policy, v: ClockView, now: DateTime<Utc>) -> Queued {
    let cal = policy.calendar(&v.calendar);
    let left = v.deadline.map(|d| {
        if d >= now {
            cal.elapsed(now, d).num_seconds()
        } else {
            -cal.elapsed(d, now).num_seconds()
        }
    });
    let budget = v.deadline.map(|d| cal.elapsed(v.started_at, d).num_seconds());
    let at_risk = matches!((left, budget), (Some(l), Some(b)) if l >= 0 && l * 4 < b);
    let stint = c.current_stint();
    Queued {
        lead_id: lead.lead_id.to_string(),
        lead_type: c.lead_type.clone(),
        clock: v.clock,
        owner: stint.map(|s| s.owner.clone()),
        team: stint.and_then(|s| {
            s.team
                .clone()
                .or_else(|| policy.directory.people.get(&s.owner).and_then(|p| p.team.clone()))
        }),
        calendar: v.calendar.clone(),
        deadline: v.deadline,
        business_seconds_left: left,
        status: v.status,
        at_risk,
        next_step: v
            .steps
            .iter()
            .find(|s| s.due_at > now)
            .map(|s| (s.name.clone(), s.due_at)),
    }
}

/// One response-time bucket of the speed-vs-conversion chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeedBucket {
    pub label: &'static str,
    /// Cycles of the period's MQL cohort answered in this bucket (business time, engagement
    /// to first qualifying touch).
    pub mqls: u64,
    /// MQL → SQL of those cycles; in progress while the cohort is younger than the sales cycle.
    pub mql_to_sql: Rate,
}

/// Upper bounds (business seconds, inclusive) of the buckets; the methodology's 5- and
/// 30-minute marks first. The last bucket is "not answered".
const BUCKETS: [(&str, Option<i64>); 6] = [
    ("under 5 min", Some(300)),
    ("5-30 min", Some(1800)),
    ("30-60 min", Some(3600)),
    ("1-24 h", Some(86_400)),
    ("over 24 h", None),
    ("not answered", None),
];

/// MQL → SQL by response bucket for the cycles engaged in `[from, to)`: the methodology's
/// "leads contacted within 5 minutes are 21x more likely to convert", measured on the team's
/// own leads.
pub fn speed_vs_conversion(
    leads: &[Lead],
    judge: &dyn Judge,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<SpeedBucket> {
    let all = rows(leads, judge, now);
    let cohort: Vec<&Row> = all
        .iter()
        .filter(|r| super::in_period(r.cycle.engaged_at, from, to))
        .collect();
    let judging = Judging::new(&judge.current().reports, to, now);
    BUCKETS
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            let rows: Vec<&Row> = cohort.iter().copied().filter(|r| bucket_of(r) == i).collect();
            let mqls = rows.len() as u64;
            let sql = count(&rows, |r| r.cycle.sql_at.is_some());
            let open = count(&rows, |r| may_reach_sql(r.cycle));
            let mut rate = judging.conversion(Rate::new(sql, mqls).banded(&MQL_TO_SQL), open);
            judging.rate(&mut rate);
            SpeedBucket {
                label,
                mqls,
                mql_to_sql: rate,
            }
        })
        .collect()
}

/// The bucket a cycle's speed to lead falls in.
fn bucket_of(r: &Row) -> usize {
    let Some(s) = r.delays.speed_to_lead else {
        return BUCKETS.len() - 1;
    };
    BUCKETS
        .iter()
        .position(|(_, bound)| bound.is_some_and(|b| s.business_seconds <= b))
        .unwrap_or(BUCKETS.len() - 2)
}
