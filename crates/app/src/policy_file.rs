//! Reading a policy file: the one loader the CLI, the local server and the Lambda cold start use.

use chrono::{DateTime, Utc};
use leadclock_domain::policy::{report_problems, Version, Versions};
use leadclock_domain::Policy;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// Reads and validates a policy file; the error lists every problem with its line.
pub fn load(path: &Path) -> Result<Policy, String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("cannot read policy {}: {e}", path.display()))?;
    Policy::parse(&src).map_err(|problems| report_problems(&path.display().to_string(), &problems))
}

/// A policy version as a host keeps it: the local store's `policy_versions` table, or one entry
/// of the manifest bundled with an AWS deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredVersion {
    pub number: u32,
    /// `None` for a first version in force since the beginning.
    pub effective_from: Option<DateTime<Utc>>,
    /// Of `source`: what makes a past version impossible to change unnoticed.
    pub sha256: String,
    pub source: String,
}

/// The SHA-256 of a policy file's text, hex.
pub fn digest(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

/// The version to record when a server starts at `now` with `source` after `stored`: the first
/// version (in force since the beginning, so existing data is judged as before) when nothing
/// is stored, a new version in force from `now` when the text changed, else nothing.
pub fn next_version(stored: &[StoredVersion], source: &str, now: DateTime<Utc>) -> Option<StoredVersion> {
    let sha256 = digest(source);
    match stored.last() {
        Some(last) if last.sha256 == sha256 => None,
        last => Some(StoredVersion {
            number: last.map_or(1, |l| l.number + 1),
            effective_from: last.map(|_| now),
            sha256,
            source: source.to_owned(),
        }),
    }
}

/// Parses every stored version; refuses a version whose text no longer matches its digest.
pub fn versions_of(stored: &[StoredVersion], origin: &str) -> Result<Versions, String> {
    let mut list = Vec::with_capacity(stored.len());
    for v in stored {
        let name = format!("{origin} (policy version {})", v.number);
        if digest(&v.source) != v.sha256 {
            return Err(format!(
                "{name}: its text changed after it took effect; a past version cannot change, add a new one"
            ));
        }
        let policy = Policy::parse(&v.source).map_err(|problems| report_problems(&name, &problems))?;
        list.push(Version {
            number: v.number,
            effective_from: v.effective_from,
            policy: Arc::new(policy),
        });
    }
    Versions::new(list).map_err(|e| format!("{origin}: {e}"))
}

/// The manifest of an AWS deployment's policy versions (`policies/versions.toml`): each entry
/// names a file beside it, the instant it took effect and the file's SHA-256.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    version: Vec<ManifestEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    file: String,
    effective_from: Option<DateTime<Utc>>,
    sha256: String,
}

fn parse_manifest(path: &Path) -> Result<Manifest, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let manifest: Manifest = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    for (i, entry) in manifest.version.iter().enumerate() {
        let plain = Path::new(&entry.file)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain || entry.file.is_empty() {
            return Err(format!(
                "{}: version {}: file {:?} must be a relative path inside the manifest's directory",
                path.display(),
                i + 1,
                entry.file
            ));
        }
        if entry.sha256.len() != 64 || !entry.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{}: version {}: sha256 must be 64 hex digits",
                path.display(),
                i + 1
            ));
        }
    }
    Ok(manifest)
}

/// The files a manifest names, relative to it, oldest version first.
pub fn manifest_files(path: &Path) -> Result<Vec<String>, String> {
    Ok(parse_manifest(path)?.version.into_iter().map(|e| e.file).collect())
}

/// Reads a manifest and the files it names (relative to it), numbered 1, 2, … in order.
/// Fails, naming the entry, when a file's text no longer matches its recorded SHA-256: the
/// build refuses to change a past version.
pub fn read_manifest(path: &Path) -> Result<Vec<StoredVersion>, String> {
    let manifest = parse_manifest(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::with_capacity(manifest.version.len());
    for (i, entry) in manifest.version.into_iter().enumerate() {
        let file = dir.join(&entry.file);
        let source = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        out.push(StoredVersion {
            number: i as u32 + 1,
            effective_from: entry.effective_from,
            sha256: entry.sha256,
            source,
        });
    }
    Ok(out)
}

/// Every version a manifest names, checked and parsed.
pub fn load_manifest(path: &Path) -> Result<Versions, String> {
    versions_of(&read_manifest(path)?, &path.display().to_string())
}

/// The manifest entry to append for `file` taking effect at `from`: refused when `from` is not
/// after the last version's instant or is in the past (a version judges leads engaged from
/// then on, and past leads must keep their verdicts).
pub fn manifest_entry(
    stored: &[StoredVersion],
    file: &str,
    source: &str,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, String> {
    Policy::parse(source).map_err(|problems| report_problems(file, &problems))?;
    if from < now {
        return Err(format!(
            "{from} is in the past: a new version takes effect now or later"
        ));
    }
    if let Some(last) = stored.last().and_then(|l| l.effective_from).filter(|l| *l >= from) {
        return Err(format!("{from} is not after the last version's {last}"));
    }
    Ok(format!(
        "\n[[version]]\nfile = \"{file}\"\neffective_from = \"{}\"\nsha256 = \"{}\"\n",
        from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        digest(source)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../policies/example.toml");

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("leadclock-manifest-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A manifest of two versions: the example since the beginning, a stricter one from March.
    fn two_versions(d: &Path) -> std::path::PathBuf {
        let stricter = EXAMPLE.replacen("within = \"15m\"", "within = \"10m\"", 1);
        std::fs::write(d.join("v1.toml"), EXAMPLE).unwrap();
        std::fs::write(d.join("v2.toml"), &stricter).unwrap();
        let manifest = d.join("versions.toml");
        std::fs::write(
            &manifest,
            format!(
                "[[version]]\nfile = \"v1.toml\"\nsha256 = \"{}\"\n\n[[version]]\nfile = \"v2.toml\"\neffective_from = \"2027-03-01T00:00:00Z\"\nsha256 = \"{}\"\n",
                digest(EXAMPLE),
                digest(&stricter)
            ),
        )
        .unwrap();
        manifest
    }

    #[test]
    fn a_manifest_gives_every_version_in_order() {
        let d = dir("ok");
        let versions = load_manifest(&two_versions(&d)).unwrap();
        assert_eq!(versions.all().len(), 2);
        assert_eq!(versions.in_force_at(t("2027-02-28T00:00:00Z")).number, 1);
        assert_eq!(versions.current().effective_from, Some(t("2027-03-01T00:00:00Z")));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_changed_past_version_is_refused() {
        let d = dir("changed");
        let manifest = two_versions(&d);
        std::fs::write(
            d.join("v1.toml"),
            EXAMPLE.replacen("recycle_limit = 2", "recycle_limit = 3", 1),
        )
        .unwrap();
        let e = load_manifest(&manifest).unwrap_err();
        assert!(e.contains("policy version 1") && e.contains("cannot change"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_new_entry_must_take_effect_after_the_last_and_not_in_the_past() {
        let d = dir("entry");
        let stored = read_manifest(&two_versions(&d)).unwrap();
        let now = t("2027-04-01T00:00:00Z");
        let e = manifest_entry(&stored, "v3.toml", EXAMPLE, t("2027-02-01T00:00:00Z"), now).unwrap_err();
        assert!(e.contains("in the past"), "{e}");
        let entry = manifest_entry(&stored, "v3.toml", EXAMPLE, t("2027-05-01T00:00:00Z"), now).unwrap();
        assert!(entry.contains("effective_from = \"2027-05-01T00:00:00Z\""), "{entry}");
        assert!(entry.contains(&digest(EXAMPLE)), "{entry}");
        let bad = manifest_entry(&stored, "v3.toml", "lead_types = 3", t("2027-05-01T00:00:00Z"), now);
        assert!(bad.is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_server_start_records_a_version_only_when_the_text_changed() {
        let now = t("2027-01-05T10:00:00Z");
        let first = next_version(&[], EXAMPLE, now).unwrap();
        assert_eq!((first.number, first.effective_from), (1, None));
        assert_eq!(next_version(std::slice::from_ref(&first), EXAMPLE, now), None);
        let second = next_version(&[first], &format!("{EXAMPLE}\n# tuned\n"), now).unwrap();
        assert_eq!((second.number, second.effective_from), (2, Some(now)));
    }
}
