//! `init`'s work: read the local inputs, discover what the account already has with read-only
//! calls (every reason to stop is found there), then apply one step per resource, each
//! recording created / updated / unchanged (or would be, in a dry run).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::aws::{self, ActingClients};
use crate::bucket::{self, Presence};
use crate::bucket_name;
use crate::envfile::{self, EnvFile};
use crate::exit::{Failure, after_changes};
use crate::git;
use crate::iam;
use crate::join::join_all;
use crate::keys::Key;
use crate::ops::selftest::VerifyReport;
use crate::outln;
use crate::policy;
use crate::sts::{self, Caller};
use crate::ui::{Render, style};

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

impl Resource {
    /// The summary's rows: resource, status (coloured by what happened), name, detail.
    pub fn rows(out: &mut String, resources: &[Resource]) {
        for resource in resources {
            let status = match resource.status {
                Status::Created | Status::Updated => style::ok(resource.status.label()),
                Status::WouldCreate | Status::WouldUpdate => style::warn(resource.status.label()),
                Status::Unchanged => style::note(resource.status.label()),
            };
            let label = resource.resource.replace('_', " ");
            let detail =
                if resource.detail.is_empty() { String::new() } else { format!("  {}", style::note(&resource.detail)) };
            outln!(out, "  {label:<20} {status:<13} {}{detail}", resource.name);
        }
    }
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
    /// A self-test follows the summary (its banner ends the text instead of a closing line).
    #[serde(skip)]
    pub self_test_follows: bool,
    /// This run created the key the .env now holds (AWS may take seconds to accept it).
    #[serde(skip)]
    pub key_is_new: bool,
    /// Where the bucket's name came from (`given`, `account_regional`, `{"global": why}`).
    pub naming: Naming,
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
        let requests = format!("  {} AWS requests, {} of them changes", self.requests.total, self.requests.mutating);
        outln!(out, "{}", style::note(&requests));
        outln!(out);
        if self.dry_run {
            outln!(out, "Dry run finished: run without --dry-run to apply.");
        } else if !self.self_test_follows && self.ok {
            outln!(out, "Done. Check it any time with `t3s3 verify`.");
        }
    }
}

/// What the user asked `init` for, resolved.
#[derive(Debug, Clone)]
pub struct Options {
    pub env_path: PathBuf,
    pub bucket: Option<String>,
    pub region: String,
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
    /// Consent to delete keys an interrupted run created and never wrote.
    pub yes: bool,
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
    /// Empty until [`Local::name_bucket`] when neither --bucket nor the env file names one.
    pub bucket: String,
    pub naming: Naming,
}

impl Local {
    /// Reads the env file and settles the bucket name; refuses a file git tracks.
    pub fn read(env_path: &Path, bucket: Option<&str>) -> Result<Self> {
        let folder = env_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !folder.is_dir() {
            return Err(Failure::bad_input(format!("the folder of {} does not exist", env_path.display()))
                .hint("create it, or pass another path with --env-file")
                .into());
        }
        let env = EnvFile::read(env_path)?;
        env.require_parseable()?;
        let existing: BTreeMap<String, String> =
            env.values().0.into_iter().filter(|(_, v)| !v.value.is_empty()).map(|(k, v)| (k, v.value)).collect();
        let bucket = bucket.map(str::to_string).or_else(|| existing.get(Key::Bucket.name()).cloned());
        if let Some(name) = &bucket {
            bucket_name::validate(name)
                .map_err(|rule| Failure::bad_input(rule).hint("pass a valid name with --bucket"))?;
        }
        let naming = if bucket.is_some() { Naming::Given } else { Naming::AccountRegional };
        if git::is_tracked(env_path) {
            return Err(Failure::bad_input(format!("refusing to write secrets to {}: git tracks it", env_path.display()))
                .hint(format!(
                    "run `git rm --cached {}` and commit, then run `t3s3 init` again (and rotate any key it held: it is in git history)",
                    env_path.display()
                ))
                .into());
        }
        Ok(Local { env_path: env_path.to_path_buf(), env, existing, bucket: bucket.unwrap_or_default(), naming })
    }

    /// With no name given: `t3-chat-documents-<account>-<region>-an` in the account's own
    /// namespace, which nobody else can take and every machine derives alike; a random global
    /// name with --global-namespace or where AWS offers no such namespace.
    pub fn name_bucket(&mut self, account: &str, region: &str, global: bool) -> Result<()> {
        if self.naming != Naming::AccountRegional || !self.bucket.is_empty() {
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
            None => self.bucket = bucket_name::account_regional(BUCKET_PREFIX, account, region),
        }
        Ok(())
    }

    /// A random name in the global namespace, and why.
    pub fn use_global_name(&mut self, why: String) -> Result<()> {
        self.bucket = generated_bucket_name()?;
        self.naming = Naming::Global(why);
        Ok(())
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
    let caller = if local.bucket.is_empty() {
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
    let earlier =
        first.err().and_then(|error| crate::exit::changes_of(&error).map(<[String]>::to_vec)).unwrap_or_default();
    let why = format!("the endpoint refused the account regional namespace ({})", refused.0);
    let mut fresh = Local::read(&local.env_path, None)?;
    fresh.use_global_name(why.clone())?;
    *local = fresh;
    let (mut report, _) = run_once(clients, options, local, caller).await.map_err(|error| {
        let mut changes = earlier.clone();
        changes.extend(crate::exit::changes_of(&error).map(<[String]>::to_vec).unwrap_or_default());
        after_changes(error, changes)
    })?;
    report.warnings.push(format!("{why}; used `{}` in the global namespace", local.bucket));
    if !earlier.is_empty() {
        report.warnings.push(format!("the first attempt had already made: {}", earlier.join("; ")));
    }
    report.key_is_new = report.key_is_new || earlier.iter().any(|change| change.starts_with("access key"));
    Ok(report)
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
    let apply = Apply {
        clients,
        options,
        account: &found.caller.account,
        rows: RefCell::new(Vec::new()),
        changes: RefCell::new(Vec::new()),
    };
    let result = apply.all(&found, local).await;
    let (rows, changes) = apply.finish();
    let new_key = result.map_err(|error| after_changes(error, changes))?;
    let log = &clients.log;
    let requests =
        Requests { total: log.operations().len(), mutating: log.mutating().len(), operations: log.operations() };
    let report = InitReport {
        ok: true,
        dry_run: options.dry_run,
        account: found.caller.account.clone(),
        caller_arn: found.caller.arn.clone(),
        key_is_new: new_key.is_some(),
        bucket: local.bucket.clone(),
        naming: local.naming.clone(),
        region: options.region.clone(),
        resources: rows,
        warnings: found.warnings,
        requests,
        verify: None,
        self_test_follows: false,
    };
    Ok((report, new_key))
}

/// What is already there, found with read-only calls. Every reason to stop is found
/// here, before anything changes.
struct Discovery {
    caller: Caller,
    user_exists: bool,
    /// The Active key of the user that the env file already holds, with its secret.
    keys: KeyPlan,
    /// The bucket's settings when the account already owns it in the right region.
    bucket: Option<bucket::Settings>,
    policy_arn: String,
    policy: Option<iam::PolicyState>,
    /// The policy document as `t3s3 policy` renders it, in compact JSON.
    document: String,
    /// The policy is attached to the user directly (the guide's way; migrated to the group).
    attached: bool,
    group: GroupFacts,
    /// The .env's key and secret when that key is kept: the migration checks it still works.
    app_key: Option<(String, String)>,
    warnings: Vec<String>,
}

/// The group as it is: whether it exists, holds the policy, has the user as a member.
#[derive(Debug, Default)]
struct GroupFacts {
    exists: bool,
    holds_policy: bool,
    has_member: bool,
}

/// The IAM user as it is: whether it exists, its keys, tags and attached policies, and
/// the broad S3 grants among its other policies.
#[derive(Debug, Default)]
struct UserFacts {
    exists: bool,
    keys: Vec<iam::KeyInfo>,
    tags: Vec<(String, String)>,
    attached: Vec<(String, String)>,
    broad: Vec<String>,
}

/// The user's keys, tags and attached policies, read at once; then its other policies'
/// documents. Nothing to read for a user that does not exist.
async fn user_details(clients: &ActingClients, user: &str, exists: bool, policy_arn: &str) -> Result<UserFacts> {
    if !exists {
        return Ok(UserFacts::default());
    }
    let iam_client = &clients.iam;
    let (keys, tags, attached) = tokio::join!(
        iam::list_keys(iam_client, user, false),
        iam::user_tags(iam_client, user),
        iam::attached_policies(iam_client, user),
    );
    let (keys, tags, attached) = (keys?, tags?, attached?);
    let broad = iam::broad_s3_grants(iam_client, user, &attached, policy_arn).await;
    Ok(UserFacts { exists: true, keys, tags, attached, broad })
}

/// The IAM side of discovery: the caller and the user at once, then the policy (its ARN
/// needs the account) and the user's details at once.
async fn discover_iam(
    clients: &ActingClients,
    options: &Options,
    known: Option<Caller>,
) -> Result<(Caller, UserFacts, String, Option<iam::PolicyState>, Option<iam::GroupContents>)> {
    let user = options.user.as_str();
    let caller = async {
        match known {
            Some(caller) => Ok(caller),
            None => sts::acting_caller(clients).await,
        }
    };
    let (caller, exists, group) =
        tokio::join!(caller, iam::user_exists(&clients.iam, user), iam::group_contents(&clients.iam, &options.group));
    let caller = caller?;
    let exists = exists?;
    let group = group?;
    if !exists && !options.create_user {
        return Err(Failure::bad_input(format!("IAM user `{user}` does not exist in account {}", caller.account))
            .hint("pass --create-user to create it, or --user NAME to use another existing user")
            .into());
    }
    let policy_arn = iam::policy_arn(iam::partition(&caller.arn), &caller.account, &options.policy_name);
    let (policy, facts) =
        tokio::join!(iam::find_policy(&clients.iam, &policy_arn), user_details(clients, user, exists, &policy_arn));
    let facts = facts?;
    Ok((caller, facts, policy_arn.clone(), policy?, group))
}

/// The IAM side and the bucket side at once. Reasons to stop are reported in a fixed
/// order: the credentials, the user, its keys, the bucket, the policy.
async fn discover(
    clients: &ActingClients,
    options: &Options,
    local: &Local,
    caller: Option<Caller>,
) -> Result<Discovery> {
    let user = options.user.as_str();
    let (iam_side, bucket) =
        tokio::join!(discover_iam(clients, options, caller), discover_bucket(clients, &local.bucket, &options.region));
    let (caller, facts, policy_arn, policy, group) = iam_side?;
    in_callers_namespace(&local.bucket, &caller, &options.region)?;
    let (keys, mut warnings) =
        if facts.exists { key_plan(clients, options, local, &facts).await? } else { (KeyPlan::default(), Vec::new()) };
    let bucket = bucket?;
    // Compact JSON: the same document as `t3s3 policy`, without layout white space.
    let document = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&policy::render(&local.bucket)?)?)?;
    let attached = facts.attached.iter().any(|(_, arn)| *arn == policy_arn);
    let group = group.map_or_else(GroupFacts::default, |contents| GroupFacts {
        exists: true,
        holds_policy: contents.policies.contains(&policy_arn),
        has_member: contents.members.iter().any(|member| member == user),
    });
    let app_key = keys.kept.as_ref().zip(local.existing(Key::SecretAccessKey)).map(|(id, secret)| (id.clone(), secret));
    let policy_name = &options.policy_name;
    warnings.extend(facts.broad.iter().map(|w| {
        format!("`{user}` holds {w}: the guide says not to (least privilege); detach it once {policy_name} works")
    }));
    Ok(Discovery {
        caller,
        user_exists: facts.exists,
        keys,
        bucket,
        policy_arn,
        policy,
        document,
        attached,
        group,
        app_key,
        warnings,
    })
}

/// A name of an account regional namespace belongs to one account and region: another's
/// cannot be created or used from here.
fn in_callers_namespace(bucket: &str, caller: &Caller, region: &str) -> Result<()> {
    let Some((_, account, its_region)) = bucket_name::account_regional_parts(bucket) else { return Ok(()) };
    if account != caller.account || its_region != region {
        return Err(Failure::bad_input(format!(
            "bucket `{bucket}` is in the account regional namespace of account {account} in {its_region}, but you act as account {} in {region}",
            caller.account
        ))
        .hint(format!("act as account {account} with --region {its_region}, or pass another --bucket"))
        .into());
    }
    Ok(())
}

/// What happens to the user's keys: the .env's key is kept when it is Active (with its
/// secret); keys an interrupted run created and never wrote are deleted with --yes.
#[derive(Debug, Default)]
struct KeyPlan {
    kept: Option<String>,
    orphans: Vec<String>,
    /// The kept key still carries the unwritten mark (a run stopped after writing it).
    kept_marked: bool,
    /// Every key of the user now.
    existing: Vec<String>,
}

/// With no key to keep, a new one is needed: both slots taken stops init, and so does a
/// key an interrupted run left (its secret is lost) unless --yes allows deleting it.
async fn key_plan(
    clients: &ActingClients,
    options: &Options,
    local: &Local,
    facts: &UserFacts,
) -> Result<(KeyPlan, Vec<String>)> {
    let user = options.user.as_str();
    let keys = &facts.keys;
    let env_key_id = local.existing(Key::AccessKeyId);
    let has_secret = local.existing(Key::SecretAccessKey).is_some();
    let kept =
        keys.iter().find(|k| Some(&k.id) == env_key_id.as_ref() && k.active() && has_secret).map(|k| k.id.clone());
    let existing: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    let unwritten = iam::unwritten_among(&facts.tags, &existing);
    let orphans: Vec<String> = unwritten.iter().filter(|id| Some(*id) != env_key_id.as_ref()).cloned().collect();
    let env = local.env_path.display();
    let mut warnings = Vec::new();
    if !orphans.is_empty() && !options.yes {
        let listing = orphans.join(", ");
        if kept.is_none() {
            return Err(Failure::bad_input(format!(
                "IAM user `{user}` holds access key {listing}, which an interrupted t3s3 run created and never wrote to {env} (its secret is lost); nothing was changed"
            ))
            .hint("run again with --yes to delete it (init then creates one key and writes it), or delete it yourself: `aws iam delete-access-key --user-name USER --access-key-id ID`")
            .into());
        }
        warnings.push(format!("`{user}` holds {listing}, created by an interrupted t3s3 run and never written anywhere: `t3s3 init --yes` deletes it"));
    }
    let orphans = if options.yes { orphans } else { Vec::new() };
    let kept_marked = kept.as_ref().is_some_and(|id| unwritten.contains(id));
    if kept.is_some() || keys.len() - orphans.len() < 2 {
        return Ok((KeyPlan { kept, orphans, kept_marked, existing }, warnings));
    }
    let mut detailed = facts.keys.clone();
    iam::add_last_used(&clients.iam, &mut detailed).await;
    let listing: Vec<String> = detailed.iter().map(|k| format!("  {}", k.describe())).collect();
    Err(Failure::bad_input(format!(
        "IAM user `{user}` already has 2 access keys, the most AWS allows, and {env} holds neither:\n{}",
        listing.join("\n")
    ))
    .hint(format!(
        "free a slot: deactivate, then delete a key nothing uses (IAM → Users → {user} → Security credentials, or `aws iam delete-access-key --user-name {user} --access-key-id ID`); or put the key the backend uses, with its secret, in {env} so init keeps it"
    ))
    .into())
}

/// The bucket's settings when the account owns it in `region`; `None` when it is missing.
async fn discover_bucket(clients: &ActingClients, name: &str, region: &str) -> Result<Option<bucket::Settings>> {
    match bucket::presence(&clients.s3_in("us-east-1"), name).await? {
        Presence::OtherOwner => {
            Err(Failure::bad_input(format!("the bucket name `{name}` belongs to another AWS account"))
                .hint(format!(
                    "bucket names are global across all AWS accounts; choose another, e.g. --bucket {}",
                    generated_bucket_name()?
                ))
                .into())
        }
        Presence::Ours { region: actual } if actual != region => {
            Err(Failure::bad_input(format!("your bucket `{name}` is in {actual}, not {region}"))
                .hint(format!("run again with --region {actual}"))
                .into())
        }
        Presence::Ours { .. } => Ok(Some(bucket::read_settings(&clients.s3_in(region), name).await?)),
        Presence::Missing => Ok(None),
    }
}

/// The order rows and changes are reported in, whatever order the work finished in.
const ROW_ORDER: [&str; 16] = [
    "bucket",
    "object_ownership",
    "public_access_block",
    "encryption",
    "versioning",
    "tls_only",
    "lifecycle",
    "user",
    "policy",
    "group",
    "attachment",
    "membership",
    "direct_attachment",
    "access_key",
    "env_file",
    "gitignore",
];

fn rank(resource: &str) -> usize {
    ROW_ORDER.iter().position(|r| *r == resource).unwrap_or(ROW_ORDER.len())
}

/// Makes each change (or, with --dry-run, only records it), keeps the summary rows and
/// a list of what was changed, for the summary of a failure. The S3 work and the IAM work
/// go out together; rows and changes are sorted into a fixed order at the end.
struct Apply<'a> {
    clients: &'a ActingClients,
    options: &'a Options,
    account: &'a str,
    rows: RefCell<Vec<Resource>>,
    /// (resource, what changed)
    changes: RefCell<Vec<(&'static str, String)>>,
}

impl Apply<'_> {
    /// Every step. .gitignore first: no secret is ever written to a file git would pick
    /// up. Then the bucket side and the IAM side at once; a key created while the other
    /// side failed is deleted again (nobody would hold its secret). Then the .env.
    async fn all(&self, found: &Discovery, local: &mut Local) -> Result<Option<iam::NewKey>> {
        self.gitignore(&local.env_path)?;
        let bucket_name = local.bucket.clone();
        let bucket_side = self.bucket(&bucket_name, found.bucket.as_ref());
        let iam_side = async {
            self.user(found.user_exists).await?;
            let (policy, key) = tokio::join!(self.policy(found, &bucket_name), self.key_and_env_file(found, local));
            policy?;
            key
        };
        let (bucket_side, iam_side) = tokio::join!(bucket_side, iam_side);
        bucket_side?;
        iam_side
    }

    /// The key (kept or created) and the .env that holds it; then, at once, the new key's
    /// description and the lifting of the creating mark. A key whose .env could not be
    /// written is deleted again.
    async fn key_and_env_file(&self, found: &Discovery, local: &mut Local) -> Result<Option<iam::NewKey>> {
        let new_key = self.access_key(&found.keys, !found.user_exists, &local.env_path).await?;
        if let Err(error) = self.env_file(local, new_key.as_ref()) {
            let error = error.context(format!("cannot write {}", local.env_path.display()));
            return Err(self.take_back(new_key, error).await);
        }
        if !self.options.dry_run {
            let (iam_client, user) = (&self.clients.iam, self.options.user.as_str());
            // The creating mark goes once the .env holds the key it was set for.
            let written = new_key.is_some() || found.keys.kept_marked;
            let describe = async {
                if let Some(key) = &new_key {
                    iam::describe_key(iam_client, user, &key.id).await;
                }
            };
            let unmark = async {
                if written {
                    iam::mark_written(iam_client, user).await;
                }
            };
            tokio::join!(describe, unmark);
        }
        Ok(new_key)
    }

    /// Deletes a key created in this run (no file holds its secret) and returns `error`,
    /// saying so.
    async fn take_back(&self, key: Option<iam::NewKey>, error: anyhow::Error) -> anyhow::Error {
        let Some(key) = key else { return error };
        if iam::delete_key(&self.clients.iam, &self.options.user, &key.id).await.is_ok() {
            self.changes.borrow_mut().retain(|(_, change)| !change.contains(&key.id));
            error.context(format!("the new access key {} was deleted again", key.id))
        } else {
            error
        }
    }

    /// The rows and the changes, in [`ROW_ORDER`].
    fn finish(self) -> (Vec<Resource>, Vec<String>) {
        let mut rows = self.rows.into_inner();
        rows.sort_by_key(|row| rank(row.resource));
        let mut changes = self.changes.into_inner();
        changes.sort_by_key(|(resource, _)| rank(resource));
        (rows, changes.into_iter().map(|(_, change)| change).collect())
    }

    fn row(&self, resource: &'static str, name: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.rows.borrow_mut().push(Resource { resource, name: name.into(), status, detail: detail.into() });
    }

    /// `unchanged` when nothing is needed, else created / updated (or would be).
    fn status(&self, needed: bool, create: bool) -> Status {
        if needed { Status::changed(self.options.dry_run, create) } else { Status::Unchanged }
    }

    fn changed(&self, resource: &'static str, what: String) {
        self.changes.borrow_mut().push((resource, what));
    }

    /// Makes sure git ignores the env file.
    fn gitignore(&self, env_path: &Path) -> Result<()> {
        let dry_run = self.options.dry_run;
        let repo = git::repo_root(env_path);
        let gitignore = repo.as_ref().map_or_else(|| PathBuf::from(".gitignore"), |root| root.join(".gitignore"));
        let existed = gitignore.exists();
        if let Some(rule) = repo.as_ref().and_then(|_| git::reincluded_elsewhere(env_path, &gitignore)) {
            return Err(Failure::bad_input(format!(
                "git does not ignore {} even with `.env` and `*.env` in {}: {rule} re-includes it",
                env_path.display(),
                gitignore.display()
            ))
            .hint(format!(
                "a `!` pattern re-includes it: make git ignore {}, then run `t3s3 init` again",
                env_path.display()
            ))
            .into());
        }
        let added = git::ensure_ignored(&gitignore, dry_run)?;
        if !added.is_empty() && !dry_run {
            self.changed("gitignore", format!("{} gained {}", gitignore.display(), added.join(", ")));
        }
        if repo.is_some() && !dry_run && !git::is_ignored(env_path) {
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
        self.row("gitignore", gitignore.display().to_string(), self.status(!added.is_empty(), !existed), detail);
        Ok(())
    }

    /// The bucket and its four settings: the settings' writes go out together, then they
    /// are read back (one round of reads at once).
    async fn bucket(&self, name: &str, current: Option<&bucket::Settings>) -> Result<()> {
        let (region, dry_run) = (self.options.region.as_str(), self.options.dry_run);
        let s3 = self.clients.s3_in(region);
        let create = current.is_none();
        if create && !dry_run {
            let created = bucket::create(&s3, name, region).await.map_err(|error| {
                let regional = bucket_name::account_regional_parts(name).is_some();
                if regional && matches!(error.status, Some(400 | 501)) {
                    anyhow::Error::new(NamespaceRefused(error.code_name())).context(error.to_string())
                } else {
                    error.into()
                }
            })?;
            if !created {
                return Err(Failure::bad_input(format!(
                    "the bucket name `{name}` was just taken by another AWS account"
                ))
                .hint("bucket names are global; run again with another --bucket")
                .into());
            }
            self.changed("bucket", format!("bucket `{name}` created in {region}"));
        }
        let namespace = match bucket_name::account_regional_parts(name) {
            Some(_) => "; account regional namespace (only this account can create the name)".to_string(),
            None => String::new(),
        };
        self.row("bucket", name, self.status(create, true), format!("in {region}{namespace}"));

        let before = current.cloned().unwrap_or_default();
        let needed = self.bucket_needs(name, create, &before);
        let changes = create || needed.iter().any(|(_, needed, _)| *needed);
        if !dry_run {
            let writes = needed.iter().filter(|(_, needed, _)| *needed).map(|(resource, _, what)| {
                let s3 = &s3;
                let before = &before;
                async move {
                    let result = self.write_setting(s3, name, resource, before).await;
                    if result.is_ok() {
                        self.changed(resource, what.clone());
                    }
                    result
                }
            });
            join_all(writes).await.into_iter().collect::<Result<Vec<()>>>()?;
        }
        // Read back what was written; versioning only when it was asked for.
        let versioning_known = (!self.options.versioning).then(|| before.versioning.clone());
        let after = if dry_run || !changes {
            before.clone()
        } else {
            bucket::read_settings_but_versioning(&s3, name, versioning_known).await?
        };
        self.bucket_rows(name, create, &before, &after);
        let wrong = if dry_run { Vec::new() } else { self.wrong_settings(name, &after) };
        if !wrong.is_empty() {
            return Err(Failure::check_failed(format!("bucket `{name}` settings did not stick: {}", wrong.join("; ")))
                .hint("check for an SCP or another tool reverting bucket settings, then run `t3s3 init` again")
                .into());
        }
        Ok(())
    }

    /// Each bucket setting: whether it needs writing, and the change it makes.
    fn bucket_needs(&self, name: &str, create: bool, before: &bucket::Settings) -> Vec<(&'static str, bool, String)> {
        // A new bucket already has ACLs disabled (ObjectOwnership on CreateBucket).
        vec![
            ("object_ownership", !before.acls_disabled() && !create, format!("ACLs disabled on `{name}`")),
            (
                "public_access_block",
                !before.all_public_access_blocked(),
                format!("Block Public Access turned on for `{name}`"),
            ),
            ("encryption", !before.encrypted(), format!("SSE-S3 default encryption set on `{name}`")),
            (
                "versioning",
                self.options.versioning && !before.versioning_enabled(),
                format!("versioning turned on for `{name}`"),
            ),
            (
                "tls_only",
                self.options.tls.required() && !policy::has_tls_statement(before.policy.as_deref(), name),
                format!("statement {} added to the bucket policy of `{name}`", policy::TLS_SID),
            ),
            (
                "lifecycle",
                !before.has_abort_rule(),
                format!("lifecycle rule {} set on `{name}`", bucket::ABORT_RULE_ID),
            ),
        ]
    }

    /// Writes one bucket setting; the bucket policy and the lifecycle rules are merged with
    /// what the bucket already has.
    async fn write_setting(
        &self,
        s3: &aws_sdk_s3::Client,
        name: &str,
        resource: &str,
        before: &bucket::Settings,
    ) -> Result<()> {
        match resource {
            "object_ownership" => bucket::disable_acls(s3, name).await?,
            "public_access_block" => bucket::block_public_access(s3, name).await?,
            "encryption" => bucket::encrypt_sse_s3(s3, name).await?,
            "versioning" => bucket::enable_versioning(s3, name).await?,
            "tls_only" => {
                let document = policy::with_tls_statement(before.policy.as_deref(), name).map_err(|error| {
                    Failure::check_failed(format!("the bucket policy of `{name}` cannot be merged: {error:#}"))
                        .hint("fix or delete the bucket policy, or pass --allow-http to leave it alone")
                })?;
                bucket::put_policy(s3, name, &document).await?
            }
            _ => bucket::put_lifecycle(s3, name, before.lifecycle_with_abort_rule()).await?,
        }
        Ok(())
    }

    fn bucket_rows(&self, name: &str, create: bool, before: &bucket::Settings, after: &bucket::Settings) {
        let fix_versioning = self.options.versioning && !before.versioning_enabled();
        let status = |needed: bool| self.status(needed, create);
        self.row("object_ownership", name, status(!before.acls_disabled()), "BucketOwnerEnforced (ACLs disabled)");
        self.row(
            "public_access_block",
            name,
            status(!before.all_public_access_blocked()),
            "all four Block Public Access flags on",
        );
        let encryption = match after.encryption.as_deref() {
            Some("AES256") | None => "SSE-S3 (AES256)".to_string(),
            Some(other) => format!("{other} (already stronger than SSE-S3; left as it is)"),
        };
        self.row("encryption", name, status(!before.encrypted()), encryption);
        let versioning_detail =
            match (self.options.versioning || before.versioning_enabled(), before.versioning.as_deref()) {
                (true, _) => "on",
                (false, Some("Suspended")) => "suspended",
                (false, _) => "off (pass --versioning to keep object history)",
            };
        self.row("versioning", name, status(fix_versioning), versioning_detail);
        let has_tls = policy::has_tls_statement(before.policy.as_deref(), name);
        let (tls_status, tls_detail) = match (&self.options.tls, has_tls) {
            (Tls::NotRequired(why), false) => (Status::Unchanged, format!("off ({why})")),
            (Tls::NotRequired(_), true) => {
                (Status::Unchanged, "the bucket policy already refuses HTTP (left as it is)".to_string())
            }
            (Tls::Required, _) => {
                let others = serde_json::from_str::<serde_json::Value>(after.policy.as_deref().unwrap_or("{}"))
                    .ok()
                    .and_then(|v| v["Statement"].as_array().map(|s| s.len()))
                    .unwrap_or(1)
                    .saturating_sub(1);
                let kept = if others > 0 { format!("; {others} other statement(s) kept") } else { String::new() };
                (status(!has_tls), format!("bucket policy denies every request without TLS{kept}"))
            }
        };
        self.row("tls_only", name, tls_status, tls_detail);
        let others = after.lifecycle.iter().filter(|r| r.id() != Some(bucket::ABORT_RULE_ID)).count();
        let kept = if others > 0 { format!("; {others} other rule(s) kept") } else { String::new() };
        let detail = format!("incomplete multipart uploads aborted after {} days{kept}", bucket::ABORT_AFTER_DAYS);
        self.row("lifecycle", name, status(!before.has_abort_rule()), detail);
    }

    /// The settings that read back wrong after the changes.
    fn wrong_settings(&self, name: &str, after: &bucket::Settings) -> Vec<String> {
        let mut wrong = Vec::new();
        if !after.acls_disabled() {
            wrong.push(format!("object ownership reads back as {:?}", after.ownership));
        }
        if !after.all_public_access_blocked() {
            wrong.push(format!("Block Public Access reads back as {:?}", after.public_access_block));
        }
        if !after.encrypted() {
            wrong.push(format!("default encryption reads back as {:?}", after.encryption));
        }
        if self.options.versioning && !after.versioning_enabled() {
            wrong.push(format!("versioning reads back as {:?}", after.versioning));
        }
        if self.options.tls.required() && !policy::has_tls_statement(after.policy.as_deref(), name) {
            wrong.push(format!("the bucket policy reads back without statement {}", policy::TLS_SID));
        }
        if !after.has_abort_rule() {
            wrong.push(format!("the lifecycle rules read back without {}", bucket::ABORT_RULE_ID));
        }
        wrong
    }

    async fn user(&self, exists: bool) -> Result<()> {
        let user = self.options.user.clone();
        if !exists && !self.options.dry_run {
            iam::create_user(&self.clients.iam, &user).await?;
            self.changed("user", format!("IAM user `{user}` created"));
        }
        self.row("user", user, self.status(!exists, true), format!("account {}", self.account));
        Ok(())
    }

    /// The policy (created, or a new default version when it drifted) and its attachment.
    async fn policy(&self, found: &Discovery, bucket: &str) -> Result<()> {
        let (name, dry_run) = (self.options.policy_name.clone(), self.options.dry_run);
        let iam_client = &self.clients.iam;
        match &found.policy {
            None => {
                let arn = if dry_run {
                    found.policy_arn.clone()
                } else {
                    let arn = iam::create_policy(iam_client, &name, &found.document, policy::DESCRIPTION).await?;
                    self.changed("policy", format!("policy {name} created"));
                    arn
                };
                self.row("policy", arn, self.status(true, true), format!("{name} v1"));
            }
            Some(state) if policy::same_document(&state.document, &found.document) => {
                let detail = format!("{name} {} (default)", state.default_version);
                self.row("policy", state.arn.clone(), Status::Unchanged, detail);
            }
            Some(state) if dry_run => {
                let pruned = match (state.version_count >= 5, state.older_versions.first()) {
                    (true, Some(oldest)) => format!(", deleting {oldest}"),
                    _ => String::new(),
                };
                let detail =
                    format!("new default version{pruned}: its document differs from `t3s3 policy --bucket {bucket}`");
                self.row("policy", state.arn.clone(), Status::WouldUpdate, detail);
            }
            Some(state) => {
                let (version, deleted) = iam::new_default_version(iam_client, state, &found.document).await?;
                self.changed("policy", format!("policy {name} {version} made the default"));
                let detail = match deleted {
                    Some(old) => format!("{name} {version} (default; drifted, deleted oldest version {old})"),
                    None => format!("{name} {version} (default; the old document had drifted)"),
                };
                self.row("policy", state.arn.clone(), Status::Updated, detail);
            }
        }
        self.through_group(found, bucket).await
    }

    /// The group holds the policy and the user is its member (CIS AWS 1.15). A policy the
    /// guide attached to the user directly is detached once the group gives the same access
    /// and the .env's key is seen to work, so access never lapses.
    async fn through_group(&self, found: &Discovery, bucket: &str) -> Result<()> {
        let (name, group, user) = (&self.options.policy_name, &self.options.group, &self.options.user);
        let (iam_client, dry_run, arn) = (&self.clients.iam, self.options.dry_run, found.policy_arn.as_str());
        let facts = &found.group;
        if !facts.exists && !dry_run {
            iam::create_group(iam_client, group).await?;
            self.changed("group", format!("IAM group `{group}` created"));
        }
        self.row(
            "group",
            group,
            self.status(!facts.exists, true),
            format!("holds {name}; the user gets it as a member"),
        );
        let attach = async {
            if !facts.holds_policy && !dry_run {
                iam::attach_to_group(iam_client, group, arn).await?;
                self.changed("attachment", format!("{name} attached to group `{group}`"));
            }
            Ok::<_, anyhow::Error>(())
        };
        let member = async {
            if !facts.has_member && !dry_run {
                iam::add_to_group(iam_client, group, user).await?;
                self.changed("membership", format!("`{user}` added to group `{group}`"));
            }
            Ok::<_, anyhow::Error>(())
        };
        let (attach, member) = tokio::join!(attach, member);
        attach?;
        member?;
        self.row("attachment", format!("{name} → group {group}"), self.status(!facts.holds_policy, true), "");
        self.row("membership", format!("{user} ∈ {group}"), self.status(!facts.has_member, true), "");
        if !found.attached {
            return Ok(());
        }
        if !dry_run {
            self.key_still_works(found, bucket).await?;
            iam::detach_from_user(iam_client, user, arn).await?;
            self.changed("direct_attachment", format!("{name} detached from `{user}` (held through `{group}`)"));
        }
        let detail = format!("detached: `{user}` holds it through group {group} (the key was checked first)");
        self.row("direct_attachment", format!("{name} → {user}"), Status::changed(dry_run, false), detail);
        Ok(())
    }

    /// Before the policy leaves the user: the .env's key reaches the bucket (GetBucketLocation,
    /// which the policy grants) with the group in place. A new key has nothing to check.
    async fn key_still_works(&self, found: &Discovery, bucket: &str) -> Result<()> {
        let Some((key_id, secret)) = &found.app_key else { return Ok(()) };
        let app = aws::AppCredentials {
            access_key_id: key_id.clone(),
            secret_access_key: secret.clone(),
            region: self.options.region.clone(),
            endpoint_url: self.clients.endpoint_url(),
            session_token: None,
        };
        let client = aws::app_s3_client(&app, aws::DEFAULT_TIMEOUT);
        bucket::region_of(&client, bucket).await.map_err(|error| {
            Failure::check_failed(format!(
                "the key {key_id} does not reach `{bucket}` through group `{}` ({}); {} stays attached to `{}`",
                self.options.group,
                error.code_name(),
                self.options.policy_name,
                self.options.user
            ))
            .hint("run `t3s3 init` again in a minute (IAM changes take a few seconds to apply)")
        })?;
        Ok(())
    }

    /// Deletes keys an interrupted run left (with --yes); keeps the env file's key when it
    /// is an Active key of the user, else creates one.
    async fn access_key(&self, plan: &KeyPlan, user_is_new: bool, env_path: &Path) -> Result<Option<iam::NewKey>> {
        let user = self.options.user.clone();
        for orphan in &plan.orphans {
            if !self.options.dry_run {
                iam::delete_key(&self.clients.iam, &user, orphan).await?;
                self.changed("access_key", format!("access key {orphan} (never written) deleted"));
            }
            let status = if self.options.dry_run { Status::WouldUpdate } else { Status::Updated };
            self.row("access_key", orphan.clone(), status, "deleted: an interrupted run created it and never wrote it");
        }
        match plan.kept.as_deref() {
            Some(id) => {
                let detail = format!("Active key of `{user}` already in {}", env_path.display());
                self.row("access_key", id, Status::Unchanged, detail);
                Ok(None)
            }
            None if self.options.dry_run => {
                self.row("access_key", format!("new key of `{user}`"), Status::WouldCreate, "");
                Ok(None)
            }
            None => {
                let remaining: Vec<String> =
                    plan.existing.iter().filter(|id| !plan.orphans.contains(id)).cloned().collect();
                let key = iam::create_key(&self.clients.iam, &user, &remaining, user_is_new).await?;
                self.changed("access_key", format!("access key {} created", key.id));
                self.row("access_key", key.id.clone(), Status::Created, "the secret goes only into the env file");
                Ok(Some(key))
            }
        }
    }

    /// Merges the settings into the env file and writes it atomically with mode 0600.
    fn env_file(&self, local: &mut Local, new_key: Option<&iam::NewKey>) -> Result<()> {
        let key_id = new_key.map(|k| k.id.clone()).or(local.existing(Key::AccessKeyId)).unwrap_or_default();
        let secret = new_key.map(|k| k.secret.clone()).or(local.existing(Key::SecretAccessKey)).unwrap_or_default();
        let endpoint = self.clients.endpoint_url();
        let mut updates =
            vec![(Key::Region.name(), self.options.region.as_str()), (Key::Bucket.name(), local.bucket.as_str())];
        // In a dry run without a key yet there is no key to write: the plan shows the rest.
        if !key_id.is_empty() {
            updates.splice(
                0..0,
                [(Key::AccessKeyId.name(), key_id.as_str()), (Key::SecretAccessKey.name(), secret.as_str())],
            );
        }
        if let Some(endpoint) = &endpoint {
            updates.push((Key::EndpointUrl.name(), endpoint.as_str()));
        }
        let path = local.env_path.clone();
        let existed = local.env.exists();
        let merged = local.env.merge(&updates);
        let loose_mode = existed && envfile::file_mode(&path).is_some_and(|mode| mode & 0o077 != 0);
        let needed = merged.changed() || loose_mode || !existed;
        if needed && !self.options.dry_run {
            local.env.write()?;
            self.changed("env_file", format!("{} written", path.display()));
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
