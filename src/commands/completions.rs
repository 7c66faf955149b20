//! `t3s3 completions SHELL`, `t3s3 man [--out DIR]` and `t3s3 help [COMMAND]`: generated from
//! the same clap definitions as --help, so they never drift from the real options.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{self, CompletionsArgs, HelpArgs, ManArgs};
use crate::exit::{ExitStatus, Failure};

pub fn completions(args: &CompletionsArgs) -> Result<ExitStatus> {
    let mut command = cli::completion_command();
    // Into memory first: clap_complete panics when its writer fails (`| head` closing the
    // pipe); writing it here treats a closed pipe as the end of the reader's interest.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "t3s3", &mut script);
    let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
    Ok(ExitStatus::Success)
}

/// The page for t3s3 on stdout; with --out, one page per command written into that folder.
pub fn man(args: &ManArgs) -> Result<ExitStatus> {
    let mut command = cli::command();
    // Built, so each command's page lists the global options that apply to it.
    command.build();
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        let _ = std::io::Write::write_all(&mut std::io::stdout(), &page);
        return Ok(ExitStatus::Success);
    };
    if !dir.is_dir() {
        return Err(Failure::bad_input(format!("the folder {} does not exist", dir.display()))
            .hint(format!("create it first: `mkdir -p {}`", dir.display()))
            .into());
    }
    write_page(dir, "t3s3", command.clone())?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("t3s3-{}", sub.get_name());
        write_page(dir, &name, sub.clone().name(name.clone()))?;
    }
    Ok(ExitStatus::Success)
}

fn write_page(dir: &Path, name: &str, command: clap::Command) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))
}

/// `t3s3 help [COMMAND]`: exactly what `t3s3 [COMMAND] --help` prints.
pub fn help(args: &HelpArgs) -> Result<ExitStatus> {
    let argv = ["t3s3"].into_iter().chain(args.command.as_deref()).chain(["--help"]);
    match cli::command().try_get_matches_from(argv) {
        Err(shown) => {
            let _ = shown.print();
            Ok(ExitStatus::Success)
        }
        Ok(_) => Err(anyhow::anyhow!("clap parsed a --help request as a command")),
    }
}
