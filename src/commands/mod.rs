//! One short file per subcommand: arguments -> options -> operation -> report -> exit status.
//! The work is in [`crate::ops`]; no command imports another.

pub mod ci_role;
pub mod completions;
pub mod destroy;
pub mod doctor;
pub mod guard;
pub mod init;
pub mod ls;
pub mod policy;
pub mod rotate_key;
pub mod runtime_role;
pub mod verify;

use std::time::Duration;

use anyhow::Result;

use crate::aws::{self, Target};
use crate::exit::Failure;
use crate::fsio::EnvLock;
use crate::ui::Printer;

/// How long to wait for another t3s3 run on the same .env.
pub const LOCK_WAIT: Duration = Duration::from_secs(90);
use crate::cli::GlobalArgs;

/// What every command of a run shares, built once in `run.rs` (as cargo builds its
/// `GlobalContext` once and hands it to each command): the global options, checked there,
/// the printer, and what the options mean: the acting target (read once, on first use), the
/// timeout, the settings overrides, and t3s3 command lines that repeat them.
pub struct Context<'a> {
    pub global: &'a GlobalArgs,
    pub printer: &'a Printer,
    target: std::sync::OnceLock<Target>,
}

impl<'a> Context<'a> {
    pub fn new(global: &'a GlobalArgs, printer: &'a Printer) -> Self {
        Context { global, printer, target: std::sync::OnceLock::new() }
    }

    /// Where the acting credentials come from and where requests go; a profile that does
    /// not exist, or a region AWS does not have, is bad input before anything else happens.
    pub fn target(&self) -> Result<Target> {
        if let Some(target) = self.target.get() {
            return Ok(target.clone());
        }
        let target = target(self.global)?;
        Ok(self.target.get_or_init(|| target).clone())
    }

    /// `--timeout`, else the default.
    pub fn timeout(&self) -> Duration {
        self.global.timeout.map_or(aws::DEFAULT_TIMEOUT, Duration::from_secs)
    }

    /// What the flags override of the .env's settings (`--region`, `--endpoint-url`).
    pub fn overrides(&self) -> Result<crate::settings::Overrides> {
        let region = self.global.region.as_deref().map(|r| crate::settings::check_region(r, "--region")).transpose()?;
        Ok(crate::settings::Overrides { region, endpoint_url: self.global.endpoint_url.clone() })
    }

    /// [`again`] with this run's options.
    pub fn again(&self, command: &str, env_file: Option<&std::path::Path>, rest: &str) -> String {
        again(self.global, command, env_file, rest)
    }

    /// [`pasteable`] with this run's options.
    pub fn pasteable(&self, text: &str, env_file: Option<&std::path::Path>) -> String {
        pasteable(text, self.global, env_file)
    }
}

/// Where the acting credentials come from and where requests go, as the flags say; a
/// profile that does not exist is bad input before anything else happens.
fn target(global: &GlobalArgs) -> Result<Target> {
    // The region is parsed here, where it enters; everything below takes it as checked.
    let region = global.region.as_deref().map(|r| crate::settings::check_region(r, "--region")).transpose()?;
    // A region AWS does not have, before anything is created in (or written as) it: with an
    // endpoint of your own (an emulator) any name goes.
    let endpoint = global.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty());
    if let Some(typed) = region.as_deref().filter(|r| !endpoint && !crate::suggest::is_known_region(r)) {
        let hint = match crate::suggest::region(typed) {
            Some(code) => format!("did you mean `{code}`? Pass --region {code}"),
            None => "pass one of AWS's region codes, such as ap-south-1, us-east-1 or eu-west-1".to_string(),
        };
        return Err(Failure::bad_input(format!("`{typed}` (--region) is not a region AWS has; nothing was changed"))
            .hint(hint)
            .into());
    }
    aws::check_profile(global.profile.as_deref())?;
    Ok(Target {
        profile: global.profile.clone(),
        region,
        endpoint_url: global.endpoint_url.clone(),
        timeout: global.timeout.map(Duration::from_secs),
    })
}

/// For the commands that make roles (`ci-role`, `runtime-role`): the bucket (the flag, else
/// the .env's S3_BUCKET_NAME), the acting clients aimed at the .env's region and endpoint
/// unless the flags say otherwise, and the region. A .env named with --env-file must exist
/// and read; without one, a missing .env just means the flags must say it all.
async fn bucket_and_clients(
    ctx: &Context<'_>,
    bucket: Option<&str>,
    env_file: Option<&std::path::Path>,
) -> Result<(crate::bucket_name::BucketName, aws::ActingClients, String)> {
    use crate::keys::Key;
    use crate::settings::{AppSettings, Overrides};
    let target = ctx.target()?;
    let settings = match (env_file, AppSettings::resolve(env_file, &Overrides::default())) {
        (_, Ok(settings)) => Some(settings),
        (Some(_), Err(error)) => return Err(error),
        (None, Err(_)) => None,
    };
    let from_env = settings.as_ref().and_then(|s| s.get(Key::Bucket)).map(str::to_string);
    let Some(bucket) = bucket.map(str::to_string).or(from_env) else {
        return Err(Failure::bad_input("no bucket: neither --bucket nor the .env's S3_BUCKET_NAME names one")
            .hint("pass --bucket NAME, or run in the folder of the backend's .env (`t3s3 init` writes it)")
            .into());
    };
    let bucket = crate::bucket_name::parse(&bucket, "pass a valid --bucket")?;
    let target = match &settings {
        Some(settings) => crate::ops::acting_target(&target, settings),
        None => target,
    };
    let clients = aws::acting_clients(&target).await?;
    let Some(region) = clients.region() else {
        return Err(Failure::bad_input("no AWS region").hint("pass --region REGION").into());
    };
    Ok((bucket, clients, region))
}

/// A t3s3 command line to print as a next step, repeating the options the user gave
/// (`--profile`, `--region`, `--endpoint-url` and the command's `--env-file`), so it works
/// when pasted: `t3s3 --profile admin rotate-key --env-file backend/.env --retire`.
fn again(global: &GlobalArgs, command: &str, env_file: Option<&std::path::Path>, rest: &str) -> String {
    let quote = |value: &str| {
        if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c)) {
            value.to_string()
        } else {
            format!("'{}'", value.replace('\'', "'\\''"))
        }
    };
    let mut line = String::from("t3s3");
    // Only the options the command takes (verify signs with the .env's key: no --profile).
    let idle = crate::cli::idle_for(command);
    for (id, flag, value) in [
        ("profile", "--profile", &global.profile),
        ("region", "--region", &global.region),
        ("endpoint_url", "--endpoint-url", &global.endpoint_url),
    ] {
        if let Some(value) = value.as_ref().filter(|_| !idle.contains(&id)) {
            line.push_str(&format!(" {flag} {}", quote(value)));
        }
    }
    line.push_str(&format!(" {command}"));
    if let Some(path) = env_file {
        line.push_str(&format!(" --env-file {}", quote(&path.display().to_string())));
    }
    if !rest.is_empty() {
        line.push_str(&format!(" {rest}"));
    }
    line
}

/// `text` (an error's next step, a doctor fix) with each t3s3 command line in it, written as
/// `` `t3s3 COMMAND …` ``, given the options the user gave this run, as [`again`] prints a
/// next step: the advice works when pasted. A line that already names one of those options,
/// or asks for `--help`, is left as it is.
pub fn pasteable(text: &str, global: &GlobalArgs, env_file: Option<&std::path::Path>) -> String {
    const OPTIONS: [&str; 5] = ["--profile", "--region", "--endpoint-url", "--env-file", "--help"];
    let cli = crate::cli::command();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("`t3s3 ") {
        let body = &rest[start + 1..];
        let Some(end) = body.find('`') else { break };
        let line = &body[..end];
        let mut words = line["t3s3 ".len()..].splitn(2, ' ');
        let name = words.next().unwrap_or_default();
        let tail = words.next().unwrap_or_default();
        out.push_str(&rest[..=start]);
        match cli.find_subcommand(name).filter(|_| !OPTIONS.iter().any(|o| line.contains(o))) {
            Some(command) => {
                let takes_env = command.get_arguments().any(|a| a.get_id() == "env_file");
                out.push_str(&again(global, name, env_file.filter(|_| takes_env), tail));
            }
            None => out.push_str(line),
        }
        out.push('`');
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Takes the .env's lock (another run on it is waited for) and says what stale temporary
/// files of an interrupted run were removed.
async fn lock(env_path: &std::path::Path, printer: &Printer) -> Result<EnvLock> {
    crate::fsio::require_folder(env_path)?;
    let lock = EnvLock::acquire(env_path, LOCK_WAIT, &|message| printer.waiting(message)).await?;
    for stale in &lock.removed {
        printer.note(&format!("Removed {}, left by an interrupted t3s3 run", stale.display()));
    }
    Ok(lock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn global(args: &[&str]) -> GlobalArgs {
        let mut argv = vec!["t3s3"];
        argv.extend_from_slice(args);
        argv.push("ls");
        crate::cli::Cli::try_parse_from(argv).unwrap().global
    }

    #[test]
    fn advice_names_the_options_given_once_and_only_where_the_command_takes_them() {
        let given = global(&["--profile", "admin", "--region", "eu-west-1"]);
        let env = Some(std::path::Path::new("backend/.env"));
        assert_eq!(
            pasteable("run `t3s3 rotate-key --retire` now", &given, env),
            "run `t3s3 --profile admin --region eu-west-1 rotate-key --env-file backend/.env --retire` now"
        );
        // verify signs with the .env's key: no --profile; guard takes no .env.
        assert_eq!(pasteable("`t3s3 verify`", &given, env), "`t3s3 --region eu-west-1 verify --env-file backend/.env`");
        assert_eq!(pasteable("`t3s3 guard --install`", &given, env), "`t3s3 guard --install`");
        // Already explicit, a help line, another program, an unclosed quote: as written.
        for text in ["`t3s3 init --profile other`", "`t3s3 init --help`", "`aws s3 ls`", "`t3s3 init", "`t3s3 nosuch`"]
        {
            assert_eq!(pasteable(text, &given, env), text);
        }
        assert_eq!(pasteable("`t3s3 init`", &global(&[]), None), "`t3s3 init`");
    }
}
