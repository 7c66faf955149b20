//! `t3s3 init`: create or converge the bucket, policy, access key and .env (guide sections 3-6),
//! looking before every change, then run `verify` with the result.

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
    let dry_run = args.dry_run;

    // Local inputs first: nothing here talks to AWS.
    let env_path = args.env_file.clone().unwrap_or_else(default_env_path);
    let folder = env_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(Failure::bad_input(format!("the folder of {} does not exist", env_path.display()))
            .hint("create it, or pass another path with --env-file")
            .into());
    }
    let mut env = EnvFile::read(&env_path)?;
    let (existing, _) = env.values();
    let existing_value = |key: &str| existing.get(key).map(|v| v.value.clone()).filter(|v| !v.is_empty());
    let bucket = match args.bucket.clone().or_else(|| existing_value("S3_BUCKET_NAME")) {
        Some(name) => name,
        None => generated_bucket_name()?,
    };
    bucket_name::validate(&bucket).map_err(|rule| Failure::bad_input(rule).hint("pass a valid name with --bucket"))?;
    if git::is_tracked(&env_path) {
        return Err(Failure::bad_input(format!("refusing to write secrets to {}: git tracks it", env_path.display()))
            .hint(format!(
                "run `git rm --cached {}` and commit, then run `t3s3 init` again (and rotate any key it held: it is in git history)",
                env_path.display()
            ))
            .into());
    }

    // Who is acting, and where.
    let mut target = Target {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let probe = aws::acting_clients(&target).await;
    let region = choose_region(probe.region(), existing_value("AWS_REGION"), args.yes)?;
    target.region = Some(region.clone());
    let clients = aws::acting_clients(&target).await;
    let aws::Caller { account, arn: caller_arn } = clients.caller().await?;
    printer.init_begin(&caller_arn, &account, &region, dry_run);

    // Read-only discovery: every reason to stop is found before anything changes.
    let user = args.user.as_str();
    let user_exists = iam::user_exists(&clients.iam, user).await?;
    if !user_exists && !args.create_user {
        return Err(Failure::bad_input(format!("IAM user `{user}` does not exist in account {account}"))
            .hint("pass --create-user to create it, or --user NAME to use another existing user")
            .into());
    }
    let keys = if user_exists { iam::list_keys(&clients.iam, user, false).await? } else { Vec::new() };
    let env_key_id = existing_value("AWS_ACCESS_KEY_ID");
    let env_secret = existing_value("AWS_SECRET_ACCESS_KEY");
    let kept_key = keys
        .iter()
        .find(|k| Some(&k.id) == env_key_id.as_ref() && k.active() && env_secret.is_some())
        .map(|k| k.id.clone());
    if kept_key.is_none() && keys.len() >= 2 {
        let detailed = iam::list_keys(&clients.iam, user, true).await?;
        let listing: Vec<String> = detailed.iter().map(|k| format!("  {}", k.describe())).collect();
        return Err(Failure::bad_input(format!(
            "IAM user `{user}` already has 2 access keys, the most AWS allows, and {} holds neither:\n{}",
            env_path.display(),
            listing.join("\n")
        ))
        .hint(format!(
            "free a slot: deactivate, then delete a key nothing uses (IAM → Users → {user} → Security credentials, or `aws iam delete-access-key --user-name {user} --access-key-id ID`); or put the key the backend uses, with its secret, in {} so init keeps it",
            env_path.display()
        ))
        .into());
    }

    let presence = bucket::presence(&clients.s3_in("us-east-1"), &bucket).await?;
    match &presence {
        Presence::OtherOwner => {
            return Err(Failure::bad_input(format!("the bucket name `{bucket}` belongs to another AWS account"))
                .hint(format!(
                    "bucket names are global across all AWS accounts; choose another, e.g. --bucket {}",
                    generated_bucket_name()?
                ))
                .into());
        }
        Presence::Ours { region: actual } if *actual != region => {
            return Err(Failure::bad_input(format!("your bucket `{bucket}` is in {actual}, not {region}"))
                .hint(format!("run again with --region {actual}"))
                .into());
        }
        _ => {}
    }
    let s3 = clients.s3_in(&region);
    let current = match presence {
        Presence::Ours { .. } => Some(bucket::read_settings(&s3, &bucket).await?),
        _ => None,
    };

    let partition = iam::partition(&caller_arn).to_string();
    let policy_arn = iam::policy_arn(&partition, &account, &args.policy_name);
    let policy_state = iam::find_policy(&clients.iam, &policy_arn).await?;
    // Compact JSON: the same document as `t3s3 policy`, without layout white space.
    let document = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&policy::render(&bucket)?)?)?;
    let attached = if user_exists { iam::attached_policies(&clients.iam, user).await? } else { Vec::new() };
    let mut warnings =
        if user_exists { iam::broad_s3_grants(&clients.iam, user, &attached, &policy_arn).await? } else { Vec::new() };
    warnings.iter_mut().for_each(|w| {
        *w = format!("`{user}` holds {w}: the guide says not to (least privilege); detach it once T3ChatS3Policy works")
    });

    // Apply, in order; with --dry-run, only record what would change.
    let mut resources = Vec::new();
    let mut row = |resource: &'static str, name: String, status: Status, detail: String| {
        resources.push(Resource { resource, name, status, detail })
    };

    // 1. Bucket and its settings.
    let created_bucket = current.is_none();
    if created_bucket && !dry_run && !bucket::create(&s3, &bucket, &region).await? {
        return Err(Failure::bad_input(format!("the bucket name `{bucket}` was just taken by another AWS account"))
            .hint("bucket names are global; run again with another --bucket")
            .into());
    }
    row(
        "bucket",
        bucket.clone(),
        if created_bucket { Status::changed(dry_run, true) } else { Status::Unchanged },
        format!("in {region}"),
    );
    let before = current.clone().unwrap_or_default();
    let fix_ownership = !before.acls_disabled();
    let fix_public = !before.all_public_access_blocked();
    let fix_encryption = !before.encrypted();
    let fix_versioning = args.versioning && !before.versioning_enabled();
    if !dry_run {
        // A new bucket already has ACLs disabled (ObjectOwnership on CreateBucket).
        if fix_ownership && !created_bucket {
            bucket::disable_acls(&s3, &bucket).await?;
        }
        if fix_public {
            bucket::block_public_access(&s3, &bucket).await?;
        }
        if fix_encryption {
            bucket::encrypt_sse_s3(&s3, &bucket).await?;
        }
        if fix_versioning {
            bucket::enable_versioning(&s3, &bucket).await?;
        }
    }
    let after = if dry_run || !(created_bucket || fix_ownership || fix_public || fix_encryption || fix_versioning) {
        None
    } else {
        Some(bucket::read_settings(&s3, &bucket).await?)
    };
    let setting_status = |fix: bool| if fix { Status::changed(dry_run, created_bucket) } else { Status::Unchanged };
    let readback = after.as_ref().unwrap_or(&before);
    let mut wrong = Vec::new();
    if after.is_some() {
        if !readback.acls_disabled() {
            wrong.push(format!("object ownership reads back as {:?}", readback.ownership));
        }
        if !readback.all_public_access_blocked() {
            wrong.push(format!("Block Public Access reads back as {:?}", readback.public_access_block));
        }
        if !readback.encrypted() {
            wrong.push(format!("default encryption reads back as {:?}", readback.encryption));
        }
        if args.versioning && !readback.versioning_enabled() {
            wrong.push(format!("versioning reads back as {:?}", readback.versioning));
        }
    }
    row(
        "object_ownership",
        bucket.clone(),
        setting_status(fix_ownership),
        "BucketOwnerEnforced (ACLs disabled)".into(),
    );
    row(
        "public_access_block",
        bucket.clone(),
        setting_status(fix_public),
        "all four Block Public Access flags on".into(),
    );
    let encryption = match readback.encryption.as_deref() {
        Some("AES256") | None => "SSE-S3 (AES256)".to_string(),
        Some(other) => format!("{other} (already stronger than SSE-S3; left as it is)"),
    };
    row("encryption", bucket.clone(), setting_status(fix_encryption), encryption);
    let versioning = if args.versioning || before.versioning_enabled() {
        "on".to_string()
    } else {
        match before.versioning.as_deref() {
            Some("Suspended") => "suspended".into(),
            _ => "off (pass --versioning to keep object history)".into(),
        }
    };
    row("versioning", bucket.clone(), setting_status(fix_versioning), versioning);
    if !wrong.is_empty() {
        return Err(Failure::check_failed(format!("bucket `{bucket}` settings did not stick: {}", wrong.join("; ")))
            .hint("check for an SCP or another tool reverting bucket settings, then run `t3s3 init` again")
            .into());
    }

    // 2. User.
    if !user_exists && !dry_run {
        iam::create_user(&clients.iam, user).await?;
    }
    row(
        "user",
        user.to_string(),
        if user_exists { Status::Unchanged } else { Status::changed(dry_run, true) },
        format!("account {account}"),
    );

    // 3. Policy and attachment.
    match &policy_state {
        None => {
            let arn = if dry_run {
                policy_arn.clone()
            } else {
                iam::create_policy(&clients.iam, &args.policy_name, &document, policy::DESCRIPTION).await?
            };
            row("policy", arn, Status::changed(dry_run, true), format!("{} v1", args.policy_name));
        }
        Some(state) if policy::same_document(&state.document, &document) => {
            row(
                "policy",
                state.arn.clone(),
                Status::Unchanged,
                format!("{} {} (default)", args.policy_name, state.default_version),
            );
        }
        Some(state) => {
            let detail = if dry_run {
                let pruned = if state.version_count >= 5 {
                    format!(", deleting {}", state.older_versions.first().cloned().unwrap_or_default())
                } else {
                    String::new()
                };
                format!("new default version{pruned}: its document differs from `t3s3 policy --bucket {bucket}`")
            } else {
                let (version, deleted) = iam::new_default_version(&clients.iam, state, &document).await?;
                match deleted {
                    Some(old) => {
                        format!("{} {version} (default; drifted, deleted oldest version {old})", args.policy_name)
                    }
                    None => format!("{} {version} (default; the old document had drifted)", args.policy_name),
                }
            };
            row("policy", state.arn.clone(), Status::changed(dry_run, false), detail);
        }
    }
    let is_attached = attached.iter().any(|(_, arn)| *arn == policy_arn);
    if !is_attached && !dry_run {
        iam::attach(&clients.iam, user, &policy_arn).await?;
    }
    row(
        "attachment",
        format!("{} → {user}", args.policy_name),
        if is_attached { Status::Unchanged } else { Status::changed(dry_run, true) },
        String::new(),
    );

    // 4. Access key.
    let new_key = match (&kept_key, dry_run) {
        (Some(_), _) | (None, true) => None,
        (None, false) => Some(iam::create_key(&clients.iam, user).await?),
    };
    match (&kept_key, &new_key) {
        (Some(id), _) => row(
            "access_key",
            id.clone(),
            Status::Unchanged,
            format!("Active key of `{user}` already in {}", env_path.display()),
        ),
        (None, Some(key)) => {
            row("access_key", key.id.clone(), Status::Created, "the secret goes only into the env file".into())
        }
        (None, None) => row("access_key", format!("new key of `{user}`"), Status::WouldCreate, String::new()),
    }

    // 5. The env file, then .gitignore.
    let key_id = new_key.as_ref().map(|k| k.id.clone()).or(kept_key.clone()).unwrap_or_else(|| "NEW_KEY_ID".into());
    let secret =
        new_key.as_ref().map(|k| k.secret.clone()).or(env_secret.clone()).unwrap_or_else(|| "NEW_SECRET".into());
    let endpoint = clients.endpoint_url();
    let mut updates = vec![
        ("AWS_ACCESS_KEY_ID", key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ("AWS_REGION", region.as_str()),
        ("S3_BUCKET_NAME", bucket.as_str()),
    ];
    if let Some(endpoint) = &endpoint {
        updates.push(("AWS_ENDPOINT_URL", endpoint.as_str()));
    }
    let existed = env.exists();
    let merged = env.merge(&updates);
    let loose_mode = existed && file_mode(&env_path).is_some_and(|mode| mode & 0o077 != 0);
    if (merged.changed() || loose_mode || !existed) && !dry_run {
        if let Err(error) = env.write() {
            if let Some(key) = &new_key {
                // Nobody would hold this secret: take the key back before reporting.
                let _ = iam::delete_key(&clients.iam, user, &key.id).await;
            }
            return Err(
                error.context(format!("cannot write {} (the new access key was deleted again)", env_path.display()))
            );
        }
    }
    let env_detail = match (merged.added.is_empty(), merged.updated.is_empty()) {
        (true, true) if loose_mode => "mode set to 0600".to_string(),
        (true, true) => "already up to date (mode 0600)".to_string(),
        _ => {
            let mut parts = Vec::new();
            if !merged.added.is_empty() {
                parts.push(format!("added {}", merged.added.join(", ")));
            }
            if !merged.updated.is_empty() {
                parts.push(format!("updated {}", merged.updated.join(", ")));
            }
            format!("{}; other lines kept; mode 0600", parts.join("; "))
        }
    };
    let env_status = if !existed {
        Status::changed(dry_run, true)
    } else if merged.changed() || loose_mode {
        Status::changed(dry_run, false)
    } else {
        Status::Unchanged
    };
    row("env_file", env_path.display().to_string(), env_status, env_detail);

    let repo = git::repo_root(&env_path);
    let gitignore = repo.as_ref().map_or_else(|| PathBuf::from(".gitignore"), |root| root.join(".gitignore"));
    let gitignore_existed = gitignore.exists();
    let added = git::ensure_ignored(&gitignore, dry_run)?;
    let ignored = repo.is_none() || dry_run || git::is_ignored(&env_path);
    if !ignored {
        return Err(Failure::check_failed(format!(
            "git does not ignore {} even with `.env` and `*.env` in {}",
            env_path.display(),
            gitignore.display()
        ))
        .hint(format!(
            "add a line for {} to {} (a `!` pattern may re-include it)",
            env_path.display(),
            gitignore.display()
        ))
        .into());
    }
    let ignore_detail = match (&repo, added.is_empty()) {
        (Some(_), true) => format!("has .env and *.env; git ignores {}", env_path.display()),
        (Some(_), false) => format!("added {}; git ignores {}", added.join(", "), env_path.display()),
        (None, true) => "has .env and *.env (not a git repository)".into(),
        (None, false) => format!("added {} (not a git repository)", added.join(", ")),
    };
    let ignore_status = if added.is_empty() { Status::Unchanged } else { Status::changed(dry_run, !gitignore_existed) };
    row("gitignore", gitignore.display().to_string(), ignore_status, ignore_detail);

    let requests = Requests {
        total: clients.log.operations().len(),
        mutating: clients.log.mutating().len(),
        operations: clients.log.operations(),
    };
    let mut report = InitReport {
        ok: true,
        dry_run,
        account,
        caller_arn,
        bucket,
        region,
        resources,
        warnings,
        requests,
        verify: None,
    };
    printer.init_summary(&report);

    // 6. Verify with what was written, exactly as the backend will read it.
    if !dry_run && !args.no_verify {
        let settings = AppSettings::from_file(&env_path)?;
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
