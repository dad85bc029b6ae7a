//! Rep response scores: the methodology's rubric over each owner's own assignments.

use super::in_period;
use super::rows::Row;
use crate::clock::{self, ClockStatus};
use crate::lead::Stint;
use crate::ClockKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepScore {
    pub owner: String,
    pub leads: u64,
    pub points: u64,
    /// points / (leads × 10) × 100.
    pub score: Option<f64>,
    /// Assignments still inside their window, not scored yet.
    pub pending: u64,
    /// Leads per rubric row: under 5m, 5–15m, 15–60m, 1–4h, 4–8h, 8h+/next day, none.
    pub distribution: [u64; 7],
}

impl RepScore {
    fn new(owner: &str) -> RepScore {
        RepScore {
            owner: owner.to_owned(),
            leads: 0,
            points: 0,
            score: None,
            pending: 0,
            distribution: [0; 7],
        }
    }
}

/// Rubric points for a response `secs` after assignment; `next_day` when it came on a later
/// business day than the assignment.
pub fn rubric_points(secs: Option<i64>, next_day: bool) -> (u64, usize) {
    match secs {
        None => (0, 6),
        Some(s) if s < 5 * 60 => (10, 0),
        Some(s) if s < 15 * 60 => (8, 1),
        Some(s) if s < 3600 => (6, 2),
        Some(s) if s < 4 * 3600 => (4, 3),
        Some(s) if s < 8 * 3600 && !next_day => (2, 4),
        Some(_) => (1, 5),
    }
}

/// One owner's score being added up.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct RepCounts {
    leads: u64,
    points: u64,
    pending: u64,
    /// Leads per rubric row (see [`RepScore::distribution`]), rows with none left out.
    rows: BTreeMap<usize, u64>,
}

/// Rep scores being added up, per owner.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct RepTally(BTreeMap<String, RepCounts>);

impl RepTally {
    /// Scores the stints of `r` assigned in `[from, to)`.
    pub(super) fn add(&mut self, r: &Row, from: DateTime<Utc>, to: DateTime<Utc>) {
        for (i, s) in r.cycle.stints.iter().enumerate() {
            if in_period(s.assigned_at, from, to) {
                score_stint(self.0.entry(s.owner.clone()).or_default(), r, i, s);
            }
        }
    }

    pub(super) fn merge(&mut self, o: RepTally) {
        for (owner, s) in o.0 {
            let e = self.0.entry(owner).or_default();
            e.leads += s.leads;
            e.points += s.points;
            e.pending += s.pending;
            for (row, n) in s.rows {
                *e.rows.entry(row).or_default() += n;
            }
        }
    }

    /// Scores per owner, best score first.
    pub(super) fn finish(self) -> Vec<RepScore> {
        ranked(self.0)
    }
}

fn ranked(reps: BTreeMap<String, RepCounts>) -> Vec<RepScore> {
    let mut out: Vec<RepScore> = reps
        .into_iter()
        .map(|(owner, c)| {
            let mut r = RepScore::new(&owner);
            r.score = (c.leads > 0).then(|| c.points as f64 * 100.0 / (c.leads as f64 * 10.0));
            (r.leads, r.points, r.pending) = (c.leads, c.points, c.pending);
            for (row, n) in c.rows {
                if let Some(slot) = r.distribution.get_mut(row) {
                    *slot = n;
                }
            }
            r
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.owner.cmp(&b.owner))
    });
    out
}

/// Adds the `i`-th stint `s` of row `r` to its owner's score: pending while the owner still
/// holds an untouched lead inside its window, else scored by the rubric.
fn score_stint(e: &mut RepCounts, r: &Row, i: usize, s: &Stint) {
    let holding = s.ended_at.is_none() && i + 1 == r.cycle.stints.len();
    let window_open = r
        .clock(ClockKind::Response)
        .is_some_and(|c| c.status == ClockStatus::Running);
    if s.responded_at.is_none() && holding && window_open && r.cycle.closed_at.is_none() {
        e.pending += 1;
        return;
    }
    let cal = clock::response_calendar(r.policy, r.cycle);
    let secs = s.responded_at.map(|t| (t - s.assigned_at).num_seconds().max(0));
    let next_day = s
        .responded_at
        .is_some_and(|t| t.with_timezone(&cal.tz).date_naive() > s.assigned_at.with_timezone(&cal.tz).date_naive());
    let (points, row) = rubric_points(secs, next_day);
    e.leads += 1;
    e.points += points;
    *e.rows.entry(row).or_default() += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rubric_rows() {
        assert_eq!(rubric_points(Some(299), false).0, 10);
        assert_eq!(rubric_points(Some(300), false).0, 8);
        assert_eq!(rubric_points(Some(15 * 60), false).0, 6);
        assert_eq!(rubric_points(Some(3600), false).0, 4);
        assert_eq!(rubric_points(Some(4 * 3600), false).0, 2);
        assert_eq!(rubric_points(Some(5 * 3600), true).0, 1);
        assert_eq!(rubric_points(Some(8 * 3600), false).0, 1);
        assert_eq!(rubric_points(None, false).0, 0);
    }
}
