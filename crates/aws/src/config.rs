//! Cold-start wiring shared by every function: environment, SDK configuration, policy, logs.
//! Runs once per execution environment; handlers reuse what it builds.

use aws_config::{BehaviorVersion, SdkConfig};
use leadclock_domain::policy::Versions;
use leadclock_domain::Policy;
use std::path::PathBuf;
use std::sync::Arc;

/// A required environment variable, or a clear start-up error naming it.
pub fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("environment variable {name} is not set"))
}

/// SDK configuration from the standard chain (region, credentials, `AWS_ENDPOINT_URL`), on
/// rustls with ring: the one TLS stack of the whole workspace.
pub async fn sdk_config() -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}

/// The policy bundled next to `bootstrap` (`policy.toml`), or the file `LEADCLOCK_POLICY_FILE` names.
pub fn load_policy() -> Result<Policy, String> {
    let path = match std::env::var("LEADCLOCK_POLICY_FILE") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let root = std::env::var("LAMBDA_TASK_ROOT").unwrap_or_else(|_| ".".into());
            PathBuf::from(root).join("policy.toml")
        }
    };
    leadclock_app::policy_file::load(&path)
}

/// Every policy version the deployment judges by: the manifest bundled next to `bootstrap`
/// (`policy-versions.toml`, or the file `LEADCLOCK_POLICY_VERSIONS` names) when there is one,
/// else the bundled policy alone, as version 1 in force since the beginning (what a stack
/// deployed before versions has, so it upgrades in place).
pub fn load_versions() -> Result<Versions, String> {
    let path = match std::env::var("LEADCLOCK_POLICY_VERSIONS") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let root = std::env::var("LAMBDA_TASK_ROOT").unwrap_or_else(|_| ".".into());
            let bundled = PathBuf::from(root).join("policy-versions.toml");
            if !bundled.exists() {
                return Ok(Versions::only(Arc::new(load_policy()?)));
            }
            bundled
        }
    };
    leadclock_app::policy_file::load_manifest(&path)
}

/// JSON logs to stdout (CloudWatch), level from `LEADCLOCK_LOG` (default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEADCLOCK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}
