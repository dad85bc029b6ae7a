//! Reports for people: a readable table, CSV for spreadsheets, and a short rollup summary.
//! JSON is the report's own serde form.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use leadclock_domain::clock::human_duration;
use leadclock_domain::metrics::{Band, Earned, Escalations, Held, Rate, Report, Section, Stats, Timing};
use std::fmt::Write;

pub(crate) fn pct(r: &Rate) -> String {
    match (r.percent, r.band, r.held) {
        (Some(p), Some(b), _) => format!("{p:.1}% ({}/{}, {})", r.numerator, r.denominator, b.as_str()),
        (Some(p), None, Some(Held::InProgress { still_open, final_from })) => format!(
            "{p:.1}% so far ({}/{}, in progress: {still_open} still open, final from {})",
            r.numerator,
            r.denominator,
            final_from.format("%Y-%m-%d")
        ),
        (Some(p), None, Some(Held::SmallSample { min_sample })) => format!(
            "{p:.1}% ({}/{}, too few to band: under {min_sample})",
            r.numerator, r.denominator
        ),
        (Some(p), None, None) => format!("{p:.1}% ({}/{})", r.numerator, r.denominator),
        (None, _, _) => "n/a (0 leads)".into(),
    }
}

/// A band cell: the band, or why a benchmarked figure has none.
pub(crate) fn verdict(band: Option<Band>, held: Option<Held>) -> &'static str {
    match (band, held) {
        (Some(b), _) => b.as_str(),
        (None, Some(Held::InProgress { .. })) => "in_progress",
        (None, Some(Held::SmallSample { .. })) => "small_sample",
        (None, None) => "n/a",
    }
}

fn timing_band(t: &Timing) -> &'static str {
    verdict(t.band, t.held)
}

fn rate_band(r: &Rate) -> &'static str {
    verdict(r.band, r.held)
}

/// A CSV cell with no band.
const NO_BAND: &str = "n/a";

fn short_pct(r: &Rate) -> String {
    r.percent.map_or_else(|| "n/a".into(), |p| format!("{p:.1}%"))
}

pub(crate) fn dur(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), |s| human_duration(s.round() as i64))
}

fn stats(s: &Stats) -> String {
    format!(
        "avg {} · median {} · p90 {} (n={})",
        dur(s.average),
        dur(s.median),
        dur(s.p90),
        s.count
    )
}

pub(crate) fn band(b: Option<Band>) -> &'static str {
    b.map_or("n/a", Band::as_str)
}

pub(crate) fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

fn section(out: &mut String, s: &Section) {
    volume(out, s);
    delays(out, s);
    sla(out, s);
    escalations(out, &s.escalations);
    funnel(out, s);
}

fn volume(out: &mut String, s: &Section) {
    let v = &s.volume;
    let lvr = v
        .lead_velocity_rate
        .map_or_else(|| "n/a".into(), |x| format!("{x:+.1}%"));
    let _ = writeln!(
        out,
        "VOLUME     MQLs {} (new {}, recycled {}: {}) · previous period {} · lead velocity {lvr}",
        v.mqls,
        v.new,
        v.recycled,
        pct(&v.recycled_share),
        v.previous_period_mqls
    );
    if v.held_in_long_term_nurture > 0 {
        let _ = writeln!(
            out,
            "           {} re-engagement(s) held in long-term nurture (over the recycle limit)",
            v.held_in_long_term_nurture
        );
    }
}

fn delays(out: &mut String, s: &Section) {
    let sd = &s.systems_delay;
    let _ = writeln!(
        out,
        "SYSTEMS    engagement → assignment: {} · band {}\n           business time: {} · under 5 min {} · still unassigned {}",
        stats(&sd.timing.calendar),
        timing_band(&sd.timing),
        stats(&sd.timing.business),
        pct(&sd.under_5_minutes),
        sd.still_unassigned
    );
    let _ = writeln!(
        out,
        "HUMAN      assignment → first touch: {} · band {}\n           business time: {}",
        stats(&s.human_delay.calendar),
        timing_band(&s.human_delay),
        stats(&s.human_delay.business)
    );
    let _ = writeln!(
        out,
        "TOTAL      engagement → first touch: {}\n           business time: {}",
        stats(&s.speed_to_lead.calendar),
        stats(&s.speed_to_lead.business)
    );
    let _ = writeln!(
        out,
        "RESPONSE   response rate {} · 5-minute response rate {} · lead leakage {}",
        pct(&s.response_rate),
        pct(&s.five_minute_response_rate),
        pct(&s.lead_leakage)
    );
    if s.no_response > 0 {
        let _ = writeln!(
            out,
            "           {} aged out untouched (no_response after open_for)",
            s.no_response
        );
    }
}

fn sla(out: &mut String, s: &Section) {
    let _ = writeln!(
        out,
        "SLA        {:<22} {:>8} {:>6} {:>7} {:>8} {:>7}  compliance",
        "lead type", "assigned", "met", "missed", "pending", "closed"
    );
    let rows = s
        .sla
        .by_lead_type
        .iter()
        .map(|(k, c)| (k.as_str(), c))
        .chain([("overall (weighted)", &s.sla.overall)]);
    for (name, c) in rows {
        let _ = writeln!(
            out,
            "           {:<22} {:>8} {:>6} {:>7} {:>8} {:>7}  {}",
            name,
            c.assigned,
            c.met,
            c.missed,
            c.pending,
            c.closed,
            pct(&c.rate)
        );
    }
    let _ = writeln!(
        out,
        "           breach escalation rate (manager step or beyond) {}",
        pct(&s.sla.breach_escalation_rate)
    );
}

fn funnel(out: &mut String, s: &Section) {
    let f = &s.funnel;
    let _ = writeln!(
        out,
        "FUNNEL     MQL cohort {} · SAL acceptance {} · rejection {}\n           rejection reasons captured {} · SAL → SQL {} · SQL → opportunity {}\n           MQL → SQL (cohorted, so far) {} · in progress {} · disqualified after acceptance {} · awaiting acceptance {}",
        f.mqls,
        pct(&f.sal_acceptance),
        pct(&f.rejection),
        pct(&f.rejection_reason_completion),
        pct(&f.sal_to_sql),
        pct(&f.sql_to_opportunity),
        pct(&f.mql_to_sql),
        f.in_progress,
        f.disqualified_after_acceptance,
        f.awaiting_acceptance
    );
    if !f.rejection_reasons.is_empty() {
        let reasons: Vec<String> = f.rejection_reasons.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(out, "           rejection reasons: {}", reasons.join(", "));
    }
}

/// The readable report `leadclock report` prints by default.
pub fn table(r: &Report, tz: Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "leadclock report {} → {} (generated {})",
        local(r.from, tz),
        local(r.to, tz),
        r.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let _ = writeln!(out);
    if let Some(n) = r.dead_letters {
        let _ = writeln!(
            out,
            "DELIVERY   {n} escalation message(s) dead-lettered: the dispatcher gave up on them (see /healthz)\n"
        );
    }
    section(&mut out, &r.overall);
    policy_versions(&mut out, r, tz);
    sources(&mut out, r);
    groups(&mut out, r);
    reps(&mut out, r);
    open_slas(&mut out, r, tz);
    if !r.flags.is_empty() {
        let _ = writeln!(out, "\nFLAGS");
        for f in &r.flags {
            let _ = writeln!(out, "  ! {f}");
        }
    }
    out
}

/// Which policy version judged the period's MQLs: said when any was judged by a version other
/// than the first, so a report after a policy change says what it compares.
fn policy_versions(out: &mut String, r: &Report, tz: Tz) {
    if r.policy_versions.iter().all(|v| v.version == 1) {
        return;
    }
    let parts: Vec<String> = r
        .policy_versions
        .iter()
        .map(|v| {
            let since = v.effective_from.map_or("the beginning".into(), |t| local(t, tz));
            format!("version {} (since {since}) {} MQL(s)", v.version, v.mqls)
        })
        .collect();
    let _ = writeln!(out, "POLICY     judged by {}", parts.join(" · "));
}

fn sources(out: &mut String, r: &Report) {
    if !r.conversion_by_source.is_empty() {
        let parts: Vec<String> = r
            .conversion_by_source
            .iter()
            .map(|(k, v)| format!("{k} {}", short_pct(v)))
            .collect();
        let _ = writeln!(out, "SOURCES    MQL → SQL by source: {}", parts.join(" · "));
    }
}

fn groups(out: &mut String, r: &Report) {
    if let Some(by) = &r.by {
        let _ = writeln!(out, "\nBY {}", by.as_str().to_uppercase());
        let _ = writeln!(
            out,
            "  {:<20} {:>5} {:>10} {:>10} {:>9} {:>11} {:>9} {:>9}",
            by, "MQLs", "systems", "human", "response", "compliance", "SAL acc", "MQL→SQL"
        );
        for (k, s) in &r.groups {
            let _ = writeln!(
                out,
                "  {:<20} {:>5} {:>10} {:>10} {:>9} {:>11} {:>9} {:>9}",
                k,
                s.volume.mqls,
                dur(s.systems_delay.timing.calendar.average),
                dur(s.human_delay.calendar.average),
                short_pct(&s.response_rate),
                short_pct(&s.sla.overall.rate),
                short_pct(&s.funnel.sal_acceptance),
                short_pct(&s.funnel.mql_to_sql)
            );
        }
    }
}

fn reps(out: &mut String, r: &Report) {
    if !r.reps.is_empty() {
        let _ = writeln!(
            out,
            "\nREP RESPONSE SCORE (10/8/6/4/2/1/0 points; score = points / (leads × 10))"
        );
        let _ = writeln!(
            out,
            "  {:<20} {:>5} {:>6} {:>7} {:>7}  <5m 5-15m 15-60m 1-4h 4-8h 8h+ none",
            "owner", "leads", "points", "score", "pending"
        );
        for rep in &r.reps {
            let d = rep.distribution;
            let score = rep.score.map_or_else(|| "n/a".into(), |s| format!("{s:.1}%"));
            let _ = writeln!(
                out,
                "  {:<20} {:>5} {:>6} {:>7} {:>7}  {:>3} {:>5} {:>6} {:>4} {:>4} {:>3} {:>4}",
                rep.owner, rep.leads, rep.points, score, rep.pending, d[0], d[1], d[2], d[3], d[4], d[5], d[6]
            );
        }
    }
}

fn open_slas(out: &mut String, r: &Report, tz: Tz) {
    let _ = writeln!(
        out,
        "\nOPEN SLAS NOW ({}, {} breached; soonest deadline first)",
        r.open_total, r.open_breached
    );
    for o in r.open_slas.iter().take(25) {
        let left = match o.seconds_left {
            Some(s) if s < 0 => format!("overdue {}", human_duration(-s)),
            Some(s) => format!("{} left", human_duration(s)),
            None => "no deadline".into(),
        };
        let _ = writeln!(
            out,
            "  {:<24} {:<16} {:<10} {:<12} {:<22} {left}",
            o.lead_id,
            o.lead_type,
            o.clock.as_str(),
            o.owner.as_deref().unwrap_or("unassigned"),
            o.deadline.map(|d| local(d, tz)).unwrap_or_default()
        );
    }
    let shown = r.open_slas.len().min(25) as u64;
    if r.open_total > shown {
        let _ = writeln!(
            out,
            "  … {} more (--format json lists the {} soonest)",
            r.open_total - shown,
            leadclock_domain::metrics::OPEN_LISTED
        );
    }
}

pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A CSV cell of a rate, in percent.
fn csv_rate(r: &Rate) -> String {
    r.percent.map(|p| format!("{p:.2}")).unwrap_or_default()
}

/// A CSV cell of a duration, in seconds.
fn csv_secs(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.0}")).unwrap_or_default()
}

/// Every metric of one section as `group,metric,value,band` rows.
fn csv_rows(group: &str, s: &Section, out: &mut String) {
    let mut row = |metric: &str, value: String, b: &str| {
        let _ = writeln!(out, "{},{},{},{}", csv_field(group), metric, value, b);
    };
    csv_volume_and_delays(s, &mut row);
    csv_sla(s, &mut row);
    csv_funnel(s, &mut row);
}

type CsvRow<'a> = dyn FnMut(&str, String, &str) + 'a;

fn csv_volume_and_delays(s: &Section, row: &mut CsvRow) {
    let (rate, secs) = (csv_rate, csv_secs);
    row("mqls", s.volume.mqls.to_string(), NO_BAND);
    row("mqls_recycled", s.volume.recycled.to_string(), NO_BAND);
    row(
        "recycled_share_pct",
        rate(&s.volume.recycled_share),
        rate_band(&s.volume.recycled_share),
    );
    row(
        "lead_velocity_rate_pct",
        s.volume
            .lead_velocity_rate
            .map(|v| format!("{v:.2}"))
            .unwrap_or_default(),
        NO_BAND,
    );
    row(
        "systems_delay_avg_s",
        secs(s.systems_delay.timing.calendar.average),
        timing_band(&s.systems_delay.timing),
    );
    row(
        "systems_delay_median_s",
        secs(s.systems_delay.timing.calendar.median),
        NO_BAND,
    );
    row(
        "systems_delay_p90_s",
        secs(s.systems_delay.timing.calendar.p90),
        NO_BAND,
    );
    row(
        "systems_delay_under_5m_pct",
        rate(&s.systems_delay.under_5_minutes),
        NO_BAND,
    );
    row(
        "still_unassigned",
        s.systems_delay.still_unassigned.to_string(),
        NO_BAND,
    );
    for (name, t) in [("human_delay", &s.human_delay), ("speed_to_lead", &s.speed_to_lead)] {
        row(&format!("{name}_avg_s"), secs(t.calendar.average), timing_band(t));
        row(&format!("{name}_median_s"), secs(t.calendar.median), NO_BAND);
        row(&format!("{name}_p90_s"), secs(t.calendar.p90), NO_BAND);
        row(&format!("{name}_business_avg_s"), secs(t.business.average), NO_BAND);
        row(&format!("{name}_business_median_s"), secs(t.business.median), NO_BAND);
        row(&format!("{name}_business_p90_s"), secs(t.business.p90), NO_BAND);
    }
}

fn csv_sla(s: &Section, row: &mut CsvRow) {
    let rate = csv_rate;
    row("response_rate_pct", rate(&s.response_rate), rate_band(&s.response_rate));
    row(
        "five_minute_response_rate_pct",
        rate(&s.five_minute_response_rate),
        rate_band(&s.five_minute_response_rate),
    );
    row("lead_leakage_pct", rate(&s.lead_leakage), rate_band(&s.lead_leakage));
    row("no_response", s.no_response.to_string(), NO_BAND);
    for (lt, c) in &s.sla.by_lead_type {
        row(&format!("sla_compliance_pct[{lt}]"), rate(&c.rate), rate_band(&c.rate));
        row(&format!("sla_pending[{lt}]"), c.pending.to_string(), NO_BAND);
    }
    row(
        "sla_compliance_pct",
        rate(&s.sla.overall.rate),
        rate_band(&s.sla.overall.rate),
    );
    row("sla_pending", s.sla.overall.pending.to_string(), NO_BAND);
    row(
        "breach_escalation_rate_pct",
        rate(&s.sla.breach_escalation_rate),
        rate_band(&s.sla.breach_escalation_rate),
    );
    let e = &s.escalations;
    for (mode, n) in [("live", &e.live), ("shadow", &e.shadow)] {
        row(&format!("escalated_leads[{mode}]"), n.leads.to_string(), NO_BAND);
        row(&format!("escalated_to_manager[{mode}]"), n.manager.to_string(), NO_BAND);
        row(&format!("escalated_to_exec[{mode}]"), n.exec.to_string(), NO_BAND);
    }
}

fn csv_funnel(s: &Section, row: &mut CsvRow) {
    let rate = csv_rate;
    let f = &s.funnel;
    row(
        "sal_acceptance_pct",
        rate(&f.sal_acceptance),
        rate_band(&f.sal_acceptance),
    );
    row("rejection_pct", rate(&f.rejection), rate_band(&f.rejection));
    row(
        "rejection_reason_completion_pct",
        rate(&f.rejection_reason_completion),
        rate_band(&f.rejection_reason_completion),
    );
    row("sal_to_sql_pct", rate(&f.sal_to_sql), rate_band(&f.sal_to_sql));
    row(
        "sql_to_opportunity_pct",
        rate(&f.sql_to_opportunity),
        rate_band(&f.sql_to_opportunity),
    );
    row("mql_to_sql_pct", rate(&f.mql_to_sql), rate_band(&f.mql_to_sql));
    row("in_progress", f.in_progress.to_string(), NO_BAND);
}

/// One row per (group, metric): `group,metric,value,band`.
pub fn csv(r: &Report) -> String {
    let mut out = String::from("group,metric,value,band\n");
    csv_rows("overall", &r.overall, &mut out);
    for (k, s) in &r.groups {
        csv_rows(k, s, &mut out);
    }
    for rep in &r.reps {
        let score = rep.score.map(|s| format!("{s:.2}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "{},rep_response_score_pct,{score},n/a",
            csv_field(&format!("owner:{}", rep.owner))
        );
    }
    // Only once a policy has changed: a deployment without versions keeps its CSV as it was.
    if r.policy_versions.iter().any(|v| v.version != 1) {
        for v in &r.policy_versions {
            let _ = writeln!(out, "policy,mqls_judged_by_version[{}],{},n/a", v.version, v.mqls);
        }
    }
    if let Some(n) = r.dead_letters {
        let _ = writeln!(out, "delivery,dead_letters,{n},n/a");
    }
    out
}

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Table,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "table" => Some(Format::Table),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// A report in the asked format, with its content type: what every HTTP surface sends.
pub fn render(r: &Report, format: Format, tz: Tz) -> (&'static str, String) {
    match format {
        Format::Json => (
            "application/json",
            serde_json::to_string(r).unwrap_or_else(|_| "{}".into()),
        ),
        Format::Table => ("text/plain; charset=utf-8", table(r, tz)),
        Format::Csv => ("text/csv; charset=utf-8", csv(r)),
    }
}

/// A few lines for the metrics topic and Slack.
pub fn summary(r: &Report, day: &str) -> String {
    let s = &r.overall;
    let mut out = format!("leadclock daily rollup {day}\n");
    let _ = writeln!(
        out,
        "MQLs {} (recycled {}) · systems delay avg {} ({}) · human delay avg {} ({})",
        s.volume.mqls,
        s.volume.recycled,
        dur(s.systems_delay.timing.calendar.average),
        timing_band(&s.systems_delay.timing),
        dur(s.human_delay.calendar.average),
        timing_band(&s.human_delay)
    );
    let _ = writeln!(
        out,
        "SLA compliance {} · pending {} · breach escalation {} · response rate {} · leakage {}",
        pct(&s.sla.overall.rate),
        s.sla.overall.pending,
        short_pct(&s.sla.breach_escalation_rate),
        short_pct(&s.response_rate),
        short_pct(&s.lead_leakage)
    );
    for (lt, c) in &s.sla.by_lead_type {
        let _ = writeln!(out, "  {lt}: {}", pct(&c.rate));
    }
    let _ = writeln!(out, "Open SLAs now: {} ({} breached)", r.open_total, r.open_breached);
    for f in &r.flags {
        let _ = writeln!(out, "! {f}");
    }
    out
}

/// The escalations the MQLs earned; in shadow mode, what would have gone out.
fn escalations(out: &mut String, e: &Escalations) {
    let line = |n: &Earned| format!("{} leads (manager {}, exec {})", n.leads, n.manager, n.exec);
    let _ = writeln!(out, "           escalated {}", line(&e.live));
    if e.shadow != Earned::default() {
        let _ = writeln!(out, "           shadow mode: would have escalated {}", line(&e.shadow));
    }
}
