//! The one lexer of the AWS config format, by the rules botocore reads `~/.aws/config` with:
//! Python's `configparser.RawConfigParser` (default settings) under `botocore.configloader`.
//! The reader ([`crate::config`]) and the lossless editor ([`crate::edit`]) both stand on the
//! lines classified here; no other code knows what a header or a key line looks like.
//!
//! The quirks followed, each because botocore (and so the AWS CLI and every SDK that shares its
//! file) behaves that way:
//! - Lines end at `\n`, `\r\n` or a lone `\r` (Python reads text with universal newlines).
//!   The text must be UTF-8; a byte order mark is a character like any other, so a file
//!   starting with one has text before its first section and is refused.
//! - "Whitespace" is Python's `str.isspace` (Unicode spaces, and also `\x1c`–`\x1f`).
//! - A line whose stripped text starts with `#` or `;` is a comment, wherever it stands;
//!   there are no inline comments (`region = x # y` has the value `x # y`).
//! - A line indented deeper than the key line above it continues that key's value, as long
//!   as a key is open in the section; the lines are joined with `\n`, blank lines in between
//!   kept, trailing ones dropped. Comments inside are skipped and do not end the value. So a
//!   section whose keys are all indented alike is fine, and an indented `[header]` under a key
//!   is part of that key's value, not a section.
//! - A header is `[` … the last `]` of the stripped line (`[profile dev] # note` is
//!   `profile dev`); the name inside is kept as written, spaces included.
//! - A key line is split at its first `=` or `:`; the key is lowercased (keys are
//!   case-insensitive), both sides stripped. A line with no delimiter, or with nothing before
//!   it, refuses the file; so does any key before the first header.
//! - Strict: a section name twice (`[DEFAULT]` excepted: repeats merge) or a key twice in one
//!   section (`REGION` next to `region`) refuses the file.
//! - `[DEFAULT]` is not a profile: its keys are inherited by every section.
//! - A value that starts on the next line (`s3 =` then indented lines) is a nested block of
//!   `key = value` lines (split at `=` only, keys kept as written); a line there without `=`
//!   refuses the file.
//! - Section names are split shell-style (POSIX `shlex`): `[profile 'my dev']` is the profile
//!   `my dev`, `[profile my dev]` (three words) and `[profile 'open` are no profile at all, and
//!   any name starting with `profile` counts (`[profiles typo]` is the profile `typo`).
//!   `[default]` is the profile `default`; so is `[profile default]`. Of several sections that
//!   name the same profile or session, the last one counts, whole.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::messages::visible;

/// Python's `str.isspace`: Unicode white space plus the information separators `\x1c`–`\x1f`.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// [`is_space`] for an ASCII byte.
fn ascii_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

/// Python's `str.strip()`. The ends of a line are almost always ASCII: those bytes are
/// judged directly, and only a non-ASCII end takes the Unicode test.
pub fn strip(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !ascii_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|&c| !ascii_space(c))
        .map_or(start, |i| i + 1);
    let s = &s[start..end.max(start)];
    // Only the ends can hold Unicode white space still to strip: two bytes decide.
    let ascii_ends = s.as_bytes().first().is_none_or(u8::is_ascii)
        && s.as_bytes().last().is_none_or(u8::is_ascii);
    if ascii_ends {
        s
    } else {
        s.trim_matches(is_space)
    }
}

/// A fast 64-bit hash of bytes (eight at a time, then mixed): for the lexer's tables of
/// section and key names and for the config index's check of the bytes it points at. Not a
/// defence against chosen collisions: the config file is the user's own.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = Fingerprint::default();
    std::hash::Hasher::write(&mut h, bytes);
    std::hash::Hasher::finish(&h)
}

/// The hasher behind [`fingerprint`] and the lexer's maps (std's SipHash was a tenth of the
/// time of reading a 10,000-profile file).
#[derive(Default, Clone, Copy)]
pub struct Fingerprint(u64);

impl std::hash::Hasher for Fingerprint {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut h = self.0 ^ (bytes.len() as u64).wrapping_mul(K);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ w).wrapping_mul(K).rotate_left(29);
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        h = (h ^ u64::from_le_bytes(last))
            .wrapping_mul(K)
            .rotate_left(29);
        self.0 = h;
    }

    /// The end mark of a `str` key in a hash map (`Hash for str` writes `0xff` after its
    /// bytes): mixed in without a round of its own. [`fingerprint`] never writes it, so the
    /// fingerprints the index records do not depend on it.
    fn write_u8(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        // murmur3's finaliser: every input bit reaches every output bit.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A hash map on [`Fingerprint`].
pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fingerprint>>;

/// A problem that makes botocore refuse the whole file, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        line,
        message: message.into(),
    })
}

/// One physical line: its text without the line ending, and the ending (`""` on a last line
/// that has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLine<'a> {
    pub text: &'a str,
    pub end: &'a str,
}

/// Splits text into lines the way Python's universal newlines do: at `\r\n`, `\n` or `\r`.
pub fn split_lines(text: &str) -> Lines<'_> {
    Lines { text, at: 0 }
}

/// The lines of a text, one at a time (see [`split_lines`]).
pub struct Lines<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = RawLine<'a>;

    fn next(&mut self) -> Option<RawLine<'a>> {
        let rest = &self.text[self.at..];
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        let Some(i) = memchr::memchr2(b'\n', b'\r', bytes) else {
            self.at = self.text.len();
            return Some(RawLine {
                text: rest,
                end: "",
            });
        };
        let end_len = if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            2
        } else {
            1
        };
        self.at += i + end_len;
        Some(RawLine {
            text: &rest[..i],
            end: &rest[i..i + end_len],
        })
    }
}

/// What a line is, in the context of the lines above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    Blank,
    Comment,
    /// `[NAME]`: the section name as written between `[` and the last `]`.
    Header(Cow<'a, str>),
    /// `key = value`: the key lowercased, the value stripped.
    Key(Cow<'a, str>, Cow<'a, str>),
    /// A deeper-indented line continuing the open key's value: its stripped text.
    Continuation(Cow<'a, str>),
}

impl Kind<'_> {
    pub fn into_owned(self) -> Kind<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        match self {
            Kind::Blank => Kind::Blank,
            Kind::Comment => Kind::Comment,
            Kind::Header(h) => Kind::Header(own(h)),
            Kind::Key(k, v) => Kind::Key(own(k), own(v)),
            Kind::Continuation(v) => Kind::Continuation(own(v)),
        }
    }
}

/// The name inside a header line, if the stripped line is one.
pub fn header_name(stripped: &str) -> Option<&str> {
    if stripped.as_bytes().first() != Some(&b'[') {
        return None;
    }
    let rest = &stripped[1..];
    let close = rest.rfind(']')?;
    (close > 0).then(|| &rest[..close])
}

/// A key line split at its first `=` or `:`: the key (not yet lowercased, may be empty) and
/// the stripped value.
fn split_key(stripped: &str) -> Option<(&str, &str)> {
    // Both delimiters are ASCII: a byte search finds the same place as a char search, and
    // is most of the cost of a key line otherwise.
    let at = stripped.bytes().position(|b| b == b'=' || b == b':')?;
    Some((strip_end(&stripped[..at]), strip(&stripped[at + 1..])))
}

/// [`strip`] at the end only.
fn strip_end(s: &str) -> &str {
    let b = s.as_bytes();
    let end = b
        .iter()
        .rposition(|&c| !ascii_space(c))
        .map_or(0, |i| i + 1);
    let s = &s[..end];
    if s.as_bytes().last().is_none_or(u8::is_ascii) {
        s
    } else {
        s.trim_end_matches(is_space)
    }
}

fn lower(s: &str) -> Cow<'_, str> {
    // One pass over the bytes: keys are ASCII but for a rare few.
    let mut upper = false;
    for &b in s.as_bytes() {
        if !b.is_ascii() {
            upper = s.chars().any(char::is_uppercase);
            break;
        }
        upper |= b.is_ascii_uppercase();
    }
    if upper {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// `[DEFAULT]`: configparser's section of keys every other section inherits.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// Classifies lines one after another, carrying configparser's state between them, and
/// refuses what configparser refuses (strict mode). It borrows from the text it reads: the
/// lines of a big file cost no allocation but the few of a key in upper case.
#[derive(Default)]
pub struct Lexer<'a> {
    /// The indentation of the last header or key line.
    indent: usize,
    /// The section being read (an index into `sections`); `None` before the first header.
    section: Option<usize>,
    /// Whether a key is open in the section, so deeper lines continue it.
    key_open: bool,
    /// Section name → (index, line of its header).
    sections: FastMap<&'a str, (usize, usize)>,
    /// The name of the section being read.
    name: &'a str,
    /// Its keys and their lines. Strict mode forbids reopening a section, so these are all
    /// of its keys — except `[DEFAULT]`'s, which may reopen and so are kept apart. A section
    /// has a handful of keys: a list searched in order is faster than hashing each one.
    keys: KeySet<'a>,
    default_keys: KeySet<'a>,
}

/// The keys of one section with their lines: a short list searched in order, and past a few
/// dozen keys a hash map too, so even a section of a million keys stays linear.
#[derive(Default)]
struct KeySet<'a> {
    list: Vec<(Cow<'a, str>, usize)>,
    big: FastMap<Cow<'a, str>, usize>,
}

impl<'a> KeySet<'a> {
    const SHORT: usize = 32;

    fn get(&self, key: &str) -> Option<usize> {
        if self.list.len() > Self::SHORT {
            self.big.get(key).copied()
        } else {
            self.list.iter().find(|(k, _)| k == key).map(|(_, n)| *n)
        }
    }

    fn insert(&mut self, key: Cow<'a, str>, line: usize) {
        if self.list.len() == Self::SHORT {
            self.big.extend(self.list.iter().cloned());
        }
        if self.list.len() >= Self::SHORT {
            self.big.insert(key.clone(), line);
        }
        self.list.push((key, line));
    }

    fn clear(&mut self) {
        self.list.clear();
        self.big.clear();
    }
}

impl<'a> Lexer<'a> {
    pub fn new() -> Lexer<'a> {
        Lexer::default()
    }

    /// Classifies line `number` (1-based), given every line before it.
    pub fn line(&mut self, number: usize, text: &'a str) -> Result<Kind<'a>, SyntaxError> {
        let stripped = strip(text);
        if matches!(stripped.as_bytes().first(), Some(b'#' | b';')) {
            return Ok(Kind::Comment);
        }
        if stripped.is_empty() {
            return Ok(Kind::Blank);
        }
        let indent = match text.as_bytes().first() {
            Some(&b) if b.is_ascii() && !ascii_space(b) => 0,
            _ => text.chars().take_while(|&c| is_space(c)).count(),
        };
        if self.section.is_some() && self.key_open && indent > self.indent {
            return Ok(Kind::Continuation(Cow::Borrowed(stripped)));
        }
        self.indent = indent;
        if let Some(name) = header_name(stripped) {
            let next = self.sections.len();
            // One hash of the name, not one to look and one to insert.
            let index = match self.sections.entry(name) {
                Entry::Occupied(seen) if name != DEFAULT_SECTION => {
                    let first = seen.get().1;
                    return fail(
                        number,
                        format!(
                            "section [{}] appears a second time (first on line {first}); merge the two",
                            visible(name)
                        ),
                    );
                }
                Entry::Occupied(seen) => seen.get().0,
                Entry::Vacant(new) => {
                    new.insert((next, number));
                    next
                }
            };
            if name != DEFAULT_SECTION {
                self.keys.clear();
            }
            self.section = Some(index);
            self.name = name;
            self.key_open = false;
            return Ok(Kind::Header(Cow::Borrowed(name)));
        }
        if self.section.is_none() {
            let message = if text.starts_with('\u{feff}') {
                "the file starts with a byte order mark (U+FEFF); save it as UTF-8 without one"
                    .to_string()
            } else {
                format!("{} stands before any [section]", quoted_excerpt(stripped))
            };
            return fail(number, message);
        }
        let Some((key, value)) = split_key(stripped) else {
            return fail(
                number,
                format!(
                    "expected `key = value`, a [section] or a comment, found {}",
                    quoted_excerpt(stripped)
                ),
            );
        };
        if key.is_empty() {
            return fail(
                number,
                format!("{} has no key before its '='", quoted_excerpt(stripped)),
            );
        }
        let key = lower(key);
        let keys = if self.name == DEFAULT_SECTION {
            &mut self.default_keys
        } else {
            &mut self.keys
        };
        if let Some(first) = keys.get(&key) {
            return fail(
                number,
                format!(
                    "key {} appears a second time in [{}] (first on line {first}; keys ignore case)",
                    visible(&key),
                    visible(self.name)
                ),
            );
        }
        keys.insert(key.clone(), number);
        self.key_open = true;
        Ok(Kind::Key(key, Cow::Borrowed(value)))
    }
}

/// A classified line with its number and raw text.
#[derive(Debug, Clone)]
pub struct Lexed<'a> {
    pub number: usize,
    pub raw: RawLine<'a>,
    pub kind: Kind<'a>,
}

/// Classifies every line of a file, or names the first line that makes botocore refuse it.
pub fn lex(text: &str) -> Result<Vec<Lexed<'_>>, SyntaxError> {
    let mut lexer = Lexer::new();
    split_lines(text)
        .enumerate()
        .map(|(i, raw)| {
            let kind = lexer.line(i + 1, raw.text)?;
            Ok(Lexed {
                number: i + 1,
                raw,
                kind,
            })
        })
        .collect()
}

/// A key's value after botocore read it. A value on one line is borrowed from the text read
/// (nearly every value of a big file); one joined from several lines is owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    /// `key =` followed by indented `sub = value` lines. (A boxed slice, not a list: so a
    /// value takes no more room than its text, for each of the keys of a big file.)
    Nested(Box<[(String, String)]>),
}

impl Value<'_> {
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            Value::Nested(_) => None,
        }
    }

    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
            Value::Nested(n) => Value::Nested(n),
        }
    }
}

/// A key as read, lowercased: borrowed from the text read, owned when written with capitals.
pub type Key<'a> = Cow<'a, str>;

/// One `[section]` as configparser holds it (its own keys; `[DEFAULT]`'s are separate),
/// borrowing from the text read.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    /// The name in its header, as written.
    pub name: Cow<'a, str>,
    pub entries: Vec<(Key<'a>, Value<'a>)>,
}

/// A whole file as botocore's `raw_config_parse` returns it.
#[derive(Debug, Clone, Default)]
pub struct Ini<'a> {
    /// `[DEFAULT]`'s keys, inherited by every section.
    pub defaults: Vec<(Key<'a>, Value<'a>)>,
    /// Every other section, in order of first appearance.
    pub sections: Vec<Section<'a>>,
}

/// Keys and values that own their text.
fn owned_entries(entries: Vec<(Key<'_>, Value<'_>)>) -> Vec<(Key<'static>, Value<'static>)> {
    entries
        .into_iter()
        .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
        .collect()
}

impl<'a> Ini<'a> {
    /// The same, owning its text: for sections read into buffers of their own.
    pub fn into_owned(self) -> Ini<'static> {
        Ini {
            defaults: owned_entries(self.defaults),
            sections: self
                .sections
                .into_iter()
                .map(|s| Section {
                    name: Cow::Owned(s.name.into_owned()),
                    entries: owned_entries(s.entries),
                })
                .collect(),
        }
    }

    /// Every section with the keys botocore sees in it: its own, then `[DEFAULT]`'s that it
    /// lacks.
    pub fn into_effective(self) -> impl Iterator<Item = Section<'a>> {
        let defaults = self.defaults;
        self.sections.into_iter().map(move |mut s| {
            for (k, v) in &defaults {
                if !s.entries.iter().any(|(have, _)| have == k) {
                    s.entries.push((k.clone(), v.clone()));
                }
            }
            s
        })
    }
}

/// A value being gathered: its key line's value, then any continuation lines (and the blank
/// lines between them, as empty parts) with their line numbers, borrowed from the text.
struct Pending<'a> {
    target: Target,
    key: Cow<'a, str>,
    first: &'a str,
    more: Vec<(usize, &'a str)>,
    /// Blank lines seen since the last part: kept only if a continuation line follows
    /// (trailing ones are dropped), so most values need no list at all.
    blanks: usize,
}

/// Where the open section's keys go.
#[derive(Clone, Copy)]
enum Target {
    Defaults,
    Section(usize),
    /// A section not kept: its values are still checked, as botocore reads them all.
    Checked,
}

/// Where a section's lines lie in the text: from the start of its header line to the start of
/// the next header line (or the end of the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<'a> {
    /// The name in its header, as written.
    pub header: &'a str,
    /// The line number of its header.
    pub line: usize,
    pub start: usize,
    pub end: usize,
    /// Its index in [`Ini::sections`]: `None` for `[DEFAULT]` and for a section not kept.
    pub section: Option<usize>,
    /// Whether it sets one of the keys [`parse_spans`] was asked to mark.
    pub marked: bool,
}

/// Parses a file into sections and values, with every check botocore makes.
pub fn parse(text: &str) -> Result<Ini<'_>, SyntaxError> {
    parse_only(text, |_| true)
}

/// Like [`parse`], checking every line and every value, but keeping only the sections `keep`
/// accepts (by the name in their header): a command about one profile need not build ten
/// thousand.
pub fn parse_only(text: &str, keep: impl Fn(&str) -> bool) -> Result<Ini<'_>, SyntaxError> {
    parse_spans(text, keep, None).map(|(ini, _)| ini)
}

/// [`parse_only`], and, when `marked` is given, where each section lies in the text, each
/// marked when it sets one of the keys in `marked` (lowercase), kept or not. (Without it, no
/// span is recorded: a whole read that writes no index need not note ten thousand.)
pub fn parse_spans<'a>(
    text: &'a str,
    keep: impl Fn(&str) -> bool,
    marked: Option<&[&str]>,
) -> Result<(Ini<'a>, Vec<Span<'a>>), SyntaxError> {
    let mut ini = Ini::default();
    let mut spans: Vec<Span> = Vec::new();
    let mut lexer = Lexer::new();
    let mut target = Target::Checked;
    let mut pending: Option<Pending> = None;
    // The open section's keys, gathered here and moved into it when it ends: its list is
    // then allocated once, at its size (ten thousand lists grown key by key were a third
    // of the memory of a big file's sections).
    let mut open: Vec<(Key<'a>, Value<'a>)> = Vec::new();
    let close = |ini: &mut Ini<'a>, open: &mut Vec<(Key<'a>, Value<'a>)>, target: Target| {
        if let Target::Section(i) = target {
            ini.sections[i].entries.append(open);
        }
    };
    let flush = |ini: &mut Ini<'a>,
                 open: &mut Vec<(Key<'a>, Value<'a>)>,
                 p: Option<Pending<'a>>|
     -> Result<(), SyntaxError> {
        let Some(p) = p else { return Ok(()) };
        if let Target::Checked = p.target {
            // Only a value over several lines can be refused (a nested block's line).
            if !p.more.is_empty() {
                finish(p.first, &p.more)?;
            }
            return Ok(());
        }
        let value = finish(p.first, &p.more)?;
        let key = p.key;
        match p.target {
            Target::Section(_) => open.push((key, value)),
            _ => ini.defaults.push((key, value)),
        }
        Ok(())
    };
    for (i, raw) in split_lines(text).enumerate() {
        let number = i + 1;
        match lexer.line(number, raw.text)? {
            Kind::Comment => {}
            Kind::Blank => {
                if let Some(p) = &mut pending {
                    p.blanks += 1;
                }
            }
            Kind::Continuation(v) => {
                if let (Some(p), Cow::Borrowed(v)) = (&mut pending, v) {
                    for _ in 0..std::mem::take(&mut p.blanks) {
                        p.more.push((number, ""));
                    }
                    p.more.push((number, v));
                }
            }
            Kind::Header(name) => {
                flush(&mut ini, &mut open, pending.take())?;
                close(&mut ini, &mut open, target);
                let Cow::Borrowed(name) = name else {
                    continue;
                };
                let start = raw.text.as_ptr() as usize - text.as_ptr() as usize;
                if let Some(last) = spans.last_mut() {
                    last.end = start;
                }
                let spanned = marked.is_some();
                // The lexer refuses a second section of a name (but [DEFAULT]), so each kept
                // header opens a new one.
                target = if name == DEFAULT_SECTION {
                    Target::Defaults
                } else if keep(name) {
                    ini.sections.push(Section {
                        name: Cow::Borrowed(name),
                        entries: Vec::new(),
                    });
                    Target::Section(ini.sections.len() - 1)
                } else {
                    Target::Checked
                };
                if spanned {
                    spans.push(Span {
                        header: name,
                        line: number,
                        start,
                        end: text.len(),
                        section: match target {
                            Target::Section(i) => Some(i),
                            _ => None,
                        },
                        marked: false,
                    });
                }
            }
            Kind::Key(k, v) => {
                flush(&mut ini, &mut open, pending.take())?;
                if let (Some(marked), Some(span)) = (marked, spans.last_mut())
                    && !span.marked
                    && marked.contains(&&*k)
                {
                    span.marked = true;
                }
                let Cow::Borrowed(first) = v else {
                    continue;
                };
                pending = Some(Pending {
                    target,
                    key: k,
                    first,
                    more: Vec::new(),
                    blanks: 0,
                });
            }
        }
    }
    flush(&mut ini, &mut open, pending.take())?;
    close(&mut ini, &mut open, target);
    Ok((ini, spans))
}

/// Python's `str.splitlines` separators.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Joins a value's parts as configparser does (`\n`, trailing white space dropped), then reads
/// a value that starts on the next line as botocore's nested block.
fn finish<'a>(first: &'a str, more: &[(usize, &str)]) -> Result<Value<'a>, SyntaxError> {
    if more.is_empty() {
        return Ok(Value::Text(Cow::Borrowed(first)));
    }
    let mut joined = first.to_string();
    for (_, part) in more {
        joined.push('\n');
        joined.push_str(part);
    }
    let value = joined.trim_end_matches(is_space);
    if !value.starts_with('\n') {
        return Ok(Value::Text(Cow::Owned(value.to_string())));
    }
    let mut nested: Vec<(String, String)> = Vec::new();
    for (number, part) in more {
        for line in part.split(is_line_break) {
            let line = strip(line);
            if line.is_empty() {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return fail(
                    *number,
                    format!(
                        "{} in a nested block has no '=' (nested lines are `key = value`)",
                        quoted_excerpt(line)
                    ),
                );
            };
            let (k, v) = (strip(k).to_string(), strip(v).to_string());
            match nested.iter_mut().find(|(have, _)| *have == k) {
                Some(slot) => slot.1 = v,
                None => nested.push((k, v)),
            }
        }
    }
    Ok(Value::Nested(nested.into()))
}

/// What a section is to botocore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SectionKind {
    Profile,
    SsoSession,
    Services,
}

impl SectionKind {
    pub fn word(self) -> &'static str {
        match self {
            SectionKind::Profile => "profile",
            SectionKind::SsoSession => "sso-session",
            SectionKind::Services => "services",
        }
    }
}

/// The profile, sso-session or services section a header names, as botocore's
/// `build_profile_map` decides: by prefix, then the name as the second of exactly two
/// shell-style words. `None` for other sections and for names botocore drops.
pub fn identify(header: &str) -> Option<(SectionKind, Cow<'_, str>)> {
    let kind = if header.starts_with("profile") {
        SectionKind::Profile
    } else if header.starts_with("sso-session") {
        SectionKind::SsoSession
    } else if header.starts_with("services") {
        SectionKind::Services
    } else if header == "default" {
        return Some((SectionKind::Profile, Cow::Borrowed(header)));
    } else {
        return None;
    };
    // Without quotes or escapes, shlex's words are the runs between its white space.
    if plain_words(header) {
        let mut words = shlex_words(header);
        return match (words.next(), words.next(), words.next()) {
            (Some(_), Some(name), None) => Some((kind, Cow::Borrowed(name))),
            _ => None,
        };
    }
    match shlex_split(header) {
        Some(words) if words.len() == 2 => words.into_iter().nth(1).map(|n| (kind, Cow::Owned(n))),
        _ => None,
    }
}

/// Whether a header holds none of shlex's quotes and escapes. (All are ASCII: the bytes
/// decide, which for ten thousand headers is much faster than a search by characters.)
fn plain_words(header: &str) -> bool {
    !header.bytes().any(|b| matches!(b, b'\'' | b'"' | b'\\'))
}

/// The runs between shlex's white space (space, tab, CR, LF: all ASCII, so the text splits
/// at bytes into whole characters).
fn shlex_words(header: &str) -> impl Iterator<Item = &str> {
    let mut rest = header;
    std::iter::from_fn(move || {
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let start = rest.bytes().position(|b| !blank(&b))?;
        let len = rest[start..]
            .bytes()
            .position(|b| blank(&b))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + len];
        rest = &rest[start + len..];
        Some(word)
    })
}

/// Whether a header names this profile, sso-session or services section, as [`identify`]
/// decides, without building the name.
pub fn names(header: &str, kind: SectionKind, name: &str) -> bool {
    if kind == SectionKind::Profile && header == "default" {
        return name == "default";
    }
    if !header.starts_with(kind.word()) {
        return false;
    }
    if plain_words(header) {
        let mut words = shlex_words(header);
        return matches!((words.next(), words.next(), words.next()), (Some(_), Some(n), None) if n == name)
            && identify(header).is_some_and(|(k, _)| k == kind);
    }
    identify(header).is_some_and(|(k, n)| k == kind && n == name)
}

/// The header the AWS CLI writes for a section (`default`, `profile dev`,
/// `profile 'my dev'`), or `None` when no header reads back as that name.
pub fn header_for(kind: SectionKind, name: &str) -> Option<String> {
    if kind == SectionKind::Profile && name == "default" {
        return Some("default".to_string());
    }
    let bare = format!("{} {name}", kind.word());
    let header = if identify(&bare)
        .as_ref()
        .is_some_and(|(k, n)| *k == kind && n == name)
    {
        bare
    } else {
        format!("{} {}", kind.word(), shell_quote(name))
    };
    let line = format!("[{header}]");
    let round_trips = !name.is_empty()
        && !name.contains(['\n', '\r'])
        && header_name(strip(&line)) == Some(header.as_str())
        && identify(&header).is_some_and(|(k, n)| k == kind && n == name);
    round_trips.then_some(header)
}

/// Python's `shlex.quote`: POSIX shell quoting, only where needed.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

/// Python's `shlex.split(s)`: POSIX rules, words split at white space only; `None` where
/// shlex raises (an open quote, a trailing backslash).
pub fn shlex_split(s: &str) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Space,
        Word,
        Single,
        Double,
        /// After a backslash; the state to return to.
        Escape(bool),
    }
    let ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut st = St::Space;
    for c in s.chars() {
        match st {
            St::Space | St::Word if ws(c) => {
                if st == St::Word && (!word.is_empty() || quoted) {
                    words.push(std::mem::take(&mut word));
                }
                quoted = false;
                st = St::Space;
            }
            St::Space | St::Word => match c {
                '\\' => st = St::Escape(false),
                '\'' => st = St::Single,
                '"' => st = St::Double,
                _ => {
                    word.push(c);
                    st = St::Word;
                }
            },
            St::Single => {
                quoted = true;
                if c == '\'' {
                    st = St::Word;
                } else {
                    word.push(c);
                }
            }
            St::Double => {
                quoted = true;
                match c {
                    '"' => st = St::Word,
                    '\\' => st = St::Escape(true),
                    _ => word.push(c),
                }
            }
            St::Escape(in_double) => {
                if in_double && c != '\\' && c != '"' {
                    word.push('\\');
                }
                word.push(c);
                st = if in_double { St::Double } else { St::Word };
            }
        }
    }
    match st {
        St::Single | St::Double | St::Escape(_) => None,
        St::Word | St::Space => {
            if st == St::Word && (!word.is_empty() || quoted) {
                words.push(word);
            }
            Some(words)
        }
    }
}

/// At most 60 characters of a line, quoted, control characters visible.
fn quoted_excerpt(s: &str) -> String {
    let short: String = s.chars().take(60).collect();
    let more = if short.len() < s.len() { "…" } else { "" };
    format!("\"{}{more}\"", visible(&short))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind<'_>> {
        lex(text).unwrap().into_iter().map(|l| l.kind).collect()
    }

    fn err(text: &str) -> SyntaxError {
        parse(text).unwrap_err()
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        let l: Vec<_> = split_lines("a\r\nb\rc\nd").collect();
        let texts: Vec<_> = l.iter().map(|r| (r.text, r.end)).collect();
        assert_eq!(texts, [("a", "\r\n"), ("b", "\r"), ("c", "\n"), ("d", "")]);
        assert!(split_lines("").next().is_none());
        // Past the eight bytes judged at once, at each place in a word.
        for at in 0..20 {
            for end in ["\n", "\r", "\r\n"] {
                let text = format!("{}{end}tail of the text", "x".repeat(at));
                let l: Vec<_> = split_lines(&text).map(|r| (r.text.len(), r.end)).collect();
                assert_eq!(l, [(at, end), (16, "")], "{at} {end:?}");
            }
        }
    }

    #[test]
    fn header_runs_to_the_last_bracket_and_keeps_inner_spaces() {
        assert_eq!(
            header_name("[profile dev] # the dev account"),
            Some("profile dev")
        );
        assert_eq!(header_name("[ profile padded ]"), Some(" profile padded "));
        assert_eq!(header_name("[a] x ] y"), Some("a] x "));
        assert_eq!(header_name("[]"), None);
        assert_eq!(header_name("[]]"), Some("]"));
    }

    #[test]
    fn indented_keys_alike_are_keys_and_deeper_lines_continue() {
        let k = kinds("[p]\n    a = 1\n    b = 2\n      more\n  [x]\n");
        assert!(matches!(&k[1], Kind::Key(a, _) if a == "a"));
        assert!(matches!(&k[2], Kind::Key(b, _) if b == "b"));
        assert!(matches!(&k[3], Kind::Continuation(m) if m == "more"));
        // Shallower than the key above: a header again.
        assert!(matches!(&k[4], Kind::Header(x) if x == "x"));
        // Under a key at column 0, an indented header is part of the value.
        let k = kinds("[p]\na = 1\n  [x]\n");
        assert!(matches!(&k[2], Kind::Continuation(x) if x == "[x]"));
    }

    #[test]
    fn values_join_continuations_keep_inner_blank_lines_and_skip_comments() {
        let ini = parse("[p]\nk = a\n  b\n\n# not part\n  c\n\n\nz = 1\n").unwrap();
        assert_eq!(
            ini.sections[0].entries[0].1,
            Value::Text("a\nb\n\nc".into())
        );
        let ini = parse("[p]\ns3 =\n  max = 10\n  Addr = x=y\n  max = 11\n").unwrap();
        assert_eq!(
            ini.sections[0].entries[0].1,
            Value::Nested([("max".into(), "11".into()), ("Addr".into(), "x=y".into())].into())
        );
    }

    #[test]
    fn a_section_of_many_keys_is_checked_for_duplicates_in_linear_time() {
        let mut text = "[p]\n".to_string();
        for i in 0..5000 {
            text.push_str(&format!("k{i} = v\n"));
        }
        assert_eq!(parse(&text).unwrap().sections[0].entries.len(), 5000);
        text.push_str("K17 = again\n");
        assert_eq!(err(&text).line, 5002);
        let text = "[p]\na = 1\nA = 2\n";
        assert_eq!(err(text).line, 3);
    }

    #[test]
    fn strict_duplicates_refuse_the_file_except_repeated_default() {
        let e = err("[profile a]\nx=1\n[profile a]\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("first on line 1"), "{e:?}");
        let e = err("[profile a]\nregion = x\nREGION = y\n");
        assert_eq!(e.line, 3);
        let ini = parse("[DEFAULT]\na = 1\n[p]\n[DEFAULT]\nb = 2\n").unwrap();
        assert_eq!(ini.defaults.len(), 2);
        assert_eq!(err("[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n").line, 4);
    }

    #[test]
    fn refused_lines_are_named() {
        assert_eq!(err("region = x\n[p]\n").line, 1);
        assert!(
            err("\u{feff}[default]\n")
                .message
                .contains("byte order mark")
        );
        assert_eq!(err("[p]\nnot a key\n").line, 2);
        assert_eq!(err("[p]\n= v\n").line, 2);
        let e = err("[p]\ns3 =\n  ok = 1\n  broken\n");
        assert_eq!(e.line, 4);
        assert!(err("x\u{1b}]0;t\u{7}\n").message.contains("\\e]0;t\\x07"));
    }

    #[test]
    fn keys_and_values_of_one_line_are_borrowed_from_the_text() {
        let ini = parse("[p]\nRegion = x\nsso_session = s\nk = a\n  b\n").unwrap();
        let borrowed: Vec<(&str, bool, bool)> = ini.sections[0]
            .entries
            .iter()
            .map(|(k, v)| {
                let value = matches!(v, Value::Text(Cow::Borrowed(_)));
                (&**k, matches!(k, Cow::Borrowed(_)), value)
            })
            .collect();
        assert_eq!(
            borrowed,
            [
                ("region", false, true),
                ("sso_session", true, true),
                ("k", true, false)
            ]
        );
    }

    #[test]
    fn shlex_words_split_at_its_white_space_only() {
        let words = |h| shlex_words(h).collect::<Vec<_>>();
        assert_eq!(words("  profile\t dev \r\n"), ["profile", "dev"]);
        assert_eq!(
            words("profile\u{a0}d\u{e9}v x"),
            ["profile\u{a0}d\u{e9}v", "x"]
        );
        assert_eq!(words("profile\u{c}dev"), ["profile\u{c}dev"]);
        assert!(words(" \t").is_empty());
    }

    #[test]
    fn comments_are_whole_lines_only() {
        let ini = parse("[p]\n  # indented comment\nregion = x # y\n; z\n").unwrap();
        assert_eq!(
            ini.sections[0].entries,
            vec![("region".into(), Value::Text("x # y".into()))]
        );
    }

    #[test]
    fn section_names_are_split_like_a_shell() {
        let id = |h: &str| identify(h).map(|(k, n)| (k, n.into_owned()));
        let p = |n: &str| Some((SectionKind::Profile, n.to_string()));
        assert_eq!(id("profile dev"), p("dev"));
        assert_eq!(id("profile 'my dev'"), p("my dev"));
        assert_eq!(id("profile \"a \\\" b\""), p("a \" b"));
        assert_eq!(id("profiles typo"), p("typo"));
        assert_eq!(id("profile my dev"), None);
        assert_eq!(id("profile 'open"), None);
        assert_eq!(id("profile"), None);
        assert_eq!(id(" profile padded "), None);
        assert_eq!(id("default"), p("default"));
        assert_eq!(id("profile ''"), p(""));
        assert_eq!(
            id("sso-session 'corp sess'"),
            Some((SectionKind::SsoSession, "corp sess".into()))
        );
        assert_eq!(id("plugins"), None);
    }

    #[test]
    fn headers_are_quoted_like_the_aws_cli_and_always_read_back() {
        let h = |n: &str| header_for(SectionKind::Profile, n);
        assert_eq!(h("dev").as_deref(), Some("profile dev"));
        assert_eq!(h("default").as_deref(), Some("default"));
        assert_eq!(h("my dev").as_deref(), Some("profile 'my dev'"));
        assert_eq!(h("o'brien").as_deref(), Some("profile 'o'\"'\"'brien'"));
        assert_eq!(h("\"quoted\"").as_deref(), Some("profile '\"quoted\"'"));
        assert_eq!(h(""), None);
        assert_eq!(h("a\nb"), None);
        for name in ["a]b", "x y'z\"w", "tab\tin", "back\\slash", "ünï cødé"] {
            let header = h(name).unwrap();
            assert_eq!(
                identify(&header),
                Some((SectionKind::Profile, name.into())),
                "{name}"
            );
        }
    }

    #[test]
    fn shlex_matches_pythons_posix_rules() {
        let s = |t: &str| shlex_split(t);
        let v = |w: &[&str]| Some(w.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s("a 'b c'd\"e\\\"f\""), v(&["a", "b cde\"f"]));
        assert_eq!(s("a \\ b"), v(&["a", " b"]));
        assert_eq!(s("\"a\\b\""), v(&["a\\b"]));
        assert_eq!(s("'a\\b'"), v(&["a\\b"]));
        assert_eq!(s("'' x"), v(&["", "x"]));
        assert_eq!(s("  "), v(&[]));
        assert_eq!(s("a\\"), None);
        assert_eq!(s("\"a"), None);
    }

    #[test]
    fn python_whitespace_includes_information_separators() {
        assert_eq!(strip("\u{1c}\u{a0} x \u{3000}"), "x");
        let k = kinds("[p]\na = 1\n\u{a0}\u{a0}b\n");
        assert!(matches!(&k[2], Kind::Continuation(b) if b == "b"));
    }
}
