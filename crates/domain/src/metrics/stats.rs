//! The value types every figure is made of: a rate, a distribution of durations, a timing.

use super::bands::{Band, Benchmark};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a figure that has a benchmark carries no band: "no false red".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Held {
    /// A conversion of a cohort younger than the policy's sales cycle: still growing.
    InProgress {
        /// Leads of the cohort that have neither converted nor closed yet.
        still_open: u64,
        /// When the cohort has had a full sales cycle and the figure is banded.
        final_from: DateTime<Utc>,
    },
    /// Fewer leads than the policy's `min_sample`.
    SmallSample { min_sample: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rate {
    pub numerator: u64,
    pub denominator: u64,
    /// `None` when the denominator is zero.
    pub percent: Option<f64>,
    pub band: Option<Band>,
    /// Set when the figure has a benchmark but is not banded, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

impl Rate {
    pub(super) fn new(numerator: u64, denominator: u64) -> Self {
        let percent = (denominator > 0).then(|| numerator as f64 * 100.0 / denominator as f64);
        Rate {
            numerator,
            denominator,
            percent,
            band: None,
            held: None,
        }
    }
    pub(super) fn banded(mut self, benchmark: &Benchmark) -> Self {
        self.band = self.percent.map(|p| benchmark.band(p));
        self
    }
    /// Takes the band away, saying why (a figure with no band to take keeps none).
    pub(super) fn hold(&mut self, why: Held) {
        if self.band.take().is_some() {
            self.held = Some(why);
        }
    }
}

/// Distribution of durations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub count: u64,
    pub average: Option<f64>,
    pub median: Option<f64>,
    /// The dashboard's trend line beside the median (nearest rank, as the others).
    pub p80: Option<f64>,
    pub p90: Option<f64>,
}

impl Stats {
    /// The distribution of `counts` (how many durations of each whole second): exact, the
    /// same figures as [`Stats::of`] over the durations themselves, however they were split
    /// and merged.
    pub fn of_counts(counts: &BTreeMap<i64, u64>) -> Stats {
        let n: u64 = counts.values().sum();
        let sum: i64 = counts.iter().map(|(v, c)| v * *c as i64).sum();
        let rank = |q: f64| -> Option<f64> {
            // Nearest rank, as in `of`: the k-th smallest value.
            let k = ((q * n as f64).ceil() as u64).clamp(1, n.max(1));
            let mut seen = 0;
            counts.iter().find_map(|(v, c)| {
                seen += c;
                (seen >= k).then_some(*v as f64)
            })
        };
        Stats {
            count: n,
            average: (n > 0).then(|| sum as f64 / n as f64),
            median: rank(0.5),
            p80: rank(0.8),
            p90: rank(0.9),
        }
    }

    /// The distribution of `xs` (nearest rank, as [`Stats::of_counts`], its one home).
    pub fn of(xs: Vec<i64>) -> Stats {
        let mut counts = BTreeMap::new();
        for x in xs {
            *counts.entry(x).or_default() += 1;
        }
        Stats::of_counts(&counts)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timing {
    pub calendar: Stats,
    pub business: Stats,
    pub band: Option<Band>,
    /// Set when the timing is not banded though it has a benchmark, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

impl Timing {
    /// Calendar and business distributions of `d`, banded on the calendar average.
    pub(super) fn of(d: &Durations, benchmark: &Benchmark) -> Timing {
        let calendar = Stats::of_counts(&d.calendar);
        Timing {
            band: calendar.average.map(|a| benchmark.band(a)),
            calendar,
            business: Stats::of_counts(&d.business),
            held: None,
        }
    }
    pub(super) fn hold(&mut self, why: Held) {
        if self.band.take().is_some() {
            self.held = Some(why);
        }
    }
}

/// Durations being added up for a [`Timing`]: how many of each whole second, in calendar and
/// in business time. Counts, not a list, so a day's durations can be kept and merged with
/// other days' (or taken back out when a lead changes) and still give exact percentiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct Durations {
    calendar: BTreeMap<i64, u64>,
    business: BTreeMap<i64, u64>,
}

impl Durations {
    pub(super) fn add(&mut self, s: crate::clock::Span) {
        *self.calendar.entry(s.seconds).or_default() += 1;
        *self.business.entry(s.business_seconds).or_default() += 1;
    }

    pub(super) fn merge(&mut self, o: Durations) {
        for (mine, theirs) in [(&mut self.calendar, o.calendar), (&mut self.business, o.business)] {
            for (v, c) in theirs {
                *mine.entry(v).or_default() += c;
            }
        }
    }

    pub(super) fn count(&self) -> u64 {
        self.calendar.values().sum()
    }

    /// How many last under `secs` in calendar time.
    pub(super) fn under(&self, secs: i64) -> u64 {
        self.calendar.range(..secs).map(|(_, c)| c).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_use_nearest_rank() {
        let s = Stats::of(vec![5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
        assert_eq!(
            (s.count, s.average, s.median, s.p90),
            (10, Some(5.5), Some(5.0), Some(9.0))
        );
        let e = Stats::of(vec![]);
        assert_eq!((e.count, e.average, e.median), (0, None, None));
    }

    #[test]
    fn counts_give_the_stats_of_the_durations_they_count() {
        for xs in [
            vec![],
            vec![7],
            vec![5, 1, 4, 2, 3, 6, 7, 8, 9, 10],
            vec![3, 3, 3, 0, 90, 90, 2, 3],
        ] {
            let mut counts = BTreeMap::new();
            for x in &xs {
                *counts.entry(*x).or_default() += 1;
            }
            // Independently: the sorted list, read at each nearest rank.
            let mut sorted = xs.clone();
            sorted.sort_unstable();
            let n = sorted.len();
            let rank = |q: f64| {
                sorted
                    .get(((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1)
                    .map(|&v| v as f64)
            };
            let expected = Stats {
                count: n as u64,
                average: (n > 0).then(|| sorted.iter().sum::<i64>() as f64 / n as f64),
                median: rank(0.5),
                p80: rank(0.8),
                p90: rank(0.9),
            };
            assert_eq!(Stats::of_counts(&counts), expected);
        }
    }
}
