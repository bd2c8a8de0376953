//! The supervisor's state directory: what must survive a restart of the supervisor and stay out of every
//! sandbox's reach.
//!
//! ```text
//! STATE/                  0700, created by the supervisor
//!   lock                  flock(2) target: every read-modify-write of a state file holds it
//!   audit.key             32 random bytes (hex), 0600: the HMAC key of the audit trails
//!   audit-anchors.json    per trail: the last seq and hash written (tail-truncation detection)
//!   quarantine.json       per plugin: recent violations and the quarantine entry
//! ```
//!
//! Every file is written whole, to a temporary file in the same directory that is then renamed over the
//! old one, so a reader (another supervisor, `gauntlet quarantine list`) sees the old or the new file,
//! never a torn one. Files are created 0600; a key file that others can read is refused.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::{Flock, FlockArg};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{SupervisorError, SupervisorErrorKind};

/// The key file's name in the state directory.
pub const KEY_FILE: &str = "audit.key";
/// The anchors file's name in the state directory.
pub const ANCHORS_FILE: &str = "audit-anchors.json";
/// The quarantine file's name in the state directory.
pub const QUARANTINE_FILE: &str = "quarantine.json";

/// An open state directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    path: PathBuf,
}

/// The state lock, held while it lives.
pub(crate) struct StateLock {
    _lock: Flock<File>,
}

impl StateDir {
    /// Opens `path`, creating it (mode 0700, parents included) when it does not exist.
    pub fn create(path: &Path) -> Result<StateDir, SupervisorError> {
        if !path.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .map_err(|e| SupervisorError::io(path, e))?;
        }
        StateDir::open(path)
    }

    /// Opens an existing state directory.
    pub fn open(path: &Path) -> Result<StateDir, SupervisorError> {
        let meta = std::fs::metadata(path).map_err(|e| SupervisorError::io(path, e))?;
        if !meta.is_dir() {
            return Err(SupervisorError::new(
                path.display().to_string(),
                SupervisorErrorKind::Invalid("not a directory".into()),
            ));
        }
        let path = path
            .canonicalize()
            .map_err(|e| SupervisorError::io(path, e))?;
        Ok(StateDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Takes the state lock (blocking).
    pub(crate) fn lock(&self) -> Result<StateLock, SupervisorError> {
        let p = self.file("lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&p)
            .map_err(|e| SupervisorError::io(&p, e))?;
        let lock = Flock::lock(f, FlockArg::LockExclusive)
            .map_err(|(_, e)| SupervisorError::io(&p, e.into()))?;
        Ok(StateLock { _lock: lock })
    }

    /// Reads a JSON state file; `T::default()` when it does not exist. Call with the lock held when the
    /// value is then written back.
    pub(crate) fn read_json<T: DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, SupervisorError> {
        let p = self.file(name);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
            Err(e) => return Err(SupervisorError::io(&p, e)),
        };
        serde_json::from_str(&text)
            .map_err(|e| SupervisorError::bad_state(&p, format!("does not parse: {e}")))
    }

    /// Writes a JSON state file atomically (temporary file, then rename), mode 0600.
    pub(crate) fn write_json<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        durable: bool,
    ) -> Result<(), SupervisorError> {
        let mut text = serde_json::to_vec_pretty(value).expect("state values serialize");
        text.push(b'\n');
        self.write_atomic(name, &text, durable)
    }

    /// Writes `bytes` to `name` atomically; `durable` also syncs the data before the rename.
    pub(crate) fn write_atomic(
        &self,
        name: &str,
        bytes: &[u8],
        durable: bool,
    ) -> Result<(), SupervisorError> {
        write_atomic(&self.file(name), bytes, durable)
    }

    /// The HMAC key of the audit trails, made on first use (32 bytes from the kernel's CSPRNG).
    pub(crate) fn audit_key(&self) -> Result<[u8; 32], SupervisorError> {
        let p = self.file(KEY_FILE);
        if !p.exists() {
            let _lock = self.lock()?;
            if !p.exists() {
                let key = random_bytes::<32>().map_err(|e| SupervisorError::io(&p, e))?;
                self.write_atomic(KEY_FILE, hex(&key).as_bytes(), true)?;
            }
        }
        self.read_key()
    }

    /// Reads the key without making one: `None` when this state directory has none.
    pub(crate) fn existing_audit_key(&self) -> Result<Option<[u8; 32]>, SupervisorError> {
        if !self.file(KEY_FILE).exists() {
            return Ok(None);
        }
        self.read_key().map(Some)
    }

    fn read_key(&self) -> Result<[u8; 32], SupervisorError> {
        let p = self.file(KEY_FILE);
        let mut f = File::open(&p).map_err(|e| SupervisorError::io(&p, e))?;
        let mode = f
            .metadata()
            .map_err(|e| SupervisorError::io(&p, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(SupervisorError::bad_state(
                &p,
                format!(
                    "readable by others (mode {:o}); it must be 0600",
                    mode & 0o777
                ),
            ));
        }
        let mut text = String::new();
        f.read_to_string(&mut text)
            .map_err(|e| SupervisorError::io(&p, e))?;
        unhex(text.trim())
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| SupervisorError::bad_state(&p, "not a 32-byte hex key"))
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename; mode 0600.
pub(crate) fn write_atomic(
    path: &Path,
    bytes: &[u8],
    durable: bool,
) -> Result<(), SupervisorError> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.tmp.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(SupervisorError::io(path, e));
    }
    Ok(())
}

/// `N` bytes from the kernel's random source.
pub(crate) fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_made_once_and_private() {
        let d = tempfile::tempdir().unwrap();
        let s = StateDir::create(&d.path().join("state")).unwrap();
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let k1 = s.audit_key().unwrap();
        let k2 = s.audit_key().unwrap();
        assert_eq!(k1, k2);
        let p = s.file(KEY_FILE);
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = s.audit_key().unwrap_err();
        assert!(e.to_string().contains("readable by others"), "{e}");
    }

    #[test]
    fn atomic_write_replaces_whole_files() {
        let d = tempfile::tempdir().unwrap();
        let s = StateDir::create(d.path()).unwrap();
        s.write_json("x.json", &vec![1, 2, 3], false).unwrap();
        s.write_json("x.json", &vec![4], true).unwrap();
        let v: Vec<i32> = s.read_json("x.json").unwrap();
        assert_eq!(v, vec![4]);
        let names: Vec<_> = std::fs::read_dir(s.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.json")]);
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
        assert_eq!(unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(unhex("0g"), None);
    }
}
