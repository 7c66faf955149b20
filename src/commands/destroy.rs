//! `t3s3 destroy`: undo `init` for a dev environment. The bucket (its objects only with
//! --force), the policy, the key named in the .env and the .env's S3 settings go; the IAM
//! user stays (the guide reuses it). Running it twice is harmless.

use anyhow::Result;

use crate::aws;
use crate::cli::DestroyArgs;
use crate::envfile::EnvFile;
use crate::exit::{ExitStatus, Failure};
use crate::ops::{self, teardown};
use crate::prompt;
use crate::settings::AppSettings;

pub async fn run(args: &DestroyArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    let target = ctx.target()?;
    let env_path = ops::existing_env_file(args.env_file.as_deref())?;
    let _lock = super::lock(&env_path, ctx.printer).await?;
    // Read once, under the lock: the settings and the plan both come from this reading.
    let env = EnvFile::read(&env_path)?;
    let settings = AppSettings::of(&env);
    let clients = aws::acting_clients(&ops::acting_target(&target, &settings)).await?;
    let names = teardown::Names {
        policy: args.policy_name.clone(),
        group: args.group.clone(),
        ci_role: args.role_name.clone(),
    };
    let mut plan = teardown::plan(&clients, env, &names, args.force).await?;
    if let Some(refusal) = plan.needs_force.take().filter(|_| !args.dry_run) {
        return Err(refusal.into());
    }
    // A team shares the bucket, policy and group: another developer's user still using them
    // stops the teardown, unless asked for.
    let others = teardown::other_users(&clients, &plan).await?;
    if !others.is_empty() && !args.include_others {
        let message = format!(
            "{} still use{} the bucket, policy and group (an active key, and {})",
            others.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", "),
            if others.len() == 1 { "s" } else { "" },
            names.policy
        );
        if !args.dry_run {
            return Err(Failure::bad_input(format!("{message}; nothing was deleted"))
                .hint("to leave the team's setup in place, delete only your own key (`aws iam delete-access-key --user-name USER --access-key-id ID`) and its .env lines; --include-others tears everything down for the whole team")
                .into());
        }
        ctx.printer.warning(&format!("{message}: destroy will refuse without --include-others"));
    }
    ctx.printer.note(&format!("Acting as {} (account {})", plan.caller.arn, plan.caller.account));
    if args.dry_run || plan.is_empty() {
        ctx.printer.report(&teardown::DestroyReport { ok: true, dry_run: args.dry_run, steps: plan.steps });
        return Ok(ExitStatus::Success);
    }
    ctx.printer.progress(&plan);
    if !crate::blocking::off_the_runtime(|| prompt::confirm("Delete the resources above?", args.yes))? {
        return Err(Failure::bad_input("nothing was deleted").hint("run again and answer y, or pass --yes").into());
    }
    let report = teardown::apply(&clients, plan).await?;
    ctx.printer.report(&report);
    Ok(ExitStatus::Success)
}
