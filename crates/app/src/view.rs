//! What the API returns about a lead: contact-free, derived from the fold.

use chrono::{DateTime, Utc};
use leadclock_domain::clock::{self, ClockView, Delays, Timer};
use leadclock_domain::lead::{Lead, Owner, Stint, TimelineEntry};
use leadclock_domain::{ClockKind, Policy};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct SentView {
    pub cycle: u32,
    pub clock: ClockKind,
    pub step: u32,
    pub sent_at: DateTime<Utc>,
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
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
    pub next_escalation: Option<Timer>,
    pub cycles: Vec<CycleView>,
    pub escalations: Vec<SentView>,
    pub timeline: Vec<TimelineEntry>,
    pub as_of: DateTime<Utc>,
}

impl LeadView {
    pub fn build(lead: &Lead, policy: &Policy, now: DateTime<Utc>) -> Self {
        let clocks = lead
            .current_cycle()
            .map(|c| clock::cycle_clocks(c, policy, now))
            .unwrap_or_default();
        let next_escalation = clock::timers(lead, policy, now).into_iter().min_by_key(|t| t.due_at);
        let cycles = lead
            .cycles
            .iter()
            .map(|c| CycleView {
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
            })
            .collect();
        let escalations = lead
            .cycles
            .iter()
            .flat_map(|c| {
                c.escalations.iter().map(move |e| SentView {
                    cycle: c.index,
                    clock: e.clock,
                    step: e.step,
                    sent_at: e.sent_at,
                    recipients: e.recipients.clone(),
                })
            })
            .collect();
        LeadView {
            lead_id: lead.lead_id.to_string(),
            stage: lead.stage.as_str(),
            lead_type: lead.lead_type.clone(),
            source: lead.source.clone(),
            region: lead.region.clone(),
            segment: lead.segment.clone(),
            owner: lead.owner.clone(),
            recycle_count: lead.recycle_count,
            clocks,
            next_escalation,
            cycles,
            escalations,
            timeline: lead.timeline.clone(),
            as_of: now,
        }
    }
}
