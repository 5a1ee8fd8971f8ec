//! Lossless edits of the config file: the text is kept as lines, and only the lines of the
//! keys and sections being changed are touched. Comments, blank lines, ordering, spacing,
//! unknown keys, nested values and other tools' sections stay byte for byte, as do the line
//! endings. Writes go to a temp file beside the target (through a symlink, to its target) with
//! the file's permissions, then a rename: a crash or Ctrl-C leaves the old file or the new one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `[ profile  dev ]` → `profile dev` (whitespace normalised).
    Header(String),
    /// A `key = value` line; the key lowercased.
    Key(String),
    /// An indented line: part of the nested value above it.
    Continuation,
    Comment,
    Blank,
    Other,
}

fn classify(line: &str) -> Kind {
    let t = line.trim_end_matches(['\n', '\r']);
    if t.trim().is_empty() {
        return Kind::Blank;
    }
    if t.starts_with([' ', '\t']) {
        return Kind::Continuation;
    }
    if t.starts_with(['#', ';']) {
        return Kind::Comment;
    }
    if let Some(rest) = t.strip_prefix('[')
        && let Some(end) = rest.rfind(']')
    {
        return Kind::Header(rest[..end].split_whitespace().collect::<Vec<_>>().join(" "));
    }
    match t.find(['=', ':']) {
        Some(i) => Kind::Key(t[..i].trim().to_ascii_lowercase()),
        None => Kind::Other,
    }
}

/// The header of a profile section, as the AWS CLI writes it.
pub fn profile_header(name: &str) -> String {
    if name == "default" {
        "default".into()
    } else {
        format!("profile {name}")
    }
}

pub fn session_header(name: &str) -> String {
    format!("sso-session {name}")
}

/// One line with its ending, classified once.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    kind: Kind,
}

impl Line {
    fn new(text: String) -> Line {
        let kind = classify(&text);
        Line { text, kind }
    }
}

/// The config text as lines, each with its own line ending.
#[derive(Debug, Clone)]
pub struct Doc {
    lines: Vec<Line>,
    newline: &'static str,
}

impl Doc {
    pub fn parse(text: &str) -> Doc {
        let lines: Vec<Line> = text
            .split_inclusive('\n')
            .map(|l| Line::new(l.to_string()))
            .collect();
        let newline = if lines.first().is_some_and(|l| l.text.ends_with("\r\n")) {
            "\r\n"
        } else {
            "\n"
        };
        Doc { lines, newline }
    }

    pub fn text(&self) -> String {
        self.lines.iter().map(|l| l.text.as_str()).collect()
    }

    /// The index of a section's header line. `default` also matches `[profile default]`.
    fn find(&self, header: &str) -> Option<usize> {
        self.lines.iter().position(|l| match &l.kind {
            Kind::Header(h) => h == header || (header == "default" && h == "profile default"),
            _ => false,
        })
    }

    pub fn has_section(&self, header: &str) -> bool {
        self.find(header).is_some()
    }

    /// The end (exclusive) of the section starting at `h`: the next header or the end.
    fn end(&self, h: usize) -> usize {
        (h + 1..self.lines.len())
            .find(|&i| matches!(self.lines[i].kind, Kind::Header(_)))
            .unwrap_or(self.lines.len())
    }

    /// The last line of a section that belongs to it (a key, its nested lines, or a line the
    /// CLI would reject); comments and blanks after it belong to what follows.
    fn last_content(&self, h: usize) -> usize {
        (h + 1..self.end(h))
            .rev()
            .find(|&i| !matches!(self.lines[i].kind, Kind::Comment | Kind::Blank))
            .unwrap_or(h)
    }

    /// A key's value in a section (nested values are not read).
    pub fn get(&self, header: &str, key: &str) -> Option<String> {
        let h = self.find(header)?;
        (h + 1..self.end(h)).find_map(|i| match &self.lines[i].kind {
            Kind::Key(k) if k == key => {
                let l = self.lines[i].text.trim_end_matches(['\n', '\r']);
                let at = l.find(['=', ':'])?;
                Some(l[at + 1..].trim().to_string())
            }
            _ => None,
        })
    }

    /// Every section header, in order.
    pub fn headers(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| match &l.kind {
                Kind::Header(h) => Some(h.clone()),
                _ => None,
            })
            .collect()
    }

    /// Sets `key = value` in a section, creating the section at the end when missing. An
    /// existing key keeps its spelling, delimiter and spacing; only the value changes.
    pub fn set(&mut self, header: &str, key: &str, value: &str) {
        let nl = self.newline;
        let Some(h) = self.find(header) else {
            self.append_section(header, &[(key, value)]);
            return;
        };
        let end = self.end(h);
        let found = (h + 1..end).find(|&i| matches!(&self.lines[i].kind, Kind::Key(k) if k == key));
        match found {
            Some(i) => {
                let line = self.lines[i]
                    .text
                    .trim_end_matches(['\n', '\r'])
                    .to_string();
                let at = line
                    .find(['=', ':'])
                    .unwrap_or(line.len().saturating_sub(1));
                let after = &line[at + 1..];
                // The whitespace the file had after the delimiter; one space when it had none
                // but put one before it.
                let mut pad = after[..after.len() - after.trim_start().len()].to_string();
                if after.trim().is_empty() {
                    pad = if line[..at].ends_with(' ') {
                        " ".into()
                    } else {
                        String::new()
                    };
                }
                let new = format!("{}{pad}{value}{nl}", &line[..=at]);
                // A nested value under the old key goes with it.
                let mut j = i + 1;
                while j < end && self.lines[j].kind == Kind::Continuation {
                    j += 1;
                }
                self.lines.splice(i..j, [Line::new(new)]);
            }
            None => {
                let at = self.last_content(h) + 1;
                self.ensure_newline(at - 1);
                self.lines
                    .insert(at, Line::new(format!("{key} = {value}{nl}")));
            }
        }
    }

    /// Removes a key (and its nested lines) from a section.
    pub fn unset(&mut self, header: &str, key: &str) {
        let Some(h) = self.find(header) else { return };
        let end = self.end(h);
        if let Some(i) =
            (h + 1..end).find(|&i| matches!(&self.lines[i].kind, Kind::Key(k) if k == key))
        {
            let mut j = i + 1;
            while j < end && self.lines[j].kind == Kind::Continuation {
                j += 1;
            }
            self.lines.drain(i..j);
        }
    }

    fn ensure_newline(&mut self, i: usize) {
        if let Some(l) = self.lines.get_mut(i)
            && !l.text.ends_with('\n')
        {
            l.text.push_str(self.newline);
        }
    }

    /// Appends a section after one blank line.
    pub fn append_section(&mut self, header: &str, keys: &[(&str, &str)]) {
        let nl = self.newline;
        if !self.lines.is_empty() {
            let last = self.lines.len() - 1;
            self.ensure_newline(last);
            if self.lines[last].kind != Kind::Blank {
                self.lines.push(Line::new(nl.to_string()));
            }
        }
        self.lines.push(Line::new(format!("[{header}]{nl}")));
        for (k, v) in keys {
            self.lines.push(Line::new(format!("{k} = {v}{nl}")));
        }
    }

    /// Removes a section: its header through its last key. Comments and blank lines after it
    /// stay (they usually introduce what follows), except one blank line that would double up.
    pub fn remove_section(&mut self, header: &str) {
        let Some(h) = self.find(header) else { return };
        let mut last = self.last_content(h);
        let blank_before = h == 0 || self.lines[h - 1].kind == Kind::Blank;
        if blank_before
            && self
                .lines
                .get(last + 1)
                .is_some_and(|l| l.kind == Kind::Blank)
        {
            last += 1;
        }
        self.lines.drain(h..=last);
    }
}

/// A line diff (`-`/`+` lines with two lines of context, `@@` between hunks) for `--dry-run`.
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence, by dynamic programming from the end.
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] > lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= 2);
    let mut out = String::new();
    let mut gap = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near(k) {
            if gap && !out.is_empty() {
                out.push_str("@@\n");
            }
            gap = false;
            out.push(*op);
            out.push_str(line);
            out.push('\n');
        } else {
            gap = true;
        }
    }
    out
}

/// Reads the config file; a missing file is an empty text.
pub fn read(path: &Path) -> Result<String> {
    match fs::read(path) {
        Ok(b) => String::from_utf8(b).map_err(|_| {
            Error::Other(format!("{} is not UTF-8 text; not changed", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::io(path, "read", e)),
    }
}

/// Writes the config text atomically. Through a symlink the target is replaced (the link
/// stays); the file keeps its permissions (0600 when new); a read-only file is refused.
pub fn write(path: &Path, text: &str) -> Result<()> {
    let target: PathBuf = match fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(Error::io(path, "resolve", e)),
    };
    let meta = fs::metadata(&target).ok();
    if meta.as_ref().is_some_and(|m| m.permissions().readonly()) {
        return Err(Error::Other(format!(
            "{} is read-only; not changed (make it writable, or edit it by hand)",
            path.display()
        )));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    if !dir.exists() {
        crate::cache::ensure_dir(dir)?;
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.ssoenv-{}.tmp", std::process::id()));
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
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &target)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, "write", e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "# my config\r\n[default]\r\nregion=eu-west-1\r\n";

    #[test]
    fn setting_a_key_changes_only_its_value_and_keeps_spacing() {
        let mut d = Doc::parse(
            "[profile a]\nregion=us-east-1 \ns3 =\n  x = 1\n# c\n\n[profile b]\nk : v\n",
        );
        d.set("profile a", "region", "eu-west-1");
        d.set("profile b", "k", "w");
        d.set("profile a", "output", "json");
        assert_eq!(
            d.text(),
            "[profile a]\nregion=eu-west-1\ns3 =\n  x = 1\noutput = json\n# c\n\n[profile b]\nk : w\n"
        );
    }

    #[test]
    fn new_sections_go_at_the_end_after_a_blank_line_with_the_files_line_endings() {
        let mut d = Doc::parse(REAL);
        d.set("profile dev", "sso_session", "corp");
        assert_eq!(
            d.text(),
            format!("{REAL}\r\n[profile dev]\r\nsso_session = corp\r\n")
        );
        let mut d = Doc::parse("[a]\nk = v");
        d.append_section("b", &[("x", "1")]);
        assert_eq!(d.text(), "[a]\nk = v\n\n[b]\nx = 1\n");
    }

    #[test]
    fn removing_a_section_keeps_the_comment_that_introduces_the_next() {
        let mut d = Doc::parse("[a]\nk = v\n\n[profile gen]\nx = 1\n\n# about b\n[b]\n");
        d.remove_section("profile gen");
        assert_eq!(d.text(), "[a]\nk = v\n\n# about b\n[b]\n");
    }

    #[test]
    fn default_matches_both_spellings_and_headers_are_normalised() {
        let d = Doc::parse("[ profile   default ]\nregion = x\n[  profile  odd ]\nk=1\n");
        assert_eq!(d.get("default", "region").as_deref(), Some("x"));
        assert_eq!(d.get("profile odd", "k").as_deref(), Some("1"));
    }

    #[test]
    fn diff_shows_changes_with_context() {
        let d = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n");
        assert_eq!(d, " b\n c\n-d\n+D\n e\n f\n");
    }
}
