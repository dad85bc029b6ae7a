//! "Rollout": what the team sees before alerts turn on. Per lead type, today's response-time
//! distribution, the SLA it keeps and the one the data suggests (the baseline); and, for lead
//! types in shadow mode, the escalations that would have been sent.

use super::{unavailable, Period};
use crate::baseline_format::{secs, suggestion};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::query::NamedPeriod;
use crate::web::format::rate;
use crate::web::layout::{period, period_picker, Page};
use crate::web::session::Viewer;
use crate::web::svg::{self, Series, Unit};
use axum::extract::State;
use axum::response::Response;
use leadclock_domain::metrics::{Baseline, Percentiles, Report};
use leadclock_domain::policy::Mode;
use leadclock_domain::Policy;
use maud::{html, Markup};

pub async fn page<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, v: Viewer, mut p: Period) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    p.query.period = Some(p.query.period.unwrap_or(NamedPeriod::Quarter));
    let baseline = match app.baseline_for(&p.query, &v.scope).await {
        Ok(b) => b,
        Err(e) => return unavailable(&v, "Rollout", Some("rollout"), &e),
    };
    let report = match app.metrics_for(&p.query, &v.scope).await {
        Ok(r) => r,
        Err(e) => return unavailable(&v, "Rollout", Some("rollout"), &e),
    };
    let policy = app.policy_now();
    let body = html! {
        h1 { "Rollout" }
        (period_picker(p.shown("quarter")))
        p class="note" { "MQLs engaged " (period(baseline.from, baseline.to, &v)) ", measured against the policy in force now." }
        h2 { "Shadow mode: what would have been sent" }
        (shadow(&report, &policy))
        h2 { "Baseline: how fast the team answers today" }
        (distribution_chart(&baseline))
        (baseline_table(&baseline))
    };
    Page::new("Rollout", Some("rollout"), body).keeping(p.name).render(&v)
}

fn shadow(r: &Report, policy: &Policy) -> Markup {
    let shadowed: Vec<&String> = policy
        .lead_types
        .keys()
        .filter(|t| policy.mode_for(t, None) == Mode::Shadow)
        .collect();
    let e = &r.overall.escalations;
    html! {
        @if shadowed.is_empty() {
            p { "Every lead type is live: escalations are sent. Set " code { "mode = \"shadow\"" } " on a lead type or team to watch first." }
        } @else {
            p { "In shadow mode: " (shadowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) ". Nothing is sent for them; these leads earned escalations:" }
        }
        div class="cards" {
            div class="card" { div { "Would have escalated (shadow)" } div class="value" id="shadow-leads" { (e.shadow.leads) } }
            div class="card" { div { "…to a manager" } div class="value" { (e.shadow.manager) } }
            div class="card" { div { "…to an executive" } div class="value" { (e.shadow.exec) } }
            div class="card" { div { "Escalated (live)" } div class="value" id="live-leads" { (e.live.leads) } }
        }
    }
}

fn distribution_chart(b: &Baseline) -> Markup {
    let labels: Vec<String> = b.lead_types.iter().map(|t| t.lead_type.clone()).collect();
    let pick = |f: fn(&Percentiles) -> Option<i64>| -> Vec<Option<f64>> {
        b.lead_types
            .iter()
            .map(|t| f(&t.speed_to_lead.business).map(|s| s as f64))
            .collect()
    };
    let series = [
        Series {
            name: "p50".into(),
            values: pick(|p| p.p50),
        },
        Series {
            name: "p80".into(),
            values: pick(|p| p.p80),
        },
        Series {
            name: "p95".into(),
            values: pick(|p| p.p95),
        },
    ];
    html! { (svg::grouped("Speed to lead per lead type: p50, p80, p95 (business time)", &labels, &series, Unit::Seconds)) }
}

fn baseline_table(b: &Baseline) -> Markup {
    html! {
        div class="table-wrap" {
            table id="baseline" {
                caption { "Per lead type" }
                thead { tr {
                    th scope="col" { "Lead type" } th scope="col" class="num" { "MQLs" } th scope="col" { "Speed to lead p50 · p80 · p95" }
                    th scope="col" { "Current SLA" } th scope="col" { "Compliance now" } th scope="col" { "Suggested SLA" }
                } }
                tbody {
                    @for t in &b.lead_types {
                        @let p = &t.speed_to_lead.business;
                        tr {
                            th scope="row" { (t.lead_type) }
                            td class="num" { (t.leads) }
                            td { (secs(p.p50)) " · " (secs(p.p80)) " · " (secs(p.p95)) }
                            td { (t.current_sla) }
                            td { (rate(&t.compliance.rate)) }
                            td { (suggestion(&t.suggestion)) }
                        }
                    }
                }
            }
        }
    }
}
