//! `t3s3 ci-role`: keyless CI. GitHub's OIDC provider and a role only one repository's branch
//! can assume, holding the backend's least-privilege policy; prints the workflow to paste.

use anyhow::Result;

use crate::cli::CiRoleArgs;
use crate::exit::{ExitStatus, Failure};
use crate::ops::ci_role;

pub async fn run(args: &CiRoleArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    // The repository's own default branch (a repository on `master` gets a role for master).
    let here = std::path::Path::new(".");
    let branch = args.branch.clone().or_else(|| crate::git::default_branch(here)).unwrap_or_else(|| "main".into());
    if args.environment.is_none() && crate::git::branch_exists(here, &branch) == Some(false) {
        ctx.printer.warning(&format!(
            "branch `{branch}` does not exist in this checkout: the role only works once a workflow runs on it"
        ));
    }
    ci_role::check_repo_and_branch(&args.repo, &branch)
        .map_err(|problem| Failure::bad_input(problem).hint("pass --repo OWNER/NAME and --branch NAME, exactly"))?;
    ci_role::check_role_name(&args.role_name).map_err(Failure::bad_input)?;
    if let Some(environment) = &args.environment {
        ci_role::check_environment(environment).map_err(Failure::bad_input)?;
    }
    let (bucket, clients, region) =
        super::bucket_and_clients(ctx, args.bucket.as_deref(), args.env_file.as_deref()).await?;
    let options = ci_role::Options {
        repo: args.repo.clone(),
        branch,
        environment: args.environment.clone(),
        adopt: args.adopt,
        role_name: args.role_name.clone(),
        bucket,
        region,
        policy_name: args.policy_name.clone(),
        dry_run: args.dry_run,
    };
    let report = ci_role::run(&clients, &options).await?;
    ctx.printer.report(&report);
    Ok(ExitStatus::Success)
}
