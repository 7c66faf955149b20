//! `rotate-key`'s work: the guide's "rotate every 90 days, delete old keys after updating your
//! application", without an outage: new key, .env, self-test, then retire the old key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::aws::ActingClients;
use crate::change::{Change, Kind};
use crate::envfile::EnvFile;
use crate::exit::{Failure, after_changes};
use crate::fsio;
use crate::git;
use crate::iam::{self, KeyInfo};
use crate::keys::Key;
use crate::ops::selftest::{self, VerifyReport};
use crate::outln;
use crate::policy;
use crate::settings::AppSettings;
use crate::sts;
use crate::ui::{Printer, Render, style};

/// What became of the key the .env held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OldKeyAction {
    Deleted,
    Deactivated,
    /// Still working, marked for `rotate-key --retire` once the backend restarted.
    Active,
    /// The rotation was rolled back: the old key is still the one in use.
    Kept,
}

/// What the rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct RotateReport {
    pub ok: bool,
    pub user: String,
    pub env_file: String,
    pub old_key: String,
    pub new_key: Option<String>,
    pub old_key_action: OldKeyAction,
    /// The user's other key, deleted (with consent) to free a slot.
    pub freed_slot: Option<String>,
    pub rolled_back: bool,
    pub verify: Option<VerifyReport>,
    /// The command that retires the old key, with the options this run was given.
    #[serde(skip)]
    pub retire_command: String,
}

impl Render for RotateReport {
    fn text(&self, out: &mut String) {
        if self.rolled_back {
            let line = format!(
                "✗ The new key failed verification: {} names {} again and the new key was deleted.",
                self.env_file, self.old_key
            );
            outln!(out, "{}", style::fail(&line));
            return;
        }
        if self.old_key_action == OldKeyAction::Active {
            let line = format!(
                "✓ Rotated: {} now holds {}; the old key {} still works, so the running backend keeps serving.",
                self.env_file,
                self.new_key.as_deref().unwrap_or_default(),
                self.old_key
            );
            outln!(out, "{}", style::ok(&line));
            outln!(out, "  Next: restart the backend so it loads the new key, then retire the old one:");
            outln!(out, "    {}", self.retire_command);
            return;
        }
        let action = match self.old_key_action {
            OldKeyAction::Deleted => "deleted",
            OldKeyAction::Deactivated => "deactivated",
            OldKeyAction::Active | OldKeyAction::Kept => "kept",
        };
        let line = format!(
            "✓ Rotated: {} now holds {}; the old key {} was {action}.",
            self.env_file,
            self.new_key.as_deref().unwrap_or_default(),
            self.old_key
        );
        outln!(out, "{}", style::ok(&line));
        outln!(out, "  Restart the backend so it loads the new key.");
    }
}

/// The key to rotate, its user, and the user's other key if both slots are taken.
pub struct Prepared {
    /// Who is acting.
    pub caller: crate::sts::Caller,
    pub env_path: PathBuf,
    /// The .env as the command read it (once, under its lock).
    pub env: EnvFile,
    pub user: String,
    pub old_key: String,
    /// A second key, not in the .env, that must go to make room (only with consent).
    pub other_key: Option<KeyInfo>,
    /// Every key of the user now.
    pub existing: Vec<String>,
}

/// Finds the key and its user; refuses a .env git tracks or one without a key.
pub async fn prepare(clients: &ActingClients, env: EnvFile) -> Result<Prepared> {
    let env_path = env.path();
    let shown = env_path.display().to_string();
    git::check_answers(env_path).map_err(|unanswered| unanswered.refusal(env_path))?;
    if git::is_tracked(env_path) {
        return Err(Failure::bad_input(format!(
            "refusing to write a new secret to {shown}{}: git tracks it",
            git::link_note(env_path)
        ))
        .hint(format!("run `git rm --cached {shown}` and commit first"))
        .into());
    }
    env.require_parseable()?;
    let settings = AppSettings::of(&env);
    let old_key = settings
        .get(Key::AccessKeyId)
        .ok_or_else(|| {
            Failure::bad_input(format!("{shown} has no AWS_ACCESS_KEY_ID to rotate"))
                .hint("run `t3s3 init` to create a key")
        })?
        .to_string();
    // Who is acting and whose key it is: at once.
    let (caller, user) = tokio::join!(sts::acting_caller(clients), iam::user_of_key(&clients.iam, &old_key));
    let caller = caller?;
    let user = user?.ok_or_else(|| {
        Failure::bad_input(format!("IAM does not know the key {old_key} from {shown}"))
            .hint("it was deleted or mistyped; run `t3s3 init` to create a new key instead")
    })?;
    let (keys, retiring) = iam::keys_and_retiring(&clients.iam, &user).await?;
    let existing: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    if let Some(waiting) = retiring.filter(|id| *id != old_key) {
        return Err(Failure::bad_input(format!(
            "the last rotation of `{user}` left {waiting} working until the backend restarts; nothing was changed"
        ))
        .hint("restart the backend, run `t3s3 rotate-key --retire` to retire that key, then rotate again")
        .into());
    }
    // Both slots taken: the key that would go is described with its last use, for the question.
    let mut other_key = keys.into_iter().find(|k| k.id != old_key).filter(|_| existing.len() >= 2);
    if let Some(other) = other_key.as_mut() {
        iam::add_last_used(&clients.iam, std::slice::from_mut(other)).await;
    }
    let env_path = env_path.to_path_buf();
    Ok(Prepared { caller, env_path, env, user, old_key, other_key, existing })
}

/// Rotates: frees a slot if allowed, creates the new key, writes it, runs the self-test,
/// then retires the old key, or, when the self-test fails, puts everything back.
/// How the old key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// Left working and marked, for `rotate-key --retire` after the backend restarted.
    Later,
    /// At once after the self-test (`--now`): deleted, or only deactivated (`--keep-old`).
    Now { keep_old: bool },
}

pub async fn run(
    clients: &ActingClients,
    prepared: &Prepared,
    retire: Retire,
    timeout: Duration,
    printer: &Printer,
) -> Result<RotateReport> {
    let mut changes = Vec::new();
    match rotate(clients, prepared, retire, timeout, printer, &mut changes).await {
        Ok(report) => Ok(report),
        Err(error) => Err(after_changes(error, changes)),
    }
}

async fn rotate(
    clients: &ActingClients,
    prepared: &Prepared,
    retire: Retire,
    timeout: Duration,
    printer: &Printer,
    changes: &mut Vec<Change>,
) -> Result<RotateReport> {
    let Prepared { env_path, user, old_key, other_key, .. } = prepared;
    let shown = env_path.display().to_string();
    let mut freed_slot = None;
    if let Some(other) = other_key {
        iam::delete_key(&clients.iam, user, &other.id).await?;
        changes.push(Change::deleted(Kind::AccessKey, format!("access key {} deleted to free a slot", other.id)));
        printer.note(&format!("Deleted {} (not in {shown}) to free a slot", other.id));
        freed_slot = Some(other.id.clone());
    }
    // New key, written atomically; the old key stays valid until the new one is verified.
    let remaining: Vec<String> =
        prepared.existing.iter().filter(|id| other_key.as_ref().is_none_or(|o| o.id != **id)).cloned().collect();
    let new_key = match iam::create_key(&clients.iam, user, &remaining, false).await {
        Ok(key) => key,
        Err(error) => return Err(super::lost_key_error(clients, error, user, &remaining).await),
    };
    printer.note(&format!("Created {} for `{user}`", new_key.id));
    let mut env = prepared.env.clone();
    let original = env.contents();
    env.merge(&[(Key::AccessKeyId.name(), &new_key.id), (Key::SecretAccessKey.name(), &new_key.secret)]);
    if let Err(error) = env.write() {
        let _ = iam::delete_key(&clients.iam, user, &new_key.id).await;
        return Err(
            error.context(format!("cannot write {shown} (the new key was deleted again; the old key is untouched)"))
        );
    }
    changes.push(Change::created(Kind::AccessKey, format!("access key {} created and written to {shown}", new_key.id)));
    tokio::join!(iam::describe_key(&clients.iam, user, &new_key.id), iam::mark_written(&clients.iam, user));
    printer.note(&format!("Wrote the new key to {shown}"));

    let options = selftest::Options {
        timeout,
        wait_for_new_key: Some(selftest::NEW_KEY_PROPAGATION),
        policy_name: policy::DEFAULT_NAME.to_string(),
    };
    let result = selftest::after_writing(env_path, &options, printer).await?;
    let mut report = RotateReport {
        ok: result.ok,
        user: user.clone(),
        env_file: shown,
        old_key: old_key.clone(),
        new_key: Some(new_key.id.clone()),
        old_key_action: OldKeyAction::Kept,
        freed_slot,
        rolled_back: false,
        verify: Some(result),
        retire_command: "t3s3 rotate-key --retire".into(),
    };
    if !report.ok {
        // Roll back: the .env names the old key again before the new key goes.
        fsio::write_atomic(env_path, original.as_bytes(), 0o600)?;
        iam::delete_key(&clients.iam, user, &new_key.id).await?;
        report.rolled_back = true;
        report.new_key = None;
        return Ok(report);
    }
    report.old_key_action = match retire {
        Retire::Later => {
            iam::mark_retiring(&clients.iam, user, old_key).await?;
            OldKeyAction::Active
        }
        Retire::Now { keep_old } => retire_key(clients, user, old_key, keep_old).await?,
    };
    Ok(report)
}

/// Deactivates the old key, then deletes it unless `keep_old`.
async fn retire_key(clients: &ActingClients, user: &str, old_key: &str, keep_old: bool) -> Result<OldKeyAction> {
    iam::deactivate_key(&clients.iam, user, old_key).await?;
    if keep_old {
        return Ok(OldKeyAction::Deactivated);
    }
    iam::delete_key(&clients.iam, user, old_key).await?;
    Ok(OldKeyAction::Deleted)
}

/// What `rotate-key --dry-run` would do, found with read-only calls.
#[derive(Debug, Clone, Serialize)]
pub struct RotatePlan {
    pub ok: bool,
    pub dry_run: bool,
    pub user: String,
    pub env_file: String,
    pub old_key: String,
    pub steps: Vec<String>,
}

impl Render for RotatePlan {
    fn text(&self, out: &mut String) {
        outln!(out, "{}", style::warn("Dry run: read-only calls only; nothing was changed."));
        for (number, step) in self.steps.iter().enumerate() {
            outln!(out, "  {}. {step}", number + 1);
        }
    }
}

/// The rotation's steps as they would go, for `--dry-run`.
pub fn plan(prepared: &Prepared, retire: Retire) -> RotatePlan {
    let Prepared { env_path, user, old_key, other_key, .. } = prepared;
    let shown = env_path.display().to_string();
    let mut steps = Vec::new();
    if let Some(other) = other_key {
        steps.push(format!("delete {} (not in {shown}) to free a key slot, after you confirm", other.describe()));
    }
    steps.push(format!("create a new access key for `{user}` and write it to {shown}"));
    steps.push("run the seven-step self-test with it; on failure put the .env back and delete the new key".into());
    steps.push(match retire {
        Retire::Later => format!("leave {old_key} working until `t3s3 rotate-key --retire`"),
        Retire::Now { keep_old: true } => format!("deactivate {old_key}"),
        Retire::Now { keep_old: false } => format!("deactivate and delete {old_key}"),
    });
    RotatePlan { ok: true, dry_run: true, user: user.clone(), env_file: shown, old_key: old_key.clone(), steps }
}

/// What `rotate-key --retire` did.
#[derive(Debug, Clone, Serialize)]
pub struct RetireReport {
    pub ok: bool,
    pub dry_run: bool,
    pub user: String,
    pub env_file: String,
    /// The key the .env holds (kept).
    pub key: String,
    /// The key retired; `None` when none awaited retirement (a second `--retire`).
    pub old_key: Option<String>,
    pub old_key_action: Option<OldKeyAction>,
}

impl Render for RetireReport {
    fn text(&self, out: &mut String) {
        let (Some(old_key), Some(old_key_action)) = (&self.old_key, self.old_key_action) else {
            let line = format!(
                "✓ Nothing to retire: no key of `{}` awaits retirement; {} holds {}.",
                self.user, self.env_file, self.key
            );
            outln!(out, "{}", style::ok(&line));
            return;
        };
        let action = if old_key_action == OldKeyAction::Deleted { "deleted" } else { "deactivated" };
        if self.dry_run {
            outln!(out, "{}", style::warn("Dry run: read-only calls only; nothing was changed."));
            let action = if action == "deleted" { "deactivated and deleted" } else { action };
            outln!(
                out,
                "  the old key {} of `{}` would be {action} ({} holds {})",
                old_key,
                self.user,
                self.env_file,
                self.key
            );
            return;
        }
        let line = format!(
            "✓ Retired: the old key {} of `{}` was {action}; {} holds {}.",
            old_key, self.user, self.env_file, self.key
        );
        outln!(out, "{}", style::ok(&line));
    }
}

/// The second step: retires the key the last rotation left working, and only that one (its
/// mark names it), never the key the .env holds.
pub async fn retire(
    clients: &ActingClients,
    settings: &AppSettings,
    env_path: &Path,
    keep_old: bool,
    dry_run: bool,
    yes: bool,
) -> Result<RetireReport> {
    let shown = env_path.display().to_string();
    let key = settings
        .get(Key::AccessKeyId)
        .ok_or_else(|| {
            Failure::bad_input(format!("{shown} has no AWS_ACCESS_KEY_ID")).hint("run `t3s3 init` to create a key")
        })?
        .to_string();
    let user = iam::user_of_key(&clients.iam, &key).await?.ok_or_else(|| {
        Failure::bad_input(format!("IAM does not know the key {key} from {shown}"))
            .hint("it was deleted or mistyped; run `t3s3 init` to create a new key instead")
    })?;
    let (keys, retiring) = iam::keys_and_retiring(&clients.iam, &user).await?;
    // Retiring twice is done already: nothing to do, not an error.
    let Some(old_key) = retiring else {
        return Ok(RetireReport { ok: true, dry_run, user, env_file: shown, key, old_key: None, old_key_action: None });
    };
    if old_key == key {
        return Err(Failure::bad_input(format!(
            "{shown} still holds {old_key}, the key the last rotation replaced; nothing was changed"
        ))
        .hint("put the new key back in the .env (or run `t3s3 rotate-key` again), restart the backend, then retire")
        .into());
    }
    if !yes {
        let created = keys.iter().find(|k| k.id == key).and_then(|k| k.created_ms);
        still_in_use(clients, &old_key, &key, created).await?;
    }
    if dry_run {
        let action = if keep_old { OldKeyAction::Deactivated } else { OldKeyAction::Deleted };
        let (old_key, old_key_action) = (Some(old_key), Some(action));
        return Ok(RetireReport { ok: true, dry_run, user, env_file: shown, key, old_key, old_key_action });
    }
    let action = retire_key(clients, &user, &old_key, keep_old).await.map_err(|error| {
        after_changes(
            error,
            vec![Change::updated(Kind::AccessKey, format!("retiring {old_key}: it may be deactivated already"))],
        )
    })?;
    iam::unmark_retiring(&clients.iam, &user).await;
    let (old_key, old_key_action) = (Some(old_key), Some(action));
    Ok(RetireReport { ok: true, dry_run, user, env_file: shown, key, old_key, old_key_action })
}

/// Refuses (exit 1) when AWS saw `old_key` used after `new_key` was created: something, most
/// likely a backend not restarted yet, still runs on it. Unknown is not "unused": a last use
/// IAM will not tell is refused too.
async fn still_in_use(clients: &ActingClients, old_key: &str, new_key: &str, created: Option<i64>) -> Result<()> {
    let skip_hint = "restart every process that holds the old key (the backend), wait a little, then run `t3s3 rotate-key --retire` again; --yes retires it anyway";
    let used = iam::last_use(&clients.iam, old_key).await.map_err(|error| {
        Failure::check_failed(format!(
            "cannot tell whether {old_key} is still in use ({}): nothing was retired",
            error.code_name()
        ))
        .hint(format!("allow iam:GetAccessKeyLastUsed, or {skip_hint}"))
    })?;
    let (Some((used_at, service)), Some(created)) = (used, created) else { return Ok(()) };
    if used_at <= created {
        return Ok(());
    }
    let when = aws_smithy_types::DateTime::from_millis(used_at)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| used_at.to_string());
    Err(Failure::check_failed(format!(
        "{old_key} was used at {when} ({service}), after {new_key} replaced it: something still runs on it; nothing was retired (AWS records last use only approximately, within hours)"
    ))
    .hint(skip_hint)
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(action: OldKeyAction) -> RotateReport {
        RotateReport {
            ok: true,
            user: "t3_chat".into(),
            env_file: "backend/.env".into(),
            old_key: "AKIAOLD".into(),
            new_key: Some("AKIANEW".into()),
            old_key_action: action,
            freed_slot: None,
            rolled_back: false,
            verify: None,
            retire_command: "t3s3 rotate-key --retire".into(),
        }
    }

    fn text(render: &impl Render) -> String {
        let mut out = String::new();
        render.text(&mut out);
        out
    }

    #[test]
    fn a_rotation_that_leaves_the_old_key_says_how_to_retire_it() {
        let shown = text(&report(OldKeyAction::Active));
        assert!(shown.contains("AKIAOLD still works") && shown.contains("t3s3 rotate-key --retire"), "{shown}");
        let shown = text(&report(OldKeyAction::Deleted));
        assert!(shown.contains("the old key AKIAOLD was deleted") && !shown.contains("--retire"), "{shown}");
        let mut rolled = report(OldKeyAction::Kept);
        rolled.rolled_back = true;
        assert!(text(&rolled).contains("names AKIAOLD again"));
    }

    #[test]
    fn only_the_marked_key_still_present_awaits_retirement() {
        let tags = vec![(iam::RETIRING_TAG.to_string(), "AKIAOLD".to_string())];
        let keys = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
        assert_eq!(iam::retiring_among(&tags, &keys(&["AKIANEW", "AKIAOLD"])), Some("AKIAOLD".into()));
        assert_eq!(iam::retiring_among(&tags, &keys(&["AKIANEW"])), None, "already gone");
        assert_eq!(iam::retiring_among(&[], &keys(&["AKIANEW", "AKIAOLD"])), None, "no mark, no retirement");
    }
}
