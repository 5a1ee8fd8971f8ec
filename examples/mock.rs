//! The project's mock of the SSO portal and SSO OIDC APIs as a program of its own, to try ssoenv
//! without an AWS account (see "Try it without an AWS account" in README.md). It is an example,
//! built only by `cargo build --examples`, and never installed with `ssoenv`.
//!
//! It serves both APIs on one port of 127.0.0.1, knows two accounts (111111111111 with roles
//! ReadOnly and Admin, 222222222222 with ReadOnly), approves device codes and PKCE sign-ins by
//! itself, and logs one line per request on stderr. `--accounts N` adds N accounts with two
//! roles each, to try `ssoenv configure populate`.

#[path = "../tests/support/mock/mod.rs"]
mod mock;

use std::time::Duration;

use mock::{DeviceApproval, Mock};

const USAGE: &str = "usage: mock [--port PORT] [--accounts N] [--roles N] [--page-size N] [--latency MS] [--credential-lifetime SECONDS] [--token-lifetime SECONDS] [--quiet]";

fn main() {
    let mut port = 8455u16;
    let mut quiet = false;
    let mut cred_life = None;
    let mut token_life = None;
    let mut extra_accounts = 0;
    let mut page_size = None;
    let mut latency = 0;
    let mut roles = 2;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("mock: {name} needs a number\n{USAGE}");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--port" => port = u16::try_from(value("--port")).unwrap_or(0),
            "--credential-lifetime" => cred_life = Some(value("--credential-lifetime")),
            "--token-lifetime" => token_life = Some(value("--token-lifetime")),
            "--accounts" => extra_accounts = value("--accounts"),
            "--page-size" => page_size = Some(value("--page-size")),
            "--latency" => latency = value("--latency"),
            "--roles" => roles = value("--roles"),
            "--quiet" => quiet = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => {
                eprintln!("mock: unknown argument {other}\n{USAGE}");
                std::process::exit(2)
            }
        }
    }
    let m = Mock::bind(&format!("127.0.0.1:{port}"));
    m.add_account(
        "111111111111",
        "dev",
        "dev@example.com",
        &["ReadOnly", "Admin"],
    );
    m.add_account("222222222222", "prod", "prod@example.com", &["ReadOnly"]);
    // More accounts, for `ssoenv configure populate` and the pickers.
    let role_names = ["ReadOnly", "Admin", "Billing", "Audit", "Ops"];
    let roles = &role_names[..(roles as usize).clamp(1, role_names.len())];
    for i in 0..extra_accounts {
        m.add_account(
            &format!("{:012}", 300_000_000_000 + i),
            &format!("team-{i}"),
            "team@example.com",
            roles,
        );
    }
    // A network's latency on every portal call (the listings above all).
    if latency > 0 {
        for route in [mock::Route::ListAccounts, mock::Route::ListAccountRoles] {
            m.fault_always(route, mock::Fault::Delay(Duration::from_millis(latency)));
        }
    }
    if let Some(n) = page_size {
        m.set_page_size(n as usize);
    }
    m.set_device_approval(DeviceApproval::AfterPolls(0));
    if let Some(s) = cred_life {
        m.set_credential_lifetime(Duration::from_secs(s));
    }
    if let Some(s) = token_life {
        m.set_token_lifetime(Duration::from_secs(s));
    }
    m.set_log(!quiet);
    eprintln!("mock: SSO portal and OIDC on {}", m.url());
    eprintln!(
        "mock: export AWS_ENDPOINT_URL_SSO={0} AWS_ENDPOINT_URL_SSO_OIDC={0}",
        m.url()
    );
    loop {
        std::thread::park();
    }
}
