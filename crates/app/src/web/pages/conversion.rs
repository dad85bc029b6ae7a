//! "Speed vs conversion": MQL → SQL by how fast the lead was answered, on the team's own
//! leads. The methodology's claim (answered within 5 minutes, 21x likelier to qualify than
//! after 30) measured where the team can see it. A cohort younger than the sales cycle is
//! "in progress", never banded.

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
    let title = "Speed vs conversion";
    let (from, to, buckets) = match state.app.speed_conversion_for(&p.query, &v.scope).await {
        Ok(x) => x,
        Err(e) => return unavailable(&v, title, Some("conversion"), &e),
    };
    let labels: Vec<String> = buckets.iter().map(|b| b.label.to_owned()).collect();
    let values: Vec<Option<f64>> = buckets.iter().map(|b| b.mql_to_sql.percent).collect();
    let body = html! {
        h1 { (title) }
        (period_picker(p.shown("quarter")))
        p class="note" { "MQLs engaged " (period(from, to, &v)) ", by business time from form to first qualifying touch, and the share that became SQL." }
        (svg::bars("MQL to SQL conversion by response time", &labels, &values, Unit::Percent))
        div class="table-wrap" {
            table id="speed-conversion" {
                caption { "MQL → SQL by response time" }
                thead { tr { th scope="col" { "Answered" } th scope="col" class="num" { "MQLs" } th scope="col" { "MQL → SQL" } } }
                tbody {
                    @for b in &buckets {
                        tr { th scope="row" { (b.label) } td class="num" { (b.mqls) } td { (rate(&b.mql_to_sql)) } }
                    }
                }
            }
        }
    };
    Page::new(title, Some("conversion"), body).keeping(p.name).render(&v)
}
