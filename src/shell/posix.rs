//! POSIX sh, dash, bash, zsh: `'…'` with each `'` written as `'\''` (POSIX.1 §2.2.3: nothing
//! is special inside single quotes). Never `$'…'`, which dash lacks.

use super::Forms;
use crate::env::Change;

pub fn quote(value: &str) -> String {
    super::single_quoted(value, |c, out| match c {
        '\'' => out.push_str("'\\''"),
        c => out.push(c),
    })
}

const FORMS: Forms = Forms {
    set: ("export ", "="),
    unset: ("unset ", ""),
    end: "\n",
};

pub fn render(changes: &[Change]) -> String {
    super::statements(changes, &FORMS, quote)
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
