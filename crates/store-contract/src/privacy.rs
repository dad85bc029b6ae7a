//! `PersonalData`: a person's leads found by email, events rewritten in place.

use crate::check::{ensure_eq, ensure_lists, ensure_omits, Ctx, Outcome};
use crate::fixtures::{every_kind, march, touch};
use crate::Adapter;
use leadclock_app::ports::{EventStore, PersonalData};
use leadclock_domain::{Event, EventBody};

fn by_id(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    events
}

/// A form of `events` given the contact email `email`.
fn with_email(mut events: Vec<Event>, email: &str) -> Vec<Event> {
    for e in &mut events {
        if let EventBody::Form(f) = &mut e.body {
            if let Some(c) = f.contact.as_mut() {
                c.email = Some(email.to_owned());
            }
        }
    }
    events
}

/// The leads whose stored form names the email, in any letter case; not a lead that only
/// mentions it elsewhere, nor one with another email.
pub async fn leads_with_email_finds_forms_by_contact_email<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (named, other, mentions) = (cx.lead(1)?, cx.lead(2)?, cx.lead(3)?);
    // Unique to the run: cases and runs share one table.
    let email = format!("Ada.{}@Example.org", named.as_str().replace('.', "-"));
    cx.store
        .append_batch(&with_email(every_kind(&named, march(11, 9)?)?, &email))
        .await?;
    cx.store
        .append_batch(&with_email(every_kind(&other, march(11, 9)?)?, "someone@example.org"))
        .await?;
    let mut mention = touch(&mentions, "t1", march(11, 10)?)?;
    mention.extra.insert("email".into(), email.clone());
    cx.store.append(&mention).await?;
    let found = cx.store.leads_with_email(&email.to_lowercase()).await?;
    ensure_lists(
        "leads_with_email",
        &found,
        &named,
        "its form's contact has the email, in other case",
    )?;
    ensure_omits("leads_with_email", &found, &other, "its form names another email")?;
    ensure_omits(
        "leads_with_email",
        &found,
        &mentions,
        "only an unknown field holds the email",
    )?;
    ensure_eq("leads found", found.len(), 1)
}

/// `rewrite` replaces each stored event with the one given (same lead and id) and never adds
/// one that is not stored.
pub async fn rewrite_replaces_stored_events_and_never_adds_one<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let lead = cx.lead(1)?;
    let events = every_kind(&lead, march(12, 9)?)?;
    cx.store.append_batch(&events).await?;
    let at = march(12, 12)?;
    let erased: Vec<Event> = leadclock_domain::event::erase_personal_data(&events, at);
    ensure_eq("events holding personal data in the fixture", erased.len(), 1)?;
    let not_stored = touch(&lead, "never-stored", march(12, 10)?)?;
    let mut rewrites = erased.clone();
    rewrites.push(not_stored);
    cx.store.rewrite(&rewrites).await?;
    let want: Vec<Event> = events
        .iter()
        .map(|e| erased.iter().find(|x| x.event_id == e.event_id).unwrap_or(e).clone())
        .collect();
    ensure_eq(
        "events after the rewrite",
        by_id(cx.store.load(&lead).await?),
        by_id(want),
    )
}
