//! Per-route errors. Each knows its HTTP status, a stable code and the field at fault, so the
//! local server and API Gateway answer bad input the same way.

use serde::Serialize;

/// What the outside world failed at: a store, timer or notifier call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct PortError {
    pub operation: &'static str,
    pub message: String,
    /// Worth retrying (throttling, a lost race, a timeout).
    pub transient: bool,
}

impl PortError {
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            message: message.into(),
            transient: false,
        }
    }
    pub fn transient(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            message: message.into(),
            transient: true,
        }
    }
}

/// The JSON error body: `{"error": {"code", "field", "message"}}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
}

/// Anything an HTTP surface can render.
pub trait HttpError {
    fn status(&self) -> u16;
    fn code(&self) -> &'static str;
    fn field(&self) -> Option<String>;
    fn message(&self) -> String;
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
    #[error("unknown stage {stage:?}; expected sal, rejected, sql, opportunity, won, lost, disqualified or nurture")]
    UnknownStage { stage: String },
    #[error("body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("could not store the event: {0}")]
    Store(PortError),
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
            Self::UnknownLeadType { .. } | Self::UnknownStage { .. } => 422,
            Self::TooLarge { .. } => 413,
            Self::Store(e) if e.transient => 503,
            Self::Store(_) => 500,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_json",
            Self::Missing { .. } => "missing_field",
            Self::Invalid { .. } => "invalid_field",
            Self::OutOfRange { .. } => "out_of_range",
            Self::UnknownLeadType { .. } => "unknown_lead_type",
            Self::UnknownStage { .. } => "unknown_stage",
            Self::TooLarge { .. } => "body_too_large",
            Self::Store(_) => "store_unavailable",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::Missing { field } | Self::Invalid { field, .. } | Self::OutOfRange { field, .. } => {
                Some(field.clone())
            }
            Self::UnknownLeadType { .. } => Some("lead_type".into()),
            Self::UnknownStage { .. } => Some("stage".into()),
            Self::Malformed(_) | Self::TooLarge { .. } | Self::Store(_) => None,
        }
    }
    fn message(&self) -> String {
        self.to_string()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LeadError {
    #[error("lead_id {0}")]
    InvalidId(String),
    #[error("no events for lead {0:?}")]
    NotFound(String),
    #[error("could not read the lead: {0}")]
    Store(PortError),
}

impl HttpError for LeadError {
    fn status(&self) -> u16 {
        match self {
            Self::InvalidId(_) => 400,
            Self::NotFound(_) => 404,
            Self::Store(e) if e.transient => 503,
            Self::Store(_) => 500,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidId(_) => "invalid_field",
            Self::NotFound(_) => "lead_not_found",
            Self::Store(_) => "store_unavailable",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::InvalidId(_) | Self::NotFound(_) => Some("lead_id".into()),
            Self::Store(_) => None,
        }
    }
    fn message(&self) -> String {
        self.to_string()
    }
}

/// A route that does not exist, or a method it does not take.
#[derive(Debug, Clone)]
pub struct RouteError {
    pub status: u16,
    pub message: String,
}

impl HttpError for RouteError {
    fn status(&self) -> u16 {
        self.status
    }
    fn code(&self) -> &'static str {
        if self.status == 405 {
            "method_not_allowed"
        } else {
            "not_found"
        }
    }
    fn field(&self) -> Option<String> {
        None
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}
