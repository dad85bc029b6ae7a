//! Building the app once per execution environment, from environment variables the SAM
//! template sets, and the loop each function runs.

use crate::config::{env, load_versions, sdk_config};
use crate::dynamo::DynamoStore;
use crate::scheduler::{EscalateInput, SchedulerTimers};
use crate::secrets::SecretSource;
use crate::sns::SnsNotifier;
use crate::AwsApp;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadclock_app::http::Routes;
use leadclock_app::ports::{Clock, SystemClock};
use leadclock_app::query::yesterday;
use leadclock_app::App;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::Arc;

/// Reads `TABLE_NAME`, `SCHEDULE_GROUP`, `ESCALATE_FUNCTION_ARN`, `SCHEDULER_ROLE_ARN`,
/// `TIMER_DLQ_ARN`, `ESCALATION_TOPIC_ARN`, `METRICS_TOPIC_ARN`, the bundled policy and the CRM
/// write-back settings.
pub async fn build_app(sdk: &aws_config::SdkConfig) -> Result<Arc<AwsApp>, String> {
    let versions = load_versions()?;
    let policy = versions.current().policy.clone();
    let store =
        DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env("TABLE_NAME")?).with_facts_quiet(facts_quiet()?);
    let timers = SchedulerTimers::new(
        aws_sdk_scheduler::Client::new(sdk),
        env("SCHEDULE_GROUP")?,
        env("ESCALATE_FUNCTION_ARN")?,
        env("SCHEDULER_ROLE_ARN")?,
        env("TIMER_DLQ_ARN")?,
    );
    let notifier = SnsNotifier::new(
        aws_sdk_sns::Client::new(sdk),
        env("ESCALATION_TOPIC_ARN")?,
        env("METRICS_TOPIC_ARN")?,
    );
    let write_back = crate::secrets::write_back_settings(&aws_sdk_ssm::Client::new(sdk)).await?;
    Ok(Arc::new(
        App::new(policy, store, timers, notifier, SystemClock)
            .with_versions(versions)
            .with_write_back(write_back),
    ))
}

/// `FACTS_QUIET_SECONDS`: how long a release waits before keeping report facts (see
/// [`crate::dynamo::FACTS_QUIET`], the default).
fn facts_quiet() -> Result<chrono::Duration, String> {
    match std::env::var("FACTS_QUIET_SECONDS") {
        Err(_) => Ok(crate::dynamo::FACTS_QUIET),
        Ok(v) => v
            .parse::<u32>()
            .map(|s| chrono::Duration::seconds(s.into()))
            .map_err(|_| format!("FACTS_QUIET_SECONDS must be whole seconds, not {v:?}")),
    }
}

async fn app_or_exit(sdk: &aws_config::SdkConfig) -> Result<Arc<AwsApp>, Error> {
    crate::config::init_tracing();
    build_app(sdk).await.map_err(|e| {
        tracing::error!(error = %e, "cold start failed");
        Error::from(e)
    })
}

/// An API function: its routes of the shared router, the app and the secret source built once.
pub async fn serve_api(routes: &[Routes]) -> Result<(), Error> {
    let sdk = sdk_config().await;
    let app = app_or_exit(&sdk).await?;
    let secrets = Arc::new(SecretSource::from_env(aws_sdk_ssm::Client::new(&sdk)));
    crate::http::serve(app, secrets, routes).await
}

/// A timer firing re-reads its lead, sends what is due and arms the next step; the sweep does
/// that for every lead that needs it.
async fn escalate(app: &AwsApp, input: EscalateInput) -> Result<Value, Error> {
    let lead = match input {
        EscalateInput::Sweep { .. } => {
            let visited = app.sweep(chrono::Duration::zero()).await?;
            // The back-stop: anything a failed publish left in the outbox is retried here.
            let d = app.dispatch().await?;
            // Report facts: the days' logs added in, and leads not passed under this release.
            let backfilled = app.backfill_facts(BACKFILL_PER_SWEEP).await?;
            return Ok(
                json!({"swept": visited, "sent": d.sent, "retrying": d.retrying, "dead": d.dead, "backfilled": backfilled}),
            );
        }
        EscalateInput::Timer(t) => t.lead_id,
        EscalateInput::Lead { lead_id } => lead_id,
    };
    let r = app.reconcile(&lead).await?;
    // Publish what this pass claimed now; a failure stays in the outbox for the sweep.
    let d = app.dispatch().await?;
    if let Some(first) = r.failures.into_iter().next() {
        // Failing makes Scheduler retry; the records already written keep each step to one outcome.
        tracing::warn!(lead_id = %lead, error = %first, "escalation left work; failing so Scheduler retries");
        return Err(first.into());
    }
    Ok(
        json!({"lead_id": lead.as_str(), "claimed": r.sent.len(), "sent": d.sent, "retrying": d.retrying,
              "next": r.timers.first().map(|t| t.due_at)}),
    )
}

/// Leads a sweep passes again for report facts: with the Scan's 10 s, well within escalate's
/// 60 s (about 100,000 leads in four hours at one sweep a minute).
const BACKFILL_PER_SWEEP: usize = 400;

/// Runs `handler` on each JSON event, typed, with the app built once.
async fn serve_json<I, F, Fut>(handler: F) -> Result<(), Error>
where
    I: DeserializeOwned + Send + 'static,
    F: Fn(Arc<AwsApp>, I) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Value, Error>> + Send,
{
    let app = app_or_exit(&sdk_config().await).await?;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<I>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move { Box::pin(handler(app, ev.payload)).await }
    }))
    .await
}

pub async fn serve_escalate() -> Result<(), Error> {
    serve_json(|app, input: EscalateInput| async move { escalate(&app, input).await }).await
}

/// The rollup's input: `{}` for yesterday in the reporting time zone, or `{"day": "YYYY-MM-DD"}`.
#[derive(Debug, Default, serde::Deserialize)]
struct RollupInput {
    day: Option<chrono::NaiveDate>,
}

async fn rollup(app: &AwsApp, input: RollupInput) -> Result<Value, Error> {
    let day = input
        .day
        .unwrap_or_else(|| yesterday(app.policy.reporting_timezone, app.clock.now()));
    // Stacks from before the contact index gain it here, once (a no-op read after that).
    app.store.backfill_contacts().await?;
    let (report, retention) = app.nightly(day).await?;
    Ok(json!({"day": day.to_string(), "mqls": report.overall.volume.mqls, "retention": retention}))
}

pub async fn serve_rollup() -> Result<(), Error> {
    serve_json(|app, input: RollupInput| async move { rollup(&app, input).await }).await
}

/// Reads the Slack webhook URL from the SSM parameter `SLACK_WEBHOOK_PARAMETER` once.
/// An unset parameter (or the value `none`) turns Slack off without failing deliveries.
async fn slack_url() -> Result<Option<String>, Error> {
    let Ok(name) = env("SLACK_WEBHOOK_PARAMETER") else {
        return Ok(None);
    };
    let sdk = sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    match ssm.get_parameter().name(&name).with_decryption(true).send().await {
        Ok(out) => Ok(out
            .parameter()
            .and_then(|p| p.value())
            .filter(|v| v.starts_with("https://") || v.starts_with("http://"))
            .map(str::to_owned)),
        Err(e) => {
            tracing::warn!(parameter = %name, error = %aws_sdk_ssm::error::DisplayErrorContext(&e), "Slack webhook parameter unreadable; Slack is off");
            Ok(None)
        }
    }
}

pub async fn serve_slack() -> Result<(), Error> {
    crate::config::init_tracing();
    let url = slack_url().await?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| Error::from(e.to_string()))?;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| {
        let (url, http) = (url.clone(), http.clone());
        async move {
            let msgs = crate::slack::messages(&ev.payload);
            let Some(url) = url else {
                tracing::info!(messages = msgs.len(), "Slack is not configured; skipped");
                return Ok::<Value, Error>(json!({"posted": 0}));
            };
            for m in &msgs {
                crate::slack::post(&http, &url, &crate::slack::payload_for(m))
                    .await
                    .map_err(Error::from)?;
            }
            Ok(json!({"posted": msgs.len()}))
        }
    }))
    .await
}
