//! Parses the command line, runs the command, prints any error and picks the exit code.

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands;
use crate::exit::{self, ExitStatus};
use crate::report::Printer;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.json, cli.global.color);
    let status = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(dispatch(&cli, &printer)),
        Err(error) => Err(anyhow::Error::new(error).context("cannot start the async runtime")),
    };
    let status = status.unwrap_or_else(|error| {
        printer.error(&error);
        exit::status_of(&error)
    });
    ExitCode::from(status.code())
}

async fn dispatch(cli: &Cli, printer: &Printer) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        Command::Policy(args) => commands::policy::run(args, printer),
        Command::Verify(args) => commands::verify::run(args, &cli.global, printer).await,
        Command::Init(args) => commands::init::run(args, &cli.global, printer).await,
        Command::Doctor(args) => commands::doctor::run(args, &cli.global, printer).await,
        Command::RotateKey(args) => commands::rotate_key::run(args, &cli.global, printer).await,
        Command::Destroy(args) => commands::destroy::run(args, &cli.global, printer).await,
    }
}
