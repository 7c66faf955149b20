//! `t3s3 runtime-role --platform ec2|ecs|lambda|fly`: no key in production. A role only the
//! platform can assume, holding the backend's least-privilege policy; prints the platform's
//! next step.

use anyhow::Result;

use crate::aws;
use crate::cli::{GlobalArgs, RuntimeRoleArgs};
use crate::exit::{ExitStatus, Failure};
use crate::keys::Key;
use crate::ops::{self, runtime_role};
use crate::runtime_trust::{FlyApp, Platform};
use crate::settings::{AppSettings, Overrides};
use crate::ui::Printer;

pub async fn run(args: &RuntimeRoleArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let role_name = args.role_name.clone().unwrap_or_else(|| args.platform.default_role_name().to_string());
    ops::ci_role::check_role_name(&role_name).map_err(Failure::bad_input)?;
    let fly = fly_app(args)?;
    let target = super::target(global)?;
    // The bucket and region come from the flags, else the backend's .env; a .env named with
    // --env-file must exist.
    let settings = match (&args.env_file, AppSettings::resolve(args.env_file.as_deref(), &Overrides::default())) {
        (_, Ok(settings)) => Some(settings),
        (Some(_), Err(error)) => return Err(error),
        (None, Err(_)) => None,
    };
    let from_env = |key: Key| settings.as_ref().and_then(|s| s.get(key)).map(str::to_string);
    let Some(bucket) = args.bucket.clone().or_else(|| from_env(Key::Bucket)) else {
        return Err(Failure::bad_input("no bucket: neither --bucket nor the .env's S3_BUCKET_NAME names one")
            .hint("pass --bucket NAME, or run in the folder of the backend's .env (`t3s3 init` writes it)")
            .into());
    };
    let bucket = crate::bucket_name::parse(&bucket, "pass a valid --bucket")?;
    let target = match &settings {
        Some(settings) => ops::acting_target(&target, settings),
        None => target,
    };
    let clients = aws::acting_clients(&target).await?;
    let Some(region) = clients.region() else {
        return Err(Failure::bad_input("no AWS region for the backend").hint("pass --region REGION").into());
    };
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
    printer.report(&report);
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
