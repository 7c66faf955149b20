//! `t3s3 rotate-key`: replace the backend's key without an outage: new key, .env, verify;
//! the old key works until `--retire` (after the backend restarted), or at once with `--now`.

use anyhow::Result;

use crate::aws;
use crate::cli::RotateKeyArgs;
use crate::envfile::EnvFile;
use crate::exit::{ExitStatus, Failure};
use crate::ops::{self, rotate};
use crate::prompt;
use crate::settings::AppSettings;

/// Exit 1 when the new key failed the self-test and the rotation was rolled back.
pub async fn run(args: &RotateKeyArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    if args.keep_old && !args.now && !args.retire {
        return Err(Failure::bad_input("--keep-old says how the old key is retired: use it with --now or --retire")
            .hint("`t3s3 rotate-key` leaves the old key working; retire it later with `t3s3 rotate-key --retire --keep-old`")
            .into());
    }
    let target = ctx.target()?;
    let env_path = ops::existing_env_file(args.env_file.as_deref())?;
    let _lock = super::lock(&env_path, ctx.printer).await?;
    // Read once, under the lock: the settings, the rotation and its retirement use this reading.
    let env = EnvFile::read(&env_path)?;
    let settings = AppSettings::of(&env);
    let clients = aws::acting_clients(&ops::acting_target(&target, &settings)).await?;
    if args.retire {
        let report = rotate::retire(&clients, &settings, &env_path, args.keep_old, args.dry_run, args.yes).await?;
        ctx.printer.report(&report);
        return Ok(ExitStatus::Success);
    }

    let prepared = rotate::prepare(&clients, env).await?;
    let retire = if args.now { rotate::Retire::Now { keep_old: args.keep_old } } else { rotate::Retire::Later };
    if args.dry_run {
        ctx.printer.report(&rotate::plan(&prepared, retire));
        return Ok(ExitStatus::Success);
    }
    ctx.printer.note(&format!("Acting as {} (account {})", prepared.caller.arn, prepared.caller.account));
    if let Some(other) = &prepared.other_key {
        let (user, shown) = (&prepared.user, env_path.display());
        let question = format!(
            "`{user}` already has two keys; {} is not the one in {shown}. Delete it to make room?",
            other.describe()
        );
        if !crate::blocking::off_the_runtime(|| prompt::confirm(&question, args.yes))? {
            return Err(Failure::bad_input(format!(
                "`{user}` has no free key slot: {} is not in {shown}",
                other.describe()
            ))
            .hint("delete that key yourself, or run again with --yes to let rotate-key delete it")
            .into());
        }
    }
    let mut report = rotate::run(&clients, &prepared, retire, ctx.timeout(), ctx.printer).await?;
    report.retire_command = ctx.again("rotate-key", args.env_file.as_deref(), "--retire");
    ctx.printer.report(&report);
    Ok(if report.rolled_back { ExitStatus::CheckFailed } else { ExitStatus::Success })
}
