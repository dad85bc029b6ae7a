//! One module per page, each readable top to bottom: read what the page needs through [`App`],
//! then lay it out.
//!
//! [`App`]: crate::App

pub mod conversion;
pub mod feedback;
pub mod lead;
pub mod now;
pub mod people;
pub mod rollout;
pub mod trends;

use super::layout::{self, Page};
use super::session::Viewer;
use crate::error::HttpError;
use crate::query::{RawReportQuery, ReportQuery};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;

/// A page whose data could not be read: the frame with the reason, and the status an API
/// read would have answered (503 for a store that failed for now).
pub fn unavailable(v: &Viewer, title: &str, active: Option<&'static str>, e: &dyn HttpError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = Page::new(title, active, layout::problem(&e.message())).render(v);
    *res.status_mut() = status;
    res
}

/// The period a report page shows: `?period=` (a named period), checked; other parameters
/// (`tz`) are the frame's.
pub struct Period {
    pub query: ReportQuery,
    /// As the picker names it; `None` for the page's default.
    pub name: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawPeriod {
    period: Option<String>,
}

impl<St: Send + Sync> FromRequestParts<St> for Period {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Response> {
        let refuse = |message: String| {
            let body = layout::bare("Bad request", layout::problem(&message));
            layout::respond(StatusCode::BAD_REQUEST, body)
        };
        let Query(raw) = Query::<RawPeriod>::from_request_parts(parts, state)
            .await
            .map_err(|rej| refuse(format!("The query could not be read: {}", rej.body_text())))?;
        let query = RawReportQuery {
            period: raw.period.clone(),
            ..RawReportQuery::default()
        };
        let query = ReportQuery::parse(&query)
            .map_err(|e| refuse(format!("{}: {}", e.field().unwrap_or_default(), e.message())))?;
        Ok(Period {
            query,
            name: raw.period.map(|p| p.trim().to_owned()),
        })
    }
}

impl Period {
    /// The picker's value: the one asked for, else the page's default.
    pub fn shown<'a>(&'a self, default: &'a str) -> &'a str {
        self.name.as_deref().unwrap_or(default)
    }
}
