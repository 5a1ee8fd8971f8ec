//! The `.ssoenv` trust store. Per-directory profiles: a `.ssoenv` file names a profile; the `cd` hooks honour it only
//! after `ssoenv allow` trusted that directory and that exact content (like direnv's allow).
//! Trust lives outside the repository, in `$XDG_STATE_HOME/ssoenv/allowed`: one line per
//! directory, `SHA1(dir "\n" content) dir`. Editing the file revokes the trust.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;

pub const FILE: &str = ".ssoenv";

fn store() -> Result<PathBuf> {
    Ok(files::state_dir()?.join("allowed"))
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
    let bytes = files::read_bounded(&file, files::SMALL_CAP)?
        .ok_or_else(|| Error::io(&file, "read", std::io::ErrorKind::NotFound.into()))?;
    let text = String::from_utf8(bytes).map_err(|_| Error::BadFile {
        path: file.clone(),
        message: "is not UTF-8 text".into(),
    })?;
    let hash = files::sha1_hex(&format!("{}\n{text}", dir.display()));
    let profile = profile_of(&file, &text)?;
    Ok((dir, hash, profile))
}

fn lines() -> Result<Vec<String>> {
    let bytes = files::read_bounded(&store()?, files::SMALL_CAP)?.unwrap_or_default();
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect())
}

fn save(lines: &[String], dir: &Path) -> Result<()> {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    files::write_atomic(&store()?, text.as_bytes(), files::Existing::Private).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(dir, "record trust for", source),
        other => other,
    })
}

/// `Some(profile)` if DIR/.ssoenv is trusted as it is now; otherwise a hint on stderr.
pub fn trusted_profile(dir: &Path) -> Result<Option<String>> {
    let (dir, hash, profile) = read(dir)?;
    let prefix = format!("{hash} ");
    if lines()?.iter().any(|l| l.starts_with(&prefix)) {
        return Ok(Some(profile));
    }
    eprintln!(
        "ssoenv: {} asks for profile '{}'; run `ssoenv allow {}` to trust it",
        crate::messages::visible(&dir.join(FILE).display().to_string()),
        crate::messages::visible(&profile),
        crate::messages::visible(&dir.display().to_string())
    );
    Ok(None)
}

/// Trusts DIR/.ssoenv as it is now: the canonical directory and the profile it names.
pub fn trust(dir: &Path) -> Result<(PathBuf, String)> {
    let (dir, hash, profile) = read(dir)?;
    let suffix = format!(" {}", dir.display());
    let mut kept: Vec<String> = lines()?
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
    let all = lines()?;
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
