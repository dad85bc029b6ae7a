//! Seeds `OPEN_LEADS` open leads (default 5,000) into the table `TABLE_NAME` at
//! `AWS_ENDPOINT_URL` through the store adapter, for `tests/aws/test_stack.py`'s rollup at
//! scale. Each lead is a demo request assigned a second after its form, earlier today (UTC),
//! with its summary saved as a pass would save it: open, nothing due (so the sweep leaves it
//! alone), its fold snapshot and open clocks made under the deployment's policy versions
//! (`LEADCLOCK_POLICY_VERSIONS`).

use chrono::{Duration, Utc};
use futures_util::{stream, StreamExt, TryStreamExt};
use leadclock_app::error::PortError;
use leadclock_app::fold_state::{self, EncodedOpenClocks, FoldTag};
use leadclock_app::ports::{EventStore, FactsChange, LeadIndex, LeadSummary};
use leadclock_aws::config::{env, sdk_config};
use leadclock_aws::dynamo::DynamoStore;
use leadclock_domain::event::{Assignment, Form};
use leadclock_domain::policy::Versions;
use leadclock_domain::{Event, EventBody, EventId, LeadId};

/// Leads written at once: the emulator answers one request at a time per connection.
const IN_FLIGHT: usize = 32;

async fn seed_one(store: &DynamoStore, versions: &Versions, run: &str, i: usize) -> Result<(), PortError> {
    let lead = LeadId::parse(&format!("{run}-{i}")).expect("a valid lead id");
    // Today (UTC), an hour ago or half the day so far if that is less: the rollup of
    // yesterday finds these leads quiet in its period, today's finds them active.
    let now = Utc::now();
    let midnight = now.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let at = now - Duration::hours(1).min((now - midnight) / 2);
    let id = |s: &str| EventId::parse(&format!("{run}-{i}-{s}")).expect("a valid event id");
    let form = EventBody::Form(Box::new(Form {
        lead_type: "demo_request".into(),
        ..Default::default()
    }));
    let assign = EventBody::Assignment(Assignment {
        owner: "alice".into(),
        team: None,
        manager: None,
    });
    let events = [
        Event::new(id("f"), lead.clone(), at, form),
        Event::new(id("a"), lead.clone(), at + Duration::seconds(1), assign),
    ];
    for e in &events {
        store.append(e).await?;
    }
    let (folded, _) = versions.fold(lead.clone(), &events);
    let tag = FoldTag::of(versions);
    let clocks = leadclock_domain::metrics::open_clocks(&folded, versions, Utc::now());
    store
        .save_summary(&LeadSummary {
            snapshot: fold_state::after_refold(&folded, &events, tag),
            open_clocks: EncodedOpenClocks::encode(&clocks, tag),
            lead_id: lead,
            events: events.len() as u64,
            next_due: None,
            first_engaged_at: Some(at),
            last_activity: at + Duration::seconds(1),
            open: true,
            armed: Vec::new(),
            // An open lead keeps no facts; saying so flags it for reports to read in full.
            facts: Some(FactsChange {
                tag,
                old: None,
                new: None,
            }),
        })
        .await
}

#[tokio::test]
#[ignore = "needs DynamoDB: set AWS_ENDPOINT_URL, TABLE_NAME and SEED_RUN (tests/aws/test_stack.py runs it on the emulator)"]
async fn seed_open_leads() {
    let required = |name| env(name).unwrap_or_else(|e| panic!("{e}"));
    required("AWS_ENDPOINT_URL");
    let (table, run) = (required("TABLE_NAME"), required("SEED_RUN"));
    let n: usize = std::env::var("OPEN_LEADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    // The stack's own quiet period is over (the test stack has none).
    let store =
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk_config().await), table).with_facts_quiet(Duration::zero());
    let versions = leadclock_aws::config::load_versions().unwrap_or_else(|e| panic!("policy versions: {e}"));
    let started = std::time::Instant::now();
    stream::iter(0..n)
        .map(|i| seed_one(&store, &versions, &run, i))
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await
        .unwrap_or_else(|e| panic!("seeding failed: {e}"));
    println!("seeded {n} open leads in {:.1} s", started.elapsed().as_secs_f64());
}
