//! `t3s3 rotate-key`: replace the backend's key without an outage: new key, .env, verify,
//! then retire the old key.

use anyhow::Result;

use crate::aws;
use crate::cli::{GlobalArgs, RotateKeyArgs};
use crate::exit::{ExitStatus, Failure};
use crate::ops::{self, rotate};
use crate::prompt;
use crate::settings::AppSettings;
use crate::ui::Printer;

/// Exit 1 when the new key failed the self-test and the rotation was rolled back.
pub async fn run(args: &RotateKeyArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let target = super::target(global)?;
    let env_path = ops::existing_env_file(args.env_file.as_deref())?;
    let _lock = super::lock(&env_path, printer)?;
    let settings = AppSettings::from_file(&env_path)?;
    let clients = aws::acting_clients(&ops::acting_target(&target, &settings)).await?;

    let prepared = rotate::prepare(&clients, &env_path).await?;
    printer.note(&format!("Acting as {} (account {})", prepared.caller.arn, prepared.caller.account));
    if let Some(other) = &prepared.other_key {
        let (user, shown) = (&prepared.user, env_path.display());
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
    }
    let report = rotate::run(&clients, &prepared, args.keep_old, super::timeout(global), printer).await?;
    printer.report(&report);
    Ok(if report.rolled_back { ExitStatus::CheckFailed } else { ExitStatus::Success })
}
