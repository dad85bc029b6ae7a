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
    if let Ok(p) = std::env::var("LEADCLOCK_POLICY_VERSIONS") {
        if !p.is_empty() {
            return leadclock_app::policy_file::load_manifest(&PathBuf::from(p));
        }
    }
    let root = std::env::var("LAMBDA_TASK_ROOT").unwrap_or_else(|_| ".".into());
    bundled_versions(&PathBuf::from(root), load_policy)
}

/// The manifest in `root` when there is one, else `policy` alone as version 1.
fn bundled_versions(
    root: &std::path::Path,
    policy: impl FnOnce() -> Result<Policy, String>,
) -> Result<Versions, String> {
    let manifest = root.join("policy-versions.toml");
    if manifest.exists() {
        return leadclock_app::policy_file::load_manifest(&manifest);
    }
    Ok(Versions::only(Arc::new(policy()?)))
}

/// JSON logs to stdout (CloudWatch), level from `LEADCLOCK_LOG` (default info), and the
/// metric events as EMF lines in `METRICS_NAMESPACE` (default `leadclock`), whatever the log
/// level: turning logs down must not turn the dashboard off.
pub fn init_tracing() {
    use leadclock_app::telemetry::TARGET;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEADCLOCK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let filter = match format!("{TARGET}=off").parse() {
        Ok(no_metrics) => filter.add_directive(no_metrics),
        Err(_) => filter,
    };
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_filter(filter);
    let namespace = std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "leadclock".into());
    let metrics = crate::emf::EmfLayer::stdout(namespace)
        .with_filter(tracing_subscriber::filter::Targets::new().with_target(TARGET, tracing::Level::INFO));
    let _ = tracing_subscriber::registry().with(logs).with(metrics).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../policies/example.toml");

    #[test]
    fn a_bundle_without_a_manifest_is_one_version_since_the_beginning() {
        let dir = std::env::temp_dir().join(format!("leadclock-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v = bundled_versions(&dir, || Ok(Policy::parse(EXAMPLE).unwrap())).unwrap();
        assert_eq!(v.all().len(), 1);
        assert_eq!((v.current().number, v.current().effective_from), (1, None));

        // With a manifest, its versions (and not the lone policy) are what the functions judge by.
        let sha = leadclock_app::policy_file::digest(EXAMPLE);
        std::fs::write(dir.join("v1.toml"), EXAMPLE).unwrap();
        std::fs::write(
            dir.join("policy-versions.toml"),
            format!("[[version]]\nfile = \"v1.toml\"\nsha256 = \"{sha}\"\n\n[[version]]\nfile = \"v1.toml\"\neffective_from = \"2027-01-01T00:00:00Z\"\nsha256 = \"{sha}\"\n"),
        )
        .unwrap();
        let v = bundled_versions(&dir, || Err("the lone policy is not read".into())).unwrap();
        assert_eq!(v.all().len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
