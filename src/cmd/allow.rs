//! `ssoenv allow [DIR]` / `ssoenv deny [DIR]`: trust a directory's `.ssoenv` (see [`crate::trust`]).

use crate::cli::AllowArgs;
use crate::error::Result;
use crate::trust::{self, FILE};

pub fn allow(args: &AllowArgs) -> Result<String> {
    let (dir, profile) = trust::trust(&args.dir)?;
    eprintln!(
        "ssoenv: trusted {} (profile '{profile}')",
        dir.join(FILE).display()
    );
    Ok(String::new())
}

pub fn deny(args: &AllowArgs) -> Result<String> {
    let (dir, _) = trust::untrust(&args.dir)?;
    eprintln!("ssoenv: {} is not trusted", dir.join(FILE).display());
    Ok(String::new())
}
