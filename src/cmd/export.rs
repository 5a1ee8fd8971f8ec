//! `ssoenv [export] [PROFILE]`: the warm path is config + one cache file + formatting.

use crate::cli::ExportArgs;
use crate::config;
use crate::env;
use crate::error::Result;
use crate::session;
use crate::shell::{self, Shell};

pub fn run(args: &ExportArgs) -> Result<String> {
    if args.unset {
        return args.shell.render(&env::unset_changes());
    }
    let name = config::choose_profile(args.profile.as_deref());
    let cfg = config::load()?;
    let profile = cfg.resolve(&name)?;
    let creds = session::credentials(&profile)?;
    match args.shell {
        Shell::Json => Ok(shell::process_json(&creds)),
        sh => sh.render(&env::export_changes(
            &profile.name,
            &creds,
            profile.region.as_deref(),
        )),
    }
}
