//! `t3s3 init`: create or converge the bucket, policy, access key and .env.

use anyhow::Result;

use crate::cli::{GlobalArgs, InitArgs};
use crate::exit::{ExitStatus, Failure};
use crate::report::Printer;

pub async fn run(_args: &InitArgs, _global: &GlobalArgs, _printer: &Printer) -> Result<ExitStatus> {
    Err(Failure::unexpected("`t3s3 init` is not built yet").into())
}
