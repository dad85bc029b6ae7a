//! `leadclock forget`: erases one person's personal data from the local store (by lead id or
//! email), or runs the retention pass now. The anonymous timeline and every metric stay. With
//! the server running, call `POST /v1/privacy/erasure` instead (the store is the server's).

use leadclock_app::handlers::privacy::{ContactEmail, PrivacyError, Subject};
use leadclock_app::ports::SystemClock;
use leadclock_app::App;
use leadclock_domain::LeadId;
use leadclock_local::notify::{LocalNotifier, Webhooks};
use leadclock_local::store::SqliteStore;
use leadclock_local::timers::LocalTimers;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ForgetArgs {
    /// A lead whose personal data to erase (repeatable).
    #[arg(long = "lead", value_name = "LEAD_ID")]
    leads: Vec<String>,
    /// An email whose leads' personal data to erase, matched case-insensitively (repeatable).
    #[arg(long = "email", value_name = "ADDRESS")]
    emails: Vec<String>,
    /// Run the retention pass now: erase every lead quiet for longer than the policy's
    /// `[privacy] contact_retention`.
    #[arg(long)]
    expired: bool,
    #[arg(long, default_value = crate::DEFAULT_POLICY)]
    policy: PathBuf,
    #[arg(long, default_value = "data")]
    data: PathBuf,
}

/// The subjects named on the command line, each checked; a bad one stops before anything is erased.
fn subjects(args: &ForgetArgs) -> Result<Vec<(String, Subject)>, String> {
    let leads = args.leads.iter().map(|l| {
        LeadId::parse(l)
            .map(|id| (format!("lead {id}"), Subject::Lead(id)))
            .map_err(|e| format!("--lead {l:?}: {}", e.0))
    });
    // An email is personal data: the output names it by position, not by value.
    let emails = args.emails.iter().enumerate().map(|(i, e)| {
        ContactEmail::parse(e)
            .map(|m| (format!("email #{}", i + 1), Subject::Email(m)))
            .map_err(|why| format!("--email #{}: {why}", i + 1))
    });
    leads.chain(emails).collect()
}

/// Erases what `args` names; `Ok(false)` when a subject matched no stored lead.
pub fn run(args: &ForgetArgs) -> Result<bool, String> {
    let subjects = subjects(args)?;
    if subjects.is_empty() && !args.expired {
        return Err("name what to erase: --lead ID, --email ADDRESS, or --expired".into());
    }
    let _lock = leadclock_local::lock::DataDirLock::acquire(&args.data)
        .map_err(|e| format!("{e} (the server is running: use POST /v1/privacy/erasure)"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let store = SqliteStore::open(&args.data).map_err(|e| e.to_string())?;
    let versions = crate::report_cmd::versions(&store, &args.policy, &rt)?;
    rt.block_on(async {
        let (timers, _fired) = LocalTimers::start(SystemClock);
        let notifier = LocalNotifier::new(&args.data, Webhooks::default(), false);
        let policy = versions.current().policy.clone();
        let app = App::new(policy, store, timers, notifier, SystemClock).with_versions(versions);
        let mut all_found = true;
        for (label, subject) in &subjects {
            match app.erase(subject).await {
                Ok(done) => println!(
                    "{label}: {} event(s) erased on {} lead(s)",
                    done.events_erased,
                    done.leads.len()
                ),
                Err(PrivacyError::NotFound) => {
                    all_found = false;
                    println!("{label}: no stored lead matches");
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        if args.expired {
            let pass = app.apply_retention().await.map_err(|e| e.to_string())?;
            match pass.cutoff {
                None => println!("retention: off in the policy ([privacy] contact_retention = \"off\")"),
                Some(cutoff) => println!(
                    "retention: {} event(s) erased on {} of {} lead(s) checked, quiet since before {cutoff}",
                    pass.events_erased, pass.leads_erased, pass.leads_checked
                ),
            }
        }
        Ok(all_found)
    })
}
