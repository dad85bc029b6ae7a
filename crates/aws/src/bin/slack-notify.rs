//! Subscribed to the escalation and metrics topics; posts each message to Slack.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leadclock_aws::functions::serve_slack().await
}
