//! Aggregates kept at write time: what a *settled* lead adds to each reporting day, so a
//! report adds up days, not leads.
//!
//! A lead is settled when no clock of it runs ([`settled`]): until its next event, nothing of
//! what it adds to a report changes with time (a running clock can still breach, earn a step
//! or age out; a stopped one cannot). What it adds falls on the reporting days of its cycles'
//! engagements, first assignments and assignments: one [`Counts`] per such day, over that day
//! alone. Those counts merge, so a host keeps per day the sum over its settled leads, takes a
//! lead's old [`Facts`] out and puts its new ones in when the lead changes (a late event
//! changes an old day the same way), and a report over whole days adds the days up.
//!
//! [`Facts`] is the flat form: each count of a day under its path (`["overall","mqls"]`,
//! `["overall","speed","calendar","90"]` for the MQLs answered in 90 s), so a store can keep
//! one row per (day, path) and add to it, and percentiles stay exact (durations are counted
//! per whole second, as the report computes them). The fold stays the source of truth: a
//! property test says the days give the report of the leads, byte for byte.

use super::dimension::Dimension;
use super::open::open_clocks;
use super::report::{Counts, Tally};
use super::section::Periods;
use crate::calendar::{day_span, local_midnight};
use crate::lead::Lead;
use crate::policy::Judge;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Whether nothing `lead` adds to a report changes with time from `now` until its next
/// event: no clock of its current cycle runs (see the module's doc).
pub fn settled(lead: &Lead, judge: &dyn Judge, now: DateTime<Utc>) -> bool {
    open_clocks(lead, judge, now).is_empty()
}

/// Counts per reporting day, flat: day → path → count. What one lead adds, or the sum over
/// many; a difference of two (see [`Facts::diff`]) may hold negative counts.
/// Serialized as that map (`{"2026-12-01": {"[\"overall\",\"mqls\"]": 3}}`), for a store to log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Facts(BTreeMap<NaiveDate, BTreeMap<String, i64>>);

/// Facts a store could not turn back into counts: a path or value no release wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored report facts do not read as counts: {0}")]
pub struct FactsError(String);

impl Facts {
    /// What `lead`, settled at `now`, adds to each reporting day of `tz`.
    pub fn of_lead(lead: &Lead, judge: &dyn Judge, tz: Tz, now: DateTime<Utc>) -> Facts {
        let mut facts = Facts::default();
        for day in days_of(lead, tz) {
            let (from, to) = day_span(tz, day);
            let mut counts = Counts::default();
            counts.add(
                std::slice::from_ref(lead),
                judge,
                now,
                &Periods::day(from, to),
                &Dimension::ALL,
            );
            let flat = facts.0.entry(day).or_default();
            // Through JSON text and a streaming walk of it: no tree of values is built.
            let text = serde_json::to_string(&counts).unwrap_or_default();
            let mut walk = serde_json::Deserializer::from_str(&text);
            let _ = serde::de::DeserializeSeed::deserialize(
                Flatten {
                    path: &mut String::from("["),
                    out: flat,
                },
                &mut walk,
            );
        }
        facts.0.retain(|_, flat| !flat.is_empty());
        facts
    }

    /// The facts as `(day, path, count)`, for a store to keep.
    pub fn entries(&self) -> impl Iterator<Item = (NaiveDate, &str, i64)> {
        self.0
            .iter()
            .flat_map(|(d, flat)| flat.iter().map(move |(p, n)| (*d, p.as_str(), *n)))
    }

    /// Facts from a store's `(day, path, count)` entries; entries of one (day, path) add up.
    pub fn from_entries(entries: impl IntoIterator<Item = (NaiveDate, String, i64)>) -> Facts {
        let mut facts = Facts::default();
        for (day, path, n) in entries {
            *facts.0.entry(day).or_default().entry(path).or_default() += n;
        }
        facts.prune();
        facts
    }

    /// Adds `other` (`sign` +1), or takes it out (`sign` −1); a count that comes to zero goes
    /// (only `other`'s are looked at, so summing many leads' facts stays linear).
    fn combine(&mut self, other: &Facts, sign: i64) {
        for (day, flat) in &other.0 {
            self.add_to_day(*day, flat, sign);
        }
    }

    /// Adds `flat`'s counts times `sign` to `day`'s; a count (or a day) that comes to zero goes.
    fn add_to_day(&mut self, day: NaiveDate, flat: &BTreeMap<String, i64>, sign: i64) {
        let mine = self.0.entry(day).or_default();
        for (path, n) in flat {
            let count = match mine.get_mut(path.as_str()) {
                Some(count) => count,
                None => mine.entry(path.clone()).or_default(),
            };
            *count += sign * n;
            if *count == 0 {
                mine.remove(path.as_str());
            }
        }
        if mine.is_empty() {
            self.0.remove(&day);
        }
    }

    pub fn add(&mut self, other: &Facts) {
        self.combine(other, 1);
    }

    /// Adds every count of `other`, whatever its day, onto `day`: a period's sum in the room
    /// of its distinct figures rather than of its days × figures.
    pub fn add_on(&mut self, day: NaiveDate, other: &Facts) {
        for flat in other.0.values() {
            self.add_to_day(day, flat, 1);
        }
    }

    /// These facts as one day's: every count on `day` ([`Facts::add_on`]).
    pub fn collapsed(&self, day: NaiveDate) -> Facts {
        let mut out = Facts::default();
        out.add_on(day, self);
        out
    }

    pub fn subtract(&mut self, other: &Facts) {
        self.combine(other, -1);
    }

    /// What turns `old` into `new`: the change a store applies to its days when a lead's
    /// facts change (only the paths that changed).
    pub fn diff(old: &Facts, new: &Facts) -> Facts {
        let mut d = new.clone();
        d.subtract(old);
        d
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The facts of the days in `[first, end)` only.
    pub fn between(&self, first: NaiveDate, end: NaiveDate) -> Facts {
        if first >= end {
            return Facts::default();
        }
        Facts(self.0.range(first..end).map(|(d, flat)| (*d, flat.clone())).collect())
    }

    /// These facts without the groups of dimensions other than `dims`: what a report by
    /// `dims` reads (a store may leave the others out).
    pub fn only(&self, dims: &[Dimension]) -> Facts {
        let kept: Vec<String> = dims.iter().map(|d| group_prefix(*d)).collect();
        let keep = |path: &str| !path.starts_with(GROUPS) || kept.iter().any(|k| path.starts_with(k.as_str()));
        let mut out = self.clone();
        for flat in out.0.values_mut() {
            flat.retain(|path, _| keep(path));
        }
        out.prune();
        out
    }

    /// The days with any count.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.0.keys().copied()
    }

    fn prune(&mut self) {
        for flat in self.0.values_mut() {
            flat.retain(|_, n| *n != 0);
        }
        self.0.retain(|_, flat| !flat.is_empty());
    }

    /// The counts of the days in `[first, end)`, summed.
    fn counts(&self, first: NaiveDate, end: NaiveDate) -> Result<Counts, FactsError> {
        let mut sum: BTreeMap<&str, i64> = BTreeMap::new();
        for (_, flat) in self.0.range(first..end) {
            for (path, n) in flat {
                *sum.entry(path.as_str()).or_default() += n;
            }
        }
        let mut root = Value::Object(Map::new());
        for (path, n) in sum {
            let n = u64::try_from(n).map_err(|_| FactsError(format!("{path} is {n}")))?;
            let keys: Vec<String> = serde_json::from_str(path).map_err(|_| FactsError(path.to_owned()))?;
            insert(&mut root, &keys, n).ok_or_else(|| FactsError(path.to_owned()))?;
        }
        serde_json::from_value(root).map_err(|e| FactsError(e.to_string()))
    }
}

/// How every path of a group starts (`["groups",`), and those of one dimension's groups.
pub const GROUPS: &str = r#"["groups","#;

/// How the paths of `dim`'s groups start: `["groups","owner",`.
pub fn group_prefix(dim: Dimension) -> String {
    format!(r#"{GROUPS}"{}","#, dim.as_str())
}

/// The reporting days a lead can add to: those of each cycle's engagement, first assignment
/// and assignments (every cohort a report counts is one of these).
fn days_of(lead: &Lead, tz: Tz) -> BTreeSet<NaiveDate> {
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    lead.cycles
        .iter()
        .flat_map(|c| {
            let assigned = c.stints.iter().map(|s| s.assigned_at);
            std::iter::once(c.engaged_at)
                .chain(c.first_assigned_at())
                .chain(assigned)
        })
        .map(day)
        .collect()
}

/// Puts each non-zero number of a JSON value under its path of keys (a JSON array of strings,
/// written as `serde_json` writes one: `path` holds it so far, from its `[`), as it is read.
struct Flatten<'a> {
    path: &'a mut String,
    out: &'a mut BTreeMap<String, i64>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Flatten<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("counts")
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        if let Some(n) = i64::try_from(n).ok().filter(|n| *n != 0) {
            self.out.insert(format!("{}]", self.path), n);
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let len = self.path.len();
            if len > 1 {
                self.path.push(',');
            }
            push_json_string(self.path, &key);
            map.next_value_seed(Flatten {
                path: &mut *self.path,
                out: &mut *self.out,
            })?;
            self.path.truncate(len);
        }
        Ok(())
    }

    // Counts hold only objects and counts; anything else is no count.
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Writes `s` as a JSON string, as `serde_json` does (only what needs it escaped).
fn push_json_string(out: &mut String, s: &str) {
    if s.chars().any(|c| c == '"' || c == '\\' || c < ' ') {
        out.push_str(&Value::from(s).to_string());
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// Puts `n` at `keys` under `root`, making the objects on the way; `None` when a key is taken
/// by a count already.
fn insert(root: &mut Value, keys: &[String], n: u64) -> Option<()> {
    let (last, parents) = keys.split_last()?;
    let mut at = root;
    for k in parents {
        at = at
            .as_object_mut()?
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    at.as_object_mut()?.insert(last.clone(), Value::from(n));
    Some(())
}

/// The reporting days a tally's period and the one before it are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactDays {
    /// First whole day of the period before.
    pub previous: NaiveDate,
    /// First day of the period.
    pub first: NaiveDate,
    /// The day after the period's last.
    pub end: NaiveDate,
    /// Where the period before starts off a local midnight (the period crosses a DST change,
    /// so the one of equal length before it starts an hour off): its MQLs engaged between its
    /// start and the nearer midnight, which whole days cannot say.
    pub edge: Option<Edge>,
}

/// The part of a day at the start of the period before that its whole days miss (`adds`: it
/// starts before `previous`) or count too many (it starts after `previous`'s midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub adds: bool,
}

impl Tally<'_> {
    /// The days whose facts this report adds up, when its period is whole days of `tz`
    /// (`None` otherwise: the host reads the leads instead). The period before is of equal
    /// length, so across a DST change it starts an hour off a midnight: its whole days, and the
    /// [`Edge`] between its start and the nearer midnight.
    pub fn fact_days(&self, tz: Tz) -> Option<FactDays> {
        let p = self.periods();
        let day = |t: DateTime<Utc>| Some(t.with_timezone(&tz).date_naive()).filter(|d| local_midnight(tz, *d) == t);
        let (first, end) = (day(p.from)?, day(p.to)?);
        let start = p.previous().0;
        let on = start.with_timezone(&tz).date_naive();
        let (midnight, next) = (local_midnight(tz, on), local_midnight(tz, on.succ_opt()?));
        let (previous, edge) = match () {
            _ if midnight == start => (on, None),
            _ if start - midnight <= next - start => (
                on,
                Some(Edge {
                    from: midnight,
                    to: start,
                    adds: false,
                }),
            ),
            _ => (
                on.succ_opt()?,
                Some(Edge {
                    from: start,
                    to: next,
                    adds: true,
                }),
            ),
        };
        let days = FactDays {
            previous,
            first,
            end,
            edge,
        };
        (days.previous <= days.first && days.first <= days.end).then_some(days)
    }

    /// Adds the settled leads' `facts` of `days` (see [`Tally::fact_days`]): the period's days
    /// to every figure, the days before as the MQLs of the period before. `at_edge` are the
    /// leads whose facts are in `facts` with a cycle engaged in the days' [`Edge`], if any (the
    /// others are read in full and counted by [`Tally::add`], which knows the period before
    /// to the second). The leads read beside the facts (open ones, and those whose facts are
    /// not in the days) are added with [`Tally::add`] as ever.
    pub fn add_facts(&mut self, facts: &Facts, days: FactDays, at_edge: &[Lead]) -> Result<(), FactsError> {
        debug_assert!(self.is_unscoped(), "a scoped report reads its leads");
        let dims = self.dims();
        let mut previous = facts.counts(days.previous, days.first)?;
        if let Some(e) = days.edge {
            let mut edge = Counts::default();
            edge.add(at_edge, self.judge(), self.now(), &Periods::day(e.from, e.to), &dims);
            previous.shift_mqls(&edge, &dims, e.adds)?;
        }
        let period = facts.counts(days.first, days.end)?;
        let counts = self.counts_mut();
        counts.merge_as_previous(&previous, &dims);
        counts.merge(period.only(&dims));
        Ok(())
    }
}

impl Counts {
    /// Adds `o`'s MQLs (overall and per group of `dims`) to these, or takes them out: what an
    /// [`Edge`] changes of the MQLs of the days before.
    fn shift_mqls(&mut self, o: &Counts, dims: &[Dimension], adds: bool) -> Result<(), FactsError> {
        let shift = |n: &mut u64, by: u64| -> Result<(), FactsError> {
            *n = match adds {
                true => n.checked_add(by),
                false => n.checked_sub(by),
            }
            .ok_or_else(|| FactsError(format!("{by} MQLs at the edge of {n}")))?;
            Ok(())
        };
        shift(&mut self.overall.mqls, o.overall.mqls)?;
        for dim in dims {
            let mine = self.groups.entry(*dim).or_default();
            for (k, g) in o.groups.get(dim).into_iter().flatten() {
                shift(&mut mine.entry(k.clone()).or_default().mqls, g.mqls)?;
            }
        }
        Ok(())
    }

    /// These counts with the groups of `dims` only.
    fn only(mut self, dims: &[Dimension]) -> Counts {
        self.groups.retain(|d, _| dims.contains(d));
        self
    }
}
