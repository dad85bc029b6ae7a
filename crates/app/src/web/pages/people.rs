//! "People": each rep's response score (the methodology's rubric) and rank, and per team the
//! manager's view: compliance, speed and response rate of the team's leads.

use super::{unavailable, Period};
use crate::http::ApiState;
use crate::ports::{Clock, Store};
use crate::web::format::{rate, timing};
use crate::web::layout::{period, period_picker, Page};
use crate::web::session::Viewer;
use axum::extract::State;
use axum::response::Response;
use leadclock_domain::metrics::{Dimension, RepScore, Report};
use maud::{html, Markup};

/// The rubric's rows, as the distribution counts them.
const RUBRIC: [&str; 7] = [
    "under 5 min",
    "5-15 min",
    "15-60 min",
    "1-4 h",
    "4-8 h",
    "8 h+ / next day",
    "none",
];

pub async fn page<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>, v: Viewer, mut p: Period) -> Response
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    p.query.by = Some(Dimension::Team);
    let report = match state.app.metrics_for(&p.query, &v.scope).await {
        Ok(r) => r,
        Err(e) => return unavailable(&v, "People", Some("people"), &e),
    };
    let reps = ranked(&report);
    let body = html! {
        h1 { "People" }
        (period_picker(p.shown("week")))
        p class="note" { "Leads assigned " (period(report.from, report.to, &v)) "." }
        h2 { "Rep response scores" }
        (rep_table(&reps))
        h2 { "Teams" }
        (team_table(&report))
    };
    Page::new("People", Some("people"), body).keeping(p.name).render(&v)
}

/// The reps of the viewer's report (already cut to their scope), best score first (unscored last).
fn ranked(r: &Report) -> Vec<&RepScore> {
    let mut reps: Vec<&RepScore> = r.reps.iter().collect();
    reps.sort_by(|a, b| {
        b.score
            .unwrap_or(-1.0)
            .total_cmp(&a.score.unwrap_or(-1.0))
            .then_with(|| a.owner.cmp(&b.owner))
    });
    reps
}

fn rep_table(reps: &[&RepScore]) -> Markup {
    html! {
        @if reps.is_empty() {
            p { "No rep had a lead assigned in this period." }
        } @else {
            div class="table-wrap" {
                table id="reps" {
                    caption { "Score = points / (leads × 10) × 100, from the rubric (10 points under 5 minutes … 0 for no response)" }
                    thead { tr {
                        th scope="col" class="num" { "Rank" } th scope="col" { "Rep" } th scope="col" class="num" { "Score" }
                        th scope="col" class="num" { "Leads" } th scope="col" class="num" { "Pending" }
                        @for r in RUBRIC { th scope="col" class="num" { (r) } }
                    } }
                    tbody {
                        @for (i, s) in reps.iter().enumerate() {
                            tr {
                                td class="num" { (i + 1) }
                                th scope="row" { (s.owner) }
                                td class="num score" { @if let Some(x) = s.score { (format!("{x:.0}")) } @else { "n/a" } }
                                td class="num" { (s.leads) }
                                td class="num" { (s.pending) }
                                @for n in s.distribution { td class="num" { (n) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn team_table(r: &Report) -> Markup {
    html! {
        div class="table-wrap" {
            table id="teams" {
                caption { "Per team (the team of the lead's first owner)" }
                thead { tr {
                    th scope="col" { "Team" } th scope="col" { "SLA compliance" } th scope="col" { "Human delay (business)" }
                    th scope="col" { "Response rate" } th scope="col" { "Leads escalated" }
                } }
                tbody {
                    @for (team, s) in &r.groups {
                        tr {
                            th scope="row" { (team) }
                            td { (rate(&s.sla.overall.rate)) }
                            td { (timing(&s.human_delay)) }
                            td { (rate(&s.response_rate)) }
                            td class="num" { (s.escalations.live.leads) }
                        }
                    }
                }
            }
        }
    }
}
