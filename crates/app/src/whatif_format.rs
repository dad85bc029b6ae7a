//! The what-if for people: the policy in force and the proposed one, column by column.

use crate::report_format::{local, pct};
use chrono_tz::Tz;
use leadclock_domain::metrics::{Compliance, Judged, StepVolume, WhatIf};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

fn row(out: &mut String, name: &str, actual: String, proposed: String) {
    let _ = writeln!(out, "  {name:<28} {actual:<30} {proposed}");
}

fn compliance(c: Option<&Compliance>) -> String {
    c.map_or("—".into(), |c| pct(&c.rate))
}

fn steps(j: &Judged) -> BTreeMap<(String, u32), &StepVolume> {
    j.steps
        .iter()
        .map(|s| ((s.clock.as_str().to_owned(), s.step), s))
        .collect()
}

fn reps(j: &Judged) -> BTreeMap<&str, String> {
    j.reps
        .iter()
        .map(|r| {
            (
                r.owner.as_str(),
                r.score.map_or("n/a".into(), |s| format!("{s:.0} ({} leads)", r.leads)),
            )
        })
        .collect()
}

/// The readable what-if `leadclock whatif` prints by default.
pub fn table(w: &WhatIf, tz: Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "leadclock what-if {} → {}: the stored events under the policy in force and the proposed one\n",
        local(w.from, tz),
        local(w.to, tz)
    );
    row(&mut out, "SLA compliance", "in force".into(), "proposed".into());
    let types: BTreeSet<&String> = w.actual.compliance.keys().chain(w.proposed.compliance.keys()).collect();
    for t in types {
        row(
            &mut out,
            t,
            compliance(w.actual.compliance.get(t)),
            compliance(w.proposed.compliance.get(t)),
        );
    }
    row(
        &mut out,
        "overall (weighted)",
        compliance(Some(&w.actual.overall)),
        compliance(Some(&w.proposed.overall)),
    );
    let _ = writeln!(out, "\n  Escalation steps earned (leads)");
    let (a, p) = (steps(&w.actual), steps(&w.proposed));
    let keys: BTreeSet<&(String, u32)> = a.keys().chain(p.keys()).collect();
    for k in keys {
        let name = a.get(k).or_else(|| p.get(k)).map_or("", |s| s.name.as_str());
        let count = |m: &BTreeMap<(String, u32), &StepVolume>| m.get(k).map_or(0, |s| s.leads).to_string();
        row(
            &mut out,
            &format!("{} step {} ({name})", k.0, k.1),
            count(&a),
            count(&p),
        );
    }
    let _ = writeln!(out, "\n  Rep response scores");
    let (ra, rp) = (reps(&w.actual), reps(&w.proposed));
    let owners: BTreeSet<&&str> = ra.keys().chain(rp.keys()).collect();
    for o in owners {
        let get = |m: &BTreeMap<&str, String>| m.get(*o).cloned().unwrap_or_else(|| "—".into());
        row(&mut out, o, get(&ra), get(&rp));
    }
    out
}
