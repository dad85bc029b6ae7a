//! `RawHooks`: webhooks kept whole (a body past DynamoDB's item size included), read back in
//! receipt order page by page, replaced by a replay's new `derived`, and deleted by what they
//! name or by age.

use crate::check::{ensure_eq, Ctx, Failure, Outcome};
use crate::Adapter;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use leadclock_app::ports::RawHooks;
use leadclock_app::raw_hooks::{HookSource, RawHook};
use leadclock_domain::EventId;

/// Noon of the run's own day, far in the future: no other run's hooks share its window.
fn noon<A: Adapter>(cx: &Ctx<A>) -> Result<DateTime<Utc>, Failure> {
    let day: NaiveDate = cx
        .day(0)?
        .parse()
        .map_err(|_| Failure::Fixture("the run's day".into()))?;
    day.and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| Failure::Fixture("noon".into()))
}

fn ids(hooks: &[RawHook]) -> Vec<&str> {
    hooks.iter().map(|h| h.id.as_str()).collect()
}

pub async fn raw_hooks_read_back_whole_in_order_and_are_forgotten_by_name_or_age<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (a, b, c) = (cx.lead(1)?, cx.lead(2)?, cx.lead(3)?);
    let t0 = noon(&cx)?;
    let event = EventId::parse("e-1").map_err(|e| Failure::Fixture(e.0))?;
    let mut h1 = RawHook::new(HookSource::HubSpot, None, format!("[{{\"lead\":\"{a}\"}}]"), t0);
    h1.derived = vec![(a.clone(), event.clone())];
    let mut h2 = RawHook::new(
        HookSource::Salesloft,
        Some("call_created".into()),
        "{\"email\":\"Ada@Example.com\"}".into(),
        t0 + Duration::seconds(1),
    );
    h2.derived = vec![(b.clone(), event.clone())];
    // 700 KB of multi-byte text: more than one DynamoDB item holds.
    let big = format!("<sf:Description>{}</sf:Description>", "é".repeat(350_000));
    let h3 = RawHook::new(HookSource::Salesforce, None, big, t0 + Duration::seconds(2));
    for h in [&h1, &h2, &h3] {
        cx.store.keep_raw_hook(h).await?;
    }
    let window = (t0 - Duration::hours(1), t0 + Duration::hours(1));
    let all = cx.store.raw_hooks_between(window.0, window.1, None, 10).await?;
    ensure_eq(
        "read back in receipt order, whole",
        all.clone(),
        vec![h1.clone(), h2.clone(), h3.clone()],
    )?;
    let first = cx.store.raw_hooks_between(window.0, window.1, None, 1).await?;
    ensure_eq("a page of one", ids(&first), vec![h1.id.as_str()])?;
    let next = cx
        .store
        .raw_hooks_between(window.0, window.1, Some(&h1.cursor()), 1)
        .await?;
    ensure_eq("the page after it", ids(&next), vec![h2.id.as_str()])?;
    let late = cx
        .store
        .raw_hooks_between(t0 + Duration::seconds(2), window.1, None, 10)
        .await?;
    ensure_eq("from is inclusive", ids(&late), vec![h3.id.as_str()])?;
    let early = cx
        .store
        .raw_hooks_between(window.0, t0 + Duration::seconds(1), None, 10)
        .await?;
    ensure_eq("to is exclusive", ids(&early), vec![h1.id.as_str()])?;

    // A replay's new derivation replaces the old one, names included.
    h1.derived = vec![(c.clone(), event)];
    cx.store.keep_raw_hook(&h1).await?;
    let again = cx.store.raw_hooks_between(window.0, window.1, None, 10).await?;
    ensure_eq("replaced, not added", again.len(), 3)?;
    ensure_eq("the new derivation", again[0].derived.clone(), h1.derived.clone())?;
    ensure_eq(
        "no longer named by its old lead",
        cx.store.forget_raw_hooks(&[a], &[]).await?,
        0,
    )?;
    ensure_eq("named by its new lead", cx.store.forget_raw_hooks(&[c], &[]).await?, 1)?;
    ensure_eq(
        "named by the address it holds",
        cx.store.forget_raw_hooks(&[], &["ada@example.com".into()]).await?,
        1,
    )?;
    let left = cx.store.raw_hooks_between(window.0, window.1, None, 10).await?;
    ensure_eq("what is left", ids(&left), vec![h3.id.as_str()])?;
    cx.store.forget_raw_hooks_before(t0 + Duration::seconds(2)).await?;
    ensure_eq(
        "a hook received at the cutoff stays",
        cx.store.raw_hooks_between(window.0, window.1, None, 10).await?.len(),
        1,
    )?;
    cx.store.forget_raw_hooks_before(t0 + Duration::seconds(3)).await?;
    ensure_eq(
        "older than the cutoff: gone",
        cx.store.raw_hooks_between(window.0, window.1, None, 10).await?.len(),
        0,
    )
}
