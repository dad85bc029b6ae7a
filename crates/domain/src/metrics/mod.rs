//! The methodology's metrics, computed from folded leads for a period.
//!
//! Cohorts follow the methodology: volume, speed and the funnel count the MQL cycles created
//! in the period (whenever they convert); SLA compliance, human delay and breach escalation
//! count the leads that entered sales ownership (first assignment) in the period; rep scores
//! count each owner's own assignments in the period. Every band is defined once, in [`bands`];
//! `docs/metrics.md` is the reference.

mod aggregate;
pub mod bands;
mod baseline;
mod dashboard;
mod dimension;
mod flags;
mod funnel;
mod judging;
mod open;
mod report;
mod reps;
mod rows;
mod section;
mod sla;
mod stats;
mod whatif;

pub use aggregate::{group_prefix, settled, Edge, FactDays, Facts, FactsError, GROUPS};
pub use bands::{Band, Benchmark};
pub use baseline::{
    baseline, Baseline, Benchmarked, Candidate, CandidateResult, Distribution, Percentiles, Suggestion, TypeBaseline,
    BASELINE_MIN_LEADS, SUGGESTION_SHARE,
};
pub use dashboard::{queue, speed_vs_conversion, Queued, SpeedBucket};
pub use dimension::Dimension;
pub use funnel::Funnel;
pub use open::{open_clocks, open_slas, OpenClock, OpenSla, OPEN_LISTED};
pub use report::{report, report_for, Report, Tally, VersionUse};
pub use reps::{rubric_points, RepScore};
pub use section::{Earned, Escalations, Section, SystemsDelay, Volume};
pub use sla::{Compliance, Sla};
pub use stats::{Held, Rate, Stats, Timing};
pub use whatif::{step_volume, what_if, Judged, StepVolume, WhatIf};

use chrono::{DateTime, Utc};

/// Whether `t` falls in the half-open period `[from, to)`.
fn in_period(t: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    from <= t && t < to
}

/// Length of the previous period used for lead velocity.
pub fn previous_period(from: DateTime<Utc>, to: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (from - (to - from), from)
}

/// Helper for callers that must fetch leads: the widest span a report looks at.
pub fn span_needed(from: DateTime<Utc>, to: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (previous_period(from, to).0, to)
}
