//! Errors at the seams. Each route has its own error enum that knows its HTTP status, a stable
//! code and the field at fault; [`crate::http`] renders all of them the same way, so both hosts
//! answer bad input identically. [`PortError`] is what an adapter (store, timers, notifier)
//! failed at, with its cause kept for logs.

use serde::Serialize;
use std::sync::Arc;

type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// What the outside world failed at: a store, timer or notifier call.
///
/// The cause is kept as the error's `source`, so a log or the Lambda runtime sees the whole
/// chain. Whether it is worth retrying is decided once, by the adapter that classified it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {source}")]
pub struct PortError {
    pub operation: &'static str,
    /// Worth retrying (throttling, a lost race, a busy or full disk, a timeout).
    pub transient: bool,
    #[source]
    source: Source,
}

/// A cause given as text, for adapters whose errors are not `std::error::Error`s.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Message(String);

impl PortError {
    /// A failure that will not heal by retrying.
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        Self::permanent(operation, Message(message.into()))
    }

    /// A failure that may heal by retrying, given as text.
    pub fn transient(operation: &'static str, message: impl Into<String>) -> Self {
        Self::from_source(operation, true, Message(message.into()))
    }

    /// A failure that will not heal by retrying, with its cause.
    pub fn permanent(operation: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::from_source(operation, false, source)
    }

    pub fn from_source(
        operation: &'static str,
        transient: bool,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            operation,
            transient,
            source: Arc::new(source),
        }
    }
}

/// The JSON error body: `{"error": {"code", "field", "message"}}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `malformed_json`, `missing_field`, `invalid_field`, `out_of_range`,
    /// `unknown_lead_type`, `unclassified`, `unknown_stage`, `body_too_large`,
    /// `unsupported_media_type`, `event_id_conflict`, `lead_event_limit`, `unauthorized`, `stale_request`,
    /// `lead_not_found`, `not_found`, `method_not_allowed` or `store_unavailable`.
    pub code: &'static str,
    /// The field, query parameter or header at fault, when one is.
    pub field: Option<String>,
    /// For people; its wording may change.
    pub message: String,
}

/// Anything an HTTP surface can render.
pub trait HttpError: std::fmt::Display {
    fn status(&self) -> u16;
    fn code(&self) -> &'static str;
    fn field(&self) -> Option<String>;
    fn message(&self) -> String {
        self.to_string()
    }
    /// Seconds a client should wait before retrying (a 503's `Retry-After`).
    fn retry_after(&self) -> Option<u32> {
        None
    }
    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                field: self.field(),
                message: self.message(),
            },
        }
    }
}

/// How long a client should wait after a transient store failure.
pub const STORE_RETRY_AFTER_SECONDS: u32 = 5;

/// Status of a store failure: 503 (retry later) when transient, else 500.
pub fn store_status(e: &PortError) -> u16 {
    if e.transient {
        503
    } else {
        500
    }
}

fn store_retry_after(e: &PortError) -> Option<u32> {
    e.transient.then_some(STORE_RETRY_AFTER_SECONDS)
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Malformed(String),
    #[error("{field} is required")]
    Missing { field: String },
    #[error("{field} {message}")]
    Invalid { field: String, message: String },
    #[error("{field} {message}")]
    OutOfRange { field: String, message: String },
    #[error("unknown lead_type {lead_type:?}; the policy knows {}", known.join(", "))]
    UnknownLeadType { lead_type: String, known: Vec<String> },
    #[error("no lead_type given and none of the policy's {rules} classification rule(s) matched; send lead_type or add a rule")]
    Unclassified { rules: usize },
    #[error("unknown stage {stage:?}; expected sal, rejected, sql, opportunity, won, lost, disqualified or nurture")]
    UnknownStage { stage: String },
    #[error("body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("content-type {received:?} is not {expected}")]
    UnsupportedMediaType { expected: &'static str, received: String },
    #[error("event_id {event_id:?} was already stored with a different body (stored {stored}, received {received}); send a new event_id, or `supersedes` to correct it")]
    Conflict {
        event_id: String,
        stored: String,
        received: String,
    },
    #[error("lead {lead_id} holds {limit} events, the most a lead may hold: this event was not stored (a correction with `supersedes` still is)")]
    LeadFull { lead_id: String, limit: u64 },
    #[error("could not store the event: {0}")]
    Store(#[source] PortError),
}

impl IngestError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
    pub(crate) fn prefixed(self, prefix: &str) -> Self {
        match self {
            Self::Invalid { field, message } => Self::Invalid {
                field: format!("{prefix}{field}"),
                message,
            },
            Self::Missing { field } => Self::Missing {
                field: format!("{prefix}{field}"),
            },
            other => other,
        }
    }
}

impl HttpError for IngestError {
    fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) | Self::Missing { .. } | Self::Invalid { .. } | Self::OutOfRange { .. } => 400,
            Self::UnknownLeadType { .. }
            | Self::UnknownStage { .. }
            | Self::Unclassified { .. }
            | Self::LeadFull { .. } => 422,
            Self::TooLarge { .. } => 413,
            Self::UnsupportedMediaType { .. } => 415,
            Self::Conflict { .. } => 409,
            Self::Store(e) => store_status(e),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "event_id_conflict",
            Self::Malformed(_) => "malformed_json",
            Self::Missing { .. } => "missing_field",
            Self::Invalid { .. } => "invalid_field",
            Self::OutOfRange { .. } => "out_of_range",
            Self::UnknownLeadType { .. } => "unknown_lead_type",
            Self::Unclassified { .. } => "unclassified",
            Self::UnknownStage { .. } => "unknown_stage",
            Self::TooLarge { .. } => "body_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::LeadFull { .. } => "lead_event_limit",
            Self::Store(_) => "store_unavailable",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::Missing { field } | Self::Invalid { field, .. } | Self::OutOfRange { field, .. } => {
                Some(field.clone())
            }
            Self::UnknownLeadType { .. } | Self::Unclassified { .. } => Some("lead_type".into()),
            Self::UnknownStage { .. } => Some("stage".into()),
            Self::Conflict { .. } => Some("event_id".into()),
            Self::LeadFull { .. } => Some("lead_id".into()),
            Self::UnsupportedMediaType { .. } => Some("content-type".into()),
            Self::Malformed(_) | Self::TooLarge { .. } | Self::Store(_) => None,
        }
    }
    fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Store(e) => store_retry_after(e),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LeadError {
    #[error("lead_id {0}")]
    InvalidId(String),
    #[error("{field} {message}")]
    InvalidQuery { field: &'static str, message: String },
    #[error("no events for lead {0:?}")]
    NotFound(String),
    #[error("could not read the lead: {0}")]
    Store(#[source] PortError),
}

impl HttpError for LeadError {
    fn status(&self) -> u16 {
        match self {
            Self::InvalidId(_) | Self::InvalidQuery { .. } => 400,
            Self::NotFound(_) => 404,
            Self::Store(e) => store_status(e),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidId(_) | Self::InvalidQuery { .. } => "invalid_field",
            Self::NotFound(_) => "lead_not_found",
            Self::Store(_) => "store_unavailable",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::InvalidId(_) | Self::NotFound(_) => Some("lead_id".into()),
            Self::InvalidQuery { field, .. } => Some((*field).into()),
            Self::Store(_) => None,
        }
    }
    fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Store(e) => store_retry_after(e),
            _ => None,
        }
    }
}

/// A failed read of the store outside a lead route (reports, stats).
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not read the store: {0}")]
pub struct StoreError(#[source] pub PortError);

impl HttpError for StoreError {
    fn status(&self) -> u16 {
        store_status(&self.0)
    }
    fn code(&self) -> &'static str {
        "store_unavailable"
    }
    fn field(&self) -> Option<String> {
        None
    }
    fn retry_after(&self) -> Option<u32> {
        store_retry_after(&self.0)
    }
}

/// A route that does not exist, a method it does not take, or a path that does not decode.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RouteError {
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("{field} {message}")]
    BadPath { field: &'static str, message: String },
}

impl HttpError for RouteError {
    fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed => 405,
            Self::BadPath { .. } => 400,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BadPath { .. } => "invalid_field",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::BadPath { field, .. } => Some((*field).to_owned()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn port_errors_keep_their_cause_and_one_transient_flag() {
        let io = std::io::Error::other("disk on fire");
        let e = PortError::from_source("append event", true, io);
        assert_eq!(e.to_string(), "append event: disk on fire");
        assert_eq!(
            e.source().map(std::string::ToString::to_string).as_deref(),
            Some("disk on fire")
        );
        let wrapped = IngestError::Store(e.clone());
        assert_eq!(
            (wrapped.status(), wrapped.retry_after()),
            (503, Some(STORE_RETRY_AFTER_SECONDS))
        );
        // The chain survives wrapping: route error -> port error -> cause.
        let mut chain = Vec::new();
        let mut next = wrapped.source();
        while let Some(s) = next {
            chain.push(s.to_string());
            next = s.source();
        }
        assert_eq!(chain, ["append event: disk on fire", "disk on fire"]);
        let permanent = IngestError::Store(PortError::new("decode event", "bad JSON"));
        assert_eq!((permanent.status(), permanent.retry_after()), (500, None));
    }
}
