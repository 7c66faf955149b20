//! `t3s3 policy --bucket NAME`: print the least-privilege IAM policy for a bucket.

use anyhow::Result;

use crate::cli::PolicyArgs;
use crate::exit::ExitStatus;
use crate::policy;
use crate::report::Printer;

pub fn run(args: &PolicyArgs, printer: &Printer) -> Result<ExitStatus> {
    let document = policy::render(&args.bucket)?;
    printer.policy(&document);
    Ok(ExitStatus::Success)
}
