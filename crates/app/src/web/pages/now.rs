//! "Now": every running clock the viewer owns or oversees, soonest breach (business time)
//! first, breached and at-risk rows marked. Reloads itself every minute.

use super::unavailable;
use crate::handlers::metrics::ReportError;
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::web::format::{lead_href, to_breach};
use crate::web::layout::{when, Page};
use crate::web::session::Viewer;
use axum::extract::State;
use axum::response::Response;
use chrono_tz::Tz;
use leadclock_domain::clock::ClockStatus;
use leadclock_domain::metrics::Queued;
use maud::{html, Markup};

/// Seconds between reloads.
const REFRESH_SECONDS: u32 = 60;

pub async fn page<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, v: Viewer) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    match app.queue_for(&v.scope).await {
        Ok(queue) => {
            let mut page = Page::new("Now", Some("now"), body(&queue, &v, app.policy.reporting_timezone));
            page.refresh = Some(REFRESH_SECONDS);
            page.render(&v)
        }
        Err(e) => unavailable(&v, "Now", Some("now"), &ReportError::Store(e)),
    }
}

/// What a row is: breached, at risk, or on track.
fn state_of(q: &Queued) -> (&'static str, &'static str) {
    match q.status {
        ClockStatus::Breached => ("breached", "Breached"),
        _ if q.at_risk => ("at-risk", "At risk"),
        _ => ("", "On track"),
    }
}

fn body(queue: &[Queued], v: &Viewer, reporting: Tz) -> Markup {
    let breached = queue.iter().filter(|q| q.status == ClockStatus::Breached).count();
    let at_risk = queue
        .iter()
        .filter(|q| q.at_risk && q.status != ClockStatus::Breached)
        .count();
    html! {
        h1 { "Now" }
        div class="cards" {
            div class="card" { div { "Open clocks" } div class="value" id="open-count" { (queue.len()) } }
            div class="card" { div { "Breached" } div class="value" id="breached-count" { (breached) } }
            div class="card" { div { "At risk (under a quarter of the SLA left)" } div class="value" id="at-risk-count" { (at_risk) } }
        }
        @if queue.is_empty() {
            p { "No clock is running: every lead in view is assigned and answered." }
        } @else {
            div class="table-wrap" {
                table id="queue" {
                    caption { "Open leads, soonest breach first (business time left on the clock's calendar)" }
                    thead { tr {
                        th scope="col" { "Lead" } th scope="col" { "Lead type" } th scope="col" { "Owner" }
                        th scope="col" { "Clock" } th scope="col" { "State" } th scope="col" { "Time to breach" }
                        th scope="col" { "Deadline" } th scope="col" { "Next step" }
                    } }
                    tbody {
                        @for q in queue {
                            @let (class, label) = state_of(q);
                            tr class=(class) data-lead=(q.lead_id) {
                                th scope="row" {
                                    @if let Some(href) = lead_href(&v.root.0, &q.lead_id) { a href=(href) { (q.lead_id) } }
                                    @else { (q.lead_id) }
                                }
                                td { (q.lead_type) }
                                td { (q.owner.as_deref().unwrap_or("unassigned")) }
                                td { (q.clock.as_str()) }
                                td { @if class.is_empty() { (label) } @else { span class={ "badge " (class) } { (label) } } }
                                td class="num" { (to_breach(q.business_seconds_left)) }
                                td { @if let Some(d) = q.deadline { (when(d, v, reporting)) } @else { "none" } }
                                td { @if let Some((name, at)) = &q.next_step { (name) " at " (when(*at, v, reporting)) } @else { "none left" } }
                            }
                        }
                    }
                }
            }
        }
        p class="note" { "This page reloads every minute." }
    }
}
