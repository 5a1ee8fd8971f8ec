//! The `.ssoenv` trust store. Per-directory profiles: a `.ssoenv` file names a profile; the `cd` hooks honour it only
//! after `ssoenv allow` trusted that directory and that exact content (like direnv's allow).
//! Trust lives outside the repository, in `$XDG_STATE_HOME/ssoenv/allowed`: one line per
//! directory, `SHA1(dir "\n" content) dir`. Editing the file revokes the trust.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;

pub const FILE: &str = ".ssoenv";

fn store() -> PathBuf {
    files::state_dir().join("allowed")
}

fn canonical(dir: &Path) -> Result<PathBuf> {
    dir.canonicalize()
        .map_err(|e| Error::io(dir, "open directory", e))
}

/// The profile a `.ssoenv` file names: its first non-comment line, one word.
fn profile_of(file: &Path, text: &str) -> Result<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if line.is_empty() || line.contains(char::is_whitespace) || line.len() > 128 {
        return Err(Error::BadFile {
            path: file.to_path_buf(),
            message: "expected one profile name on a line".into(),
        });
    }
    Ok(line.to_string())
}

fn read(dir: &Path) -> Result<(PathBuf, String, String)> {
    let dir = canonical(dir)?;
    let file = dir.join(FILE);
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, "read", e))?;
    let hash = files::sha1_hex(&format!("{}\n{text}", dir.display()));
    let profile = profile_of(&file, &text)?;
    Ok((dir, hash, profile))
}

fn lines() -> Vec<String> {
    std::fs::read_to_string(store())
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn save(lines: &[String], dir: &Path) -> Result<()> {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    files::write_atomic(&store(), text.as_bytes(), files::Existing::Private).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(dir, "record trust for", source),
        other => other,
    })
}

/// `Some(profile)` if DIR/.ssoenv is trusted as it is now; otherwise a hint on stderr.
pub fn trusted_profile(dir: &Path) -> Result<Option<String>> {
    let (dir, hash, profile) = read(dir)?;
    let prefix = format!("{hash} ");
    if lines().iter().any(|l| l.starts_with(&prefix)) {
        return Ok(Some(profile));
    }
    eprintln!(
        "ssoenv: {} asks for profile '{profile}'; run `ssoenv allow {}` to trust it",
        dir.join(FILE).display(),
        dir.display()
    );
    Ok(None)
}

/// Trusts DIR/.ssoenv as it is now: the canonical directory and the profile it names.
pub fn trust(dir: &Path) -> Result<(PathBuf, String)> {
    let (dir, hash, profile) = read(dir)?;
    let suffix = format!(" {}", dir.display());
    let mut kept: Vec<String> = lines()
        .into_iter()
        .filter(|l| !l.ends_with(&suffix))
        .collect();
    kept.push(format!("{hash}{suffix}"));
    save(&kept, &dir)?;
    Ok((dir, profile))
}

/// Withdraws the trust in DIR: the canonical directory, and whether it was trusted.
pub fn untrust(dir: &Path) -> Result<(PathBuf, bool)> {
    let dir = canonical(dir)?;
    let suffix = format!(" {}", dir.display());
    let all = lines();
    let kept: Vec<String> = all
        .iter()
        .filter(|l| !l.ends_with(&suffix))
        .cloned()
        .collect();
    let was = kept.len() != all.len();
    if was {
        save(&kept, &dir)?;
    }
    Ok((dir, was))
}
