//! The floor of a Rust Lambda cold start: the same `lambda_runtime` and tokio as the functions,
//! an echo handler, no SDK and no policy. `make bench` divides each function's cold start by this one's.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

async fn echo(ev: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(ev.payload)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(echo)).await
}
