//! `ssoenv allow [DIR]` / `ssoenv deny [DIR]`: trust a directory's `.ssoenv` (see [`crate::trust`]).

use crate::cli::AllowArgs;
use crate::error::Result;
use crate::messages::visible;
use crate::trust::{self, FILE};

pub fn allow(args: &AllowArgs) -> Result<String> {
    let (dir, profile) = trust::trust(&args.dir)?;
    eprintln!(
        "ssoenv: trusted {} (profile '{}')",
        visible(&dir.join(FILE).display().to_string()),
        visible(&profile)
    );
    Ok(String::new())
}

pub fn deny(args: &AllowArgs) -> Result<String> {
    let (dir, was) = trust::untrust(&args.dir)?;
    let file = visible(&dir.join(FILE).display().to_string());
    if was {
        eprintln!("ssoenv: {file} is no longer trusted");
    } else {
        eprintln!("ssoenv: {file} was not trusted; nothing to do");
    }
    Ok(String::new())
}
