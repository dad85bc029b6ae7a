//! Issue 11's history case, end to end on the real handlers and SQLite: a two-week CRM history
//! (320 leads, five lead types, two regions) posted to a fresh server after the fact pages
//! nobody, and its metrics are byte-identical whatever the arrival order, however many
//! duplicates, and whether or not the events say they are history.

mod support;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use leadclock_app::inbound::Kind;
use leadclock_app::ports::StepLog;
use leadclock_domain::steps::StepStatus;
use leadclock_domain::LeadId;
use serde_json::{json, Value};
use support::{harness, ny, weekday, Harness, Lcg};

const LEADS: usize = 320;
const TYPES: [&str; 5] = [
    "demo_request",
    "free_trial",
    "contact_form",
    "content_mql",
    "event_attendee",
];

/// One lead's webhooks: a form in business hours, usually an assignment minutes later
/// (sometimes late, sometimes never), usually a touch (sometimes hours later), now and then a
/// stage change. Leads alternate between the regions and their reps.
fn lead_events(i: usize, rng: &mut Lcg, start: NaiveDate) -> Vec<(Kind, Value)> {
    let lead = format!("hist-{i:03}");
    let day = weekday(start, i, 10);
    let (region, owner) = if i.is_multiple_of(2) {
        ("na", ["alice", "bob"][i % 4 / 2])
    } else {
        ("emea", "amelie")
    };
    let hour = if region == "na" {
        9 + rng.below(7) as u32
    } else {
        4 + rng.below(6) as u32
    }; // NY time
    let form_at = ny(day, hour, rng.below(60) as u32);
    let at = |d: Duration| (form_at + d).to_rfc3339();
    let mut out = vec![(
        Kind::Form,
        json!({"lead_id": lead, "occurred_at": at(Duration::zero()), "lead_type": TYPES[i % 5],
               "source": "organic", "region": region}),
    )];
    let assigned = Duration::minutes(rng.below(12) as i64) + Duration::seconds(rng.below(60) as i64);
    if rng.below(10) < 9 {
        out.push((
            Kind::Assignment,
            json!({"lead_id": lead, "occurred_at": at(assigned), "owner": owner}),
        ));
        if rng.below(10) < 8 {
            let touched = assigned + Duration::minutes(1 + rng.below(600) as i64);
            out.push((
                Kind::Touch,
                json!({"lead_id": lead, "occurred_at": at(touched), "channel": "call", "outcome": "connected"}),
            ));
            if rng.below(3) == 0 {
                let stage = ["sal", "rejected"][rng.below(2) as usize];
                out.push((
                    Kind::Stage,
                    json!({"lead_id": lead, "occurred_at": at(touched + Duration::hours(2)), "stage": stage,
                           "reason": "not a fit"}),
                ));
            }
        }
    }
    out
}

fn history(start: NaiveDate) -> Vec<(Kind, Value)> {
    let mut rng = Lcg(11);
    (0..LEADS).flat_map(|i| lead_events(i, &mut rng, start)).collect()
}

/// Shuffled, with 10% of the events sent twice.
fn shuffled_with_repeats(events: &[(Kind, Value)]) -> Vec<(Kind, Value)> {
    let mut rng = Lcg(2026);
    let mut out = events.to_vec();
    for _ in 0..events.len() / 10 {
        out.push(events[rng.below(events.len() as u64) as usize].clone());
    }
    for i in (1..out.len()).rev() {
        out.swap(i, rng.below(i as u64 + 1) as usize);
    }
    out
}

fn marked_history(events: &[(Kind, Value)]) -> Vec<(Kind, Value)> {
    events
        .iter()
        .map(|(k, v)| {
            let mut v = v.clone();
            v["history"] = json!(true);
            (*k, v)
        })
        .collect()
}

struct Replay {
    report_json: String,
    leads_json: String,
    timelines_json: String,
    delivered: usize,
    outcomes: std::collections::BTreeMap<String, usize>,
}

/// Posts `events` to a fresh server at `now`, lets every settle window end and every due step
/// be decided, and returns the report and what was delivered.
async fn replay(tag: &str, events: &[(Kind, Value)], now: DateTime<Utc>) -> Replay {
    let h: Harness = harness(tag, now);
    for (kind, body) in events {
        let r = h.app.ingest(*kind, body.to_string().as_bytes()).await;
        assert!(r.is_ok(), "{body}: {:?}", r.err());
    }
    h.app.clock.advance(Duration::seconds(61));
    h.app.sweep(Duration::zero()).await.unwrap();
    h.app.dispatch().await.unwrap();
    let mut delivered = 0;
    let mut outcomes = std::collections::BTreeMap::new();
    let mut leads = Vec::new();
    let mut timelines = Vec::new();
    for i in 0..LEADS {
        let id = LeadId::parse(&format!("hist-{i:03}")).unwrap();
        for r in h.app.store.steps(&id).await.unwrap() {
            assert!(r.status.is_decided(), "{id} step {:?} still {:?}", r.key, r.status);
            delivered += usize::from(matches!(r.status, StepStatus::Delivering | StepStatus::Delivered));
            *outcomes.entry(r.status.as_str().to_owned()).or_default() += 1;
        }
        // The per-lead figures: timeline, clocks and delays, without the step outcomes (which
        // record what happened, and may differ with arrival time).
        let mut view = serde_json::to_value(h.app.lead(id.as_str()).await.unwrap()).unwrap();
        let view = view.as_object_mut().unwrap();
        view.retain(|k, _| !matches!(k.as_str(), "escalations" | "next_escalation"));
        // The timeline says which events were marked history: compared without the mark.
        timelines.push(view.remove("timeline").unwrap());
        leads.push(view.clone());
    }
    eprintln!(
        "{tag}: {} webhooks, step outcomes {outcomes:?}, delivered {delivered}",
        events.len()
    );
    let report = h.report("2027-02-01", "2027-02-14", Some("lead_type")).await;
    let _ = std::fs::remove_dir_all(&h.dir);
    Replay {
        report_json: serde_json::to_string_pretty(&report).unwrap(),
        leads_json: serde_json::to_string(&leads).unwrap(),
        timelines_json: serde_json::to_string(&timelines).unwrap(),
        delivered,
        outcomes,
    }
}

#[tokio::test]
async fn a_two_week_history_pages_nobody_and_its_metrics_ignore_arrival_order() {
    let start = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(); // a Monday: two weeks, Feb 1–12
    let events = history(start);
    let now = ny(NaiveDate::from_ymd_opt(2027, 2, 15).unwrap(), 11, 0);

    let in_order = replay("hist-ordered", &events, now).await;
    let shuffled = replay("hist-shuffled", &shuffled_with_repeats(&events), now).await;
    let marked = replay("hist-marked", &shuffled_with_repeats(&marked_history(&events)), now).await;

    for r in [&in_order, &shuffled, &marked] {
        assert_eq!(r.delivered, 0, "outcomes: {:?}", r.outcomes);
    }
    // The history earned escalations: they are recorded (stale, or history when marked), not sent.
    assert!(
        in_order.outcomes.get("stale").copied().unwrap_or(0) > 100,
        "{:?}",
        in_order.outcomes
    );
    assert!(
        marked.outcomes.get("history").copied().unwrap_or(0) > 100,
        "{:?}",
        marked.outcomes
    );
    assert!(!marked.outcomes.contains_key("stale"), "{:?}", marked.outcomes);

    let same = [
        (&shuffled.leads_json, &in_order.leads_json, "per-lead figures, shuffled"),
        (
            &shuffled.timelines_json,
            &in_order.timelines_json,
            "timelines, shuffled",
        ),
        (
            &marked.leads_json,
            &in_order.leads_json,
            "per-lead figures, marked history",
        ),
        (&shuffled.report_json, &in_order.report_json, "metrics, shuffled"),
        (&marked.report_json, &in_order.report_json, "metrics, marked history"),
    ];
    for (got, expected, what) in same {
        assert!(got == expected, "{what} differ from the time-ordered replay");
    }
    // The report covers every lead, and the escalations the history earned are in it.
    let report: Value = serde_json::from_str(&in_order.report_json).unwrap();
    assert_eq!(report["overall"]["volume"]["mqls"], LEADS as u64, "{report:#}");
    assert!(
        report["overall"]["escalations"]["live"]["leads"].as_u64().unwrap() > 50,
        "{report:#}"
    );
    assert_eq!(report["groups"].as_object().unwrap().len(), TYPES.len(), "{report:#}");
}
