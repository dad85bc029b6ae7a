//! `EventStore`: the durable log, unique per (lead, event id).

use crate::check::{ensure, ensure_eq, Ctx, Failure, Outcome};
use crate::fixtures::{every_kind, march, touch};
use crate::Adapter;
use leadclock_app::ports::{Appended, EventStore};
use leadclock_domain::event::{Touch, Void};
use leadclock_domain::{Event, EventBody, EventId};

fn by_id(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    events
}

fn ids(events: &[Event]) -> Vec<&EventId> {
    events.iter().map(|e| &e.event_id).collect()
}

/// The first append of an id stores it; the same id again is a duplicate, even with another
/// body, keeps the first, and hands it back (so the caller can tell a repeat from a conflict).
pub async fn append_stores_an_event_id_once<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let first = touch(&lead, "e1", march(10, 9)?)?;
    let mut resent = first.clone();
    resent.body = EventBody::Touch(Touch {
        owner: Some("bob".into()),
        channel: "email".into(),
        outcome: None,
    });
    let stored = Appended::Duplicate(Box::new(first.clone()));
    ensure_eq("first append", cx.store.append(&first).await?, Appended::New)?;
    ensure_eq("same id again", cx.store.append(&first).await?, stored.clone())?;
    ensure_eq("same id, other body", cx.store.append(&resent).await?, stored)?;
    ensure_eq("events after duplicates", cx.store.load(&lead).await?, vec![first])
}

/// Event ids are unique per lead: one id on two leads is two events.
pub async fn one_event_id_on_two_leads_is_two_events<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (a, b) = (cx.lead(1)?, cx.lead(2)?);
    let on_a = touch(&a, "shared", march(10, 9)?)?;
    let on_b = touch(&b, "shared", march(10, 10)?)?;
    ensure_eq("append to the first lead", cx.store.append(&on_a).await?, Appended::New)?;
    ensure_eq("same id on a second lead", cx.store.append(&on_b).await?, Appended::New)?;
    ensure_eq("first lead's events", cx.store.load(&a).await?, vec![on_a])?;
    ensure_eq("second lead's events", cx.store.load(&b).await?, vec![on_b])
}

/// `load` returns every event of the lead, in any order, and no other lead's; a lead never
/// seen has none.
pub async fn load_returns_exactly_the_leads_events<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (lead, other, unseen) = (cx.lead(1)?, cx.lead(2)?, cx.lead(3)?);
    let mine = vec![
        touch(&lead, "e3", march(10, 11)?)?,
        touch(&lead, "e1", march(10, 9)?)?,
        touch(&lead, "e2", march(10, 10)?)?,
    ];
    for e in &mine {
        cx.store.append(e).await?;
    }
    cx.store.append(&touch(&other, "e4", march(10, 9)?)?).await?;
    ensure_eq("events of the lead", by_id(cx.store.load(&lead).await?), by_id(mine))?;
    ensure_eq("events of a lead never seen", cx.store.load(&unseen).await?, vec![])
}

/// Every kind of event comes back as stored: equal once encoded, field for field.
pub async fn load_round_trips_every_event_kind<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let stored = by_id(every_kind(&lead, march(10, 9)?)?);
    for e in &stored {
        cx.store.append(e).await?;
    }
    let loaded = by_id(cx.store.load(&lead).await?);
    ensure_eq("ids loaded", ids(&loaded), ids(&stored))?;
    for (got, want) in loaded.iter().zip(&stored) {
        let (got_json, want_json) = (json(got)?, json(want)?);
        ensure(got_json == want_json, || {
            format!("{} came back as {got_json}, stored as {want_json}", want.event_id)
        })?;
    }
    Ok(())
}

fn json(event: &Event) -> Result<String, Failure> {
    serde_json::to_string(event).map_err(|e| Failure::Fixture(format!("encode {}: {e}", event.event_id)))
}

/// A batch stores each event with `append`'s promise, one result per event in order: new ones,
/// repeats of stored ids, and repeats inside the batch itself.
pub async fn append_batch_answers_each_event_in_order<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (a, b) = (cx.lead(1)?, cx.lead(2)?);
    let stored = touch(&a, "e1", march(10, 9)?)?;
    cx.store.append(&stored).await?;
    let fresh_a = touch(&a, "e2", march(10, 10)?)?;
    let fresh_b = touch(&b, "e1", march(10, 11)?)?;
    let batch = vec![stored.clone(), fresh_a.clone(), fresh_b.clone(), fresh_a.clone()];
    let got = cx.store.append_batch(&batch).await?;
    let want = vec![
        Appended::Duplicate(Box::new(stored.clone())),
        Appended::New,
        Appended::New,
        Appended::Duplicate(Box::new(fresh_a.clone())),
    ];
    ensure_eq("results of the batch", got, want)?;
    ensure_eq(
        "first lead's events",
        by_id(cx.store.load(&a).await?),
        by_id(vec![stored, fresh_a]),
    )?;
    ensure_eq("second lead's events", cx.store.load(&b).await?, vec![fresh_b])
}

/// A lead holding the cap's number of events refuses a new one (`Full`, nothing stored), while
/// a repeat of a stored id is still a duplicate and a void is stored past the cap; another lead
/// is not affected; in a batch each event is judged as it comes.
pub async fn a_lead_at_its_cap_refuses_new_events_but_not_repeats_or_voids<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let store = A::with_event_cap(&cx.store, 3);
    let (lead, other) = (cx.lead(1)?, cx.lead(2)?);
    let mut kept = Vec::new();
    for (i, id) in ["e1", "e2", "e3"].into_iter().enumerate() {
        let e = touch(&lead, id, march(10, 9 + i as u32)?)?;
        ensure_eq("append under the cap", store.append(&e).await?, Appended::New)?;
        kept.push(e);
    }
    let fourth = touch(&lead, "e4", march(10, 13)?)?;
    ensure_eq(
        "append at the cap",
        store.append(&fourth).await?,
        Appended::Full { limit: 3 },
    )?;
    ensure_eq(
        "a repeat at the cap",
        store.append(&kept[0]).await?,
        Appended::Duplicate(Box::new(kept[0].clone())),
    )?;
    let mut void = touch(&lead, "void-e1", march(10, 14)?)?;
    void.body = EventBody::Void(Void {
        target: kept[0].event_id.clone(),
        reason: "logged on the wrong lead".into(),
    });
    ensure_eq("a void at the cap", store.append(&void).await?, Appended::New)?;
    kept.push(void);
    let batch = vec![
        touch(&lead, "e5", march(10, 15)?)?,
        kept[1].clone(),
        touch(&other, "e1", march(10, 9)?)?,
    ];
    let got = store.append_batch(&batch).await?;
    let want = vec![
        Appended::Full { limit: 3 },
        Appended::Duplicate(Box::new(kept[1].clone())),
        Appended::New,
    ];
    ensure_eq("a batch at the cap", got, want)?;
    ensure_eq(
        "the capped lead's events",
        ids(&by_id(store.load(&lead).await?)),
        ids(&by_id(kept.clone())),
    )?;
    ensure(store.load(&other).await?.len() == 1, || {
        "another lead stores past the first's cap".into()
    })
}
