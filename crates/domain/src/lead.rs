//! The fold: a lead's state from its set of events.
//!
//! Events are de-duplicated by id and by content (the same fact spelled twice is one fact),
//! corrections take the events they void out, and the rest are applied in
//! [`Event::sort_key`] order, so the same set in any arrival order, with any repeats, gives the
//! same state.

use crate::event::{Assignment, Classified, Event, EventBody, EventId, Form, LeadId, Origin, StageChange, Touch};
use crate::policy::Policy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where a lead stands in the handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// One pass through the handoff, from an engagement to the lead leaving the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cycle {
    /// 1-based.
    pub index: u32,
    pub recycled: bool,
    /// Over the recycle limit: no SLA clocks run.
    pub suppressed: bool,
    pub lead_type: String,
    /// How the lead type was decided, when the sender did not name it.
    pub classified: Option<Classified>,
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
}

impl Cycle {
    fn engaged(index: u32, recycled: bool, suppressed: bool, form: &Form, lead: &Lead, at: DateTime<Utc>) -> Cycle {
        Cycle {
            index,
            recycled,
            suppressed,
            lead_type: form.lead_type.clone(),
            classified: form.classified.clone(),
            source: lead.source.clone(),
            region: lead.region.clone(),
            segment: lead.segment.clone(),
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
        }
    }

    /// A classification rule took the cycle out of every SLA: no clock runs.
    pub fn excluded(&self) -> Option<(&str, &str)> {
        match &self.classified {
            Some(Classified::Excluded { rule, reason }) => Some((rule, reason)),
            _ => None,
        }
    }

    pub fn first_assigned_at(&self) -> Option<DateTime<Utc>> {
        self.stints.first().map(|s| s.assigned_at)
    }
    pub fn first_stint(&self) -> Option<&Stint> {
        self.stints.first()
    }
    pub fn current_stint(&self) -> Option<&Stint> {
        self.stints.last()
    }

    fn stage_slot(&mut self, stage: StageChange) -> &mut Option<DateTime<Utc>> {
        match stage {
            StageChange::Sal => &mut self.sal_at,
            StageChange::Rejected => &mut self.rejected_at,
            StageChange::Sql => &mut self.sql_at,
            StageChange::Opportunity => &mut self.opportunity_at,
            StageChange::Won => &mut self.won_at,
            StageChange::Lost => &mut self.lost_at,
            StageChange::Disqualified => &mut self.disqualified_at,
            StageChange::Nurture => &mut self.nurture_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub event_id: String,
    pub occurred_at: DateTime<Utc>,
    pub kind: &'static str,
    /// Contact-free description.
    pub summary: String,
    #[serde(skip_serializing_if = "Origin::is_live")]
    pub origin: Origin,
    /// The correction that took this event out of the fold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_by: Option<String>,
}

/// A timeline entry as stored (in a [`crate::snapshot::Snapshot`]): its kind as text.
#[derive(Deserialize)]
struct StoredEntry {
    event_id: String,
    occurred_at: DateTime<Utc>,
    kind: String,
    summary: String,
    #[serde(default)]
    origin: Origin,
    #[serde(default)]
    voided_by: Option<String>,
}

// By hand: derived, serde would borrow `kind` from the input for `'static`.
impl<'de> Deserialize<'de> for TimelineEntry {
    /// A kind this release does not know is an error, not a guess.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = StoredEntry::deserialize(d)?;
        let kind = EventBody::KINDS
            .into_iter()
            .find(|k| *k == e.kind)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event kind {:?}", e.kind)))?;
        Ok(TimelineEntry {
            event_id: e.event_id,
            occurred_at: e.occurred_at,
            kind,
            summary: e.summary,
            origin: e.origin,
            voided_by: e.voided_by,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Owner {
    pub owner: String,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// When the earliest live event happened: a step that fell due before it (or on a lead
    /// with no live event at all) belongs to history and pages nobody.
    pub first_live_at: Option<DateTime<Utc>>,
    pub attributes: BTreeMap<String, String>,
    /// A CRM merge folded this lead into that one: its events count there, not here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<LeadId>,
}

/// The events a fold applies, in order, with what voided the others.
struct Effective<'a> {
    ordered: Vec<&'a Event>,
    voided_by: HashMap<&'a EventId, &'a EventId>,
}

/// Sorted, repeats (by id, then by content) dropped, corrections resolved.
fn effective<'a>(lead_id: &LeadId, events: impl IntoIterator<Item = &'a Event>) -> Effective<'a> {
    let mut ordered: Vec<&Event> = events.into_iter().filter(|e| &e.lead_id == lead_id).collect();
    ordered.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // A repeated id keeps its earliest copy, so the choice does not depend on arrival order.
    let mut seen = HashSet::new();
    ordered.retain(|e| seen.insert(e.event_id.as_str()));
    let mut kept: Vec<&Event> = Vec::with_capacity(ordered.len());
    for e in ordered {
        // Same instant and rank sort together: compare only against that run.
        let same_run = kept
            .iter()
            .rev()
            .take_while(|k| k.occurred_at == e.occurred_at && k.body.rank() == e.body.rank());
        if !same_run.into_iter().any(|k| k.same_fact(e)) {
            kept.push(e);
        }
    }
    let voided_by = voids(&kept);
    Effective {
        ordered: kept,
        voided_by,
    }
}

/// Who voids whom. A void cannot itself be voided or superseded, and an event voided by a
/// void does not supersede anything, so undoing a mistaken correction restores its target.
fn voids<'a>(events: &[&'a Event]) -> HashMap<&'a EventId, &'a EventId> {
    let is_void: HashSet<&EventId> = events
        .iter()
        .filter(|e| matches!(e.body, EventBody::Void(_)))
        .map(|e| &e.event_id)
        .collect();
    let mut by_void = HashMap::new();
    for e in events.iter().filter(|e| matches!(e.body, EventBody::Void(_))) {
        if let Some(target) = e.voids().filter(|t| !is_void.contains(t)) {
            by_void.insert(target, &e.event_id);
        }
    }
    let mut all = by_void.clone();
    for e in events
        .iter()
        .filter(|e| !matches!(e.body, EventBody::Void(_)) && !by_void.contains_key(&e.event_id))
    {
        if let Some(target) = e.voids().filter(|t| !is_void.contains(t)) {
            all.entry(target).or_insert(&e.event_id);
        }
    }
    all
}

impl Lead {
    pub fn current_cycle(&self) -> Option<&Cycle> {
        self.cycles.last()
    }

    fn empty(lead_id: LeadId, events: usize) -> Lead {
        Lead {
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
            timeline: Vec::with_capacity(events),
            first_live_at: None,
            attributes: BTreeMap::new(),
            merged_into: None,
        }
    }

    /// Folds a set of events (any order, repeats allowed) into the lead's state.
    pub fn fold<'a>(lead_id: LeadId, events: impl IntoIterator<Item = &'a Event>, policy: &Policy) -> Lead {
        Lead::fold_by(lead_id, events, &|_| policy)
    }

    /// [`Lead::fold`] with the policy that judges each MQL cycle: `judge(t)` is the policy in
    /// force at instant `t`, asked for each cycle's engagement (its recycle limit, and which
    /// touches count in it).
    pub fn fold_by<'a, 'p>(
        lead_id: LeadId,
        events: impl IntoIterator<Item = &'a Event>,
        judge: &dyn Fn(DateTime<Utc>) -> &'p Policy,
    ) -> Lead {
        let events: Vec<&Event> = events.into_iter().filter(|e| e.lead_id == lead_id).collect();
        // Any live copy of any event counts, whichever copy the fold keeps.
        let first_live_at = events
            .iter()
            .filter(|e| e.origin.is_live())
            .map(|e| e.occurred_at)
            .min();
        let eff = effective(&lead_id, events.iter().copied());
        let mut lead = Lead::empty(lead_id, eff.ordered.len());
        lead.first_live_at = first_live_at;
        if let Some(into) = crate::merge::absorbed_by(&lead.lead_id, eff.ordered.iter().copied()) {
            // Folded into the survivor, which reads these events as its own: nothing counts here.
            for e in &eff.ordered {
                lead.note(
                    e,
                    format!(
                        "{} (counted on {into}, which this record was merged into)",
                        e.body.kind()
                    ),
                    None,
                );
            }
            lead.merged_into = Some(into);
            return lead;
        }
        for e in &eff.ordered {
            match eff.voided_by.get(&e.event_id) {
                Some(by) => lead.note(e, format!("{} (voided)", e.body.kind()), Some(by)),
                None => lead.apply_judged(e, judge),
            }
        }
        lead
    }

    /// Applies one live event with the policy that judges it: a form by its own instant (it may
    /// open a cycle), a touch by its cycle's engagement.
    pub(crate) fn apply_judged<'p>(&mut self, e: &Event, judge: &dyn Fn(DateTime<Utc>) -> &'p Policy) {
        let at = match &e.body {
            EventBody::Touch(_) => self.cycles.last().map_or(e.occurred_at, |c| c.engaged_at),
            _ => e.occurred_at,
        };
        self.apply(e, judge(at));
    }

    fn note(&mut self, e: &Event, summary: String, voided_by: Option<&EventId>) {
        self.timeline.push(TimelineEntry {
            event_id: e.event_id.to_string(),
            occurred_at: e.occurred_at,
            kind: e.body.kind(),
            summary,
            origin: e.origin,
            voided_by: voided_by.map(std::string::ToString::to_string),
        });
    }

    fn apply(&mut self, e: &Event, policy: &Policy) {
        let at = e.occurred_at;
        let summary = match &e.body {
            EventBody::Form(f) => self.apply_form(f, at, policy),
            EventBody::Assignment(a) => self.apply_assignment(a, at),
            EventBody::Touch(t) => self.apply_touch(t, at, policy),
            EventBody::Stage(s) => self.apply_stage(s.stage, s.reason.as_deref(), at),
            EventBody::Void(v) => format!("voided {} ({})", v.target, v.reason),
            EventBody::Merge(m) if m.into == self.lead_id => {
                let names: Vec<&str> = m.merged.iter().map(LeadId::as_str).collect();
                format!("merged in {}: their events count here", names.join(", "))
            }
            EventBody::Merge(m) => format!("{} were merged into {}", m.merged.len(), m.into),
            EventBody::Escalated(x) => {
                format!(
                    "escalation record: {} clock step {} (from an earlier release)",
                    x.clock.as_str(),
                    x.step + 1
                )
            }
        };
        self.note(e, summary, None);
    }

    /// A form: the lead's facts, and a new MQL cycle unless one is already open.
    fn apply_form(&mut self, f: &Form, at: DateTime<Utc>, policy: &Policy) -> String {
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
        let recycled = match self.cycles.last() {
            None => false,
            Some(_) if self.stage.recycles() => true,
            Some(_) => return format!("{} form, repeat engagement", f.lead_type),
        };
        self.recycle_count += u32::from(recycled);
        let suppressed = self.recycle_count > policy.recycle_limit;
        let mut cycle = Cycle::engaged(self.cycles.len() as u32 + 1, recycled, suppressed, f, self, at);
        // An owner named before the first engagement (an ABM account owner) holds the lead
        // from the moment it engages.
        if let (false, Some(o)) = (recycled, &self.owner) {
            cycle.stints.push(Stint {
                owner: o.owner.clone(),
                team: o.team.clone(),
                manager: o.manager.clone(),
                assigned_at: at,
                ended_at: None,
                responded_at: None,
            });
        }
        self.stage = if suppressed { Stage::LongTermNurture } else { Stage::Mql };
        self.cycles.push(cycle);
        let what = match (suppressed, recycled) {
            (true, _) => "over the recycle limit: long-term nurture",
            (false, true) => "recycled MQL",
            (false, false) => "MQL",
        };
        format!("{} form, {what} (cycle {})", f.lead_type, self.cycles.len())
    }

    /// An assignment: a new owner, and a new accountability window in the open cycle.
    fn apply_assignment(&mut self, a: &Assignment, at: DateTime<Utc>) -> String {
        // A CRM that resends the whole record (Salesforce's Outbound Messages, a routing tool
        // firing again) repeats the owner it already set: that is no new accountability window,
        // so the holder's clock and score run on from the first assignment.
        // A team named only on the repeat (or only on the first) is the same holder; the repeat
        // may fill in the team the first left out.
        let holding = self.cycles.last_mut().and_then(|c| c.stints.last_mut()).filter(|s| {
            s.ended_at.is_none() && s.owner == a.owner && (a.team.is_none() || s.team.is_none() || a.team == s.team)
        });
        if let Some(stint) = holding {
            if stint.team.is_none() && a.team.is_some() {
                stint.team = a.team.clone();
                if let Some(o) = self.owner.as_mut().filter(|o| o.owner == a.owner) {
                    o.team = a.team.clone();
                }
            }
            return format!("assigned to {} again: already the owner, nothing changes", a.owner);
        }
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

    /// A touch: counted, and the first qualifying one stops the response clock.
    fn apply_touch(&mut self, t: &Touch, at: DateTime<Utc>, policy: &Policy) -> String {
        let qualifies = self
            .cycles
            .last()
            .and_then(|c| policy.lead_types.get(&c.lead_type))
            .is_some_and(|lt| lt.touches.qualifies(&t.channel, t.outcome.as_deref()));
        let by = t.owner.clone().or_else(|| self.owner.as_ref().map(|o| o.owner.clone()));
        if let Some(c) = self.cycles.last_mut() {
            c.touches += 1;
            if qualifies {
                record_qualifying_touch(c, t, by, at);
            }
        }
        let outcome = t.outcome.as_deref().map(|o| format!(" ({o})")).unwrap_or_default();
        let q = if qualifies { "" } else { ", does not stop the clock" };
        format!("{} touch{outcome}{q}", t.channel)
    }

    /// A stage change: the cycle's milestone, and (for all but SAL) the end of its clocks.
    fn apply_stage(&mut self, stage: StageChange, reason: Option<&str>, at: DateTime<Utc>) -> String {
        self.stage = Stage::from_change(stage);
        if let Some(c) = self.cycles.last_mut() {
            c.stage_slot(stage).get_or_insert(at);
            if stage == StageChange::Rejected && reason.is_some() {
                c.rejection_reason = reason.map(str::to_owned);
            }
            if stage != StageChange::Sal {
                c.closed_at.get_or_insert(at);
            }
        }
        match reason {
            Some(r) => format!("stage {} ({r})", stage.as_str()),
            None => format!("stage {}", stage.as_str()),
        }
    }
}

fn record_qualifying_touch(c: &mut Cycle, t: &Touch, by: Option<String>, at: DateTime<Utc>) {
    c.qualifying_touches += 1;
    if c.first_touch_at.is_none() {
        c.first_touch_at = Some(at);
        c.first_touch_owner = by;
    }
    if let Some(s) = c.stints.last_mut() {
        let by_holder = t.owner.as_deref().is_none_or(|o| o == s.owner);
        if by_holder && s.responded_at.is_none() {
            s.responded_at = Some(at);
        }
    }
}
