//! leadclock's domain core: no I/O, no AWS, no async runtime.
//!
//! A lead's state is a pure function of its set of events and the policy ([`lead::Lead::fold`]);
//! its clocks, deadlines and due escalations are derived from that state ([`clock`]).

pub mod calendar;
pub mod clock;
pub mod event;
pub mod lead;
pub mod merge;
pub mod metrics;
pub mod policy;
pub mod scope;
pub mod snapshot;
pub mod steps;

pub use calendar::Calendar;
pub use event::{ClockKind, Event, EventBody, EventId, LeadId, Origin, StageChange};
pub use lead::Lead;
pub use policy::Policy;
pub use scope::Scope;
