//! The config index: a record, in ssoenv's state directory, that the config file as it is now
//! was read whole and found valid (every line and every value, as botocore checks them), and
//! where each of its profile, sso-session, services and `[DEFAULT]` sections lies. With it, a
//! command about one profile reads those few sections of a 10,000-profile file instead of all
//! of it, and `list` reads no config text at all. [`crate::config`] decides what to read; the
//! sections read are lexed by [`crate::ini`] as ever.
//!
//! Invariants:
//! - It is used only while the config file's identity is the one recorded: its path, device,
//!   inode, size, and modification and change times to the nanosecond. Any write to a file
//!   sets its change time to the clock's now, which nothing but a clock set back undoes, so
//!   an edit of the same size with the modification time put back (`touch -d`) is seen.
//! - It is written only for a file last changed at least [`SETTLE`] ago: an edit in the same
//!   tick of the file system's clock as the change recorded could not be told apart (git's
//!   "racily clean" index entries, solved the same way).
//! - Each section's bytes carry a fingerprint, checked when they are read back, and the
//!   file's identity is checked again after reading them: bytes changed under the reader are
//!   caught, and the file is then read whole.
//! - The index ends with its own fingerprint: a truncated, corrupt or foreign index (another
//!   version, not a regular file, too big) is not used; the config is then read whole, exactly
//!   as without an index. The index is 0600 in the 0700 state directory, written atomically.
//! - Files under [`MIN_SIZE`] are not indexed: reading them whole is as fast.

use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};

use crate::files;
use crate::ini::{self, Ini, SectionKind, Span};

/// The first line of an index; a new layout takes a new number.
const MAGIC: &str = "ssoenv config index 1";
/// The index's name in the state directory.
const NAME: &str = "config.index";
/// Config files smaller than this are read whole (a few hundred profiles).
pub const MIN_SIZE: u64 = 64 << 10;
/// How long a config file must have been left alone before it is indexed.
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);
/// The largest index read: a config at its cap of tiny sections makes a few times its size.
const CAP: u64 = 4 * files::CONFIG_CAP;

fn index_path() -> Option<PathBuf> {
    files::state_dir().ok().map(|d| d.join(NAME))
}

/// What identifies the file's content: path, device, inode, size, modification and change
/// times with their nanoseconds.
#[cfg(unix)]
fn identity(path: &Path, meta: &Metadata) -> String {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    format!(
        "{} {} {} {} {} {} {} {}",
        hex::encode(path.as_os_str().as_bytes()),
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

/// Whether the file changed too recently for its change time to tell a later edit apart.
#[cfg(unix)]
fn unsettled(meta: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let last = meta.mtime().max(meta.ctime());
    now - last < SETTLE.as_secs() as i64 + 1
}

/// A section as the index records it.
pub struct Entry<'a> {
    /// `None` for `[DEFAULT]`.
    pub kind: Option<SectionKind>,
    /// The name botocore knows it by (`DEFAULT` for `[DEFAULT]`).
    pub name: &'a str,
    /// Whether it sets any of the keys the index was asked to mark (see [`refresh`]).
    pub marked: bool,
    /// Its start, end, header line and fingerprint, still as text.
    place: [&'a str; 4],
}

impl Entry<'_> {
    /// Start, end and fingerprint.
    fn place(&self) -> Option<(u64, u64, u64)> {
        let [start, end, line, hash] = self.place;
        let (start, end) = (start.parse::<u64>().ok()?, end.parse::<u64>().ok()?);
        line.parse::<u64>().ok()?;
        let hash = u64::from_str_radix(hash, 16).ok()?;
        (start <= end).then_some((start, end, hash))
    }
}

/// A current index of one config file.
pub struct Index {
    text: String,
    /// Where the entries begin in `text`, and where the trailer begins.
    body: (usize, usize),
}

fn kind_code(kind: Option<SectionKind>) -> char {
    match kind {
        None => 'D',
        Some(SectionKind::Profile) => 'p',
        Some(SectionKind::SsoSession) => 's',
        Some(SectionKind::Services) => 'v',
    }
}

impl Index {
    /// The index of the config file at `path` (opened, with `meta`), if there is one that is
    /// sound and records the file as it is.
    #[cfg(unix)]
    pub fn read(path: &Path, meta: &Metadata) -> Option<Index> {
        if meta.len() < MIN_SIZE {
            return None;
        }
        let bytes = files::read_bounded(&index_path()?, CAP).ok()??;
        let text = String::from_utf8(bytes).ok()?;
        let rest = text.strip_prefix(MAGIC)?.strip_prefix('\n')?;
        let (id, _) = rest.split_once('\n')?;
        if id != identity(path, meta) {
            return None;
        }
        let start = MAGIC.len() + 1 + id.len() + 1;
        // The trailer: `end FINGERPRINT` of everything before it.
        let body = text.strip_suffix('\n')?;
        let trailer_at = body.rfind('\n').map_or(0, |i| i + 1);
        let hash = body[trailer_at..].strip_prefix("end ")?;
        if trailer_at < start
            || u64::from_str_radix(hash, 16).ok()?
                != ini::fingerprint(&text.as_bytes()[..trailer_at])
        {
            return None;
        }
        Some(Index {
            body: (start, trailer_at),
            text,
        })
    }

    #[cfg(not(unix))]
    pub fn read(_path: &Path, _meta: &Metadata) -> Option<Index> {
        None
    }

    /// The sections, in the file's order; `None` for an entry not as written.
    pub fn entries(&self) -> impl Iterator<Item = Option<Entry<'_>>> {
        self.lines().map(entry)
    }

    fn lines(&self) -> impl Iterator<Item = &str> {
        let body = &self.text[self.body.0..self.body.1];
        body.split_terminator('\n')
    }

    /// About how many sections the index records (for sizing tables).
    pub fn len_hint(&self) -> usize {
        (self.body.1 - self.body.0) / 40
    }

    /// What a [`crate::config::Config`] for one profile holds: `[DEFAULT]`, the sso-sessions,
    /// the services sections and the profile's own sections, read from the config file and
    /// lexed, as one [`Ini`] in the file's order; `None` when anything read back is not what
    /// the index recorded.
    #[cfg(unix)]
    pub fn sections_for(
        &self,
        path: &Path,
        file: &File,
        meta: &Metadata,
        profile: &str,
    ) -> Option<Ini> {
        use std::os::unix::fs::FileExt;
        let mut ini = Ini::default();
        for line in self.lines() {
            // Most lines are other profiles: their code and the end of the line tell.
            if line.starts_with('p')
                && !(line.ends_with(profile)
                    && line.as_bytes()[..line.len() - profile.len()].ends_with(b" "))
            {
                continue;
            }
            let e = entry(line)?;
            if e.kind == Some(SectionKind::Profile) && e.name != profile {
                continue;
            }
            let (start, end, hash) = e.place()?;
            if end > meta.len() {
                return None;
            }
            let mut buf = vec![0; (end - start) as usize];
            file.read_exact_at(&mut buf, start).ok()?;
            if ini::fingerprint(&buf) != hash {
                return None;
            }
            let piece = ini::parse(std::str::from_utf8(&buf).ok()?).ok()?;
            ini.defaults.extend(piece.defaults);
            ini.sections.extend(piece.sections);
        }
        // Written to while read: the index no longer says what the bytes are.
        let now = file.metadata().ok()?;
        (identity(path, &now) == identity(path, meta)).then_some(ini)
    }

    #[cfg(not(unix))]
    pub fn sections_for(
        &self,
        _path: &Path,
        _file: &File,
        _meta: &Metadata,
        _profile: &str,
    ) -> Option<Ini> {
        None
    }
}

/// One line of the index: `kind marked start end line fingerprint name`, the name last as it
/// may hold spaces (never a line break: it comes from one line of the config).
fn entry(line: &str) -> Option<Entry<'_>> {
    let b = line.as_bytes();
    if b.len() < 4 || b[1] != b' ' || b[3] != b' ' {
        return None;
    }
    let kind = match b[0] {
        b'D' => None,
        b'p' => Some(SectionKind::Profile),
        b's' => Some(SectionKind::SsoSession),
        b'v' => Some(SectionKind::Services),
        _ => return None,
    };
    let marked = match b[2] {
        b'0' => false,
        b'1' => true,
        _ => return None,
    };
    let mut rest = &line[4..];
    let mut place = [""; 4];
    for field in &mut place {
        (*field, rest) = rest.split_once(' ')?;
    }
    Some(Entry {
        kind,
        name: rest,
        marked,
        place,
    })
}

/// Records the index of a config file just read whole and found valid (`text`, with its
/// sections' `spans`, marked by the keys [`ini::parse_spans`] was given), unless the file is
/// small, changed too recently, or already indexed as it is. A failed write is no error: the
/// next run reads the file whole again.
#[cfg(unix)]
pub fn refresh(path: &Path, meta: &Metadata, text: &str, spans: &[Span]) {
    if meta.len() < MIN_SIZE || unsettled(meta) || Index::read(path, meta).is_some() {
        return;
    }
    let Some(target) = index_path() else { return };
    let mut out = format!("{MAGIC}\n{}\n", identity(path, meta));
    for s in spans {
        let (kind, name) = if s.header == ini::DEFAULT_SECTION {
            (None, s.header.to_string())
        } else {
            match ini::identify(s.header) {
                Some((kind, name)) => (Some(kind), name),
                None => continue,
            }
        };
        let hash = ini::fingerprint(&text.as_bytes()[s.start..s.end]);
        out.push_str(&format!(
            "{} {} {} {} {} {hash:016x} {name}\n",
            kind_code(kind),
            u8::from(s.marked),
            s.start,
            s.end,
            s.line
        ));
    }
    let hash = ini::fingerprint(out.as_bytes());
    out.push_str(&format!("end {hash:016x}\n"));
    if let Err(e) = files::write_atomic(&target, out.as_bytes(), files::Existing::Private) {
        crate::debug!("config index: not written: {e}");
    }
}

#[cfg(not(unix))]
pub fn refresh(_path: &Path, _meta: &Metadata, _text: &str, _spans: &[Span]) {}
