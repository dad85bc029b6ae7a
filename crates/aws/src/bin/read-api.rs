//! `GET /v1/leads/{lead_id}`, `GET /v1/metrics` and `GET /healthz` behind API Gateway.

use leadclock_app::http::Routes;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leadclock_aws::functions::serve_api(&[Routes::Reads]).await
}
