//! Personal data's lifecycle: erasure of one person's data on request (by lead id or email),
//! and the retention pass that erases it once a lead has been quiet for the policy's
//! `[privacy] contact_retention`. Both rewrite the stored events without their personal data
//! (contact, attributes, unknown fields) and keep everything the fold reads, so the timeline,
//! the clocks and every metric stay exactly as they were.

use crate::error::{store_status, HttpError, PortError};
use crate::ports::{Clock, EventStore, LeadIndex, PersonalData};
use crate::App;
use chrono::{DateTime, Duration, Utc};
use leadclock_domain::{Event, LeadId, Policy};
use serde::Serialize;

/// Whose data to erase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Lead(LeadId),
    Email(ContactEmail),
}

/// An email address as an erasure request names it: trimmed, one `@`, at most 320 characters.
/// Never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ContactEmail(String);

impl ContactEmail {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let ok = s.len() <= 320
            && !s.chars().any(char::is_whitespace)
            && s.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be an email address (local@domain, at most 320 characters)".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ContactEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactEmail(<redacted>)")
    }
}

/// What an erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// Every lead the request named, erased or found already clean.
    pub leads: Vec<ErasedLead>,
    /// Events rewritten without their personal data.
    pub events_erased: u32,
    pub erased_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErasedLead {
    pub lead_id: String,
    pub events_erased: u32,
}

/// What one retention pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionPass {
    /// Leads quiet since before this instant had their personal data erased.
    pub cutoff: Option<DateTime<Utc>>,
    pub leads_checked: u32,
    pub leads_erased: u32,
    pub events_erased: u32,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PrivacyError {
    #[error("{field} {message}")]
    Invalid { field: &'static str, message: String },
    #[error("no stored lead matches the request")]
    NotFound,
    #[error("could not erase: {0}")]
    Store(#[source] PortError),
}

impl HttpError for PrivacyError {
    fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::NotFound => 404,
            Self::Store(e) => store_status(e),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_field",
            Self::NotFound => "lead_not_found",
            Self::Store(_) => "store_unavailable",
        }
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::Invalid { field, .. } => Some((*field).to_owned()),
            Self::NotFound | Self::Store(_) => None,
        }
    }
    fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Store(e) if e.transient => Some(crate::error::STORE_RETRY_AFTER_SECONDS),
            _ => None,
        }
    }
}

/// How far back the first retention pass of a store looks: reports span at most three years,
/// and on DynamoDB the pass reads one day index per day, so a bound keeps the first run short.
pub const FIRST_PASS_LOOKBACK_DAYS: i64 = 3 * 366;

impl<S: EventStore + LeadIndex + PersonalData, T, N, C: Clock> App<S, T, N, C> {
    /// Erases the personal data of the leads `subject` names. Answers `NotFound` when it names
    /// no stored lead; erasing a lead twice is not an error (it erases nothing the second time).
    pub async fn erase(&self, subject: &Subject) -> Result<Erasure, PrivacyError> {
        let leads = match subject {
            Subject::Lead(id) => vec![id.clone()],
            Subject::Email(email) => self
                .store
                .leads_with_email(email.as_str())
                .await
                .map_err(PrivacyError::Store)?,
        };
        let at = self.clock.now();
        let mut out = Erasure {
            erased_at: Some(at),
            ..Erasure::default()
        };
        for lead in leads {
            let Some(n) = self.erase_lead(&lead, at).await.map_err(PrivacyError::Store)? else {
                continue;
            };
            out.events_erased += n;
            out.leads.push(ErasedLead {
                lead_id: lead.to_string(),
                events_erased: n,
            });
        }
        if out.leads.is_empty() {
            return Err(PrivacyError::NotFound);
        }
        tracing::info!(
            leads = out.leads.len(),
            events = out.events_erased,
            "personal data erased on request"
        );
        Ok(out)
    }

    /// Rewrites one lead's events without their personal data; `None` when it has no events.
    async fn erase_lead(&self, lead: &LeadId, at: DateTime<Utc>) -> Result<Option<u32>, PortError> {
        let events = self.store.load(lead).await?;
        if events.is_empty() {
            return Ok(None);
        }
        let erased: Vec<_> = events.iter().filter_map(|e| e.erased(at)).collect();
        if !erased.is_empty() {
            self.store.rewrite(&erased).await?;
            tracing::info!(lead_id = %lead, events = erased.len(), "personal data erased");
        }
        Ok(Some(u32::try_from(erased.len()).unwrap_or(u32::MAX)))
    }

    /// Erases the personal data of a lead whose last event is older than the retention
    /// period, if it holds any: `events` are the lead's stored events.
    pub(crate) async fn erase_if_expired(
        &self,
        events: &[Event],
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let Some(keep) = policy.privacy.contact_retention else {
            return Ok(());
        };
        let quiet = events
            .iter()
            .map(|e| e.occurred_at)
            .max()
            .is_some_and(|last| last < now - keep);
        if !quiet {
            return Ok(());
        }
        let erased: Vec<_> = events.iter().filter_map(|e| e.erased(now)).collect();
        if !erased.is_empty() {
            self.store.rewrite(&erased).await?;
            tracing::info!(lead_id = %erased[0].lead_id, events = erased.len(), "personal data past retention erased");
        }
        Ok(())
    }

    /// Erases the personal data of every lead whose last event is older than the retention
    /// period, visiting each lead once: leads whose last activity falls between the previous
    /// pass's cutoff and this one's. Nothing to do when the policy keeps data (`"off"`).
    pub async fn apply_retention(&self) -> Result<RetentionPass, PortError> {
        let Some(keep) = self.policy_now().privacy.contact_retention else {
            return Ok(RetentionPass::default());
        };
        let now = self.clock.now();
        let cutoff = now - keep;
        let from = match self.store.retention_through().await? {
            Some(t) => t,
            None => cutoff - Duration::days(FIRST_PASS_LOOKBACK_DAYS),
        };
        let mut pass = RetentionPass {
            cutoff: Some(cutoff),
            ..RetentionPass::default()
        };
        if from >= cutoff {
            return Ok(pass);
        }
        for lead in self.store.active_between(from, cutoff).await? {
            pass.leads_checked += 1;
            // A lead active after the cutoff is visited by the pass whose window holds its
            // last activity.
            let quiet = self
                .store
                .summary(&lead)
                .await?
                .is_some_and(|s| s.last_activity < cutoff);
            if !quiet {
                continue;
            }
            if let Some(n) = self.erase_lead(&lead, now).await? {
                pass.events_erased += n;
                pass.leads_erased += u32::from(n > 0);
            }
        }
        self.store.save_retention_through(cutoff).await?;
        tracing::info!(
            checked = pass.leads_checked,
            erased = pass.leads_erased,
            events = pass.events_erased,
            "retention pass"
        );
        Ok(pass)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_parse_and_never_print() {
        assert!(ContactEmail::parse(" ada@example.com ").is_ok());
        for bad in ["", "ada", "@example.com", "ada@", "a@b@c", "a da@example.com"] {
            assert!(ContactEmail::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ContactEmail::parse(&format!("{}@x.io", "a".repeat(320))).is_err());
        let e = ContactEmail::parse("ada@example.com").unwrap();
        assert!(!format!("{e:?}").contains("ada"));
    }
}
