//! The store contract: what every adapter of the store ports (`EventStore`, `LeadIndex`,
//! `StepLog`, `Outbox`, `Rollups`, `PersonalData`, `Identities`, `WriteBacks`, `RawHooks`) promises its callers, checked the same way against memory, SQLite and DynamoDB.
//!
//! Each case is one async function that creates its own leads, named after the run and the
//! case, so cases and runs can share one table; it asserts only about those leads. Where the
//! adapters differ today, a case states what every caller relies on, not what one adapter
//! happens to do.
//!
//! Adding a case: write `async fn what_it_decides<A: Adapter>(cx: Ctx<A>) -> Outcome` in the
//! module of its port, and name it in [`cases`].

mod check;
mod event_store;
mod fixtures;
mod identities;
mod lead_index;
mod outbox;
mod privacy;
mod raw_hooks;
mod rollups;
mod steps;
mod write_backs;

pub use check::{Ctx, Failure, Outcome};

use leadclock_app::error::PortError;
use leadclock_app::ports::Store;
use std::future::Future;
use std::pin::Pin;

/// One adapter under test.
pub trait Adapter: 'static {
    type Store: Store + 'static;

    /// Named in every failure ("memory", "sqlite", "dynamodb").
    const NAME: &'static str;

    /// A store for one case: a fresh one, or one shared with other cases.
    fn store(&self) -> impl Future<Output = Result<Self::Store, PortError>>;

    /// `store` with a per-lead cap of `cap` events: the cap's case uses a small one, where
    /// the real cap is thousands of events.
    fn with_event_cap(store: &Self::Store, cap: u64) -> Self::Store;

    /// The report saved for `day`: a read the ports do not offer.
    fn rollup(store: &Self::Store, day: &str) -> impl Future<Output = Result<Option<String>, PortError>>;
}

/// A running case.
type CaseFuture = Pin<Box<dyn Future<Output = Outcome>>>;

/// A named case of the contract.
pub struct Case<A: Adapter> {
    pub name: &'static str,
    run: fn(Ctx<A>) -> CaseFuture,
}

/// `Case`s from async functions generic over the adapter, named after the function.
macro_rules! cases {
    ($($port:ident :: $case:ident),* $(,)?) => {
        vec![$(Case { name: stringify!($case), run: |cx| Box::pin($port::$case(cx)) }),*]
    };
}

/// Every case, in the order they run.
pub fn cases<A: Adapter>() -> Vec<Case<A>> {
    cases![
        event_store::append_stores_an_event_id_once,
        event_store::one_event_id_on_two_leads_is_two_events,
        event_store::load_returns_exactly_the_leads_events,
        event_store::load_round_trips_every_event_kind,
        event_store::append_batch_answers_each_event_in_order,
        event_store::a_lead_at_its_cap_refuses_new_events_but_not_repeats_or_voids,
        lead_index::appended_events_need_attention_until_folded,
        lead_index::a_new_event_marks_a_reconciled_lead_again,
        lead_index::stale_summary_changes_nothing,
        lead_index::summary_of_every_event_replaces_the_saved_one,
        lead_index::needing_attention_lists_leads_due_by_the_instant,
        lead_index::open_leads_follow_the_latest_summary,
        lead_index::open_clocks_are_answered_while_the_summary_is_current,
        lead_index::active_between_returns_leads_with_events_in_the_period,
        lead_index::active_between_leaves_out_leads_idle_in_the_period,
        lead_index::summary_reads_back_with_its_armed_timers,
        lead_index::saved_counts_the_events_stored_and_keeps_the_snapshot,
        lead_index::saved_many_answers_each_lead_in_order,
        lead_index::report_facts_follow_the_summaries_that_keep_them,
        steps::records_read_back_by_lead,
        steps::a_decided_record_is_never_replaced,
        steps::settling_keeps_the_first_window_and_yields_to_an_outcome,
        steps::messages_of_an_unwritten_record_are_dropped,
        outbox::due_messages_are_pending_and_due_oldest_first,
        outbox::a_durable_send_makes_the_step_delivered,
        outbox::a_failed_attempt_waits_and_dead_letters_are_counted,
        outbox::one_pass_wins_the_lease_of_a_message,
        rollups::save_rollup_replaces_the_days_report,
        privacy::leads_with_email_finds_forms_by_contact_email,
        privacy::rewrite_replaces_stored_events_and_never_adds_one,
        identities::leads_by_contact_finds_forms_until_the_email_is_erased,
        identities::people_are_found_by_what_they_were_learned_by,
        identities::held_touches_are_kept_once_until_released,
        write_backs::a_write_back_saves_only_over_the_revision_read,
        raw_hooks::raw_hooks_read_back_whole_in_order_and_are_forgotten_by_name_or_age,
    ]
}

/// Runs every case against `adapter`, each on a store from [`Adapter::store`], and panics
/// with every failure, each naming its case and the adapter.
pub async fn run_all<A: Adapter>(adapter: &A) {
    let run = check::Run::new();
    let all = cases::<A>();
    let mut failures = Vec::new();
    for case in &all {
        let outcome = match adapter.store().await {
            Ok(store) => (case.run)(Ctx::new(store, &run, case.name)).await,
            Err(e) => Err(Failure::Port(e)),
        };
        match outcome {
            Ok(()) => println!("[{}] {} ... ok", A::NAME, case.name),
            Err(why) => {
                println!("[{}] {} ... FAILED", A::NAME, case.name);
                failures.push(format!("[{}] {}: {why}", A::NAME, case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} store contract cases failed on {}:\n{}",
        failures.len(),
        all.len(),
        A::NAME,
        failures.join("\n")
    );
}
