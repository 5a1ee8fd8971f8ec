//! `ssoenv serve [PROFILE] [--port N] [--shell S]`: the local credential endpoint (see
//! [`crate::endpoint`]) for docker, IDEs and notebooks. It prints the variables a process
//! needs to use it — in the `--shell` format, like an export — and serves until stopped
//! (Ctrl-C, SIGTERM, SIGHUP); its stdout closes once the variables are out, so
//! `eval "$(ssoenv serve dev &)"` sets them in a shell and leaves the endpoint running. The authorization token goes to a 0600 file, named in those
//! variables, never to argv or the screen; the file is removed on the way out.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::ServeArgs;
use crate::config;
use crate::endpoint::Endpoint;
use crate::env::{self, Change};
use crate::error::Result;
use crate::files;

static STOP: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_signal(_: std::ffi::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn stop_on_signals() {
    #[cfg(unix)]
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

pub fn run(args: &ServeArgs) -> Result<String> {
    let name = config::choose_profile(args.profile.as_deref());
    let profile = config::load_for(&name)?.resolve(&name)?;
    let region = profile.region.clone();
    let endpoint = Endpoint::bind(profile, args.port)?;
    // Credentials now: a sign-in that is needed is said before anything is printed.
    endpoint.credentials()?;
    let url = endpoint.url()?;
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap_or("0")
        .to_string();
    let token_file = files::state_dir()?
        .join("endpoints")
        .join(format!("{port}.token"));
    files::write_atomic(
        &token_file,
        endpoint.token.as_bytes(),
        files::Existing::Private,
    )?;
    stop_on_signals();
    let mut changes = vec![
        Change::Set(env::CONTAINER_CREDENTIALS_FULL_URI, url),
        Change::Set(
            env::CONTAINER_AUTHORIZATION_TOKEN_FILE,
            token_file.display().to_string(),
        ),
    ];
    if let Some(r) = region {
        changes.push(Change::Set(env::REGION, r.clone()));
        changes.push(Change::Set(env::DEFAULT_REGION, r));
    }
    let text = args.shell.render(&changes);
    let result = text.and_then(|text| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        drop(out);
        // stdout is done: closing it lets `eval "$(ssoenv serve dev &)"` return while the
        // endpoint goes on in the background.
        #[cfg(unix)]
        // SAFETY: replaces descriptor 1 with /dev/null; nothing writes to stdout after this.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null >= 0 {
                libc::dup2(null, 1);
                libc::close(null);
            }
        }
        eprintln!(
            "ssoenv: serving profile '{}' at {}; stop with Ctrl-C",
            crate::messages::visible(&name),
            endpoint.url().unwrap_or_default()
        );
        endpoint.serve(|| STOP.load(Ordering::SeqCst))
    });
    let _ = std::fs::remove_file(&token_file);
    result.map(|()| String::new())
}
