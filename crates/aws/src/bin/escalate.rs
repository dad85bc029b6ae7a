//! Target of the one-time schedules (`{"lead_id": …}`: re-read the lead, send what is due,
//! arm the next step) and of the periodic sweep (`{"sweep": true}`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leadclock_aws::functions::serve_escalate().await
}
