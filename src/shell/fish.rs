//! fish: `'…'` in which only `\\` and `\'` are escapes (fish manual, "Quotes"), so `\` is
//! escaped first, then `'`. POSIX quoting is wrong here: `'\''` ends differently in fish.

use crate::env::Change;

pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

pub fn render(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        match c {
            Change::Set(k, v) => {
                out.push_str("set -gx ");
                out.push_str(k.as_str());
                out.push(' ');
                out.push_str(&quote(v));
            }
            // `set -e` fails quietly (status 4) when the variable is not set.
            Change::Unset(k) => {
                out.push_str("set -e -g ");
                out.push_str(k.as_str());
            }
        }
        out.push_str(";\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn backslash_then_quote_are_escaped() {
        assert_eq!(quote(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(quote("trailing\\"), r"'trailing\\'");
        assert_eq!(quote(""), "''");
    }
}
