//! cmd.exe and dotenv files: neither has a quoting rule that is safe for every value (cmd
//! expands `%…%` and `!…!` even in quotes; dotenv dialects disagree on quotes). So values
//! are written bare and only from a safe alphabet; anything else is refused, never printed.

use crate::env::Change;
use crate::error::{Error, Result};

#[derive(Clone, Copy)]
pub enum Style {
    Cmd,
    Dotenv,
}

/// Characters of base64, ISO 8601 times, profile and region names.
fn safe(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=_.:,@-".contains(&b))
}

pub fn render(changes: &[Change], style: Style) -> Result<String> {
    let format = match style {
        Style::Cmd => "cmd",
        Style::Dotenv => "dotenv",
    };
    let mut out = String::new();
    for c in changes {
        match (c, style) {
            (Change::Set(k, v), _) if !safe(v) => {
                return Err(Error::Unsafe {
                    format,
                    variable: k.as_str().to_string(),
                });
            }
            (Change::Set(k, v), Style::Cmd) => {
                out.push_str(&format!("set {}={v}\r\n", k.as_str()));
            }
            (Change::Set(k, v), Style::Dotenv) => {
                out.push_str(&format!("{}={v}\n", k.as_str()));
            }
            (Change::Unset(k), Style::Cmd) => out.push_str(&format!("set {}=\r\n", k.as_str())),
            // An env file cannot remove a variable; an empty value is the closest.
            (Change::Unset(k), Style::Dotenv) => out.push_str(&format!("{}=\n", k.as_str())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{ACCESS_KEY_ID, SESSION_TOKEN};

    #[test]
    fn base64_and_times_pass_and_anything_shell_special_is_refused() {
        let ok = [Change::Set(ACCESS_KEY_ID, "ASIA+/=09:-_.@,".into())];
        assert_eq!(
            render(&ok, Style::Dotenv).unwrap(),
            "AWS_ACCESS_KEY_ID=ASIA+/=09:-_.@,\n"
        );
        for v in crate::shell::nasty::VALUES
            .iter()
            .filter(|v| !v.is_empty() && **v != "plain")
        {
            let bad = [Change::Set(SESSION_TOKEN, v.to_string())];
            let e = render(&bad, Style::Cmd).unwrap_err().to_string();
            assert!(e.contains("AWS_SESSION_TOKEN") && e.contains("cmd"), "{e}");
        }
    }
}
