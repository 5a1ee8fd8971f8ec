//! `ssoenv list`: profile names, one per line, in file order (for humans and completions).
//! Names and SSO marks only: a big config file's index answers without reading the file,
//! with the lines `list --long` prints.

use crate::cli::ListArgs;
use crate::config;
use crate::error::Result;

pub fn run(args: &ListArgs) -> Result<String> {
    let lines = config::profile_lines()?;
    if args.long && !args.sso {
        return Ok(lines);
    }
    let mut out = String::with_capacity(lines.len());
    for (line, (name, sso)) in lines
        .split_terminator('\n')
        .zip(config::marked_names(&lines))
    {
        if args.sso && !sso {
            continue;
        }
        out.push_str(if args.long { line } else { name });
        out.push('\n');
    }
    Ok(out)
}
