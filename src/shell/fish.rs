//! fish: `'…'` in which only `\\` and `\'` are escapes (fish manual, "Quotes"), so `\` is
//! escaped first, then `'`. POSIX quoting is wrong here: `'\''` ends differently in fish.

use super::Forms;
use crate::env::Change;

pub fn quote(value: &str) -> String {
    super::single_quoted(value, |c, out| match c {
        '\\' => out.push_str("\\\\"),
        '\'' => out.push_str("\\'"),
        c => out.push(c),
    })
}

// `set -e` fails quietly (status 4) when the variable is not set.
const FORMS: Forms = Forms {
    set: ("set -gx ", " "),
    unset: ("set -e -g ", ""),
    end: ";\n",
};

pub fn render(changes: &[Change]) -> String {
    super::statements(changes, &FORMS, quote)
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
