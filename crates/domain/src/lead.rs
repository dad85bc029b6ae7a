//! The fold: a lead's state from its set of events.
//!
//! Events are de-duplicated by id and applied in [`Event::sort_key`] order, so the same set
//! in any arrival order, with any repeats, gives the same state.

use crate::event::{ClockKind, Event, EventBody, LeadId, StageChange};
use crate::policy::Policy;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Where a lead stands in the handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Seen, but no engagement (form) yet.
    New,
    Mql,
    Sal,
    Rejected,
    Sql,
    Opportunity,
    Won,
    Lost,
    Disqualified,
    Nurture,
    /// Over the recycle limit: kept out of the SLA queue.
    LongTermNurture,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Mql => "mql",
            Stage::Sal => "sal",
            Stage::Rejected => "rejected",
            Stage::Sql => "sql",
            Stage::Opportunity => "opportunity",
            Stage::Won => "won",
            Stage::Lost => "lost",
            Stage::Disqualified => "disqualified",
            Stage::Nurture => "nurture",
            Stage::LongTermNurture => "long_term_nurture",
        }
    }

    fn from_change(c: StageChange) -> Self {
        match c {
            StageChange::Sal => Stage::Sal,
            StageChange::Rejected => Stage::Rejected,
            StageChange::Sql => Stage::Sql,
            StageChange::Opportunity => Stage::Opportunity,
            StageChange::Won => Stage::Won,
            StageChange::Lost => Stage::Lost,
            StageChange::Disqualified => Stage::Disqualified,
            StageChange::Nurture => Stage::Nurture,
        }
    }

    /// Stages from which a new engagement starts a new, recycled MQL cycle.
    fn recycles(self) -> bool {
        matches!(
            self,
            Stage::Rejected | Stage::Nurture | Stage::Disqualified | Stage::Lost
        )
    }
}

/// One owner's time holding the lead within a cycle: their own accountability window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stint {
    pub owner: String,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub assigned_at: DateTime<Utc>,
    /// When the next owner took over.
    pub ended_at: Option<DateTime<Utc>>,
    /// First qualifying touch while this owner held the lead.
    pub responded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentStep {
    pub clock: ClockKind,
    pub step: u32,
    pub sent_at: DateTime<Utc>,
    pub recipients: Vec<String>,
}

/// One pass through the handoff, from an engagement to the lead leaving the queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cycle {
    /// 1-based.
    pub index: u32,
    pub recycled: bool,
    /// Over the recycle limit: no SLA clocks run.
    pub suppressed: bool,
    pub lead_type: String,
    pub source: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub engaged_at: DateTime<Utc>,
    pub stints: Vec<Stint>,
    /// First qualifying touch at or after engagement.
    pub first_touch_at: Option<DateTime<Utc>>,
    pub first_touch_owner: Option<String>,
    pub touches: u32,
    pub qualifying_touches: u32,
    /// A stage that took the lead out of the response queue (anything but SAL).
    pub closed_at: Option<DateTime<Utc>>,
    pub sal_at: Option<DateTime<Utc>>,
    pub rejected_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<String>,
    pub sql_at: Option<DateTime<Utc>>,
    pub opportunity_at: Option<DateTime<Utc>>,
    pub won_at: Option<DateTime<Utc>>,
    pub lost_at: Option<DateTime<Utc>>,
    pub disqualified_at: Option<DateTime<Utc>>,
    pub nurture_at: Option<DateTime<Utc>>,
    pub escalations: Vec<SentStep>,
}

impl Cycle {
    pub fn first_assigned_at(&self) -> Option<DateTime<Utc>> {
        self.stints.first().map(|s| s.assigned_at)
    }
    pub fn first_stint(&self) -> Option<&Stint> {
        self.stints.first()
    }
    pub fn current_stint(&self) -> Option<&Stint> {
        self.stints.last()
    }
    pub fn was_sent(&self, clock: ClockKind, step: u32) -> bool {
        self.escalations.iter().any(|e| e.clock == clock && e.step == step)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub event_id: String,
    pub occurred_at: DateTime<Utc>,
    pub kind: &'static str,
    /// Contact-free description.
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Owner {
    pub owner: String,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    pub lead_id: LeadId,
    pub stage: Stage,
    pub lead_type: Option<String>,
    pub source: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub account: Option<String>,
    pub score: Option<f64>,
    pub owner: Option<Owner>,
    pub recycle_count: u32,
    pub cycles: Vec<Cycle>,
    pub timeline: Vec<TimelineEntry>,
    /// Escalation records whose cycle does not exist (kept, not applied).
    pub orphan_escalations: u32,
    pub attributes: BTreeMap<String, String>,
}

impl Lead {
    pub fn current_cycle(&self) -> Option<&Cycle> {
        self.cycles.last()
    }

    /// Folds a set of events (any order, repeats allowed) into the lead's state.
    pub fn fold<'a>(lead_id: LeadId, events: impl IntoIterator<Item = &'a Event>, policy: &Policy) -> Lead {
        let mut events: Vec<&Event> = events.into_iter().filter(|e| e.lead_id == lead_id).collect();
        events.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        // A repeated id keeps its earliest copy, so the choice does not depend on arrival order.
        let mut seen = HashSet::new();
        events.retain(|e| seen.insert(e.event_id.as_str()));
        let mut lead = Lead {
            lead_id,
            stage: Stage::New,
            lead_type: None,
            source: None,
            region: None,
            segment: None,
            account: None,
            score: None,
            owner: None,
            recycle_count: 0,
            cycles: Vec::new(),
            timeline: Vec::with_capacity(events.len()),
            orphan_escalations: 0,
            attributes: BTreeMap::new(),
        };
        for e in events {
            lead.apply(e, policy);
        }
        lead
    }

    fn apply(&mut self, e: &Event, policy: &Policy) {
        let at = e.occurred_at;
        let summary = match &e.body {
            EventBody::Form(f) => {
                self.lead_type = Some(f.lead_type.clone());
                for (slot, v) in [
                    (&mut self.source, &f.source),
                    (&mut self.region, &f.region),
                    (&mut self.segment, &f.segment),
                    (&mut self.account, &f.account),
                ] {
                    if v.is_some() {
                        slot.clone_from(v);
                    }
                }
                if f.score.is_some() {
                    self.score = f.score;
                }
                self.attributes
                    .extend(f.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
                let start = match self.cycles.last() {
                    None => Some(false),
                    Some(_) if self.stage.recycles() => Some(true),
                    Some(_) => None,
                };
                match start {
                    Some(recycled) => {
                        if recycled {
                            self.recycle_count += 1;
                        }
                        let suppressed = self.recycle_count > policy.recycle_limit;
                        let mut cycle = Cycle {
                            index: self.cycles.len() as u32 + 1,
                            recycled,
                            suppressed,
                            lead_type: f.lead_type.clone(),
                            source: self.source.clone(),
                            region: self.region.clone(),
                            segment: self.segment.clone(),
                            engaged_at: at,
                            stints: Vec::new(),
                            first_touch_at: None,
                            first_touch_owner: None,
                            touches: 0,
                            qualifying_touches: 0,
                            closed_at: None,
                            sal_at: None,
                            rejected_at: None,
                            rejection_reason: None,
                            sql_at: None,
                            opportunity_at: None,
                            won_at: None,
                            lost_at: None,
                            disqualified_at: None,
                            nurture_at: None,
                            escalations: Vec::new(),
                        };
                        // An owner named before the first engagement (an ABM account owner)
                        // holds the lead from the moment it engages.
                        if !recycled {
                            if let Some(o) = &self.owner {
                                cycle.stints.push(Stint {
                                    owner: o.owner.clone(),
                                    team: o.team.clone(),
                                    manager: o.manager.clone(),
                                    assigned_at: at,
                                    ended_at: None,
                                    responded_at: None,
                                });
                            }
                        }
                        self.stage = if suppressed { Stage::LongTermNurture } else { Stage::Mql };
                        self.cycles.push(cycle);
                        let what = if suppressed {
                            "over the recycle limit: long-term nurture"
                        } else if recycled {
                            "recycled MQL"
                        } else {
                            "MQL"
                        };
                        format!("{} form, {what} (cycle {})", f.lead_type, self.cycles.len())
                    }
                    None => format!("{} form, repeat engagement", f.lead_type),
                }
            }
            EventBody::Assignment(a) => {
                self.owner = Some(Owner {
                    owner: a.owner.clone(),
                    team: a.team.clone(),
                    manager: a.manager.clone(),
                    since: at,
                });
                if let Some(c) = self.cycles.last_mut() {
                    if let Some(prev) = c.stints.last_mut() {
                        prev.ended_at.get_or_insert(at);
                    }
                    c.stints.push(Stint {
                        owner: a.owner.clone(),
                        team: a.team.clone(),
                        manager: a.manager.clone(),
                        assigned_at: at,
                        ended_at: None,
                        responded_at: None,
                    });
                }
                format!("assigned to {}", a.owner)
            }
            EventBody::Touch(t) => {
                let qualifies = self
                    .cycles
                    .last()
                    .and_then(|c| policy.lead_types.get(&c.lead_type))
                    .map(|lt| lt.touches.qualifies(&t.channel, t.outcome.as_deref()))
                    .unwrap_or(false);
                let by = t.owner.clone().or_else(|| self.owner.as_ref().map(|o| o.owner.clone()));
                if let Some(c) = self.cycles.last_mut() {
                    c.touches += 1;
                    if qualifies {
                        c.qualifying_touches += 1;
                        if c.first_touch_at.is_none() {
                            c.first_touch_at = Some(at);
                            c.first_touch_owner.clone_from(&by);
                        }
                        if let Some(s) = c.stints.last_mut() {
                            let by_holder = t.owner.as_deref().is_none_or(|o| o == s.owner);
                            if by_holder && s.responded_at.is_none() {
                                s.responded_at = Some(at);
                            }
                        }
                    }
                }
                let outcome = t.outcome.as_deref().map(|o| format!(" ({o})")).unwrap_or_default();
                let q = if qualifies { "" } else { ", does not stop the clock" };
                format!("{} touch{outcome}{q}", t.channel)
            }
            EventBody::Stage(s) => {
                self.stage = Stage::from_change(s.stage);
                if let Some(c) = self.cycles.last_mut() {
                    let slot = match s.stage {
                        StageChange::Sal => &mut c.sal_at,
                        StageChange::Rejected => &mut c.rejected_at,
                        StageChange::Sql => &mut c.sql_at,
                        StageChange::Opportunity => &mut c.opportunity_at,
                        StageChange::Won => &mut c.won_at,
                        StageChange::Lost => &mut c.lost_at,
                        StageChange::Disqualified => &mut c.disqualified_at,
                        StageChange::Nurture => &mut c.nurture_at,
                    };
                    slot.get_or_insert(at);
                    if s.stage == StageChange::Rejected && s.reason.is_some() {
                        c.rejection_reason.clone_from(&s.reason);
                    }
                    if s.stage != StageChange::Sal {
                        c.closed_at.get_or_insert(at);
                    }
                }
                match &s.reason {
                    Some(r) => format!("stage {} ({r})", s.stage.as_str()),
                    None => format!("stage {}", s.stage.as_str()),
                }
            }
            EventBody::Escalated(x) => {
                match self.cycles.get_mut((x.cycle as usize).wrapping_sub(1)) {
                    Some(c) => c.escalations.push(SentStep {
                        clock: x.clock,
                        step: x.step,
                        sent_at: at,
                        recipients: x.recipients.clone(),
                    }),
                    None => self.orphan_escalations += 1,
                }
                format!(
                    "escalated: {} clock step {} to {}",
                    x.clock.as_str(),
                    x.step + 1,
                    x.recipients.join(", ")
                )
            }
        };
        self.timeline.push(TimelineEntry {
            event_id: e.event_id.to_string(),
            occurred_at: at,
            kind: e.body.kind(),
            summary,
        });
    }
}
