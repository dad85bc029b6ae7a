//! `leadclock policy explain EVENT.json`: which `[[classify]]` rule decides a form event, and why
//! each rule before it did not.

use leadclock_domain::policy::{Classification, Explanation, Failure, LeadFacts, Part, TypedBy};
use leadclock_domain::Policy;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Longest value shown for what a condition saw; the rest is elided.
const MAX_SEEN_CHARS: usize = 60;

/// Reads the event, classifies it under the policy and prints one line per rule, then the result.
pub fn run(event: &Path, policy_file: &Path) -> Result<(), String> {
    let body = std::fs::read_to_string(event).map_err(|e| format!("cannot read {}: {e}", event.display()))?;
    let facts = facts(&body).map_err(|e| format!("{}: {e}", event.display()))?;
    let policy = crate::load_policy(policy_file)?;
    println!("{} under {}:", event.display(), policy_file.display());
    print!("{}", render(&policy, &policy.explain(&facts)));
    Ok(())
}

/// The facts of a JSON API form body (`POST /v1/events/form`): its known fields, and each
/// `attributes.NAME` as `properties.NAME`, non-string values as their JSON text as the API keeps them.
fn facts(body: &str) -> Result<LeadFacts, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("must be a JSON object, the body of POST /v1/events/form".into());
    };
    Ok(LeadFacts {
        lead_type: text(&map, "lead_type")?,
        source: text(&map, "source")?,
        region: text(&map, "region")?,
        segment: text(&map, "segment")?,
        account: text(&map, "account")?,
        score: score(&map)?,
        properties: attributes(&map)?,
    })
}

fn text(map: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

fn score(map: &Map<String, Value>) -> Result<Option<f64>, String> {
    match map.get("score") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err("score must be a number".into()),
    }
}

fn attributes(map: &Map<String, Value>) -> Result<BTreeMap<String, String>, String> {
    match map.get("attributes") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(a)) => Ok(a
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect()),
        Some(_) => Err("attributes must be an object".into()),
    }
}

/// One line per rule (its number, name and verdict), then the result.
fn render(policy: &Policy, e: &Explanation) -> String {
    let decided_by = deciding_rule(e);
    let width = e.rules.iter().map(|r| r.rule.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    if e.rules.is_empty() {
        out.push_str("  (the policy has no [[classify]] rules)\n");
    }
    for (i, trace) in e.rules.iter().enumerate() {
        let verdict = match (&trace.failure, decided_by) {
            (Some(f), _) => format!("no     {}", failure(f)),
            (None, Some(d)) if d == i => "MATCH  decides".to_owned(),
            (None, Some(d)) => format!("match  not used: rule {} decided", d + 1),
            (None, None) => "match  not used: the event's lead_type decides".to_owned(),
        };
        out.push_str(&format!("  {:>2}. {:<width$}  {verdict}\n", i + 1, trace.rule));
    }
    out.push_str(&format!("result: {}\n", result(policy, &e.result)));
    out
}

/// The index of the rule that gave the result, if a rule did.
fn deciding_rule(e: &Explanation) -> Option<usize> {
    let by_rule = matches!(
        e.result,
        Classification::Typed {
            by: TypedBy::Rule(_),
            ..
        } | Classification::Excluded { .. }
    );
    e.rules.iter().position(|r| r.failure.is_none()).filter(|_| by_rule)
}

fn failure(f: &Failure) -> String {
    let seen = match &f.seen {
        None => "missing".to_owned(),
        Some(v) if v.chars().count() > MAX_SEEN_CHARS => {
            let head: String = v.chars().take(MAX_SEEN_CHARS).collect();
            format!("saw {head:?}…")
        }
        Some(v) => format!("saw {v:?}"),
    };
    match f.part {
        Part::When => format!("{}: {seen}", f.condition),
        Part::Unless => format!("unless {}: {seen}", f.condition),
    }
}

fn result(policy: &Policy, c: &Classification) -> String {
    match c {
        Classification::Typed {
            lead_type,
            by: TypedBy::Explicit,
        } => format!("lead type {lead_type}, named by the event (an explicit lead_type wins over every rule)"),
        Classification::Typed {
            lead_type,
            by: TypedBy::Rule(rule),
        } => format!("lead type {lead_type}, by rule {rule:?}"),
        Classification::Excluded { rule, reason } => format!("excluded by rule {rule:?}: {reason}"),
        Classification::UnknownLeadType(named) => {
            let known: Vec<&str> = policy.lead_types.keys().map(String::as_str).collect();
            format!(
                "the event names lead type {named:?}, which the policy does not have ({})",
                known.join(", ")
            )
        }
        Classification::Unclassified => "unclassified: no rule matched and the event names no lead_type".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Policy {
        Policy::parse(include_str!("../../../policies/example.toml")).unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn explain(body: &str) -> String {
        let p = example();
        let facts = facts(body).unwrap_or_else(|e| panic!("{e}"));
        render(&p, &p.explain(&facts))
    }

    fn line<'a>(out: &'a str, rule: &str) -> &'a str {
        out.lines()
            .find(|l| l.contains(&format!(". {rule} ")))
            .unwrap_or_else(|| panic!("no line for {rule:?} in\n{out}"))
    }

    #[test]
    fn a_form_body_becomes_facts_with_attributes_as_properties() {
        let f = facts(
            r#"{"lead_id":"L-1","source":"organic","score":42.5,"lead_type":null,
                "attributes":{"form_name":"Demo","partner":true,"employees":250,"tags":["a"]}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.source.as_deref(), Some("organic"));
        assert_eq!(f.score, Some(42.5));
        assert_eq!(f.lead_type, None);
        assert_eq!(f.properties["form_name"], "Demo");
        assert_eq!(f.properties["partner"], "true");
        assert_eq!(f.properties["employees"], "250");
        assert_eq!(f.properties["tags"], r#"["a"]"#);
    }

    #[test]
    fn a_bad_body_is_refused_with_the_field_at_fault() {
        for (body, says) in [
            ("{", "not JSON"),
            ("[1]", "must be a JSON object"),
            (r#"{"source": 3}"#, "source must be a string"),
            (r#"{"score": "high"}"#, "score must be a number"),
            (r#"{"attributes": []}"#, "attributes must be an object"),
        ] {
            let e = facts(body).expect_err(body);
            assert!(e.contains(says), "{body}: {e}");
        }
    }

    #[test]
    fn each_rule_gets_a_line_and_the_deciding_one_is_marked() {
        let out = explain(r#"{"score": 10, "attributes": {"partner": "no", "form_name": "Request a demo"}}"#);
        assert_eq!(out.lines().count(), example().classify.len() + 1, "{out}");
        assert!(line(&out, "partners").contains(r#"properties.partner equals "true" or "yes": saw "no""#));
        assert!(line(&out, "existing customers")
            .contains(r#"properties.lifecycle_stage equals "customer" or "evangelist": missing"#));
        assert!(line(&out, "demo or pricing form").contains("MATCH  decides"));
        // A later rule that also matches is shown, but does not decide.
        assert!(
            line(&out, "low score").contains("match  not used: rule 3 decided"),
            "{out}"
        );
        assert!(
            out.ends_with("result: lead type demo_request, by rule \"demo or pricing form\"\n"),
            "{out}"
        );
    }

    #[test]
    fn an_unless_that_held_is_named() {
        let out = explain(r#"{"score": 80, "attributes": {"hs_analytics_source": "offline"}}"#);
        assert!(
            line(&out, "content MQL")
                .contains(r#"unless properties.hs_analytics_source equals "OFFLINE": saw "offline""#),
            "{out}"
        );
        assert!(
            out.ends_with("result: unclassified: no rule matched and the event names no lead_type\n"),
            "{out}"
        );
    }

    #[test]
    fn the_result_says_how_the_lead_was_classified() {
        let excluded = explain(r#"{"attributes": {"partner": "YES"}}"#);
        assert!(
            excluded.ends_with("result: excluded by rule \"partners\": partner\n"),
            "{excluded}"
        );
        let explicit = explain(r#"{"lead_type": "free_trial", "attributes": {"partner": "yes"}}"#);
        assert!(line(&explicit, "partners").contains("not used: the event's lead_type decides"));
        assert!(
            explicit.contains("result: lead type free_trial, named by the event"),
            "{explicit}"
        );
        let unknown = explain(r#"{"lead_type": "webinar"}"#);
        assert!(
            unknown.contains(r#"lead type "webinar", which the policy does not have (contact_form, content_mql, "#),
            "{unknown}"
        );
    }

    #[test]
    fn a_long_value_is_cut_short() {
        let long = "x".repeat(500);
        let out = explain(&format!(r#"{{"attributes": {{"partner": "{long}"}}}}"#));
        let partners = line(&out, "partners");
        assert!(partners.ends_with("…"), "{partners}");
        assert!(partners.chars().count() < 160, "{partners}");
    }
}
