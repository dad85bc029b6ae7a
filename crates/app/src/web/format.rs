//! How figures read on a page: rates with their band (or why none), durations, badges. The
//! words are the reports' own ([`crate::report_format`]), so a page and a report never disagree.

use crate::report_format::{dur, pct, verdict};
use leadclock_domain::clock::human_duration;
use leadclock_domain::metrics::{Band, Held, Rate, Stats, Timing};
use maud::{html, Markup};

/// A band badge: the band's own class, or `held` with the reason ("in progress", "too few").
pub fn badge(band: Option<Band>, held: Option<Held>) -> Markup {
    let v = verdict(band, held);
    let (class, text) = match v {
        "in_progress" => ("held", "in progress"),
        "small_sample" => ("held", "too few to band"),
        "n/a" => return html! {},
        other => (other, other),
    };
    html! { span class={ "badge " (class) } { (text.replace('_', " ")) } }
}

/// A rate with its figures and badge: "72.0% (36/50)" and "good".
pub fn rate(r: &Rate) -> Markup {
    html! { (pct(r)) " " (badge(r.band, r.held)) }
}

/// Median and p90 of a timing in business time, with the count.
pub fn timing(t: &Timing) -> Markup {
    html! { (stats(&t.business)) " " (badge(t.band, t.held)) }
}

pub fn stats(s: &Stats) -> String {
    format!("median {} · p90 {} (n={})", dur(s.median), dur(s.p90), s.count)
}

/// Business time to a deadline: "25m left", or "breached 1h 5m ago" once past.
pub fn to_breach(seconds_left: Option<i64>) -> String {
    match seconds_left {
        None => "calendar never opens".into(),
        Some(s) if s >= 0 => format!("{} left", human_duration(s)),
        Some(s) => format!("breached {} ago", human_duration(-s)),
    }
}

/// A lead id as one path segment: everything but unreserved characters percent-encoded.
/// The relative link to a lead's page from a page at the root, or none for an id a URL cannot
/// carry as one segment: `.` and `..` (escaped or not) are dot segments a browser resolves away.
pub fn lead_href(root: &str, id: &str) -> Option<String> {
    (!matches!(id, "." | "..")).then(|| format!("{root}leads/{}", path_segment(id)))
}

fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_ids_travel_as_one_segment() {
        assert_eq!(path_segment("L-1"), "L-1");
        assert_eq!(path_segment("a/b?c#d%"), "a%2Fb%3Fc%23d%25");
        assert_eq!(lead_href("../", "L 1").as_deref(), Some("../leads/L%201"));
        assert_eq!(lead_href("", ".."), None);
        assert_eq!(lead_href("", "."), None);
        assert_eq!(lead_href("", "...").as_deref(), Some("leads/..."));
    }

    #[test]
    fn breach_reads_both_ways() {
        assert_eq!(to_breach(Some(0)), format!("{} left", human_duration(0)));
        assert!(to_breach(Some(-3900)).starts_with("breached "));
        assert_eq!(to_breach(None), "calendar never opens");
    }
}
