//! Lossless edits of the config file on the lines [`crate::ini`] classified: only the lines
//! of the keys and sections being changed are touched. Comments, blank lines, ordering,
//! spacing, unknown keys, nested values and other tools' sections stay byte for byte, as do
//! the line endings. Sections are found as botocore finds them (`[profile 'my dev']` is the
//! profile `my dev`; of two sections naming one profile the last counts), new headers are
//! written as the AWS CLI writes them, and the result is lexed again before it is written: if
//! any line outside the edit would read differently, or the file would gain a duplicate, the
//! edit is refused. Writes go to a temp file beside the target (through a symlink, to its
//! target) with the file's permissions, then a rename: a crash or Ctrl-C leaves the old file
//! or the new one.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::files;
use crate::ini::{self, Kind, SectionKind, SyntaxError};

/// One line with its ending, and what it reads as.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    end: String,
    kind: Kind<'static>,
}

impl Line {
    fn key(&self) -> Option<&str> {
        match &self.kind {
            Kind::Key(k, _) => Some(k),
            _ => None,
        }
    }

    fn is_content(&self) -> bool {
        matches!(self.kind, Kind::Key(..) | Kind::Continuation(_))
    }

    fn indent(&self) -> &str {
        let t = &self.text;
        &t[..t.len() - t.trim_start_matches(ini::is_space).len()]
    }
}

type Id = (SectionKind, String);

/// The section a header names, as [`ini::identify`] decides, owned.
fn id_of(header: &str) -> Option<Id> {
    ini::identify(header).map(|(kind, name)| (kind, name.into_owned()))
}

/// A section: its header line and the lines up to the next header.
#[derive(Debug, Clone)]
struct Block {
    header: Line,
    /// The raw name inside the brackets.
    raw: String,
    id: Option<Id>,
    body: Vec<Line>,
}

impl Block {
    /// The index in `body` of the last key or continuation line.
    fn last_content(&self) -> Option<usize> {
        self.body.iter().rposition(Line::is_content)
    }

    /// The lines of a key: its line through its last continuation line.
    fn key_span(&self, key: &str) -> Option<std::ops::Range<usize>> {
        let at = self.body.iter().position(|l| l.key() == Some(key))?;
        let mut end = at + 1;
        for (i, l) in self.body.iter().enumerate().skip(at + 1) {
            match l.kind {
                Kind::Continuation(_) => end = i + 1,
                Kind::Blank | Kind::Comment => {}
                _ => break,
            }
        }
        Some(at..end)
    }

    /// A key's value as botocore joins it.
    fn value(&self, key: &str) -> Option<String> {
        let span = self.key_span(key)?;
        let mut parts: Vec<&str> = Vec::new();
        for l in &self.body[span] {
            match &l.kind {
                Kind::Key(_, v) | Kind::Continuation(v) => parts.push(v),
                Kind::Blank => parts.push(""),
                _ => {}
            }
        }
        Some(parts.join("\n").trim_end_matches(ini::is_space).to_string())
    }
}

/// The config text as sections of lines.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Lines before the first header (blank lines and comments).
    head: Vec<Line>,
    blocks: Vec<Block>,
    newline: &'static str,
    /// Blocks by the profile or session they name, in file order.
    ids: HashMap<Id, Vec<usize>>,
}

impl Doc {
    /// Reads config text; a file botocore would refuse is refused here too.
    pub fn parse(text: &str) -> std::result::Result<Doc, SyntaxError> {
        ini::parse(text)?;
        let mut doc = Doc {
            head: Vec::new(),
            blocks: Vec::new(),
            newline: "\n",
            ids: HashMap::new(),
        };
        for l in ini::lex(text)? {
            let line = Line {
                text: l.raw.text.to_string(),
                end: l.raw.end.to_string(),
                kind: l.kind.into_owned(),
            };
            if l.number == 1 {
                doc.newline = match l.raw.end {
                    "\r\n" => "\r\n",
                    "\r" => "\r",
                    _ => "\n",
                };
            }
            match &line.kind {
                Kind::Header(raw) => {
                    let raw = raw.to_string();
                    doc.blocks.push(Block {
                        id: id_of(&raw),
                        raw,
                        header: line,
                        body: Vec::new(),
                    });
                }
                _ => match doc.blocks.last_mut() {
                    Some(b) => b.body.push(line),
                    None => doc.head.push(line),
                },
            }
        }
        doc.index();
        Ok(doc)
    }

    fn index(&mut self) {
        self.ids.clear();
        for (i, b) in self.blocks.iter().enumerate() {
            if let Some(id) = &b.id {
                self.ids.entry(id.clone()).or_default().push(i);
            }
        }
    }

    /// The text as it stands.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for l in self.lines() {
            out.push_str(&l.text);
            out.push_str(&l.end);
        }
        out
    }

    fn lines(&self) -> impl Iterator<Item = &Line> {
        self.head.iter().chain(
            self.blocks
                .iter()
                .flat_map(|b| std::iter::once(&b.header).chain(b.body.iter())),
        )
    }

    /// The text, once it is shown to read as intended: every line as expected (untouched
    /// lines as before), and nothing botocore would refuse.
    pub fn checked_text(&self) -> std::result::Result<String, SyntaxError> {
        let text = self.text();
        let lexed = ini::lex(&text)?;
        ini::parse(&text)?;
        let mut expected = self.lines();
        for l in &lexed {
            match expected.next() {
                Some(e) if e.kind == l.kind => {}
                _ => {
                    return Err(SyntaxError {
                        line: l.number,
                        message: "the change would alter how this line reads (an indented line \
                                  would join another key); edit the file by hand"
                            .into(),
                    });
                }
            }
        }
        if expected.next().is_some() {
            return Err(SyntaxError {
                line: lexed.len(),
                message: "the change would join two lines; edit the file by hand".into(),
            });
        }
        Ok(text)
    }

    /// The block botocore uses for a profile or session: the last one naming it.
    fn find(&self, kind: SectionKind, name: &str) -> Option<usize> {
        self.ids
            .get(&(kind, name.to_string()))
            .and_then(|v| v.last().copied())
    }

    pub fn has_section(&self, kind: SectionKind, name: &str) -> bool {
        self.find(kind, name).is_some()
    }

    /// A key's value in a section as botocore reads it (`[DEFAULT]`'s when the section has
    /// none); a nested value comes as its raw text, starting with a line break.
    pub fn get(&self, kind: SectionKind, name: &str, key: &str) -> Option<String> {
        let b = &self.blocks[self.find(kind, name)?];
        b.value(key).or_else(|| {
            self.blocks
                .iter()
                .filter(|d| d.raw == ini::DEFAULT_SECTION)
                .find_map(|d| d.value(key))
        })
    }

    /// The names of the sections of a kind, in file order, each once.
    pub fn names(&self, kind: SectionKind) -> Vec<String> {
        let mut seen: Vec<(usize, String)> = self
            .ids
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, n), at)| (at[0], n.clone()))
            .collect();
        seen.sort();
        seen.into_iter().map(|(_, n)| n).collect()
    }

    fn new_line(&self, text: String) -> Line {
        let kind = ini::Lexer::new()
            .line(1, &text)
            .map(Kind::into_owned)
            .unwrap_or(Kind::Comment);
        Line {
            text,
            end: self.newline.to_string(),
            kind,
        }
    }

    /// A key line as it will read: `Kind::Key` for a key line after a header.
    fn key_line(&self, indent: &str, key: &str, value: &str) -> Line {
        Line {
            text: format!("{indent}{key} = {value}"),
            end: self.newline.to_string(),
            kind: Kind::Key(key.to_string().into(), value.to_string().into()),
        }
    }

    /// Sets `key = value` in a section, creating the section at the end when missing. An
    /// existing key keeps its spelling, delimiter and spacing; only the value changes (and a
    /// nested or continued value under it goes).
    pub fn set(&mut self, kind: SectionKind, name: &str, key: &str, value: &str) -> Result<()> {
        if !value_fits(value) {
            return Err(Error::Other(format!(
                "the value {:?} for {key} cannot be written to the config file",
                crate::messages::visible(value)
            )));
        }
        let Some(at) = self.find(kind, name) else {
            return self.append_section(kind, name, &[(key, value)]);
        };
        let nl = self.newline;
        let b = &self.blocks[at];
        match b.key_span(key) {
            Some(span) => {
                let old = &b.body[span.start];
                let line = old.text.as_str();
                let delim = line.find(['=', ':']).unwrap_or(line.len() - 1);
                let after = &line[delim + 1..];
                // The spacing the file had after the delimiter; one space when it had none
                // but put one before it.
                let mut pad = after[..after.len() - after.trim_start_matches(ini::is_space).len()]
                    .to_string();
                if ini::strip(after).is_empty() {
                    pad = if line[..delim].ends_with(' ') {
                        " ".into()
                    } else {
                        String::new()
                    };
                }
                let end = b.body[span.end - 1].end.clone();
                let new = Line {
                    text: format!("{}{pad}{value}", &line[..=delim]),
                    end,
                    kind: Kind::Key(key.to_string().into(), value.to_string().into()),
                };
                self.blocks[at].body.splice(span, [new]);
            }
            None => {
                // After the last key, indented as the keys are, so the lines after it read
                // as before.
                let (pos, indent) = match b.last_content() {
                    Some(i) => {
                        let last_key = b.body[..=i].iter().rev().find(|l| l.key().is_some());
                        (i + 1, last_key.map_or("", Line::indent).to_string())
                    }
                    None => (0, b.header.indent().to_string()),
                };
                let line = self.key_line(&indent, key, value);
                let b = &mut self.blocks[at];
                if pos > 0 {
                    if let Some(prev) = b.body.get_mut(pos - 1)
                        && prev.end.is_empty()
                    {
                        prev.end = nl.to_string();
                    }
                } else if b.header.end.is_empty() {
                    b.header.end = nl.to_string();
                }
                b.body.insert(pos, line);
            }
        }
        Ok(())
    }

    /// Removes a key (and its nested or continued lines) from a section.
    pub fn unset(&mut self, kind: SectionKind, name: &str, key: &str) {
        let Some(at) = self.find(kind, name) else {
            return;
        };
        if let Some(span) = self.blocks[at].key_span(key) {
            self.blocks[at].body.drain(span);
        }
    }

    /// The last line before block `at` (or of the whole text for `at == blocks.len()`).
    fn line_before(&mut self, at: usize) -> Option<&mut Line> {
        match at.checked_sub(1) {
            Some(p) => {
                let b = &mut self.blocks[p];
                Some(b.body.last_mut().unwrap_or(&mut b.header))
            }
            None => self.head.last_mut(),
        }
    }

    /// Appends a section after one blank line, its header as the AWS CLI writes it.
    pub fn append_section(
        &mut self,
        kind: SectionKind,
        name: &str,
        keys: &[(&str, &str)],
    ) -> Result<()> {
        let Some(header) = ini::header_for(kind, name) else {
            return Err(Error::Other(format!(
                "no [{} …] header reads back as the name {:?}",
                kind.word(),
                crate::messages::visible(name)
            )));
        };
        let nl = self.newline;
        let at = self.blocks.len();
        let blank = self.new_line(String::new());
        if let Some(last) = self.line_before(at) {
            if last.end.is_empty() {
                last.end = nl.to_string();
            }
            if last.kind != Kind::Blank {
                match self.blocks.last_mut() {
                    Some(b) => b.body.push(blank),
                    None => self.head.push(blank),
                }
            }
        }
        let mut header_line = self.new_line(format!("[{header}]"));
        header_line.kind = Kind::Header(header.clone().into());
        let body = keys.iter().map(|(k, v)| self.key_line("", k, v)).collect();
        let id = id_of(&header);
        if let Some(id) = &id {
            self.ids.entry(id.clone()).or_default().push(at);
        }
        self.blocks.push(Block {
            header: header_line,
            id,
            raw: header,
            body,
        });
        Ok(())
    }

    /// Removes a section: its header through its last key. Comments and blank lines after it
    /// stay (they usually introduce what follows), except one blank line that would double up.
    pub fn remove_section(&mut self, kind: SectionKind, name: &str) {
        let Some(at) = self.find(kind, name) else {
            return;
        };
        let b = self.blocks.remove(at);
        let mut rest: Vec<Line> = match b.last_content() {
            Some(i) => b.body[i + 1..].to_vec(),
            None => b.body,
        };
        let blank_before = match self.line_before(at) {
            Some(l) => l.kind == Kind::Blank,
            None => true,
        };
        if blank_before && rest.first().is_some_and(|l| l.kind == Kind::Blank) {
            rest.remove(0);
        }
        match at.checked_sub(1) {
            Some(p) => self.blocks[p].body.extend(rest),
            None => self.head.extend(rest),
        }
        self.index();
    }
}

/// Whether a value reads back exactly from a `key = value` line.
pub fn value_fits(value: &str) -> bool {
    ini::strip(value) == value && !value.contains(['\n', '\r'])
}

/// A unified diff (three lines of context) that `patch` applies, for `--dry-run`. The diff
/// is Myers' in linear space (the `similar` crate): memory grows with the file, not with
/// old lines times new lines.
pub fn diff(old: &str, new: &str, name: &str) -> String {
    use similar::DiffTag;
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    // Deletions and insertions next to each other as one replacement: `-` lines, then `+`.
    let mut hook = similar::algorithms::Replace::new(similar::algorithms::Capture::new());
    // Capturing cannot fail.
    let _ = similar::algorithms::myers::diff(&mut hook, &a, 0..a.len(), &b, 0..b.len());
    let groups = similar::group_diff_ops(hook.into_inner().into_ops(), 3);
    if groups.is_empty() {
        return String::new();
    }
    // `start,len` as unified diffs write a range: one line is just its number; an empty range
    // names the line before it.
    let range = |r: std::ops::Range<usize>| match r.len() {
        1 => format!("{}", r.start + 1),
        0 => format!("{},0", r.start),
        n => format!("{},{n}", r.start + 1),
    };
    let mut out = format!("--- {name}\n+++ {name}\n");
    let lines = |out: &mut String, mark: char, lines: &[&str]| {
        for l in lines {
            out.push(mark);
            out.push_str(l);
            if !l.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    };
    for group in groups {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(first.old_range().start..last.old_range().end),
            range(first.new_range().start..last.new_range().end)
        ));
        for op in &group {
            let (o, n) = (&a[op.old_range()], &b[op.new_range()]);
            match op.tag() {
                DiffTag::Equal => lines(&mut out, ' ', o),
                DiffTag::Delete => lines(&mut out, '-', o),
                DiffTag::Insert => lines(&mut out, '+', n),
                DiffTag::Replace => {
                    lines(&mut out, '-', o);
                    lines(&mut out, '+', n);
                }
            }
        }
    }
    out
}

/// Reads the config file; a missing file is an empty text.
pub fn read(path: &Path) -> Result<String> {
    match files::read_bounded(path, files::CONFIG_CAP)? {
        Some(b) => crate::config::utf8(&b, path).map(str::to_string),
        None => Ok(String::new()),
    }
}

/// Writes the config text atomically, through a symlink to its target, keeping its mode.
pub fn write(path: &Path, text: &str) -> Result<()> {
    files::write_atomic(path, text.as_bytes(), files::Existing::Keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SectionKind::{Profile, SsoSession};

    const REAL: &str = "# my config\r\n[default]\r\nregion=eu-west-1\r\n";

    fn doc(text: &str) -> Doc {
        Doc::parse(text).unwrap()
    }

    fn done(d: &Doc) -> String {
        d.checked_text().unwrap()
    }

    #[test]
    fn setting_a_key_changes_only_its_value_and_keeps_spacing() {
        let mut d =
            doc("[profile a]\nregion=us-east-1 \ns3 =\n  x = 1\n# c\n\n[profile b]\nk : v\n");
        d.set(Profile, "a", "region", "eu-west-1").unwrap();
        d.set(Profile, "b", "k", "w").unwrap();
        d.set(Profile, "a", "output", "json").unwrap();
        assert_eq!(
            done(&d),
            "[profile a]\nregion=eu-west-1\ns3 =\n  x = 1\noutput = json\n# c\n\n[profile b]\nk : w\n"
        );
    }

    #[test]
    fn new_sections_go_at_the_end_after_a_blank_line_with_the_files_line_endings() {
        let mut d = doc(REAL);
        d.set(Profile, "dev", "sso_session", "corp").unwrap();
        assert_eq!(
            done(&d),
            format!("{REAL}\r\n[profile dev]\r\nsso_session = corp\r\n")
        );
        let mut d = doc("[a]\nk = v");
        d.append_section(Profile, "b", &[("x", "1")]).unwrap();
        assert_eq!(done(&d), "[a]\nk = v\n\n[profile b]\nx = 1\n");
        // Old Mac line endings stay old Mac line endings.
        let mut d = doc("[default]\rregion = x\r");
        d.set(Profile, "default", "output", "json").unwrap();
        assert_eq!(done(&d), "[default]\rregion = x\routput = json\r");
    }

    #[test]
    fn removing_a_section_keeps_the_comment_that_introduces_the_next() {
        let mut d = doc("[a]\nk = v\n\n[profile gen]\nx = 1\n\n# about b\n[b]\n");
        d.remove_section(Profile, "gen");
        assert_eq!(done(&d), "[a]\nk = v\n\n# about b\n[b]\n");
    }

    #[test]
    fn sections_are_found_by_the_name_botocore_reads() {
        let d = doc(
            "[profile default]\nregion = x\n[profile 'my dev']\nk=1\n[profile odd] # note\nk=2\n",
        );
        assert_eq!(d.get(Profile, "default", "region").as_deref(), Some("x"));
        assert_eq!(d.get(Profile, "my dev", "k").as_deref(), Some("1"));
        assert_eq!(d.get(Profile, "odd", "k").as_deref(), Some("2"));
        // The last of two sections naming one profile is the one edited.
        let mut d = doc("[default]\nregion = a\n[profile default]\nregion = b\n");
        d.set(Profile, "default", "region", "c").unwrap();
        assert_eq!(
            done(&d),
            "[default]\nregion = a\n[profile default]\nregion = c\n"
        );
    }

    #[test]
    fn names_the_aws_cli_quotes_edit_in_place_and_new_ones_are_quoted_alike() {
        let mut d = doc(
            "[profile 'my dev']\nregion = a\n[sso-session 'corp sess']\nsso_region = us-east-1\n",
        );
        d.set(Profile, "my dev", "region", "b").unwrap();
        d.set(SsoSession, "corp sess", "sso_start_url", "https://x")
            .unwrap();
        d.set(Profile, "o'brien", "region", "c").unwrap();
        assert_eq!(
            done(&d),
            "[profile 'my dev']\nregion = b\n[sso-session 'corp sess']\nsso_region = us-east-1\nsso_start_url = https://x\n\n[profile 'o'\"'\"'brien']\nregion = c\n"
        );
    }

    #[test]
    fn keys_inherit_default_and_indented_sections_get_keys_indented_alike() {
        let mut d = doc(
            "[DEFAULT]\noutput = json\n[profile a]\n    region = x\n    k = v\n  [profile b]\n",
        );
        assert_eq!(d.get(Profile, "a", "output").as_deref(), Some("json"));
        d.set(Profile, "a", "sso_session", "s").unwrap();
        assert_eq!(
            done(&d),
            "[DEFAULT]\noutput = json\n[profile a]\n    region = x\n    k = v\n    sso_session = s\n  [profile b]\n"
        );
    }

    #[test]
    fn a_key_under_an_indented_header_is_never_a_duplicate() {
        // `  [sso-session x]` under a key is part of that key's value: no section x exists,
        // so the new one is appended, and the file still reads as one x.
        let mut d = doc("[profile a]\nk = v\n  [sso-session x]\n  sso_region = us-east-1\n");
        assert!(!d.has_section(SsoSession, "x"));
        d.set(SsoSession, "x", "sso_region", "eu-west-1").unwrap();
        let text = done(&d);
        assert!(
            text.ends_with("\n\n[sso-session x]\nsso_region = eu-west-1\n"),
            "{text}"
        );
        // An indented header after another header is a section, found and edited.
        let mut d = doc("[profile a]\n  [sso-session x]\n  sso_region = us-east-1\n");
        d.set(SsoSession, "x", "sso_region", "eu-west-1").unwrap();
        assert_eq!(
            done(&d),
            "[profile a]\n  [sso-session x]\n  sso_region = eu-west-1\n"
        );
    }

    #[test]
    fn files_botocore_refuses_are_refused_and_edits_that_change_other_lines_too() {
        assert!(Doc::parse("\u{feff}[default]\n").is_err());
        assert!(Doc::parse("[a]\n[a]\n").is_err());
        // Removing [gen] would make the indented header a value line of k.
        let mut d = doc("[a]\nk = v\n[profile gen]\n    x = 1\n  [b]\n");
        d.remove_section(Profile, "gen");
        assert!(d.checked_text().is_err());
        assert!(d.set(Profile, "a", "k", "two\nlines").is_err());
    }

    #[test]
    fn replacing_a_nested_or_continued_value_takes_its_lines() {
        let mut d = doc("[profile a]\ns3 =\n  x = 1\n# keep\n  y = 2\nk = v\n");
        d.set(Profile, "a", "s3", "flat").unwrap();
        assert_eq!(done(&d), "[profile a]\ns3 = flat\nk = v\n");
        let mut d = doc("[profile a]\nk = v\n  more\nz = 1");
        d.unset(Profile, "a", "k");
        assert_eq!(done(&d), "[profile a]\nz = 1");
    }

    #[test]
    fn diff_marks_a_last_line_without_newline_and_writes_ranges_as_patch_reads_them() {
        assert_eq!(diff("a\n", "a\n", "cfg"), "");
        assert_eq!(
            diff("a\nb", "a\nc\n", "cfg"),
            "--- cfg\n+++ cfg\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
        );
        assert_eq!(diff("", "x\n", "f"), "--- f\n+++ f\n@@ -0,0 +1 @@\n+x\n");
    }

    #[test]
    fn diff_is_unified_with_headers_and_hunks() {
        let d = diff(
            "a\nb\nc\nd\ne\nf\ng\nh\n",
            "a\nb\nc\nD\ne\nf\ng\nh\n",
            "cfg",
        );
        assert_eq!(
            d,
            "--- cfg\n+++ cfg\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        );
    }
}
