//! POSIX sh, dash, bash, zsh: `'…'` with each `'` written as `'\''` (POSIX.1 §2.2.3: nothing
//! is special inside single quotes). Never `$'…'`, which dash lacks.

use crate::env::Change;

pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
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
                out.push_str("export ");
                out.push_str(k.as_str());
                out.push('=');
                out.push_str(&quote(v));
            }
            Change::Unset(k) => {
                out.push_str("unset ");
                out.push_str(k.as_str());
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn single_quotes_are_closed_escaped_and_reopened() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("trailing\\"), "'trailing\\'");
        assert_eq!(quote("$(x) `y`"), "'$(x) `y`'");
        for v in crate::shell::nasty::VALUES {
            // Between the quotes only the escaped form of ' may appear.
            let q = quote(v);
            let inner = &q[1..q.len() - 1];
            assert_eq!(inner.replace("'\\''", "'"), *v);
        }
    }
}
