//! HubSpot: app webhooks ([`webhooks`]), the workflow "Send a webhook" action ([`workflow`]),
//! and the legacy v1/v2 request signatures ([`signature`]).

pub mod signature;
pub mod webhooks;
pub mod workflow;

pub use webhooks::parse_events;
pub use workflow::parse_workflow;

use crate::fact::IdError;

/// Why a HubSpot body was refused. Unknown event types are not errors (see [`crate::Batch::ignored`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubSpotError {
    #[error("body is not JSON: {0}")]
    Json(String),
    #[error("body must be a JSON array of events")]
    NotArray,
    #[error("{0} events in one request; HubSpot sends at most {max}", max = webhooks::MAX_EVENTS)]
    TooMany(usize),
    #[error("event {position}: {field} is missing or not a {expected}")]
    Field {
        position: usize,
        field: &'static str,
        expected: &'static str,
    },
    #[error("event {0}: {1}")]
    Id(usize, IdError),
    #[error("workflow body: {0}")]
    Workflow(&'static str),
    #[error("the body's portal-id {body} is not this tenant's portal {configured}")]
    PortalMismatch { body: u64, configured: u64 },
}
