//! The one place an error becomes an HTTP answer: status, JSON body, `Retry-After`.

use crate::error::HttpError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// A JSON body with a status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(body)).into_response()
}

/// The documented error body for any route's error.
pub fn error<E: HttpError + ?Sized>(e: &E) -> Response {
    let mut response = json(e.status(), &e.body());
    if let Some(secs) = e.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A text body (tables, CSV) with its content type.
pub fn text(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}
