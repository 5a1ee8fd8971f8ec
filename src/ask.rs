//! Questions on the terminal for `ssoenv configure`: plain lines on stderr and stdin, so they
//! work in any terminal, over ssh, and under a test's pseudo-terminal. Every question has a
//! flag; without a terminal a missing answer is an error naming that flag (a default counts as
//! an answer). Pickers filter by typed text, for people with hundreds of accounts.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{Error, Result};

pub struct Asker {
    interactive: bool,
}

/// How many entries a picker shows at once.
const SHOWN: usize = 20;

impl Asker {
    pub fn new() -> Asker {
        Asker {
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        }
    }

    fn no_terminal(what: &str, flag: &str) -> Error {
        Error::Usage(format!("{what}: no terminal to ask on; pass {flag}"))
    }

    /// One line from stdin; end of input (Ctrl-D) cancels.
    fn line(&self, question: &str) -> Result<String> {
        eprint!("{question}");
        let _ = std::io::stderr().flush();
        let mut s = String::new();
        match std::io::stdin().lock().read_line(&mut s) {
            Ok(0) | Err(_) => Err(Error::Other("cancelled; nothing was written".into())),
            Ok(_) => Ok(s.trim().to_string()),
        }
    }

    /// Asks until `check` accepts the answer; an empty answer takes the default.
    pub fn ask(
        &self,
        question: &str,
        flag: &str,
        default: Option<&str>,
        check: impl Fn(&str) -> Result<()>,
    ) -> Result<String> {
        if !self.interactive {
            return match default {
                Some(d) => Ok(d.to_string()),
                None => Err(Asker::no_terminal(question, flag)),
            };
        }
        let shown = match default {
            Some(d) if !d.is_empty() => format!("{question} [{d}]: "),
            Some(_) => format!("{question} [none]: "),
            None => format!("{question}: "),
        };
        loop {
            let answer = self.line(&shown)?;
            let answer = match (answer.is_empty(), default) {
                (true, Some(d)) => d.to_string(),
                (true, None) => continue,
                _ => answer,
            };
            match check(&answer) {
                Ok(()) => return Ok(answer),
                Err(e) => eprintln!("  {e}"),
            }
        }
    }

    /// Picks one of `items` (labels); one item is taken without asking.
    pub fn pick(&self, what: &str, flag: &str, items: &[String]) -> Result<usize> {
        if items.len() == 1 {
            eprintln!("Using the only {what}: {}", items[0]);
            return Ok(0);
        }
        if !self.interactive {
            return Err(Asker::no_terminal(&format!("which {what}"), flag));
        }
        let mut filter = String::new();
        loop {
            let needle = filter.to_lowercase();
            let matching: Vec<usize> = (0..items.len())
                .filter(|&i| items[i].to_lowercase().contains(&needle))
                .collect();
            if matching.len() == 1 && !filter.is_empty() {
                eprintln!("Using {what}: {}", items[matching[0]]);
                return Ok(matching[0]);
            }
            if matching.is_empty() {
                eprintln!("  nothing matches '{filter}'");
                filter.clear();
                continue;
            }
            eprintln!(
                "{} {what}s{}:",
                matching.len(),
                if filter.is_empty() {
                    String::new()
                } else {
                    format!(" matching '{filter}'")
                }
            );
            for (n, &i) in matching.iter().take(SHOWN).enumerate() {
                eprintln!("  {:>3}) {}", n + 1, items[i]);
            }
            if matching.len() > SHOWN {
                eprintln!(
                    "  ... {} more: type to narrow the list",
                    matching.len() - SHOWN
                );
            }
            let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            let answer = self.line(&format!(
                "Pick {article} {what} (number, or text to filter): "
            ))?;
            match answer.parse::<usize>() {
                Ok(n) if (1..=matching.len().min(SHOWN)).contains(&n) => {
                    eprintln!("Using {what}: {}", items[matching[n - 1]]);
                    return Ok(matching[n - 1]);
                }
                _ => filter = answer,
            }
        }
    }
}

/// Asks the controlling terminal (`/dev/tty`) for one line without echoing it, whatever
/// stdin and stdout are (`eval "$(ssoenv admin)"` captures stdout). `None` when there is no
/// terminal, or this process is not in its foreground: a background job that read it would
/// be stopped (SIGTTIN) while holding its locks.
#[cfg(unix)]
pub fn terminal_secret(question: &str) -> Option<String> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NOCTTY: opening the terminal never makes it this process's controlling terminal.
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/tty")
        .ok()?;
    let fd = tty.as_raw_fd();
    // SAFETY: plain calls on a descriptor this function owns; `old` is written by tcgetattr.
    unsafe {
        if libc::tcgetpgrp(fd) != libc::getpgrp() {
            return None;
        }
        let mut old: libc::termios = std::mem::zeroed();
        let saved = libc::tcgetattr(fd, &mut old) == 0;
        if saved {
            let mut quiet = old;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet);
        }
        let _ = tty.write_all(question.as_bytes());
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        // Bounded: a code is a few characters.
        while line.len() < 256 {
            match tty.read(&mut byte) {
                Ok(1) if byte[0] != b'\n' => line.push(byte[0]),
                _ => break,
            }
        }
        if saved {
            libc::tcsetattr(fd, libc::TCSAFLUSH, &old);
        }
        Some(String::from_utf8_lossy(&line).trim().to_string())
    }
}

#[cfg(not(unix))]
pub fn terminal_secret(_question: &str) -> Option<String> {
    None
}
