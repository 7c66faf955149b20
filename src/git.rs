//! What git knows about a file: is it in a repository, tracked, ignored; and `.gitignore` upkeep.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::envfile::write_atomic;

/// The patterns the guide asks `.gitignore` to hold.
pub const IGNORE_PATTERNS: [&str; 2] = [".env", "*.env"];

fn git(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    Command::new("git").arg("-C").arg(dir).args(args).output().ok()
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The top folder of the git work tree holding `path`, if any (and if git is installed).
pub fn repo_root(path: &Path) -> Option<PathBuf> {
    let output = git(&folder_of(path), &["rev-parse", "--show-toplevel"])?;
    output.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// Whether git tracks `path` (so a secret written there would be committed).
pub fn is_tracked(path: &Path) -> bool {
    git(&folder_of(path), &["ls-files", "--error-unmatch", "--", &file_name(path)])
        .is_some_and(|output| output.status.success())
}

/// Whether git ignores `path`, as `git check-ignore` decides.
pub fn is_ignored(path: &Path) -> bool {
    git(&folder_of(path), &["check-ignore", "-q", "--", &file_name(path)]).is_some_and(|output| output.status.success())
}

/// A `!` pattern outside `gitignore` that re-includes `path` (so adding `.env` and `*.env`
/// to `gitignore` would not make git ignore it), as `file:line:pattern`.
pub fn reincluded_elsewhere(path: &Path, gitignore: &Path) -> Option<String> {
    let output = git(&folder_of(path), &["check-ignore", "-v", "--non-matching", "--", &file_name(path)])?;
    let line = String::from_utf8_lossy(&output.stdout).lines().next()?.to_string();
    let (rule, _) = line.split_once('\t')?;
    let mut parts = rule.splitn(3, ':');
    let (source, _line, pattern) = (parts.next()?, parts.next()?, parts.next()?);
    let source_path = folder_of(path).join(source);
    let same_file = match (std::fs::canonicalize(&source_path), std::fs::canonicalize(gitignore)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    (pattern.starts_with('!') && !same_file).then_some(rule.to_string())
}

/// Appends to `gitignore` the patterns of [`IGNORE_PATTERNS`] it lacks, keeping every other
/// line; returns the patterns added (none when it already had them all).
pub fn ensure_ignored(gitignore: &Path, dry_run: bool) -> Result<Vec<String>> {
    let existing = match std::fs::read_to_string(gitignore) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", gitignore.display())),
    };
    let missing = missing_patterns(gitignore);
    if missing.is_empty() || dry_run {
        return Ok(missing);
    }
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push_str("\n# Secrets (added by t3s3)\n");
    }
    for pattern in &missing {
        text.push_str(pattern);
        text.push('\n');
    }
    let mode = crate::envfile::file_mode(gitignore).unwrap_or(0o644);
    write_atomic(gitignore, text.as_bytes(), mode).with_context(|| format!("cannot update {}", gitignore.display()))?;
    Ok(missing)
}

fn relative_to_repo(path: &Path) -> Option<(PathBuf, String)> {
    let root = repo_root(path)?;
    let absolute = std::fs::canonicalize(folder_of(path)).ok()?.join(file_name(path));
    let relative = absolute.strip_prefix(std::fs::canonicalize(&root).ok()?).ok()?.to_string_lossy().into_owned();
    Some((root, relative))
}

/// Commits (short hashes, any branch) that ever held `path`: a secret committed once
/// stays readable in history after the file is removed.
pub fn commits_with_file(path: &Path) -> Vec<String> {
    let Some((root, relative)) = relative_to_repo(path) else { return Vec::new() };
    git(&root, &["log", "--all", "--format=%h", "--", &relative])
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Commits (short hashes) whose changes add or remove `needle` anywhere in the repository.
/// Used with an access key ID, never with a secret (arguments show in the process list).
pub fn commits_mentioning(path: &Path, needle: &str) -> Vec<String> {
    let Some(root) = repo_root(path) else { return Vec::new() };
    git(&root, &["log", "--all", "--format=%h", "-S", needle])
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The patterns of [`IGNORE_PATTERNS`] that `gitignore` lacks.
pub fn missing_patterns(gitignore: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(gitignore).unwrap_or_default();
    let present: Vec<&str> = text.lines().map(str::trim).collect();
    IGNORE_PATTERNS.iter().filter(|p| !present.contains(p)).map(|p| p.to_string()).collect()
}

/// The repository root holding `dir` and the files staged for the next commit (added,
/// copied, modified or renamed; deletions carry nothing), as paths relative to the root.
pub fn staged(dir: &Path) -> Option<(PathBuf, Vec<String>)> {
    let root = repo_root(&dir.join("x"))?;
    let output = git(&root, &["diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"])?;
    if !output.status.success() {
        return None;
    }
    let names = output.stdout.split(|b| *b == 0).filter(|n| !n.is_empty());
    Some((root, names.map(|n| String::from_utf8_lossy(n).into_owned()).collect()))
}

/// A staged file's bytes as the commit would hold them (the index, not the work tree).
pub fn staged_content(root: &Path, path: &str) -> Option<Vec<u8>> {
    let output = git(root, &["show", &format!(":{path}")])?;
    output.status.success().then_some(output.stdout)
}
