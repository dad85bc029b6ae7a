//! Behind API Gateway: `POST /v1/events/form`, `/v1/events/batch`, the CRM hooks (`/v1/hooks/hubspot`,
//! `/v1/hooks/hubspot/workflow`, `/v1/hooks/salesforce/{secret}`) and `/v1/privacy/erasure`.

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
