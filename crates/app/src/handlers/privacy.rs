//! Personal data's lifecycle: erasure of one person's data on request (by lead id or email),
//! and the retention pass that erases it once a lead has been quiet for the policy's
//! `[privacy] contact_retention`. Both rewrite the stored events without their personal data
//! (contact, attributes, unknown fields) and keep everything the fold reads, so the timeline,
//! the clocks and every metric stay exactly as they were.

use crate::error::{store_status, HttpError, PortError};
use crate::ports::{Clock, EventStore, Identities, LeadIndex, PersonalData, RawHooks};
use crate::App;
use chrono::{DateTime, Duration, Utc};
use leadclock_domain::event::erase_personal_data;
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
    /// Webhooks kept as received ([`crate::raw_hooks`]) that named the leads or the address,
    /// deleted.
    pub raw_hooks_deleted: u64,
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
    /// Webhooks kept as received, deleted for being older than `[privacy] raw_hooks`.
    pub raw_hooks_deleted: u64,
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

impl<S: EventStore + LeadIndex + PersonalData + Identities + RawHooks, T, N, C: Clock> App<S, T, N, C> {
    /// Erases the personal data of the leads `subject` names. Answers `NotFound` when it names
    /// no stored lead; erasing a lead twice is not an error (it erases nothing the second time).
    pub async fn erase(&self, subject: &Subject) -> Result<Erasure, PrivacyError> {
        let mut emails = Vec::new();
        let leads = match subject {
            Subject::Lead(id) => vec![id.clone()],
            Subject::Email(email) => {
                // A tool may know the address though no lead's form gave it.
                let normal = crate::identity::normal_email(email.as_str());
                self.store.forget_email(&normal).await.map_err(PrivacyError::Store)?;
                emails.push(normal);
                self.store
                    .leads_with_email(email.as_str())
                    .await
                    .map_err(PrivacyError::Store)?
            }
        };
        let at = self.clock.now();
        let mut out = Erasure {
            erased_at: Some(at),
            ..Erasure::default()
        };
        for lead in leads {
            let events = self.store.load(&lead).await.map_err(PrivacyError::Store)?;
            if events.is_empty() {
                continue;
            }
            emails.extend(crate::identity::contact_emails(&events));
            let n = self.rewrite_erased(&events, at).await.map_err(PrivacyError::Store)?;
            out.events_erased += n;
            out.leads.push(ErasedLead {
                lead_id: lead.to_string(),
                events_erased: n,
            });
        }
        let named: Vec<LeadId> = out
            .leads
            .iter()
            .filter_map(|l| LeadId::parse(&l.lead_id).ok())
            .collect();
        out.raw_hooks_deleted = self
            .store
            .forget_raw_hooks(&named, &emails)
            .await
            .map_err(PrivacyError::Store)?;
        // A lead id that names nothing is a mistake worth saying. An email that names nothing
        // is not an error: it may be erased already (a retried request), and the answer must
        // not tell which emails were ever stored.
        if out.leads.is_empty() && matches!(subject, Subject::Lead(_)) {
            return Err(PrivacyError::NotFound);
        }
        tracing::info!(
            leads = out.leads.len(),
            events = out.events_erased,
            "personal data erasure requested"
        );
        Ok(out)
    }

    /// Erases the personal data of every lead whose last event is older than the retention
    /// period, visiting each lead once: in the window, between the previous pass's cutoff and
    /// this one's, that holds its last activity. The window is walked a UTC day at a time with
    /// the progress saved after each, so a pass cut short (a first pass over years of leads
    /// running out of Lambda time) goes on from there the next night. Nothing to do when the
    /// policy keeps data (`"off"`).
    pub async fn apply_retention(&self) -> Result<RetentionPass, PortError> {
        let policy = self.policy_now();
        let now = self.clock.now();
        // "off" keeps no raw webhook: the ones kept before are deleted as if expired.
        let raw_cutoff = policy.privacy.raw_hooks.map_or(now, |keep| now - keep);
        let raw_hooks_deleted = self.store.forget_raw_hooks_before(raw_cutoff).await?;
        let Some(keep) = policy.privacy.contact_retention else {
            return Ok(RetentionPass {
                raw_hooks_deleted,
                ..RetentionPass::default()
            });
        };
        let cutoff = now - keep;
        let mut start = match self.store.retention_through().await? {
            Some(t) => t,
            None => cutoff - Duration::days(FIRST_PASS_LOOKBACK_DAYS),
        };
        let mut pass = RetentionPass {
            cutoff: Some(cutoff),
            raw_hooks_deleted,
            ..RetentionPass::default()
        };
        while start < cutoff {
            let end = next_utc_midnight(start).min(cutoff);
            for lead in self.store.active_between(start, end).await? {
                let last = self.store.summary(&lead).await?.map(|s| s.last_activity);
                if !last.is_some_and(|l| start <= l && l < end) {
                    continue;
                }
                pass.leads_checked += 1;
                // The stored events decide, not the summary: an event not yet folded into it
                // may be newer.
                let events = self.store.load(&lead).await?;
                let n = self.erase_if_expired(&events, &policy, now).await?;
                pass.events_erased += n;
                pass.leads_erased += u32::from(n > 0);
            }
            self.store.save_retention_through(end).await?;
            start = end;
        }
        tracing::info!(
            checked = pass.leads_checked,
            erased = pass.leads_erased,
            events = pass.events_erased,
            raw_hooks = pass.raw_hooks_deleted,
            "retention pass"
        );
        Ok(pass)
    }
}

impl<S: EventStore + LeadIndex + PersonalData + Identities, T, N, C: Clock> App<S, T, N, C> {
    /// Rewrites one lead's `events` without their personal data; how many changed.
    async fn rewrite_erased(&self, events: &[Event], at: DateTime<Utc>) -> Result<u32, PortError> {
        // The sales tools' people and the contact index forget the addresses first: were the
        // rewrite to fail after, a retry still finds them in the events.
        for email in crate::identity::contact_emails(events) {
            self.store.forget_email(&email).await?;
        }
        let erased = erase_personal_data(events, at);
        if let Some(first) = erased.first() {
            self.store.rewrite(&erased).await?;
            tracing::info!(lead_id = %first.lead_id, events = erased.len(), "personal data erased");
        }
        Ok(u32::try_from(erased.len()).unwrap_or(u32::MAX))
    }

    /// Erases the personal data of a lead whose last event is older than the retention
    /// period, if it holds any: `events` are the lead's stored events. How many changed.
    pub(crate) async fn erase_if_expired(
        &self,
        events: &[Event],
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Result<u32, PortError> {
        let last = events.iter().map(|e| e.occurred_at).max();
        if !last.is_some_and(|last| past_retention(last, policy, now)) {
            return Ok(0);
        }
        self.rewrite_erased(events, now).await
    }
}

/// Whether a lead last active at `last` is quiet for longer than `policy` keeps contact data.
pub(crate) fn past_retention(last: DateTime<Utc>, policy: &Policy, now: DateTime<Utc>) -> bool {
    policy
        .privacy
        .contact_retention
        .and_then(|keep| now.checked_sub_signed(keep))
        .is_some_and(|cut| last < cut)
}

/// The first UTC midnight after `t`: windows on day boundaries read one day index each on
/// DynamoDB.
fn next_utc_midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = t.date_naive().succ_opt().unwrap_or(t.date_naive());
    day.and_hms_opt(0, 0, 0).map_or(t + Duration::days(1), |m| m.and_utc())
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
