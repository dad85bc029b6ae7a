//! The fold is a function of the event set: order and repeats do not matter.
//! Also: clocks, ladders, stale timers, recycling and reassignment on real event streams.

use chrono::{DateTime, Duration, Utc};
use leadclock_domain::clock::Escalation;
use leadclock_domain::clock::{self, ClockStatus};
use leadclock_domain::event::{Assignment, Form, Stage, Touch, Void};
use leadclock_domain::lead::Stage as LeadStage;
use leadclock_domain::policy::Role;
use leadclock_domain::steps::{self, StepBook, StepKey, StepRecord, StepStatus, Timer};
use leadclock_domain::{ClockKind, Event, EventBody, EventId, Lead, LeadId, Policy, StageChange};
use proptest::prelude::*;

mod common;

fn policy() -> Policy {
    Policy::parse(include_str!("../../../policies/example.toml")).unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ev(id: &str, at: DateTime<Utc>, body: EventBody) -> Event {
    Event::new(EventId::parse(id).unwrap(), LeadId::parse("L-1").unwrap(), at, body)
}

/// The plan with nothing recorded and nothing armed.
fn plan(lead: &Lead, p: &Policy, now: DateTime<Utc>, book: &StepBook) -> steps::Plan {
    steps::plan(&steps::Inputs {
        lead,
        policy: p,
        delivery: p,
        now,
        book,
        armed: &[],
    })
}

/// The timers a lead needs now, nothing recorded.
fn timers(lead: &Lead, p: &Policy, now: DateTime<Utc>) -> Vec<Timer> {
    plan(lead, p, now, &StepBook::default()).timers
}

/// The steps that would be delivered now had every one been armed for its instant.
fn deliverable(lead: &Lead, p: &Policy, now: DateTime<Utc>, book: &StepBook) -> Vec<Escalation> {
    let armed: Vec<Timer> = clock::clocks(lead, p, now)
        .iter()
        .flat_map(|c| {
            c.steps.iter().map(move |s| Timer {
                lead_id: lead.lead_id.clone(),
                cycle: c.cycle,
                clock: c.clock,
                step: s.index,
                due_at: s.due_at,
            })
        })
        .collect();
    steps::plan(&steps::Inputs {
        lead,
        policy: p,
        delivery: p,
        now,
        book,
        armed: &armed,
    })
    .deliver
}

fn form(id: &str, at: DateTime<Utc>, lead_type: &str) -> Event {
    ev(
        id,
        at,
        EventBody::Form(Box::new(Form {
            lead_type: lead_type.into(),
            region: Some("na".into()),
            ..Default::default()
        })),
    )
}
fn assign(id: &str, at: DateTime<Utc>, owner: &str) -> Event {
    ev(
        id,
        at,
        EventBody::Assignment(Assignment {
            owner: owner.into(),
            team: None,
            manager: None,
        }),
    )
}
fn touch(id: &str, at: DateTime<Utc>, channel: &str, outcome: Option<&str>) -> Event {
    ev(
        id,
        at,
        EventBody::Touch(Touch {
            owner: None,
            channel: channel.into(),
            outcome: outcome.map(Into::into),
        }),
    )
}
fn stage(id: &str, at: DateTime<Utc>, s: StageChange) -> Event {
    ev(id, at, EventBody::Stage(Stage { stage: s, reason: None }))
}
fn lead_id() -> LeadId {
    LeadId::parse("L-1").unwrap()
}

fn fold(events: &[Event], p: &Policy) -> Lead {
    Lead::fold(lead_id(), events, p)
}

/// Monday 2026-11-23 10:00 New York.
const MON10: &str = "2026-11-23T15:00:00Z";

fn lifecycle() -> Vec<Event> {
    let s = t(MON10);
    vec![
        form("f1", s, "demo_request"),
        assign("a1", s + Duration::minutes(2), "alice"),
        touch("t0", s + Duration::minutes(3), "call", Some("voicemail")),
        touch("t1", s + Duration::minutes(4), "call", Some("connected")),
        stage("s1", s + Duration::minutes(30), StageChange::Sal),
        assign("a2", s + Duration::minutes(40), "bob"),
        stage("s2", s + Duration::hours(3), StageChange::Sql),
    ]
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

#[test]
fn every_order_of_a_lifecycle_gives_one_state() {
    let p = policy();
    let events = lifecycle();
    let expected = fold(&events, &p);
    let now = t(MON10) + Duration::days(1);
    let expected_clocks = clock::clocks(&expected, &p, now);
    let perms = permutations(events.len());
    assert_eq!(perms.len(), 5040);
    for (k, perm) in perms.iter().enumerate() {
        let mut shuffled: Vec<Event> = perm.iter().map(|&i| events[i].clone()).collect();
        // Repeats too: every 7th permutation delivers two events twice.
        if k % 7 == 0 {
            shuffled.push(events[perm[0]].clone());
            shuffled.insert(3, events[perm[6]].clone());
        }
        let got = fold(&shuffled, &p);
        assert_eq!(got, expected, "order {perm:?}");
        assert_eq!(clock::clocks(&got, &p, now), expected_clocks);
    }
    assert_eq!(expected.stage, LeadStage::Sql);
    assert_eq!(expected.timeline.len(), 7);
}

#[test]
fn lifecycle_splits_systems_and_human_delay() {
    let p = policy();
    let lead = fold(&lifecycle(), &p);
    let clocks = clock::clocks(&lead, &p, t(MON10) + Duration::days(1));
    let a = &clocks[0];
    assert_eq!(
        (a.clock, a.status, a.elapsed_seconds),
        (ClockKind::Assignment, ClockStatus::Met, 120)
    );
    let r = &clocks[1];
    // The voicemail does not stop the clock; the connected call at +4m does: 2 minutes of human delay.
    assert_eq!(
        (r.clock, r.status, r.elapsed_seconds),
        (ClockKind::Response, ClockStatus::Met, 120)
    );
    assert_eq!(r.deadline, Some(t(MON10) + Duration::minutes(7)));
    // Reassignment: alice's stint ended when bob took over; she responded within her stint.
    let c = lead.current_cycle().unwrap();
    assert_eq!(c.stints.len(), 2);
    assert_eq!(c.stints[0].responded_at, Some(t(MON10) + Duration::minutes(4)));
    assert_eq!(c.stints[1].responded_at, None);
    assert_eq!(c.qualifying_touches, 1);
    assert_eq!(c.touches, 2);
}

#[test]
fn ladder_times_follow_the_example_policy() {
    let p = policy();
    // Monday 16:00 New York: deadline 16:05, manager 2 business hours later (Tue 10:05), exec at Tue close.
    let s = t("2026-11-23T21:00:00Z");
    let lead = fold(&[form("f", s, "demo_request"), assign("a", s, "alice")], &p);
    let r = clock::clocks(&lead, &p, s).pop().unwrap();
    assert_eq!(r.deadline, Some(t("2026-11-23T21:05:00Z")));
    let due: Vec<_> = r.steps.iter().map(|s| s.due_at).collect();
    assert_eq!(
        due,
        vec![
            t("2026-11-23T21:05:00Z"),
            t("2026-11-24T15:05:00Z"),
            t("2026-11-24T22:00:00Z")
        ]
    );
    // Event attendee: same business day. Assigned Wed 25th 11:00; Thursday 26th is Thanksgiving.
    let s = t("2026-11-25T16:00:00Z");
    let lead = fold(&[form("f", s, "event_attendee"), assign("a", s, "alice")], &p);
    let r = clock::clocks(&lead, &p, s).pop().unwrap();
    assert_eq!(r.deadline, Some(t("2026-11-25T22:00:00Z")));
    assert_eq!(r.steps[1].due_at, t("2026-11-27T16:00:00Z")); // Fri 11:00: 2 business hours after Wed close
    assert_eq!(r.steps[2].due_at, t("2026-11-27T22:00:00Z"));
}

#[test]
fn emea_owner_uses_the_emea_calendar() {
    let p = policy();
    // Friday 2026-11-27 17:30 London: 30 open minutes left, so 1h lands Monday 08:30.
    let s = t("2026-11-27T17:30:00Z");
    let lead = fold(&[form("f", s, "contact_form"), assign("a", s, "amelie")], &p);
    let r = clock::clocks(&lead, &p, s).pop().unwrap();
    assert_eq!(r.calendar, "emea");
    assert_eq!(r.deadline, Some(t("2026-11-30T08:30:00Z")));
}

#[test]
fn a_touched_lead_has_nothing_due_so_stale_timers_are_harmless() {
    let p = policy();
    let s = t(MON10);
    let mut events = vec![form("f", s, "demo_request"), assign("a", s, "alice")];
    let armed = timers(&fold(&events, &p), &p, s);
    assert_eq!(armed.len(), 1);
    assert_eq!(armed[0].due_at, s + Duration::minutes(5));
    let late = s + Duration::hours(8);
    let none = StepBook::default();
    assert_eq!(deliverable(&fold(&events, &p), &p, late, &none).len(), 3);
    // The touch arrives (out of order, before the deadline): nothing is due any more.
    events.push(touch("t", s + Duration::minutes(4), "email", None));
    let lead = fold(&events, &p);
    assert!(deliverable(&lead, &p, late, &none).is_empty());
    assert!(timers(&lead, &p, late).is_empty());
}

#[test]
fn sent_steps_are_not_due_again_and_the_timer_moves_on() {
    let p = policy();
    let s = t(MON10);
    let lead = fold(&[form("f", s, "demo_request"), assign("a", s, "alice")], &p);
    let at = s + Duration::minutes(6);
    let due = deliverable(&lead, &p, at, &StepBook::default());
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].recipients.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["alice"]
    );
    let sent = StepRecord {
        key: StepKey {
            cycle: 1,
            clock: ClockKind::Response,
            step: 0,
        },
        status: StepStatus::Delivered,
        due_at: due[0].due_at,
        first_seen_at: due[0].due_at,
        settle_until: None,
        at,
        reason: "sent".into(),
    };
    let book = StepBook::new([sent]);
    assert!(deliverable(&lead, &p, at, &book).is_empty());
    let next = plan(&lead, &p, at, &book).timers;
    assert_eq!(
        (next[0].step, next[0].due_at),
        (1, s + Duration::minutes(5) + Duration::hours(2))
    );
    // The manager step resolves through alice's team to maria, and keeps alice informed.
    let due = deliverable(&lead, &p, next[0].due_at, &book);
    let ids: Vec<_> = due[0].recipients.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["alice", "maria"]);
}

#[test]
fn assignment_clock_escalates_to_ops() {
    let p = policy();
    let s = t(MON10);
    let lead = fold(&[form("f", s, "free_trial")], &p);
    let due = deliverable(&lead, &p, s + Duration::minutes(5), &StepBook::default());
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].key.clock, ClockKind::Assignment);
    assert_eq!(due[0].recipients[0].id, "revops-oncall");
}

/// A CRM owner nobody put in the directory is clocked all the same, and ops hears each of its
/// escalations beside it; a known owner's escalations do not reach ops.
#[test]
fn an_owner_the_directory_does_not_know_is_escalated_with_ops() {
    let p = policy();
    let s = t(MON10);
    let ids = |owner: &str| {
        let lead = fold(&[form("f", s, "demo_request"), assign("a", s, owner)], &p);
        let due = deliverable(&lead, &p, s + Duration::minutes(6), &StepBook::default());
        let first = due
            .iter()
            .find(|e| e.key.clock == ClockKind::Response)
            .expect("the owner's step");
        first.recipients.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids("005000000000042"), ["005000000000042", "revops-oncall"]);
    assert_eq!(ids("alice"), ["alice"]);
}

#[test]
fn manager_named_on_the_assignment_wins() {
    let p = policy();
    let s = t(MON10);
    let mut a = assign("a", s, "zed");
    if let EventBody::Assignment(x) = &mut a.body {
        x.manager = Some("quinn".into());
    }
    let lead = fold(&[form("f", s, "demo_request"), a], &p);
    let due = deliverable(&lead, &p, s + Duration::hours(3), &StepBook::default());
    let mgr = due
        .iter()
        .find(|e| e.key.step == 1 && e.key.clock == ClockKind::Response)
        .unwrap();
    assert!(mgr
        .recipients
        .iter()
        .any(|r| r.id == "quinn" && r.role == Role::Manager));
}

#[test]
fn recycling_counts_cycles_and_stops_at_the_limit() {
    let p = policy();
    let s = t(MON10);
    let mut events = Vec::new();
    for i in 0..4 {
        let at = s + Duration::days(i * 7);
        events.push(form(&format!("f{i}"), at, "content_mql"));
        events.push(assign(&format!("a{i}"), at + Duration::minutes(1), "alice"));
        events.push(stage(&format!("r{i}"), at + Duration::hours(1), StageChange::Rejected));
    }
    // A repeat engagement inside an open cycle is not a new MQL.
    events.push(form("dup-engagement", s + Duration::minutes(10), "content_mql"));
    let lead = fold(&events[..events.len() - 1], &p);
    assert_eq!(lead.cycles.len(), 4);
    assert_eq!(lead.recycle_count, 3);
    assert!(lead.cycles[1].recycled && !lead.cycles[0].recycled);
    assert!(!lead.cycles[2].suppressed);
    assert!(lead.cycles[3].suppressed, "the third recycle exceeds the limit of 2");
    let with_repeat = fold(&events, &p);
    assert_eq!(with_repeat.cycles.len(), 4);
    // Once over the limit, the lead is in long-term nurture with no clocks.
    let lead = fold(&events[..10], &p);
    assert_eq!(lead.stage, LeadStage::LongTermNurture);
    assert!(timers(&lead, &p, s + Duration::days(30)).is_empty());
}

#[test]
fn a_rejection_closes_the_clocks() {
    let p = policy();
    let s = t(MON10);
    let lead = fold(
        &[
            form("f", s, "demo_request"),
            assign("a", s, "alice"),
            stage("r", s + Duration::minutes(1), StageChange::Rejected),
        ],
        &p,
    );
    let r = clock::clocks(&lead, &p, s + Duration::hours(1)).pop().unwrap();
    assert_eq!(r.status, ClockStatus::Closed);
    assert!(timers(&lead, &p, s).is_empty());
}

#[test]
fn pre_assigned_owner_starts_the_response_clock_at_engagement() {
    let p = policy();
    let s = t(MON10);
    let lead = fold(
        &[
            assign("a", s - Duration::days(3), "alice"),
            form("f", s, "demo_request"),
        ],
        &p,
    );
    let cl = clock::clocks(&lead, &p, s);
    assert_eq!(cl[0].status, ClockStatus::Met);
    assert_eq!(cl[1].started_at, s);
}

#[test]
fn the_same_owner_assigned_again_changes_nothing_and_another_owner_starts_a_stint() {
    // Salesforce resends OwnerId with every change of the record: the holder's clock runs on.
    let p = policy();
    let s = t(MON10);
    let once = fold(
        &[
            form("f", s, "contact_form"),
            assign("a1", s + Duration::minutes(1), "alice"),
        ],
        &p,
    );
    let again = fold(
        &[
            form("f", s, "contact_form"),
            assign("a1", s + Duration::minutes(1), "alice"),
            assign("a2", s + Duration::minutes(40), "alice"),
        ],
        &p,
    );
    assert_eq!(again.cycles, once.cycles);
    let now = s + Duration::minutes(90);
    assert_eq!(clock::clocks(&again, &p, now)[1].status, ClockStatus::Breached);
    assert!(again.timeline.last().unwrap().summary.contains("already the owner"));
    let handed = fold(
        &[
            form("f", s, "contact_form"),
            assign("a1", s + Duration::minutes(1), "alice"),
            assign("a2", s + Duration::minutes(40), "bob"),
            assign("a3", s + Duration::minutes(50), "alice"),
        ],
        &p,
    );
    let owners: Vec<&str> = handed.cycles[0].stints.iter().map(|x| x.owner.as_str()).collect();
    assert_eq!(owners, ["alice", "bob", "alice"], "a real hand-back is a new stint");
}

#[test]
fn a_repeat_that_names_the_team_the_first_left_out_is_the_same_holder() {
    let p = policy();
    let s = t(MON10);
    let with_team = |id: &str, at, team: &str| {
        let mut e = assign(id, at, "alice");
        if let EventBody::Assignment(a) = &mut e.body {
            a.team = Some(team.into());
        }
        e
    };
    let lead = fold(
        &[
            form("f", s, "contact_form"),
            assign("a1", s + Duration::minutes(1), "alice"),
            with_team("a2", s + Duration::minutes(40), "east"),
        ],
        &p,
    );
    let stints = &lead.cycles[0].stints;
    assert_eq!(stints.len(), 1, "one accountability window");
    assert_eq!(stints[0].assigned_at, s + Duration::minutes(1));
    assert_eq!(stints[0].team.as_deref(), Some("east"), "the repeat fills in the team");
    let moved = fold(
        &[
            form("f", s, "contact_form"),
            with_team("a1", s + Duration::minutes(1), "east"),
            with_team("a2", s + Duration::minutes(40), "west"),
        ],
        &p,
    );
    assert_eq!(moved.cycles[0].stints.len(), 2, "another team is another holder");
}

fn arb_event() -> impl Strategy<Value = (u8, i64, u8)> {
    (0u8..6, 0i64..(3 * 86_400), 0u8..4)
}

fn build(spec: &[(u8, i64, u8)]) -> Vec<Event> {
    let base = t("2026-11-20T14:00:00Z");
    let owners = ["alice", "bob", "amelie", "zed"];
    let types = ["demo_request", "free_trial", "content_mql", "event_attendee"];
    spec.iter()
        .enumerate()
        .map(|(i, &(kind, secs, k))| {
            let at = base + Duration::seconds(secs);
            let id = format!("e{i}");
            match kind {
                0 => form(&id, at, types[k as usize]),
                1 => assign(&id, at, owners[k as usize]),
                2 => touch(&id, at, ["call", "email", "pigeon", "sms"][k as usize], None),
                3 => touch(&id, at, "call", Some("voicemail")),
                4 => stage(
                    &id,
                    at,
                    [
                        StageChange::Rejected,
                        StageChange::Sal,
                        StageChange::Nurture,
                        StageChange::Sql,
                    ][k as usize],
                ),
                // A correction voiding one of the first events.
                _ => {
                    let target = EventId::parse(&format!("e{k}")).unwrap();
                    ev(
                        &format!("void-{id}"),
                        at,
                        EventBody::Void(Void {
                            target,
                            reason: "wrong lead".into(),
                        }),
                    )
                }
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_order_with_repeats_gives_the_same_state(
        spec in prop::collection::vec(arb_event(), 1..14),
        shuffle_seed in any::<u64>(),
        repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
    ) {
        let p = policy();
        let events = build(&spec);
        let expected = fold(&events, &p);
        let mut shuffled = events.clone();
        for r in &repeats {
            shuffled.push(events[r.index(events.len())].clone());
        }
        common::shuffle(&mut shuffled, shuffle_seed);
        let got = fold(&shuffled, &p);
        prop_assert_eq!(&got, &expected);
        let now = t("2026-11-25T00:00:00Z");
        prop_assert_eq!(clock::clocks(&got, &p, now), clock::clocks(&expected, &p, now));
        let none = StepBook::default();
        prop_assert_eq!(plan(&got, &p, now, &none), plan(&expected, &p, now, &none));
        // A timer never points at a stopped clock.
        for timer in timers(&got, &p, now) {
            let c = clock::clocks(&got, &p, now).into_iter().find(|c| c.cycle == timer.cycle && c.clock == timer.clock);
            prop_assert!(c.is_some_and(|c| c.is_running()));
        }
    }
}

mod snapshots {
    //! A stored snapshot plus one event is the fold of the whole set, whenever the snapshot
    //! accepts the event; and it accepts every event that comes strictly after its history.
    use super::*;
    use leadclock_domain::snapshot::Snapshot;

    /// Small, so the property also crosses the cut of the timeline.
    const HEAD: usize = 3;

    /// The snapshot as a store gives it back: through its stored form.
    fn stored(s: &Snapshot) -> Snapshot {
        serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap()
    }

    fn sorted(mut events: Vec<Event>) -> Vec<Event> {
        events.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        events
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn in_order_events_onto_a_snapshot_give_the_fold_of_the_whole_set(
            spec in prop::collection::vec((0u8..5, 0i64..(3 * 86_400), 0u8..4), 2..24),
            cut in any::<prop::sample::Index>(),
        ) {
            let p = policy();
            let judge = |_| &p;
            // Distinct instants: each event comes strictly after the ones before it.
            let mut seen = std::collections::HashSet::new();
            let spec: Vec<_> = spec.into_iter().filter(|s| seen.insert(s.1)).collect();
            let events = sorted(build(&spec));
            let k = 1 + cut.index(events.len());
            let (before, after) = events.split_at(k.min(events.len()));
            let mut snap = Snapshot::of(fold(before, &p), before, HEAD).expect("no correction, no merge");
            for (i, e) in after.iter().enumerate() {
                snap = stored(&snap).fold_onto(e, &judge).expect("strictly after the last event");
                let so_far = &events[..k + i + 1];
                let refolded = Snapshot::of(fold(so_far, &p), so_far, HEAD);
                prop_assert_eq!(Some(&snap), refolded.as_ref());
            }
            let whole = fold(&events, &p);
            prop_assert_eq!(snap.timeline_total, whole.timeline.len());
            prop_assert_eq!(&snap.lead.timeline[..], &whole.timeline[..HEAD.min(whole.timeline.len())]);
            prop_assert_eq!(&snap.lead.cycles, &whole.cycles);
        }

        #[test]
        fn an_event_the_snapshot_accepts_in_any_order_gives_the_fold_of_the_whole_set(
            spec in prop::collection::vec(arb_event(), 2..14),
            seed in any::<u64>(),
            pick in any::<prop::sample::Index>(),
        ) {
            let p = policy();
            let mut events = build(&spec);
            common::shuffle(&mut events, seed);
            let i = pick.index(events.len());
            let e = events.remove(i);
            let Some(snap) = Snapshot::of(fold(&events, &p), &events, HEAD) else {
                // A history with a correction: only a re-fold is exact.
                prop_assert!(events.iter().any(|e| matches!(e.body, EventBody::Void(_))));
                return Ok(());
            };
            events.push(e.clone());
            let whole = Snapshot::of(fold(&events, &p), &events, HEAD);
            match stored(&snap).fold_onto(&e, &|_| &p) {
                Some(next) => prop_assert_eq!(Some(next), whole),
                // Refused: it sorts before or beside the history, or it is a correction.
                None => prop_assert!(
                    (e.occurred_at, e.body.rank()) <= (snap.last_at, snap.last_rank)
                        || matches!(e.body, EventBody::Void(_))
                ),
            }
        }
    }

    #[test]
    fn a_stored_timeline_entry_of_an_unknown_kind_is_refused() {
        let entry = |kind: &str| {
            serde_json::from_value::<leadclock_domain::lead::TimelineEntry>(serde_json::json!({
                "event_id": "e1", "occurred_at": MON10, "kind": kind, "summary": "MQL"
            }))
        };
        assert_eq!(entry("form").unwrap().kind, "form");
        assert!(entry("telepathy")
            .unwrap_err()
            .to_string()
            .contains("unknown event kind"));
    }

    #[test]
    fn a_correction_or_a_merge_in_the_history_is_never_continued() {
        let p = policy();
        let s = t(MON10);
        let events = vec![
            form("f", s, "demo_request"),
            ev(
                "v",
                s + Duration::minutes(1),
                EventBody::Void(Void {
                    target: EventId::parse("f").unwrap(),
                    reason: "test form".into(),
                }),
            ),
        ];
        assert_eq!(Snapshot::of(fold(&events, &p), &events, HEAD), None);
        let clean = Snapshot::of(fold(&events[..1], &p), &events[..1], HEAD).unwrap();
        assert_eq!(
            clean.fold_onto(&events[1], &|_| &p),
            None,
            "a void may change an earlier verdict"
        );
        let other = Event::new(
            EventId::parse("x").unwrap(),
            LeadId::parse("L-2").unwrap(),
            s + Duration::minutes(2),
            touch("x", s, "call", None).body,
        );
        assert_eq!(clean.fold_onto(&other, &|_| &p), None, "another lead's event");
    }
}

mod aging_out {
    //! `open_for`: an untouched lead closes as `no_response` at engagement + horizon, derived
    //! from event times alone.
    use super::*;
    use leadclock_domain::clock::StopCause;
    use leadclock_domain::metrics;

    fn with(extra_top: &str, demo_extra: &str) -> Policy {
        let src = include_str!("../../../policies/example.toml")
            .replace("open_for = \"30days\"", extra_top)
            .replace(
                "[lead_types.demo_request]\n",
                &format!("[lead_types.demo_request]\n{demo_extra}\n"),
            );
        Policy::parse(&src).unwrap()
    }

    #[test]
    fn an_untouched_lead_closes_as_no_response_at_the_horizon_and_leaves_the_open_list() {
        let p = policy();
        let s = t(MON10);
        let lead = fold(&[form("f", s, "demo_request"), assign("a", s, "alice")], &p);
        let horizon = s + Duration::days(30);
        let before = clock::clocks(&lead, &p, horizon - Duration::seconds(1));
        assert!(before
            .iter()
            .all(|c| c.clock == ClockKind::Assignment || c.status == ClockStatus::Breached));
        assert_eq!(
            metrics::open_slas(std::slice::from_ref(&lead), &p, horizon - Duration::seconds(1)).len(),
            1
        );
        let after = clock::clocks(&lead, &p, horizon + Duration::days(200));
        let r = after.iter().find(|c| c.clock == ClockKind::Response).unwrap();
        assert_eq!(
            (r.status, r.stopped_by, r.stopped_at),
            (ClockStatus::Missed, Some(StopCause::NoResponse), Some(horizon))
        );
        // The wall-clock span ends at the horizon, however long ago it was.
        assert_eq!(r.elapsed_seconds, 30 * 86_400);
        assert!(metrics::open_slas(std::slice::from_ref(&lead), &p, horizon).is_empty());
        assert!(
            timers(&lead, &p, horizon).is_empty(),
            "nothing escalates after the horizon"
        );
        assert_eq!(clock::no_response_at(&lead.cycles[0], &p), Some(horizon));
    }

    #[test]
    fn a_touch_or_a_closing_stage_inside_the_horizon_keeps_the_lead_answered() {
        let p = policy();
        let s = t(MON10);
        let late = s + Duration::days(29);
        for last in [
            touch("t", late, "call", None),
            stage("q", late, StageChange::Disqualified),
        ] {
            let lead = fold(&[form("f", s, "demo_request"), assign("a", s, "alice"), last], &p);
            assert_eq!(clock::no_response_at(&lead.cycles[0], &p), None);
            let r = clock::clocks(&lead, &p, s + Duration::days(90)).pop().unwrap();
            assert_eq!(r.stopped_at, Some(late));
            assert_ne!(r.stopped_by, Some(StopCause::NoResponse));
        }
    }

    #[test]
    fn a_touch_after_the_horizon_leaves_the_clock_stopped_there_but_is_measured() {
        let p = policy();
        let s = t(MON10);
        let lead = fold(
            &[
                form("f", s, "demo_request"),
                assign("a", s, "alice"),
                touch("t", s + Duration::days(40), "call", None),
            ],
            &p,
        );
        let r = clock::clocks(&lead, &p, s + Duration::days(41)).pop().unwrap();
        assert_eq!(
            (r.stopped_by, r.status),
            (Some(StopCause::NoResponse), ClockStatus::Missed)
        );
        let d = clock::delays(&lead.cycles[0], &p);
        assert_eq!(d.speed_to_lead.unwrap().seconds, 40 * 86_400);
    }

    #[test]
    fn an_unassigned_lead_ages_out_on_its_assignment_clock_and_a_later_assignment_starts_nothing() {
        let p = policy();
        let s = t(MON10);
        let lead = fold(
            &[
                form("f", s, "demo_request"),
                assign("a", s + Duration::days(31), "alice"),
            ],
            &p,
        );
        let cl = clock::clocks(&lead, &p, s + Duration::days(32));
        assert_eq!(cl.len(), 1, "{cl:?}");
        assert_eq!(
            (cl[0].clock, cl[0].stopped_by, cl[0].status),
            (ClockKind::Assignment, Some(StopCause::NoResponse), ClockStatus::Missed)
        );
    }

    #[test]
    fn the_horizon_is_set_per_lead_type_or_turned_off() {
        let s = t(MON10);
        let events = [form("f", s, "demo_request"), assign("a", s, "alice")];
        let week = with("open_for = \"30days\"", "open_for = \"7days\"");
        let lead = fold(&events, &week);
        assert_eq!(
            clock::no_response_at(&lead.cycles[0], &week),
            Some(s + Duration::days(7))
        );
        assert_eq!(week.open_for("free_trial"), Some(Duration::days(30)));
        let off = with("open_for = \"off\"", "");
        let lead = fold(&events, &off);
        assert_eq!(clock::no_response_at(&lead.cycles[0], &off), None);
        let r = clock::clocks(&lead, &off, s + Duration::days(400)).pop().unwrap();
        assert_eq!(r.status, ClockStatus::Breached);
        // Absent altogether: the default.
        let default = with("", "");
        assert_eq!(
            default.open_for("demo_request"),
            Some(leadclock_domain::policy::DEFAULT_OPEN_FOR)
        );
    }

    #[test]
    fn a_horizon_under_a_day_or_on_the_assignment_sla_is_a_problem() {
        let src = include_str!("../../../policies/example.toml");
        let short = src.replace("open_for = \"30days\"", "open_for = \"2h\"");
        let problems = Policy::parse(&short).unwrap_err();
        assert!(problems.iter().any(|p| p.path == "open_for"), "{problems:?}");
        let on_assignment = src.replace("[assignment]\n", "[assignment]\nopen_for = \"30days\"\n");
        let problems = Policy::parse(&on_assignment).unwrap_err();
        assert!(problems.iter().any(|p| p.path == "assignment.open_for"), "{problems:?}");
    }

    #[test]
    fn reports_count_the_leads_that_aged_out_in_their_cohort() {
        let p = policy();
        let s = t(MON10);
        let leads: Vec<Lead> = (0..3)
            .map(|i| {
                let id = LeadId::parse(&format!("L-{i}")).unwrap();
                let mut evs = vec![form("f", s, "demo_request"), assign("a", s, "alice")];
                if i == 0 {
                    evs.push(touch("t", s + Duration::minutes(3), "call", None));
                }
                evs.iter_mut().for_each(|e| e.lead_id = id.clone());
                Lead::fold(id, &evs, &p)
            })
            .collect();
        let (from, to) = (s - Duration::days(1), s + Duration::days(1));
        let early = metrics::report(&leads, &p, from, to, None, s + Duration::days(2));
        assert_eq!((early.overall.no_response, early.open_total), (0, 2));
        let late = metrics::report(&leads, &p, from, to, None, s + Duration::days(31));
        assert_eq!((late.overall.no_response, late.open_total), (2, 0));
        assert_eq!(late.overall.sla.overall.missed, 2);
        assert_eq!(late.overall.lead_leakage.numerator, 2);
    }
}
