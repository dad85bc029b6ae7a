//! `POST /v1/events/form`, `POST /v1/events/batch` and `POST /v1/hooks/hubspot` behind API Gateway.

use leadclock_app::http::Routes;
use leadclock_app::inbound::Kind;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    leadclock_aws::functions::serve_api(&[
        Routes::Events(Kind::Form),
        Routes::Batch,
        Routes::Hooks,
        Routes::Privacy,
    ])
    .await
}
