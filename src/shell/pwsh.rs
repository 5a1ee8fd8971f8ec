//! PowerShell: verbatim `'…'` strings. PowerShell also ends them at U+2018, U+2019, U+201A and
//! U+201B (the language spec's *single-quote-character*), so each of those is doubled too.

use super::Forms;
use crate::env::Change;

fn is_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

pub fn quote(value: &str) -> String {
    super::single_quoted(value, |c, out| {
        if is_quote(c) {
            out.push(c);
        }
        out.push(c);
    })
}

const FORMS: Forms = Forms {
    set: ("$Env:", " = "),
    unset: ("Remove-Item -Path Env:", " -ErrorAction SilentlyContinue"),
    end: "\n",
};

pub fn render(changes: &[Change]) -> String {
    super::statements(changes, &FORMS, quote)
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn every_single_quote_character_is_doubled() {
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(
            quote("a\u{2018}b\u{2019}c\u{201A}d\u{201B}"),
            "'a\u{2018}\u{2018}b\u{2019}\u{2019}c\u{201A}\u{201A}d\u{201B}\u{201B}'"
        );
        assert_eq!(quote("$x `n \"y\""), "'$x `n \"y\"'");
    }
}
