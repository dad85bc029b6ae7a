//! `Outbox`: pending messages come due in order; a durable channel's acceptance delivers the
//! step; failures wait and dead letters are counted.

use crate::check::{ensure, ensure_eq, Ctx, Failure, Outcome};
use crate::fixtures::{due, message, record};
use crate::Adapter;
use chrono::Duration;
use leadclock_app::outbox::{Channel, OutboxMessage, OutboxStatus};
use leadclock_app::ports::{Outbox, StepLog};
use leadclock_domain::steps::{StepKey, StepStatus};
use leadclock_domain::{ClockKind, LeadId};

fn key(step: u32) -> StepKey {
    StepKey {
        cycle: 1,
        clock: ClockKind::Response,
        step,
    }
}

/// This case's messages among those due (the table may be shared with other runs).
fn mine(all: Vec<OutboxMessage>, leads: &[&LeadId]) -> Vec<String> {
    all.into_iter()
        .filter(|m| leads.contains(&&m.lead_id))
        .map(|m| m.id())
        .collect()
}

/// `due_messages` lists pending messages whose next attempt has come, oldest first; not sent
/// ones, not later ones.
pub async fn due_messages_are_pending_and_due_oldest_first<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (a, b) = (cx.lead(1)?, cx.lead(2)?);
    let first = message(&a, key(0), due(10)?, "first");
    let second = message(&b, key(0), due(20)?, "second");
    let later = message(&a, key(1), due(90)?, "later");
    cx.store
        .record(
            &a,
            &[record(key(0), StepStatus::Delivering, due(10)?)],
            std::slice::from_ref(&first),
        )
        .await?;
    cx.store
        .record(
            &b,
            &[record(key(0), StepStatus::Delivering, due(20)?)],
            std::slice::from_ref(&second),
        )
        .await?;
    cx.store
        .record(
            &a,
            &[record(key(1), StepStatus::Delivering, due(90)?)],
            std::slice::from_ref(&later),
        )
        .await?;
    let got = mine(cx.store.due_messages(due(30)?, 1000).await?, &[&a, &b]);
    ensure_eq("due at 30 min", got, vec![first.id(), second.id()])?;
    let mut sent = first.clone();
    sent.status = OutboxStatus::Sent;
    sent.sent_at = Some(due(31)?);
    cx.store.update_message(&sent).await?;
    let got = mine(cx.store.due_messages(due(100)?, 1000).await?, &[&a, &b]);
    ensure_eq("due at 100 min, after one was sent", got, vec![second.id(), later.id()])
}

/// A durable channel's acceptance turns the claim into `delivered`; another channel's does not.
pub async fn a_durable_send_makes_the_step_delivered<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let mut slack = message(&lead, key(0), due(0)?, "slack");
    slack.channel = Channel::Slack;
    let durable = message(&lead, key(0), due(0)?, "jsonl");
    let claim = record(key(0), StepStatus::Delivering, due(0)?);
    cx.store
        .record(&lead, &[claim], &[slack.clone(), durable.clone()])
        .await?;
    slack.status = OutboxStatus::Sent;
    slack.sent_at = Some(due(1)?);
    cx.store.update_message(&slack).await?;
    let status = |v: Vec<leadclock_domain::steps::StepRecord>| v.first().map(|r| r.status);
    ensure_eq(
        "after Slack took it",
        status(cx.store.steps(&lead).await?),
        Some(StepStatus::Delivering),
    )?;
    let mut sent = durable;
    sent.status = OutboxStatus::Sent;
    sent.sent_at = Some(due(2)?);
    cx.store.update_message(&sent).await?;
    let after = cx.store.steps(&lead).await?;
    ensure_eq(
        "after the durable channel took it",
        status(after.clone()),
        Some(StepStatus::Delivered),
    )?;
    ensure_eq("delivered at", after.first().map(|r| r.at), Some(due(2)?))?;
    let stored: Vec<OutboxStatus> = cx.store.lead_messages(&lead).await?.iter().map(|m| m.status).collect();
    ensure_eq(
        "both messages sent",
        stored,
        vec![OutboxStatus::Sent, OutboxStatus::Sent],
    )
}

/// A failed attempt moves the next one later; a dead letter leaves the due list and is counted.
pub async fn a_failed_attempt_waits_and_dead_letters_are_counted<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let m = message(&lead, key(0), due(0)?, "flaky");
    cx.store
        .record(
            &lead,
            &[record(key(0), StepStatus::Delivering, due(0)?)],
            std::slice::from_ref(&m),
        )
        .await?;
    let dead_before = cx.store.dead_letters().await?;
    let mut retry = m.clone();
    retry.attempts = 1;
    retry.next_attempt_at = due(0)? + Duration::minutes(10);
    retry.last_error = Some("answered 500".into());
    cx.store.update_message(&retry).await?;
    ensure_eq(
        "not due before its retry",
        mine(cx.store.due_messages(due(5)?, 1000).await?, &[&lead]),
        vec![],
    )?;
    ensure_eq(
        "due at its retry",
        mine(cx.store.due_messages(due(10)?, 1000).await?, &[&lead]),
        vec![m.id()],
    )?;
    let mut dead = retry;
    dead.status = OutboxStatus::Dead;
    cx.store.update_message(&dead).await?;
    ensure_eq(
        "a dead letter is never due",
        mine(cx.store.due_messages(due(1000)?, 1000).await?, &[&lead]),
        vec![],
    )?;
    let dead_after = cx.store.dead_letters().await?;
    ensure(dead_after > dead_before, || {
        format!("dead letters went from {dead_before} to {dead_after}")
    })?;
    ensure_eq(
        "its last error is kept",
        cx.store
            .lead_messages(&lead)
            .await?
            .first()
            .and_then(|m| m.last_error.clone()),
        Some("answered 500".into()),
    )
}

/// Two passes that read the same due message race to lease it: one wins, the other is told
/// no and sends nothing; while leased the message is not due; after the lease it is again.
pub async fn one_pass_wins_the_lease_of_a_message<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let m = message(&lead, key(0), due(0)?, "contended");
    cx.store
        .record(
            &lead,
            &[record(key(0), StepStatus::Delivering, due(0)?)],
            std::slice::from_ref(&m),
        )
        .await?;
    let read = cx.store.due_messages(due(1)?, 1000).await?;
    let read = read
        .into_iter()
        .find(|x| x.id() == m.id())
        .ok_or_else(|| Failure::Broken("a due message is not in the due list".into()))?;
    let until = due(3)?;
    ensure_eq("the first lease", cx.store.lease_message(&read, until).await?, true)?;
    ensure_eq(
        "the second lease of the same read",
        cx.store.lease_message(&read, until).await?,
        false,
    )?;
    ensure_eq(
        "not due while leased",
        mine(cx.store.due_messages(due(2)?, 1000).await?, &[&lead]),
        vec![],
    )?;
    ensure_eq(
        "due again when the lease ends",
        mine(cx.store.due_messages(due(3)?, 1000).await?, &[&lead]),
        vec![m.id()],
    )
}
