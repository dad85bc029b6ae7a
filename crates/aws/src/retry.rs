//! Bounded retries with jitter for the AWS errors that go away on their own: throttling and
//! lost optimistic-concurrency races (transaction conflicts).

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use std::future::Future;
use std::time::Duration;

/// Attempts in all, including the first.
pub const MAX_ATTEMPTS: u32 = 6;
const FIRST_DELAY: Duration = Duration::from_millis(20);

/// Whether an AWS error code (and message) describes a transient condition.
pub fn retryable(code: Option<&str>, message: Option<&str>) -> bool {
    match code {
        Some(
            "ThrottlingException"
            | "Throttling"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "TransactionConflictException"
            | "TooManyRequestsException"
            | "InternalServerError"
            | "ServiceUnavailable",
        ) => true,
        // A cancelled transaction is retryable when a conflict or throttling cancelled it,
        // not when a condition (a duplicate) did.
        Some("TransactionCanceledException") => {
            message.is_some_and(|m| m.contains("TransactionConflict") || m.contains("ThrottlingError"))
        }
        _ => false,
    }
}

/// Up to ±50% of `d`, from the clock's low bits: enough to spread racing writers apart.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    let frac = f64::from(nanos % 1000) / 1000.0; // 0..1
    d.mul_f64(0.5 + frac)
}

/// Runs `f` until it succeeds, fails for good, or [`MAX_ATTEMPTS`] are used.
pub async fn with_retries<T, E, F, Fut>(op: &str, mut f: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: ProvideErrorMetadata,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < MAX_ATTEMPTS && retryable(e.code(), e.message()) => {
                tracing::debug!(op, attempt, code = e.code().unwrap_or(""), "retrying");
                tokio::time::sleep(jitter(delay)).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_errors() {
        assert!(retryable(Some("ThrottlingException"), None));
        assert!(retryable(
            Some("TransactionCanceledException"),
            Some("reasons [None, TransactionConflict, None]")
        ));
        assert!(!retryable(
            Some("TransactionCanceledException"),
            Some("reasons [ConditionalCheckFailed, None, None]")
        ));
        assert!(!retryable(Some("ValidationException"), None));
        assert!(!retryable(None, None));
    }

    #[test]
    fn jitter_stays_within_half() {
        for _ in 0..100 {
            let j = jitter(Duration::from_millis(100));
            assert!(j >= Duration::from_millis(50) && j <= Duration::from_millis(150));
        }
    }
}
