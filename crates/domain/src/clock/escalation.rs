//! What an escalation step says and whom it reaches: the people behind a step's roles, its
//! severity, and a readable line free of contact data.

use super::ClockView;
use crate::event::{ClockKind, LeadId};
use crate::lead::Cycle;
use crate::policy::{Policy, Role, SlaRule, Step};
use crate::steps::StepKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How loud a step is: the first is a warning, the last of a longer ladder critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    High,
    Critical,
}

impl Severity {
    pub fn of(step: usize, total: usize) -> Severity {
        if total > 1 && step + 1 == total {
            Severity::Critical
        } else if step == 0 {
            Severity::Warning
        } else {
            Severity::High
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One person a step notifies, in one of the roles it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub id: String,
    pub role: Role,
    pub name: Option<String>,
    /// A Slack member id from the directory: the only mentions a message may carry.
    pub slack: Option<String>,
}

/// An escalation step that is due now: what to send and to whom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    pub lead_id: LeadId,
    pub key: StepKey,
    pub step_name: String,
    pub steps_total: u32,
    pub severity: Severity,
    pub lead_type: String,
    pub lead_type_label: String,
    pub owner: Option<String>,
    pub recipients: Vec<Recipient>,
    pub engaged_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Seconds since engagement when the step fell due.
    pub age_seconds: i64,
}

impl Escalation {
    /// What step `index` of `clock` in `cycle` says: the step from `policy` (the version that
    /// judges the lead), its people resolved against `directory`'s directory (the policy in
    /// force now, so a person removed since is not paged).
    pub fn of(
        lead_id: &LeadId,
        cycle: &Cycle,
        clock: &ClockView,
        index: u32,
        policy: &Policy,
        directory: &Policy,
    ) -> Option<Escalation> {
        let rule = rule_of(policy, cycle, clock.clock)?;
        let step = rule.ladder.get(index as usize)?;
        let view = clock.steps.iter().find(|s| s.index == index)?;
        let deadline = clock.deadline?;
        let total = rule.ladder.len();
        Some(Escalation {
            lead_id: lead_id.clone(),
            key: StepKey {
                cycle: cycle.index,
                clock: clock.clock,
                step: index,
            },
            step_name: step.name.clone(),
            steps_total: total as u32,
            severity: Severity::of(index as usize, total),
            lead_type: cycle.lead_type.clone(),
            lead_type_label: policy
                .lead_types
                .get(&cycle.lead_type)
                .map(|l| l.label.clone())
                .unwrap_or_default(),
            owner: cycle.current_stint().map(|s| s.owner.clone()),
            recipients: recipients(step, cycle, directory),
            engaged_at: cycle.engaged_at,
            started_at: clock.started_at,
            deadline,
            due_at: view.due_at,
            age_seconds: (view.due_at - cycle.engaged_at).num_seconds(),
        })
    }

    /// One readable line, free of contact data.
    pub fn line(&self) -> String {
        let who: Vec<String> = self
            .recipients
            .iter()
            .map(|r| format!("{} ({})", r.id, r.role.as_str()))
            .collect();
        format!(
            "ESCALATION [{}] lead {} ({}) {} clock step {}/{} \"{}\": owner {}, age {}, deadline {} -> notify {}",
            self.severity.as_str(),
            self.lead_id,
            self.lead_type,
            self.key.clock.as_str(),
            self.key.step + 1,
            self.steps_total,
            self.step_name,
            self.owner.as_deref().unwrap_or("unassigned"),
            human_duration(self.age_seconds),
            self.deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            who.join(", "),
        )
    }
}

/// The rule a clock of a cycle runs on.
pub fn rule_of<'p>(policy: &'p Policy, cycle: &Cycle, clock: ClockKind) -> Option<&'p SlaRule> {
    match clock {
        ClockKind::Assignment => Some(&policy.assignment),
        ClockKind::Response => policy.lead_types.get(&cycle.lead_type).map(|lt| &lt.sla),
    }
}

/// `2h05m`, `45s`: short and readable.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m{sec:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

/// People a role reaches on this cycle, following the current owner's chain.
pub fn resolve(role: Role, cycle: &Cycle, policy: &Policy) -> Vec<Recipient> {
    let dir = &policy.directory;
    let stint = cycle.current_stint();
    let owner = stint.map(|s| s.owner.as_str());
    let person = owner.and_then(|o| dir.people.get(o));
    let team_name = stint
        .and_then(|s| s.team.as_deref())
        .or(person.and_then(|p| p.team.as_deref()));
    let team = team_name.and_then(|t| dir.teams.get(t));
    let ids: Vec<String> = match role {
        Role::Owner => owner.map(str::to_owned).into_iter().collect(),
        Role::Manager => stint
            .and_then(|s| s.manager.clone())
            .or_else(|| person.and_then(|p| p.manager.clone()))
            .or_else(|| team.and_then(|t| t.manager.clone()))
            .map_or_else(|| dir.manager.clone(), |m| vec![m]),
        Role::Exec => team
            .and_then(|t| t.exec.clone())
            .map_or_else(|| dir.exec.clone(), |e| vec![e]),
        Role::Ops => dir.ops.clone(),
    };
    ids.into_iter()
        .map(|id| {
            let p = dir.people.get(&id);
            Recipient {
                role,
                name: p.and_then(|p| p.name.clone()),
                slack: p.and_then(|p| p.slack.clone()),
                id,
            }
        })
        .collect()
}

fn recipients(step: &Step, cycle: &Cycle, policy: &Policy) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    for role in &step.notify {
        for r in resolve(*role, cycle, policy) {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
    }
    if out.is_empty() {
        // Nobody to tell (e.g. "owner" before assignment): ops hears it rather than no one.
        out = resolve(Role::Ops, cycle, policy);
    } else if step.notify.contains(&Role::Owner) && owner_unknown(cycle, policy) {
        // An owner the directory does not know (a CRM user nobody mapped) is clocked all the
        // same, and ops hears each of its escalations: nobody may be reading its pages.
        for r in resolve(Role::Ops, cycle, policy) {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
    }
    out
}

/// The cycle's current owner is not among the directory's people, in a policy that has a
/// directory (without one every owner is just a name, and nobody is unknown).
pub fn owner_unknown(cycle: &Cycle, policy: &Policy) -> bool {
    let people = &policy.directory.people;
    !people.is_empty()
        && cycle
            .current_stint()
            .is_some_and(|s| !people.contains_key(s.owner.as_str()))
}
