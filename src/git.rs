//! What git knows about a file: is it in a repository, tracked, ignored; and `.gitignore` upkeep.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::fsio::write_atomic;

/// The patterns the guide asks `.gitignore` to hold.
/// `.env.*` covers `.env.local` and `.env.production`; `.env.example` stays committable.
pub const IGNORE_PATTERNS: [&str; 4] = [".env", "*.env", ".env.*", "!.env.example"];

fn git(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    let run = || Command::new("git").arg("-C").arg(dir).args(args).output().ok();
    crate::blocking::off_the_runtime(run)
}

fn folder_of(path: &Path) -> PathBuf {
    crate::fsio::folder(path).to_path_buf()
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The repository's default branch as `dir`'s checkout knows it: origin's HEAD
/// (`refs/remotes/origin/HEAD`), else the branch checked out; `None` outside a repository.
pub fn default_branch(dir: &Path) -> Option<String> {
    let read = |args: &[&str]| {
        git(dir, args)
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
            .filter(|name| !name.is_empty())
    };
    read(&["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"])
        .map(|name| name.strip_prefix("origin/").unwrap_or(&name).to_string())
        .or_else(|| read(&["symbolic-ref", "--quiet", "--short", "HEAD"]))
}

/// Whether `branch` exists here, locally or as origin's; `None` when git cannot tell.
pub fn branch_exists(dir: &Path, branch: &str) -> Option<bool> {
    let output = git(dir, &["branch", "--all", "--list", branch, &format!("origin/{branch}")])?;
    output.status.success().then(|| !String::from_utf8_lossy(&output.stdout).trim().is_empty())
}

/// The nearest `.git` (a folder, or a worktree's file) at or above `dir`.
fn dot_git_above(dir: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    start.ancestors().map(|folder| folder.join(".git")).find(|dot_git| std::fs::symlink_metadata(dot_git).is_ok())
}

/// Why git could not say whether a secret written to `path` would be committed: a
/// repository is there but git is missing, or git runs and fails (a repository owned by
/// someone else, "dubious ownership"; a corrupt index). `Ok` when git answers, or when there
/// is no repository at all. A secret is written only after `Ok`: "could not tell" is never
/// "not tracked".
pub fn check_answers(path: &Path) -> Result<(), GitUnanswered> {
    let mut places = vec![path.to_path_buf()];
    places.extend(written_file(path));
    for place in places {
        let folder = folder_of(&place);
        let repository = dot_git_above(&folder);
        // Reads the index for this one name: a corrupt index fails here, as it would for
        // `ls-files --error-unmatch` and `check-ignore`.
        let listed = match git(&folder, &["ls-files", "--", &file_name(&place)]) {
            None => {
                return match repository {
                    Some(dot_git) => Err(GitUnanswered {
                        message: format!("{} is a git repository, but git cannot be run", dot_git.display()),
                        hint: "install git (or put it on PATH), so t3s3 can check that git will not commit the secret"
                            .into(),
                    }),
                    None => Ok(()),
                };
            }
            Some(output) => output,
        };
        if listed.status.success() {
            continue;
        }
        let said = String::from_utf8_lossy(&listed.stderr).trim().to_string();
        if repository.is_none() && said.contains("not a git repository") {
            continue;
        }
        let said = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("no message").to_string();
        let hint = if said.contains("dubious ownership") {
            let top = repository.as_deref().map(folder_of).unwrap_or_else(|| folder.clone());
            format!(
                "if you trust this repository, run `git config --global --add safe.directory {}`, then run t3s3 again",
                top.display()
            )
        } else {
            format!("run `git -C {} status` and fix what it reports, then run t3s3 again", folder.display())
        };
        return Err(GitUnanswered { message: format!("git cannot answer in {}: {said}", folder.display()), hint });
    }
    Ok(())
}

/// git's failure to answer, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitUnanswered {
    pub message: String,
    pub hint: String,
}

impl GitUnanswered {
    /// The refusal to write a secret to `path` (exit 2: nothing was changed).
    pub fn refusal(&self, path: &Path) -> crate::exit::Failure {
        crate::exit::Failure::bad_input(format!(
            "refusing to write a secret to {}: {}, so t3s3 cannot tell whether git would commit it",
            path.display(),
            self.message
        ))
        .hint(self.hint.clone())
    }
}

/// The top folder of the git work tree holding `path`, if any (and if git is installed).
pub fn repo_root(path: &Path) -> Option<PathBuf> {
    let output = git(&folder_of(path), &["rev-parse", "--show-toplevel"])?;
    output.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// The file a write to `path` really lands in: every link on the way resolved (a
/// `backend/.env` linking to `../shared/settings.txt` is that file). A path that does not
/// exist yet resolves through its folder. `None` when it cannot be resolved (a link to
/// nothing, a folder that cannot be read): then no git check may pass.
pub fn written_file(path: &Path) -> Option<PathBuf> {
    if std::fs::symlink_metadata(path).is_ok() {
        return std::fs::canonicalize(path).ok();
    }
    let name = path.file_name()?;
    Some(std::fs::canonicalize(folder_of(path)).ok()?.join(name))
}

/// ` (a link to TARGET)` when `path` is written through a link, for messages.
pub fn link_note(path: &Path) -> String {
    if !crate::fsio::is_link(path) {
        return String::new();
    }
    match written_file(path) {
        Some(target) => format!(" (a link to {})", target.display()),
        None => " (a link whose target cannot be resolved)".into(),
    }
}

/// Whether git tracks the file `path` writes to (so a secret written there would be
/// committed). A path that cannot be resolved counts as tracked.
pub fn is_tracked(path: &Path) -> bool {
    let Some(real) = written_file(path) else { return true };
    git(&folder_of(&real), &["ls-files", "--error-unmatch", "--", &file_name(&real)])
        .is_some_and(|output| output.status.success())
}

/// Whether git ignores the file `path` writes to, as `git check-ignore` decides (and the
/// path itself, when it is a link inside a work tree). Unresolvable: not ignored.
pub fn is_ignored(path: &Path) -> bool {
    let Some(real) = written_file(path) else { return false };
    let ignored = |p: &Path| {
        git(&folder_of(p), &["check-ignore", "-q", "--", &file_name(p)]).is_some_and(|output| output.status.success())
    };
    let outside_any_repo = |p: &Path| repo_root(p).is_none();
    // The link itself is asked about only when there is one: a plain file is its own target.
    let link_ignored = || !crate::fsio::is_link(path) || ignored(path) || outside_any_repo(path);
    (ignored(&real) || outside_any_repo(&real)) && link_ignored()
}

/// A `!` pattern outside `gitignore` that re-includes `path` (so adding `.env` and `*.env`
/// to `gitignore` would not make git ignore it), as `file:line:pattern`.
pub fn reincluded_elsewhere(path: &Path, gitignore: &Path) -> Option<String> {
    let real = written_file(path)?;
    let path = real.as_path();
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
    let existing = match crate::fsio::read_capped(gitignore, crate::fsio::PROJECT_FILE_CAP) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(crate::fsio::ReadError::Missing) => String::new(),
        Err(why) => {
            return Err(crate::exit::Failure::bad_input(format!("cannot read {}: {why}", gitignore.display()))
                .hint(format!("make {} a regular text file (or remove it), then run again", gitignore.display()))
                .into());
        }
    };
    let missing = missing_patterns(gitignore);
    if missing.is_empty() || dry_run {
        return Ok(missing);
    }
    let text = with_patterns(&existing, &missing);
    let mode = crate::fsio::file_mode(gitignore).unwrap_or(0o644);
    write_atomic(gitignore, text.as_bytes(), mode).with_context(|| format!("cannot update {}", gitignore.display()))?;
    Ok(missing)
}

/// `existing` with `missing` added: at the end, or, when the file already re-includes
/// something one of them would ignore (`!.env.example` and the new `.env.*`), just above that
/// negation, so it keeps its meaning (git: the last matching line wins).
fn with_patterns(existing: &str, missing: &[String]) -> String {
    let lines: Vec<&str> = existing.lines().collect();
    let overridden = |line: &str| {
        let negated = line.trim().strip_prefix('!').map(|p| p.trim_start_matches('/'))?;
        let name = negated.rsplit('/').next().unwrap_or(negated);
        missing.iter().any(|pattern| !pattern.starts_with('!') && glob_matches(pattern, name)).then_some(())
    };
    let block: String = std::iter::once("# Secrets (added by t3s3)")
        .chain(missing.iter().map(String::as_str))
        .map(|l| format!("{l}\n"))
        .collect();
    match lines.iter().position(|line| overridden(line).is_some()) {
        Some(at) => {
            let before: String = lines[..at].iter().map(|l| format!("{l}\n")).collect();
            let after: String = lines[at..].iter().map(|l| format!("{l}\n")).collect();
            format!("{before}{block}{after}")
        }
        None if existing.is_empty() => missing.iter().map(|p| format!("{p}\n")).collect(),
        None => {
            let separator = if existing.ends_with('\n') { "\n" } else { "\n\n" };
            format!("{existing}{separator}{block}")
        }
    }
}

/// A gitignore pattern of t3s3's (only `*` is special in them) against a file name.
fn glob_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail),
    }
}

fn relative_to_repo(path: &Path) -> Option<(PathBuf, String)> {
    let absolute = written_file(path)?;
    let root = repo_root(&absolute)?;
    let relative = absolute.strip_prefix(std::fs::canonicalize(&root).ok()?).ok()?.to_string_lossy().into_owned();
    Some((root, relative))
}

/// Every commit (short hash, any branch) that ever held `path`, with the file's bytes there
/// (`Err` when git cannot give them), read at once with `git cat-file --batch`.
pub fn committed_versions(path: &Path) -> Vec<(String, Result<Vec<u8>, String>)> {
    let Some((root, relative)) = relative_to_repo(path) else { return Vec::new() };
    // Commits that added or changed it (a deletion holds no bytes to read).
    let commits: Vec<String> = git(&root, &["log", "--all", "--format=%h", "--diff-filter=ACMRT", "--", &relative])
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect())
        .unwrap_or_default();
    let names: Vec<String> = commits.iter().map(|commit| format!("{commit}:{relative}")).collect();
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    commits.into_iter().zip(read_objects(&root, &ids)).collect()
}

/// Commits (short hashes) whose changes add or remove `needle` anywhere in the repository.
/// Used with an access key ID, never with a secret (arguments show in the process list).
pub fn commits_mentioning(path: &Path, needle: &str) -> Vec<String> {
    let Some(root) = written_file(path).and_then(|real| repo_root(&real)) else { return Vec::new() };
    git(&root, &["log", "--all", "--format=%h", "-S", needle])
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The patterns of [`IGNORE_PATTERNS`] that `gitignore` lacks.
pub fn missing_patterns(gitignore: &Path) -> Vec<String> {
    let text = crate::fsio::read_text(gitignore).unwrap_or_default();
    let present: Vec<&str> = text.lines().map(str::trim).collect();
    IGNORE_PATTERNS.iter().filter(|p| !present.contains(p)).map(|p| p.to_string()).collect()
}

/// One staged entry: its path as git stores it (bytes, not always UTF-8) and the blob the
/// commit would hold, by object id; `None` for a submodule (a commit, no bytes of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedBlob {
    pub path: Vec<u8>,
    pub object: Option<String>,
}

/// The repository root holding `dir` and every staged entry that carries content: added,
/// copied, modified, renamed (as its new path) and type-changed (`T`, a symlink become a
/// file). `Err` when git cannot list them: the guard must then block, never pass.
pub fn staged(dir: &Path) -> Option<(PathBuf, Result<Vec<StagedBlob>, String>)> {
    let root = repo_root(&dir.join("x"))?;
    let listed = git(&root, &["diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--diff-filter=ACMRT"])
        .ok_or_else(|| "git could not be run".to_string())
        .and_then(|output| match output.status.success() {
            true => parse_raw(&output.stdout),
            false => Err(String::from_utf8_lossy(&output.stderr).trim().to_string()),
        });
    Some((root, listed))
}

/// `git diff --raw -z`: `:OLDMODE NEWMODE OLDID NEWID STATUS\0PATH\0`, one per entry.
fn parse_raw(out: &[u8]) -> Result<Vec<StagedBlob>, String> {
    let mut fields = out.split(|b| *b == 0);
    let mut blobs = Vec::new();
    while let Some(head) = fields.next().filter(|h| !h.is_empty()) {
        let head = String::from_utf8_lossy(head);
        let parts: Vec<&str> = head.trim_start_matches(':').split(' ').collect();
        let path = fields.next().ok_or("git's staged list ended early")?.to_vec();
        let [_, mode, _, id, _] = parts[..] else {
            return Err(format!("git's staged list has an unexpected line: {head}"));
        };
        let object = (mode != "160000").then(|| id.to_string());
        blobs.push(StagedBlob { path, object });
    }
    Ok(blobs)
}

/// Every file version (blob) reachable from HEAD, each once, with the first commit (oldest
/// first) that added it and its path there: what `guard --history` scans. `Err` when git
/// cannot list them.
pub fn history_blobs(root: &Path) -> Result<Vec<(String, Vec<u8>, String)>, String> {
    blobs_reachable(root, "HEAD")
}

/// [`history_blobs`] from `revisions` (`HEAD`, or `--all` for every branch and tag).
fn blobs_reachable(root: &Path, revisions: &str) -> Result<Vec<(String, Vec<u8>, String)>, String> {
    let listed = git(
        root,
        &[
            "log",
            "--reverse",
            "--format=%x00%H",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--diff-filter=AMT",
            revisions,
        ],
    )
    .ok_or_else(|| "git could not be run".to_string())?;
    if !listed.status.success() {
        return Err(String::from_utf8_lossy(&listed.stderr).trim().to_string());
    }
    let mut seen = std::collections::HashSet::new();
    let mut blobs = Vec::new();
    let mut commit = String::new();
    let mut fields = listed.stdout.split(|b| *b == 0).peekable();
    while let Some(field) = fields.next() {
        let text = String::from_utf8_lossy(field);
        let text = text.trim_start_matches('\n');
        if text.is_empty() {
            // `%x00` before each commit hash: the next field is the hash.
            if let Some(hash) = fields.next() {
                commit = String::from_utf8_lossy(hash).trim().to_string();
            }
            continue;
        }
        if let Some(raw) = text.strip_prefix(':') {
            let parts: Vec<&str> = raw.split(' ').collect();
            let path = fields.next().unwrap_or_default().to_vec();
            if let [_, mode, _, id, _] = parts[..] {
                if mode != "160000" && seen.insert(id.to_string()) {
                    blobs.push((id.to_string(), path, commit.clone()));
                }
            }
        }
    }
    Ok(blobs)
}

/// Where the history of the repository holding `path` (every branch and tag) holds one of
/// `needles`, in any file: `COMMIT:path` (short hash), each file version read once, as
/// `guard --history` reads them. Outside a repository, nothing. `Err` when git cannot list or
/// read a version: the caller cannot say the secret was never committed.
pub fn history_holding(path: &Path, needles: &[&str]) -> Result<Vec<String>, String> {
    let Some(root) = written_file(path).and_then(|real| repo_root(&real)) else { return Ok(Vec::new()) };
    let needles: Vec<&[u8]> = needles.iter().filter(|n| !n.is_empty()).map(|n| n.as_bytes()).collect();
    let blobs = blobs_reachable(&root, "--all")?;
    let mut found = Vec::new();
    for chunk in blobs.chunks(1000) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _, _)| id.as_str()).collect();
        for ((_, name, commit), bytes) in chunk.iter().zip(read_objects(&root, &ids)) {
            let bytes = bytes?;
            if needles.iter().any(|needle| bytes.windows(needle.len()).any(|w| w == *needle)) {
                found.push(format!("{}:{}", &commit[..commit.len().min(12)], String::from_utf8_lossy(name)));
            }
        }
    }
    Ok(found)
}

/// The bytes of each object, read at once by object id with `git cat-file --batch` (no
/// path is parsed, so any file name works); an object git cannot give is an `Err`.
pub fn read_objects(root: &Path, ids: &[&str]) -> Vec<Result<Vec<u8>, String>> {
    use std::io::Write;
    if ids.is_empty() {
        return Vec::new();
    }
    let failed = |why: String| ids.iter().map(|_| Err(why.clone())).collect();
    let child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => return failed(format!("git cat-file could not be run: {error}")),
    };
    let input = ids.iter().map(|id| format!("{id}\n")).collect::<String>();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = match child.wait_with_output() {
        Ok(output) => output,
        Err(error) => return failed(format!("git cat-file failed: {error}")),
    };
    let _ = writer.join();
    let mut rest = &output.stdout[..];
    let mut objects = Vec::new();
    for id in ids {
        let Some(end) = rest.iter().position(|b| *b == b'\n') else {
            objects.push(Err(format!("git cat-file gave no answer for {id}")));
            continue;
        };
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        let size = match header.split(' ').collect::<Vec<_>>()[..] {
            [_, _, size] => size.parse::<usize>().ok(),
            _ => None,
        };
        match size {
            Some(size) if rest.len() > size => {
                objects.push(Ok(rest[..size].to_vec()));
                rest = &rest[size + 1..];
            }
            _ => objects.push(Err(format!("git cannot read object {id}: {header}"))),
        }
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_never_override_a_negation_already_there() {
        let missing: Vec<String> = [".env.*", "*.env"].map(String::from).to_vec();
        let theirs = "node_modules/\n.env\n!.env.example\n";
        assert_eq!(
            with_patterns(theirs, &missing),
            "node_modules/\n.env\n# Secrets (added by t3s3)\n.env.*\n*.env\n!.env.example\n"
        );
        assert_eq!(with_patterns("dist/\n", &missing), "dist/\n\n# Secrets (added by t3s3)\n.env.*\n*.env\n");
        assert_eq!(with_patterns("", &missing), ".env.*\n*.env\n");
        assert!(
            glob_matches(".env.*", ".env.example")
                && glob_matches("*.env", "prod.env")
                && !glob_matches("*.env", ".envrc")
        );
    }

    #[test]
    fn raw_lines_keep_paths_as_bytes_and_skip_submodules() {
        let mut raw = b":000000 100644 0000 aaaa A\0N:weird\xff.txt\0".to_vec();
        raw.extend(b":120000 100644 bbbb cccc T\0link\0:000000 160000 0000 dddd A\0sub\0");
        let blobs = parse_raw(&raw).unwrap();
        assert_eq!(blobs[0], StagedBlob { path: b"N:weird\xff.txt".to_vec(), object: Some("aaaa".into()) });
        assert_eq!(blobs[1].object.as_deref(), Some("cccc"));
        assert_eq!(blobs[2].object, None);
        assert!(parse_raw(b":000000 100644 0000 aaaa A\0").is_ok());
        assert!(parse_raw(b":000000 100644 0000 aaaa\0x\0").is_err(), "a line of another shape is an error");
    }
}
