//! `Identities`: forms found by contact email from an index, what the sales tools taught about
//! their people, and the touches held until a person's lead is known.

use crate::check::{ensure, ensure_eq, ensure_lists, ensure_omits, Ctx, Failure, Outcome};
use crate::fixtures::{event_id, every_kind, march};
use crate::Adapter;
use leadclock_app::identity::{HeldTouch, Identity, IdentityKey, Source, ToolPerson};
use leadclock_app::ports::{EventStore, Identities, PersonalData};
use leadclock_domain::event::Touch;
use leadclock_domain::EventBody;

/// An email and a tool person unique to the case's run (cases and runs share one table).
fn unique<A: Adapter>(cx: &Ctx<A>, n: u32) -> Result<(String, ToolPerson), Failure> {
    let lead = cx.lead(n)?;
    let tag = lead.as_str().replace(['.', ':'], "-");
    let tag: String = tag
        .chars()
        .rev()
        .take(48)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let person = ToolPerson::new(Source::Salesloft, &tag).map_err(Failure::Fixture)?;
    Ok((format!("Ada.{tag}@Example.org"), person))
}

/// A form's contact email finds its lead in any letter case; after an erasure (the email
/// forgotten, the form rewritten without its contact) it finds nothing.
pub async fn leads_by_contact_finds_forms_until_the_email_is_erased<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (named, other) = (cx.lead(1)?, cx.lead(2)?);
    let (email, _) = unique(&cx, 1)?;
    let mut events = every_kind(&named, march(11, 9)?)?;
    for e in &mut events {
        if let EventBody::Form(f) = &mut e.body {
            f.contact.get_or_insert_with(Default::default).email = Some(email.clone());
        }
    }
    cx.store.append_batch(&events).await?;
    cx.store.append_batch(&every_kind(&other, march(11, 9)?)?).await?;
    let found = cx.store.leads_by_contact(&email.to_lowercase()).await?;
    ensure_lists("leads_by_contact", &found, &named, "its form's contact has the email")?;
    ensure_omits("leads_by_contact", &found, &other, "its form names another email")?;
    cx.store.forget_email(&email).await?;
    let mut erased: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.body, EventBody::Form(_)))
        .cloned()
        .collect();
    for e in &mut erased {
        if let EventBody::Form(f) = &mut e.body {
            f.contact = None;
        }
    }
    cx.store.rewrite(&erased).await?;
    let found = cx.store.leads_by_contact(&email).await?;
    ensure_omits("leads_by_contact", &found, &named, "the email was erased")
}

/// What is learned about a person adds up, is found by each key, and an erased email is gone
/// from the person and from the key index while the rest stays.
pub async fn people_are_found_by_what_they_were_learned_by<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (email, person) = unique(&cx, 1)?;
    let email = email.to_lowercase();
    let crm = format!("crm-{}", person.as_str().trim_start_matches("salesloft:"));
    cx.store
        .learn(&person, &Identity::of(std::slice::from_ref(&email), None))
        .await?;
    cx.store.learn(&person, &Identity::of(&[], Some(&crm))).await?;
    let known = cx.store.identity(&person).await?;
    ensure_eq(
        "identity",
        known.clone(),
        Identity::of(std::slice::from_ref(&email), Some(&crm)),
    )?;
    let by_email = cx.store.people_with(&IdentityKey::Email(email.clone())).await?;
    ensure(by_email.contains(&person), || {
        "people_with(email) must list the person".into()
    })?;
    cx.store.forget_email(&email).await?;
    ensure_eq(
        "identity after the email's erasure",
        cx.store.identity(&person).await?,
        Identity::of(&[], Some(&crm)),
    )?;
    let by_email = cx.store.people_with(&IdentityKey::Email(email)).await?;
    ensure(!by_email.contains(&person), || {
        "people_with(email) must forget an erased email".into()
    })?;
    let by_crm = cx.store.people_with(&IdentityKey::Crm(crm)).await?;
    ensure(by_crm.contains(&person), || {
        "people_with(crm id) must keep the person".into()
    })
}

/// A touch held twice is held once, reads back as it was, and a release drops only the
/// touches it names.
pub async fn held_touches_are_kept_once_until_released<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (_, person) = unique(&cx, 1)?;
    let held = |id: &str, hour| -> Result<HeldTouch, Failure> {
        Ok(HeldTouch {
            person: person.clone(),
            event_id: event_id(id)?,
            occurred_at: march(12, hour)?,
            touch: Touch {
                owner: Some("55".into()),
                channel: "call".into(),
                outcome: Some("connected".into()),
            },
        })
    };
    let (a, b) = (held("salesloft:call:1", 9)?, held("salesloft:call:2", 10)?);
    cx.store.hold(&a).await?;
    cx.store.hold(&a).await?;
    cx.store.hold(&b).await?;
    let mut got = cx.store.held(&person).await?;
    got.sort_by(|x, y| x.event_id.cmp(&y.event_id));
    ensure_eq("held", got, vec![a.clone(), b.clone()])?;
    cx.store.release(&person, std::slice::from_ref(&a.event_id)).await?;
    ensure_eq("held after one release", cx.store.held(&person).await?, vec![b])
}
