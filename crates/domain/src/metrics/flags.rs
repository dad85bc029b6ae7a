//! Plain-language warnings from the benchmark bands; every number in them comes from
//! [`super::bands`].

use super::bands::Unit;
use super::bands::{
    Band, Benchmark, BREACH_ESCALATION_RATE, RECYCLED_SHARE, REJECTION, REJECTION_REASON_COMPLETION, SAL_ACCEPTANCE,
    SLA_COMPLIANCE, SLA_TOO_LENIENT, SYSTEMS_DELAY,
};
use super::section::Section;
use super::stats::Rate;

/// The red-flag band of `b` in words: `under 70%`.
fn red(b: &Benchmark) -> String {
    b.red_bound().map(|r| r.words(b.unit)).unwrap_or_default()
}

fn pct(r: &Rate) -> String {
    r.percent.map(|p| format!("{p:.1}%")).unwrap_or_default()
}

pub(super) fn flags(s: &Section) -> Vec<String> {
    let mut f = Vec::new();
    let compliance = &s.sla.overall.rate;
    if s.sla.too_lenient {
        f.push(format!(
            "SLA compliance {} is {}: the SLA may be too lenient; tighten the windows",
            pct(compliance),
            SLA_TOO_LENIENT.words(Unit::Percent)
        ));
    }
    if compliance.band == Some(Band::RedFlag) {
        f.push(format!(
            "SLA compliance {} is {}: SLAs are effectively unenforced",
            pct(compliance),
            red(&SLA_COMPLIANCE)
        ));
    }
    if s.volume.recycled_share.band == Some(Band::Warning) {
        f.push(format!(
            "recycled MQLs are {} of volume ({}): tighten the original qualification criteria",
            pct(&s.volume.recycled_share),
            RECYCLED_SHARE.good_bound().complement().words(RECYCLED_SHARE.unit)
        ));
    }
    if let (Some(Band::Yellow | Band::Red), Some(yellow)) = (s.systems_delay.timing.band, SYSTEMS_DELAY.yellow_bound())
    {
        f.push(format!(
            "average systems delay is {}: investigate routing and workflow delays",
            yellow.words(SYSTEMS_DELAY.unit)
        ));
    }
    f.extend(funnel_flags(s));
    if s.sla.breach_escalation_rate.band == Some(Band::RedFlag) {
        f.push(format!(
            "{} of leads escalate to managers: SLAs too aggressive or team under-resourced",
            red(&BREACH_ESCALATION_RATE)
        ));
    }
    f
}

fn funnel_flags(s: &Section) -> Vec<String> {
    let mut f = Vec::new();
    let funnel = &s.funnel;
    if funnel.sal_acceptance.band == Some(Band::RedFlag) {
        f.push(format!(
            "SAL acceptance {} is {}: MQL definition mismatch",
            pct(&funnel.sal_acceptance),
            red(&SAL_ACCEPTANCE)
        ));
    }
    if funnel.rejection.band == Some(Band::RedFlag) {
        f.push(format!(
            "Sales rejects {} of MQLs ({}): revise MQL criteria now",
            pct(&funnel.rejection),
            red(&REJECTION)
        ));
    }
    if funnel.rejection_reason_completion.band == Some(Band::RedFlag) {
        f.push(format!(
            "{} of rejections give a reason: the feedback loop is broken",
            red(&REJECTION_REASON_COMPLETION)
        ));
    }
    f
}
