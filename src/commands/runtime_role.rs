//! `t3s3 runtime-role --platform ec2|ecs|lambda|fly`: no key in production. A role only the
//! platform can assume, holding the backend's least-privilege policy; prints the platform's
//! next step.

use anyhow::Result;

use crate::cli::RuntimeRoleArgs;
use crate::exit::{ExitStatus, Failure};
use crate::ops::{self, runtime_role};
use crate::runtime_trust::{FlyApp, Platform};

pub async fn run(args: &RuntimeRoleArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    let role_name = args.role_name.clone().unwrap_or_else(|| args.platform.default_role_name().to_string());
    ops::ci_role::check_role_name(&role_name).map_err(Failure::bad_input)?;
    let fly = fly_app(args)?;
    let (bucket, clients, region) =
        super::bucket_and_clients(ctx, args.bucket.as_deref(), args.env_file.as_deref()).await?;
    let options = runtime_role::Options {
        platform: args.platform,
        role_name,
        fly,
        bucket,
        region,
        policy_name: args.policy_name.clone(),
        dry_run: args.dry_run,
    };
    let report = runtime_role::run(&clients, &options).await?;
    ctx.printer.report(&report);
    Ok(ExitStatus::Success)
}

/// `--fly-org` and `--fly-app`: both with `--platform fly`, neither without.
fn fly_app(args: &RuntimeRoleArgs) -> Result<Option<FlyApp>> {
    match (args.platform, &args.fly_org, &args.fly_app) {
        (Platform::Fly, Some(org), Some(app)) => {
            runtime_role::check_fly_name("--fly-org", org).map_err(Failure::bad_input)?;
            runtime_role::check_fly_name("--fly-app", app).map_err(Failure::bad_input)?;
            Ok(Some(FlyApp { org: org.clone(), app: app.clone() }))
        }
        (Platform::Fly, ..) => Err(Failure::bad_input("--platform fly needs --fly-org ORG and --fly-app APP")
            .hint("the role trusts exactly one app's machines: `t3s3 runtime-role --platform fly --fly-org ORG --fly-app APP`")
            .into()),
        (_, None, None) => Ok(None),
        (platform, ..) => Err(Failure::bad_input(format!(
            "--fly-org and --fly-app are for --platform fly, not {}",
            platform.name()
        ))
        .hint("leave them out")
        .into()),
    }
}
