//! `leadclock policy versions`: the policy versions a deployment judges by. Locally they live
//! in the store (the server records a changed policy when it starts); on AWS in a manifest
//! bundled with the functions, which `make build` checks so that no past version can change.

use clap::Subcommand;
use leadclock_app::policy_file::{digest, manifest_entry, manifest_files, read_manifest, versions_of, StoredVersion};
use leadclock_local::store::SqliteStore;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum VersionsCmd {
    /// List the versions of the local store (--data) or of a manifest (--manifest).
    List {
        #[arg(long, conflicts_with = "manifest")]
        data: Option<PathBuf>,
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// With --manifest: print only the files it names, one per line (for `make build`).
        #[arg(long, requires = "manifest")]
        files: bool,
    },
    /// Check a manifest: every file parses and still has the SHA-256 recorded when it was added.
    Check {
        manifest: PathBuf,
        /// Also require this policy file to be the manifest's current (last) version.
        #[arg(long)]
        current: Option<PathBuf>,
    },
    /// Append a version to a manifest (creating it): FILE, beside the manifest, in force from --from.
    Add {
        manifest: PathBuf,
        file: PathBuf,
        /// When it takes effect (RFC 3339, now or later); default now.
        #[arg(long)]
        from: Option<String>,
    },
}

pub fn run(cmd: VersionsCmd) -> Result<(), String> {
    match cmd {
        VersionsCmd::List { data, manifest, files } => {
            if let (Some(m), true) = (&manifest, files) {
                for file in manifest_files(m)? {
                    println!("{file}");
                }
                return Ok(());
            }
            let stored = match (data, manifest) {
                (_, Some(m)) => read_manifest(&m)?,
                (d, None) => stored_in(&d.unwrap_or_else(|| PathBuf::from("data")))?,
            };
            print!("{}", list(&stored));
            Ok(())
        }
        VersionsCmd::Check { manifest, current } => {
            let stored = read_manifest(&manifest)?;
            let versions = versions_of(&stored, &manifest.display().to_string())?;
            if let Some(current) = current {
                let source =
                    std::fs::read_to_string(&current).map_err(|e| format!("cannot read {}: {e}", current.display()))?;
                if stored.last().is_some_and(|last| last.sha256 != digest(&source)) {
                    return Err(format!(
                        "{} is not the current version of {}: add it with `leadclock policy versions add`",
                        current.display(),
                        manifest.display()
                    ));
                }
            }
            println!(
                "{}: ok ({} version(s), current {})",
                manifest.display(),
                versions.all().len(),
                versions.current().number
            );
            Ok(())
        }
        VersionsCmd::Add { manifest, file, from } => add(&manifest, &file, from.as_deref()),
    }
}

fn stored_in(data: &Path) -> Result<Vec<StoredVersion>, String> {
    let store = SqliteStore::open(data).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(store.policy_versions()).map_err(|e| e.to_string())
}

/// One line per version: number, since when, digest.
fn list(stored: &[StoredVersion]) -> String {
    let mut out = String::new();
    for v in stored {
        let since = v.effective_from.map_or("the beginning".into(), |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        out.push_str(&format!(
            "version {}  in force since {since}  sha256 {}\n",
            v.number,
            &v.sha256[..12]
        ));
    }
    if stored.is_empty() {
        out.push_str("no policy version recorded yet: the server records its policy when it starts\n");
    }
    out
}

fn add(manifest: &Path, file: &Path, from: Option<&str>) -> Result<(), String> {
    let now = chrono::Utc::now();
    let from = match from {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("--from {s:?}: {e} (RFC 3339, e.g. 2027-03-01T00:00:00Z)"))?
            .with_timezone(&chrono::Utc),
        None => now,
    };
    let stored = if manifest.exists() {
        read_manifest(manifest)?
    } else {
        Vec::new()
    };
    versions_of(&stored, &manifest.display().to_string())?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let name = file
        .strip_prefix(dir)
        .unwrap_or(file)
        .to_str()
        .ok_or("the file name is not UTF-8")?
        .to_owned();
    let source = std::fs::read_to_string(dir.join(&name)).map_err(|e| format!("cannot read {name}: {e}"))?;
    // The first version of a new manifest judges everything before it too.
    let entry = manifest_entry(&stored, &name, &source, from, now)?;
    let entry = if stored.is_empty() {
        entry
            .lines()
            .filter(|l| !l.starts_with("effective_from"))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    } else {
        entry
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(manifest)
        .map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
    if stored.is_empty() {
        let _ = f.write_all(b"# leadclock policy versions, oldest first. Append with `leadclock policy versions add`;\n# never edit a past entry or its file: `make build` refuses a changed one.\n");
    }
    f.write_all(entry.as_bytes()).map_err(|e| e.to_string())?;
    println!("{}: version {} is {name}", manifest.display(), stored.len() + 1);
    Ok(())
}
