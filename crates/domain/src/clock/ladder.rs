//! Deadlines and the due instants of a ladder's steps.

use crate::calendar::Calendar;
use crate::policy::{Anchor, Basis, SlaRule, Step, Target};
use chrono::{DateTime, Duration, Utc};

/// The clock basis of a rule: business or calendar time.
pub fn rule_basis(rule: &SlaRule) -> Basis {
    match rule.target {
        Target::Within { basis, .. } => basis,
        Target::EndOfBusinessDay => Basis::Business,
    }
}

/// The deadline of a rule started at `start` on `cal`.
pub fn deadline(rule: &SlaRule, cal: &Calendar, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match rule.target {
        Target::Within {
            duration,
            basis: Basis::Business,
        } => cal.due(start, duration).ok(),
        Target::Within {
            duration,
            basis: Basis::Calendar,
        } => start.checked_add_signed(duration),
        Target::EndOfBusinessDay => cal.end_of_business_day(start).ok(),
    }
}

/// Due instants of a ladder's steps, never earlier than the step before.
pub fn step_times(
    rule: &SlaRule,
    cal: &Calendar,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Vec<Option<DateTime<Utc>>> {
    let mut prev: Option<DateTime<Utc>> = None;
    rule.ladder
        .iter()
        .map(|step| {
            let t = step_time(step, rule, cal, start, deadline, prev)?;
            let t = prev.map_or(t, |p| t.max(p));
            prev = Some(t);
            Some(t)
        })
        .collect()
}

fn step_time(
    step: &Step,
    rule: &SlaRule,
    cal: &Calendar,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
    prev: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let anchor = match step.anchor {
        Anchor::Deadline => deadline,
        Anchor::EndOfBusinessDay => cal.end_of_business_day(prev.unwrap_or(deadline)).ok()?,
    };
    let off = step.offset;
    if off == Duration::zero() {
        return Some(anchor);
    }
    if off > Duration::zero() {
        return match rule_basis(rule) {
            Basis::Business => cal.due(anchor, off).ok(),
            Basis::Calendar => anchor.checked_add_signed(off),
        };
    }
    // Before the deadline of a business-time target: the same business time less, from the start.
    match (step.anchor, &rule.target) {
        (
            Anchor::Deadline,
            Target::Within {
                duration,
                basis: Basis::Business,
            },
        ) => cal.due(start, (*duration + off).max(Duration::zero())).ok(),
        _ => Some(anchor.checked_add_signed(off)?.max(start)),
    }
}
