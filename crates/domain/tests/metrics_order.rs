//! Metrics depend only on event times: for any set of leads, any arrival order of their events,
//! any repeats and any order of the leads themselves give the same report, byte for byte.

use chrono::{DateTime, Duration, Utc};
use leadclock_domain::calendar::local_midnight;
use leadclock_domain::event::{Assignment, Form, Stage, Touch};
use leadclock_domain::metrics::{self, Dimension};
use leadclock_domain::{Event, EventBody, EventId, Lead, LeadId, Policy, Scope, StageChange};
use proptest::prelude::*;

mod common;
use std::collections::BTreeMap;

fn policy() -> Policy {
    Policy::parse(include_str!("../../../policies/example.toml")).unwrap()
}

fn base() -> DateTime<Utc> {
    // Monday 2026-11-30 09:00 New York.
    DateTime::parse_from_rfc3339("2026-11-30T14:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// `(lead, kind, seconds after base, variant)`.
type Spec = (u8, u8, i64, u8);

fn arb_spec() -> impl Strategy<Value = Spec> {
    (0u8..6, 0u8..4, 0i64..(4 * 86_400), 0u8..5)
}

fn event(i: usize, &(lead, kind, secs, k): &Spec) -> Event {
    let types = [
        "demo_request",
        "free_trial",
        "contact_form",
        "content_mql",
        "event_attendee",
    ];
    let body = match kind {
        0 => EventBody::Form(Box::new(Form {
            lead_type: types[k as usize].into(),
            region: Some(["na", "emea"][k as usize % 2].into()),
            source: Some(["organic", "paid"][k as usize % 2].into()),
            ..Default::default()
        })),
        1 => EventBody::Assignment(Assignment {
            owner: ["alice", "bob", "amelie", "zed", "alice"][k as usize].into(),
            team: None,
            manager: None,
        }),
        2 => EventBody::Touch(Touch {
            owner: None,
            channel: ["call", "email", "sms", "call", "meeting"][k as usize].into(),
            outcome: (k == 3).then(|| "voicemail".into()),
        }),
        _ => EventBody::Stage(Stage {
            stage: [
                StageChange::Sal,
                StageChange::Rejected,
                StageChange::Sql,
                StageChange::Nurture,
                StageChange::Sal,
            ][k as usize],
            reason: None,
        }),
    };
    Event::new(
        EventId::parse(&format!("e{i}")).unwrap(),
        LeadId::parse(&format!("L-{lead}")).unwrap(),
        base() + Duration::seconds(secs),
        body,
    )
}

/// Groups events by lead in arrival order, as a store does, and folds each lead; the leads come
/// out in `lead_order`.
fn fold_all(events: &[Event], policy: &Policy, reverse_leads: bool) -> Vec<Lead> {
    let mut by_lead: BTreeMap<LeadId, Vec<Event>> = BTreeMap::new();
    for e in events {
        by_lead.entry(e.lead_id.clone()).or_default().push(e.clone());
    }
    let mut leads: Vec<Lead> = by_lead
        .into_iter()
        .map(|(id, evs)| Lead::fold(id, &evs, policy))
        .collect();
    if reverse_leads {
        leads.reverse();
    }
    leads
}

fn report_json(leads: &[Lead], policy: &Policy, by: Option<Dimension>) -> String {
    let from = base() - Duration::days(1);
    let to = base() + Duration::days(3);
    let now = base() + Duration::days(6);
    serde_json::to_string(&metrics::report(leads, policy, from, to, by, now)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_arrival_order_and_repeats_give_the_same_report(
        spec in prop::collection::vec(arb_spec(), 1..30),
        shuffle_seed in any::<u64>(),
        repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        by in prop::sample::select(vec![None, Some(Dimension::LeadType), Some(Dimension::Region), Some(Dimension::Owner)]),
    ) {
        let p = policy();
        let events: Vec<Event> = spec.iter().enumerate().map(|(i, s)| event(i, s)).collect();
        let expected = report_json(&fold_all(&events, &p, false), &p, by);

        let mut arrived = events.clone();
        for r in &repeats {
            arrived.push(events[r.index(events.len())].clone());
        }
        common::shuffle(&mut arrived, shuffle_seed);
        let got = report_json(&fold_all(&arrived, &p, shuffle_seed % 2 == 0), &p, by);
        prop_assert_eq!(got, expected);
    }
}

/// Splits `leads` at `cuts` into chunks, adds each chunk to its own tally and merges them in
/// the order `merge_seed` gives: what a host streaming leads through [`metrics::Tally`] does.
fn merged_json(
    leads: &[Lead],
    policy: &Policy,
    by: Option<Dimension>,
    scope: &Scope,
    cuts: &[usize],
    merge_seed: u64,
) -> String {
    let from = base() - Duration::days(1);
    let to = base() + Duration::days(3);
    let now = base() + Duration::days(6);
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (leads.len() + 1)).collect();
    bounds.extend([0, leads.len()]);
    bounds.sort_unstable();
    let mut tallies: Vec<metrics::Tally> = bounds
        .windows(2)
        .map(|w| {
            let mut t = metrics::Tally::new(policy, from, to, by, now, scope.clone());
            t.add(&leads[w[0]..w[1]]);
            t
        })
        .collect();
    common::shuffle(&mut tallies, merge_seed);
    let mut total = metrics::Tally::new(policy, from, to, by, now, scope.clone());
    for t in tallies {
        total.merge(t);
    }
    serde_json::to_string(&total.finish()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A host adds leads up a chunk at a time: any split, merged in any order, gives the report
    /// of all the leads at once, for every reader.
    #[test]
    fn any_split_of_the_leads_merged_in_any_order_gives_the_same_report(
        spec in prop::collection::vec(arb_spec(), 1..40),
        cuts in prop::collection::vec(0usize..64, 0..5),
        merge_seed in any::<u64>(),
        by in prop::sample::select(vec![None, Some(Dimension::LeadType), Some(Dimension::Source), Some(Dimension::Owner), Some(Dimension::Team)]),
        scope in prop::sample::select(vec![Scope::All, Scope::Team("east".into()), Scope::Person("alice".into())]),
    ) {
        let p = policy();
        let events: Vec<Event> = spec.iter().enumerate().map(|(i, s)| event(i, s)).collect();
        let leads: Vec<Lead> = fold_all(&events, &p, false)
            .into_iter()
            .filter(|l| scope.sees(l, &p.directory))
            .collect();
        let from = base() - Duration::days(1);
        let whole = metrics::report_for(&leads, &p, from, base() + Duration::days(3), by, base() + Duration::days(6), &scope);
        let expected = serde_json::to_string(&whole).unwrap();
        prop_assert_eq!(merged_json(&leads, &p, by, &scope, &cuts, merge_seed), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A lead with no event in a report's span counts only in its open list, and a host reads
    /// that from the open clocks its last pass saved: taken at any instant after the lead's
    /// last event, they give the report of the lead itself, breaches and ageing out included.
    #[test]
    fn open_clocks_saved_after_the_last_event_give_the_report_of_the_leads(
        spec in prop::collection::vec(arb_spec(), 1..30),
        later in 0i64..(40 * 86_400),
        saved_at in 0.0f64..1.0,
        by in prop::sample::select(vec![None, Some(Dimension::LeadType), Some(Dimension::Owner)]),
    ) {
        let p = policy();
        let events: Vec<Event> = spec.iter().enumerate().map(|(i, s)| event(i, s)).collect();
        let leads = fold_all(&events, &p, false);
        // Every event falls before base + 4 days: the span [base + 4d, base + 6d) has none.
        let (from, to) = (base() + Duration::days(5), base() + Duration::days(6));
        let now = to + Duration::seconds(later);
        let first_quiet = base() + Duration::days(4);
        let taken = first_quiet + Duration::seconds(((now - first_quiet).num_seconds() as f64 * saved_at) as i64);
        let expected = serde_json::to_string(&metrics::report(&leads, &p, from, to, by, now)).unwrap();
        let mut tally = metrics::Tally::new(&p, from, to, by, now, Scope::All);
        for l in &leads {
            tally.add_open_clocks(&l.lead_id, &metrics::open_clocks(l, &p, taken));
        }
        prop_assert_eq!(serde_json::to_string(&tally.finish()).unwrap(), expected);
    }
}

/// What a host keeps at write time: each settled lead's facts per reporting day, summed (with
/// changes applied as differences). Added up over a period's whole days, beside the leads still
/// open read in full, they give the report of all the leads, byte for byte, at any later instant
/// and for any breakdown. Events are moved by `shift` days (to cross a DST change).
#[allow(clippy::too_many_arguments)]
fn facts_give_the_report(
    spec: &[Spec],
    shift: i64,
    start: i64,
    days: i64,
    written_after: i64,
    read_after: i64,
    revised: prop::sample::Index,
    by: Option<Dimension>,
) -> Result<(), TestCaseError> {
    let p = policy();
    let tz = p.reporting_timezone;
    let events: Vec<Event> = spec
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut e = event(i, s);
            e.occurred_at += Duration::days(shift);
            e
        })
        .collect();
    let leads = fold_all(&events, &p, false);
    let base = base() + Duration::days(shift);
    // Every event falls in [base, base + 4 days): facts are written after them all.
    let written = base + Duration::days(4) + Duration::seconds(written_after);
    let now = written + Duration::seconds(read_after);
    let first = base.with_timezone(&tz).date_naive() + Duration::days(start);
    let (from, to) = (
        local_midnight(tz, first),
        local_midnight(tz, first + Duration::days(days)),
    );
    let expected = serde_json::to_string(&metrics::report(&leads, &p, from, to, by, now)).unwrap();

    let mut tally = metrics::Tally::new(&p, from, to, by, now, Scope::All);
    let fact_days = tally.fact_days(tz).expect("whole days");
    let mut kept = metrics::Facts::default();
    let (mut settled, mut read) = (Vec::new(), Vec::new());
    for l in &leads {
        if metrics::settled(l, &p, written) {
            kept.add(&metrics::Facts::of_lead(l, &p, tz, written));
            settled.push(l.clone());
        } else {
            read.push(l.clone());
        }
    }
    // One lead revised since: its earlier facts (of its first events) taken out, its facts
    // now put in, as a store applies a pass.
    let l = &leads[revised.index(leads.len())];
    let earlier: Vec<Event> = events
        .iter()
        .filter(|e| e.lead_id == l.lead_id)
        .take(1)
        .cloned()
        .collect();
    let before = metrics::Facts::of_lead(&Lead::fold(l.lead_id.clone(), &earlier, &p), &p, tz, written);
    let mut store = kept.clone();
    store.add(&before);
    store.add(&metrics::Facts::diff(&before, &metrics::Facts::default()));
    prop_assert_eq!(&store, &kept);

    // As a store answers them: each period's days summed onto its first day.
    let d = fact_days;
    let mut answered = kept.between(d.previous, d.first).collapsed(d.previous);
    answered.add(&kept.between(d.first, d.end).collapsed(d.first));
    tally.add_facts(&answered, fact_days, &settled).unwrap();
    tally.add(&read);
    prop_assert_eq!(serde_json::to_string(&tally.finish()).unwrap(), expected);
    Ok(())
}

fn arb_by() -> impl Strategy<Value = Option<Dimension>> {
    prop::sample::select(vec![
        None,
        Some(Dimension::LeadType),
        Some(Dimension::Source),
        Some(Dimension::Owner),
        Some(Dimension::Team),
        Some(Dimension::Segment),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn facts_of_settled_leads_summed_by_day_give_the_report_of_the_leads(
        spec in prop::collection::vec(arb_spec(), 1..40),
        start in -3i64..5,
        days in 1i64..6,
        written_after in 0i64..(40 * 86_400),
        read_after in 0i64..(10 * 86_400),
        revised in any::<prop::sample::Index>(),
        by in arb_by(),
    ) {
        facts_give_the_report(&spec, 0, start, days, written_after, read_after, revised, by)?;
    }

    /// A day across a DST change (New York: 2026-11-01 falls back, 2027-03-14 springs
    /// forward), the events over the two days before it: the period before starts an hour off
    /// midnight, among the events, and its edge is counted from the leads there.
    #[test]
    fn facts_give_the_report_across_a_dst_change(
        spec in prop::collection::vec((0u8..6, 0u8..4, 0i64..(2 * 86_400), 0u8..5), 1..40),
        shift in prop::sample::select(vec![-31i64, 102]),
        written_after in 0i64..(40 * 86_400),
        read_after in 0i64..(10 * 86_400),
        revised in any::<prop::sample::Index>(),
        by in arb_by(),
    ) {
        facts_give_the_report(&spec, shift, 2, 1, written_after, read_after, revised, by)?;
    }
}

/// A store's entries read back as the same facts.
#[test]
fn facts_read_back_from_their_entries() {
    let p = policy();
    let tz = p.reporting_timezone;
    let spec: Vec<Spec> = vec![
        (1, 0, 0, 0),
        (1, 1, 60, 1),
        (1, 2, 400, 2),
        (2, 0, 90, 3),
        (2, 3, 600, 1),
    ];
    let events: Vec<Event> = spec.iter().enumerate().map(|(i, s)| event(i, s)).collect();
    let mut all = metrics::Facts::default();
    for l in fold_all(&events, &p, false) {
        all.add(&metrics::Facts::of_lead(&l, &p, tz, base() + Duration::days(60)));
    }
    assert!(!all.is_empty());
    let entries: Vec<_> = all.entries().map(|(d, path, n)| (d, path.to_owned(), n)).collect();
    assert!(entries.iter().any(|(_, path, _)| path == r#"["overall","mqls"]"#));
    assert_eq!(metrics::Facts::from_entries(entries), all);
}
