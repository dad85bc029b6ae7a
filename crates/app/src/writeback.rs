//! Write-back: after each change of a lead's clocks, its SLA figures go to the CRM record the
//! lead is (`hubspot:<portal>:<contact>`, `salesforce:<org>:<lead>`), where reps and managers
//! look. Off unless a team configures a CRM's credentials.
//!
//! It rides the delivery outbox's rules (stored before it is sent, leased by one pass, retried
//! with the same backoff and jitter, `Retry-After` honoured, dead-lettered after
//! [`MAX_ATTEMPTS`]) with one difference: a lead has one pending write, not one per change. The
//! figures are a function of the lead's events, so only the newest is worth sending; a change
//! while a write is in flight replaces it, and the in-flight result is discarded.

use crate::outbox::{OutboxStatus, MAX_ATTEMPTS};
use chrono::{DateTime, Utc};
pub use leadclock_crm::writeback::client::Settings;
use leadclock_crm::writeback::client::{Credential, HubSpot, Salesforce};
pub use leadclock_crm::writeback::{Figures, SlaStatus};
use leadclock_crm::{RecordKey, Source};
use leadclock_domain::clock::{self, ClockStatus, Span};
use leadclock_domain::policy::{Basis, Target};
use leadclock_domain::{ClockKind, Lead, LeadId, Policy};
use serde::{Deserialize, Serialize};

/// A lead's write-back: the figures last wanted, and how sending them goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteBack {
    pub lead_id: LeadId,
    pub figures: Figures,
    /// Bumped by every save: stores compare it, so a pass only saves over what it read.
    pub revision: u64,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The wait the last failure earned (backoff, or the CRM's `Retry-After`): newer figures
    /// do not jump it, or a throttled CRM would be asked again at every change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_until: Option<DateTime<Utc>>,
}

impl WriteBack {
    /// What to store when the lead's figures are now `figures`: `None` when they are what was
    /// already wanted (sent or on its way), so an unchanged lead costs no CRM call. Replacing
    /// a pending write keeps its failures' count and wait; after a send or a dead letter the
    /// new figures start afresh.
    pub fn wanted(
        lead_id: &LeadId,
        stored: Option<&WriteBack>,
        figures: Figures,
        now: DateTime<Utc>,
    ) -> Option<WriteBack> {
        if stored.is_some_and(|w| w.figures == figures) {
            return None;
        }
        let pending = stored.filter(|w| w.status == OutboxStatus::Pending);
        let failing = pending.filter(|w| w.attempts > 0);
        let backoff_until = failing.and_then(|w| w.backoff_until);
        // A pending write's time may be a pass's lease: while that send is in flight, another
        // pass must not send the newer figures, or the older could land last.
        let not_before = pending.map_or(now, |w| w.next_attempt_at.max(now));
        Some(WriteBack {
            lead_id: lead_id.clone(),
            figures,
            revision: stored.map_or(1, |w| w.revision + 1),
            status: OutboxStatus::Pending,
            attempts: failing.map_or(0, |w| w.attempts),
            next_attempt_at: backoff_until.map_or(not_before, |t| t.max(not_before)),
            sent_at: None,
            last_error: failing.and_then(|w| w.last_error.clone()),
            backoff_until,
        })
    }

    /// The same write with the next revision: what a pass saves over the one it read.
    pub fn next(&self) -> WriteBack {
        WriteBack {
            revision: self.revision + 1,
            ..self.clone()
        }
    }

    /// After a failed attempt: when to try again, or dead.
    pub fn failed(&mut self, error: &str, retry_after: Option<chrono::Duration>, permanent: bool, now: DateTime<Utc>) {
        let salt = crate::outbox::salt_of(self.lead_id.as_str(), self.attempts);
        let wait = crate::outbox::backoff(self.attempts, retry_after, salt);
        self.attempts += 1;
        self.last_error = Some(error.chars().take(500).collect());
        if permanent || self.attempts >= MAX_ATTEMPTS {
            self.status = OutboxStatus::Dead;
            self.backoff_until = None;
        } else {
            self.next_attempt_at = now + wait;
            self.backoff_until = Some(self.next_attempt_at);
        }
    }
}

/// A write-back setting that cannot be used: the server refuses to start rather than run
/// believing it writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct SettingError {
    pub setting: &'static str,
    pub problem: String,
}

pub const HUBSPOT_TOKEN: &str = "LEADCLOCK_HUBSPOT_WRITEBACK_TOKEN";
pub const HUBSPOT_API_URL: &str = "LEADCLOCK_HUBSPOT_API_URL";
pub const SALESFORCE_LOGIN_URL: &str = "LEADCLOCK_SALESFORCE_LOGIN_URL";
pub const SALESFORCE_CLIENT_ID: &str = "LEADCLOCK_SALESFORCE_CLIENT_ID";
pub const SALESFORCE_CLIENT_SECRET: &str = "LEADCLOCK_SALESFORCE_CLIENT_SECRET";
pub const SALESFORCE_API_VERSION: &str = "LEADCLOCK_SALESFORCE_API_VERSION";

/// Reads the write-back settings by name with `value` (the environment locally; on AWS the
/// secrets come from SSM). A CRM is on when its credential is set; nothing is written
/// otherwise.
pub fn settings(value: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
    let get = |k: &str| value(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let hubspot = match get(HUBSPOT_TOKEN).as_deref().and_then(Credential::parse) {
        None => None,
        Some(token) => Some(HubSpot {
            token,
            api_base: base_url(HUBSPOT_API_URL, get(HUBSPOT_API_URL), "https://api.hubapi.com")?,
        }),
    };
    let salesforce = match get(SALESFORCE_CLIENT_ID).as_deref().and_then(Credential::parse) {
        None => None,
        Some(client_id) => {
            let missing = |setting| SettingError {
                setting,
                problem: format!("required when {SALESFORCE_CLIENT_ID} is set"),
            };
            let login = get(SALESFORCE_LOGIN_URL).ok_or_else(|| missing(SALESFORCE_LOGIN_URL))?;
            let version = get(SALESFORCE_API_VERSION).unwrap_or_else(|| "v62.0".into());
            let valid = version
                .strip_prefix('v')
                .and_then(|v| v.split_once('.'))
                .is_some_and(|(a, b)| {
                    !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
                });
            if !valid {
                return Err(SettingError {
                    setting: SALESFORCE_API_VERSION,
                    problem: format!("{version:?} is not an API version such as v62.0"),
                });
            }
            Some(Salesforce {
                login_url: base_url(SALESFORCE_LOGIN_URL, Some(login), "")?,
                client_id,
                client_secret: get(SALESFORCE_CLIENT_SECRET)
                    .as_deref()
                    .and_then(Credential::parse)
                    .ok_or_else(|| missing(SALESFORCE_CLIENT_SECRET))?,
                api_version: version,
            })
        }
    };
    Ok(Settings { hubspot, salesforce })
}

/// An HTTPS base URL (plain HTTP only to this machine, for a local test server).
fn base_url(setting: &'static str, given: Option<String>, default: &str) -> Result<String, SettingError> {
    let url = given.unwrap_or_else(|| default.to_owned());
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| {
            url.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
    if url.starts_with("https://") || local {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(SettingError {
            setting,
            problem: "must be an https:// URL".into(),
        })
    }
}

/// The CRM record a lead is, when its id is a CRM key.
pub fn record_of(lead: &LeadId) -> Option<RecordKey> {
    let mut parts = lead.as_str().splitn(3, ':');
    let crm = match parts.next()? {
        "hubspot" => Source::HubSpot,
        "salesforce" => Source::Salesforce,
        _ => return None,
    };
    RecordKey::new(crm, parts.next()?, parts.next()?).ok()
}

/// The figures of the lead's current cycle, as of `now`, by the policy that judges it. Delays
/// are on the basis the lead type's SLA counts (business or wall-clock time). `None` for a
/// lead with no cycle, or whose cycle runs no clocks (suppressed, excluded): nothing to write.
pub fn figures(lead: &Lead, policy: &Policy, now: DateTime<Utc>) -> Option<Figures> {
    let cycle = lead.current_cycle()?;
    if cycle.suppressed || cycle.excluded().is_some() {
        return None;
    }
    let lead_type = policy.lead_types.get(&cycle.lead_type);
    let basis = lead_type.map_or(Basis::Business, |t| clock::rule_basis(&t.sla));
    let on_basis = |s: Span| match basis {
        Basis::Business => s.business_seconds,
        Basis::Calendar => s.seconds,
    };
    let delays = clock::delays(cycle, policy);
    let response = clock::cycle_clocks(cycle, policy, now)
        .into_iter()
        .find(|c| c.clock == ClockKind::Response);
    Some(Figures {
        systems_delay_seconds: delays.systems.map(on_basis),
        human_delay_seconds: delays.human.map(on_basis),
        speed_to_lead_seconds: delays.speed_to_lead.map(on_basis),
        sla_threshold_seconds: lead_type.and_then(|t| match t.sla.target {
            Target::Within { duration, .. } => Some(duration.num_seconds()),
            Target::EndOfBusinessDay => None,
        }),
        sla_deadline: response.as_ref().and_then(|c| c.deadline),
        sla_status: response.map(|c| status(c.status)),
        first_response_at: cycle.first_touch_at,
    })
}

fn status(s: ClockStatus) -> SlaStatus {
    match s {
        ClockStatus::Running => SlaStatus::Pending,
        ClockStatus::Breached => SlaStatus::Breached,
        ClockStatus::Met => SlaStatus::Met,
        ClockStatus::Missed => SlaStatus::Missed,
        ClockStatus::Closed => SlaStatus::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn figures_with(systems: i64) -> Figures {
        Figures {
            systems_delay_seconds: Some(systems),
            human_delay_seconds: None,
            speed_to_lead_seconds: None,
            sla_threshold_seconds: Some(3600),
            sla_deadline: None,
            sla_status: Some(SlaStatus::Pending),
            first_response_at: None,
        }
    }

    #[test]
    fn settings_turn_a_crm_on_by_its_credential_and_refuse_half_configurations() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let off = settings(env(&[])).unwrap();
        assert!(!off.is_on());
        let hs = settings(env(&[(HUBSPOT_TOKEN, "pat-na1-x")])).unwrap();
        assert_eq!(hs.hubspot.unwrap().api_base, "https://api.hubapi.com");
        let sf = settings(env(&[
            (SALESFORCE_CLIENT_ID, "3MVG9"),
            (SALESFORCE_CLIENT_SECRET, "s"),
            (SALESFORCE_LOGIN_URL, "https://acme.my.salesforce.com/"),
        ]))
        .unwrap()
        .salesforce
        .unwrap();
        assert_eq!(
            (sf.login_url.as_str(), sf.api_version.as_str()),
            ("https://acme.my.salesforce.com", "v62.0")
        );
        let no_secret = settings(env(&[
            (SALESFORCE_CLIENT_ID, "3MVG9"),
            (SALESFORCE_LOGIN_URL, "https://a.my.salesforce.com"),
        ]));
        assert_eq!(no_secret.unwrap_err().setting, SALESFORCE_CLIENT_SECRET);
        let plain = settings(env(&[(HUBSPOT_TOKEN, "t"), (HUBSPOT_API_URL, "http://api.hubapi.com")]));
        assert_eq!(plain.unwrap_err().setting, HUBSPOT_API_URL);
        let sneaky = settings(env(&[
            (HUBSPOT_TOKEN, "t"),
            (HUBSPOT_API_URL, "http://localhost.evil.com"),
        ]));
        assert!(sneaky.is_err());
        assert!(settings(env(&[(HUBSPOT_TOKEN, "t"), (HUBSPOT_API_URL, "http://127.0.0.1:9")])).is_ok());
        let bad_version = settings(env(&[
            (SALESFORCE_CLIENT_ID, "3MVG9"),
            (SALESFORCE_CLIENT_SECRET, "s"),
            (SALESFORCE_LOGIN_URL, "https://a.my.salesforce.com"),
            (SALESFORCE_API_VERSION, "62"),
        ]));
        assert_eq!(bad_version.unwrap_err().setting, SALESFORCE_API_VERSION);
    }

    #[test]
    fn crm_keys_name_their_record_and_other_ids_do_not() {
        let hs = record_of(&LeadId::parse("hubspot:62515:123").unwrap()).unwrap();
        assert_eq!(
            (hs.crm, hs.account.as_str(), hs.id.as_str()),
            (Source::HubSpot, "62515", "123")
        );
        let sf = record_of(&LeadId::parse("salesforce:00D5e000000abcd:00Q5e00000AbCdE").unwrap()).unwrap();
        assert_eq!(sf.crm, Source::Salesforce);
        assert!(record_of(&LeadId::parse("L-1").unwrap()).is_none());
        assert!(record_of(&LeadId::parse("hubspot:62515").unwrap()).is_none());
        assert!(record_of(&LeadId::parse("outreach:1:2").unwrap()).is_none());
    }

    #[test]
    fn unchanged_figures_want_nothing_and_a_change_restarts_the_attempts() {
        let lead = LeadId::parse("hubspot:1:2").unwrap();
        let now = t("2026-11-23T15:00:00Z");
        let first = WriteBack::wanted(&lead, None, figures_with(60), now).unwrap();
        assert_eq!(
            (first.revision, first.status, first.next_attempt_at),
            (1, OutboxStatus::Pending, now)
        );
        assert_eq!(WriteBack::wanted(&lead, Some(&first), figures_with(60), now), None);
        let mut dead = first.next();
        dead.failed("gone", None, true, now);
        assert_eq!(dead.status, OutboxStatus::Dead);
        let again = WriteBack::wanted(&lead, Some(&dead), figures_with(90), now).unwrap();
        assert_eq!(
            (again.revision, again.attempts, again.status),
            (3, 0, OutboxStatus::Pending)
        );
    }

    #[test]
    fn newer_figures_wait_for_the_lease_of_a_write_in_flight() {
        let lead = LeadId::parse("hubspot:1:2").unwrap();
        let now = t("2026-11-23T15:00:00Z");
        let mut leased = WriteBack::wanted(&lead, None, figures_with(60), now).unwrap().next();
        leased.next_attempt_at = now + chrono::Duration::seconds(60);
        let newer = WriteBack::wanted(&lead, Some(&leased), figures_with(90), now).unwrap();
        assert_eq!(
            newer.next_attempt_at, leased.next_attempt_at,
            "not sent beside the older one"
        );
        // Once sent, new figures go at once.
        let mut sent = leased.next();
        sent.status = OutboxStatus::Sent;
        let after = WriteBack::wanted(&lead, Some(&sent), figures_with(120), now).unwrap();
        assert_eq!(after.next_attempt_at, now);
    }

    #[test]
    fn failures_back_off_honour_retry_after_and_die_at_the_limit() {
        let now = t("2026-11-23T15:00:00Z");
        let mut w = WriteBack::wanted(&LeadId::parse("hubspot:1:2").unwrap(), None, figures_with(1), now).unwrap();
        w.failed("429", Some(chrono::Duration::seconds(10)), false, now);
        assert_eq!(w.next_attempt_at, now + chrono::Duration::seconds(10));
        assert_eq!(w.status, OutboxStatus::Pending);
        for _ in 1..MAX_ATTEMPTS {
            w.failed("503", None, false, now);
        }
        assert_eq!((w.status, w.attempts), (OutboxStatus::Dead, MAX_ATTEMPTS));
    }
}
