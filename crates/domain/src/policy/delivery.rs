//! `[delivery]`, and the `stale_after` / `mode` keys ladders, SLAs and teams may carry.

use super::problems::Problems;
use super::raw::{RawDelivery, RawPrivacy, Text};
use super::{parse_duration, Delivery, Mode, Privacy};
use chrono::Duration;

/// The delivery rules, each defaulting when absent.
pub(super) fn delivery(raw: &RawDelivery, p: &mut Problems) -> Delivery {
    let d = Delivery::default();
    Delivery {
        settle: duration("delivery.settle", raw.settle.as_ref(), p).unwrap_or(d.settle),
        stale_after: duration("delivery.stale_after", raw.stale_after.as_ref(), p).unwrap_or(d.stale_after),
        mode: mode("delivery.mode", raw.mode.as_ref(), p).unwrap_or(d.mode),
    }
}

/// `[privacy]`: `contact_retention` is a duration or `"off"`.
pub(super) fn privacy(raw: &RawPrivacy, p: &mut Problems) -> Privacy {
    let d = Privacy::default();
    let contact_retention = match raw.contact_retention.as_ref() {
        None => d.contact_retention,
        Some(t) if t.get_ref().trim() == "off" => None,
        Some(t) => match duration("privacy.contact_retention", Some(t), p) {
            Some(r) if r < chrono::Duration::days(1) => {
                p.add(
                    "privacy.contact_retention",
                    t.span(),
                    "must be at least 1 day (or \"off\")",
                );
                d.contact_retention
            }
            Some(r) => Some(r),
            None => d.contact_retention,
        },
    };
    Privacy { contact_retention }
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
