//! `t3s3 ls [PREFIX]`: what the backend stored, listed with the backend's own settings (the
//! .env): keys, sizes, last-modified and storage class, sorted, with a total; `--summary` for
//! a count and size per top-level prefix. Never an object's contents.

use anyhow::Result;

use crate::aws;
use crate::aws_error::{AwsError, ErrorKind};
use crate::bucket;
use crate::cli::LsArgs;
use crate::diagnose;
use crate::exit::{self, ExitStatus, Failure};
use crate::ops::listing;
use crate::settings::AppSettings;

pub async fn run(args: &LsArgs, ctx: &super::Context<'_>) -> Result<ExitStatus> {
    let overrides = ctx.overrides()?;
    let settings = AppSettings::resolve(args.env_file.as_deref(), &overrides)?;
    let Some(app) = settings.app_credentials() else {
        return Err(Failure::bad_input(format!(
            "{} does not set {}",
            settings.env_display(),
            settings.missing().join(", ")
        ))
        .hint("run `t3s3 init` to write them, or pass --env-file PATH")
        .into());
    };
    let s3 = aws::app_s3_client(&app, ctx.timeout());
    let objects = match bucket::list_objects(&s3, settings.bucket(), args.prefix.as_deref()).await {
        Ok(objects) => objects,
        // S3 refused the backend's own key: explained as verify does, with a fix for the key
        // (never --profile, which ls does not take).
        Err(error @ AwsError { kind: ErrorKind::Service(_), .. }) => {
            let diagnosis = diagnose::diagnose(&error, &settings, crate::policy::DEFAULT_NAME);
            return Err(Failure {
                status: exit::status_of_aws(&error.kind),
                message: format!(
                    "s3:ListBucket on `{}` failed: {} {}",
                    settings.bucket(),
                    diagnosis.error_line(),
                    diagnosis.cause
                ),
                hint: Some(diagnosis.fix_line()),
            }
            .into());
        }
        Err(error) => return Err(error.into()),
    };
    ctx.printer.report(&listing::report(settings.bucket(), args.prefix.as_deref(), objects, args.summary));
    Ok(ExitStatus::Success)
}
