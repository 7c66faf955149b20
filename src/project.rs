//! The project's own t3s3 settings: `[tool.t3s3]` in `pyproject.toml`, the table PEP 518
//! gives every Python tool (ruff, black, pytest and mypy keep theirs there), so a T3 Chat
//! backend's one config file holds them too. Three keys, each a default the command line
//! overrides: `env-file`, `profile`, `region`.
//!
//! ```toml
//! [tool.t3s3]
//! env-file = "backend/.env"
//! profile = "admin"
//! region = "ap-south-1"
//! ```
//!
//! Read by hand (a table of three string keys needs no TOML crate): basic `"..."` and literal
//! `'...'` strings; anything else in the table is refused by name rather than guessed at.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The defaults `[tool.t3s3]` sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defaults {
    pub env_file: Option<PathBuf>,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Where they were read: `pyproject.toml` of this folder or of the repository's top.
    pub source: Option<PathBuf>,
}

static DEFAULTS: OnceLock<Result<Defaults, String>> = OnceLock::new();

/// The project's defaults, read once: `./pyproject.toml`, else the git repository's top one.
/// `Err` names the file and line that cannot be read as t3s3's settings.
pub fn defaults() -> Result<&'static Defaults, String> {
    DEFAULTS
        .get_or_init(|| {
            let mut candidates = vec![PathBuf::from("pyproject.toml")];
            if let Some(root) = crate::git::repo_root(Path::new("./x")) {
                candidates.push(root.join("pyproject.toml"));
            }
            for path in candidates {
                if let Some(text) = crate::fsio::read_text(&path) {
                    let mut found = parse(&text).map_err(|why| format!("{}: {why}", path.display()))?;
                    // A relative env-file is relative to the pyproject.toml that names it.
                    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    found.env_file =
                        found.env_file.map(|file| if file.is_relative() { folder.join(file) } else { file });
                    if found != Defaults::default() {
                        found.source = Some(path);
                        return Ok(found);
                    }
                }
            }
            Ok(Defaults::default())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// `[tool.t3s3]` of a pyproject.toml's text.
pub fn parse(text: &str) -> Result<Defaults, String> {
    let mut defaults = Defaults::default();
    let mut inside = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[tool.t3s3]";
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("line {}", index + 1);
        let (key, value) = line.split_once('=').ok_or_else(|| format!("{at}: `{line}` is not `key = \"value\"`"))?;
        let value =
            string(value.trim()).ok_or_else(|| format!("{at}: the value of `{}` is not a string", key.trim()))?;
        match key.trim() {
            "env-file" => defaults.env_file = Some(PathBuf::from(value)),
            "profile" => defaults.profile = Some(value),
            "region" => defaults.region = Some(value),
            other => return Err(format!("{at}: [tool.t3s3] has no `{other}` (env-file, profile, region)")),
        }
    }
    Ok(defaults)
}

/// A TOML basic (`"..."`, with `\"` and `\\`) or literal (`'...'`) string, a comment after it.
fn string(value: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix('\'') {
        let end = rest.find('\'')?;
        return trailing_ok(&rest[end + 1..]).then(|| rest[..end].to_string());
    }
    let rest = value.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return trailing_ok(&rest[at + 1..]).then_some(out),
            '\\' => match chars.next()?.1 {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

fn trailing_ok(rest: &str) -> bool {
    let rest = rest.trim();
    rest.is_empty() || rest.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_read_and_nothing_else() {
        let text = "[project]\nname = \"t3-chat\"\nregion = \"no\"\n\n[tool.t3s3]\nenv-file = \"backend/.env\"  # the backend's\nprofile = 'admin'\nregion = \"ap-south-1\"\n\n[tool.ruff]\nline-length = 120\n";
        let found = parse(text).unwrap();
        assert_eq!(found.env_file, Some(PathBuf::from("backend/.env")));
        assert_eq!((found.profile.as_deref(), found.region.as_deref()), (Some("admin"), Some("ap-south-1")));
        assert!(parse("[tool.t3s3]\nbucket = \"x\"\n").unwrap_err().contains("no `bucket`"));
        assert!(parse("[tool.t3s3]\nregion = 5\n").unwrap_err().contains("line 2"));
        assert_eq!(parse("[tool.other]\nregion = \"x\"\n").unwrap(), Defaults::default());
    }
}
