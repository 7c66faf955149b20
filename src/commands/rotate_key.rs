//! `t3s3 rotate-key`: the guide's "rotate every 90 days, delete old keys after updating your
//! application", without an outage: new key, .env, verify, then retire the old key.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::aws;
use crate::cli::{GlobalArgs, RotateKeyArgs};
use crate::commands::verify::{self, VerifyReport};
use crate::envfile::{self, EnvFile};
use crate::exit::{ExitStatus, Failure};
use crate::git;
use crate::iam;
use crate::prompt;
use crate::report::Printer;
use crate::settings::AppSettings;

/// What the rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct RotateReport {
    pub ok: bool,
    pub user: String,
    pub env_file: String,
    pub old_key: String,
    pub new_key: Option<String>,
    /// `deleted`, `deactivated`, or `kept` (when the rotation was rolled back).
    pub old_key_action: String,
    /// The user's other key, deleted (with consent) to free a slot.
    pub freed_slot: Option<String>,
    pub rolled_back: bool,
    pub verify: Option<VerifyReport>,
}

pub async fn run(args: &RotateKeyArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let env_path = super::existing_env_file(args.env_file.as_deref())?;
    let shown = env_path.display().to_string();
    if git::is_tracked(&env_path) {
        return Err(Failure::bad_input(format!("refusing to write a new secret to {shown}: git tracks it"))
            .hint(format!("run `git rm --cached {shown}` and commit first"))
            .into());
    }
    let settings = AppSettings::from_file(&env_path)?;
    let old_key = settings
        .get("AWS_ACCESS_KEY_ID")
        .ok_or_else(|| {
            Failure::bad_input(format!("{shown} has no AWS_ACCESS_KEY_ID to rotate"))
                .hint("run `t3s3 init` to create a key")
        })?
        .to_string();
    let clients = aws::acting_clients(&super::acting_target(global, &settings)).await;
    let caller = clients.caller().await?;
    printer.note(&format!("Acting as {} (account {})", caller.arn, caller.account));

    let user = iam::user_of_key(&clients.iam, &old_key).await?.ok_or_else(|| {
        Failure::bad_input(format!("IAM does not know the key {old_key} from {shown}"))
            .hint("it was deleted or mistyped; run `t3s3 init` to create a new key instead")
    })?;
    let keys = iam::list_keys(&clients.iam, &user, true).await?;
    let mut freed_slot = None;
    if keys.len() >= 2 {
        let other = keys.iter().find(|k| k.id != old_key).expect("two keys, one of them is not the old one");
        let question = format!(
            "`{user}` already has two keys; {} is not the one in {shown}. Delete it to make room?",
            other.describe()
        );
        if !prompt::confirm(&question, args.yes)? {
            return Err(Failure::bad_input(format!(
                "`{user}` has no free key slot: {} is not in {shown}",
                other.describe()
            ))
            .hint("delete that key yourself, or run again with --yes to let rotate-key delete it")
            .into());
        }
        iam::delete_key(&clients.iam, &user, &other.id).await?;
        printer.note(&format!("Deleted {} (not in {shown}) to free a slot", other.id));
        freed_slot = Some(other.id.clone());
    }

    // New key, written atomically; the old key stays valid until the new one is verified.
    let new_key = iam::create_key(&clients.iam, &user).await?;
    printer.note(&format!("Created {} for `{user}`", new_key.id));
    let mut env = EnvFile::read(&env_path)?;
    let original = env.contents();
    env.merge(&[("AWS_ACCESS_KEY_ID", &new_key.id), ("AWS_SECRET_ACCESS_KEY", &new_key.secret)]);
    if let Err(error) = env.write() {
        let _ = iam::delete_key(&clients.iam, &user, &new_key.id).await;
        return Err(
            error.context(format!("cannot write {shown} (the new key was deleted again; the old key is untouched)"))
        );
    }
    printer.note(&format!("Wrote the new key to {shown}"));

    let new_settings = AppSettings::from_file(&env_path)?;
    let options = verify::Options { timeout: Duration::from_secs(20), wait_for_new_key: Some(Duration::from_secs(30)) };
    printer.verify_begin();
    let result = verify::self_test(&new_settings, &options, printer).await;
    printer.verify_footer(&result);

    let mut report = RotateReport {
        ok: result.ok,
        user: user.clone(),
        env_file: shown.clone(),
        old_key: old_key.clone(),
        new_key: Some(new_key.id.clone()),
        old_key_action: "kept".into(),
        freed_slot,
        rolled_back: false,
        verify: Some(result),
    };
    if !report.ok {
        // Roll back: the .env names the old key again before the new key goes.
        envfile::write_atomic(&env_path, original.as_bytes(), 0o600)?;
        iam::delete_key(&clients.iam, &user, &new_key.id).await?;
        report.rolled_back = true;
        report.new_key = None;
        printer.rotate(&report);
        return Ok(ExitStatus::CheckFailed);
    }
    iam::deactivate_key(&clients.iam, &user, &old_key).await?;
    report.old_key_action = "deactivated".into();
    if !args.keep_old {
        iam::delete_key(&clients.iam, &user, &old_key).await?;
        report.old_key_action = "deleted".into();
    }
    printer.rotate(&report);
    Ok(ExitStatus::Success)
}
