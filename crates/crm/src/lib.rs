//! The vendor-facing half of the CRM integrations: each vendor's own wire format, read into
//! vendor-neutral [`Fact`]s. Nothing here knows leadclock's SLA domain; a mapper turns facts
//! into domain events with the tenant's policy.
//!
//! | module | reads |
//! |---|---|
//! | [`hubspot`] | app webhooks (JSON array), the workflow "Send a webhook" body, v1/v2 signatures |
//! | [`salesforce`] | Outbound Messages (SOAP `notifications`), and renders the `Ack` and SOAP faults |
//! | [`outreach`] | webhooks (`application/vnd.api+json`), `Outreach-Webhook-Signature` |
//! | [`salesloft`] | webhooks (`x-salesloft-event`), `x-salesloft-signature` |
//! | [`export`] | CSV exports for the history import, with a TOML column mapping |
//! | [`writeback`] | writes: the SLA figures into HubSpot contacts and Salesforce leads |
//!
//! ## The output
//!
//! Every parser returns a [`Batch`]: facts sorted by the source's own time (vendors deliver
//! out of order), each with a [`DedupeKey`], plus what was deliberately [`Ignored`] and why.
//! Ignored items are not errors: the caller answers 2xx for them, or the vendor retries for a
//! day. Errors are reserved for bodies that are not the vendor's format at all.
//!
//! A [`Fact`] is one of: `Seen` (a record exists, with its properties), `Owner` (owner changed;
//! `None` = unassigned; [`OwnerRef::queue`] for a Salesforce queue, which is not an assignment),
//! `Property` (a property changed), `Merged`, `Deleted`, `Touch` (a sales touch naming the person
//! by any of CRM record, email or the tool's own id) and `Identified` (a sales tool taught that
//! its person id has these emails / this CRM id, so later touches can be joined to a record).
//!
//! Records render as `hubspot:<portalId>:<objectId>` and `salesforce:<OrganizationId>:<RecordId>`.
//!
//! ## Dedupe keys
//!
//! Each vendor's rule, documented in its module: HubSpot (portal, object, property, occurredAt,
//! value); Salesforce the notification `Id` (and the record for creations and task ids for
//! touches, so an export and a live message agree); Outreach and Salesloft the resource id with
//! the event. Keys are valid leadclock `event_id`s (printable ASCII, no spaces or `/`, ≤ 200).

pub mod export;
pub mod fact;
pub mod hubspot;
pub mod outreach;
pub mod salesforce;
pub mod salesloft;
pub mod signature;
mod wire;
pub mod writeback;

pub use fact::{Batch, DedupeKey, Fact, IdError, Ignored, Keyed, OwnerRef, PersonRef, RecordKey, Source};
pub use signature::{SignatureError, SigningSecret};
pub use wire::json_instant;
