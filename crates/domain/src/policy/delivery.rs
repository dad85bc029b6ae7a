//! `[delivery]`, and the `stale_after` / `mode` keys ladders, SLAs and teams may carry.

use super::problems::Problems;
use super::raw::{RawDelivery, Text};
use super::{parse_duration, Delivery, Mode};
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
