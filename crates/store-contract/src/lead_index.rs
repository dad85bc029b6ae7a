//! `LeadIndex`: summaries, and the lead lists the sweep, the open-SLA list and reports read.

use crate::check::{ensure, ensure_eq, ensure_lists, ensure_omits, Ctx, Failure, Outcome};
use crate::fixtures::{due, march, summary, touch};
use crate::Adapter;
use chrono::{DateTime, Duration, Utc};
use leadclock_app::fold_state::{EncodedOpenClocks, EncodedSnapshot};
use leadclock_app::ports::{EventStore, FactsChange, KeptFacts, LeadIndex, LeadSummary};
use leadclock_domain::metrics::{Dimension, Facts};
use leadclock_domain::{Event, LeadId};

/// The sweep's "now" for the unreconciled half of `needing_attention`: after every event of
/// the suite, before every escalation it saves as due.
fn sweep_now() -> Result<DateTime<Utc>, Failure> {
    march(31, 0)
}

async fn needing_attention<A: Adapter>(cx: &Ctx<A>, before: DateTime<Utc>) -> Result<(String, Vec<LeadId>), Failure> {
    Ok((
        format!("needing_attention({before})"),
        cx.store.needing_attention(before).await?,
    ))
}

/// Appends touches at `times` to `lead`; returns them.
async fn append_touches<A: Adapter>(
    cx: &Ctx<A>,
    lead: &LeadId,
    times: &[DateTime<Utc>],
) -> Result<Vec<Event>, Failure> {
    let mut events = Vec::new();
    for (i, at) in times.iter().enumerate() {
        let e = touch(lead, &format!("e{i}"), *at)?;
        cx.store.append(&e).await?;
        events.push(e);
    }
    Ok(events)
}

/// An appended event marks its lead until a summary has folded every stored event.
pub async fn appended_events_need_attention_until_folded<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    append_touches(&cx, &lead, &[march(10, 9)?, march(10, 10)?]).await?;
    let now = sweep_now()?;
    let (q, ids) = needing_attention(&cx, now).await?;
    ensure_lists(&q, &ids, &lead, "it has two events and no summary")?;
    cx.store.save_summary(&summary(&lead, 1, march(10, 9)?)).await?;
    let (q, ids) = needing_attention(&cx, now).await?;
    ensure_lists(&q, &ids, &lead, "its summary folded 1 of its 2 events")?;
    cx.store.save_summary(&summary(&lead, 2, march(10, 10)?)).await?;
    let (q, ids) = needing_attention(&cx, now).await?;
    ensure_omits(&q, &ids, &lead, "its summary folded every event and has nothing due")
}

/// An event stored after the summary marks the lead again.
pub async fn a_new_event_marks_a_reconciled_lead_again<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    append_touches(&cx, &lead, &[march(10, 9)?]).await?;
    cx.store.save_summary(&summary(&lead, 1, march(10, 9)?)).await?;
    let now = sweep_now()?;
    let (q, ids) = needing_attention(&cx, now).await?;
    ensure_omits(&q, &ids, &lead, "its summary folded its one event")?;
    cx.store.append(&touch(&lead, "later", march(10, 11)?)?).await?;
    let (q, ids) = needing_attention(&cx, now).await?;
    ensure_lists(&q, &ids, &lead, "an event arrived after its summary")
}

/// A stale summary (fewer events than one already saved) never clears attention, and never
/// replaces the saved `next_due` or `open`.
pub async fn stale_summary_changes_nothing<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (folded, unfolded) = (cx.lead(1)?, cx.lead(2)?);
    append_touches(&cx, &folded, &[march(10, 9)?, march(10, 10)?]).await?;
    let saved = LeadSummary {
        next_due: Some(due(120)?),
        ..summary(&folded, 2, march(10, 10)?)
    };
    cx.store.save_summary(&saved).await?;
    let stale = LeadSummary {
        next_due: Some(due(0)?),
        first_engaged_at: Some(march(10, 9)?),
        open: true,
        ..summary(&folded, 1, march(10, 9)?)
    };
    cx.store.save_summary(&stale).await?;
    let (q, ids) = needing_attention(&cx, due(0)?).await?;
    ensure_omits(&q, &ids, &folded, "only a stale summary has a step due then")?;
    let (q, ids) = needing_attention(&cx, due(120)?).await?;
    ensure_lists(&q, &ids, &folded, "its saved summary has a step due then")?;
    let open = cx.store.open_leads().await?;
    ensure_omits("open_leads", &open, &folded, "only a stale summary says a clock runs")?;

    append_touches(&cx, &unfolded, &[march(10, 9)?, march(10, 10)?, march(10, 11)?]).await?;
    cx.store.save_summary(&summary(&unfolded, 2, march(10, 10)?)).await?;
    cx.store.save_summary(&summary(&unfolded, 1, march(10, 9)?)).await?;
    let (q, ids) = needing_attention(&cx, sweep_now()?).await?;
    ensure_lists(&q, &ids, &unfolded, "it has 3 events and its summaries folded 2 and 1")
}

/// A summary that folded every stored event replaces the saved one, even one of as many events.
pub async fn summary_of_every_event_replaces_the_saved_one<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    append_touches(&cx, &lead, &[march(10, 9)?]).await?;
    let first = LeadSummary {
        next_due: Some(due(0)?),
        open: true,
        ..summary(&lead, 1, march(10, 9)?)
    };
    cx.store.save_summary(&first).await?;
    let then = LeadSummary {
        next_due: Some(due(60)?),
        open: false,
        ..first
    };
    cx.store.save_summary(&then).await?;
    let (q, ids) = needing_attention(&cx, due(0)?).await?;
    ensure_omits(&q, &ids, &lead, "its latest summary moved its step to an hour later")?;
    let (q, ids) = needing_attention(&cx, due(60)?).await?;
    ensure_lists(&q, &ids, &lead, "its latest summary has a step due then")?;
    let open = cx.store.open_leads().await?;
    ensure_omits("open_leads", &open, &lead, "its latest summary says no clock runs")
}

/// `needing_attention(before)` lists a lead whose next step is due at or before `before`.
pub async fn needing_attention_lists_leads_due_by_the_instant<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (pending, idle) = (cx.lead(1)?, cx.lead(2)?);
    let at = due(30)?;
    for (lead, next_due) in [(&pending, Some(at)), (&idle, None)] {
        append_touches(&cx, lead, &[march(10, 9)?]).await?;
        let s = LeadSummary {
            next_due,
            ..summary(lead, 1, march(10, 9)?)
        };
        cx.store.save_summary(&s).await?;
    }
    let (q, ids) = needing_attention(&cx, at - Duration::milliseconds(1)).await?;
    ensure_omits(&q, &ids, &pending, "its step is due a millisecond later")?;
    let (q, ids) = needing_attention(&cx, at).await?;
    ensure_lists(&q, &ids, &pending, "its step is due exactly then")?;
    let (q, ids) = needing_attention(&cx, due(90)?).await?;
    ensure_lists(&q, &ids, &pending, "its step was due an hour earlier")?;
    ensure_omits(&q, &ids, &idle, "nothing is due and every event is folded")
}

/// `open_leads` lists a lead while its latest summary says a clock runs.
pub async fn open_leads_follow_the_latest_summary<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (lead, closed) = (cx.lead(1)?, cx.lead(2)?);
    append_touches(&cx, &closed, &[march(10, 9)?]).await?;
    cx.store.save_summary(&summary(&closed, 1, march(10, 9)?)).await?;
    append_touches(&cx, &lead, &[march(10, 9)?]).await?;
    ensure_omits(
        "open_leads",
        &cx.store.open_leads().await?,
        &lead,
        "it has no summary yet",
    )?;
    let open = LeadSummary {
        open: true,
        ..summary(&lead, 1, march(10, 9)?)
    };
    cx.store.save_summary(&open).await?;
    let ids = cx.store.open_leads().await?;
    ensure_lists("open_leads", &ids, &lead, "its summary says a clock runs")?;
    ensure_omits("open_leads", &ids, &closed, "its summary says no clock runs")?;
    cx.store.append(&touch(&lead, "touch", march(10, 10)?)?).await?;
    cx.store.save_summary(&summary(&lead, 2, march(10, 10)?)).await?;
    let ids = cx.store.open_leads().await?;
    ensure_omits("open_leads", &ids, &lead, "its latest summary says no clock runs")
}

/// `open_clocks` answers each open lead with the clocks its summary keeps while that summary
/// folded every stored event, and without them once another event is stored.
pub async fn open_clocks_are_answered_while_the_summary_is_current<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    append_touches(&cx, &lead, &[march(10, 9)?]).await?;
    let kept = EncodedOpenClocks::from_stored(r#"{"clocks":"opaque to the store"}"#.into());
    let open = LeadSummary {
        open: true,
        open_clocks: Some(kept.clone()),
        ..summary(&lead, 1, march(10, 9)?)
    };
    cx.store.save_summary(&open).await?;
    let clocks_of = |all: Vec<(LeadId, Option<EncodedOpenClocks>)>| all.into_iter().find(|(id, _)| *id == lead);
    ensure_eq(
        "open_clocks of a current summary",
        clocks_of(cx.store.open_clocks().await?),
        Some((lead.clone(), Some(kept))),
    )?;
    cx.store.append(&touch(&lead, "touch", march(10, 10)?)?).await?;
    ensure_eq(
        "open_clocks once another event is stored",
        clocks_of(cx.store.open_clocks().await?),
        Some((lead.clone(), None)),
    )?;
    cx.store.save_summary(&summary(&lead, 2, march(10, 10)?)).await?;
    ensure_eq(
        "open_clocks of a lead no clock runs on",
        clocks_of(cx.store.open_clocks().await?),
        None,
    )
}

/// Saves the summary of a lead first engaged at `engaged`, with `events` events up to `last`.
async fn save_engaged<A: Adapter>(
    cx: &Ctx<A>,
    lead: &LeadId,
    events: u64,
    engaged: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Outcome {
    let s = LeadSummary {
        first_engaged_at: Some(engaged),
        ..summary(lead, events, last)
    };
    Ok(cx.store.save_summary(&s).await?)
}

/// `active_between(from, to)` returns every lead with an event in `[from, to)`, what a report
/// folds. A lead also active after `to` is checked once its summary is saved: before that,
/// SQLite dates a lead by its latest event only.
pub async fn active_between_returns_leads_with_events_in_the_period<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (from, to) = (march(12, 6)?, march(14, 6)?);
    let [unfolded, folded, at_from, long_running] = [cx.lead(1)?, cx.lead(2)?, cx.lead(3)?, cx.lead(4)?];
    append_touches(&cx, &unfolded, &[march(13, 12)?]).await?;
    append_touches(&cx, &folded, &[march(12, 7)?, march(13, 9)?]).await?;
    save_engaged(&cx, &folded, 2, march(12, 7)?, march(13, 9)?).await?;
    append_touches(&cx, &at_from, &[from]).await?;
    append_touches(&cx, &long_running, &[march(2, 9)?, march(13, 15)?, march(25, 9)?]).await?;
    save_engaged(&cx, &long_running, 3, march(2, 9)?, march(25, 9)?).await?;
    let q = format!("active_between({from}, {to})");
    let ids = cx.store.active_between(from, to).await?;
    ensure_lists(&q, &ids, &unfolded, "it has an event in the period and no summary yet")?;
    ensure_lists(&q, &ids, &folded, "all its events are in the period")?;
    ensure_lists(&q, &ids, &at_from, "its event is at `from`, which the period includes")?;
    ensure_lists(
        &q,
        &ids,
        &long_running,
        "engaged before, active after, it has an event in the period",
    )
}

/// `active_between(from, to)` leaves out a lead idle throughout the period, every event on a
/// UTC day before `from`'s or after `to`'s, so a report's cost does not grow with history.
pub async fn active_between_leaves_out_leads_idle_in_the_period<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (from, to) = (march(12, 6)?, march(14, 6)?);
    let [earlier, earlier_unfolded, later, later_unfolded] = [cx.lead(1)?, cx.lead(2)?, cx.lead(3)?, cx.lead(4)?];
    append_touches(&cx, &earlier, &[march(10, 9)?, march(11, 20)?]).await?;
    save_engaged(&cx, &earlier, 2, march(10, 9)?, march(11, 20)?).await?;
    append_touches(&cx, &earlier_unfolded, &[march(9, 9)?]).await?;
    append_touches(&cx, &later, &[march(15, 9)?]).await?;
    save_engaged(&cx, &later, 1, march(15, 9)?, march(15, 9)?).await?;
    append_touches(&cx, &later_unfolded, &[march(16, 9)?]).await?;
    let q = format!("active_between({from}, {to})");
    let ids = cx.store.active_between(from, to).await?;
    ensure_omits(&q, &ids, &earlier, "its events are on days before the period")?;
    ensure_omits(&q, &ids, &earlier_unfolded, "its event is on a day before the period")?;
    ensure_omits(&q, &ids, &later, "engaged after the period, it has no earlier event")?;
    ensure_omits(&q, &ids, &later_unfolded, "its event is on a day after the period")
}

/// The saved summary reads back, with the timers its pass armed; a lead never summarised has none.
pub async fn summary_reads_back_with_its_armed_timers<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    cx.store.append(&touch(&lead, "e1", march(10, 9)?)?).await?;
    crate::check::ensure_eq("before any summary", cx.store.summary(&lead).await?, None)?;
    let armed = leadclock_domain::steps::Timer {
        lead_id: lead.clone(),
        cycle: 1,
        clock: leadclock_domain::ClockKind::Response,
        step: 0,
        due_at: due(5)?,
    };
    let saved = LeadSummary {
        next_due: Some(due(5)?),
        open: true,
        armed: vec![armed],
        ..summary(&lead, 1, march(10, 9)?)
    };
    cx.store.save_summary(&saved).await?;
    crate::check::ensure_eq("the saved summary", cx.store.summary(&lead).await?, Some(saved))?;
    crate::check::ensure_eq("a lead never seen", cx.store.summary(&cx.lead(2)?).await?, None)
}

/// The saved summary reads back with the events stored since (what tells a pass whether the
/// snapshot may be continued) and its snapshot, byte for byte; a summary without one clears it.
pub async fn saved_counts_the_events_stored_and_keeps_the_snapshot<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    cx.store.append(&touch(&lead, "e1", march(10, 9)?)?).await?;
    let snapshot = leadclock_app::fold_state::EncodedSnapshot::from_stored(r#"{"tag":"x","s":"東京\n"}"#.to_owned());
    let saved = LeadSummary {
        snapshot: Some(snapshot.clone()),
        ..summary(&lead, 1, march(10, 9)?)
    };
    cx.store.save_summary(&saved).await?;
    cx.store.append(&touch(&lead, "e2", march(10, 10)?)?).await?;
    let read = cx
        .store
        .saved(&lead)
        .await?
        .ok_or_else(|| Failure::Broken("no saved summary".into()))?;
    crate::check::ensure_eq("the events stored", read.stored, 2)?;
    crate::check::ensure_eq("the events folded", read.summary.events, 1)?;
    crate::check::ensure_eq("the snapshot", read.summary.snapshot, Some(snapshot))?;
    cx.store.save_summary(&summary(&lead, 2, march(10, 10)?)).await?;
    let read = cx
        .store
        .saved(&lead)
        .await?
        .ok_or_else(|| Failure::Broken("no saved summary".into()))?;
    crate::check::ensure_eq("a snapshot cleared", read.summary.snapshot, None)?;
    crate::check::ensure_eq("a lead never seen", cx.store.saved(&cx.lead(2)?).await?, None)
}

/// Many summaries at once come back in the order asked, one per lead (more than one request's
/// worth), each with its own snapshot; a lead never summarised is `None`.
pub async fn saved_many_answers_each_lead_in_order<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let mut asked = Vec::new();
    for n in 1..=120 {
        let lead = cx.lead(n)?;
        cx.store.append(&touch(&lead, "e1", march(10, 9)?)?).await?;
        if !n.is_multiple_of(3) {
            let snapshot = n
                .is_multiple_of(2)
                .then(|| leadclock_app::fold_state::EncodedSnapshot::from_stored(format!("{{\"n\":{n}}}")));
            let s = LeadSummary {
                snapshot,
                ..summary(&lead, 1, march(10, 9)?)
            };
            cx.store.save_summary(&s).await?;
        }
        asked.push(lead);
    }
    asked.reverse();
    asked.insert(7, cx.lead(500)?);
    let got = cx.store.saved_many(&asked).await?;
    crate::check::ensure_eq("one answer per lead", got.len(), asked.len())?;
    for (lead, saved) in asked.iter().zip(&got) {
        let n: u32 = lead
            .as_str()
            .rsplit('.')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        let want = (n <= 120 && !n.is_multiple_of(3)).then(|| n.is_multiple_of(2).then(|| format!("{{\"n\":{n}}}")));
        let have = saved
            .as_ref()
            .map(|s| s.summary.snapshot.as_ref().map(|x| x.as_str().to_owned()));
        crate::check::ensure_eq(lead.as_str(), have, want)?;
        if let Some(s) = saved {
            crate::check::ensure_eq("its lead", &s.summary.lead_id, lead)?;
        }
    }
    Ok(())
}

/// One lead's facts on `day`: an MQL, owned by `owner`.
fn facts_of(day: chrono::NaiveDate, owner: &str) -> Facts {
    Facts::from_entries([
        (day, r#"["overall","mqls"]"#.to_owned(), 1),
        (day, format!(r#"["groups","owner",{owner:?},"mqls"]"#), 1),
    ])
}

/// Report facts follow the summaries that keep them: a save puts the lead's facts in, the next
/// save swaps them for its own, a save that read the row before another changed it changes
/// nothing, a lead whose events are ahead of its facts is read with them, and a store that
/// keeps no facts says so.
pub async fn report_facts_follow_the_summaries_that_keep_them<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let tag = cx.fold_tag()?;
    let (day, end) = (march(10, 0)?.date_naive(), march(12, 0)?.date_naive());
    let read = |dims: &'static [Dimension]| cx.store.report_facts(tag, day, end, dims);
    if !cx.store.keeps_report_facts() {
        // Keeps no facts: none to read, and its reports read every lead.
        return ensure_eq(
            "report_facts of a store that keeps none",
            read(&Dimension::ALL).await?,
            Facts::default(),
        );
    }
    ensure_eq(
        "report_facts before any is kept",
        read(&Dimension::ALL).await?,
        Facts::default(),
    )?;
    let lead = cx.lead(1)?;
    append_touches(&cx, &lead, &[march(10, 9)?]).await?;
    let (a, b) = (facts_of(day, "alice"), facts_of(day, "bob"));
    let kept_a = KeptFacts {
        tag,
        at: march(10, 10)?,
    };
    let kept_b = KeptFacts {
        tag,
        at: march(10, 11)?,
    };
    let save = |events: u64, old: Option<(KeptFacts, Facts)>, new: Option<(KeptFacts, Facts)>| LeadSummary {
        snapshot: Some(EncodedSnapshot::from_stored(format!("snapshot of {events}"))),
        facts: Some(FactsChange { tag, old, new }),
        ..summary(&lead, events, march(10, 9).unwrap_or_default())
    };
    cx.store.save_summary(&save(1, None, Some((kept_a, a.clone())))).await?;
    ensure_eq(
        "report_facts after a save keeps them",
        read(&Dimension::ALL).await?,
        a.clone(),
    )?;
    let saved = cx.store.saved(&lead).await?.map(|s| s.facts);
    ensure_eq("saved facts", saved, Some(Some(kept_a)))?;
    ensure_eq("report_facts without the owner groups", read(&[]).await?, a.only(&[]))?;
    let (from, to) = (march(10, 0)?, march(11, 0)?);
    let without = cx.store.active_without_facts(from, to, tag).await?;
    ensure(!without.iter().any(|(id, _)| id == &lead), || {
        format!("active_without_facts must not list {lead}: its current facts are kept")
    })?;

    // A pass that read the row before that save (no facts then) changes nothing.
    cx.store.save_summary(&save(1, None, Some((kept_b, b.clone())))).await?;
    ensure_eq(
        "report_facts after a save over facts it did not read",
        read(&Dimension::ALL).await?,
        a.clone(),
    )?;

    // An event arrives: the lead is read with the facts its snapshot made, to take them out.
    cx.store.append(&touch(&lead, "later", march(10, 12)?)?).await?;
    let without = cx.store.active_without_facts(from, to, tag).await?;
    let stale = without.into_iter().find(|(id, _)| id == &lead).and_then(|(_, s)| s);
    ensure_eq(
        "the stale lead's kept facts",
        stale.map(|s| (s.kept, s.snapshot, s.events)),
        Some((kept_a, EncodedSnapshot::from_stored("snapshot of 1".into()), 1)),
    )?;

    // Its next pass swaps its facts for the new ones, then one with none takes them out.
    cx.store
        .save_summary(&save(2, Some((kept_a, a.clone())), Some((kept_b, b.clone()))))
        .await?;
    ensure_eq(
        "report_facts after the next pass",
        read(&Dimension::ALL).await?,
        b.clone(),
    )?;
    cx.store.save_summary(&save(2, Some((kept_b, b)), None)).await?;
    ensure_eq(
        "report_facts once no facts are kept",
        read(&Dimension::ALL).await?,
        Facts::default(),
    )?;
    ensure_eq("saved facts", cx.store.saved(&lead).await?.map(|s| s.facts), Some(None))?;
    let lacking = cx.store.lacking_facts(tag, 100).await?;
    ensure_omits("lacking_facts", &lacking, &lead, "its last pass ran under the tag")
}
