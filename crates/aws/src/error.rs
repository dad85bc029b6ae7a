//! The one rule for AWS failures: an SDK error becomes a [`PortError`] that keeps the error as
//! its source and is transient when [`retryable`] says so or when no service answered at all
//! (a timeout, a dropped connection).

use crate::retry::retryable;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use leadclock_app::error::PortError;

/// An AWS error with its code and message in front, for logs; the SDK error is its source.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError<E: std::error::Error + 'static> {
    pub code: String,
    pub message: String,
    #[source]
    pub source: E,
}

/// Classifies an SDK error once, for every adapter (DynamoDB, Scheduler, SNS, SSM).
pub fn port_err<E>(operation: &'static str, e: E) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match e.code() {
        Some(code) => retryable(Some(code), e.message()),
        None => true,
    };
    let code = e.code().unwrap_or("NoServiceAnswer").to_owned();
    let message = e.message().map_or_else(|| e.to_string(), str::to_owned);
    PortError::from_source(
        operation,
        transient,
        AwsError {
            code,
            message,
            source: e,
        },
    )
}
