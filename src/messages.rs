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
