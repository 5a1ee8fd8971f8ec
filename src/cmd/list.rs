//! `ssoenv list`: profile names, one per line, in file order (for humans and completions).

use crate::cli::ListArgs;
use crate::config::{self, Config};
use crate::error::Result;

pub fn run(args: &ListArgs) -> Result<String> {
    let cfg = config::load()?;
    let mut out = String::new();
    for s in cfg.profiles() {
        let sso = Config::is_sso(s);
        if args.sso && !sso {
            continue;
        }
        out.push_str(&s.name);
        if args.long {
            out.push_str(match (sso, s.has("role_arn")) {
                (true, true) => "\trole",
                (true, false) => "\tsso",
                _ => "\t-",
            });
        }
        out.push('\n');
    }
    // The process ends with this command: freeing every section one by one would cost as much
    // as reading them (a 10,000-profile config).
    std::mem::forget(cfg);
    Ok(out)
}
