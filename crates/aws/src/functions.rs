//! Building the app once per execution environment, from environment variables the SAM
//! template sets.

use crate::apigw::{self, Routes};
use crate::config::{env, load_policy, sdk_config};
use crate::dynamo::DynamoStore;
use crate::scheduler::SchedulerTimers;
use crate::sns::SnsNotifier;
use crate::AwsApp;
use chrono::NaiveDate;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use leadclock_app::ports::Clock;
use leadclock_app::ports::SystemClock;
use leadclock_app::App;
use leadclock_domain::LeadId;
use serde_json::{json, Value};
use std::sync::Arc;

/// Reads `TABLE_NAME`, `SCHEDULE_GROUP`, `ESCALATE_FUNCTION_ARN`, `SCHEDULER_ROLE_ARN`,
/// `TIMER_DLQ_ARN`, `ESCALATION_TOPIC_ARN`, `METRICS_TOPIC_ARN` and the bundled policy.
pub async fn build_app(sdk: &aws_config::SdkConfig) -> Result<Arc<AwsApp>, String> {
    let policy = Arc::new(load_policy()?);
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env("TABLE_NAME")?);
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
    Ok(Arc::new(App::new(policy, store, timers, notifier, SystemClock)))
}

async fn app_or_exit(sdk: &aws_config::SdkConfig) -> Result<Arc<AwsApp>, Error> {
    crate::config::init_tracing();
    build_app(sdk).await.map_err(|e| {
        tracing::error!(error = %e, "cold start failed");
        Error::from(e)
    })
}

/// An API function: one route set, the app and the secret source built once.
pub async fn serve_api(routes: Routes) -> Result<(), Error> {
    let sdk = sdk_config().await;
    let app = app_or_exit(&sdk).await?;
    let secrets = Arc::new(crate::secrets::SecretSource::from_env(aws_sdk_ssm::Client::new(&sdk)));
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| {
        let (app, secrets) = (app.clone(), secrets.clone());
        async move {
            // /healthz answers without secrets, so a probe needs none.
            let auth = secrets.current().await;
            Ok::<Value, Error>(Box::pin(apigw::handle(&app, &auth, routes, ev.payload)).await)
        }
    }))
    .await
}

async fn escalate(app: &AwsApp, input: Value) -> Result<Value, Error> {
    if input.get("sweep").and_then(Value::as_bool).unwrap_or(false) {
        let visited = app
            .sweep(chrono::Duration::zero())
            .await
            .map_err(|e| Error::from(e.to_string()))?;
        return Ok(json!({"swept": visited}));
    }
    let lead = input
        .get("lead_id")
        .and_then(Value::as_str)
        .and_then(|s| LeadId::parse(s).ok())
        .ok_or_else(|| Error::from("input needs a lead_id or \"sweep\": true"))?;
    let r = app
        .reconcile(&lead, None)
        .await
        .map_err(|e| Error::from(e.to_string()))?;
    if let Some(first) = r.failures.first() {
        // Failing makes Scheduler retry; the claims already written keep each step to one send.
        return Err(Error::from(format!("lead {lead}: {first}")));
    }
    Ok(json!({"lead_id": lead.as_str(), "sent": r.sent.len(), "next": r.timers.first().map(|t| t.due_at)}))
}

/// Runs `handler` on each JSON event with the app built once.
async fn serve_json<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Arc<AwsApp>, Value) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Value, Error>> + Send,
{
    let app = app_or_exit(&sdk_config().await).await?;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move { Box::pin(handler(app, ev.payload)).await }
    }))
    .await
}

pub async fn serve_escalate() -> Result<(), Error> {
    serve_json(|app, input| async move { escalate(&app, input).await }).await
}

async fn rollup(app: &AwsApp, input: Value) -> Result<Value, Error> {
    let tz = app.policy.reporting_timezone;
    let day = match input.get("day").and_then(Value::as_str) {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| Error::from(format!("day {d:?} must be YYYY-MM-DD")))?,
        None => {
            let today = app.clock.now().with_timezone(&tz).date_naive();
            today.pred_opt().unwrap_or(today)
        }
    };
    let report = app.rollup(day).await.map_err(|e| Error::from(e.to_string()))?;
    Ok(json!({"day": day.to_string(), "mqls": report.overall.volume.mqls}))
}

pub async fn serve_rollup() -> Result<(), Error> {
    serve_json(|app, input| async move { rollup(&app, input).await }).await
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
