//! One server per data dir: an exclusive advisory lock (`flock`) on `DATA/leadclock.lock`, held
//! for the life of the process. Two servers on one database would each arm the other's timers
//! and send every escalation twice; SQLite alone would let them.
//!
//! The lock is the kernel's, so it goes with the process however it ends (even `kill -9`) and a
//! stale file never blocks a restart. The file holds the holder's PID, only to name it in the
//! refusal; it is never deleted, since deleting a lock file lets two processes lock two files.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the data dir.
pub const LOCK_FILE: &str = "leadclock.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another leadclock server{} is using the data dir {}: stop it, or give this one another --data",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        dir.display()
    )]
    Held { dir: PathBuf, pid: Option<u32> },
    #[error("cannot lock the data dir {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the lock on `dir` (creating the dir if needed), or says who holds it. Never waits.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        // Not truncated on open: until we hold the lock, the PID in it is the holder's.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: dir.to_owned(),
                    pid: holder_pid(&mut file),
                })
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        write_pid(&mut file).map_err(io)?;
        Ok(DataDirLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}", std::process::id())?;
    file.sync_data()
}

/// The PID the holder wrote, if it is readable (it may be mid-write, or from an old version).
fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        std::env::temp_dir().join(format!("leadclock-lock-{}-{nanos}", std::process::id()))
    }

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempdir();
        let first = DataDirLock::acquire(&dir).unwrap();
        assert_eq!(first.path(), dir.join(LOCK_FILE));
        let pid = std::process::id();
        match DataDirLock::acquire(&dir) {
            Err(e @ LockError::Held { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(&format!("pid {pid}")), "{msg}");
                assert!(msg.contains(&dir.display().to_string()), "{msg}");
            }
            other => panic!("second lock: {other:?}"),
        }
        drop(first);
        let again = DataDirLock::acquire(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(again.path()).unwrap().trim(), pid.to_string());
        drop(again);
        std::fs::remove_dir_all(dir).ok();
    }
}
