//! Business-hours arithmetic on arbitrary hours and instants: elapsed(t, due(t, d)) = d.
#![no_main]

use chrono::{DateTime, Duration};
use leadclock_domain::calendar::{Calendar, WallInterval};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let mut week: [Vec<WallInterval>; 7] = Default::default();
    for (i, pair) in data[8..].chunks(2).take(14).enumerate() {
        if pair.len() == 2 {
            let a = u16::from(pair[0]) * 6 % 1440;
            let b = (a + 1 + u16::from(pair[1]) * 6).min(1440);
            if week[i % 7].iter().all(|w| b <= w.start_min || a >= w.end_min) {
                week[i % 7].push(WallInterval {
                    start_min: a,
                    end_min: b,
                });
            }
        }
    }
    let zones = [
        chrono_tz::UTC,
        chrono_tz::America::New_York,
        chrono_tz::Europe::London,
        chrono_tz::Australia::Lord_Howe,
    ];
    let tz = zones[usize::from(data[0]) % zones.len()];
    let Ok(cal) = Calendar::new("fuzz", tz, week, []) else {
        return;
    };
    let secs = i64::from(u32::from_le_bytes([data[1], data[2], data[3], data[4]]));
    let start = DateTime::from_timestamp(1_700_000_000 + secs % 200_000_000, 0).unwrap();
    let d = Duration::seconds(i64::from(u16::from_le_bytes([data[5], data[6]])) * 60);
    if let Ok(due) = cal.due(start, d) {
        assert_eq!(cal.elapsed(start, due), d);
        assert!(due >= start);
    }
});
