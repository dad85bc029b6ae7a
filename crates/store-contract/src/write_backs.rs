//! `WriteBacks`: one write-back per lead, saved only over the revision a pass read, and the
//! pending ones come due soonest first.

use crate::check::{ensure, ensure_eq, Ctx, Outcome};
use crate::fixtures::due;
use crate::Adapter;
use leadclock_app::outbox::OutboxStatus;
use leadclock_app::ports::WriteBacks;
use leadclock_app::writeback::{Figures, SlaStatus, WriteBack};
use leadclock_domain::LeadId;

fn figures(systems: i64) -> Figures {
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

/// This case's write-backs among those due (the table may be shared with other runs).
fn mine(all: Vec<WriteBack>, leads: &[&LeadId]) -> Vec<LeadId> {
    all.into_iter()
        .filter(|w| leads.contains(&&w.lead_id))
        .map(|w| w.lead_id)
        .collect()
}

/// The first save needs nothing stored and a later one the revision read: a second first
/// save or a stale revision loses, so two passes never both send one revision. Pending
/// write-backs are due soonest first; a sent one is not due.
pub async fn a_write_back_saves_only_over_the_revision_read<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (a, b) = (cx.lead(1)?, cx.lead(2)?);
    let first = WriteBack::wanted(&a, None, figures(60), due(10)?).expect("new figures are wanted");
    ensure(cx.store.save_write_back(&first, None).await?, || {
        "the first save of a lead's write-back is kept".into()
    })?;
    ensure(!cx.store.save_write_back(&first, None).await?, || {
        "a second first save must lose".into()
    })?;
    let other = WriteBack::wanted(&b, None, figures(5), due(5)?).expect("new figures are wanted");
    cx.store.save_write_back(&other, None).await?;
    ensure_eq("read back", cx.store.write_back(&a).await?, Some(first.clone()))?;
    ensure_eq(
        "due at 30 min",
        mine(cx.store.due_write_backs(due(30)?, 1000).await?, &[&a, &b]),
        vec![b.clone(), a.clone()],
    )?;
    ensure_eq(
        "due at 7 min",
        mine(cx.store.due_write_backs(due(7)?, 1000).await?, &[&a, &b]),
        vec![b.clone()],
    )?;
    let mut sent = first.next();
    sent.status = OutboxStatus::Sent;
    sent.sent_at = Some(due(11)?);
    ensure(cx.store.save_write_back(&sent, Some(first.revision)).await?, || {
        "a save over the revision read is kept".into()
    })?;
    ensure(
        !cx.store.save_write_back(&sent.next(), Some(first.revision)).await?,
        || "a save over a stale revision must lose".into(),
    )?;
    ensure_eq("read back after the send", cx.store.write_back(&a).await?, Some(sent))?;
    ensure_eq(
        "due after one was sent",
        mine(cx.store.due_write_backs(due(30)?, 1000).await?, &[&a, &b]),
        vec![b],
    )
}
