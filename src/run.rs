//! Parses the command line, runs the command, prints any error and picks the exit code.

use std::process::ExitCode;

use anyhow::Context;
use clap::FromArgMatches;

use crate::aws_error::AwsError;
use crate::cli::{self, Cli, Command};
use crate::commands;
use crate::diagnose;
use crate::exit::{self, AfterChanges, ExitStatus, Failure};
use crate::ui::{ErrorReport, Printer};

/// Words people reach for, and the command that does it.
const MEANT: [(&str, &str); 8] = [
    ("setup", "init"),
    ("configure", "init"),
    ("install", "init"),
    ("test", "verify"),
    ("check", "verify"),
    ("audit", "doctor"),
    ("list", "ls"),
    ("rotate", "rotate-key"),
];

/// Options people reach for, and the one that does it (clap's own tip would name another).
const MEANT_FLAGS: [(&str, &str); 1] = [(
    "--budget",
    "`--budget-email ADDRESS` adds the billing alert (`--budget-usd N` sets its monthly limit, 5 by default)",
)];

pub fn main() -> ExitCode {
    let matches = match cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => return unknown_command(error),
    };
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    crate::mask::know_environment();
    let printer = Printer::new(cli.global.json, cli.global.color, cli.global.quiet);
    // What this run's clients see of their requests (--verbose, where they went, how they
    // failed to connect): the run's own, not the process's.
    let trace = crate::aws_error::Trace::new(cli.global.verbose);
    let status = refuse_idle_options(&matches).and_then(|()| project_defaults(&matches, &mut cli)).and_then(|()| {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
        runtime.context("cannot start the async runtime")?.block_on(trace.scope(dispatch(&cli, &printer)))
    });
    let status = status.unwrap_or_else(|error| {
        let mut report = error_report(&error);
        let env_file =
            matches.subcommand().and_then(|(_, sub)| sub.try_get_one::<std::path::PathBuf>("env_file").ok().flatten());
        report.fix = report.fix.map(|fix| commands::pasteable(&fix, &cli.global, env_file.map(|p| p.as_path())));
        printer.error(&report);
        exit::status_of(&error)
    });
    ExitCode::from(status.code())
}

/// clap's error, except a command t3s3 does not have but has another name for: then the
/// command to run (exit 2).
fn unknown_command(error: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if let (ErrorKind::UnknownArgument, Some(ContextValue::String(typed))) =
        (error.kind(), error.get(ContextKind::InvalidArg))
    {
        let typed = typed.split('=').next().unwrap_or(typed);
        if let Some((_, meant)) = MEANT_FLAGS.iter().find(|(word, _)| *word == typed) {
            crate::ui::to_stderr(&format!("error: t3s3 has no `{typed}` option: {meant}\n"));
            return ExitCode::from(ExitStatus::BadInput.code());
        }
    }
    let typed = match (error.kind(), error.get(ContextKind::InvalidSubcommand)) {
        (ErrorKind::InvalidSubcommand, Some(ContextValue::String(typed))) => typed.clone(),
        _ => error.exit(),
    };
    let Some((_, meant)) = MEANT.iter().find(|(word, _)| *word == typed) else { error.exit() };
    crate::ui::to_stderr(&format!(
        "error: t3s3 has no `{typed}` command: `t3s3 {meant}` does that\nnext: t3s3 {meant} --help\n"
    ));
    ExitCode::from(ExitStatus::BadInput.code())
}

/// A global option typed for a command it does nothing for (before or after the command's
/// name) is bad input, not something to ignore.
fn refuse_idle_options(matches: &clap::ArgMatches) -> anyhow::Result<()> {
    let Some((name, given)) = cli::idle_options_given(matches) else { return Ok(()) };
    let (them, does) = if given.len() == 1 { ("it", "does") } else { ("them", "do") };
    Err(Failure::bad_input(format!("{} {does} nothing for `t3s3 {name}`", given.join(", ")))
        .hint(format!("leave {them} out; `t3s3 {name} --help` lists what it takes"))
        .into())
}

async fn dispatch(cli: &Cli, printer: &Printer) -> anyhow::Result<ExitStatus> {
    check_global_options(&cli.global)?;
    // The run's context, built once: every command that acts gets it.
    let ctx = commands::Context::new(&cli.global, printer);
    match &cli.command {
        Command::Policy(args) => commands::policy::run(args, printer),
        Command::Guard(args) => commands::guard::run(args, printer),
        Command::Completions(args) => commands::completions::completions(args),
        Command::Man(args) => commands::completions::man(args),
        Command::Help(args) => commands::completions::help(args),
        Command::Verify(args) => commands::verify::run(args, &ctx).await,
        Command::Ls(args) => commands::ls::run(args, &ctx).await,
        Command::Init(args) => commands::init::run(args, &ctx).await,
        Command::Doctor(args) => commands::doctor::run(args, &ctx).await,
        Command::RotateKey(args) => commands::rotate_key::run(args, &ctx).await,
        Command::Destroy(args) => commands::destroy::run(args, &ctx).await,
        Command::CiRole(args) => commands::ci_role::run(args, &ctx).await,
        Command::RuntimeRole(args) => commands::runtime_role::run(args, &ctx).await,
    }
}

/// The global options every command that takes them relies on, checked once, before any
/// command reads a file or sends a request: a bad `--endpoint-url` is exit 2 naming it,
/// whichever command it was given to.
fn check_global_options(global: &cli::GlobalArgs) -> anyhow::Result<()> {
    if let Some(url) = &global.endpoint_url {
        crate::aws::validate_endpoint(url).map_err(|problem| {
            Failure::bad_input(format!("--endpoint-url: the endpoint URL {problem}"))
                .hint("pass --endpoint-url http://HOST:PORT, or leave it out to use the .env's AWS_ENDPOINT_URL")
        })?;
    }
    Ok(())
}

/// `[tool.t3s3]` of the project's pyproject.toml: `--profile` and `--region` for the commands
/// that take them, when not given (the command line wins). A table that cannot be read is bad
/// input, named by file and line.
fn project_defaults(matches: &clap::ArgMatches, cli: &mut Cli) -> anyhow::Result<()> {
    let Some((name, _)) = matches.subcommand() else { return Ok(()) };
    let idle = cli::idle_for(name);
    if ["profile", "region"].iter().all(|id| idle.contains(id)) {
        return Ok(());
    }
    let defaults = crate::project::defaults().map_err(|why| {
        Failure::bad_input(format!("cannot read t3s3's settings: {why}"))
            .hint("fix [tool.t3s3] (keys: env-file, profile, region)")
    })?;
    if cli.global.profile.is_none() && !idle.contains(&"profile") {
        cli.global.profile.clone_from(&defaults.profile);
    }
    if cli.global.region.is_none() && !idle.contains(&"region") {
        cli.global.region.clone_from(&defaults.region);
    }
    Ok(())
}

/// How an error reads: the context around it, its own message (a [`Failure`]'s, or an AWS
/// error explained), the next step, and what was changed before it struck.
pub fn error_report(error: &anyhow::Error) -> ErrorReport {
    let is_cause = |cause: &(dyn std::error::Error + 'static)| {
        cause.downcast_ref::<Failure>().is_some() || cause.downcast_ref::<AwsError>().is_some()
    };
    let after_changes = error.downcast_ref::<AfterChanges>().map(ToString::to_string);
    let context: Vec<String> = error
        .chain()
        .take_while(|cause| !is_cause(*cause))
        .map(ToString::to_string)
        .filter(|text| Some(text) != after_changes.as_ref())
        .collect();
    let (message, fix) = match error.chain().find(|cause| is_cause(*cause)) {
        Some(cause) => match (cause.downcast_ref::<Failure>(), cause.downcast_ref::<AwsError>()) {
            (Some(failure), _) => (Some(failure.message.clone()), failure.hint.clone()),
            (None, Some(aws)) => {
                let explained = diagnose::explain(aws);
                (Some(explained.message), explained.fix)
            }
            (None, None) => (None, None),
        },
        None => (None, None),
    };
    let error_text = match message {
        Some(message) if context.is_empty() => message,
        Some(message) => format!("{}: {message}", context.join(": ")),
        None => context.join(": "),
    };
    let changed = exit::changes_of(error).map(|changes| changes.iter().map(ToString::to_string).collect::<Vec<_>>());
    let fix = match (&changed, fix) {
        (Some(_), Some(fix)) => {
            Some(format!("{fix}; then run the same command again: it converges from where it stopped"))
        }
        (Some(_), None) => Some("run the same command again: it converges from where it stopped".into()),
        (None, fix) => fix,
    };
    ErrorReport { ok: false, error: error_text, fix, changed }
}
