//! `ssoenv list`: profile names, one per line, in file order (for humans and completions).
//! Names and SSO marks only: a big config file's index answers without reading the file.

use crate::cli::ListArgs;
use crate::config;
use crate::error::Result;

pub fn run(args: &ListArgs) -> Result<String> {
    let mut out = String::new();
    for (name, sso) in config::profile_names()? {
        if args.sso && !sso {
            continue;
        }
        out.push_str(&name);
        if args.long {
            out.push_str(if sso { "\tsso" } else { "\t-" });
        }
        out.push('\n');
    }
    Ok(out)
}
