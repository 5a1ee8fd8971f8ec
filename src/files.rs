//! Files: the home and state directories, the one atomic write, bounded JSON reads, locks.
//!
//! Invariants: every file ssoenv writes is a temp file beside its target, flushed, then renamed
//! over it, so a crash or Ctrl-C leaves the old file or the new one; secret files are 0600 in
//! 0700 directories whatever the umask.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::clock::now;
use crate::error::{Error, Result};

/// A file name for a key: its SHA-1 in hex (the AWS CLI's cache names, lock names).
pub fn sha1_hex(data: &str) -> String {
    hex::encode(Sha1::digest(data.as_bytes()))
}

/// The user's home: `HOME` (also on Windows when set), else `USERPROFILE`.
pub fn home() -> PathBuf {
    for var in ["HOME", "USERPROFILE"] {
        if let Some(h) = std::env::var_os(var)
            && !h.is_empty()
        {
            return PathBuf::from(h);
        }
    }
    PathBuf::from(".")
}

/// ssoenv's own state (locks, stamps): `$XDG_STATE_HOME/ssoenv`, else `~/.local/state/ssoenv`.
pub fn state_dir() -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d).join("ssoenv"),
        _ => home().join(".local").join("state").join("ssoenv"),
    }
}

/// Creates `dir` and its missing parents 0700.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .map_err(|e| Error::io(dir, "create directory", e))
}

/// What a write does with the file it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// A file of ssoenv's or the caches': mode 0600, in a 0700 directory.
    Private,
    /// The user's own file (the config): written through a symlink to its target, its mode
    /// kept (0600 when new), refused when read-only.
    Keep,
}

/// Writes `bytes` to `path` atomically: a temp file beside the target, flushed, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8], existing: Existing) -> Result<()> {
    let target: PathBuf = match existing {
        Existing::Private => path.to_path_buf(),
        Existing::Keep => match fs::canonicalize(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => path.to_path_buf(),
            Err(e) => return Err(Error::io(path, "resolve", e)),
        },
    };
    let meta = match existing {
        Existing::Private => None,
        Existing::Keep => fs::metadata(&target).ok(),
    };
    if meta.as_ref().is_some_and(|m| m.permissions().readonly()) {
        return Err(Error::Other(format!(
            "{} is read-only; not changed (make it writable, or edit it by hand)",
            path.display()
        )));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    if existing == Existing::Private || !dir.exists() {
        ensure_dir(dir)?;
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), unique()));
    let result = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let mode = meta
                .as_ref()
                .map_or(0o600, |m| m.permissions().mode() & 0o7777);
            opts.mode(mode);
        }
        let mut f = opts.open(&tmp)?;
        if let Some(m) = &meta {
            // The umask may have narrowed the mode given to open.
            f.set_permissions(m.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &target)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, "write", e)
    })
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = now().unix_timestamp_nanos() as u64;
    nanos ^ N.fetch_add(1, Ordering::Relaxed)
}

/// Reads a JSON object. `Ok(None)` when the file does not exist.
pub fn read_json(path: &Path) -> Result<Option<Map<String, Value>>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, "read", e)),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(Error::BadFile {
            path: path.to_path_buf(),
            message: "not a JSON object".into(),
        }),
        Err(e) => Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!("invalid JSON ({e})"),
        }),
    }
}

pub fn write_json(path: &Path, map: &Map<String, Value>) -> Result<()> {
    let text = serde_json::to_string_pretty(map).map_err(|e| Error::Other(e.to_string()))?;
    write_atomic(path, text.as_bytes(), Existing::Private)
}

/// An exclusive advisory lock held until dropped. Many shells may renew at once: the lock
/// makes one of them do the network work while the others wait, then re-read the cache.
pub struct Lock(#[allow(dead_code)] fs::File);

pub fn lock(name: &str) -> Result<Lock> {
    let dir = state_dir().join("locks");
    ensure_dir(&dir)?;
    let path = dir.join(format!("{}.lock", sha1_hex(name)));
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, "open lock file", e))?;
    f.lock().map_err(|e| Error::io(&path, "lock", e))?;
    Ok(Lock(f))
}
