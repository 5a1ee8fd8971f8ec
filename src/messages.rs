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
        $crate::messages::warning(&format!($($arg)*))
    };
}

thread_local! {
    /// The warnings of a thread that holds them back ([`holding`]).
    static HELD: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Writes a warning to stderr, or keeps it for later on a thread that holds its warnings.
pub fn warning(text: &str) {
    let line = format!("ssoenv: warning: {}", visible(text));
    let line = HELD.with_borrow_mut(|held| match held {
        Some(lines) => {
            lines.push(line);
            None
        }
        None => Some(line),
    });
    if let Some(line) = line {
        eprintln!("{line}");
    }
}

/// Runs `f` with this thread's warnings held back, and returns them with its result: work
/// split over threads writes its warnings in the order one thread would have.
pub fn holding<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    HELD.with_borrow_mut(|held| *held = Some(Vec::new()));
    let out = f();
    let lines = HELD.with_borrow_mut(Option::take).unwrap_or_default();
    (out, lines)
}

/// Writes warnings held back by [`holding`].
pub fn release(lines: Vec<String>) {
    for line in lines {
        eprintln!("{line}");
    }
}

/// Text for a message: control characters (and other invisible line breaks) made visible.
pub fn visible(s: &str) -> String {
    visible_cow(s).into_owned()
}

/// Whether [`visible`] writes a character otherwise than as itself.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// [`visible`], borrowing text that has nothing to show (most names: a table of ten thousand
/// profiles copies none of them).
pub fn visible_cow(s: &str) -> std::borrow::Cow<'_, str> {
    let plain = if s.is_ascii() {
        !s.bytes().any(|b| b.is_ascii_control())
    } else {
        !s.chars().any(hidden)
    };
    if plain {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if hidden(c) => {
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
    std::borrow::Cow::Owned(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_borrows_plain_text_and_escapes_the_rest() {
        for s in [
            "dev",
            "my dev",
            "caf\u{e9}",
            "",
            "a\nb",
            "x\u{1b}]0;t\u{7}",
            "\u{2028}",
            "\u{feff}p",
        ] {
            assert_eq!(visible_cow(s), visible(s));
        }
        assert!(matches!(
            visible_cow("caf\u{e9}"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(visible("a\tb\u{7f}\u{2029}"), "a\\tb\\x7f\\u{2029}");
    }

    #[test]
    fn held_warnings_are_returned_in_order_not_written() {
        let ((), held) = holding(|| {
            crate::warn!("one");
            crate::warn!("two\n");
        });
        assert_eq!(held, ["ssoenv: warning: one", "ssoenv: warning: two\\n"]);
        // Held only within `holding`.
        assert!(HELD.with_borrow(Option::is_none));
    }
}
