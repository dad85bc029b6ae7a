//! Webhook secrets and read tokens from SSM Parameter Store (SecureString, comma-separated so
//! two can be valid during a rotation). Read at cold start and again every few minutes, so a
//! rotated secret takes effect without a deploy. A missing parameter means nobody is let in.

use aws_sdk_ssm::Client;
use leadclock_app::auth::{salesforce_orgs, AuthConfig, ReadToken, Secret, SigningSecret};
use leadclock_app::http::AuthProvider;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long fetched secrets are trusted before they are read again.
pub const REFRESH: Duration = Duration::from_secs(300);

pub struct SecretSource {
    ssm: Client,
    webhook: Option<String>,
    hubspot: Option<String>,
    read: Option<String>,
    admin: Option<String>,
    hubspot_workflow: Option<String>,
    salesforce_paths: Option<String>,
    salesforce_orgs: Option<String>,
    outreach: Option<String>,
    salesloft: Option<String>,
    cache: Mutex<Option<(Instant, Arc<AuthConfig>)>>,
}

impl SecretSource {
    /// Parameter names from `WEBHOOK_SECRETS_PARAMETER`, `HUBSPOT_SECRETS_PARAMETER`,
    /// `READ_TOKENS_PARAMETER` and, in the one function that serves the privacy routes,
    /// `ADMIN_TOKENS_PARAMETER`, `HUBSPOT_WORKFLOW_TOKENS_PARAMETER`, `SALESFORCE_PATH_SECRETS_PARAMETER` and
    /// `SALESFORCE_ORG_IDS_PARAMETER`, `OUTREACH_SECRETS_PARAMETER`, `SALESLOFT_TOKENS_PARAMETER` (unset elsewhere, so no other cold start reads them).
    pub fn from_env(ssm: Client) -> Self {
        let name = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        SecretSource {
            ssm,
            webhook: name("WEBHOOK_SECRETS_PARAMETER"),
            hubspot: name("HUBSPOT_SECRETS_PARAMETER"),
            read: name("READ_TOKENS_PARAMETER"),
            admin: name("ADMIN_TOKENS_PARAMETER"),
            hubspot_workflow: name("HUBSPOT_WORKFLOW_TOKENS_PARAMETER"),
            salesforce_paths: name("SALESFORCE_PATH_SECRETS_PARAMETER"),
            salesforce_orgs: name("SALESFORCE_ORG_IDS_PARAMETER"),
            outreach: name("OUTREACH_SECRETS_PARAMETER"),
            salesloft: name("SALESLOFT_TOKENS_PARAMETER"),
            cache: Mutex::new(None),
        }
    }

    async fn fetch(&self, name: &Option<String>) -> Vec<Secret> {
        self.fetch_text(name)
            .await
            .map(|v| Secret::list(&v))
            .unwrap_or_default()
    }

    async fn fetch_signing(&self, name: &Option<String>) -> Vec<SigningSecret> {
        self.fetch_text(name)
            .await
            .map(|v| SigningSecret::list(&v))
            .unwrap_or_default()
    }

    /// A parameter's text; `None` (logged) when it is unset or unreadable.
    async fn fetch_text(&self, name: &Option<String>) -> Option<String> {
        let name = name.as_ref()?;
        match self.ssm.get_parameter().name(name).with_decryption(true).send().await {
            Ok(out) => out.parameter().and_then(|p| p.value()).map(str::to_owned),
            Err(e) => {
                tracing::warn!(parameter = %name, error = %aws_sdk_ssm::error::DisplayErrorContext(&e), "secret parameter unreadable; refusing its scheme");
                None
            }
        }
    }

    /// The current secrets, refreshed when older than [`REFRESH`].
    pub async fn load(&self) -> Arc<AuthConfig> {
        let mut cache = self.cache.lock().await;
        if let Some((at, cfg)) = cache.as_ref() {
            if at.elapsed() < REFRESH {
                return cfg.clone();
            }
        }
        let cfg = Arc::new(AuthConfig {
            webhook_secrets: self.fetch(&self.webhook).await,
            hubspot_secrets: self.fetch(&self.hubspot).await,
            read_tokens: self
                .fetch_text(&self.read)
                .await
                .map(|v| ReadToken::list(&v))
                .unwrap_or_default(),
            admin_tokens: self.fetch(&self.admin).await,
            hubspot_workflow_tokens: self.fetch(&self.hubspot_workflow).await,
            salesforce_path_secrets: self.fetch(&self.salesforce_paths).await,
            salesforce_org_ids: self
                .fetch_text(&self.salesforce_orgs)
                .await
                .map(|v| salesforce_orgs(&v))
                .unwrap_or_default(),
            outreach_secrets: self.fetch_signing(&self.outreach).await,
            salesloft_tokens: self.fetch_signing(&self.salesloft).await,
            insecure: false,
        });
        *cache = Some((Instant::now(), cfg.clone()));
        cfg
    }
}

impl AuthProvider for SecretSource {
    fn current(&self) -> Pin<Box<dyn Future<Output = Arc<AuthConfig>> + Send + '_>> {
        Box::pin(self.load())
    }
}

/// One SSM parameter's value at cold start: `None` when the parameter name is unset or the
/// parameter does not exist (the feature it configures is off); an error otherwise, so a
/// function that cannot read a setting it was given fails loudly instead of running without it.
pub async fn optional_parameter(ssm: &Client, name_var: &str) -> Result<Option<String>, String> {
    let Some(name) = std::env::var(name_var).ok().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match ssm.get_parameter().name(&name).with_decryption(true).send().await {
        Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_owned)),
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_ssm::operation::get_parameter::GetParameterError::is_parameter_not_found) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!(
            "cannot read SSM parameter {name} ({name_var}): {}",
            aws_sdk_ssm::error::DisplayErrorContext(&e)
        )),
    }
}

/// The CRM write-back settings: the credentials from SSM (`HUBSPOT_WRITEBACK_TOKEN_PARAMETER`,
/// `SALESFORCE_CLIENT_SECRET_PARAMETER`), the rest from the environment, read by the same
/// rules as the local server's.
pub async fn write_back_settings(ssm: &Client) -> Result<leadclock_app::writeback::Settings, String> {
    use leadclock_app::writeback::{settings, HUBSPOT_TOKEN, SALESFORCE_CLIENT_SECRET};
    let (hubspot, salesforce) = futures_util::future::join(
        optional_parameter(ssm, "HUBSPOT_WRITEBACK_TOKEN_PARAMETER"),
        optional_parameter(ssm, "SALESFORCE_CLIENT_SECRET_PARAMETER"),
    )
    .await;
    let (hubspot, salesforce) = (hubspot?, salesforce?);
    settings(|k| match k {
        HUBSPOT_TOKEN => hubspot.clone(),
        SALESFORCE_CLIENT_SECRET => salesforce.clone(),
        other => std::env::var(other).ok(),
    })
    .map_err(|e| e.to_string())
}
