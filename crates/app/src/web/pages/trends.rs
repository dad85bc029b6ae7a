//! "Trends": SLA compliance per lead type, day by day and week by week, on the methodology's
//! bands; speed to lead (median and p80) with the systems / human split; volume; escalations
//! the events earned. Each point is one report of that day or week.

use super::unavailable;
use crate::handlers::dashboard::{TrendPoint, Trends};
use crate::handlers::metrics::ReportError;
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::report_format::dur;
use crate::web::format::rate;
use crate::web::layout::Page;
use crate::web::session::Viewer;
use crate::web::svg::{self, Series, Unit, YBand};
use axum::extract::State;
use axum::response::Response;
use leadclock_domain::metrics::bands::SLA_COMPLIANCE;
use maud::{html, Markup};
use std::collections::BTreeSet;

pub async fn page<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, v: Viewer) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    match state.app.trends_for(&v.scope).await {
        Ok(t) => Page::new("Trends", Some("trends"), body(&t)).render(&v),
        Err(e) => unavailable(&v, "Trends", Some("trends"), &ReportError::Store(e)),
    }
}

/// The methodology's compliance bands: good from 85%, red under 70%.
fn compliance_bands() -> Vec<YBand> {
    let good = SLA_COMPLIANCE.good.value;
    let red = SLA_COMPLIANCE.red.map_or(good, |r| r.value);
    vec![
        YBand {
            from: good,
            to: 100.0,
            class: "band-good",
        },
        YBand {
            from: red,
            to: good,
            class: "band-warning",
        },
        YBand {
            from: 0.0,
            to: red,
            class: "band-red",
        },
    ]
}

fn lead_types(points: &[TrendPoint]) -> BTreeSet<String> {
    points
        .iter()
        .flat_map(|p| p.report.overall.sla.by_lead_type.keys().cloned())
        .collect()
}

/// One compliance line per lead type, and one for all of them.
fn compliance(points: &[TrendPoint]) -> Vec<Series> {
    let mut out = vec![Series {
        name: "all lead types".into(),
        values: points
            .iter()
            .map(|p| p.report.overall.sla.overall.rate.percent)
            .collect(),
    }];
    out.extend(lead_types(points).into_iter().map(|t| {
        Series {
            values: points
                .iter()
                .map(|p| p.report.overall.sla.by_lead_type.get(&t).and_then(|c| c.rate.percent))
                .collect(),
            name: t,
        }
    }));
    out
}

fn day_labels(points: &[TrendPoint]) -> Vec<String> {
    points.iter().map(|p| p.first_day.format("%d %b").to_string()).collect()
}

fn body(t: &Trends) -> Markup {
    let days = day_labels(&t.daily);
    let weeks: Vec<String> = t
        .weekly
        .iter()
        .map(|p| format!("wk {}", p.first_day.format("%d %b")))
        .collect();
    let w = &t.weekly;
    let weekly = |f: fn(&TrendPoint) -> Option<f64>| w.iter().map(f).collect::<Vec<_>>();
    let split = [
        Series {
            name: "systems delay (median)".into(),
            values: weekly(|p| p.report.overall.systems_delay.timing.business.median),
        },
        Series {
            name: "human delay (median)".into(),
            values: weekly(|p| p.report.overall.human_delay.business.median),
        },
    ];
    let speed = [
        Series {
            name: "speed to lead, median".into(),
            values: weekly(|p| p.report.overall.speed_to_lead.business.median),
        },
        Series {
            name: "speed to lead, p80".into(),
            values: weekly(|p| p.report.overall.speed_to_lead.business.p80),
        },
    ];
    let escalations = [
        Series {
            name: "leads escalated".into(),
            values: w
                .iter()
                .map(|p| Some(p.report.overall.escalations.live.leads as f64))
                .collect(),
        },
        Series {
            name: "reached a manager".into(),
            values: w
                .iter()
                .map(|p| Some(p.report.overall.escalations.live.manager as f64))
                .collect(),
        },
        Series {
            name: "reached an executive".into(),
            values: w
                .iter()
                .map(|p| Some(p.report.overall.escalations.live.exec as f64))
                .collect(),
        },
    ];
    html! {
        h1 { "Trends" }
        h2 id="daily-compliance" { "SLA compliance, day by day" }
        p class="note" { "Leads assigned that day, met within their SLA, per lead type. Bands: good from 85%, red under 70% (the methodology's)." }
        (svg::lines("Daily SLA compliance per lead type", &days, &compliance(&t.daily), Unit::Percent, &compliance_bands()))
        h2 id="weekly-compliance" { "SLA compliance, week by week" }
        (svg::lines("Weekly SLA compliance per lead type", &weeks, &compliance(w), Unit::Percent, &compliance_bands()))
        h2 { "Speed to lead (business time)" }
        (svg::lines("Weekly speed to lead, median and p80", &weeks, &speed, Unit::Seconds, &[]))
        h2 { "Where the time goes: systems delay and human delay" }
        p class="note" { "Median systems delay (form to assignment, ops) stacked on median human delay (assignment to first touch, sales), each week." }
        (svg::stacked("Weekly median systems and human delay", &weeks, &split, &["systems", "human"], Unit::Seconds))
        h2 { "Volume" }
        (svg::bars("MQLs per day", &days, &t.daily.iter().map(|p| Some(p.report.overall.volume.mqls as f64)).collect::<Vec<_>>(), Unit::Count))
        h2 { "Escalations earned (live)" }
        p class="note" { "Leads in live mode whose events earned an escalation step, and how far up it went." }
        (svg::lines("Leads escalated per week, and how far up", &weeks, &escalations, Unit::Count, &[]))
        h2 { "The figures" }
        (table(w, &weeks))
        details {
            summary { "Day by day" }
            (table(&t.daily, &days))
        }
    }
}

fn table(points: &[TrendPoint], labels: &[String]) -> Markup {
    html! {
        div class="table-wrap" {
            table class="trend" {
                thead { tr {
                    th scope="col" { "Period" } th scope="col" { "MQLs" } th scope="col" { "SLA compliance" }
                    th scope="col" { "Speed to lead (median · p80)" } th scope="col" { "Systems delay (median)" }
                    th scope="col" { "Human delay (median)" } th scope="col" { "Escalated (all · manager · exec)" }
                } }
                tbody {
                    @for (p, label) in points.iter().zip(labels) {
                        @let s = &p.report.overall;
                        tr data-first-day=(p.first_day) {
                            th scope="row" { (label) }
                            td class="num" { (s.volume.mqls) }
                            td class="compliance" { (rate(&s.sla.overall.rate)) }
                            td { (dur(s.speed_to_lead.business.median)) " · " (dur(s.speed_to_lead.business.p80)) }
                            td { (dur(s.systems_delay.timing.business.median)) }
                            td { (dur(s.human_delay.business.median)) }
                            td class="num" { (s.escalations.live.leads) " · " (s.escalations.live.manager) " · " (s.escalations.live.exec) }
                        }
                    }
                }
            }
        }
    }
}
