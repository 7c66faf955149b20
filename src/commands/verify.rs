//! `t3s3 verify`: the guide's seven-step self-test, run with exactly the settings the backend
//! uses; with `--backend`, run again through the backend's own Python code.

use anyhow::Result;

use crate::backend;
use crate::cli::VerifyArgs;
use crate::exit::ExitStatus;
use crate::ops::backend_run;
use crate::ops::selftest::{self, Banner};
use crate::settings::AppSettings;

/// Exit 1 when a step fails, 2 when the settings (or the backend's layout or interpreter)
/// are unusable.
pub async fn run(args: &VerifyArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    let overrides = ctx.overrides()?;
    let settings = AppSettings::resolve(args.env_file.as_deref(), &overrides)?;
    let options =
        selftest::Options { timeout: ctx.timeout(), wait_for_new_key: None, policy_name: args.policy_name.clone() };
    // The backend's layout and interpreter are checked before anything is sent.
    let backend = match &args.backend {
        Some(dir) => {
            let dir = backend::backend_dir(dir.as_deref(), settings.env_file.as_deref());
            let named = backend::Entrypoints { settings: args.settings.as_deref(), client: args.client.as_deref() };
            let located = backend::locate(&dir, args.python.as_deref(), named)?;
            let facts = backend::probe(&located.python, backend::PROBE_LIMIT).await?;
            Some((located, facts))
        }
        None => None,
    };
    ctx.printer.progress(&Banner::SelfTest);
    let report = selftest::run(&settings, &options, ctx.printer).await;
    let Some((located, facts)) = backend else {
        ctx.printer.report(&report);
        return Ok(report.exit_status());
    };
    ctx.printer.progress(&report);
    let backend_report = match report.failed_step() {
        Some(step) => backend_run::skipped(
            &located,
            &facts,
            format!("t3s3's own run failed at step {} ({}); fix that first", step.number, step.name),
        ),
        None => {
            ctx.printer.progress(&selftest::Banner::Backend { backend: &located, facts: &facts });
            let options = backend_run::Options { selftest: options };
            backend_run::run(&located, &facts, &settings, &options, ctx.printer).await
        }
    };
    let mut both = backend_run::VerifyWithBackend { own: report, backend: backend_report };
    both.own.ok = both.own.ok && both.backend.ok;
    if ctx.printer.json() {
        ctx.printer.print_json(&both);
    } else {
        ctx.printer.report(&both.backend);
    }
    Ok(both.exit_status())
}
