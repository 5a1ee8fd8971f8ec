//! Opening a URL in the user's browser: `BROWSER` if set (a `:`-separated list; `%s` stands
//! for the URL), else the platform opener found on PATH. The URL is passed as one argument,
//! never through a shell. Failure to open is not fatal: the caller has printed the URL.

use std::process::{Command, Stdio};

/// Starts the browser without waiting for it (a browser stand-in may call back into our
/// loopback listener before it exits). A thread reaps it and reports a failed start.
pub fn open(url: &str) {
    let Some(mut cmd) = command(url) else {
        eprintln!("ssoenv: no browser found (set BROWSER); open the URL above yourself");
        return;
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match cmd.spawn() {
        Ok(mut child) => {
            std::thread::spawn(move || {
                if let Ok(status) = child.wait()
                    && !status.success()
                {
                    eprintln!(
                        "ssoenv: the browser could not be opened; open the URL above yourself"
                    );
                }
            });
        }
        Err(e) => eprintln!("ssoenv: cannot start the browser ({e}); open the URL above yourself"),
    }
}

fn command(url: &str) -> Option<Command> {
    if let Ok(list) = std::env::var("BROWSER") {
        for entry in list.split(':').filter(|e| !e.trim().is_empty()) {
            let mut words = entry.split_whitespace();
            let Some(prog) = words.next() else { continue };
            let Ok(path) = which::which(prog) else {
                continue;
            };
            let mut cmd = Command::new(path);
            let mut placed = false;
            for w in words {
                if w.contains("%s") {
                    cmd.arg(w.replace("%s", url));
                    placed = true;
                } else {
                    cmd.arg(w);
                }
            }
            if !placed {
                cmd.arg(url);
            }
            return Some(cmd);
        }
    }
    platform(url)
}

#[cfg(target_os = "macos")]
fn platform(url: &str) -> Option<Command> {
    let mut c = Command::new(which::which("open").ok()?);
    c.arg(url);
    Some(c)
}

#[cfg(windows)]
fn platform(url: &str) -> Option<Command> {
    // rundll32 takes the URL as-is; `cmd /c start` would interpret `&`.
    let mut c = Command::new("rundll32");
    c.arg("url.dll,FileProtocolHandler").arg(url);
    Some(c)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform(url: &str) -> Option<Command> {
    let wsl = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.to_ascii_lowercase().contains("microsoft"))
        .unwrap_or(false);
    let candidates: &[&str] = if wsl {
        &["wslview", "explorer.exe", "xdg-open"]
    } else {
        &["xdg-open", "gio", "sensible-browser"]
    };
    for name in candidates {
        if let Ok(path) = which::which(name) {
            let mut c = Command::new(path);
            if *name == "gio" {
                c.arg("open");
            }
            c.arg(url);
            return Some(c);
        }
    }
    None
}

/// Why a browser here is unlikely to reach this machine's loopback listener, if it is: an SSH
/// session, a container or devcontainer, or a Linux session with no display. Then the device
/// code flow is what works. A `BROWSER` the user set is taken at its word.
pub fn headless() -> Option<&'static str> {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    if set("BROWSER") {
        return None;
    }
    if set("SSH_CONNECTION") || set("SSH_TTY") || set("SSH_CLIENT") {
        return Some("this is an SSH session");
    }
    let marker = |p: &str| std::path::Path::new(p).exists();
    if set("CODESPACES")
        || set("REMOTE_CONTAINERS")
        || marker("/.dockerenv")
        || marker("/run/.containerenv")
    {
        return Some("this is a container");
    }
    let linux_desktop_less = cfg!(all(unix, not(target_os = "macos")))
        && !set("DISPLAY")
        && !set("WAYLAND_DISPLAY")
        && !marker("/proc/sys/fs/binfmt_misc/WSLInterop");
    linux_desktop_less.then_some("there is no graphical display")
}

/// Whether this is an SSH session (a forwarded port can still bring the browser back).
pub fn over_ssh() -> bool {
    ["SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}
