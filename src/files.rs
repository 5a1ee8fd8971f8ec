//! Files: the home and state directories, the one atomic write, bounded JSON reads, locks.
//!
//! Invariants: every file ssoenv writes is a temp file beside its target, flushed, then renamed
//! over it, so a crash or Ctrl-C leaves the old file or the new one; secret files are 0600 in
//! 0700 directories whatever the umask.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::clock::now;
use crate::error::{Error, Result};

/// A file name for a key: its SHA-1 in hex (the AWS CLI's cache names, lock names).
pub fn sha1_hex(data: &str) -> String {
    // The AWS CLI names cache files so. The `sha1` crate takes the CPU's SHA instructions
    // when it has them: `status` hashes the key of every profile of a big config.
    use sha1::Digest;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha1::Sha1::digest(data.as_bytes());
    let mut out = [0u8; 40];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
    }
    // Hex digits are ASCII: never lossy.
    String::from_utf8_lossy(&out).into_owned()
}

/// The user's home: `HOME` when it is an absolute path to a directory (also on Windows when
/// set), else `USERPROFILE` likewise, else the password database's entry for this user (as
/// botocore's `expanduser` falls back to). Never a path relative to the working directory.
pub fn home() -> Result<&'static Path> {
    static HOME: OnceLock<Option<PathBuf>> = OnceLock::new();
    HOME.get_or_init(|| {
        for var in ["HOME", "USERPROFILE"] {
            if let Some(h) = std::env::var_os(var).map(PathBuf::from)
                && h.is_absolute()
                && h.is_dir()
            {
                return Some(h);
            }
        }
        own_home().filter(|h| h.is_absolute() && h.is_dir())
    })
    .as_deref()
    .ok_or_else(|| {
        Error::Other(
            "no home directory: HOME is not an absolute path to a directory and the password \
             database has none for this user; set HOME"
                .into(),
        )
    })
}

/// This user's home directory from the password database.
#[cfg(unix)]
fn own_home() -> Option<PathBuf> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    passwd_home(|pwd, buf, found| {
        // SAFETY: the pointers are valid for the sizes passed; see passwd_home.
        unsafe { libc::getpwuid_r(uid, pwd, buf.as_mut_ptr(), buf.len(), found) }
    })
}

#[cfg(not(unix))]
fn own_home() -> Option<PathBuf> {
    None
}

/// A user's home directory from the password database, by name (for `~user` paths).
#[cfg(unix)]
pub fn user_home(user: &str) -> Option<PathBuf> {
    let name = std::ffi::CString::new(user).ok()?;
    passwd_home(|pwd, buf, found| {
        // SAFETY: the pointers are valid for the sizes passed; see passwd_home.
        unsafe { libc::getpwnam_r(name.as_ptr(), pwd, buf.as_mut_ptr(), buf.len(), found) }
    })
}

#[cfg(not(unix))]
pub fn user_home(_user: &str) -> Option<PathBuf> {
    None
}

/// Runs a `getpw*_r` lookup with its buffers and returns the entry's home directory.
#[cfg(unix)]
fn passwd_home(
    lookup: impl FnOnce(&mut libc::passwd, &mut [libc::c_char], &mut *mut libc::passwd) -> i32,
) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: a zeroed passwd is a valid value for the out-parameter; the lookup writes it and
    // the strings it points to into `buf`, which lives until the directory is copied out.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    if lookup(&mut pwd, &mut buf, &mut found) != 0 || found.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir points to a NUL-terminated string inside `buf`.
    let dir = unsafe { std::ffi::CStr::from_ptr(pwd.pw_dir) };
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())))
}

/// ssoenv's own state (locks, stamps): `$XDG_STATE_HOME/ssoenv`, else `~/.local/state/ssoenv`.
pub fn state_dir() -> Result<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME") {
        Some(d) if Path::new(&d).is_absolute() => Ok(PathBuf::from(d).join("ssoenv")),
        _ => Ok(home()?.join(".local").join("state").join("ssoenv")),
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
    remove_temp_files(dir, Some(std::time::Duration::from_secs(60)));
    let tmp = temp_beside(dir, &name);
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

/// A temp file name beside a target named `name` in `dir`: `.NAME.PID.N.tmp`.
fn temp_beside(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), unique()))
}

/// Makes `link` a second name (a hard link) of the file `path` names, if that file holds
/// exactly `bytes`: linked under a temp name, checked, then renamed over `link`, so `link` is
/// never a name of a file with other contents, even when another run replaces `path`
/// meanwhile. False when not linked (another file at `path`, or no hard links there).
pub fn link_atomic(path: &Path, link: &Path, bytes: &[u8]) -> bool {
    let dir = link.parent().unwrap_or(Path::new("."));
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = temp_beside(dir, &name);
    if fs::hard_link(path, &tmp).is_err() {
        return false;
    }
    let holds = read_bounded(&tmp, bytes.len() as u64 + 1)
        .ok()
        .flatten()
        .is_some_and(|b| b == bytes);
    if holds && fs::rename(&tmp, link).is_ok() {
        return true;
    }
    let _ = fs::remove_file(&tmp);
    false
}

/// Whether two paths name one file (device and inode), as the shells' `-ef` tells.
#[cfg(unix)]
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether a file name is one of [`write_atomic`]'s temp files: `.NAME.PID.N.tmp`.
fn is_temp_file(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let mut parts = inner.rsplitn(3, '.');
    let digits =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    digits(parts.next()) && digits(parts.next()) && parts.next().is_some_and(|n| !n.is_empty())
}

/// Removes the temp files a killed run left in `dir` (they may hold secrets): those older than
/// `age`, or all of them. Only names of [`write_atomic`]'s own pattern are touched.
pub fn remove_temp_files(dir: &Path, age: Option<std::time::Duration>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if !is_temp_file(&name.to_string_lossy()) {
            continue;
        }
        let old = match age {
            None => true,
            Some(age) => e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|elapsed| elapsed > age),
        };
        if old {
            let _ = fs::remove_file(e.path());
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = now().unix_timestamp_nanos() as u64;
    nanos ^ N.fetch_add(1, Ordering::Relaxed)
}

/// The most ssoenv reads of a file of each kind: anything larger is not what it should be.
pub const CONFIG_CAP: u64 = 16 << 20;
pub const CA_BUNDLE_CAP: u64 = 16 << 20;
pub const SMALL_CAP: u64 = 1 << 20;

/// Reads a whole file, refusing what could block or never end: it is opened without blocking
/// (a FIFO cannot stall the read), must be a regular file (or a link to one), and may hold at
/// most `cap` bytes. `Ok(None)` when it does not exist.
pub fn read_bounded(path: &Path, cap: u64) -> Result<Option<Vec<u8>>> {
    match open_bounded(path, cap)? {
        Some((f, meta)) => read_opened(path, f, &meta, cap).map(Some),
        None => Ok(None),
    }
}

/// Opens a file for [`read_bounded`]'s checks, with its metadata: `Ok(None)` when it does not
/// exist; an error when it is not a regular file or holds more than `cap` bytes.
pub fn open_bounded(path: &Path, cap: u64) -> Result<Option<(fs::File, fs::Metadata)>> {
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK | libc::O_NOCTTY);
    let f = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, "read", e)),
    };
    let meta = f.metadata().map_err(|e| Error::io(path, "read", e))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "a pipe, socket or device"
        };
        return Err(Error::BadFile {
            path: path.to_path_buf(),
            message: format!("is {what}, not a regular file"),
        });
    }
    if meta.len() > cap {
        return Err(too_big(path, cap));
    }
    Ok(Some((f, meta)))
}

/// The rest of a file [`open_bounded`] opened, at most `cap` bytes.
pub fn read_opened(path: &Path, f: fs::File, meta: &fs::Metadata, cap: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(meta.len().min(cap) as usize);
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, "read", e))?;
    if bytes.len() as u64 > cap {
        return Err(too_big(path, cap));
    }
    Ok(bytes)
}

fn too_big(path: &Path, cap: u64) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        message: format!("is larger than {} KiB; not read", cap >> 10),
    }
}

/// Reads a JSON object (a cache file). `Ok(None)` when the file does not exist.
pub fn read_json(path: &Path) -> Result<Option<Map<String, Value>>> {
    let Some(bytes) = read_bounded(path, SMALL_CAP)? else {
        return Ok(None);
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
    let (f, path) = open_lock(name)?;
    f.lock().map_err(|e| Error::io(&path, "lock", e))?;
    Ok(Lock(f))
}

/// The lock if it is free now; `Ok(None)` while another process holds it.
pub fn try_lock(name: &str) -> Result<Option<Lock>> {
    let (f, path) = open_lock(name)?;
    match f.try_lock() {
        Ok(()) => Ok(Some(Lock(f))),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(Error::io(&path, "lock", e)),
    }
}

/// A file beside the lock `name`, for what its holder tells those waiting (0700 directory).
pub fn beside_lock(name: &str, extension: &str) -> Result<PathBuf> {
    Ok(lock_dir()?.join(format!("{}.{extension}", sha1_hex(name))))
}

fn lock_dir() -> Result<PathBuf> {
    Ok(state_dir()?.join("locks"))
}

fn open_lock(name: &str) -> Result<(fs::File, PathBuf)> {
    let dir = lock_dir()?;
    ensure_dir(&dir)?;
    let path = dir.join(format!("{}.lock", sha1_hex(name)));
    let mut opts = fs::OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts
        .open(&path)
        .map_err(|e| Error::io(&path, "open lock file", e))?;
    Ok((f, path))
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn a_link_is_made_only_to_a_file_holding_the_expected_bytes() {
        let dir = std::env::temp_dir().join(format!(
            "ssoenv-link-{}-{}",
            std::process::id(),
            super::unique()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (file, link) = (dir.join("stamp"), dir.join("stamp@1"));
        std::fs::write(&file, "a\n").unwrap();
        assert!(!super::link_atomic(&file, &link, b"b\n"));
        assert!(!link.exists());
        assert!(super::link_atomic(&file, &link, b"a\n"));
        assert!(super::same_file(&file, &link));
        // Over an old link, and no temp name left behind.
        std::fs::write(dir.join("new"), "a\n").unwrap();
        std::fs::rename(dir.join("new"), &file).unwrap();
        assert!(!super::same_file(&file, &link));
        assert!(super::link_atomic(&file, &link, b"a\n"));
        assert!(super::same_file(&file, &link));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temp_file_names_are_recognised_exactly() {
        for yes in [".abc.json.123.456.tmp", ".config.1.2.tmp"] {
            assert!(super::is_temp_file(yes), "{yes}");
        }
        for no in [
            "abc.json",
            ".abc.json",
            ".x.1.tmp",
            ".x.a.2.tmp",
            ".x.1.2.tmpx",
            "..1.2.tmp",
        ] {
            assert!(!super::is_temp_file(no), "{no}");
        }
    }
}
