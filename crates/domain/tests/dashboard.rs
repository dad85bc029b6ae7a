//! The dashboard's own figures: the queue of running clocks ordered by business time to
//! breach (not wall time), and MQL -> SQL by response bucket.

use chrono::{DateTime, Duration, Utc};
use leadclock_domain::clock::ClockStatus;
use leadclock_domain::event::{Assignment, Form, Stage, Touch};
use leadclock_domain::metrics::{self, Held};
use leadclock_domain::{ClockKind, Event, EventBody, EventId, Lead, LeadId, Policy, StageChange};
use proptest::prelude::*;

const EXAMPLE: &str = include_str!("../../../policies/example.toml");

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ev(lead: &str, id: &str, at: DateTime<Utc>, body: EventBody) -> Event {
    Event::new(EventId::parse(id).unwrap(), LeadId::parse(lead).unwrap(), at, body)
}

/// A lead of `lead_type` engaged at `at`, assigned a minute later to `owner` (of `team`),
/// touched `touch` after the assignment when given, SQL two hours in when `sql`.
struct Spec<'a> {
    id: &'a str,
    lead_type: &'a str,
    at: DateTime<Utc>,
    owner: &'a str,
    team: &'a str,
    touch: Option<Duration>,
    sql: bool,
}

fn events(s: &Spec) -> Vec<Event> {
    let form = EventBody::Form(Box::new(Form {
        lead_type: s.lead_type.into(),
        ..Default::default()
    }));
    let assign = EventBody::Assignment(Assignment {
        owner: s.owner.into(),
        team: Some(s.team.into()),
        manager: None,
    });
    let assigned = s.at + Duration::minutes(1);
    let mut out = vec![ev(s.id, "f", s.at, form), ev(s.id, "a", assigned, assign)];
    if let Some(after) = s.touch {
        let call = EventBody::Touch(Touch {
            owner: None,
            channel: "call".into(),
            outcome: None,
        });
        out.push(ev(s.id, "t", assigned + after, call));
    }
    if s.sql {
        let stage = |stage| EventBody::Stage(Stage { stage, reason: None });
        out.push(ev(s.id, "s1", s.at + Duration::hours(1), stage(StageChange::Sal)));
        out.push(ev(s.id, "s2", s.at + Duration::hours(2), stage(StageChange::Sql)));
    }
    out
}

fn fold(s: &Spec, policy: &Policy) -> Lead {
    Lead::fold(LeadId::parse(s.id).unwrap(), &events(s), policy)
}

fn spec<'a>(id: &'a str, lead_type: &'a str, at: &str, owner: &'a str, team: &'a str) -> Spec<'a> {
    Spec {
        id,
        lead_type,
        at: t(at),
        owner,
        team,
        touch: None,
        sql: false,
    }
}

/// Tuesday 2027-03-02, 19:00 UTC: 14:00 in New York (open until 17:00), 19:00 in London
/// (closed since 18:00).
const NOW: &str = "2027-03-02T19:00:00Z";

fn queue_leads(policy: &Policy) -> Vec<Lead> {
    [
        // London, 1-hour SLA, assigned 17:30 London: 30 business minutes left, due tomorrow 08:30.
        spec("L-EMEA", "contact_form", "2027-03-02T17:29:00Z", "amelie", "emea"),
        // New York, 1-hour SLA, assigned 13:45: 45 minutes left, due 14:45 today.
        spec("L-NY", "contact_form", "2027-03-02T18:44:00Z", "alice", "east"),
        // New York, 5-minute SLA, assigned 13:56: 1 minute left of 5: at risk.
        spec("L-RISK", "demo_request", "2027-03-02T18:55:00Z", "bob", "east"),
        // New York, 5-minute SLA, assigned 13:00: breached 55 minutes ago.
        spec("L-LATE", "demo_request", "2027-03-02T17:59:00Z", "alice", "east"),
    ]
    .iter()
    .map(|s| fold(s, policy))
    .collect()
}

#[test]
fn the_queue_is_ordered_by_business_time_to_breach_not_wall_time() {
    let policy = Policy::parse(EXAMPLE).unwrap();
    let q = metrics::queue(&queue_leads(&policy), &policy, t(NOW));
    let order: Vec<&str> = q.iter().map(|x| x.lead_id.as_str()).collect();
    assert_eq!(order, ["L-LATE", "L-RISK", "L-EMEA", "L-NY"]);
    let left: Vec<Option<i64>> = q.iter().map(|x| x.business_seconds_left).collect();
    assert_eq!(left, [Some(-55 * 60), Some(60), Some(30 * 60), Some(45 * 60)]);
    // London's lead is due later by the wall clock than New York's, yet nearer its breach.
    assert!(q[2].deadline > q[3].deadline);
    assert_eq!(q[2].deadline, Some(t("2027-03-03T08:30:00Z")));
    assert_eq!(q[2].calendar, "emea");
    assert_eq!((q[0].status, q[0].at_risk), (ClockStatus::Breached, false));
    assert_eq!((q[1].status, q[1].at_risk), (ClockStatus::Running, true));
    assert!(!q[2].at_risk && !q[3].at_risk);
    assert!(q.iter().all(|x| x.clock == ClockKind::Response));
    assert_eq!(q[0].team.as_deref(), Some("east"));
    // The breached lead's owner step is past: the next one is the manager's, 2 business hours on.
    let (name, at) = q[0].next_step.clone().unwrap();
    assert_eq!((name.as_str(), at), ("manager", t("2027-03-02T20:05:00Z")));
}

#[test]
fn an_answered_lead_leaves_the_queue() {
    let policy = Policy::parse(EXAMPLE).unwrap();
    let mut s = spec("L-DONE", "demo_request", "2027-03-02T18:50:00Z", "bob", "east");
    s.touch = Some(Duration::minutes(2));
    assert!(metrics::queue(&[fold(&s, &policy)], &policy, t(NOW)).is_empty());
}

proptest! {
    #[test]
    fn the_queue_does_not_depend_on_the_order_leads_are_read(seed in 0u64..1000) {
        let policy = Policy::parse(EXAMPLE).unwrap();
        let mut leads = queue_leads(&policy);
        let want = metrics::queue(&leads, &policy, t(NOW));
        // A permutation from the seed.
        let n = leads.len();
        for i in (1..n).rev() {
            leads.swap(i, (seed as usize).wrapping_mul(31).wrapping_add(i * 7) % (i + 1));
        }
        prop_assert_eq!(metrics::queue(&leads, &policy, t(NOW)), want);
    }
}

/// Tuesday 10:00 New York.
const DAY: &str = "2027-03-02T15:00:00Z";

fn conversion_leads(policy: &Policy) -> Vec<Lead> {
    let at = t(DAY);
    let mut specs = Vec::new();
    let ids: Vec<String> = (0..8).map(|i| format!("C-{i}")).collect();
    // Four answered in 2 minutes (two become SQL), two in 40 minutes (none), two never.
    for (i, id) in ids.iter().enumerate() {
        let (touch, sql) = match i {
            0 | 1 => (Some(2), true),
            2 | 3 => (Some(2), false),
            4 | 5 => (Some(40), false),
            _ => (None, false),
        };
        specs.push(Spec {
            id,
            lead_type: "demo_request",
            at: at + Duration::minutes(i as i64),
            owner: "alice",
            team: "east",
            touch: touch.map(Duration::minutes),
            sql,
        });
    }
    specs.iter().map(|s| fold(s, policy)).collect()
}

#[test]
fn conversion_by_response_bucket_counts_each_cycle_once_and_waits_for_the_sales_cycle() {
    let policy = Policy::parse(EXAMPLE).unwrap();
    let leads = conversion_leads(&policy);
    let (from, to) = (t("2027-03-02T05:00:00Z"), t("2027-03-03T05:00:00Z"));
    let young = metrics::speed_vs_conversion(&leads, &policy, from, to, t(DAY) + Duration::days(1));
    let rows: Vec<(&str, u64, u64)> = young
        .iter()
        .map(|b| (b.label, b.mqls, b.mql_to_sql.numerator))
        .collect();
    // Speed to lead = 1 minute to assignment + the touch.
    assert_eq!(
        rows,
        [
            ("under 5 min", 4, 2),
            ("5-30 min", 0, 0),
            ("30-60 min", 2, 0),
            ("1-24 h", 0, 0),
            ("over 24 h", 0, 0),
            ("not answered", 2, 0),
        ]
    );
    assert_eq!(young.iter().map(|b| b.mqls).sum::<u64>(), 8);
    let fast = &young[0].mql_to_sql;
    assert_eq!(fast.percent, Some(50.0));
    assert!(
        matches!(fast.held, Some(Held::InProgress { still_open: 2, .. })),
        "{fast:?}"
    );
    assert_eq!(fast.band, None);
    // After the sales cycle, four leads are still too few to band under min_sample = 20...
    let old = metrics::speed_vs_conversion(&leads, &policy, from, to, t(DAY) + Duration::days(90));
    assert_eq!(old[0].mql_to_sql.held, Some(Held::SmallSample { min_sample: 20 }));
    // ...and banded with a minimum of 1.
    let one = Policy::parse(&EXAMPLE.replace("min_sample = 20", "min_sample = 1")).unwrap();
    let leads = conversion_leads(&one);
    let old = metrics::speed_vs_conversion(&leads, &one, from, to, t(DAY) + Duration::days(90));
    assert!(old[0].mql_to_sql.band.is_some() && old[0].mql_to_sql.held.is_none());
    // A period that holds none of them counts none.
    let empty = metrics::speed_vs_conversion(&leads, &one, to, to + Duration::days(1), t(DAY) + Duration::days(90));
    assert!(empty.iter().all(|b| b.mqls == 0 && b.mql_to_sql.percent.is_none()));
}

#[test]
fn a_scoped_report_names_only_the_scopes_people() {
    use leadclock_domain::metrics::Dimension;
    use leadclock_domain::Scope;
    let policy = Policy::parse(EXAMPLE).unwrap();
    // Alice (east) takes L-HAND, then hands it to Dave (west); Carol (east) holds L-EAST;
    // Dave alone holds L-WEST; nobody holds L-NEW yet.
    let hand = spec("L-HAND", "contact_form", "2027-03-02T18:30:00Z", "alice", "east");
    let mut hand_events = events(&hand);
    hand_events.push(ev(
        "L-HAND",
        "a2",
        t("2027-03-02T18:40:00Z"),
        EventBody::Assignment(Assignment {
            owner: "dave".into(),
            team: Some("west".into()),
            manager: None,
        }),
    ));
    let form = Form {
        lead_type: "contact_form".into(),
        ..Default::default()
    };
    let new_lead = ev("L-NEW", "f", t("2027-03-02T18:50:00Z"), EventBody::Form(Box::new(form)));
    let leads = vec![
        Lead::fold(LeadId::parse("L-HAND").unwrap(), &hand_events, &policy),
        fold(
            &spec("L-EAST", "contact_form", "2027-03-02T18:35:00Z", "carol", "east"),
            &policy,
        ),
        fold(
            &spec("L-WEST", "contact_form", "2027-03-02T18:36:00Z", "dave", "west"),
            &policy,
        ),
        Lead::fold(LeadId::parse("L-NEW").unwrap(), &[new_lead], &policy),
    ];
    let (from, to, now) = (t("2027-03-02T00:00:00Z"), t("2027-03-03T00:00:00Z"), t(NOW));
    let east = Scope::Team("east".into());
    let seen: Vec<Lead> = leads
        .iter()
        .filter(|l| east.sees(l, &policy.directory))
        .cloned()
        .collect();
    assert_eq!(seen.len(), 2, "the handed-on lead and Carol's");
    for by in [Dimension::Team, Dimension::Owner] {
        let r = metrics::report_for(&seen, &policy, from, to, Some(by), now, &east);
        let owners: Vec<&str> = r.reps.iter().map(|x| x.owner.as_str()).collect();
        assert!(owners.iter().all(|o| ["alice", "carol"].contains(o)), "{owners:?}");
        let groups: Vec<&str> = r.groups.keys().map(String::as_str).collect();
        let allowed: &[&str] = if by == Dimension::Team {
            &["east"]
        } else {
            &["alice", "carol"]
        };
        assert!(groups.iter().all(|g| allowed.contains(g)), "{by:?}: {groups:?}");
        let open: Vec<&str> = r.open_slas.iter().map(|o| o.lead_id.as_str()).collect();
        assert_eq!(
            open,
            ["L-EAST"],
            "Dave's clock on the handed-on lead is not the manager's"
        );
        assert_eq!(r.open_total, 1);
        assert!(r.open_slas.iter().all(|o| o.owner.as_deref() == Some("carol")));
    }
    // Unscoped: everything, the unowned lead's assignment clock included.
    let all = metrics::report_for(&leads, &policy, from, to, Some(Dimension::Owner), now, &Scope::All);
    assert_eq!(
        all,
        metrics::report(&leads, &policy, from, to, Some(Dimension::Owner), now)
    );
    assert_eq!(all.open_total, 4);
    assert!(all.groups.contains_key("dave"));
}
