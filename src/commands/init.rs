//! `t3s3 init`: create or converge the bucket, policy, access key and .env (guide sections 3-6),
//! looking before every change, then run `verify` with the result.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::aws::{self, Target};
use crate::bucket::{self, Presence};
use crate::bucket_name;
use crate::cli::{GlobalArgs, InitArgs};
use crate::commands::verify::{self, VerifyReport};
use crate::envfile::EnvFile;
use crate::exit::{ExitStatus, Failure};
use crate::git;
use crate::iam;
use crate::policy;
use crate::report::Printer;
use crate::settings::{AppSettings, is_region_name};

/// The guide's four region suggestions, offered when no region is configured.
pub const SUGGESTED_REGIONS: [(&str, &str); 4] = [
    ("ap-south-1", "India (Mumbai)"),
    ("us-east-1", "US East (N. Virginia)"),
    ("us-west-2", "US West (Oregon)"),
    ("eu-west-1", "Europe (Ireland)"),
];

/// How long to wait for a new key to work (AWS takes a few seconds to accept it).
const NEW_KEY_PROPAGATION: Duration = Duration::from_secs(30);

/// What happened (or, with --dry-run, would happen) to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Updated,
    Unchanged,
    WouldCreate,
    WouldUpdate,
}

impl Status {
    fn changed(dry_run: bool, create: bool) -> Self {
        match (dry_run, create) {
            (true, true) => Status::WouldCreate,
            (true, false) => Status::WouldUpdate,
            (false, true) => Status::Created,
            (false, false) => Status::Updated,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::WouldCreate => "would create",
            Status::WouldUpdate => "would update",
        }
    }
}

/// One row of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub resource: &'static str,
    pub name: String,
    pub status: Status,
    pub detail: String,
}

/// How many AWS requests the acting credentials sent.
#[derive(Debug, Clone, Serialize)]
pub struct Requests {
    pub total: usize,
    pub mutating: usize,
    pub operations: Vec<String>,
}

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
}

/// The env file `init` writes when none is named: the guide's backend/.env when a
/// backend/ folder exists, else ./.env.
pub fn default_env_path() -> PathBuf {
    if Path::new("backend").is_dir() { PathBuf::from("backend").join(".env") } else { PathBuf::from(".env") }
}

/// A bucket name no one can guess: the guide's prefix and 12 random base-36 characters.
pub fn generated_bucket_name() -> Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("cannot read random bytes from /dev/urandom")?;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = bytes.iter().take(12).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    Ok(format!("t3-chat-documents-{suffix}"))
}

fn choose_region(explicit: Option<String>, from_env_file: Option<String>, yes: bool) -> Result<String> {
    let region = match explicit.or(from_env_file) {
        Some(region) => region,
        None if crate::prompt::can_ask(yes) => prompt_region()?,
        None => {
            return Err(Failure::bad_input("no AWS region is configured")
                .hint("pass --region REGION (ap-south-1, us-east-1, us-west-2 or eu-west-1 are the guide's suggestions), or set AWS_REGION")
                .into());
        }
    };
    if !is_region_name(&region) {
        return Err(Failure::bad_input(format!("`{region}` is not an AWS region name"))
            .hint("use a region code such as ap-south-1, us-east-1, us-west-2 or eu-west-1")
            .into());
    }
    Ok(region)
}

fn prompt_region() -> Result<String> {
    let mut choices =
        String::from("Which AWS region should the bucket live in? Choose the one closest to your users:\n");
    for (index, (code, name)) in SUGGESTED_REGIONS.iter().enumerate() {
        choices.push_str(&format!("  {}. {code}  {name}\n", index + 1));
    }
    let answer = crate::prompt::ask(&format!("{choices}Region [1-4 or a region code]: "))?;
    Ok(match answer.parse::<usize>() {
        Ok(n) if (1..=SUGGESTED_REGIONS.len()).contains(&n) => SUGGESTED_REGIONS[n - 1].0.to_string(),
        _ => answer,
    })
}

pub async fn run(args: &InitArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let mut local = Local::read(args)?;

    // Who is acting, and where.
    let mut target = Target {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let probe = aws::acting_clients(&target).await;
    let region = choose_region(probe.region(), local.existing("AWS_REGION"), args.yes)?;
    target.region = Some(region.clone());
    let clients = aws::acting_clients(&target).await;
    let caller = clients.caller().await?;
    printer.init_begin(&caller.arn, &caller.account, &region, args.dry_run);

    let found = discover(&clients, args, &local, &caller, &region).await?;
    let mut apply = Apply { clients: &clients, args, dry_run: args.dry_run, resources: Vec::new() };
    // .gitignore first: no secret is ever written to a file git would pick up.
    let gitignore_row = apply.gitignore(&local.env_path)?;
    apply.bucket(&local.bucket, &region, found.bucket.as_ref()).await?;
    apply.user(found.user_exists, &caller.account).await?;
    apply.policy(&found, &local.bucket).await?;
    let new_key = apply.access_key(found.kept_key.as_deref(), &local.env_path).await?;
    apply.env_file(&mut local, &region, new_key.as_ref()).await?;
    apply.resources.push(gitignore_row);

    let log = &clients.log;
    let requests =
        Requests { total: log.operations().len(), mutating: log.mutating().len(), operations: log.operations() };
    let mut report = InitReport {
        ok: true,
        dry_run: args.dry_run,
        account: caller.account,
        caller_arn: caller.arn,
        bucket: local.bucket.clone(),
        region,
        resources: apply.resources,
        warnings: found.warnings,
        requests,
        verify: None,
    };
    printer.init_summary(&report);

    // Verify with what was written, exactly as the backend will read it.
    if !args.dry_run && !args.no_verify {
        let settings = AppSettings::from_file(&local.env_path)?;
        let options = verify::Options {
            timeout: Duration::from_secs(20),
            wait_for_new_key: new_key.is_some().then_some(NEW_KEY_PROPAGATION),
        };
        printer.verify_begin();
        let result = verify::self_test(&settings, &options, printer).await;
        printer.verify_footer(&result);
        report.ok = result.ok;
        report.verify = Some(result);
    }
    printer.init_end(&report);
    Ok(if report.ok { ExitStatus::Success } else { ExitStatus::CheckFailed })
}

/// What `init` reads before talking to AWS: the env file, and the bucket it names.
struct Local {
    env_path: PathBuf,
    env: EnvFile,
    existing: BTreeMap<String, String>,
    bucket: String,
}

impl Local {
    fn read(args: &InitArgs) -> Result<Self> {
        let env_path = args.env_file.clone().unwrap_or_else(default_env_path);
        let folder = env_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !folder.is_dir() {
            return Err(Failure::bad_input(format!("the folder of {} does not exist", env_path.display()))
                .hint("create it, or pass another path with --env-file")
                .into());
        }
        let env = EnvFile::read(&env_path)?;
        let existing: BTreeMap<String, String> =
            env.values().0.into_iter().filter(|(_, v)| !v.value.is_empty()).map(|(k, v)| (k, v.value)).collect();
        let bucket = match args.bucket.clone().or_else(|| existing.get("S3_BUCKET_NAME").cloned()) {
            Some(name) => name,
            None => generated_bucket_name()?,
        };
        bucket_name::validate(&bucket)
            .map_err(|rule| Failure::bad_input(rule).hint("pass a valid name with --bucket"))?;
        if git::is_tracked(&env_path) {
            return Err(Failure::bad_input(format!("refusing to write secrets to {}: git tracks it", env_path.display()))
                .hint(format!(
                    "run `git rm --cached {}` and commit, then run `t3s3 init` again (and rotate any key it held: it is in git history)",
                    env_path.display()
                ))
                .into());
        }
        Ok(Local { env_path, env, existing, bucket })
    }

    fn existing(&self, key: &str) -> Option<String> {
        self.existing.get(key).cloned()
    }
}

/// What is already there, found with read-only calls. Every reason to stop is found
/// here, before anything changes.
struct Discovery {
    user_exists: bool,
    /// The Active key of the user that the env file already holds, with its secret.
    kept_key: Option<String>,
    /// The bucket's settings when the account already owns it in the right region.
    bucket: Option<bucket::Settings>,
    policy_arn: String,
    policy: Option<iam::PolicyState>,
    /// The policy document as `t3s3 policy` renders it, in compact JSON.
    document: String,
    attached: bool,
    warnings: Vec<String>,
}

async fn discover(
    clients: &aws::ActingClients,
    args: &InitArgs,
    local: &Local,
    caller: &aws::Caller,
    region: &str,
) -> Result<Discovery> {
    let user = args.user.as_str();
    let account = &caller.account;
    let user_exists = iam::user_exists(&clients.iam, user).await?;
    if !user_exists && !args.create_user {
        return Err(Failure::bad_input(format!("IAM user `{user}` does not exist in account {account}"))
            .hint("pass --create-user to create it, or --user NAME to use another existing user")
            .into());
    }
    let keys = if user_exists { iam::list_keys(&clients.iam, user, false).await? } else { Vec::new() };
    let env_key_id = local.existing("AWS_ACCESS_KEY_ID");
    let has_secret = local.existing("AWS_SECRET_ACCESS_KEY").is_some();
    let kept_key =
        keys.iter().find(|k| Some(&k.id) == env_key_id.as_ref() && k.active() && has_secret).map(|k| k.id.clone());
    if kept_key.is_none() && keys.len() >= 2 {
        let detailed = iam::list_keys(&clients.iam, user, true).await?;
        let listing: Vec<String> = detailed.iter().map(|k| format!("  {}", k.describe())).collect();
        let env = local.env_path.display();
        return Err(Failure::bad_input(format!(
            "IAM user `{user}` already has 2 access keys, the most AWS allows, and {env} holds neither:\n{}",
            listing.join("\n")
        ))
        .hint(format!(
            "free a slot: deactivate, then delete a key nothing uses (IAM → Users → {user} → Security credentials, or `aws iam delete-access-key --user-name {user} --access-key-id ID`); or put the key the backend uses, with its secret, in {env} so init keeps it"
        ))
        .into());
    }

    let bucket_name = &local.bucket;
    let bucket = match bucket::presence(&clients.s3_in("us-east-1"), bucket_name).await? {
        Presence::OtherOwner => {
            return Err(Failure::bad_input(format!("the bucket name `{bucket_name}` belongs to another AWS account"))
                .hint(format!(
                    "bucket names are global across all AWS accounts; choose another, e.g. --bucket {}",
                    generated_bucket_name()?
                ))
                .into());
        }
        Presence::Ours { region: actual } if actual != region => {
            return Err(Failure::bad_input(format!("your bucket `{bucket_name}` is in {actual}, not {region}"))
                .hint(format!("run again with --region {actual}"))
                .into());
        }
        Presence::Ours { .. } => Some(bucket::read_settings(&clients.s3_in(region), bucket_name).await?),
        Presence::Missing => None,
    };

    let policy_arn = iam::policy_arn(iam::partition(&caller.arn), account, &args.policy_name);
    let policy = iam::find_policy(&clients.iam, &policy_arn).await?;
    // Compact JSON: the same document as `t3s3 policy`, without layout white space.
    let document = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&policy::render(bucket_name)?)?)?;
    let attached_policies = if user_exists { iam::attached_policies(&clients.iam, user).await? } else { Vec::new() };
    let attached = attached_policies.iter().any(|(_, arn)| *arn == policy_arn);
    let warnings = if user_exists {
        iam::broad_s3_grants(&clients.iam, user, &attached_policies, &policy_arn).await?
    } else {
        Vec::new()
    };
    let warnings = warnings
        .into_iter()
        .map(|w| {
            format!("`{user}` holds {w}: the guide says not to (least privilege); detach it once T3ChatS3Policy works")
        })
        .collect();
    Ok(Discovery { user_exists, kept_key, bucket, policy_arn, policy, document, attached, warnings })
}

/// Makes each change (or, with --dry-run, only records it) and keeps the summary rows.
struct Apply<'a> {
    clients: &'a aws::ActingClients,
    args: &'a InitArgs,
    dry_run: bool,
    resources: Vec<Resource>,
}

impl Apply<'_> {
    fn row(&mut self, resource: &'static str, name: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.resources.push(Resource { resource, name: name.into(), status, detail: detail.into() });
    }

    /// `unchanged` when nothing is needed, else created / updated (or would be).
    fn status(&self, needed: bool, create: bool) -> Status {
        if needed { Status::changed(self.dry_run, create) } else { Status::Unchanged }
    }

    /// Makes sure git ignores the env file; returns the summary row (shown last).
    fn gitignore(&self, env_path: &Path) -> Result<Resource> {
        let repo = git::repo_root(env_path);
        let gitignore = repo.as_ref().map_or_else(|| PathBuf::from(".gitignore"), |root| root.join(".gitignore"));
        let existed = gitignore.exists();
        let added = git::ensure_ignored(&gitignore, self.dry_run)?;
        if repo.is_some() && !self.dry_run && !git::is_ignored(env_path) {
            return Err(Failure::bad_input(format!(
                "git does not ignore {} even with `.env` and `*.env` in {}",
                env_path.display(),
                gitignore.display()
            ))
            .hint(format!(
                "a `!` pattern may re-include it: make {} ignore {}, then run `t3s3 init` again",
                gitignore.display(),
                env_path.display()
            ))
            .into());
        }
        let env = env_path.display();
        let detail = match (&repo, added.is_empty()) {
            (Some(_), true) => format!("has .env and *.env; git ignores {env}"),
            (Some(_), false) => format!("added {}; git ignores {env}", added.join(", ")),
            (None, true) => "has .env and *.env (not a git repository)".into(),
            (None, false) => format!("added {} (not a git repository)", added.join(", ")),
        };
        Ok(Resource {
            resource: "gitignore",
            name: gitignore.display().to_string(),
            status: self.status(!added.is_empty(), !existed),
            detail,
        })
    }

    /// The bucket and its four settings, each read back after a change.
    async fn bucket(&mut self, name: &str, region: &str, current: Option<&bucket::Settings>) -> Result<()> {
        let s3 = self.clients.s3_in(region);
        let create = current.is_none();
        if create && !self.dry_run && !bucket::create(&s3, name, region).await? {
            return Err(Failure::bad_input(format!("the bucket name `{name}` was just taken by another AWS account"))
                .hint("bucket names are global; run again with another --bucket")
                .into());
        }
        self.row("bucket", name, self.status(create, true), format!("in {region}"));

        let before = current.cloned().unwrap_or_default();
        let fix_ownership = !before.acls_disabled();
        let fix_public = !before.all_public_access_blocked();
        let fix_encryption = !before.encrypted();
        let fix_versioning = self.args.versioning && !before.versioning_enabled();
        let changes = create || fix_ownership || fix_public || fix_encryption || fix_versioning;
        if !self.dry_run {
            // A new bucket already has ACLs disabled (ObjectOwnership on CreateBucket).
            if fix_ownership && !create {
                bucket::disable_acls(&s3, name).await?;
            }
            if fix_public {
                bucket::block_public_access(&s3, name).await?;
            }
            if fix_encryption {
                bucket::encrypt_sse_s3(&s3, name).await?;
            }
            if fix_versioning {
                bucket::enable_versioning(&s3, name).await?;
            }
        }
        let after = if self.dry_run || !changes { before.clone() } else { bucket::read_settings(&s3, name).await? };

        let mut wrong = Vec::new();
        if !self.dry_run {
            if !after.acls_disabled() {
                wrong.push(format!("object ownership reads back as {:?}", after.ownership));
            }
            if !after.all_public_access_blocked() {
                wrong.push(format!("Block Public Access reads back as {:?}", after.public_access_block));
            }
            if !after.encrypted() {
                wrong.push(format!("default encryption reads back as {:?}", after.encryption));
            }
            if self.args.versioning && !after.versioning_enabled() {
                wrong.push(format!("versioning reads back as {:?}", after.versioning));
            }
        }
        self.row("object_ownership", name, self.status(fix_ownership, create), "BucketOwnerEnforced (ACLs disabled)");
        self.row("public_access_block", name, self.status(fix_public, create), "all four Block Public Access flags on");
        let encryption = match after.encryption.as_deref() {
            Some("AES256") | None => "SSE-S3 (AES256)".to_string(),
            Some(other) => format!("{other} (already stronger than SSE-S3; left as it is)"),
        };
        self.row("encryption", name, self.status(fix_encryption, create), encryption);
        let versioning = match (self.args.versioning || before.versioning_enabled(), before.versioning.as_deref()) {
            (true, _) => "on",
            (false, Some("Suspended")) => "suspended",
            (false, _) => "off (pass --versioning to keep object history)",
        };
        self.row("versioning", name, self.status(fix_versioning, create), versioning);
        if !wrong.is_empty() {
            return Err(Failure::check_failed(format!("bucket `{name}` settings did not stick: {}", wrong.join("; ")))
                .hint("check for an SCP or another tool reverting bucket settings, then run `t3s3 init` again")
                .into());
        }
        Ok(())
    }

    async fn user(&mut self, exists: bool, account: &str) -> Result<()> {
        if !exists && !self.dry_run {
            iam::create_user(&self.clients.iam, &self.args.user).await?;
        }
        self.row("user", self.args.user.clone(), self.status(!exists, true), format!("account {account}"));
        Ok(())
    }

    /// The policy (created, or a new default version when it drifted) and its attachment.
    async fn policy(&mut self, found: &Discovery, bucket: &str) -> Result<()> {
        let name = self.args.policy_name.clone();
        let iam_client = &self.clients.iam;
        match &found.policy {
            None => {
                let arn = if self.dry_run {
                    found.policy_arn.clone()
                } else {
                    iam::create_policy(iam_client, &name, &found.document, policy::DESCRIPTION).await?
                };
                self.row("policy", arn, self.status(true, true), format!("{name} v1"));
            }
            Some(state) if policy::same_document(&state.document, &found.document) => {
                self.row(
                    "policy",
                    state.arn.clone(),
                    Status::Unchanged,
                    format!("{name} {} (default)", state.default_version),
                );
            }
            Some(state) => {
                let detail = if self.dry_run {
                    let pruned = match (state.version_count >= 5, state.older_versions.first()) {
                        (true, Some(oldest)) => format!(", deleting {oldest}"),
                        _ => String::new(),
                    };
                    format!("new default version{pruned}: its document differs from `t3s3 policy --bucket {bucket}`")
                } else {
                    match iam::new_default_version(iam_client, state, &found.document).await? {
                        (version, Some(old)) => {
                            format!("{name} {version} (default; drifted, deleted oldest version {old})")
                        }
                        (version, None) => format!("{name} {version} (default; the old document had drifted)"),
                    }
                };
                self.row("policy", state.arn.clone(), self.status(true, false), detail);
            }
        }
        if !found.attached && !self.dry_run {
            iam::attach(iam_client, &self.args.user, &found.policy_arn).await?;
        }
        self.row("attachment", format!("{name} → {}", self.args.user), self.status(!found.attached, true), "");
        Ok(())
    }

    /// Keeps the env file's key when it is an Active key of the user, else creates one.
    async fn access_key(&mut self, kept: Option<&str>, env_path: &Path) -> Result<Option<iam::NewKey>> {
        let user = self.args.user.clone();
        match kept {
            Some(id) => {
                self.row(
                    "access_key",
                    id,
                    Status::Unchanged,
                    format!("Active key of `{user}` already in {}", env_path.display()),
                );
                Ok(None)
            }
            None if self.dry_run => {
                self.row("access_key", format!("new key of `{user}`"), Status::WouldCreate, "");
                Ok(None)
            }
            None => {
                let key = iam::create_key(&self.clients.iam, &user).await?;
                self.row("access_key", key.id.clone(), Status::Created, "the secret goes only into the env file");
                Ok(Some(key))
            }
        }
    }

    /// Merges the settings into the env file and writes it atomically with mode 0600.
    /// A key created in this run is deleted again if the file cannot be written.
    async fn env_file(&mut self, local: &mut Local, region: &str, new_key: Option<&iam::NewKey>) -> Result<()> {
        let key_id = new_key.map(|k| k.id.clone()).or(local.existing("AWS_ACCESS_KEY_ID")).unwrap_or_default();
        let secret = new_key.map(|k| k.secret.clone()).or(local.existing("AWS_SECRET_ACCESS_KEY")).unwrap_or_default();
        let endpoint = self.clients.endpoint_url();
        let mut updates = vec![("AWS_REGION", region), ("S3_BUCKET_NAME", local.bucket.as_str())];
        // In a dry run without a key yet there is no key to write: the plan shows the rest.
        if !key_id.is_empty() {
            updates.splice(0..0, [("AWS_ACCESS_KEY_ID", key_id.as_str()), ("AWS_SECRET_ACCESS_KEY", secret.as_str())]);
        }
        if let Some(endpoint) = &endpoint {
            updates.push(("AWS_ENDPOINT_URL", endpoint.as_str()));
        }
        let path = &local.env_path;
        let existed = local.env.exists();
        let merged = local.env.merge(&updates);
        let loose_mode = existed && file_mode(path).is_some_and(|mode| mode & 0o077 != 0);
        let needed = merged.changed() || loose_mode || !existed;
        if needed && !self.dry_run {
            if let Err(error) = local.env.write() {
                if let Some(key) = new_key {
                    // Nobody would hold this secret: take the key back before reporting.
                    let _ = iam::delete_key(&self.clients.iam, &self.args.user, &key.id).await;
                }
                return Err(
                    error.context(format!("cannot write {} (the new access key was deleted again)", path.display()))
                );
            }
        }
        let mut parts = Vec::new();
        if !merged.added.is_empty() {
            parts.push(format!("added {}", merged.added.join(", ")));
        }
        if !merged.updated.is_empty() {
            parts.push(format!("updated {}", merged.updated.join(", ")));
        }
        let detail = match (parts.is_empty(), loose_mode) {
            (true, true) => "mode set to 0600".to_string(),
            (true, false) => "already up to date (mode 0600)".to_string(),
            (false, _) => format!("{}; other lines kept; mode 0600", parts.join("; ")),
        };
        self.row("env_file", path.display().to_string(), self.status(needed, !existed), detail);
        Ok(())
    }
}

fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o777)
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
