//! Inbound adapters: one file per payload format, each turning a request into domain events.
//!
//! A format knows its wire shape and nothing of the SLA rules; the handlers know the rules
//! and nothing of the wire. To add a format (a CRM's webhook, an export file), write a type
//! that implements [`PayloadFormat`] in a new file here and mount a route for it in
//! [`crate::http`]; the store, the fold, the timers and the metrics need no change.

pub mod batch;
pub mod bodies;
pub mod classify;
pub mod crm;
pub mod leadclock_json;

pub use leadclock_json::{Kind, LeadclockJson};

use crate::error::IngestError;
use chrono::{DateTime, Utc};
use leadclock_domain::{Event, Policy};

/// One request as an inbound adapter sees it, whatever the host.
pub struct Inbound<'a> {
    /// The raw body, exactly as received (signatures are over these bytes).
    pub body: &'a [u8],
    /// Header lookup by lower-case name.
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// When leadclock received it, by the injected clock.
    pub received_at: DateTime<Utc>,
}

impl<'a> Inbound<'a> {
    /// A request with no headers: for the CLI, tests and imports.
    pub fn body(body: &'a [u8], received_at: DateTime<Utc>) -> Self {
        Inbound {
            body,
            header: &no_header,
            received_at,
        }
    }
}

fn no_header(_: &str) -> Option<String> {
    None
}

/// A payload format: the domain events one request carries.
pub trait PayloadFormat: Send + Sync {
    /// The format's name in logs.
    fn name(&self) -> &'static str;

    /// The events the request carries, in the order given; an error names the field at fault.
    fn events(&self, request: &Inbound<'_>, policy: &Policy) -> Result<Vec<Event>, IngestError>;

    /// Whether an id stored before with a different body is answered `409 event_id_conflict`
    /// (the JSON API: the client chose the id) or taken as a repeat (a vendor's own dedupe key,
    /// which vendors resend with changed details and must never see refused).
    fn refuses_conflicts(&self) -> bool {
        true
    }
}
