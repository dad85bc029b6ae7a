//! Dates in export files: an instant with an offset (Salesforce Data Loader writes UTC,
//! `2024-06-10T13:58:00.000Z`), or a local time (HubSpot writes `2026-11-23 10:15` in the
//! exporting user's time zone) read in the zone the uploader names.

use crate::wire::{parse_instant, parse_naive};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Reads export dates; `tz` is the zone of times written without an offset.
#[derive(Debug, Clone, Copy, Default)]
pub struct DateReader {
    pub tz: Option<Tz>,
}

impl DateReader {
    pub fn read(&self, s: &str) -> Result<DateTime<Utc>, String> {
        if let Some(t) = parse_instant(s) {
            return Ok(t);
        }
        let naive = parse_naive(s).or_else(|| {
            let date = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
            date.and_hms_opt(0, 0, 0)
        });
        let Some(naive) = naive else {
            return Err(format!(
                "{s:?} is not a date (ISO 8601 with offset, or YYYY-MM-DD HH:MM)"
            ));
        };
        let Some(tz) = self.tz else {
            return Err(format!("{s:?} has no offset: give the export's time zone (--tz)"));
        };
        local(tz, naive, s)
    }
}

fn local(tz: Tz, naive: NaiveDateTime, s: &str) -> Result<DateTime<Utc>, String> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(_, _) => Err(format!("{s:?} happens twice in {tz} (clocks went back): add an offset")),
        LocalResult::None => Err(format!("{s:?} does not exist in {tz} (clocks went forward)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_local_times_and_dst() {
        let utc = DateReader::default();
        assert_eq!(
            utc.read("2024-06-10T13:58:00.000Z").unwrap().to_rfc3339(),
            "2024-06-10T13:58:00+00:00"
        );
        assert!(utc.read("2026-11-23 10:15").unwrap_err().contains("--tz"));
        let ny = DateReader {
            tz: Some(chrono_tz::America::New_York),
        };
        assert_eq!(
            ny.read("2026-11-23 10:15").unwrap().to_rfc3339(),
            "2026-11-23T15:15:00+00:00"
        );
        assert_eq!(ny.read("2026-11-23").unwrap().to_rfc3339(), "2026-11-23T05:00:00+00:00");
        assert!(ny.read("2026-11-01 01:30").unwrap_err().contains("twice"));
        assert!(ny.read("2026-03-08 02:30").unwrap_err().contains("does not exist"));
        assert!(ny.read("23/11/2026").unwrap_err().contains("not a date"));
    }
}
