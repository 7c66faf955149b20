//! `init`'s work: read the local inputs, discover what the account already has with read-only
//! calls (every reason to stop is found there), then apply one step per resource, each
//! recording created / updated / unchanged (or would be, in a dry run).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::aws::ActingClients;
use crate::bucket_name::{self, BucketName};
use crate::change::Change;
use crate::envfile::EnvFile;
use crate::exit::{Failure, after_changes};
use crate::git;
use crate::iam;
use crate::keys::Key;
use crate::ops::record::{Record, Requests, Resource};
use crate::ops::selftest::VerifyReport;
use crate::outln;
use crate::sts::{self, Caller};
use crate::ui::{Render, style};

mod apply;
mod discover;

use apply::Apply;
use discover::discover;

/// Everything `init` did or would do.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub ok: bool,
    pub dry_run: bool,
    pub account: String,
    pub caller_arn: String,
    pub bucket: String,
    pub region: String,
    pub resources: Vec<Resource>,
    pub warnings: Vec<String>,
    pub requests: Requests,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyReport>,
    /// A self-test follows the summary (its banner ends the text instead of a closing line).
    #[serde(skip)]
    pub self_test_follows: bool,
    /// This run created the key the .env now holds (AWS may take seconds to accept it).
    #[serde(skip)]
    pub key_is_new: bool,
    /// Where the bucket's name came from (`given`, `account_regional`, `{"global": why}`).
    pub naming: Naming,
    /// The command that checks it later, with the options this run was given.
    #[serde(skip)]
    pub verify_command: String,
}

impl Render for InitReport {
    fn text(&self, out: &mut String) {
        outln!(out, "Acting as {} (account {}) in {}", self.caller_arn, self.account, self.region);
        if self.dry_run {
            outln!(out, "{}", style::warn("Dry run: read-only calls only; nothing was changed."));
        }
        outln!(out);
        Resource::rows(out, &self.resources);
        if let Naming::Global(why) = &self.naming {
            outln!(out, "  {} `{}` is in the global namespace: {why}", style::note("note:"), self.bucket);
        }
        for warning in &self.warnings {
            outln!(out, "  {} {warning}", style::warn("warning:"));
        }
        outln!(out, "{}", style::note(&self.requests.line()));
        outln!(out);
        if self.dry_run {
            outln!(out, "Dry run finished: run without --dry-run to apply.");
        } else if !self.self_test_follows && self.ok {
            outln!(out, "Done. Check it any time with `{}`.", self.verify_command);
        }
    }
}

/// What the user asked `init` for, resolved.
#[derive(Debug, Clone)]
pub struct Options {
    pub env_path: PathBuf,
    pub bucket: Option<String>,
    pub region: crate::settings::RegionName,
    pub user: String,
    pub create_user: bool,
    pub policy_name: String,
    /// The IAM group that holds the policy; the user is its member (CIS AWS 1.15).
    pub group: String,
    pub versioning: bool,
    /// A random name in the global namespace instead of the account regional one.
    pub global_namespace: bool,
    /// Whether the bucket policy refuses plain HTTP.
    pub tls: Tls,
    pub dry_run: bool,
    /// Consent to delete keys an interrupted run created and never wrote (their secret is lost).
    pub delete_unwritten_keys: bool,
    /// The billing alert asked for (`--budget-email`).
    pub budget: Option<BudgetWish>,
}

/// A monthly cost budget and the address its alerts go to.
#[derive(Debug, Clone)]
pub struct BudgetWish {
    pub email: String,
    pub usd: f64,
}

/// Whether the bucket policy gets the statement that refuses requests without TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    Required,
    /// Left out, and why.
    NotRequired(String),
}

impl Tls {
    /// On by default; off with --allow-http, or when the endpoint itself is plain HTTP (a
    /// local emulator: the statement would refuse every request to it) unless --require-tls.
    pub fn choose(allow_http: bool, require_tls: bool, endpoint: Option<&str>) -> Tls {
        match endpoint {
            _ if allow_http => Tls::NotRequired("--allow-http".into()),
            Some(url) if url.starts_with("http://") && !require_tls => Tls::NotRequired(format!(
                "the endpoint {url} is plain HTTP, so the statement would refuse every request; --require-tls adds it anyway"
            )),
            _ => Tls::Required,
        }
    }

    fn required(&self) -> bool {
        *self == Tls::Required
    }
}

/// The env file `init` writes when none is named: the guide's backend/.env when a
/// backend/ folder exists, else ./.env.
pub fn default_env_path() -> PathBuf {
    if let Some(path) = crate::project::defaults().ok().and_then(|d| d.env_file.clone()) {
        return path;
    }
    if Path::new("backend").is_dir() { PathBuf::from("backend").join(".env") } else { PathBuf::from(".env") }
}

/// The guide's bucket prefix.
pub const BUCKET_PREFIX: &str = "t3-chat-documents";

/// A bucket name no one can guess: the guide's prefix and 12 random base-36 characters.
pub fn generated_bucket_name() -> Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("cannot read random bytes from /dev/urandom")?;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = bytes.iter().take(12).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    Ok(format!("{BUCKET_PREFIX}-{suffix}"))
}

/// Where the bucket's name came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// --bucket, or the env file's S3_BUCKET_NAME.
    Given,
    /// `t3-chat-documents-<account>-<region>-an`, in the account regional namespace.
    AccountRegional,
    /// A random name in the global namespace, and why.
    Global(String),
}

/// What `init` reads before talking to AWS: the env file, and the bucket it names.
pub struct Local {
    pub env_path: PathBuf,
    env: EnvFile,
    existing: BTreeMap<String, String>,
    /// None until [`Local::name_bucket`] when neither --bucket nor the env file names one.
    bucket: Option<BucketName>,
    pub naming: Naming,
}

impl Local {
    /// Reads the env file and settles the bucket name; refuses a file git tracks.
    pub fn read(env_path: &Path, bucket: Option<&str>) -> Result<Self> {
        crate::fsio::require_folder(env_path)?;
        let env = EnvFile::read(env_path)?;
        env.require_parseable()?;
        let values = env.values().0;
        // A template's stand-in (`S3_BUCKET_NAME=your_bucket_name`) counts as unset: init fills it in.
        let existing: BTreeMap<String, String> = values
            .iter()
            .filter(|(_, v)| !v.value.is_empty() && !crate::keys::is_placeholder(&v.value))
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let bucket = match (bucket, existing.get(Key::Bucket.name())) {
            (Some(flag), _) => Some(bucket_name::parse(flag, "pass a valid name with --bucket")?),
            (None, Some(from_file)) => {
                let line = values.get(Key::Bucket.name()).map_or(0, |v| v.line);
                let hint = format!("fix S3_BUCKET_NAME in {} line {line}, or pass --bucket NAME", env_path.display());
                let named = |mut failure: Failure| {
                    failure.message =
                        format!("S3_BUCKET_NAME ({} line {line}): {}", env_path.display(), failure.message);
                    failure
                };
                Some(bucket_name::parse(from_file, &hint).map_err(named)?)
            }
            (None, None) => None,
        };
        let naming = if bucket.is_some() { Naming::Given } else { Naming::AccountRegional };
        git::check_answers(env_path).map_err(|unanswered| unanswered.refusal(env_path))?;
        if git::is_tracked(env_path) {
            return Err(Failure::bad_input(format!(
                "refusing to write secrets to {}{}: git tracks it",
                env_path.display(),
                git::link_note(env_path)
            ))
                .hint(format!(
                    "run `git rm --cached {}` and commit, then run `t3s3 init` again (and rotate any key it held: it is in git history)",
                    env_path.display()
                ))
                .into());
        }
        Ok(Local { env_path: env_path.to_path_buf(), env, existing, bucket, naming })
    }

    /// With no name given: `t3-chat-documents-<account>-<region>-an` in the account's own
    /// namespace, which nobody else can take and every machine derives alike; a random global
    /// name with --global-namespace or where AWS offers no such namespace.
    pub fn name_bucket(&mut self, account: &str, region: &str, global: bool) -> Result<()> {
        if self.naming != Naming::AccountRegional || self.bucket.is_some() {
            return Ok(());
        }
        let why = if global {
            Some("--global-namespace".to_string())
        } else if bucket_name::WITHOUT_ACCOUNT_REGIONAL.contains(&region) {
            Some(format!("AWS offers no account regional namespace in {region}"))
        } else {
            None
        };
        match why {
            Some(why) => self.use_global_name(why)?,
            None => self.bucket = Some(made_name(bucket_name::account_regional(BUCKET_PREFIX, account, region))?),
        }
        Ok(())
    }

    /// A random name in the global namespace, and why.
    pub fn use_global_name(&mut self, why: String) -> Result<()> {
        self.bucket = Some(made_name(generated_bucket_name()?)?);
        self.naming = Naming::Global(why);
        Ok(())
    }

    /// The bucket's name; empty until it is settled.
    pub fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    /// The settled bucket name, for what needs a checked one (the policy).
    pub fn bucket_name(&self) -> Result<&BucketName> {
        self.bucket.as_ref().ok_or_else(|| Failure::unexpected("no bucket name was settled before use").into())
    }

    /// A non-empty value the env file already holds.
    pub fn existing(&self, key: Key) -> Option<String> {
        self.existing.get(key.name()).cloned()
    }
}

/// Discovers, then applies. A failure after a change carries the list of changes
/// (exit 4); before any change, it is the failure itself.
pub async fn run(clients: &ActingClients, options: &Options, local: &mut Local) -> Result<InitReport> {
    // A name to derive needs the account first; the caller found is not asked for again.
    let caller = if local.bucket().is_empty() {
        let caller = sts::acting_caller(clients).await?;
        local.name_bucket(&caller.account, &options.region, options.global_namespace)?;
        Some(caller)
    } else {
        None
    };
    let first = run_once(clients, options, local, caller.clone()).await;
    let refused = match &first {
        Err(error) if local.naming == Naming::AccountRegional => error.downcast_ref::<NamespaceRefused>().cloned(),
        _ => None,
    };
    let Some(refused) = refused else { return first.map(|(report, _)| report) };
    // The endpoint does not know account regional namespaces: a random global name, and the
    // same steps again from what the first attempt left (its key is in the .env now).
    let earlier: Vec<Change> =
        first.err().and_then(|error| crate::exit::changes_of(&error).map(<[Change]>::to_vec)).unwrap_or_default();
    let why = format!("the endpoint refused the account regional namespace ({})", refused.0);
    let mut fresh = Local::read(&local.env_path, None)?;
    fresh.use_global_name(why.clone())?;
    *local = fresh;
    let (mut report, _) = run_once(clients, options, local, caller).await.map_err(|error| {
        let mut changes = earlier.clone();
        changes.extend(crate::exit::changes_of(&error).map(<[Change]>::to_vec).unwrap_or_default());
        after_changes(error, changes)
    })?;
    report.warnings.push(format!("{why}; used `{}` in the global namespace", local.bucket()));
    if !earlier.is_empty() {
        let made: Vec<&str> = earlier.iter().map(|change| change.what.as_str()).collect();
        report.warnings.push(format!("the first attempt had already made: {}", made.join("; ")));
    }
    report.key_is_new = report.key_is_new || earlier.iter().any(Change::is_new_key);
    Ok(report)
}

/// The user holds keys an interrupted run created and never wrote, and no key to keep:
/// deleting them needs consent (the command asks, or --yes gave it). Nothing was changed.
#[derive(Debug, Clone)]
pub struct UnwrittenKeys {
    pub message: String,
}

impl std::fmt::Display for UnwrittenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnwrittenKeys {}

/// The IAM user init would give the key to does not exist and `--create-user` was not
/// passed; found by read-only calls, so nothing was changed. The command decides: ask, or
/// say the command to run.
#[derive(Debug, Clone)]
pub struct UserMissing {
    pub user: String,
    pub account: String,
}

impl std::fmt::Display for UserMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IAM user `{}` does not exist in account {}; nothing was changed", self.user, self.account)
    }
}

impl std::error::Error for UserMissing {}

/// A name t3s3 made (derived or random) as a checked one; one that breaks a rule is a bug here.
fn made_name(name: String) -> Result<BucketName> {
    BucketName::new(&name)
        .map_err(|rule| Failure::unexpected(format!("t3s3 made an invalid bucket name: {rule}")).into())
}

/// CreateBucket refused the account regional namespace header (an endpoint that does not
/// offer it): the code S3 answered.
#[derive(Debug, Clone)]
pub struct NamespaceRefused(pub String);

impl std::fmt::Display for NamespaceRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the endpoint refused the account regional namespace ({})", self.0)
    }
}

impl std::error::Error for NamespaceRefused {}

async fn run_once(
    clients: &ActingClients,
    options: &Options,
    local: &mut Local,
    caller: Option<Caller>,
) -> Result<(InitReport, Option<iam::NewKey>)> {
    let found = discover(clients, options, local, caller).await?;
    let apply = Apply { clients, options, account: &found.caller.account, record: Record::new(options.dry_run) };
    let mut warnings = found.warnings.clone();
    let result = match apply.all(&found, local).await {
        // The budget is a recommendation, not a prerequisite: a refusal is told, not fatal.
        Ok(key) => apply.budget(&found.caller.account).await.map(|warning| {
            warnings.extend(warning);
            key
        }),
        Err(error) => Err(error),
    };
    let (rows, changes) = apply.finish();
    let new_key = result.map_err(|error| after_changes(error, changes))?;
    let requests = Requests::of(&clients.log);
    let report = InitReport {
        ok: true,
        dry_run: options.dry_run,
        account: found.caller.account.clone(),
        caller_arn: found.caller.arn.clone(),
        key_is_new: new_key.is_some(),
        bucket: local.bucket().to_string(),
        naming: local.naming.clone(),
        region: options.region.to_string(),
        resources: rows,
        warnings,
        requests,
        verify: None,
        self_test_follows: false,
        verify_command: "t3s3 verify".into(),
    };
    Ok((report, new_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_valid_and_differ() {
        let a = generated_bucket_name().unwrap();
        let b = generated_bucket_name().unwrap();
        assert_ne!(a, b);
        assert_eq!(bucket_name::validate(&a), Ok(()));
        assert_eq!(a.len(), "t3-chat-documents-".len() + 12);
    }
}
