//! The baseline: "you now know the number". Per lead type, over a window of (usually imported)
//! history: how long leads waited for a first touch, how many were answered at all and within
//! five minutes, how the current SLA fared, the methodology's benchmarks beside them, and the
//! SLA the team actually keeps: the smallest of the candidate targets that at least
//! [`SUGGESTION_SHARE`] of the window's leads met, in business time.

use super::bands::{Band, Benchmark, FIVE_MINUTE_RESPONSE_RATE, RESPONSE_RATE, RESPONSE_TIME, SLA_COMPLIANCE};
use super::sla::ComplianceTally;
use super::stats::Rate;
use super::{in_period, Compliance};
use crate::calendar::Calendar;
use crate::clock;
use crate::event::ClockKind;
use crate::lead::{Cycle, Lead};
use crate::policy::{Basis, Policy, Target};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Share of the window's decided leads a suggested SLA must have met.
pub const SUGGESTION_SHARE: f64 = 85.0;
/// Fewer decided leads than this and no SLA is suggested: too few to tell.
pub const BASELINE_MIN_LEADS: u64 = 20;

/// A candidate response target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Candidate {
    /// This many minutes of business time after the first assignment.
    Minutes { minutes: i64 },
    /// By the close of the business day of the first assignment.
    EndOfBusinessDay,
}

impl Candidate {
    /// The methodology's tiers, tightest first.
    pub const ALL: [Candidate; 8] = [
        Candidate::Minutes { minutes: 5 },
        Candidate::Minutes { minutes: 10 },
        Candidate::Minutes { minutes: 15 },
        Candidate::Minutes { minutes: 30 },
        Candidate::Minutes { minutes: 60 },
        Candidate::Minutes { minutes: 120 },
        Candidate::Minutes { minutes: 240 },
        Candidate::EndOfBusinessDay,
    ];

    /// As a policy would write it.
    pub fn label(self) -> String {
        match self {
            Candidate::Minutes { minutes } if minutes % 60 == 0 => format!("{}h", minutes / 60),
            Candidate::Minutes { minutes } => format!("{minutes}m"),
            Candidate::EndOfBusinessDay => "end_of_business_day".into(),
        }
    }

    fn deadline(self, cal: &Calendar, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Candidate::Minutes { minutes } => cal.due(start, Duration::minutes(minutes)).ok(),
            Candidate::EndOfBusinessDay => cal.end_of_business_day(start).ok(),
        }
    }
}

/// Nearest-rank percentiles of a duration, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Percentiles {
    pub count: u64,
    pub p50: Option<i64>,
    pub p80: Option<i64>,
    pub p95: Option<i64>,
}

impl Percentiles {
    fn of(mut xs: Vec<i64>) -> Percentiles {
        xs.sort_unstable();
        let n = xs.len();
        let rank = |q: f64| -> Option<i64> {
            let k = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
            xs.get(k - 1).copied()
        };
        Percentiles {
            count: n as u64,
            p50: rank(0.5),
            p80: rank(0.8),
            p95: rank(0.95),
        }
    }
}

/// A delay in calendar and in business time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Distribution {
    pub calendar: Percentiles,
    pub business: Percentiles,
}

impl Distribution {
    fn of(spans: impl Iterator<Item = clock::Span>) -> Distribution {
        let (cal, bus): (Vec<i64>, Vec<i64>) = spans.map(|s| (s.seconds, s.business_seconds)).unzip();
        Distribution {
            calendar: Percentiles::of(cal),
            business: Percentiles::of(bus),
        }
    }
}

/// How one candidate target would have done.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateResult {
    pub target: Candidate,
    pub label: String,
    /// Met / (met + missed) over the window's assigned leads; still-open ones are left out.
    pub compliance: Rate,
}

/// The suggestion for a lead type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Suggestion {
    /// The smallest candidate at least [`SUGGESTION_SHARE`] of the leads met.
    Target {
        target: Candidate,
        label: String,
        compliance: Rate,
    },
    /// Not even the loosest candidate reached the share.
    NoneMet { best: CandidateResult },
    /// Fewer than [`BASELINE_MIN_LEADS`] leads with a decided response: too few to suggest anything.
    TooFewLeads { leads: u64, needed: u64 },
}

/// A benchmark figure beside the methodology's bands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Benchmarked {
    pub value: Option<f64>,
    pub band: Option<Band>,
    /// The methodology's good / red-flag thresholds, in words.
    pub benchmark: String,
}

fn benchmarked(value: Option<f64>, b: &Benchmark) -> Benchmarked {
    Benchmarked {
        value,
        band: value.map(|v| b.band(v)),
        benchmark: b.describe(),
    }
}

/// The baseline of one lead type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypeBaseline {
    pub lead_type: String,
    /// MQL cycles engaged in the window.
    pub leads: u64,
    pub current_sla: String,
    pub speed_to_lead: Distribution,
    pub systems_delay: Distribution,
    pub human_delay: Distribution,
    pub response_rate: Rate,
    pub five_minute_response_rate: Rate,
    /// Under the current policy, over the leads first assigned in the window.
    pub compliance: Compliance,
    pub benchmarks: BTreeMap<&'static str, Benchmarked>,
    pub candidates: Vec<CandidateResult>,
    pub suggestion: Suggestion,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Baseline {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub lead_types: Vec<TypeBaseline>,
}

fn sla_label(policy: &Policy, lead_type: &str) -> String {
    match policy.lead_types.get(lead_type).map(|l| &l.sla.target) {
        Some(Target::Within { duration, basis }) => {
            let b = if *basis == Basis::Business {
                "business"
            } else {
                "calendar"
            };
            format!(
                "{} ({b})",
                humantime::format_duration(duration.to_std().unwrap_or_default())
            )
        }
        Some(Target::EndOfBusinessDay) => "end of business day".into(),
        None => "none".into(),
    }
}

/// Whether the cycle met `target` on its response clock, missed it, or is still inside it.
fn judged(cycle: &Cycle, policy: &Policy, target: Candidate, now: DateTime<Utc>) -> Option<bool> {
    let start = cycle.first_assigned_at()?;
    let cal = clock::response_calendar(policy, cycle);
    let deadline = target.deadline(cal, start)?;
    match cycle.first_touch_at {
        Some(t) => Some(t <= deadline),
        None if now > deadline => Some(false),
        None => None,
    }
}

fn candidates(cycles: &[&Cycle], policy: &Policy, now: DateTime<Utc>) -> Vec<CandidateResult> {
    Candidate::ALL
        .iter()
        .map(|&target| {
            let verdicts: Vec<bool> = cycles.iter().filter_map(|c| judged(c, policy, target, now)).collect();
            let met = verdicts.iter().filter(|m| **m).count() as u64;
            CandidateResult {
                target,
                label: target.label(),
                compliance: Rate::new(met, verdicts.len() as u64),
            }
        })
        .collect()
}

fn suggest(results: &[CandidateResult]) -> Suggestion {
    let decided = results.first().map_or(0, |r| r.compliance.denominator);
    if decided < BASELINE_MIN_LEADS {
        return Suggestion::TooFewLeads {
            leads: decided,
            needed: BASELINE_MIN_LEADS,
        };
    }
    match results
        .iter()
        .find(|r| r.compliance.percent.is_some_and(|p| p >= SUGGESTION_SHARE))
    {
        Some(r) => Suggestion::Target {
            target: r.target,
            label: r.label.clone(),
            compliance: r.compliance,
        },
        None => Suggestion::NoneMet {
            // The candidate that came closest; the loosest among equals.
            best: results
                .iter()
                .max_by(|a, b| {
                    a.compliance
                        .percent
                        .partial_cmp(&b.compliance.percent)
                        .unwrap_or(Ordering::Equal)
                })
                .cloned()
                .unwrap_or_else(|| results[0].clone()),
        },
    }
}

fn type_baseline(lead_type: &str, cycles: &[&Cycle], policy: &Policy, now: DateTime<Utc>) -> TypeBaseline {
    let delays: Vec<clock::Delays> = cycles.iter().map(|c| clock::delays(c, policy)).collect();
    let responded = cycles.iter().filter(|c| c.first_touch_at.is_some()).count() as u64;
    let within_5m = delays
        .iter()
        .filter(|d| d.speed_to_lead.is_some_and(|s| s.seconds <= 300))
        .count() as u64;
    let mut compliance = ComplianceTally::default();
    for c in cycles {
        let status = clock::cycle_clocks(c, policy, now)
            .into_iter()
            .find(|v| v.clock == ClockKind::Response);
        if let Some(v) = status {
            compliance.add(v.status);
        }
    }
    let compliance = compliance.finish();
    let n = cycles.len() as u64;
    let response_rate = Rate::new(responded, n);
    let five = Rate::new(within_5m, n);
    let speed = Distribution::of(delays.iter().filter_map(|d| d.speed_to_lead));
    let candidates = candidates(cycles, policy, now);
    let mut benchmarks = BTreeMap::new();
    benchmarks.insert("response_rate", benchmarked(response_rate.percent, &RESPONSE_RATE));
    benchmarks.insert(
        "five_minute_response_rate",
        benchmarked(five.percent, &FIVE_MINUTE_RESPONSE_RATE),
    );
    benchmarks.insert("sla_compliance", benchmarked(compliance.rate.percent, &SLA_COMPLIANCE));
    let median = speed.calendar.p50.map(|s| s as f64);
    benchmarks.insert("speed_to_lead_median", benchmarked(median, &RESPONSE_TIME));
    TypeBaseline {
        lead_type: lead_type.to_owned(),
        leads: n,
        current_sla: sla_label(policy, lead_type),
        speed_to_lead: speed,
        systems_delay: Distribution::of(delays.iter().filter_map(|d| d.systems)),
        human_delay: Distribution::of(delays.iter().filter_map(|d| d.human)),
        response_rate,
        five_minute_response_rate: five,
        compliance,
        benchmarks,
        suggestion: suggest(&candidates),
        candidates,
    }
}

/// The baseline of every lead type with MQLs engaged in `[from, to)`.
pub fn baseline(
    leads: &[Lead],
    policy: &Policy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Baseline {
    let mut by_type: BTreeMap<&str, Vec<&Cycle>> = BTreeMap::new();
    let counted = leads
        .iter()
        .flat_map(|l| l.cycles.iter())
        .filter(|c| !c.suppressed && c.excluded().is_none());
    for c in counted.filter(|c| in_period(c.engaged_at, from, to)) {
        by_type.entry(c.lead_type.as_str()).or_default().push(c);
    }
    Baseline {
        from,
        to,
        generated_at: now,
        lead_types: by_type
            .into_iter()
            .map(|(t, cycles)| type_baseline(t, &cycles, policy, now))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let p = Percentiles::of((1..=20).collect());
        assert_eq!((p.p50, p.p80, p.p95), (Some(10), Some(16), Some(19)));
        assert_eq!(Percentiles::of(vec![]).p50, None);
    }

    #[test]
    fn candidate_labels_read_like_a_policy() {
        let labels: Vec<String> = Candidate::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(
            labels,
            ["5m", "10m", "15m", "30m", "1h", "2h", "4h", "end_of_business_day"]
        );
    }

    fn results(met: &[u64], of: u64) -> Vec<CandidateResult> {
        Candidate::ALL
            .iter()
            .zip(met)
            .map(|(&target, &m)| CandidateResult {
                target,
                label: target.label(),
                compliance: Rate::new(m, of),
            })
            .collect()
    }

    #[test]
    fn the_tightest_target_that_the_share_met_is_suggested() {
        let s = suggest(&results(&[10, 50, 84, 85, 90, 95, 99, 99], 100));
        let Suggestion::Target { target, .. } = s else {
            panic!("{s:?}")
        };
        assert_eq!(target, Candidate::Minutes { minutes: 30 });
    }

    #[test]
    fn when_none_is_met_the_closest_is_named() {
        let s = suggest(&results(&[10, 20, 30, 40, 50, 60, 80, 70], 100));
        let Suggestion::NoneMet { best } = s else {
            panic!("{s:?}")
        };
        assert_eq!(best.label, "4h");
    }

    #[test]
    fn too_few_leads_suggest_nothing() {
        let s = suggest(&results(&[19; 8], 19));
        assert_eq!(s, Suggestion::TooFewLeads { leads: 19, needed: 20 });
    }
}
