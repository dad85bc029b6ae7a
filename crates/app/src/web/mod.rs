//! The dashboard: server-rendered HTML pages, served by the same router on both hosts (`GET /`
//! locally, the read API's function on AWS), behind a read token kept in a session cookie.
//! Charts are inline SVG drawn here; nothing is fetched from elsewhere, so the pages work
//! offline and need no Node to build or run.
//!
//! Every figure comes from the domain's metrics (the same functions as `GET /v1/metrics`), over
//! the leads the viewer's token may see. Every value written into a page goes through maud,
//! which escapes it: lead ids, owners, rejection reasons are user text.

mod format;
mod layout;
mod pages;
mod session;
mod svg;

use crate::http::ApiState;
use crate::ports::{Clock, Store};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use session::{SESSION_COOKIE, TZ_COOKIE};

/// The dashboard's routes: `/`, `/login`, `/logout`, one per page, and one lead's page.
pub fn routes<S, T, N, C>() -> Router<ApiState<S, T, N, C>>
where
    S: Store + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Clock + 'static,
{
    Router::new()
        .route("/", get(home))
        .route(
            "/login",
            get(session::form::<S, T, N, C>).post(session::login::<S, T, N, C>),
        )
        .route("/logout", post(session::logout))
        .route("/now", get(pages::now::page::<S, T, N, C>))
        .route("/trends", get(pages::trends::page::<S, T, N, C>))
        .route("/conversion", get(pages::conversion::page::<S, T, N, C>))
        .route("/people", get(pages::people::page::<S, T, N, C>))
        .route("/feedback", get(pages::feedback::page::<S, T, N, C>))
        .route("/rollout", get(pages::rollout::page::<S, T, N, C>))
        .route("/leads/{lead_id}", get(pages::lead::page::<S, T, N, C>))
}

/// `GET /`: the "Now" page, the one people open first.
async fn home() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "now")]).into_response()
}
