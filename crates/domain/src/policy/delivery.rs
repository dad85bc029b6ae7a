//! `[delivery]`, and the `stale_after` / `mode` keys ladders, SLAs and teams may carry.

use super::problems::Problems;
use super::raw::{Named, RawCrm, RawDelivery, RawPrivacy, RawReports, Text};
use super::{parse_duration, CrmStages, Delivery, Mode, Privacy, Reports};
use crate::event::StageChange;
use chrono::Duration;
use std::collections::BTreeMap;

/// The delivery rules, each defaulting when absent.
pub(super) fn delivery(raw: &RawDelivery, p: &mut Problems) -> Delivery {
    let d = Delivery::default();
    Delivery {
        settle: duration("delivery.settle", raw.settle.as_ref(), p).unwrap_or(d.settle),
        stale_after: duration("delivery.stale_after", raw.stale_after.as_ref(), p).unwrap_or(d.stale_after),
        mode: mode("delivery.mode", raw.mode.as_ref(), p).unwrap_or(d.mode),
    }
}

/// `[privacy]`: `contact_retention` and `raw_hooks` are each a duration or `"off"`.
pub(super) fn privacy(raw: &RawPrivacy, p: &mut Problems) -> Privacy {
    let d = Privacy::default();
    let path = "privacy.contact_retention";
    Privacy {
        contact_retention: days_or_off(path, raw.contact_retention.as_ref(), p).unwrap_or(d.contact_retention),
        raw_hooks: days_or_off("privacy.raw_hooks", raw.raw_hooks.as_ref(), p).unwrap_or(d.raw_hooks),
    }
}

/// Largest `min_sample` a policy may set: beyond it no team's period would ever be banded.
const MAX_MIN_SAMPLE: i64 = 10_000;

/// `[reports]`: `sales_cycle` of at least a day, `min_sample` from 1.
pub(super) fn reports(raw: &RawReports, p: &mut Problems) -> Reports {
    let d = Reports::default();
    let sales_cycle =
        days_or_off("reports.sales_cycle", raw.sales_cycle.as_ref(), p).map(|c| c.unwrap_or(Duration::zero()));
    let min_sample = raw.min_sample.as_ref().and_then(|n| {
        let ok = (1..=MAX_MIN_SAMPLE).contains(n.get_ref());
        if !ok {
            p.add(
                "reports.min_sample",
                n.span(),
                format!("must be from 1 to {MAX_MIN_SAMPLE}"),
            );
        }
        ok.then(|| *n.get_ref() as u64)
    });
    Reports {
        sales_cycle: sales_cycle.unwrap_or(d.sales_cycle),
        min_sample: min_sample.unwrap_or(d.min_sample),
    }
}

/// A key that is a duration of at least a day or `"off"` (`Some(None)`); `None` when absent
/// or bad (a bad one is a problem).
/// The longest of these durations a policy may set.
const MAX_DAYS: i64 = 36_500;

pub(super) fn days_or_off(path: &str, raw: Option<&Text>, p: &mut Problems) -> Option<Option<Duration>> {
    let t = raw?;
    if t.get_ref().trim() == "off" {
        return Some(None);
    }
    match duration(path, Some(t), p)? {
        d if d < Duration::days(1) => {
            p.add(path, t.span(), "must be at least 1 day (or \"off\")");
            None
        }
        // Counted from an instant (back from now, on from an engagement): one past the
        // calendar's range could not be.
        d if d > Duration::days(MAX_DAYS) => {
            p.add(path, t.span(), "must be at most 36500d (100 years), or \"off\"");
            None
        }
        d => Some(Some(d)),
    }
}

/// An optional duration key; a bad one is a problem and counts as absent.
pub(super) fn duration(path: &str, raw: Option<&Text>, p: &mut Problems) -> Option<Duration> {
    let raw = raw?;
    match parse_duration(raw.get_ref()) {
        Ok(d) => Some(d),
        Err(e) => {
            p.add(path, raw.span(), e);
            None
        }
    }
}

/// An optional `mode = "live" | "shadow"` key.
pub(super) fn mode(path: &str, raw: Option<&Text>, p: &mut Problems) -> Option<Mode> {
    let raw = raw?;
    let m = Mode::parse(raw.get_ref());
    if m.is_none() {
        p.add(
            path,
            raw.span(),
            format!("{:?} must be \"live\" or \"shadow\"", raw.get_ref()),
        );
    }
    m
}

/// `[crm]`: each table, when written, replaces that CRM's default map; every value must name a
/// stage.
pub(super) fn crm(raw: &RawCrm, p: &mut Problems) -> CrmStages {
    let d = CrmStages::default();
    let table = |name: &str, t: Option<&Named<Text>>, default: BTreeMap<String, StageChange>, p: &mut Problems| {
        let Some(t) = t else { return default };
        let mut out = BTreeMap::new();
        for (value, stage) in t {
            match StageChange::parse(stage.get_ref()) {
                Some(s) => {
                    out.insert(value.get_ref().clone(), s);
                }
                None => p.add(
                    format!("crm.{name}.{}", value.get_ref()),
                    stage.span(),
                    format!(
                        "{:?} is not a stage; expected one of {}",
                        stage.get_ref(),
                        StageChange::ALL.map(StageChange::as_str).join(", ")
                    ),
                ),
            }
        }
        out
    };
    CrmStages {
        hubspot_lead_status: table(
            "hubspot_lead_status",
            raw.hubspot_lead_status.as_ref(),
            d.hubspot_lead_status,
            p,
        ),
        salesforce_status: table(
            "salesforce_status",
            raw.salesforce_status.as_ref(),
            d.salesforce_status,
            p,
        ),
    }
}
