//! `GET /v1/leads/{lead_id}`, `GET /v1/metrics`, `GET /healthz` and the dashboard's pages
//! (`/`, `/login`, `/now`, …) behind API Gateway.

use leadclock_app::http::Routes;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leadclock_aws::functions::serve_api(&[Routes::Reads, Routes::Dashboard]).await
}
