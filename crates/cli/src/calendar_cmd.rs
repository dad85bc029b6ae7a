//! `leadclock calendar due|elapsed`: business-hours arithmetic from the command line.

use chrono::{DateTime, SecondsFormat, Utc};
use clap::Subcommand;
use leadclock_domain::policy::{parse_calendars, parse_duration, report_problems};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CalendarCmd {
    /// Print the instant when DURATION of open time has passed since START (RFC 3339).
    Due {
        #[command(flatten)]
        on: On,
        /// A duration like 90s, 5m, 1h30m.
        #[arg(long)]
        within: String,
    },
    /// Print the open business seconds between START and END.
    Elapsed {
        #[command(flatten)]
        on: On,
        #[arg(long)]
        end: String,
    },
}

/// Which calendar, and from when.
#[derive(clap::Args)]
pub struct On {
    /// Any TOML file with [calendars.NAME] tables.
    #[arg(long)]
    policy: PathBuf,
    #[arg(long)]
    calendar: String,
    /// RFC 3339 with an offset.
    #[arg(long)]
    start: String,
}

fn instant(name: &str, s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("--{name} {s:?} must be RFC 3339 with an offset, like 2026-11-23T10:00:00-05:00"))
}

fn calendar(policy: &PathBuf, name: &str) -> Result<leadclock_domain::Calendar, String> {
    let src = std::fs::read_to_string(policy).map_err(|e| format!("cannot read {}: {e}", policy.display()))?;
    let mut cals = parse_calendars(&src).map_err(|ps| report_problems(&policy.display().to_string(), &ps))?;
    let known: Vec<String> = cals.keys().cloned().collect();
    cals.remove(name).ok_or_else(|| {
        format!(
            "no calendar {name:?} in {}; it has {}",
            policy.display(),
            known.join(", ")
        )
    })
}

pub fn run(cmd: CalendarCmd) -> Result<(), String> {
    match cmd {
        CalendarCmd::Due { on, within } => {
            let cal = calendar(&on.policy, &on.calendar)?;
            let start = instant("start", &on.start)?;
            let d = parse_duration(&within).map_err(|e| format!("--within {e}"))?;
            let due = cal.due(start, d).map_err(|e| e.to_string())?;
            println!(
                "{}",
                due.with_timezone(&cal.tz).to_rfc3339_opts(SecondsFormat::Secs, true)
            );
        }
        CalendarCmd::Elapsed { on, end } => {
            let cal = calendar(&on.policy, &on.calendar)?;
            let (s, e) = (instant("start", &on.start)?, instant("end", &end)?);
            println!("{}", cal.elapsed(s, e).num_seconds());
        }
    }
    Ok(())
}
