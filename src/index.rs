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
//! - The index's head ends with its own fingerprint and each piece of its body carries one:
//!   a truncated, corrupt or foreign index (another version, not a regular file, too big) is
//!   not used for any piece it got wrong; the config is then read whole, exactly as without
//!   an index, and the index written again. A lookup reads the head and one bucket of
//!   profile entries; `list` reads the head and the names, ready to print; TAB completion
//!   the head and every profile's SSO role and account (see [`Index::roles`]). The index is 0600
//!   in the 0700 state directory, written atomically.
//! - Files under [`MIN_SIZE`] are not indexed: reading them whole is as fast.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};

use crate::files;
use crate::ini::{self, Ini, SectionKind, Span};

/// The first line of an index; a new layout takes a new number.
const MAGIC: &str = "ssoenv config index 3";
/// The index's name in the state directory.
const NAME: &str = "config.index";
/// Config files smaller than this are read whole (a few hundred profiles).
pub const MIN_SIZE: u64 = 64 << 10;
/// How long a config file must have been left alone before it is indexed.
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);
/// The largest index read: a config at its cap of tiny sections makes a few times its size.
const CAP: u64 = 4 * files::CONFIG_CAP;
/// About how many profile entries share a bucket: a lookup reads one bucket of this many.
const PER_BUCKET: usize = 16;
/// How much of the index a first read takes: the whole head of a file of ten thousand
/// profiles (the head says how long it is; a longer one is read in a second go).
const FIRST_READ: usize = 24 << 10;
/// The width of the head's length field, so that the head can state its own length.
const LEN_WIDTH: usize = 12;

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

/// A section as the index records it: `kind marked start end line fingerprint name`, the
/// name last as it may hold spaces (never a line break: it comes from one line of the
/// config). The header's line number is kept for people reading the index.
struct Entry<'a> {
    /// `None` for `[DEFAULT]`.
    kind: Option<SectionKind>,
    /// The name botocore knows it by (`DEFAULT` for `[DEFAULT]`).
    name: &'a str,
    start: u64,
    end: u64,
    hash: u64,
}

fn kind_code(kind: Option<SectionKind>) -> char {
    match kind {
        None => 'D',
        Some(SectionKind::Profile) => 'p',
        Some(SectionKind::SsoSession) => 's',
        Some(SectionKind::Services) => 'v',
    }
}

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
    // Whether it is marked: the names piece carries what `list` needs of it.
    if !matches!(b[2], b'0' | b'1') {
        return None;
    }
    let mut rest = &line[4..];
    let mut place = [""; 4];
    for field in &mut place {
        (*field, rest) = rest.split_once(' ')?;
    }
    let [start, end, number, hash] = place;
    let (start, end) = (start.parse::<u64>().ok()?, end.parse::<u64>().ok()?);
    number.parse::<u64>().ok()?;
    let hash = u64::from_str_radix(hash, 16).ok()?;
    (start <= end).then_some(Entry {
        kind,
        name: rest,
        start,
        end,
        hash,
    })
}

/// Which bucket holds a profile's entries.
fn bucket_of(name: &str, buckets: usize) -> usize {
    (ini::fingerprint(name.as_bytes()) % buckets as u64) as usize
}

/// A piece of the index's body: `AT LEN FINGERPRINT`, `AT` counted from the body's start.
#[derive(Clone, Copy)]
struct Piece {
    at: u64,
    len: u64,
    hash: u64,
}

fn piece(fields: &str) -> Option<Piece> {
    let mut f = fields.split(' ');
    let at = f.next()?.parse().ok()?;
    let len = f.next()?.parse().ok()?;
    let hash = u64::from_str_radix(f.next()?, 16).ok()?;
    f.next().is_none().then_some(Piece { at, len, hash })
}

/// A piece of a body's bytes (read from its start), if it lies within them, matches its
/// fingerprint and is text.
fn checked(body: &[u8], p: Piece) -> Option<&str> {
    let end = usize::try_from(p.at.checked_add(p.len)?).ok()?;
    let bytes = body.get(usize::try_from(p.at).ok()?..end)?;
    if ini::fingerprint(bytes) != p.hash {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The head of a current index of one config file: what a lookup reads before the one piece
/// of the body it needs.
///
/// Layout (text, one record a line):
/// ```text
/// ssoenv config index 3
/// IDENTITY                       the config file's (see `identity`)
/// head HEADLEN BODYLEN BUCKETS   HEADLEN in 12 digits, so the head can state its own length
/// names AT LEN HASH              the body's piece listing profile names (see `Index::names`)
/// roles AT LEN HASH              the piece with each profile's role and account (`Index::roles`)
/// AT LEN HASH                    one line per bucket of profile entries
/// ENTRY…                         `[DEFAULT]`, sso-session and services entries: every
///                                profile's config holds them
/// end HASH                       the fingerprint of the head before this line
/// ```
/// The body follows: the names and roles pieces, then each bucket's entries in the file's order. Every
/// piece is checked against its fingerprint when read, and the index's length against the
/// head's, so a truncated or corrupt index is never used for what it got wrong.
pub struct Index {
    file: File,
    head: String,
    /// Where the body starts in the index file, and its length.
    body: (u64, u64),
    names: Piece,
    roles: Piece,
    /// The bucket lines, then the entries every profile needs, in `head`.
    buckets: (usize, usize),
    count: usize,
    common: (usize, usize),
}

impl Index {
    /// The index of the config file at `path` (opened, with `meta`), if there is one whose
    /// head is sound and records the file as it is.
    #[cfg(unix)]
    pub fn read(path: &Path, meta: &Metadata) -> Option<Index> {
        use std::os::unix::fs::FileExt;
        if meta.len() < MIN_SIZE {
            return None;
        }
        let (file, own) = files::open_bounded(&index_path()?, CAP).ok()??;
        let mut buf = vec![0; FIRST_READ.min(own.len() as usize)];
        file.read_exact_at(&mut buf, 0).ok()?;
        // Magic, identity and the head's sizes before anything else: a foreign or stale
        // index stops here.
        let mut lines = buf.splitn(4, |&b| b == b'\n');
        if lines.next()? != MAGIC.as_bytes() || lines.next()? != identity(path, meta).as_bytes() {
            return None;
        }
        let sizes = std::str::from_utf8(lines.next()?)
            .ok()?
            .strip_prefix("head ")?;
        let mut sizes = sizes.split(' ');
        let head_len: usize = sizes.next()?.parse().ok()?;
        let body_len: u64 = sizes.next()?.parse().ok()?;
        let count: usize = sizes.next()?.parse().ok()?;
        if sizes.next().is_some() || count == 0 || head_len as u64 + body_len != own.len() {
            return None;
        }
        let have = buf.len();
        buf.resize(head_len, 0);
        if head_len > have {
            file.read_exact_at(&mut buf[have..], have as u64).ok()?;
        }
        let head = String::from_utf8(buf).ok()?;
        let body = head.strip_suffix('\n')?;
        let trailer_at = body.rfind('\n')? + 1;
        let hash = body[trailer_at..].strip_prefix("end ")?;
        if u64::from_str_radix(hash, 16).ok()? != ini::fingerprint(&head.as_bytes()[..trailer_at]) {
            return None;
        }
        // Past the three lines checked above: the names and roles lines, the buckets, the
        // entries.
        let after_sizes = head.match_indices('\n').nth(2)?.0 + 1;
        let names_end = after_sizes + head[after_sizes..].find('\n')?;
        let names = piece(head[after_sizes..names_end].strip_prefix("names ")?)?;
        let roles_end = names_end + 1 + head[names_end + 1..].find('\n')?;
        let roles = piece(head[names_end + 1..roles_end].strip_prefix("roles ")?)?;
        let buckets_at = roles_end + 1;
        let mut buckets_end = buckets_at;
        for _ in 0..count {
            buckets_end += head[buckets_end..trailer_at].find('\n')? + 1;
        }
        Some(Index {
            file,
            body: (head_len as u64, body_len),
            names,
            roles,
            buckets: (buckets_at, buckets_end),
            count,
            common: (buckets_end, trailer_at),
            head,
        })
    }

    #[cfg(not(unix))]
    pub fn read(_path: &Path, _meta: &Metadata) -> Option<Index> {
        None
    }

    /// A piece of the body, checked against its fingerprint.
    #[cfg(unix)]
    fn piece(&self, p: Piece) -> Option<String> {
        use std::os::unix::fs::FileExt;
        if p.at.checked_add(p.len)? > self.body.1 {
            return None;
        }
        let mut buf = vec![0; usize::try_from(p.len).ok()?];
        self.file.read_exact_at(&mut buf, self.body.0 + p.at).ok()?;
        checked(&buf, Piece { at: 0, ..p })?;
        String::from_utf8(buf).ok()
    }

    #[cfg(not(unix))]
    fn piece(&self, _p: Piece) -> Option<String> {
        None
    }

    /// Every profile's name in botocore's order (where it first appears), one a line, each
    /// followed by a tab and `sso` or `-`: whether it carries the keys the index was asked
    /// to mark (in its last section, which botocore keeps whole, or in `[DEFAULT]`). Exactly
    /// what `list --long` prints.
    pub fn names(&self) -> Option<String> {
        self.piece(self.names)
    }

    /// Every profile's SSO role and account, in botocore's order, one profile a line:
    /// `NAME<TAB>ROLE<TAB>ACCOUNT`, as the caller of [`record`] wrote them for the file
    /// (see [`crate::config::role_lines`]).
    pub fn roles(&self) -> Option<String> {
        self.piece(self.roles)
    }

    /// Whether every piece of the body is as the head records it. The body is read in one
    /// go: piece by piece, a 10,000-profile index took over six hundred reads.
    #[cfg(unix)]
    fn sound(&self) -> bool {
        use std::os::unix::fs::FileExt;
        let Ok(len) = usize::try_from(self.body.1) else {
            return false;
        };
        let mut body = vec![0; len];
        if self.file.read_exact_at(&mut body, self.body.0).is_err() {
            return false;
        }
        let buckets = self.head[self.buckets.0..self.buckets.1].split_terminator('\n');
        [Some(self.names), Some(self.roles)]
            .into_iter()
            .chain(buckets.map(piece))
            .all(|p| p.and_then(|p| checked(&body, p)).is_some())
    }

    /// What a [`crate::config::Config`] for some profiles holds (one, or a role chain's):
    /// `[DEFAULT]`, the sso-sessions, the services sections and the profiles' own sections,
    /// read from the config file and
    /// lexed, as one [`Ini`] in the file's order; `None` when anything read back is not what
    /// the index recorded.
    #[cfg(unix)]
    pub fn sections_for(
        &self,
        path: &Path,
        file: &File,
        meta: &Metadata,
        profiles: &[&str],
    ) -> Option<Ini<'static>> {
        use std::os::unix::fs::FileExt;
        let mut places: Vec<(u64, u64, u64)> = Vec::new();
        for line in self.head[self.common.0..self.common.1].split_terminator('\n') {
            let e = entry(line)?;
            places.push((e.start, e.end, e.hash));
        }
        for &profile in profiles {
            let bucket_line = self.head[self.buckets.0..self.buckets.1]
                .split_terminator('\n')
                .nth(bucket_of(profile, self.count))?;
            let bucket = self.piece(piece(bucket_line)?)?;
            for line in bucket.split_terminator('\n') {
                // Most lines are other profiles: the end of the line tells.
                if !(line.ends_with(profile)
                    && line.as_bytes()[..line.len() - profile.len()].ends_with(b" "))
                {
                    continue;
                }
                let e = entry(line)?;
                if e.kind == Some(SectionKind::Profile) && e.name == profile {
                    places.push((e.start, e.end, e.hash));
                }
            }
        }
        places.sort_unstable();
        places.dedup();
        let mut ini = Ini::default();
        for (start, end, hash) in places {
            if end > meta.len() {
                return None;
            }
            let mut buf = vec![0; (end - start) as usize];
            file.read_exact_at(&mut buf, start).ok()?;
            if ini::fingerprint(&buf) != hash {
                return None;
            }
            let piece = ini::parse(std::str::from_utf8(&buf).ok()?)
                .ok()?
                .into_owned();
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
        _profiles: &[&str],
    ) -> Option<Ini<'static>> {
        None
    }
}

/// Whether a config file about to be read whole is to be indexed ([`record`]): unless it is
/// small, changed too recently, or already indexed as it is, soundly.
#[cfg(unix)]
pub fn due(path: &Path, meta: &Metadata) -> bool {
    !(meta.len() < MIN_SIZE
        || unsettled(meta)
        || Index::read(path, meta).is_some_and(|ix| ix.sound()))
}

#[cfg(not(unix))]
pub fn due(_path: &Path, _meta: &Metadata) -> bool {
    false
}

/// Records the index of a config file [`due`] for one, just read whole and found valid
/// (`text`, with its sections' `spans`, marked by the keys [`ini::parse_spans`] was given,
/// and every profile's `roles`, see [`Index::roles`]). A failed write is no error: the next
/// run reads the file whole again.
#[cfg(unix)]
pub fn record(path: &Path, meta: &Metadata, text: &str, spans: &[Span], roles: &str) {
    let Some(target) = index_path() else { return };
    let out = build(&identity(path, meta), text, spans, roles);
    if let Err(e) = files::write_atomic(&target, out.as_bytes(), files::Existing::Private) {
        crate::debug!("config index: not written: {e}");
    }
}

#[cfg(not(unix))]
pub fn record(_path: &Path, _meta: &Metadata, _text: &str, _spans: &[Span], _roles: &str) {}

/// The index's bytes (see [`Index`] for the layout).
fn build(id: &str, text: &str, spans: &[Span], roles: &str) -> String {
    use std::fmt::Write;
    let mut common = String::new();
    let mut profiles: Vec<(String, String)> = Vec::new();
    // Names where they first appear, with the mark of their last section.
    let mut names: Vec<(String, bool)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut default_marked = false;
    for s in spans {
        let (kind, name) = if s.header == ini::DEFAULT_SECTION {
            (None, s.header.to_string())
        } else {
            match ini::identify(s.header) {
                Some((kind, name)) => (Some(kind), name.into_owned()),
                None => continue,
            }
        };
        let hash = ini::fingerprint(&text.as_bytes()[s.start..s.end]);
        let line = format!(
            "{} {} {} {} {} {hash:016x} {name}\n",
            kind_code(kind),
            u8::from(s.marked),
            s.start,
            s.end,
            s.line
        );
        match kind {
            None => default_marked |= s.marked,
            Some(SectionKind::Profile) => match at.get(&name) {
                Some(&i) => names[i].1 = s.marked,
                None => {
                    at.insert(name.clone(), names.len());
                    names.push((name.clone(), s.marked));
                }
            },
            Some(_) => {}
        }
        match kind {
            Some(SectionKind::Profile) => profiles.push((name, line)),
            _ => common.push_str(&line),
        }
    }
    let mut names_text = String::new();
    for (name, marked) in &names {
        let mark = if *marked || default_marked {
            "sso"
        } else {
            "-"
        };
        let _ = writeln!(names_text, "{name}\t{mark}");
    }
    let count = (names.len() / PER_BUCKET).max(1);
    let mut buckets = vec![String::new(); count];
    for (name, line) in &profiles {
        buckets[bucket_of(name, count)].push_str(line);
    }
    // Each piece: a line of the head (after its label, `AT LEN HASH`) and its bytes in the body.
    let (mut head, mut body) = (String::new(), String::new());
    let mut add = |label: &str, piece: &str| {
        let hash = ini::fingerprint(piece.as_bytes());
        let _ = writeln!(head, "{label}{} {} {hash:016x}", body.len(), piece.len());
        body.push_str(piece);
    };
    add("names ", &names_text);
    add("roles ", roles);
    for b in &buckets {
        add("", b);
    }
    head.push_str(&common);
    let start = format!("{MAGIC}\n{id}\nhead ");
    let rest = format!(" {} {count}\n", body.len());
    // The head's length: these lines, its length field and the `end` line.
    let head_len = start.len() + LEN_WIDTH + rest.len() + head.len() + "end \n".len() + 16;
    let mut out = format!("{start}{head_len:0w$}{rest}{head}", w = LEN_WIDTH);
    let hash = ini::fingerprint(out.as_bytes());
    let _ = writeln!(out, "end {hash:016x}");
    debug_assert_eq!(out.len(), head_len);
    out.push_str(&body);
    out
}
