//! CloudWatch Embedded Metric Format: each metric event of [`leadclock_app::telemetry`]
//! becomes one JSON line on stdout, which CloudWatch Logs turns into a metric in the stack's
//! namespace. No PutMetricData call, no extra permission, no agent.
//!
//! A line is the EMF document (`_aws` with the timestamp and one metric directive), the metric's
//! value under its name, its dimension (if any) as a string member, and every other field of
//! the event as a property: searchable in Logs Insights, never a metric of its own.

use leadclock_app::telemetry::{metric_named, TARGET};
use serde_json::{json, Map, Value};
use std::fmt;
use std::sync::Arc;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Where finished lines go: stdout in a Lambda, a buffer in tests.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// The tracing layer that writes metric events as EMF lines.
pub struct EmfLayer {
    namespace: String,
    sink: Sink,
}

impl EmfLayer {
    pub fn new(namespace: impl Into<String>, sink: Sink) -> Self {
        EmfLayer {
            namespace: namespace.into(),
            sink,
        }
    }

    /// Lines to stdout, one `write` each so concurrent lines never interleave.
    pub fn stdout(namespace: impl Into<String>) -> Self {
        Self::new(
            namespace,
            Arc::new(|line: &str| {
                use std::io::Write;
                let _ = std::io::stdout().lock().write_all(format!("{line}\n").as_bytes());
            }),
        )
    }
}

impl<S: Subscriber> Layer<S> for EmfLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let now = chrono::Utc::now().timestamp_millis();
        if let Some(line) = emf_line(&self.namespace, fields.0, now) {
            (self.sink)(&line);
        }
    }
}

/// The EMF document for one metric event's fields, or `None` when the event names no known
/// metric, has no numeric value, or lacks its dimension (CloudWatch would drop such a line).
pub fn emf_line(namespace: &str, mut fields: Map<String, Value>, timestamp_ms: i64) -> Option<String> {
    let metric = metric_named(fields.remove("metric")?.as_str()?)?;
    let value = fields.remove("value")?.as_u64()?;
    if let Some(d) = metric.dimension {
        fields.get(d)?.as_str()?;
    }
    let dimensions: Vec<&str> = metric.dimension.into_iter().collect();
    fields.insert(metric.name.to_owned(), json!(value));
    fields.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dimensions],
                "Metrics": [{ "Name": metric.name, "Unit": metric.unit }],
            }],
        }),
    );
    Some(Value::Object(fields).to_string())
}

/// A tracing event's fields as JSON values.
#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), json!(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), json!(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), json!(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), json!(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), json!(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadclock_app::outbox::Channel;
    use leadclock_app::telemetry::{self, METRICS};
    use leadclock_domain::steps::StepKey;
    use leadclock_domain::ClockKind;
    use std::sync::Mutex;
    use tracing_subscriber::layer::SubscriberExt;

    /// The EMF lines `f` produces, parsed.
    fn lines_of(f: impl FnOnce()) -> Vec<Value> {
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = seen.clone();
        let layer = EmfLayer::new(
            "leadclock/test",
            Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_owned())),
        );
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
        let lines = seen.lock().unwrap().clone();
        lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// What the EMF specification requires of a document: a directive whose every metric has a
    /// number at the root and whose every dimension has a string there.
    fn assert_valid_emf(doc: &Value) {
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].is_i64(), "{doc}");
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1, "{doc}");
        let d = &directives[0];
        assert_eq!(d["Namespace"], "leadclock/test");
        for set in d["Dimensions"].as_array().unwrap() {
            for key in set.as_array().unwrap() {
                assert!(doc[key.as_str().unwrap()].is_string(), "dimension {key} in {doc}");
            }
        }
        for m in d["Metrics"].as_array().unwrap() {
            assert!(doc[m["Name"].as_str().unwrap()].is_number(), "{doc}");
            assert_eq!(m["Unit"], "Count");
        }
    }

    #[test]
    fn each_metric_event_is_one_valid_emf_line() {
        let step = StepKey {
            cycle: 1,
            clock: ClockKind::Response,
            step: 2,
        };
        let lines = lines_of(|| {
            telemetry::events_ingested("form", 3);
            telemetry::events_ingested("touch", 0); // nothing new: no line
            telemetry::sla_outcomes("demo_request", 7, 2);
            telemetry::escalation_delivered(&step, Channel::Sns);
            telemetry::delivery_failed(Channel::Slack, true);
            tracing::info!(lead_id = "L-1", "not a metric");
        });
        lines.iter().for_each(assert_valid_emf);
        let names: Vec<&str> = lines
            .iter()
            .map(|l| {
                l["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            names,
            [
                "EventsIngested",
                "SlaMet",
                "SlaMissed",
                "EscalationsDelivered",
                "DeliveryFailures"
            ]
        );
        assert_eq!(
            (lines[0]["EventsIngested"].as_u64(), lines[0]["kind"].as_str()),
            (Some(3), Some("form"))
        );
        assert_eq!(
            lines[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["kind"]])
        );
        assert_eq!(
            (lines[1]["SlaMet"].as_u64(), lines[2]["SlaMissed"].as_u64()),
            (Some(7), Some(2))
        );
        // Lead type, step and channel are properties, not dimensions: no metric of their own.
        assert_eq!(lines[1]["lead_type"], "demo_request");
        assert_eq!(lines[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert_eq!(
            (&lines[3]["clock"], &lines[3]["step"], &lines[3]["channel"]),
            (&json!("response"), &json!(2), &json!("sns"))
        );
        assert_eq!(
            (&lines[4]["channel"], &lines[4]["dead"]),
            (&json!("slack"), &json!(true))
        );
    }

    #[test]
    fn a_line_without_its_metric_value_or_dimension_is_not_written() {
        let f = |v: Value| v.as_object().unwrap().clone();
        assert!(emf_line("ns", f(json!({"metric": "EventsIngested", "value": 1})), 0).is_none());
        assert!(emf_line("ns", f(json!({"metric": "Nope", "value": 1})), 0).is_none());
        assert!(emf_line("ns", f(json!({"metric": "SlaMet"})), 0).is_none());
        assert!(emf_line("ns", f(json!({"metric": "SlaMet", "value": 4})), 0).is_some());
    }

    /// The cost table's figure: custom metrics are billed per metric and dimension value.
    #[test]
    fn the_metrics_stay_within_ten_streams_and_three_dollars_a_month() {
        let kinds = ["form", "assignment", "touch", "stage", "void"];
        let streams: usize = METRICS
            .iter()
            .map(|m| if m.dimension.is_some() { kinds.len() } else { 1 })
            .sum();
        assert_eq!(streams, 9);
        let dollars = streams as f64 * 0.30;
        assert!(dollars < 3.0, "{dollars}");
    }
}
