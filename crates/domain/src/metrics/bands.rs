//! The benchmark band of every headline figure, defined once, as data.
//!
//! Classification ([`Benchmark::band`]), the report's flags and the reference table in
//! `docs/metrics.md` ([`markdown_table`]) all read these definitions, so a threshold is changed
//! in one place. Where the methodology gives Good / Warning / Red flag (its Quick Reference
//! Thresholds) that row is used, else its Low / Typical / High columns; systems delay uses the
//! project's 5 / 10 / 15-minute scale.

use serde::Serialize;
use std::fmt::Write;

/// Benchmark band of a headline figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Good,
    Warning,
    RedFlag,
    /// Systems delay only: past good, short of yellow.
    Watch,
    /// Systems delay only: past watch, short of red.
    Yellow,
    /// Systems delay only: the worst band.
    Red,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Good => "good",
            Band::Warning => "warning",
            Band::RedFlag => "red flag",
            Band::Watch => "watch",
            Band::Yellow => "yellow",
            Band::Red => "red",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// Whether a threshold's own value belongs to the band it bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Inclusive,
    Exclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Percent,
    Seconds,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub value: f64,
    pub edge: Edge,
}

const fn incl(value: f64) -> Threshold {
    Threshold {
        value,
        edge: Edge::Inclusive,
    }
}

const fn excl(value: f64) -> Threshold {
    Threshold {
        value,
        edge: Edge::Exclusive,
    }
}

/// The names of the bands between good and the worst one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Good / Warning / Red flag (the methodology's names).
    GoodWarningRedFlag,
    /// Good / Watch / Yellow / Red (systems delay): yellow from `yellow` on, watch before it.
    GoodWatchYellowRed { yellow: Threshold },
}

/// One headline figure's band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Benchmark {
    pub id: &'static str,
    pub label: &'static str,
    pub direction: Direction,
    pub unit: Unit,
    /// Good on the better side of this value.
    pub good: Threshold,
    /// Red flag (or red) on the worse side; `None` when the figure has only good and warning.
    pub red: Option<Threshold>,
    pub scale: Scale,
}

/// Which side of a threshold a band lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Above,
    Below,
}

impl Side {
    fn opposite(self) -> Side {
        match self {
            Side::Above => Side::Below,
            Side::Below => Side::Above,
        }
    }
}

/// A half-line of values: one side of a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub side: Side,
    pub at: Threshold,
}

impl Bound {
    pub fn contains(self, x: f64) -> bool {
        let v = self.at.value;
        match (self.side, self.at.edge) {
            (Side::Above, Edge::Inclusive) => x >= v,
            (Side::Above, Edge::Exclusive) => x > v,
            (Side::Below, Edge::Inclusive) => x <= v,
            (Side::Below, Edge::Exclusive) => x < v,
        }
    }

    /// Every value this bound leaves out.
    pub fn complement(self) -> Bound {
        let edge = match self.at.edge {
            Edge::Inclusive => Edge::Exclusive,
            Edge::Exclusive => Edge::Inclusive,
        };
        Bound {
            side: self.side.opposite(),
            at: Threshold { edge, ..self.at },
        }
    }

    /// Compact form for tables: `≥ 85%`, `< 5 min`.
    pub fn symbol(self, unit: Unit) -> String {
        let op = match (self.side, self.at.edge) {
            (Side::Above, Edge::Inclusive) => "≥",
            (Side::Above, Edge::Exclusive) => ">",
            (Side::Below, Edge::Inclusive) => "≤",
            (Side::Below, Edge::Exclusive) => "<",
        };
        format!("{op} {}", quantity(self.at.value, unit))
    }

    /// Prose form for flags: `under 70%`, `10 min or more`.
    pub fn words(self, unit: Unit) -> String {
        let q = quantity(self.at.value, unit);
        match (self.side, self.at.edge) {
            (Side::Above, Edge::Inclusive) => format!("{q} or more"),
            (Side::Above, Edge::Exclusive) => format!("over {q}"),
            (Side::Below, Edge::Inclusive) => format!("{q} or less"),
            (Side::Below, Edge::Exclusive) => format!("under {q}"),
        }
    }
}

impl Benchmark {
    fn good_side(&self) -> Side {
        match self.direction {
            Direction::HigherIsBetter => Side::Above,
            Direction::LowerIsBetter => Side::Below,
        }
    }

    /// The values from `at` on, in the worse direction.
    fn worse_side_of(&self, at: Threshold) -> Bound {
        Bound {
            side: self.good_side().opposite(),
            at,
        }
    }

    pub fn good_bound(&self) -> Bound {
        Bound {
            side: self.good_side(),
            at: self.good,
        }
    }

    /// Values in the red flag (or red) band.
    pub fn red_bound(&self) -> Option<Bound> {
        self.red.map(|at| self.worse_side_of(at))
    }

    /// Values in the yellow band or worse (systems delay scale only).
    pub fn yellow_bound(&self) -> Option<Bound> {
        match self.scale {
            Scale::GoodWatchYellowRed { yellow } => Some(self.worse_side_of(yellow)),
            Scale::GoodWarningRedFlag => None,
        }
    }

    /// The good and worst bands in words, for a reader beside a figure: `good ≥ 85%, red flag < 70%`.
    pub fn describe(&self) -> String {
        let good = format!("good {}", self.good_bound().symbol(self.unit));
        match self.red_bound() {
            Some(red) => format!("{good}, red flag {}", red.symbol(self.unit)),
            None => good,
        }
    }

    pub fn band(&self, x: f64) -> Band {
        let within = |b: Option<Bound>| b.is_some_and(|b| b.contains(x));
        if self.good_bound().contains(x) {
            return Band::Good;
        }
        match self.scale {
            Scale::GoodWarningRedFlag if within(self.red_bound()) => Band::RedFlag,
            Scale::GoodWarningRedFlag => Band::Warning,
            Scale::GoodWatchYellowRed { .. } if within(self.red_bound()) => Band::Red,
            Scale::GoodWatchYellowRed { .. } if within(self.yellow_bound()) => Band::Yellow,
            Scale::GoodWatchYellowRed { .. } => Band::Watch,
        }
    }
}

pub const RECYCLED_SHARE: Benchmark = Benchmark {
    id: "recycled_share",
    label: "Recycled share of MQLs",
    direction: Direction::LowerIsBetter,
    unit: Unit::Percent,
    // Methodology edge case 4: "if recycled MQLs exceed 30% of total MQL volume".
    good: incl(30.0),
    red: None,
    scale: Scale::GoodWarningRedFlag,
};

/// Speed-to-lead project: under 5 min good, over 10 yellow, 15–20+ red.
pub const SYSTEMS_DELAY: Benchmark = Benchmark {
    id: "systems_delay",
    label: "Systems delay (average)",
    direction: Direction::LowerIsBetter,
    unit: Unit::Seconds,
    good: excl(5.0 * 60.0),
    red: Some(incl(15.0 * 60.0)),
    scale: Scale::GoodWatchYellowRed {
        yellow: incl(10.0 * 60.0),
    },
};

/// The methodology's "average response time" (Quick Reference: under 1 hour good, 24+ hours red
/// flag), applied to human delay and speed to lead.
pub const RESPONSE_TIME: Benchmark = Benchmark {
    id: "response_time",
    label: "Average response time (human delay, speed to lead)",
    direction: Direction::LowerIsBetter,
    unit: Unit::Seconds,
    good: incl(3600.0),
    red: Some(incl(24.0 * 3600.0)),
    scale: Scale::GoodWarningRedFlag,
};

/// Response-time benchmarks, Low / High columns (no Quick Reference row).
pub const RESPONSE_RATE: Benchmark = percent_up("response_rate", "Response rate", incl(90.0), excl(50.0));
pub const FIVE_MINUTE_RESPONSE_RATE: Benchmark = percent_up(
    "five_minute_response_rate",
    "5-minute response rate",
    incl(40.0),
    excl(5.0),
);

/// The methodology gives leakage a formula but no band. Leakage is the share of assigned MQLs
/// never touched, the mirror of the response rate (good at 90% or more, red flag under 50%), so
/// its band is that one mirrored: good at 10% or less, red flag over 50%. The code used to call
/// exactly 10% a warning while the README said good; the mirror settles it as good.
pub const LEAD_LEAKAGE: Benchmark = percent_down("lead_leakage", "Lead leakage", incl(10.0), excl(50.0));

/// Quick Reference row ("Are SLAs being met?"), not the compliance table's Low of 60%.
pub const SLA_COMPLIANCE: Benchmark = percent_up("sla_compliance", "SLA compliance", incl(85.0), excl(70.0));

/// Compliance over this suggests the windows are too lenient (methodology, compliance validation).
pub const SLA_TOO_LENIENT: Bound = Bound {
    side: Side::Above,
    at: excl(95.0),
};

/// SLA compliance benchmarks, Low / High columns.
pub const BREACH_ESCALATION_RATE: Benchmark = percent_down(
    "breach_escalation_rate",
    "Breach escalation rate",
    excl(10.0),
    excl(25.0),
);
/// Quick Reference row ("Is Sales accepting our MQLs?").
pub const SAL_ACCEPTANCE: Benchmark = percent_up("sal_acceptance", "SAL acceptance", incl(60.0), excl(40.0));
/// SLA compliance benchmarks, Low / High columns.
pub const REJECTION: Benchmark = percent_down("rejection", "Rejection rate", excl(20.0), excl(50.0));
/// Quick Reference row ("Is the feedback loop working?"), not the table's 85% / 30%.
pub const REJECTION_REASON_COMPLETION: Benchmark = percent_up(
    "rejection_reason_completion",
    "Rejection-reason completion",
    incl(80.0),
    excl(50.0),
);
/// MQL-to-SQL benchmarks, Low / High columns.
pub const SAL_TO_SQL: Benchmark = percent_up("sal_to_sql", "SAL → SQL", incl(75.0), excl(40.0));
/// MQL-to-SQL benchmarks, Low / High columns.
pub const SQL_TO_OPPORTUNITY: Benchmark = percent_up("sql_to_opportunity", "SQL → opportunity", incl(65.0), excl(30.0));
/// Quick Reference row ("Are we converting MQLs to SQLs?"); also the band of conversion by source.
pub const MQL_TO_SQL: Benchmark = percent_up(
    "mql_to_sql",
    "MQL → SQL (cohorted; also per source)",
    incl(20.0),
    excl(10.0),
);

/// Every benchmark, in report order.
pub const BENCHMARKS: &[Benchmark] = &[
    RECYCLED_SHARE,
    SYSTEMS_DELAY,
    RESPONSE_TIME,
    RESPONSE_RATE,
    FIVE_MINUTE_RESPONSE_RATE,
    LEAD_LEAKAGE,
    SLA_COMPLIANCE,
    BREACH_ESCALATION_RATE,
    SAL_ACCEPTANCE,
    REJECTION,
    REJECTION_REASON_COMPLETION,
    SAL_TO_SQL,
    SQL_TO_OPPORTUNITY,
    MQL_TO_SQL,
];

const fn percent_up(id: &'static str, label: &'static str, good: Threshold, red: Threshold) -> Benchmark {
    percent(id, label, Direction::HigherIsBetter, good, red)
}

const fn percent_down(id: &'static str, label: &'static str, good: Threshold, red: Threshold) -> Benchmark {
    percent(id, label, Direction::LowerIsBetter, good, red)
}

const fn percent(
    id: &'static str,
    label: &'static str,
    direction: Direction,
    good: Threshold,
    red: Threshold,
) -> Benchmark {
    Benchmark {
        id,
        label,
        direction,
        unit: Unit::Percent,
        good,
        red: Some(red),
        scale: Scale::GoodWarningRedFlag,
    }
}

/// A value with its unit: `85%`, `5 min`, `24 h`.
pub fn quantity(value: f64, unit: Unit) -> String {
    let (n, suffix) = split_quantity(value, unit);
    format!("{n}{suffix}")
}

/// Number and unit suffix, durations in the largest whole unit.
fn split_quantity(value: f64, unit: Unit) -> (f64, &'static str) {
    match unit {
        Unit::Percent => (value, "%"),
        Unit::Seconds if value != 0.0 && value % 3600.0 == 0.0 => (value / 3600.0, " h"),
        Unit::Seconds if value != 0.0 && value % 60.0 == 0.0 => (value / 60.0, " min"),
        Unit::Seconds => (value, " s"),
    }
}

/// The values between two thresholds: `70–85%`, `30 min – 2 h`.
fn range(a: f64, b: f64, unit: Unit) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let ((n_lo, s_lo), (n_hi, s_hi)) = (split_quantity(lo, unit), split_quantity(hi, unit));
    if s_lo == s_hi {
        format!("{n_lo}–{n_hi}{s_hi}")
    } else {
        format!("{n_lo}{s_lo} – {n_hi}{s_hi}")
    }
}

/// The middle and worst columns of a benchmark's table row.
fn middle_and_worst(b: &Benchmark) -> (String, String) {
    let u = b.unit;
    match (b.scale, b.red) {
        (Scale::GoodWarningRedFlag, None) => (b.good_bound().complement().symbol(u), "—".into()),
        (Scale::GoodWarningRedFlag, Some(red)) => (
            range(b.good.value, red.value, u),
            b.red_bound().map(|r| r.symbol(u)).unwrap_or_default(),
        ),
        (Scale::GoodWatchYellowRed { yellow }, red) => {
            let yellow_band = match red {
                Some(r) => range(yellow.value, r.value, u),
                None => b.worse_side_of(yellow).symbol(u),
            };
            let middle = format!("watch {}, yellow {yellow_band}", range(b.good.value, yellow.value, u));
            let worst = b.red_bound().map_or("—".into(), |r| format!("red {}", r.symbol(u)));
            (middle, worst)
        }
    }
}

/// The band reference table of `docs/metrics.md`, rendered from [`BENCHMARKS`].
pub fn markdown_table() -> String {
    let mut out = String::from("| metric | id | better | good | warning | red flag |\n|---|---|---|---|---|---|\n");
    for b in BENCHMARKS {
        let better = match b.direction {
            Direction::HigherIsBetter => "higher",
            Direction::LowerIsBetter => "lower",
        };
        let (middle, worst) = middle_and_worst(b);
        let good = b.good_bound().symbol(b.unit);
        let _ = writeln!(
            out,
            "| {} | `{}` | {better} | {good} | {middle} | {worst} |",
            b.label, b.id
        );
    }
    let _ = writeln!(
        out,
        "\nSLA compliance {} is flagged: the SLA may be too lenient.",
        SLA_TOO_LENIENT.words(Unit::Percent)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks of the former `band_up(_, 85, 70)` and `systems_band` helpers, now against
    /// the definitions that replaced them.
    #[test]
    fn bands() {
        assert_eq!(SLA_COMPLIANCE.band(85.0), Band::Good);
        assert_eq!(SLA_COMPLIANCE.band(69.9), Band::RedFlag);
        assert_eq!(SLA_COMPLIANCE.band(76.0), Band::Warning);
        assert_eq!(SYSTEMS_DELAY.band(299.0), Band::Good);
        assert_eq!(SYSTEMS_DELAY.band(300.0), Band::Watch);
        assert_eq!(SYSTEMS_DELAY.band(899.0), Band::Yellow);
        assert_eq!(SYSTEMS_DELAY.band(900.0), Band::Red);
    }

    #[test]
    fn quantities_use_the_largest_whole_unit() {
        assert_eq!(quantity(85.0, Unit::Percent), "85%");
        assert_eq!(quantity(82.5, Unit::Percent), "82.5%");
        assert_eq!(quantity(300.0, Unit::Seconds), "5 min");
        assert_eq!(quantity(86400.0, Unit::Seconds), "24 h");
        assert_eq!(quantity(90.0, Unit::Seconds), "90 s");
        assert_eq!(range(3600.0, 86400.0, Unit::Seconds), "1–24 h");
        assert_eq!(range(7200.0, 1800.0, Unit::Seconds), "30 min – 2 h");
    }
}
