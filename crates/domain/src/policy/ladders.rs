//! SLA rules: their target, their escalation ladder, and the touches that stop their clock.

use super::problems::Problems;
use super::raw::{Named, RawLadder, RawSla, RawStep, RawTouches, Span, SpannedList, Text};
use super::{parse_duration, Anchor, Basis, Role, SlaRule, Step, Target, TouchRule};
use chrono::Duration;
use std::collections::BTreeMap;
use toml::Spanned;

/// A named ladder: its steps and, if it says, how stale a step may be and still be sent.
#[derive(Clone)]
pub(super) struct Ladder {
    steps: Vec<Step>,
    stale_after: Option<Duration>,
}

/// The named ladders of `[ladders.NAME]`, each validated once for every SLA that uses it.
pub(super) fn ladders(raw: &Named<RawLadder>, p: &mut Problems) -> BTreeMap<String, Ladder> {
    raw.iter()
        .map(|(name, l)| {
            let base = format!("ladders.{}", name.get_ref());
            let steps = steps(&format!("{base}.steps"), &l.steps, true, p);
            let stale_after = super::delivery::duration(&format!("{base}.stale_after"), l.stale_after.as_ref(), p);
            (name.get_ref().clone(), Ladder { steps, stale_after })
        })
        .collect()
}

/// The steps of one ladder; `business` tells whether its SLA counts business time, which
/// `end_of_business_day` needs.
fn steps(path: &str, raw: &SpannedList<RawStep>, business: bool, p: &mut Problems) -> Vec<Step> {
    if raw.get_ref().is_empty() {
        p.add(path, raw.span(), "a ladder needs at least one step");
    }
    raw.get_ref()
        .iter()
        .enumerate()
        .filter_map(|(i, s)| step(&format!("{path}[{i}]"), s, business, p))
        .collect()
}

fn step(here: &str, raw: &Spanned<RawStep>, business: bool, p: &mut Problems) -> Option<Step> {
    let s = raw.get_ref();
    let anchor = anchor(&format!("{here}.at"), &s.at, business, p)?;
    let offset = offset(here, raw, p);
    let notify = notify(&format!("{here}.notify"), &s.notify, p);
    let name = s.name.clone().unwrap_or_else(|| {
        let names: Vec<&str> = s.notify.get_ref().iter().map(|r| r.get_ref().as_str()).collect();
        names.join("+")
    });
    Some(Step {
        name,
        anchor,
        offset,
        notify,
    })
}

fn anchor(path: &str, at: &Text, business: bool, p: &mut Problems) -> Option<Anchor> {
    let anchor = match at.get_ref().as_str() {
        "deadline" => Anchor::Deadline,
        "end_of_business_day" => Anchor::EndOfBusinessDay,
        other => {
            let message = format!("{other:?} must be \"deadline\" or \"end_of_business_day\"");
            p.add(path, at.span(), message);
            return None;
        }
    };
    if anchor == Anchor::EndOfBusinessDay && !business {
        p.add(path, at.span(), "end_of_business_day needs a business calendar");
    }
    Some(anchor)
}

/// Signed offset from the anchor: `after` is positive, `before` negative, neither is zero.
fn offset(here: &str, raw: &Spanned<RawStep>, p: &mut Problems) -> Duration {
    let mut parse = |key: &str, d: &Text| {
        parse_duration(d.get_ref()).unwrap_or_else(|e| {
            p.add(format!("{here}.{key}"), d.span(), e);
            Duration::zero()
        })
    };
    match (&raw.get_ref().after, &raw.get_ref().before) {
        (Some(_), Some(_)) => {
            p.add(here, raw.span(), "give `after` or `before`, not both");
            Duration::zero()
        }
        (Some(a), None) => parse("after", a),
        (None, Some(b)) => -parse("before", b),
        (None, None) => Duration::zero(),
    }
}

fn notify(path: &str, raw: &SpannedList<String>, p: &mut Problems) -> Vec<Role> {
    let mut roles = Vec::new();
    for r in raw.get_ref() {
        match Role::parse(r.get_ref()) {
            Some(role) => roles.push(role),
            None => p.add(
                path,
                r.span(),
                format!("{:?} must be owner, manager, exec or ops", r.get_ref()),
            ),
        }
    }
    if raw.get_ref().is_empty() {
        p.add(path, raw.span(), "a step must notify at least one role");
    }
    roles
}

/// Touch rules: what `raw` gives, the rest inherited. `at` places a problem when `raw` gives
/// no channels of its own.
pub(super) fn touches(
    path: &str,
    raw: Option<&RawTouches>,
    inherit: &TouchRule,
    at: Option<Span>,
    p: &mut Problems,
) -> TouchRule {
    let Some(raw) = raw else { return inherit.clone() };
    let lower = |v: &Spanned<Vec<String>>| v.get_ref().iter().map(|s| s.to_ascii_lowercase()).collect::<Vec<_>>();
    let channels = raw.channels.as_ref().map_or_else(|| inherit.channels.clone(), lower);
    if channels.is_empty() {
        let at = raw.channels.as_ref().map(Spanned::span).or_else(|| raw.span()).or(at);
        p.add(format!("{path}.channels"), at, "no channel would ever stop the clock");
    }
    TouchRule {
        channels,
        excluded_outcomes: raw
            .excluded_outcomes
            .as_ref()
            .map_or_else(|| inherit.excluded_outcomes.clone(), lower),
    }
}

/// One SLA rule at `path`; `at` places problems about the table as a whole.
pub(super) fn sla(
    path: &str,
    raw: &RawSla,
    at: Option<Span>,
    ladders: &BTreeMap<String, Ladder>,
    p: &mut Problems,
) -> Option<SlaRule> {
    let basis = basis(path, raw, p);
    let target = target(path, raw, basis, at.clone(), p);
    let (ladder, ladder_stale) = ladder(path, raw, basis, at, ladders, p);
    let own_stale = super::delivery::duration(&format!("{path}.stale_after"), raw.stale_after.as_ref(), p);
    Some(SlaRule {
        target: target?,
        ladder,
        stale_after: own_stale.or(ladder_stale),
    })
}

fn basis(path: &str, raw: &RawSla, p: &mut Problems) -> Basis {
    let Some(clock) = &raw.clock else {
        return Basis::Business;
    };
    Basis::parse(clock.get_ref()).unwrap_or_else(|| {
        let message = format!("{:?} must be \"business\" or \"calendar\"", clock.get_ref());
        p.add(format!("{path}.clock"), clock.span(), message);
        Basis::Business
    })
}

fn target(path: &str, raw: &RawSla, basis: Basis, at: Option<Span>, p: &mut Problems) -> Option<Target> {
    match (&raw.within, &raw.by) {
        (Some(w), None) => match parse_duration(w.get_ref()) {
            Ok(duration) => Some(Target::Within { duration, basis }),
            Err(e) => {
                p.add(format!("{path}.within"), w.span(), e);
                None
            }
        },
        (None, Some(b)) if b.get_ref() == "end_of_business_day" => {
            if basis == Basis::Calendar {
                p.add(
                    format!("{path}.by"),
                    b.span(),
                    "end_of_business_day needs clock = \"business\"",
                );
            }
            Some(Target::EndOfBusinessDay)
        }
        (None, Some(b)) => {
            let message = format!("{:?} must be \"end_of_business_day\"", b.get_ref());
            p.add(format!("{path}.by"), b.span(), message);
            None
        }
        (Some(_), Some(_)) => {
            p.add(path, at, "give `within` or `by`, not both");
            None
        }
        (None, None) => {
            p.add(path, at, "needs `within = \"5m\"` or `by = \"end_of_business_day\"`");
            None
        }
    }
}

/// The SLA's escalation steps: a named ladder, its own `escalate` list, or none.
fn ladder(
    path: &str,
    raw: &RawSla,
    basis: Basis,
    at: Option<Span>,
    ladders: &BTreeMap<String, Ladder>,
    p: &mut Problems,
) -> (Vec<Step>, Option<Duration>) {
    match (&raw.ladder, &raw.escalate) {
        (Some(_), Some(_)) => {
            p.add(path, at, "give `ladder` or `escalate`, not both");
            (Vec::new(), None)
        }
        (Some(name), None) => match ladders.get(name.get_ref()) {
            Some(l) => (l.steps.clone(), l.stale_after),
            None => {
                let message = format!("no ladder named {:?} in [ladders]", name.get_ref());
                p.add(format!("{path}.ladder"), name.span(), message);
                (Vec::new(), None)
            }
        },
        (None, Some(list)) => (
            steps(&format!("{path}.escalate"), list, basis == Basis::Business, p),
            None,
        ),
        (None, None) => (Vec::new(), None),
    }
}
