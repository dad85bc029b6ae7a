//! `leadclock import`: a CRM's history into the local store or a deployed stack (`--url`), as
//! history (nothing is delivered).
//! CSV exports are read with a column mapping (the shipped HubSpot and Salesforce ones, detected
//! from the header, or `--mapping FILE`) into CRM facts, and the facts into events by the same
//! mapper the CRM hooks use; JSON-lines files hold the batch route's items, one per line. Every
//! file of one run is read before anything is stored, so a Salesforce Lead, LeadHistory and Task
//! set is mapped together. Bad rows are reported by file, line and column; the good ones are
//! stored. Events keep their source's ids, so importing the same files again changes nothing.

use crate::upload::{self, Progress};
use clap::Args;
use leadclock_app::error::HttpError;
use leadclock_app::inbound::batch::{self, MAX_ITEMS};
use leadclock_app::inbound::crm::{self, Skipped};
use leadclock_app::policy_file::load;
use leadclock_app::ports::SystemClock;
use leadclock_app::App;
use leadclock_crm::export::{self, DateReader, ImportOptions, Mapping};
use leadclock_crm::Batch;
use leadclock_domain::{Event, Origin, Policy};
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::SqliteStore;
use leadclock_local::timers::LocalTimers;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ImportArgs {
    /// CSV exports (HubSpot contacts; Salesforce Lead, LeadHistory, Task) and .jsonl files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, default_value = crate::DEFAULT_POLICY)]
    policy: PathBuf,
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// A column mapping for every CSV: a shipped name (hubspot-contacts, salesforce-lead,
    /// salesforce-leadhistory, salesforce-task) or a TOML file. Default: detected per file.
    #[arg(long)]
    mapping: Option<String>,
    /// The HubSpot portal id or Salesforce organization id the CSVs come from.
    #[arg(long)]
    account: Option<String>,
    /// The time zone of dates written without an offset (HubSpot's exports), e.g. America/New_York.
    #[arg(long)]
    tz: Option<String>,
    /// Read, map and report; store nothing.
    #[arg(long)]
    dry_run: bool,
    /// A deployed stack's base URL (its `ApiUrl` output): the events go to its
    /// `POST /v1/events/batch`, signed with the first secret in `LEADCLOCK_WEBHOOK_SECRETS`,
    /// instead of into `--data`.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// One refused row or line.
struct Bad {
    file: String,
    line: u64,
    column: String,
    reason: String,
}

/// What the files hold, before anything is stored.
#[derive(Default)]
struct Read {
    events: Vec<Event>,
    facts: Batch,
    rows: usize,
    bad: Vec<Bad>,
}

const SHIPPED: [(&str, &str); 4] = [
    ("hubspot-contacts", export::HUBSPOT_CONTACTS),
    ("salesforce-lead", export::SALESFORCE_LEAD),
    ("salesforce-leadhistory", export::SALESFORCE_LEAD_HISTORY),
    ("salesforce-task", export::SALESFORCE_TASK),
];

/// Imports the files; `Ok(true)` when some rows were refused (the rest is stored).
pub fn run(args: &ImportArgs) -> Result<bool, String> {
    let policy = load(&args.policy)?;
    let now = chrono::Utc::now();
    let mut read = Read::default();
    for file in &args.files {
        if is_jsonl(file) {
            read_jsonl(file, &policy, now, &mut read)?;
        } else {
            read_csv(file, args, &mut read)?;
        }
    }
    let mapped = crm::map(&std::mem::take(&mut read.facts).sorted(), &policy, Origin::History, now);
    read.events.extend(mapped.events);
    print_read(&read, &mapped.skipped);
    print_unknown_owners(&read.events, &policy);
    if args.dry_run {
        return Ok(!read.bad.is_empty());
    }
    let events = std::mem::take(&mut read.events);
    let refused = match &args.url {
        Some(url) => send(url, &events)?,
        None => {
            let _lock = leadclock_local::lock::DataDirLock::acquire(&args.data)
                .map_err(|e| format!("{e} (stop the server to import, or import with --url)"))?;
            store(&args.data, &args.policy, events)?;
            0
        }
    };
    Ok(!read.bad.is_empty() || refused > 0)
}

fn is_jsonl(file: &Path) -> bool {
    matches!(file.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"))
}

fn read_csv(file: &Path, args: &ImportArgs, read: &mut Read) -> Result<(), String> {
    let text = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mapping = match &args.mapping {
        Some(m) => named_mapping(m)?,
        None => detect(&text).ok_or_else(|| {
            format!(
                "{}: the header matches none of the shipped mappings; pass --mapping",
                file.display()
            )
        })?,
    };
    let account = args
        .account
        .clone()
        .ok_or("--account (the HubSpot portal id or Salesforce organization id) is needed for CSV exports")?;
    let tz = match &args.tz {
        Some(z) => Some(z.parse().map_err(|_| format!("--tz {z:?} is not a time zone name"))?),
        None => None,
    };
    let opts = ImportOptions {
        account,
        dates: DateReader { tz },
    };
    let import = export::import(&mapping, &opts, text.as_slice()).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("{}: {} rows ({})", file.display(), import.rows, mapping.name);
    read.rows += import.rows;
    read.bad.extend(import.errors.into_iter().map(|e| Bad {
        file: file.display().to_string(),
        line: e.line,
        column: e.column,
        reason: e.reason,
    }));
    read.facts.facts.extend(import.facts.facts);
    read.facts.ignored.extend(import.facts.ignored);
    Ok(())
}

fn named_mapping(m: &str) -> Result<Mapping, String> {
    let text = match SHIPPED.iter().find(|(name, _)| *name == m) {
        Some((_, text)) => (*text).to_owned(),
        None => std::fs::read_to_string(m).map_err(|e| format!("--mapping {m}: not a shipped mapping, and {e}"))?,
    };
    Mapping::from_toml(&text).map_err(|e| format!("--mapping {m}: {e}"))
}

/// The shipped mapping whose columns the file's header has (the most specific, if several).
fn detect(text: &[u8]) -> Option<Mapping> {
    let header = csv::ReaderBuilder::new().from_reader(text).headers().ok()?.clone();
    let has = |c: &str| {
        header
            .iter()
            .any(|h| h.trim_start_matches('\u{feff}').trim().eq_ignore_ascii_case(c))
    };
    SHIPPED
        .iter()
        .filter_map(|(_, text)| Mapping::from_toml(text).ok())
        .filter(|m| m.columns().iter().all(|c| has(c)))
        .max_by_key(|m| m.columns().len())
}

/// Each line a batch item; every event is history.
fn read_jsonl(file: &Path, policy: &Policy, now: chrono::DateTime<chrono::Utc>, read: &mut Read) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut rows = 0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        rows += 1;
        let item = serde_json::from_str(line)
            .map_err(|e| leadclock_app::error::IngestError::Malformed(format!("not JSON: {e}")))
            .and_then(|v| batch::item(&v, policy, now));
        match item {
            Ok(mut event) => {
                event.origin = Origin::History;
                read.events.push(event);
            }
            Err(e) => read.bad.push(Bad {
                file: file.display().to_string(),
                line: i as u64 + 1,
                column: e.body().error.field.unwrap_or_default(),
                reason: e.to_string(),
            }),
        }
    }
    println!("{}: {rows} lines (leadclock JSON lines)", file.display());
    read.rows += rows;
    Ok(())
}

fn print_read(read: &Read, skipped: &[Skipped]) {
    for b in &read.bad {
        println!("  refused {}:{} column {:?}: {}", b.file, b.line, b.column, b.reason);
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for s in skipped {
        *reasons.entry(s.reason.as_str()).or_default() += 1;
    }
    for (reason, n) in &reasons {
        println!("  skipped {n} fact(s): {reason}");
    }
    println!(
        "read {} rows: {} events, {} row(s) refused, {} fact(s) with no SLA meaning",
        read.rows,
        read.events.len(),
        read.bad.len(),
        skipped.len()
    );
}

/// Owners the events assign who are not in the policy's directory: clocked all the same, but
/// nobody can be paged for them by name and they have no team, so the import says who.
fn print_unknown_owners(events: &[Event], policy: &Policy) {
    let mut unknown: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        if let leadclock_domain::EventBody::Assignment(a) = &e.body {
            if !policy.directory.people.contains_key(&a.owner) {
                *unknown.entry(a.owner.as_str()).or_default() += 1;
            }
        }
    }
    for (owner, n) in &unknown {
        println!("  owner {owner:?} is not in [directory.people] ({n} assignment(s)): add them to name and page them");
    }
}

/// Uploads the events to a deployed stack; returns how many it refused.
fn send(url: &str, events: &[Event]) -> Result<usize, String> {
    let secret = upload::secret()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let t = rt.block_on(upload::upload(url, &secret, events))?;
    println!(
        "{} imported, {} unchanged (already stored), {} refused by the stack; nothing was delivered (history)",
        t.accepted, t.repeats, t.refused
    );
    Ok(t.refused)
}

/// Stores the events in batches, each lead reconciled once per batch, and writes the outcome
/// records (every step of history is `history`: nothing is delivered).
fn store(data: &Path, policy_file: &Path, events: Vec<Event>) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let store = SqliteStore::open(data).map_err(|e| e.to_string())?;
    let versions = crate::report_cmd::versions(&store, policy_file, &rt)?;
    rt.block_on(async {
        let (timers, _fired) = LocalTimers::start(SystemClock);
        let notifier = LocalNotifier::new(data, Webhooks::default(), false);
        let policy = versions.current().policy.clone();
        let app = App::new(policy, store, timers, notifier, SystemClock).with_versions(versions);
        let (mut accepted, mut repeats, mut leads) = (0, 0, 0);
        let mut progress = Progress::new(events.len());
        let mut chunks = events.into_iter().peekable();
        while chunks.peek().is_some() {
            let items: Vec<_> = chunks.by_ref().take(MAX_ITEMS).map(Ok).collect();
            let n = items.len();
            let out = app.receive_batch(items, false).await.map_err(|e| e.to_string())?;
            (accepted, repeats, leads) = (accepted + out.accepted, repeats + out.duplicates, leads + out.leads);
            progress.advance(n);
        }
        progress.finish();
        app.dispatch().await.map_err(|e| e.to_string())?;
        println!("{accepted} imported, {repeats} unchanged (already stored), on {leads} lead passes; nothing was delivered (history)");
        Ok(())
    })
}
