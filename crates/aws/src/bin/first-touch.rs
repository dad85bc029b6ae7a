//! `POST /v1/events/touch` (first sales touch) behind API Gateway.

use leadclock_app::wire::Kind;
use leadclock_aws::apigw::Routes;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leadclock_aws::functions::serve_api(Routes::Ingest(Kind::Touch)).await
}
