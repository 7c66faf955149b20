//! `t3s3 policy --bucket NAME`: print the least-privilege IAM policy for a bucket.

use anyhow::Result;
use serde::Serialize;

use crate::cli::PolicyArgs;
use crate::exit::ExitStatus;
use crate::outln;
use crate::policy;
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
    let bucket = crate::bucket_name::parse(&args.bucket, "bucket names follow the S3 naming rules; pick another name")?;
    let policy = serde_json::from_str(&policy::render(&bucket)?)?;
    printer.report(&PolicyReport { ok: true, bucket: args.bucket.clone(), policy });
    Ok(ExitStatus::Success)
}
