//! `t3s3 verify`: the guide's seven-step self-test, run with exactly the settings the backend uses.

use anyhow::Result;

use crate::aws;
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::exit::{ExitStatus, Failure};
use crate::ops::selftest::{self, Banner};
use crate::settings::{AppSettings, Overrides};
use crate::ui::Printer;

/// Exit 1 when a step fails, 2 when the settings are unusable.
pub async fn run(args: &VerifyArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    if let Some(url) = &global.endpoint_url {
        aws::validate_endpoint(url).map_err(|problem| {
            Failure::bad_input(format!("--endpoint-url: the endpoint URL {problem}"))
                .hint("pass --endpoint-url http://HOST:PORT, or leave it out to use the .env's AWS_ENDPOINT_URL")
        })?;
    }
    let overrides = Overrides { region: global.region.clone(), endpoint_url: global.endpoint_url.clone() };
    let settings = AppSettings::resolve(args.env_file.as_deref(), &overrides)?;
    let options = selftest::Options {
        timeout: super::timeout(global),
        wait_for_new_key: None,
        policy_name: args.policy_name.clone(),
    };
    printer.progress(&Banner);
    let report = selftest::run(&settings, &options, printer).await;
    printer.report(&report);
    Ok(report.exit_status())
}
