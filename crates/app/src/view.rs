//! What the API returns about a lead: contact-free, derived from the fold, with each step's
//! outcome and each channel's delivery state from the store.

use crate::error::LeadError;
use crate::outbox::{Channel, OutboxMessage, OutboxStatus};
use chrono::{DateTime, Utc};
use leadclock_domain::clock::{self, ClockView, Delays};
use leadclock_domain::lead::{Lead, Owner, Stint, TimelineEntry};
use leadclock_domain::steps::{StepKey, StepRecord, StepStatus};
use leadclock_domain::Policy;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CycleView {
    pub index: u32,
    pub recycled: bool,
    pub suppressed: bool,
    pub lead_type: String,
    pub engaged_at: DateTime<Utc>,
    pub first_assigned_at: Option<DateTime<Utc>>,
    pub first_touch_at: Option<DateTime<Utc>>,
    pub delays: Delays,
    pub owners: Vec<Stint>,
    pub touches: u32,
    pub qualifying_touches: u32,
    pub sal_at: Option<DateTime<Utc>>,
    pub rejected_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<String>,
    pub sql_at: Option<DateTime<Utc>>,
    pub opportunity_at: Option<DateTime<Utc>>,
}

/// One channel's delivery of one step.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub channel: Channel,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// What was done about one escalation step.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepOutcomeView {
    pub cycle: u32,
    pub clock: leadclock_domain::ClockKind,
    /// 1-based.
    pub step: u32,
    pub status: StepStatus,
    pub reason: String,
    pub due_at: DateTime<Utc>,
    pub first_seen_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub deliveries: Vec<DeliveryView>,
}

/// The next step a running clock of the current cycle is waiting for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextStep {
    pub cycle: u32,
    pub clock: leadclock_domain::ClockKind,
    /// 1-based.
    pub step: u32,
    pub name: String,
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeadView {
    pub lead_id: String,
    pub stage: &'static str,
    pub lead_type: Option<String>,
    pub source: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub owner: Option<Owner>,
    pub recycle_count: u32,
    /// Clocks of the current cycle.
    pub clocks: Vec<ClockView>,
    pub next_escalation: Option<NextStep>,
    pub cycles: Vec<CycleView>,
    /// Every recorded step, oldest cycle first, with its outcome and deliveries.
    pub escalations: Vec<StepOutcomeView>,
    /// One page of the timeline, oldest first: [`TimelinePage`] says which.
    pub timeline: Vec<TimelineEntry>,
    /// Entries in the whole timeline.
    pub timeline_total: usize,
    /// The `timeline_after` cursor of the next page; `None` on the last.
    pub timeline_next: Option<String>,
    /// The policy version that judges this lead: the one in force when its current cycle engaged.
    pub policy_version: u32,
    pub as_of: DateTime<Utc>,
    /// How writing this lead's figures back to its CRM record goes; absent when none was ever
    /// wanted (write-back off, or the lead is not a CRM record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_back: Option<WriteBackView>,
    /// A CRM merge folded this record into that lead: its events count there (read it there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// The current owner is not in the policy's directory (a CRM user nobody mapped): the
    /// lead is clocked all the same and ops hears each of its owner's escalations. Map the
    /// owner with `crm_ids` or `email` under `[directory.people]`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub owner_unknown: bool,
}

/// The state of a lead's CRM write-back, for ops: a dead one says why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WriteBackView {
    pub status: OutboxStatus,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    /// Pending only.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl WriteBackView {
    pub fn of(w: &crate::writeback::WriteBack) -> Self {
        WriteBackView {
            status: w.status,
            attempts: w.attempts,
            sent_at: w.sent_at,
            next_attempt_at: (w.status == OutboxStatus::Pending).then_some(w.next_attempt_at),
            last_error: w.last_error.clone(),
        }
    }
}

/// Entries in a timeline page when the request names no `timeline_limit`.
pub const DEFAULT_TIMELINE_PAGE: usize = 200;
/// The most a page holds: a lead with thousands of events answers in pages, not one huge body.
pub const MAX_TIMELINE_PAGE: usize = 1000;

/// Which page of a lead's timeline to return: at most `limit` entries, starting after the
/// entry `after` (an event id, the previous page's `timeline_next`). A cursor, unlike an
/// offset, stays right when a late event lands on an earlier page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    pub limit: usize,
    pub after: Option<String>,
}

impl Default for TimelinePage {
    fn default() -> Self {
        Self {
            limit: DEFAULT_TIMELINE_PAGE,
            after: None,
        }
    }
}

impl TimelinePage {
    /// `timeline_limit` (1 to [`MAX_TIMELINE_PAGE`]) and `timeline_after`, as sent.
    pub fn parse(limit: Option<&str>, after: Option<&str>) -> Result<Self, LeadError> {
        let invalid = |field, message: String| LeadError::InvalidQuery { field, message };
        let limit = match limit {
            None => DEFAULT_TIMELINE_PAGE,
            Some(l) => match l.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_TIMELINE_PAGE).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        "timeline_limit",
                        format!("must be a whole number from 1 to {MAX_TIMELINE_PAGE}"),
                    ))
                }
            },
        };
        let after = match after {
            None => None,
            Some(a) if a.is_empty() || a.len() > 256 => {
                return Err(invalid(
                    "timeline_after",
                    "must be an event id from timeline_next".into(),
                ))
            }
            Some(a) => Some(a.to_owned()),
        };
        Ok(Self { limit, after })
    }
}

impl LeadView {
    /// For a view built from a lead whose timeline holds only the head of its `total` entries
    /// (a fold continued from a snapshot): the whole count, and the cursor past the head.
    pub fn with_timeline_total(mut self, total: usize) -> Self {
        if total > self.timeline_total {
            self.timeline_total = total;
            if self.timeline_next.is_none() {
                self.timeline_next = self.timeline.last().map(|e| e.event_id.clone());
            }
        }
        self
    }

    /// Keeps one page of the timeline and names the next. A cursor that is not an entry of
    /// this lead's timeline is refused, not read as "from the start".
    pub fn page(mut self, page: &TimelinePage) -> Result<Self, LeadError> {
        let start = match &page.after {
            None => 0,
            Some(after) => {
                self.timeline
                    .iter()
                    .position(|e| &e.event_id == after)
                    .ok_or_else(|| LeadError::InvalidQuery {
                        field: "timeline_after",
                        message: format!("names no event of lead {}", self.lead_id),
                    })?
                    + 1
            }
        };
        let end = (start + page.limit.max(1)).min(self.timeline.len());
        self.timeline_next = (end < self.timeline.len() && end > 0).then(|| self.timeline[end - 1].event_id.clone());
        self.timeline.truncate(end);
        self.timeline.drain(..start.min(end));
        Ok(self)
    }
}

fn cycle_view(c: &leadclock_domain::lead::Cycle, policy: &Policy) -> CycleView {
    CycleView {
        index: c.index,
        recycled: c.recycled,
        suppressed: c.suppressed,
        lead_type: c.lead_type.clone(),
        engaged_at: c.engaged_at,
        first_assigned_at: c.first_assigned_at(),
        first_touch_at: c.first_touch_at,
        delays: clock::delays(c, policy),
        owners: c.stints.clone(),
        touches: c.touches,
        qualifying_touches: c.qualifying_touches,
        sal_at: c.sal_at,
        rejected_at: c.rejected_at,
        rejection_reason: c.rejection_reason.clone(),
        sql_at: c.sql_at,
        opportunity_at: c.opportunity_at,
    }
}

fn outcome_view(r: &StepRecord, messages: &[OutboxMessage]) -> StepOutcomeView {
    let deliveries = messages
        .iter()
        .filter(|m| m.step == r.key)
        .map(|m| DeliveryView {
            channel: m.channel,
            status: m.status,
            attempts: m.attempts,
            sent_at: m.sent_at,
            next_attempt_at: (m.status == OutboxStatus::Pending).then_some(m.next_attempt_at),
            last_error: m.last_error.clone(),
        })
        .collect();
    StepOutcomeView {
        cycle: r.key.cycle,
        clock: r.key.clock,
        step: r.key.step + 1,
        status: r.status,
        reason: r.reason.clone(),
        due_at: r.due_at,
        first_seen_at: r.first_seen_at,
        at: r.at,
        deliveries,
    }
}

/// The soonest step ahead of a running clock that nothing was decided about yet.
fn next_step(clocks: &[ClockView], records: &[StepRecord], now: DateTime<Utc>) -> Option<NextStep> {
    let decided = |k: StepKey| records.iter().any(|r| r.key == k && r.status.is_decided());
    clocks
        .iter()
        .filter(|c| c.is_running())
        .flat_map(|c| c.steps.iter().map(move |s| (c, s)))
        .filter(|(c, s)| {
            s.due_at > now
                && !decided(StepKey {
                    cycle: c.cycle,
                    clock: c.clock,
                    step: s.index,
                })
        })
        .min_by_key(|(_, s)| s.due_at)
        .map(|(c, s)| NextStep {
            cycle: c.cycle,
            clock: c.clock,
            step: s.index + 1,
            name: s.name.clone(),
            due_at: s.due_at,
        })
}

impl LeadView {
    pub fn build(
        lead: &Lead,
        policy: &Policy,
        now: DateTime<Utc>,
        records: &[StepRecord],
        messages: &[OutboxMessage],
    ) -> Self {
        let clocks = lead
            .current_cycle()
            .map(|c| clock::cycle_clocks(c, policy, now))
            .unwrap_or_default();
        let mut sorted: Vec<&StepRecord> = records.iter().collect();
        sorted.sort_by_key(|r| r.key);
        LeadView {
            lead_id: lead.lead_id.to_string(),
            stage: lead.stage.as_str(),
            lead_type: lead.lead_type.clone(),
            source: lead.source.clone(),
            region: lead.region.clone(),
            segment: lead.segment.clone(),
            owner: lead.owner.clone(),
            recycle_count: lead.recycle_count,
            next_escalation: next_step(&clocks, records, now),
            clocks,
            cycles: lead.cycles.iter().map(|c| cycle_view(c, policy)).collect(),
            escalations: sorted.into_iter().map(|r| outcome_view(r, messages)).collect(),
            timeline_total: lead.timeline.len(),
            timeline_next: None,
            timeline: lead.timeline.clone(),
            policy_version: 1,
            write_back: None,
            merged_into: lead.merged_into.as_ref().map(ToString::to_string),
            owner_unknown: lead.current_cycle().is_some_and(|c| clock::owner_unknown(c, policy)),
            as_of: now,
        }
    }
}
