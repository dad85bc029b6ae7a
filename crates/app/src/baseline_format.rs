//! The baseline for people: a table per lead type that reads as the methodology's sentence
//! ("demo requests wait 3 h 10 min at p50; 18% are answered within 5 minutes"), and CSV.

use crate::report_format::{band, csv_field, dur, local, pct, Format};
use chrono::SecondsFormat;
use chrono_tz::Tz;
use leadclock_domain::metrics::{
    Baseline, Distribution, Percentiles, Suggestion, TypeBaseline, BASELINE_MIN_LEADS, SUGGESTION_SHARE,
};
use std::fmt::Write;

pub(crate) fn secs(x: Option<i64>) -> String {
    dur(x.map(|s| s as f64))
}

fn percentiles(p: &Percentiles) -> String {
    format!("p50 {} · p80 {} · p95 {}", secs(p.p50), secs(p.p80), secs(p.p95))
}

fn distribution(out: &mut String, name: &str, d: &Distribution) {
    let _ = writeln!(
        out,
        "  {name:<15} {} (calendar, n={})\n  {:<15} {} (business time)",
        percentiles(&d.calendar),
        d.calendar.count,
        "",
        percentiles(&d.business)
    );
}

pub(crate) fn suggestion(s: &Suggestion) -> String {
    match s {
        Suggestion::Target { label, compliance, .. } => format!(
            "{label}: met by {} of the {} leads with a decided response",
            pct(compliance),
            compliance.denominator
        ),
        Suggestion::NoneMet { best } => format!(
            "none: even {} was met by only {} — fix coverage before setting an SLA",
            best.label,
            pct(&best.compliance)
        ),
        Suggestion::TooFewLeads { leads, needed } => {
            format!("too few leads to suggest one ({leads} with a decided response; {needed} needed)")
        }
    }
}

fn lead_type(out: &mut String, t: &TypeBaseline) {
    let _ = writeln!(
        out,
        "\n{} · {} leads · current SLA {}",
        t.lead_type, t.leads, t.current_sla
    );
    distribution(out, "speed to lead", &t.speed_to_lead);
    distribution(out, "systems delay", &t.systems_delay);
    distribution(out, "human delay", &t.human_delay);
    for (name, b) in &t.benchmarks {
        let value = match b.value {
            Some(v) if name.ends_with("median") => dur(Some(v)),
            Some(v) => format!("{v:.1}%"),
            None => "n/a".into(),
        };
        let _ = writeln!(out, "  {name:<26} {value:>12}  {:<9} ({})", band(b.band), b.benchmark);
    }
    let _ = writeln!(out, "  SLA compliance now          {}", pct(&t.compliance.rate));
    let cands: Vec<String> = t
        .candidates
        .iter()
        .map(|c| {
            let p = c.compliance.percent.map_or("n/a".into(), |p| format!("{p:.0}%"));
            format!("{} {p}", c.label)
        })
        .collect();
    let _ = writeln!(out, "  would have met   {}", cands.join(" · "));
    let _ = writeln!(out, "  suggested SLA    {}", suggestion(&t.suggestion));
}

/// The readable baseline `leadclock baseline` prints by default.
pub fn table(b: &Baseline, tz: Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "leadclock baseline {} → {} (generated {})",
        local(b.from, tz),
        local(b.to, tz),
        b.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let _ = writeln!(
        out,
        "Suggested SLA: the tightest target at least {SUGGESTION_SHARE:.0}% of a type's leads met, in business \
time, from {BASELINE_MIN_LEADS} leads up."
    );
    if b.lead_types.is_empty() {
        let _ = writeln!(
            out,
            "\nNo MQLs in this window: import history first (leadclock import)."
        );
    }
    for t in &b.lead_types {
        lead_type(&mut out, t);
    }
    out
}

fn csv_percentiles(out: &mut String, lt: &str, name: &str, d: &Distribution) {
    for (clock, p) in [("calendar", &d.calendar), ("business", &d.business)] {
        for (q, v) in [("p50", p.p50), ("p80", p.p80), ("p95", p.p95)] {
            let v = v.map(|s| s.to_string()).unwrap_or_default();
            let _ = writeln!(out, "{lt},{name}_{clock}_{q}_s,{v},n/a");
        }
    }
}

/// One row per (lead type, figure): `lead_type,metric,value,band`.
pub fn csv(b: &Baseline) -> String {
    let mut out = String::from("lead_type,metric,value,band\n");
    let rate = |r: &leadclock_domain::metrics::Rate| r.percent.map(|p| format!("{p:.2}")).unwrap_or_default();
    for t in &b.lead_types {
        let lt = csv_field(&t.lead_type);
        let _ = writeln!(out, "{lt},leads,{},n/a", t.leads);
        csv_percentiles(&mut out, &lt, "speed_to_lead", &t.speed_to_lead);
        csv_percentiles(&mut out, &lt, "systems_delay", &t.systems_delay);
        csv_percentiles(&mut out, &lt, "human_delay", &t.human_delay);
        for (name, m) in &t.benchmarks {
            let v = m.value.map(|v| format!("{v:.2}")).unwrap_or_default();
            let _ = writeln!(out, "{lt},{name},{v},{}", band(m.band));
        }
        let _ = writeln!(
            out,
            "{lt},sla_compliance_now_pct,{},{}",
            rate(&t.compliance.rate),
            band(t.compliance.rate.band)
        );
        for c in &t.candidates {
            let _ = writeln!(out, "{lt},would_have_met_pct[{}],{},n/a", c.label, rate(&c.compliance));
        }
        let suggested = match &t.suggestion {
            Suggestion::Target { label, .. } => label.as_str(),
            Suggestion::NoneMet { .. } => "none_met",
            Suggestion::TooFewLeads { .. } => "too_few_leads",
        };
        let _ = writeln!(out, "{lt},suggested_sla,{suggested},n/a");
    }
    out
}

/// A baseline in the asked format, with its content type.
pub fn render(b: &Baseline, format: Format, tz: Tz) -> (&'static str, String) {
    match format {
        Format::Json => (
            "application/json",
            serde_json::to_string(b).unwrap_or_else(|_| "{}".into()),
        ),
        Format::Table => ("text/plain; charset=utf-8", table(b, tz)),
        Format::Csv => ("text/csv; charset=utf-8", csv(b)),
    }
}
