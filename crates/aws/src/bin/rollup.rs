//! The nightly rollup: yesterday in the policy's reporting time zone, or `{"day": "YYYY-MM-DD"}`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leadclock_aws::functions::serve_rollup().await
}
