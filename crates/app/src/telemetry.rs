//! Counts for operators' dashboards, as tracing events on one target, [`TARGET`]. The AWS
//! host turns each into a CloudWatch Embedded Metric Format line (`leadclock_aws::emf`); the
//! local host keeps them out of its log. Every metric leadclock publishes is named here.
//!
//! Custom metrics are billed per metric and dimension value ($0.30 a month each in the first
//! tier), so only `EventsIngested` has a dimension (its five kinds): nine metric streams in all,
//! $2.70 a month. Lead type, step and channel ride along as log properties, for Logs Insights,
//! without creating metrics. Rollup duration is the rollup function's own `AWS/Lambda`
//! `Duration`, which costs nothing extra.

use crate::outbox::Channel;
use leadclock_domain::steps::StepKey;

/// The tracing target of every metric event.
pub const TARGET: &str = "leadclock::metric";

/// One metric, its unit, and the field that is its one dimension, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    pub name: &'static str,
    pub unit: &'static str,
    pub dimension: Option<&'static str>,
}

pub const EVENTS_INGESTED: MetricDef = MetricDef {
    name: "EventsIngested",
    unit: "Count",
    dimension: Some("kind"),
};
pub const SLA_MET: MetricDef = MetricDef {
    name: "SlaMet",
    unit: "Count",
    dimension: None,
};
pub const SLA_MISSED: MetricDef = MetricDef {
    name: "SlaMissed",
    unit: "Count",
    dimension: None,
};
pub const ESCALATIONS_DELIVERED: MetricDef = MetricDef {
    name: "EscalationsDelivered",
    unit: "Count",
    dimension: None,
};
pub const DELIVERY_FAILURES: MetricDef = MetricDef {
    name: "DeliveryFailures",
    unit: "Count",
    dimension: None,
};

/// Every metric, for the EMF writer and the dashboard.
pub const METRICS: [MetricDef; 5] = [
    EVENTS_INGESTED,
    SLA_MET,
    SLA_MISSED,
    ESCALATIONS_DELIVERED,
    DELIVERY_FAILURES,
];

/// The metric a tracing event named, by name.
pub fn metric_named(name: &str) -> Option<MetricDef> {
    METRICS.into_iter().find(|m| m.name == name)
}

/// New events stored (not repeats), of one kind.
pub fn events_ingested(kind: &'static str, count: u64) {
    if count > 0 {
        tracing::info!(target: TARGET, metric = EVENTS_INGESTED.name, value = count, kind);
    }
}

/// The nightly rollup's response-clock outcomes of one lead type for the day it reports.
pub fn sla_outcomes(lead_type: &str, met: u64, missed: u64) {
    tracing::info!(target: TARGET, metric = SLA_MET.name, value = met, lead_type);
    tracing::info!(target: TARGET, metric = SLA_MISSED.name, value = missed, lead_type);
}

/// A channel accepted an escalation step's message.
pub fn escalation_delivered(step: &StepKey, channel: Channel) {
    tracing::info!(
        target: TARGET,
        metric = ESCALATIONS_DELIVERED.name,
        value = 1u64,
        clock = step.clock.as_str(),
        step = step.step,
        channel = channel.as_str()
    );
}

/// A send failed (it is retried unless `dead`).
pub fn delivery_failed(channel: Channel, dead: bool) {
    tracing::info!(
        target: TARGET,
        metric = DELIVERY_FAILURES.name,
        value = 1u64,
        channel = channel.as_str(),
        dead
    );
}
