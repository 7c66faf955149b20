//! Checks on this machine alone: the .env (present, parsed, mode), git (ignored, untracked,
//! never committed) and temporary files an interrupted write left.

use std::path::{Path, PathBuf};

use crate::envfile::Severity;
use crate::fsio;
use crate::git;
use crate::keys::Key;
use crate::settings::AppSettings;

use super::{Audit, CheckId, CheckStatus};

/// The .env itself, and what git knows about it.
pub(super) fn local_checks(audit: &Audit, env_path: &Path, settings: &AppSettings) {
    let shown = env_path.display().to_string();
    let mut errors: Vec<String> =
        settings.lint_errors().iter().map(|i| format!("line {}: {}", i.line, i.message)).collect();
    errors.extend(crate::ops::selftest::session_token_problem(settings));
    let warnings: Vec<String> = settings
        .lint
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .map(|i| format!("line {}: {}", i.line, i.message))
        .collect();
    let missing = settings.missing();
    if !errors.is_empty() || !missing.is_empty() {
        let broken_lines = !errors.is_empty();
        let mut evidence = errors;
        if !missing.is_empty() {
            evidence.push(format!("missing {}", missing.join(", ")));
        }
        // Settings that are missing altogether are init's to write; broken lines are the user's.
        let fix = if !broken_lines {
            format!("run `t3s3 init` to add them to {shown}")
        } else {
            format!("fix those lines in {shown}: KEY=value, no spaces, no quotes")
        };
        audit.add(CheckId::EnvLint, CheckStatus::Fail, evidence.join("; "), fix);
    } else if !warnings.is_empty() {
        audit.add(CheckId::EnvLint, CheckStatus::Warn, warnings.join("; "), format!("tidy those lines in {shown}"));
    } else {
        audit.add(CheckId::EnvLint, CheckStatus::Pass, "parses; the four settings are set and well formed", "");
    }

    mode_check(audit, env_path, &shown);
    // The file really written decides: a link outside a repository may point into one.
    let in_a_repo = |p: &Path| git::repo_root(p).is_some();
    if let Err(unanswered) = git::check_answers(env_path) {
        let in_git = [CheckId::EnvIgnored, CheckId::EnvUntracked, CheckId::EnvNeverCommitted];
        audit.skip(&in_git, &format!("{} ({})", unanswered.message, unanswered.hint));
    } else if !in_a_repo(env_path) && git::written_file(env_path).is_some_and(|real| !in_a_repo(&real)) {
        let in_git = [CheckId::EnvIgnored, CheckId::EnvUntracked, CheckId::EnvNeverCommitted];
        audit.skip(&in_git, "not in a git repository");
    } else {
        git_checks(audit, env_path, settings);
    }
    temp_files_check(audit, env_path);
    let root = git::repo_root(env_path).unwrap_or_else(|| PathBuf::from("."));
    let gitignore = root.join(".gitignore");
    let missing = git::missing_patterns(&gitignore);
    if missing.is_empty() {
        let evidence = format!("{} has {}", gitignore.display(), git::IGNORE_PATTERNS.join(", "));
        audit.add(CheckId::GitignorePatterns, CheckStatus::Pass, evidence, "");
    } else {
        audit.add(
            CheckId::GitignorePatterns,
            CheckStatus::Warn,
            format!("{} lacks {}", gitignore.display(), missing.join(", ")),
            format!("add {} to {}", missing.join(" and "), gitignore.display()),
        );
    }
}

/// env_mode: Unix permission bits, or on Windows the ACL as icacls reads it.
fn mode_check(audit: &Audit, env_path: &Path, shown: &str) {
    match fsio::file_mode(env_path) {
        None if cfg!(unix) => audit.skip(&[CheckId::EnvMode], &format!("cannot read the mode of {shown}")),
        None => match fsio::acl_check(env_path) {
            Ok(others) if others.is_empty() => audit.add(
                CheckId::EnvMode,
                CheckStatus::Pass,
                format!("the ACL of {shown} grants only you (icacls)"),
                "",
            ),
            Ok(others) => audit.add(
                CheckId::EnvMode,
                CheckStatus::Fail,
                format!("the ACL of {shown} also grants {} (icacls)", others.join(", ")),
                format!("icacls {shown} /inheritance:r /grant:r %USERNAME%:F (`t3s3 init` does this when it writes)"),
            ),
            Err(why) => audit.add(
                CheckId::EnvMode,
                CheckStatus::Warn,
                format!("could not read the ACL of {shown} ({why}), so it is not known to be private"),
                format!("check it with `icacls {shown}`: only your account should be listed"),
            ),
        },
        Some(mode) if mode & 0o077 == 0 => {
            audit.add(CheckId::EnvMode, CheckStatus::Pass, format!("mode {mode:04o}"), "")
        }
        Some(mode) => audit.add(
            CheckId::EnvMode,
            CheckStatus::Fail,
            format!("mode {mode:04o}: other users can read the secret"),
            format!("chmod 600 {shown}"),
        ),
    }
}

/// Temporary files of an interrupted write: each holds a whole .env, secret included.
fn temp_files_check(audit: &Audit, env_path: &Path) {
    let stray = fsio::stray_temp_files(env_path);
    if stray.is_empty() {
        audit.add(CheckId::EnvTempFiles, CheckStatus::Pass, "no temporary files left by an interrupted run", "");
        return;
    }
    let names: Vec<String> = stray.iter().map(|p| p.display().to_string()).collect();
    audit.add(
        CheckId::EnvTempFiles,
        CheckStatus::Warn,
        format!("{} left by an interrupted t3s3 run, each a copy of the .env with its secret", names.join(", ")),
        format!("delete them (`rm {}`), or run `t3s3 init`, which removes them", names.join(" ")),
    );
}

fn git_checks(audit: &Audit, env_path: &Path, settings: &AppSettings) {
    let shown = format!("{}{}", env_path.display(), git::link_note(env_path));
    if git::is_ignored(env_path) {
        audit.add(CheckId::EnvIgnored, CheckStatus::Pass, format!("git ignores {shown}"), "");
    } else {
        audit.add(
            CheckId::EnvIgnored,
            CheckStatus::Fail,
            format!("git does not ignore {shown}"),
            "add `.env`, `*.env` and `.env.*` to .gitignore (`t3s3 init` does)",
        );
    }
    if git::is_tracked(env_path) {
        audit.add(
            CheckId::EnvUntracked,
            CheckStatus::Fail,
            format!("git tracks {shown}"),
            format!("`git rm --cached {shown}`, commit, and rotate the key (`t3s3 rotate-key`)"),
        );
    } else {
        audit.add(CheckId::EnvUntracked, CheckStatus::Pass, format!("git does not track {shown}"), "");
    }
    never_committed_check(audit, env_path, settings);
}

/// env_never_committed: FAIL when history holds an AWS key (the .env's own key id anywhere,
/// its secret in any file of any branch, any key the guard's scanner finds in a committed
/// version of the file, or history git cannot read); WARN when the file was committed
/// without one.
fn never_committed_check(audit: &Audit, env_path: &Path, settings: &AppSettings) {
    let shown = env_path.display().to_string();
    let ours: Vec<&str> = [Key::AccessKeyId, Key::SecretAccessKey].iter().filter_map(|k| settings.get(*k)).collect();
    let versions = git::committed_versions(env_path);
    let holds_a_key = |bytes: &Result<Vec<u8>, String>| match bytes {
        Err(_) => true,
        Ok(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            ours.iter().any(|value| text.contains(value))
                || crate::guard::scan(&shown, bytes).iter().any(|f| f.line > 0)
        }
    };
    let mut commits: Vec<String> =
        versions.iter().filter(|(_, bytes)| holds_a_key(bytes)).map(|(commit, _)| commit.clone()).collect();
    if let Some(key_id) = settings.get(Key::AccessKeyId) {
        commits.extend(git::commits_mentioning(env_path, key_id));
    }
    // The secret itself in any file of any branch (a settings.py, a notebook), read as
    // `guard --history` reads the history; history git cannot read is not called clean.
    if let Some(secret) = settings.get(Key::SecretAccessKey) {
        match git::history_holding(env_path, &[secret]) {
            Ok(places) => commits.extend(places),
            Err(why) => commits.push(format!("(git could not read the history: {why})")),
        }
    }
    commits.sort();
    commits.dedup();
    let committed: Vec<&str> = versions.iter().map(|(commit, _)| commit.as_str()).collect();
    if commits.is_empty() && !committed.is_empty() {
        audit.add(
            CheckId::EnvNeverCommitted,
            CheckStatus::Warn,
            format!("{shown} is in commit(s) {}, holding no AWS key there", committed.join(", ")),
            "no AWS key leaked; if it held other secrets (a database password), change them and rewrite history (git filter-repo)",
        );
    } else if commits.is_empty() {
        audit.add(CheckId::EnvNeverCommitted, CheckStatus::Pass, "no commit holds the file or the key ID", "");
    } else {
        audit.add(
            CheckId::EnvNeverCommitted,
            CheckStatus::Fail,
            format!("the key (its id or secret) is in history: {}; it is leaked even after removal", commits.join(", ")),
            "rotate the key now (`t3s3 rotate-key`); then rewrite history (git filter-repo) if the repository is shared",
        );
    }
}
