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
    let (dir, _) = trust::untrust(&args.dir)?;
    eprintln!(
        "ssoenv: {} is not trusted",
        visible(&dir.join(FILE).display().to_string())
    );
    Ok(String::new())
}
