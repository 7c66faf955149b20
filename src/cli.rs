//! What the user typed: clap derive types only, no logic.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::policy::DEFAULT_NAME as DEFAULT_POLICY;

/// The IAM group that holds the backend's policy.
pub const DEFAULT_GROUP: &str = "t3-chat-s3";
/// The role `ci-role` makes for GitHub Actions.
pub const DEFAULT_CI_ROLE: &str = "T3ChatCI";

/// `t3s3 --version`: the version, the commit it was built from and the target.
pub const VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("T3S3_COMMIT"), ", ", env!("T3S3_TARGET"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "t3s3",
    version = VERSION,
    about = "Set up, verify and audit S3 storage for the T3 Chat backend",
    disable_help_subcommand = true,
    after_help = "Start here:
  t3s3 --profile admin --region ap-south-1 init --create-user   # bucket, policy, user, key, .env, self-test
  t3s3 verify                                                   # the guide's seven-step self-test, any time
  t3s3 --profile admin doctor                                   # the security audit, with a fix for each finding

Global options go before or after the command's name; each command takes only those that do
something for it (`t3s3 help COMMAND` lists them).

Exit codes: 0 success; 1 a check failed; 2 bad input or configuration (an unreachable endpoint
too), nothing changed; 3 unexpected, before any change; 4 failed after changes (listed; running
it again converges)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Named profile from ~/.aws/config for the acting credentials (also AWS_PROFILE)
    #[arg(long, global = true, help_heading = "Global options", value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region, e.g. ap-south-1 (else AWS_REGION, else the profile's)
    #[arg(long, global = true, help_heading = "Global options", value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS request to this endpoint, e.g. a local emulator (also AWS_ENDPOINT_URL)
    #[arg(long, global = true, help_heading = "Global options", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// When to use colour (NO_COLOR is honoured by `auto`)
    #[arg(long, global = true, help_heading = "Global options", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print one JSON object instead of text, for scripts and CI
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// The most one AWS request may take, retries included, in seconds (1-3600; default 20)
    #[arg(long, global = true, help_heading = "Global options", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,
    /// Print only errors and the result's last line
    #[arg(long, short = 'q', global = true, help_heading = "Global options", conflicts_with = "verbose")]
    pub quiet: bool,
    /// Tell each AWS request on stderr: action, path, status, milliseconds (never a secret)
    #[arg(long, short = 'v', global = true, help_heading = "Global options")]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or converge the bucket, IAM policy, access key and .env (the AWS S3 Setup Guide for
    /// T3 Chat, steps 3-6)
    #[command(after_help = "Examples:
  t3s3 --profile admin --region ap-south-1 init --create-user
  t3s3 init --dry-run --json
  t3s3 --endpoint-url http://127.0.0.1:5000 --region ap-south-1 init --create-user   # a local emulator
  t3s3 --profile admin init --budget-email you@example.com --budget-usd 10   # and a billing alert

Exit codes: 0 done and verified; 1 the self-test failed; 2 bad input, nothing changed;
3 an unexpected failure, nothing changed; 4 failed after changes (listed; running it again converges)")]
    Init(InitArgs),
    /// Run the seven-step S3 self-test (the setup guide's step 8) with the settings the backend uses
    #[command(after_help = "Examples:
  t3s3 verify
  t3s3 verify --env-file backend/.env --json
  t3s3 verify --backend --python backend/venv/bin/python   # also through the backend's own code

Exit codes: 0 every step passed; 1 a step failed (an unreachable endpoint is a failed step 2);
2 the settings (or the backend's layout or interpreter) are unusable; 3 an unexpected failure")]
    Verify(VerifyArgs),
    /// Print the least-privilege IAM policy for a bucket (the setup guide's step 5)
    #[command(after_help = "Example:
  t3s3 policy --bucket t3-chat-documents-123456789012-ap-south-1-an > policy.json

Exit codes: 0 printed; 2 the bucket name breaks a naming rule; 3 an unexpected failure")]
    Policy(PolicyArgs),
    /// Audit the guide's security practices, read-only: PASS / WARN / FAIL with the fix
    #[command(after_help = "Examples:
  t3s3 --profile admin doctor
  t3s3 doctor --json | jq '.checks[] | select(.status == \"FAIL\")'

Exit codes: 0 no check FAILed; 1 a check FAILed; 2 bad input (a flag, the .env, a profile);
3 an unexpected failure")]
    Doctor(DoctorArgs),
    /// Replace the backend's access key without an outage: new key, .env, verify; the old key
    /// keeps working until you retire it
    #[command(after_help = "Examples:
  t3s3 --profile admin rotate-key            # new key in the .env; the old one still works
  # restart the backend so it loads the new key, then:
  t3s3 --profile admin rotate-key --retire   # deactivate and delete the old key
  t3s3 --profile admin rotate-key --now      # one step: retire the old key at once
  t3s3 --profile admin rotate-key --dry-run  # what it would do

Exit codes: 0 rotated (or retired); 1 the new key failed its self-test and was rolled back;
2 bad input, nothing changed; 3 an unexpected failure, nothing changed; 4 failed after changes")]
    RotateKey(RotateKeyArgs),
    /// Undo `init` for a dev environment: bucket, policy, key and the .env settings
    #[command(after_help = "Examples:
  t3s3 --profile admin destroy --dry-run
  t3s3 --profile admin destroy --force --yes

Exit codes: 0 done (or nothing to do); 2 bad input or refused, nothing deleted; 3 an unexpected
failure, nothing deleted; 4 failed part way (listed)")]
    Destroy(DestroyArgs),
    /// Keyless CI: a role only one GitHub repository's branch can assume (OIDC), and its workflow
    #[command(after_help = "Examples:
  t3s3 --profile admin ci-role --repo acme/t3-chat
  t3s3 --profile admin ci-role --repo acme/t3-chat --branch release --dry-run
  t3s3 --profile admin ci-role --repo acme/t3-chat --environment production

Every workflow on that branch (or in that environment) with `id-token: write` can assume the role.

Exit codes: 0 done; 1 the role holds more than the least-privilege policy, nothing changed;
2 bad input, a role t3s3 did not create (without --adopt) or a policy that differs, nothing
changed; 3 an unexpected failure, nothing changed; 4 failed after changes")]
    CiRole(CiRoleArgs),
    /// No key in production: a role only the platform the backend runs on can assume (EC2,
    /// ECS, Lambda, Fly.io), holding the bucket's least-privilege policy
    #[command(after_help = "Examples:
  t3s3 --profile admin runtime-role --platform ec2
  t3s3 --profile admin runtime-role --platform ecs --dry-run
  t3s3 --profile admin runtime-role --platform fly --fly-org acme --fly-app t3-chat

It prints what to do on the platform (the instance profile to associate, the task role, the
execution role, or the Fly.io secret); there is no secret to print.

Exit codes: 0 done; 1 the role holds more than the least-privilege policy, nothing changed;
2 bad input, a role t3s3 did not make for this platform or a policy that differs, nothing
changed; 3 an unexpected failure, nothing changed; 4 failed after changes")]
    RuntimeRole(RuntimeRoleArgs),
    /// List what the backend stored: keys, sizes, dates, storage class, with the .env's key
    #[command(after_help = "Examples:
  t3s3 ls                      # every object, sorted by key, with a total
  t3s3 ls users/42/            # under a prefix
  t3s3 ls --summary            # a count and size per top-level prefix
  t3s3 ls --json | jq '.total_bytes'

Exit codes: 0 listed; 2 bad input or settings (or AWS refused the key), nothing changed;
3 an unexpected failure")]
    Ls(LsArgs),
    /// Commit guard: refuse a staged .env, an AWS access key id or a secret (pre-commit hook)
    #[command(after_help = "Examples:
  t3s3 guard                  # what git has staged
  t3s3 guard backend/app.py   # named files

Exit codes: 0 clean; 1 found something (a staged file git cannot give included); 2 not in a git
repository, or a named file cannot be read; 3 an unexpected failure")]
    Guard(GuardArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = "Examples:
  t3s3 completions bash > ~/.local/share/bash-completion/completions/t3s3
  t3s3 completions zsh > \"${fpath[1]}/_t3s3\"
  t3s3 completions powershell >> $PROFILE

Exit codes: 0 printed; 2 an unknown shell")]
    Completions(CompletionsArgs),
    /// Print the man page, or write one per command into a folder
    #[command(after_help = "Examples:
  t3s3 man | man -l -              # read t3s3(1) now
  mkdir -p man && t3s3 man --out man && man -l man/t3s3-init.1

Exit codes: 0 written; 2 the --out folder does not exist or cannot be written")]
    Man(ManArgs),
    /// Print the help of t3s3 or of one command (the same as `t3s3 COMMAND --help`)
    #[command(after_help = "Examples:
  t3s3 help          # the commands
  t3s3 help init     # the same as t3s3 init --help

Exit codes: 0 printed; 2 an unknown command")]
    Help(HelpArgs),
}

/// The global options that do nothing for a command, by their ids. [`command`] leaves them out
/// of that command's help, completions and man page, and `run` refuses them (exit 2) wherever
/// they are typed, so an option a user gives is never silently ignored.
pub const IDLE_OPTIONS: &[(&str, &[&str])] = &[
    // verify and ls sign with the .env's key, never a profile's.
    ("verify", &["profile"]),
    ("ls", &["profile"]),
    // No request is sent; the document is the whole result.
    ("policy", &["profile", "region", "endpoint_url", "timeout", "quiet", "verbose"]),
    ("guard", &["profile", "region", "endpoint_url", "timeout", "verbose"]),
    ("completions", &["profile", "region", "endpoint_url", "json", "timeout", "quiet", "verbose"]),
    ("man", &["profile", "region", "endpoint_url", "json", "timeout", "quiet", "verbose"]),
    ("help", &["profile", "region", "endpoint_url", "json", "timeout", "quiet", "verbose"]),
];

/// The options declared global on t3s3 itself (`GlobalArgs`).
fn global_args(command: &clap::Command) -> Vec<clap::Arg> {
    command.get_arguments().filter(|a| a.is_global_set()).cloned().collect()
}

/// The ids of the global options that do nothing for the command `name`.
pub fn idle_for(name: &str) -> &'static [&'static str] {
    IDLE_OPTIONS.iter().find(|(command, _)| *command == name).map_or(&[], |(_, ids)| *ids)
}

/// Global options that mean something narrower for one command: their help there says so.
const RETOLD: &[(&str, &str, &str)] = &[
    ("verify", "region", "Use this region instead of the .env's AWS_REGION (and the environment's)"),
    ("verify", "endpoint_url", "Send the requests here instead of the .env's AWS_ENDPOINT_URL, e.g. a local emulator"),
    ("ls", "region", "Use this region instead of the .env's AWS_REGION (and the environment's)"),
    ("ls", "endpoint_url", "Send the requests here instead of the .env's AWS_ENDPOINT_URL, e.g. a local emulator"),
];

/// The command line as clap parses it, for parsing, help, completions and man pages alike:
/// each command shows only the global options that do something for it.
pub fn command() -> clap::Command {
    let mut command = with_help_commands(Cli::command());
    let globals = global_args(&command);
    for (name, idle) in IDLE_OPTIONS {
        command = command.mut_subcommand(*name, |mut sub| {
            // A command's own argument with a global's id stops clap from propagating the
            // global into it; this copy is hidden, and its value still reaches the top level.
            for arg in globals.iter().filter(|a| idle.contains(&a.get_id().as_str())) {
                sub = sub.arg(arg.clone().global(false).hide(true));
            }
            sub
        });
    }
    for (name, id, help) in RETOLD {
        if let Some(arg) = globals.iter().find(|a| a.get_id() == *id) {
            command = command.mut_subcommand(*name, |sub| sub.arg(arg.clone().global(false).help(*help)));
        }
    }
    command
}

/// `help COMMAND` offers exactly the commands there are, derived from their definitions.
fn with_help_commands(command: clap::Command) -> clap::Command {
    let names: Vec<clap::builder::PossibleValue> =
        command.get_subcommands().map(|c| clap::builder::PossibleValue::new(c.get_name().to_string())).collect();
    command.mut_subcommand("help", |help| {
        help.mut_arg("command", |arg| arg.value_parser(clap::builder::PossibleValuesParser::new(names)))
    })
}

/// The command line as the completion scripts see it. clap_complete offers hidden arguments
/// too, so here the global options are made local and given only to the commands they do
/// something for (and to t3s3 itself, where they may also be typed).
pub fn completion_command() -> clap::Command {
    let mut command = with_help_commands(Cli::command());
    let globals = global_args(&command);
    command = command.mut_args(|arg| if arg.is_global_set() { arg.global(false) } else { arg });
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        let idle = idle_for(&name);
        command = command.mut_subcommand(&name, |mut sub| {
            for arg in globals.iter().filter(|a| !idle.contains(&a.get_id().as_str())) {
                let retold = RETOLD.iter().find(|(n, id, _)| *n == name && arg.get_id() == *id);
                // Completion ignores conflicts; a command may lack the other side (guard has
                // --quiet but no --verbose).
                let arg = arg.clone().global(false).conflicts_with(clap::builder::Resettable::Reset);
                sub = sub.arg(match retold {
                    Some((_, _, help)) => arg.help(*help),
                    None => arg,
                });
            }
            sub
        });
    }
    command
}

/// The command named and the global options typed for it that do nothing there (before or
/// after its name), as flags; `None` when there are none.
pub fn idle_options_given(matches: &clap::ArgMatches) -> Option<(&str, Vec<String>)> {
    let (name, sub) = matches.subcommand()?;
    let idle = idle_for(name);
    let typed =
        |id: &str| [matches, sub].iter().any(|m| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine));
    let given: Vec<String> = idle.iter().filter(|id| typed(id)).map(|id| flag_of(id)).collect();
    (!given.is_empty()).then_some((name, given))
}

/// The long flag of a global option, e.g. `--endpoint-url` for `endpoint_url`.
pub fn flag_of(id: &str) -> String {
    format!("--{}", id.replace('_', "-"))
}

#[derive(Debug, Args)]
pub struct HelpArgs {
    /// The command whose help to print (default: t3s3's own)
    /// (Its possible values are the subcommands' names, set from the definitions in `command`.)
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. `t3s3 completions bash > ~/.local/share/bash-completion/completions/t3s3`
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write t3s3.1 and t3s3-COMMAND.1 into this folder instead of printing t3s3.1
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only keys that start with this (e.g. users/42/)
    #[arg(value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// A count and size per top-level prefix instead of one line per object
    #[arg(long)]
    pub summary: bool,
    /// The .env file to read (default: ./.env, else ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GuardArgs {
    /// Files to check (default: what git has staged, as the commit would hold it)
    #[arg(value_name = "PATH", conflicts_with = "history")]
    pub paths: Vec<PathBuf>,
    /// Scan every commit reachable from HEAD instead (each file version once), reporting the
    /// commit that introduced it, the path and the line
    #[arg(long)]
    pub history: bool,
}

#[derive(Debug, Args)]
pub struct CiRoleArgs {
    /// The GitHub repository whose workflows may assume the role, OWNER/NAME
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: String,
    /// The only branch whose runs may assume it [default: the repository's default branch
    /// (origin's HEAD, else the branch checked out), else main]
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Trust only jobs of this GitHub deployment environment (subject repo:OWNER/NAME:environment:NAME)
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// The IAM role's name
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CI_ROLE)]
    pub role_name: String,
    /// Take over an existing role of that name that t3s3 did not create (it must hold
    /// nothing but the least-privilege policy); destroy still keeps it
    #[arg(long)]
    pub adopt: bool,
    /// The bucket (default: the .env's S3_BUCKET_NAME)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub bucket: Option<String>,
    /// The .env naming the bucket and region (default: ./.env, else ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// The least-privilege policy attached to the role
    #[arg(long, value_name = "NAME", default_value = DEFAULT_POLICY)]
    pub policy_name: String,
    /// Show what would change after read-only calls; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct RuntimeRoleArgs {
    /// Where the backend runs
    #[arg(long, value_enum)]
    pub platform: crate::runtime_trust::Platform,
    /// The IAM role's name (and, on EC2, the instance profile's) [default: T3ChatBackendEc2,
    /// T3ChatBackendEcs, T3ChatBackendLambda or T3ChatBackendFly]
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// The Fly.io organization whose tokens are trusted (with --platform fly)
    #[arg(long, value_name = "ORG")]
    pub fly_org: Option<String>,
    /// The Fly.io app whose machines may assume the role (with --platform fly)
    #[arg(long, value_name = "APP")]
    pub fly_app: Option<String>,
    /// The bucket (default: the .env's S3_BUCKET_NAME)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub bucket: Option<String>,
    /// The .env naming the bucket and region (default: ./.env, else ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// The least-privilege policy attached to the role
    #[arg(long, value_name = "NAME", default_value = DEFAULT_POLICY)]
    pub policy_name: String,
    /// Show what would change after read-only calls; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    /// The .env file holding the key (default: ./.env, else ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Show what would change after read-only calls; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// When retiring the old key (--retire or --now), only deactivate it instead of deleting it
    #[arg(long)]
    pub keep_old: bool,
    /// One step: retire the old key right after the self-test (a running backend that still
    /// holds it fails until restarted)
    #[arg(long, conflicts_with = "retire")]
    pub now: bool,
    /// Second step, after the backend restarted: retire the old key the last rotate-key left
    /// working
    #[arg(long)]
    pub retire: bool,
    /// Answer yes in advance to rotate-key's question: delete the user's other key when both
    /// slots are taken; with --retire, retire the old key even when AWS saw it used after the
    /// rotation
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The .env file naming the bucket and key (default: ./.env, else ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Name of the customer-managed IAM policy to delete
    #[arg(long, value_name = "NAME", default_value = DEFAULT_POLICY)]
    pub policy_name: String,
    /// The IAM group init made; deleted when the policy is all it holds
    #[arg(long, value_name = "NAME", default_value = DEFAULT_GROUP)]
    pub group: String,
    /// The CI role `ci-role` made (deleted with GitHub's provider when t3s3 made it and
    /// nothing else uses it)
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CI_ROLE)]
    pub role_name: String,
    /// Delete the bucket's objects (every version) first; without it a non-empty bucket is kept
    #[arg(long)]
    pub force: bool,
    /// Delete the bucket, policy and group even while other developers' users (holding the
    /// policy, or members of the group, with an active key) still use them
    #[arg(long)]
    pub include_others: bool,
    /// Show the plan; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Answer yes in advance to destroy's question: delete what the plan lists
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The .env file to audit (default: ./.env, else ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Name of the customer-managed IAM policy to compare with `t3s3 policy`
    #[arg(long, value_name = "NAME", default_value = DEFAULT_POLICY)]
    pub policy_name: String,
    /// The CI role whose trust policy is checked
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CI_ROLE)]
    pub role_name: String,
    /// The backend's code in DIR, for the Python checks (default: the folder holding the .env)
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub backend: Option<Option<PathBuf>>,
    /// The backend's Python (default: DIR's venv/ or .venv/, the project's, $VIRTUAL_ENV,
    /// python3); doctor runs it (isolated) only when named here, else reads the venv's files
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The bucket the policy grants access to (default: S3_BUCKET_NAME of the .env)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub bucket: Option<String>,
    /// The .env whose bucket to use when --bucket is not given (default: ./.env, else
    /// ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The .env file to read (default: ./.env, else ./backend/.env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Name of the policy the key should hold, named in diagnoses
    #[arg(long, value_name = "NAME", default_value = DEFAULT_POLICY)]
    pub policy_name: String,
    /// Then run the steps through the backend's own config.py and storage/s3_client.py in
    /// DIR (default: the folder holding the .env)
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub backend: Option<Option<PathBuf>>,
    /// The backend's Python (default: DIR's venv/ or .venv/, the project's, $VIRTUAL_ENV,
    /// python3); run isolated, from the temp folder
    #[arg(long, value_name = "PATH", requires = "backend")]
    pub python: Option<PathBuf>,
    /// The backend's settings as MODULE:ATTR, a function (called) or an object (default: found
    /// in config.py, app/config.py, app/core/config.py, core/config.py or settings.py)
    #[arg(long, value_name = "MODULE:ATTR", requires = "backend")]
    pub settings: Option<String>,
    /// The backend's S3 client as MODULE:ATTR, a function or class (called) or an object
    /// (default: get_s3_client or S3Client in storage/s3_client.py and the common layouts)
    #[arg(long, value_name = "MODULE:ATTR", requires = "backend")]
    pub client: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Bucket name (default: the .env's S3_BUCKET_NAME, else
    /// t3-chat-documents-<account id>-<region>-an in the account regional namespace)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub bucket: Option<String>,
    /// With no name given, a random t3-chat-documents-<suffix> in the global namespace
    #[arg(long, conflicts_with = "bucket")]
    pub global_namespace: bool,
    /// The IAM user the backend runs as (the guide reuses `t3_chat`)
    #[arg(long, value_name = "NAME", default_value = "t3_chat")]
    pub user: String,
    /// Create the IAM user if it does not exist
    #[arg(long)]
    pub create_user: bool,
    /// Name of the customer-managed IAM policy
    #[arg(long, value_name = "NAME", default_value = DEFAULT_POLICY)]
    pub policy_name: String,
    /// The IAM group that holds the policy; the user becomes its member
    #[arg(long, value_name = "NAME", default_value = DEFAULT_GROUP)]
    pub group: String,
    /// The .env file to write (default: backend/.env when backend/ exists, else .env)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Turn on bucket versioning (the guide keeps it off)
    #[arg(long)]
    pub versioning: bool,
    /// Do not add the bucket-policy statement that refuses requests without TLS
    #[arg(long, conflicts_with = "require_tls")]
    pub allow_http: bool,
    /// Add the TLS-only statement even when the endpoint is plain http:// (an emulator):
    /// every request to it is then refused
    #[arg(long)]
    pub require_tls: bool,
    /// Show what would change after read-only calls; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Never prompt; answer yes to init's yes/no question (delete keys an interrupted run
    /// created and never wrote). A question that needs a value (the region) is then an error
    #[arg(long)]
    pub yes: bool,
    /// Do not run `verify` at the end
    #[arg(long)]
    pub no_verify: bool,
    /// Set up a billing alert: a monthly AWS cost budget that e-mails this address at 80% of
    /// actual and 100% of forecast spend
    #[arg(long, value_name = "ADDRESS")]
    pub budget_email: Option<String>,
    /// The monthly budget in US dollars (with --budget-email)
    #[arg(long, value_name = "N", default_value_t = 5.0, requires = "budget_email")]
    pub budget_usd: f64,
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::*;

    fn parse(args: &[&str]) -> (clap::ArgMatches, Cli) {
        let matches = command().try_get_matches_from(args).expect("parses");
        let cli = Cli::from_arg_matches(&matches).expect("derives");
        (matches, cli)
    }

    #[test]
    fn help_offers_every_command_by_name() {
        let mut names: Vec<String> = command().get_subcommands().map(|c| c.get_name().to_string()).collect();
        names.sort();
        let mut help = command();
        let help = help.find_subcommand_mut("help").expect("help");
        let arg = help.get_arguments().find(|a| a.get_id() == "command").expect("COMMAND");
        let mut offered: Vec<String> = arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
        offered.sort();
        assert_eq!(offered, names);
    }

    /// The tables keyed by names name real commands and real global options: renaming one
    /// fails here instead of drifting silently.
    #[test]
    fn the_option_tables_name_real_commands_and_options() {
        let cli = Cli::command();
        let commands: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        let globals: Vec<&str> =
            cli.get_arguments().filter(|a| a.is_global_set()).map(|a| a.get_id().as_str()).collect();
        for (name, ids) in IDLE_OPTIONS {
            assert!(commands.contains(name), "IDLE_OPTIONS names no command `{name}`");
            for id in *ids {
                assert!(globals.contains(id), "IDLE_OPTIONS: `{id}` is no global option");
            }
        }
        for (name, id, _) in RETOLD {
            assert!(commands.contains(name), "RETOLD names no command `{name}`");
            assert!(globals.contains(id), "RETOLD: `{id}` is no global option");
            assert!(!idle_for(name).contains(id), "`{id}` is both idle and retold for {name}");
        }
    }

    #[test]
    fn a_global_option_reads_the_same_before_and_after_the_command() {
        for args in [["t3s3", "--region", "eu-west-1", "verify"], ["t3s3", "verify", "--region", "eu-west-1"]] {
            let (_, cli) = parse(&args);
            assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"), "{args:?}");
        }
        // An idle option's hidden copy still carries its value up, so it can be refused.
        let (matches, cli) = parse(&["t3s3", "policy", "--bucket", "b", "--profile", "admin"]);
        assert_eq!(cli.global.profile.as_deref(), Some("admin"));
        assert_eq!(matches.value_source("profile"), Some(clap::parser::ValueSource::CommandLine));
    }

    /// Every `t3s3 ...` line in the docs' code blocks and in each command's examples parses,
    /// with no option where it does nothing: the documentation cannot drift from the flags.
    #[test]
    fn every_command_line_the_readme_and_the_help_show_parses() {
        let mut lines = Vec::new();
        for doc in ["README.md", "docs/commands.md", "CONTRIBUTING.md"] {
            let text = std::fs::read_to_string(format!("{}/{doc}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            let mut in_code = false;
            for line in text.lines() {
                if line.trim_start().starts_with("```") {
                    in_code = !in_code;
                } else if in_code {
                    lines.push((doc, line.trim().to_string()));
                }
            }
        }
        let parsed = command();
        for sub in parsed.get_subcommands() {
            for line in sub.get_after_help().map(|h| h.to_string()).unwrap_or_default().lines() {
                lines.push((sub.get_name(), line.trim().to_string()));
            }
        }
        let mut checked = 0;
        for (source, line) in &lines {
            let Some(rest) = line.strip_prefix("t3s3 ") else { continue };
            let shown = rest.split(['|', '>', '#', ';']).next().unwrap_or_default();
            if shown.contains('[') {
                continue; // a synopsis with optional parts, e.g. `[--env-file PATH]`
            }
            let args: Vec<&str> = std::iter::once("t3s3").chain(shown.split_whitespace()).collect();
            match command().try_get_matches_from(&args) {
                Ok(matches) => {
                    assert_eq!(idle_options_given(&matches), None, "{source}: {line}");
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
                    ) => {}
                Err(e) => panic!("{source}: `{line}` does not parse:\n{e}"),
            }
            checked += 1;
        }
        // 37 when this was written.
        assert!(checked >= 30, "only {checked} command lines found");
    }

    #[test]
    fn completions_offer_each_command_only_its_options() {
        let mut completed = completion_command();
        completed.build();
        let policy = completed.find_subcommand("policy").expect("policy");
        let longs: Vec<&str> = policy.get_arguments().filter_map(|a| a.get_long()).collect();
        assert_eq!(longs, ["bucket", "env-file", "color", "json", "help"]);
        let top: Vec<&str> = completed.get_arguments().filter_map(|a| a.get_long()).collect();
        assert!(top.contains(&"profile") && top.contains(&"endpoint-url"), "{top:?}");
    }

    #[test]
    fn idle_options_are_hidden_and_the_rest_are_shown() {
        let mut built = command();
        built.build();
        for sub in built.get_subcommands() {
            let idle = idle_for(sub.get_name());
            for arg in sub.get_arguments().filter(|a| a.get_help_heading() == Some("Global options")) {
                let id = arg.get_id().as_str();
                assert_eq!(arg.is_hide_set(), idle.contains(&id), "{} {id}", sub.get_name());
            }
        }
    }
}
