//! `ssoenv`: parse, run, write stdout once on success, map errors to exit codes.
//! Data flows one way: config → login/token → credentials → changes → shell text.
//!
//! The process starts at a C `main` of its own rather than std's runtime: a warm export is
//! a millisecond, and std's start-up (reading `/proc/self/maps` to place a stack guard,
//! installing signal handlers on an alternate stack) was a fifth of it. What of that start-up
//! matters here is done in [`start`]: the standard descriptors are made sure to be open, and
//! SIGPIPE is ignored so a closed pipe is an error to handle, not a kill.
#![cfg_attr(not(test), no_main)]

use std::io::Write;

use clap::Parser;

mod ask;
mod browser;
mod cache;
mod cli;
mod clock;
mod cmd;
mod config;
mod credentials;
mod edit;
mod endpoint;
mod env;
mod error;
mod federation;
mod files;
mod http;
mod index;
mod ini;
mod messages;
mod oidc;
mod portal;
mod random;
mod shell;
mod signin;
mod sigv4;
mod stamp;
mod sts;
mod table;
mod trust;

fn run(cli: cli::Cli) -> error::Result<String> {
    if !matches!(
        cli.command,
        Some(
            cli::Command::Hook(_)
                | cli::Command::Completions(_)
                | cli::Command::Complete(_)
                | cli::Command::Doctor
        )
    ) {
        // Settings are checked once, up front: a typo is an error, not a silent default.
        stamp::checked_margin()?;
        http::checked_timeout()?;
    }
    match cli.command {
        None => cmd::export::run(&cli.export),
        Some(cli::Command::Export(args)) => cmd::export::run(&args),
        Some(cli::Command::List(args)) => cmd::list::run(&args),
        Some(cli::Command::Login(args)) => cmd::login::run(&args),
        Some(cli::Command::Logout(args)) => cmd::logout::run(&args),
        Some(cli::Command::Status(args)) => cmd::status::run(&args),
        Some(cli::Command::Accounts(args)) => cmd::accounts::accounts(&args),
        Some(cli::Command::Roles(args)) => cmd::accounts::roles(&args),
        Some(cli::Command::Configure(args)) => cmd::configure::run(&args),
        Some(cli::Command::Doctor) => cmd::doctor::run(),
        Some(cli::Command::EksToken(args)) => cmd::eks_token::run(&args),
        Some(cli::Command::Console(args)) => cmd::console::run(&args),
        Some(cli::Command::Exec(args)) => cmd::exec::run(&args),
        Some(cli::Command::Serve(args)) => cmd::serve::run(&args),
        Some(cli::Command::Hook(args)) => cmd::hook::run(args.shell),
        Some(cli::Command::Allow(args)) => cmd::allow::allow(&args),
        Some(cli::Command::Deny(args)) => cmd::allow::deny(&args),
        Some(cli::Command::Completions(args)) => cmd::completions::run(args.shell),
        Some(cli::Command::Use { .. }) => cmd::hook::not_loaded("use"),
        Some(cli::Command::Clear { .. }) => cmd::hook::not_loaded("clear"),
        Some(cli::Command::Complete(args)) => cmd::completions::candidates(&args),
    }
}

/// `ssoenv stauts`: a word that is no profile but close to a subcommand is a typo of that.
fn subcommand_typo(e: error::Error) -> error::Error {
    use clap::CommandFactory;
    // A word close to a profile is a typo of that profile: the error says so already.
    let error::Error::ProfileNotFound { profile, close, .. } = &e else {
        return e;
    };
    if !close.is_empty() {
        return e;
    }
    let cmd = cli::Cli::command();
    let close = messages::close_to(
        profile,
        cmd.get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name()),
    );
    match close.first() {
        Some(sub) => error::Error::Usage(format!(
            "'{}' is neither a subcommand nor a profile; did you mean `ssoenv {sub}`? (`ssoenv --help` lists the subcommands, `ssoenv list` the profiles)",
            messages::visible(profile)
        )),
        None => e,
    }
}

/// The process's entry point (see the module doc).
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    start();
    // std reads the arguments and environment itself (glibc hands them to it at load).
    i32::from(run_main())
}

/// Under `cargo test` std's runtime starts the harness; this keeps the same code reachable.
#[cfg(test)]
fn main() {
    start();
    std::process::exit(i32::from(run_main()));
}

/// As std's runtime would: descriptors 0, 1 and 2 open (on `/dev/null` if they were closed,
/// so no file ssoenv opens can become its stdout), and SIGPIPE ignored.
#[cfg(unix)]
fn start() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the duration of the call; `open` gets
    // a NUL-terminated path; `signal` changes only this process's disposition of SIGPIPE.
    unsafe {
        if libc::poll(fds.as_mut_ptr(), 3, 0) != -1 {
            for p in &fds {
                if p.revents & libc::POLLNVAL != 0
                    && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) == -1
                {
                    libc::abort();
                }
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

#[cfg(not(unix))]
fn start() {}

fn run_main() -> u8 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let cli = match cli::fast_export(&args) {
        Some((export, debug)) => cli::Cli {
            command: None,
            export,
            debug,
            mfa_code: None,
        },
        None => cli::Cli::parse(),
    };
    if let Some(code) = cli.mfa_code.clone() {
        credentials::set_mfa_code(code);
    }
    if cli.debug || std::env::var_os("SSOENV_DEBUG").is_some_and(|v| !v.is_empty() && v != "0") {
        messages::set_debug(true);
    }
    let bare = cli.command.is_none();
    match run(cli).map_err(|e| if bare { subcommand_typo(e) } else { e }) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => error::exit::OK,
                // A closed pipe (`ssoenv list | head -1`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => error::exit::OK,
                Err(e) => {
                    eprintln!("ssoenv: cannot write to stdout: {e}");
                    error::exit::ERROR
                }
            }
        }
        Err(e) => {
            // One line, with any control character from a file or a server made visible.
            eprintln!("ssoenv: {}", messages::visible(&e.to_string()));
            e.exit_code()
        }
    }
}
