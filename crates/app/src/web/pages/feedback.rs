//! "Feedback": does sales take what marketing sends? Acceptance, rejection and its reasons,
//! and whether rejections carry a reason at all (the feedback loop's completion).

use super::{unavailable, Period};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::web::format::rate;
use crate::web::layout::{period, period_picker, Page};
use crate::web::session::Viewer;
use crate::web::svg::{self, Unit};
use axum::extract::State;
use axum::response::Response;
use maud::html;

pub async fn page<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, v: Viewer, p: Period) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let report = match state.app.metrics_for(&p.query, &v.scope).await {
        Ok(r) => r,
        Err(e) => return unavailable(&v, "Feedback", Some("feedback"), &e),
    };
    let f = &report.overall.funnel;
    let mut reasons: Vec<(&String, &u64)> = f.rejection_reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let labels: Vec<String> = reasons.iter().map(|(r, _)| (*r).clone()).collect();
    let counts: Vec<Option<f64>> = reasons.iter().map(|(_, n)| Some(**n as f64)).collect();
    let body = html! {
        h1 { "Feedback" }
        (period_picker(p.shown("week")))
        p class="note" { "MQLs engaged " (period(report.from, report.to, &v)) ": " (f.mqls) "." }
        div class="table-wrap" {
            table id="feedback" {
                caption { "Sales' answer to marketing's leads" }
                tbody {
                    tr { th scope="row" { "Accepted (SAL)" } td { (rate(&f.sal_acceptance)) } }
                    tr { th scope="row" { "Rejected" } td { (rate(&f.rejection)) } }
                    tr { th scope="row" { "Rejections with a reason (feedback completion)" } td { (rate(&f.rejection_reason_completion)) } }
                    tr { th scope="row" { "Awaiting acceptance" } td class="num" { (f.awaiting_acceptance) } }
                    tr { th scope="row" { "MQL → SQL" } td { (rate(&f.mql_to_sql)) } }
                }
            }
        }
        h2 { "Rejection reasons" }
        @if reasons.is_empty() {
            p { "No lead was rejected in this period." }
        } @else {
            (svg::bars("Rejections by reason", &labels, &counts, Unit::Count))
            div class="table-wrap" {
                table id="reasons" {
                    thead { tr { th scope="col" { "Reason" } th scope="col" class="num" { "Rejections" } } }
                    tbody { @for (r, n) in &reasons { tr { th scope="row" { (r) } td class="num" { (n) } } } }
                }
            }
        }
    };
    Page::new("Feedback", Some("feedback"), body).keeping(p.name).render(&v)
}
