//! Everything ssoenv says on stderr besides the final error: the `--debug` switch and its
//! lines, and warnings; and [`visible`], which every message quoting file content, a name or
//! a server's text goes through. Callers pass no secrets: tokens and keys are never formatted.

use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// An `SSOENV_*` setting: `None` when unset or empty, its value when `parse` accepts it,
/// else the message naming the variable and what it takes.
pub fn setting<T>(
    var: &str,
    accepted: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, String> {
    let Some(raw) = std::env::var_os(var).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let text = raw.to_string_lossy();
    match parse(text.trim()) {
        Some(v) => Ok(Some(v)),
        None => Err(format!(
            "{var}={}: not valid; it takes {accepted}",
            visible(&text)
        )),
    }
}

/// `--debug` output on stderr.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::messages::debug_enabled() {
            eprintln!("ssoenv: debug: {}", format_args!($($arg)*));
        }
    };
}

/// A warning: something went wrong that the command survives.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        eprintln!(
            "ssoenv: warning: {}",
            $crate::messages::visible(&format!($($arg)*))
        )
    };
}

/// Text for a message: control characters (and other invisible line breaks) made visible.
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{n:x}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Up to three of `candidates` close to `word` (a few edits apart, or one inside the other),
/// closest first, for "did you mean".
pub fn close_to<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = candidates
        .map(|c| (distance(c, word), c))
        .filter(|(d, c)| *d <= 2.max(word.len() / 3) || c.contains(word) || word.contains(c))
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
