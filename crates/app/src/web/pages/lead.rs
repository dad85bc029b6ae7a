//! One lead: its clocks drawn on a time axis with the calendar's business hours shaded, the
//! deadlines and escalation steps marked, then its escalations and timeline as tables.

use super::unavailable;
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::view::{LeadView, TimelinePage};
use crate::web::layout::{when, Page};
use crate::web::session::Viewer;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use leadclock_domain::clock::{human_duration, ClockStatus, ClockView};
use leadclock_domain::Policy;
use maud::{html, Markup};

pub async fn page<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, v: Viewer, Path(id): Path<String>) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    let app = &state.app;
    match app.lead_page_for(&id, &TimelinePage::default(), &v.scope).await {
        Ok(lead) => {
            let policy = app.policy_now();
            let body = body(&lead, &policy, &v, app.policy.reporting_timezone);
            Page::new(format!("Lead {}", lead.lead_id), None, body).render(&v)
        }
        Err(e) => unavailable(&v, "Lead", None, &e),
    }
}

pub fn status_label(s: ClockStatus) -> &'static str {
    match s {
        ClockStatus::Running => "running",
        ClockStatus::Breached => "breached",
        ClockStatus::Met => "met",
        ClockStatus::Missed => "missed",
        ClockStatus::Closed => "closed",
    }
}

fn body(lead: &LeadView, policy: &Policy, v: &Viewer, reporting: Tz) -> Markup {
    let at = |t: DateTime<Utc>| when(t, v, reporting);
    html! {
        h1 { "Lead " (lead.lead_id) }
        p {
            "Stage " strong { (lead.stage) } " · lead type " strong { (lead.lead_type.as_deref().unwrap_or("unclassified")) }
            " · owner " strong { (lead.owner.as_ref().map_or("unassigned", |o| o.owner.as_str())) }
            " · judged by policy version " (lead.policy_version)
        }
        h2 { "Clocks" }
        @if lead.clocks.is_empty() {
            p { "No clock in the current cycle." }
        } @else {
            (timeline(&lead.clocks, policy, lead.as_of))
            div class="table-wrap" {
                table id="clocks" {
                    thead { tr {
                        th scope="col" { "Clock" } th scope="col" { "Status" } th scope="col" { "Calendar" } th scope="col" { "Started" }
                        th scope="col" { "Deadline" } th scope="col" { "Stopped" } th scope="col" class="num" { "Business time" }
                    } }
                    tbody {
                        @for c in &lead.clocks {
                            tr {
                                th scope="row" { (c.clock.as_str()) }
                                td { span class={ "badge " (status_label(c.status)) } { (status_label(c.status)) } }
                                td { (c.calendar) }
                                td { (at(c.started_at)) }
                                td { @if let Some(d) = c.deadline { (at(d)) } @else { "none" } }
                                td { @if let Some(s) = c.stopped_at { (at(s)) } @else { "running" } }
                                td class="num" { (human_duration(c.elapsed_business_seconds)) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(n) = &lead.next_escalation {
            p { "Next escalation: " strong { (n.name) } " (" (n.clock.as_str()) " clock, step " (n.step) ") at " (at(n.due_at)) }
        }
        h2 { "Escalations" }
        @if lead.escalations.is_empty() {
            p { "None recorded." }
        } @else {
            div class="table-wrap" {
                table id="escalations" {
                    thead { tr { th scope="col" { "Clock" } th scope="col" class="num" { "Step" } th scope="col" { "Due" } th scope="col" { "Outcome" } th scope="col" { "Why" } } }
                    tbody {
                        @for e in &lead.escalations {
                            tr { td { (e.clock.as_str()) } td class="num" { (e.step) } td { (at(e.due_at)) } td { (e.status.as_str()) } td { (e.reason) } }
                        }
                    }
                }
            }
        }
        h2 { "Timeline" }
        div class="table-wrap" {
            table id="timeline" {
                thead { tr { th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "What" } } }
                tbody {
                    @for e in &lead.timeline {
                        tr { td { (at(e.occurred_at)) } td { (e.kind) } td { (e.summary) @if e.voided_by.is_some() { " (voided)" } } }
                    }
                }
            }
        }
        @if lead.timeline_total > lead.timeline.len() {
            p class="note" { "First " (lead.timeline.len()) " of " (lead.timeline_total) " entries; the API pages through the rest." }
        }
    }
}

const W: f64 = 900.0;
const LEFT: f64 = 90.0;
const ROW: f64 = 34.0;

/// The clocks on one time axis: business hours shaded (each clock's own calendar), each
/// clock a bar from start to stop (or now), its deadline a dashed line, its steps ticks.
fn timeline(clocks: &[ClockView], policy: &Policy, now: DateTime<Utc>) -> Markup {
    let start = clocks.iter().map(|c| c.started_at).min().unwrap_or(now);
    let end_of = |c: &ClockView| c.stopped_at.unwrap_or(now).max(c.deadline.unwrap_or(start));
    let end = clocks
        .iter()
        .map(end_of)
        .max()
        .unwrap_or(now)
        .max(now.min(start + Duration::days(14)));
    let span = (end - start).num_seconds().max(60) as f64;
    let (from, to) = (
        start - Duration::seconds((span * 0.03) as i64),
        end + Duration::seconds((span * 0.05) as i64),
    );
    let total = (to - from).num_seconds().max(1) as f64;
    let x = |t: DateTime<Utc>| LEFT + ((t - from).num_seconds() as f64 / total).clamp(0.0, 1.0) * (W - LEFT - 10.0);
    let height = ROW * clocks.len() as f64 + 30.0;
    html! {
        svg class="chart" viewBox={ "0 0 " (W) " " (height) } role="img"
            aria-label="The lead's clocks on a time axis, business hours shaded" {
            title { "Clocks on a time axis; shaded bands are business hours of each clock's calendar" }
            @for (i, c) in clocks.iter().enumerate() {
                @let y = 8.0 + ROW * i as f64;
                @for (a, b) in policy.calendar(&c.calendar).open_spans(from, to) {
                    rect class="open-hours" x=(x(a)) width=((x(b) - x(a)).max(1.0)) y=(y) height=(ROW - 6.0) {
                        title { "business hours (" (c.calendar) ")" }
                    }
                }
                text x="4" y=(y + ROW / 2.0) { (c.clock.as_str()) }
                rect class="clock-bar" x=(x(c.started_at)) width=((x(c.stopped_at.unwrap_or(now)) - x(c.started_at)).max(2.0))
                    y=(y + 10.0) height="8" data-clock=(c.clock.as_str()) {
                    title { (c.clock.as_str()) " clock, " (status_label(c.status)) }
                }
                @if let Some(d) = c.deadline {
                    line class="deadline" x1=(x(d)) x2=(x(d)) y1=(y) y2=(y + ROW - 6.0) { title { "deadline" } }
                }
                @for s in &c.steps {
                    line class="axis" x1=(x(s.due_at)) x2=(x(s.due_at)) y1=(y + 4.0) y2=(y + 24.0) { title { "step " (s.index) ": " (s.name) } }
                }
            }
            line class="now" x1=(x(now)) x2=(x(now)) y1="2" y2=(height - 24.0) { title { "now" } }
            text x=(LEFT) y=(height - 6.0) { (start.format("%Y-%m-%d %H:%M UTC")) }
            text x=(W - 10.0) y=(height - 6.0) text-anchor="end" { (to.format("%Y-%m-%d %H:%M UTC")) }
        }
    }
}
