//! `t3s3 doctor`: a read-only audit of the guide's security practices. It never changes anything.

use anyhow::Result;

use crate::cli::DoctorArgs;
use crate::exit::ExitStatus;
use crate::ops::audit;
use crate::settings;

/// Exit 1 when any check FAILs.
pub async fn run(args: &DoctorArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    let options = audit::Options {
        env_candidates: args.env_file.clone().map_or_else(settings::default_env_candidates, |path| vec![path]),
        policy_name: args.policy_name.clone(),
        ci_role: args.role_name.clone(),
        // `--backend` alone names the .env's folder (an empty path): the checks run even
        // without a config.py there.
        backend_dir: args.backend.clone().map(Option::unwrap_or_default),
        python: args.python.clone(),
    };
    let mut report = audit::run(&options, &ctx.target()?).await?;
    for check in &mut report.checks {
        check.fix = ctx.pasteable(&check.fix, args.env_file.as_deref());
    }
    ctx.printer.report(&report);
    Ok(if report.ok { ExitStatus::Success } else { ExitStatus::CheckFailed })
}
