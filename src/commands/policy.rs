//! `t3s3 policy [--bucket NAME]`: print the least-privilege IAM policy for a bucket (the
//! .env's when none is named).

use anyhow::Result;
use serde::Serialize;

use crate::cli::PolicyArgs;
use crate::exit::{ExitStatus, Failure};
use crate::keys::Key;
use crate::outln;
use crate::policy;
use crate::settings::{AppSettings, Overrides};
use crate::ui::{Printer, Render};

/// The policy document; as text, the document alone (so `> policy.json` works).
#[derive(Debug, Serialize)]
struct PolicyReport {
    ok: bool,
    bucket: String,
    policy: serde_json::Value,
}

impl Render for PolicyReport {
    fn text(&self, out: &mut String) {
        outln!(out, "{}", serde_json::to_string_pretty(&self.policy).unwrap_or_default());
    }
}

pub fn run(args: &PolicyArgs, printer: &Printer) -> Result<ExitStatus> {
    let (name, hint) = match &args.bucket {
        Some(name) => (name.clone(), "bucket names follow the S3 naming rules; pick another name".to_string()),
        None => {
            let settings = AppSettings::resolve(args.env_file.as_deref(), &Overrides::default())?;
            let Some(name) = settings.get(Key::Bucket) else {
                return Err(Failure::bad_input(format!(
                    "no --bucket, and {} sets no S3_BUCKET_NAME",
                    settings.env_display()
                ))
                .hint("pass --bucket NAME")
                .into());
            };
            (
                name.to_string(),
                format!("fix S3_BUCKET_NAME ({}), or pass --bucket NAME", settings.where_set(Key::Bucket)),
            )
        }
    };
    let bucket = crate::bucket_name::parse(&name, &hint)?;
    let policy = serde_json::from_str(&policy::render(&bucket)?)?;
    printer.report(&PolicyReport { ok: true, bucket: name, policy });
    Ok(ExitStatus::Success)
}
