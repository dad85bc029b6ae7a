//! Small readers shared by the JSON and XML parsers: vendor timestamps and ids.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// Epoch milliseconds (HubSpot `occurredAt`, property values of type datetime).
pub fn from_epoch_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms)
}

/// An instant with an explicit offset: RFC 3339 (`2024-06-10T14:05:00.000Z`,
/// `2024-06-10T10:05:00.000000-04:00`) or Salesforce's `+0000` form.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Epoch ms as a number or a numeric string, or an RFC 3339 instant.
pub fn json_instant(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n.as_i64().and_then(from_epoch_ms),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(ms) => from_epoch_ms(ms),
            Err(_) => parse_instant(s),
        },
        _ => None,
    }
}

/// An id that vendors send either as a JSON number or as a string.
pub fn json_id(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// A scalar as text, the way it would be shown (`null` → `None`).
pub fn json_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// RFC 3339 with milliseconds, `Z`: how a date-valued property is rendered.
pub fn render_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM:SS`, no offset (read with a time zone by the caller).
pub fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 5] = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ];
    let s = s.trim();
    FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        let t = parse_instant("2024-06-10T10:05:00.000000-04:00").unwrap();
        assert_eq!(render_instant(t), "2024-06-10T14:05:00.000Z");
        assert_eq!(parse_instant("2024-06-10T14:05:00.000+0000"), Some(t));
        assert_eq!(json_instant(&Value::from(1_718_028_300_000_i64)), Some(t));
        assert_eq!(json_instant(&Value::from("1718028300000")), Some(t));
        assert_eq!(parse_instant("2024-06-10 14:05"), None);
        assert!(parse_naive("2026-11-23 10:15").is_some());
        assert_eq!(json_id(&Value::from(42)), Some("42".into()));
        assert_eq!(json_id(&Value::from(-1)), None);
    }
}
