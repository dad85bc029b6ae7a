//! `StepLog`: one outcome per step, whoever writes first; a claim's messages come with it.

use crate::check::{ensure_eq, Ctx, Outcome};
use crate::fixtures::{due, message, record};
use crate::Adapter;
use leadclock_app::ports::{Outbox, StepLog};
use leadclock_domain::steps::{StepKey, StepStatus};
use leadclock_domain::ClockKind;

fn key(step: u32) -> StepKey {
    StepKey {
        cycle: 1,
        clock: ClockKind::Response,
        step,
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Records come back per lead, whole, and only the lead's own.
pub async fn records_read_back_by_lead<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (lead, other) = (cx.lead(1)?, cx.lead(2)?);
    let mine = vec![
        record(key(0), StepStatus::Delivering, due(0)?),
        record(key(1), StepStatus::History, due(5)?),
    ];
    let written = cx.store.record(&lead, &mine, &[]).await?;
    ensure_eq("steps written", sorted(written), vec![key(0), key(1)])?;
    cx.store
        .record(&other, &[record(key(0), StepStatus::Stale, due(0)?)], &[])
        .await?;
    let mut got = cx.store.steps(&lead).await?;
    got.sort_by_key(|r| r.key);
    ensure_eq("the lead's records", got, mine)?;
    ensure_eq("a lead with no records", cx.store.steps(&cx.lead(3)?).await?, vec![])
}

/// Once a step has an outcome (or is being delivered), no later write changes it: racing
/// passes agree on one outcome.
pub async fn a_decided_record_is_never_replaced<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let first = record(key(0), StepStatus::Delivering, due(0)?);
    ensure_eq(
        "first outcome",
        cx.store.record(&lead, std::slice::from_ref(&first), &[]).await?,
        vec![key(0)],
    )?;
    for later in [StepStatus::Cancelled, StepStatus::Settling, StepStatus::Delivering] {
        let r = record(key(0), later, due(1)?);
        ensure_eq(
            "a second outcome is refused",
            cx.store.record(&lead, &[r], &[]).await?,
            vec![],
        )?;
    }
    ensure_eq("the first outcome stays", cx.store.steps(&lead).await?, vec![first])
}

/// A settling record keeps the first pass's window; an outcome replaces it.
pub async fn settling_keeps_the_first_window_and_yields_to_an_outcome<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let settling = record(key(0), StepStatus::Settling, due(0)?);
    cx.store.record(&lead, std::slice::from_ref(&settling), &[]).await?;
    let again = record(key(0), StepStatus::Settling, due(3)?);
    ensure_eq(
        "a second window is refused",
        cx.store.record(&lead, &[again], &[]).await?,
        vec![],
    )?;
    ensure_eq("the first window stays", cx.store.steps(&lead).await?, vec![settling])?;
    let outcome = record(key(0), StepStatus::Delivering, due(1)?);
    ensure_eq(
        "an outcome replaces it",
        cx.store.record(&lead, std::slice::from_ref(&outcome), &[]).await?,
        vec![key(0)],
    )?;
    ensure_eq("the outcome", cx.store.steps(&lead).await?, vec![outcome])
}

/// The messages of a claim are stored with it, and only if it was written: a refused claim
/// leaves no message behind.
pub async fn messages_of_an_unwritten_record_are_dropped<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    cx.store
        .record(&lead, &[record(key(0), StepStatus::Stale, due(0)?)], &[])
        .await?;
    let claim = record(key(0), StepStatus::Delivering, due(0)?);
    let refused = message(&lead, key(0), due(0)?, "refused");
    ensure_eq(
        "the refused claim",
        cx.store.record(&lead, &[claim], &[refused]).await?,
        vec![],
    )?;
    let claim1 = record(key(1), StepStatus::Delivering, due(5)?);
    let kept = message(&lead, key(1), due(5)?, "kept");
    ensure_eq(
        "a written claim",
        cx.store.record(&lead, &[claim1], std::slice::from_ref(&kept)).await?,
        vec![key(1)],
    )?;
    ensure_eq("messages stored", cx.store.lead_messages(&lead).await?, vec![kept])
}
