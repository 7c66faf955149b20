//! `doctor`'s work: a read-only audit of the guide's security practices, check by check, each
//! with its evidence and the exact fix. Every check id comes from [`CheckId`]; one that a run
//! cannot reach is reported SKIPPED with the reason, never left out.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::aws::{self, ActingClients, AppCredentials, Target};
use crate::aws_error::AwsError;
use crate::backend;
use crate::bucket;
use crate::bucket_name;
use crate::diagnose;
use crate::envfile::{self, Severity};
use crate::git;
use crate::iam;
use crate::keys::Key;
use crate::outln;
use crate::policy;
use crate::settings::AppSettings;
use crate::sts;
use crate::ui::{Render, style};

/// The free tier's S3 Standard storage, as the guide states it.
pub const FREE_TIER_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// The guide rotates keys every 90 days; warn ten days before.
pub const KEY_MAX_DAYS: u64 = 90;
pub const KEY_WARN_DAYS: u64 = 80;

/// Declares the check ids once: the enum, the list of all of them in report order, and
/// each id's name in the output.
macro_rules! check_ids {
    ($($id:ident => $name:literal,)*) => {
        /// One check of the audit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
        pub enum CheckId {
            $(#[serde(rename = $name)] $id,)*
        }

        impl CheckId {
            /// Every check, in the order the report lists them.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$id,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$id => $name,)*
                }
            }
        }
    };
}

check_ids! {
    EnvExists => "env_exists",
    EnvLint => "env_lint",
    EnvMode => "env_mode",
    EnvIgnored => "env_ignored",
    EnvUntracked => "env_untracked",
    EnvNeverCommitted => "env_never_committed",
    GitignorePatterns => "gitignore_patterns",
    EnvTempFiles => "env_temp_files",
    BackendPython => "backend_python",
    Boto3Installed => "boto3_installed",
    Boto3Declared => "boto3_declared",
    Boto3EndpointEnv => "boto3_endpoint_env",
    AppIdentity => "app_identity",
    BucketNamespace => "bucket_namespace",
    BucketRegion => "bucket_region",
    BucketReachable => "bucket_reachable",
    KeyAge => "key_age",
    UnwrittenKeys => "unwritten_keys",
    BroadS3Access => "broad_s3_access",
    PolicyDrift => "policy_drift",
    PolicyViaGroup => "policy_via_group",
    CiRoleTrust => "ci_role_trust",
    PublicAccessBlock => "public_access_block",
    AclsDisabled => "acls_disabled",
    DefaultEncryption => "default_encryption",
    TlsOnly => "tls_only",
    IncompleteUploadsAborted => "incomplete_uploads_aborted",
    BucketPolicyPublic => "bucket_policy_public",
    RootMfa => "root_mfa",
    Storage => "storage",
    AccessLogging => "access_logging",
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    Skipped,
    Info,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skipped => "SKIPPED",
            CheckStatus::Info => "INFO",
        }
    }
}

impl CheckId {
    /// The prowler checks (`prowler aws --service s3 iam`) this check corresponds to, so
    /// the two reports can be matched.
    pub fn prowler(self) -> &'static [&'static str] {
        match self {
            CheckId::PublicAccessBlock => &["s3_bucket_level_public_access_block"],
            CheckId::AclsDisabled => &["s3_bucket_acl_prohibited"],
            CheckId::DefaultEncryption => &["s3_bucket_default_encryption"],
            CheckId::TlsOnly => &["s3_bucket_secure_transport_policy"],
            CheckId::IncompleteUploadsAborted => &["s3_bucket_lifecycle_enabled"],
            CheckId::BucketPolicyPublic => &["s3_bucket_public_access", "s3_bucket_policy_public_write_access"],
            CheckId::AccessLogging => &["s3_bucket_server_access_logging_enabled"],
            CheckId::RootMfa => &["iam_root_mfa_enabled"],
            CheckId::KeyAge => &["iam_rotate_access_key_90_days"],
            CheckId::PolicyViaGroup => &["iam_policy_attached_only_to_group_or_roles"],
            _ => &[],
        }
    }
}

/// One finding: what was checked, what was seen, and what to do. In JSON it also names
/// the prowler checks it corresponds to.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: CheckId,
    pub status: CheckStatus,
    pub evidence: String,
    pub fix: String,
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let prowler = self.id.prowler();
        let mut out = serializer.serialize_struct("Check", 5)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("status", &self.status)?;
        out.serialize_field("evidence", &self.evidence)?;
        out.serialize_field("fix", &self.fix)?;
        if !prowler.is_empty() {
            out.serialize_field("prowler", prowler)?;
        }
        out.end()
    }
}

/// The whole audit: `ok` is false when any check FAILs.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Render for DoctorReport {
    fn text(&self, out: &mut String) {
        for check in &self.checks {
            let label = format!("{:<7}", check.status.label());
            let label = match check.status {
                CheckStatus::Pass => style::ok(&label),
                CheckStatus::Warn => style::warn(&label),
                CheckStatus::Fail => style::fail(&label),
                CheckStatus::Skipped | CheckStatus::Info => style::note(&label),
            };
            outln!(out, "{label} {:<22} {}", check.id.as_str(), check.evidence);
            if !check.fix.is_empty() && check.status != CheckStatus::Pass {
                outln!(out, "        {:<22} {} {}", "", style::note("fix:"), check.fix);
            }
        }
        let count = |status: CheckStatus| self.checks.iter().filter(|c| c.status == status).count();
        outln!(
            out,
            "\nSummary: {} PASS, {} WARN, {} FAIL, {} SKIPPED, {} INFO",
            count(CheckStatus::Pass),
            count(CheckStatus::Warn),
            count(CheckStatus::Fail),
            count(CheckStatus::Skipped),
            count(CheckStatus::Info)
        );
    }
}

/// The rotation rule: WARN past 80 days, FAIL past 90.
pub fn key_age_status(days: u64) -> CheckStatus {
    if days > KEY_MAX_DAYS {
        CheckStatus::Fail
    } else if days > KEY_WARN_DAYS {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    }
}

/// The findings so far (checks that run at once add to it in any order; the report is
/// sorted into [`CheckId::ALL`] order at the end).
#[derive(Default)]
struct Audit {
    checks: RefCell<Vec<Check>>,
}

impl Audit {
    fn add(&self, id: CheckId, status: CheckStatus, evidence: impl Into<String>, fix: impl Into<String>) {
        self.checks.borrow_mut().push(Check { id, status, evidence: evidence.into(), fix: fix.into() });
    }

    fn skip(&self, ids: &[CheckId], reason: &str) {
        for id in ids {
            self.add(*id, CheckStatus::Skipped, reason, "");
        }
    }

    /// Takes in the findings of another audit.
    fn absorb(&self, other: Audit) {
        self.checks.borrow_mut().extend(other.checks.into_inner());
    }

    /// Every check not reached is SKIPPED with `reason`; the report is in [`CheckId::ALL`] order.
    fn finish(self, reason: &str) -> DoctorReport {
        for id in CheckId::ALL {
            if !self.checks.borrow().iter().any(|c| c.id == *id) {
                self.add(*id, CheckStatus::Skipped, reason, "");
            }
        }
        let mut checks = self.checks.into_inner();
        checks.sort_by_key(|c| c.id);
        DoctorReport { ok: !checks.iter().any(|c| c.status == CheckStatus::Fail), checks }
    }
}

/// What the audit looks at.
#[derive(Debug, Clone)]
pub struct Options {
    /// The .env files to look for, in order; the first that exists is audited.
    pub env_candidates: Vec<PathBuf>,
    pub policy_name: String,
    /// The role `ci-role` makes, whose trust policy is checked.
    pub ci_role: String,
    /// The backend's folder (default: the one holding the .env) and interpreter.
    pub backend_dir: Option<PathBuf>,
    pub python: Option<PathBuf>,
}

/// Runs every check; only a bad argument is an error, everything else is a finding.
/// The acting clients go where `explicit` says, else where the .env's backend looks.
/// Checks that only read go out together: the backend key's three, the acting caller and
/// every check that needs no user; then the user's keys and policies.
pub async fn run(options: &Options, explicit: &Target) -> Result<DoctorReport> {
    let audit = Audit::default();
    let Some(env_path) = options.env_candidates.iter().find(|p| p.is_file()).cloned() else {
        let tried = options.env_candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        audit.add(
            CheckId::EnvExists,
            CheckStatus::Fail,
            format!("no .env file (looked for {tried})"),
            "run `t3s3 init`, or pass --env-file PATH",
        );
        account_checks(&audit, options, explicit).await;
        return Ok(audit.finish("no .env file to audit"));
    };
    let shown = env_path.display().to_string();
    audit.add(CheckId::EnvExists, CheckStatus::Pass, format!("{shown} exists"), "");
    let settings = AppSettings::from_file(&env_path)?;
    local_checks(&audit, &env_path, &settings);
    namespace_check(&audit, settings.bucket());
    let python = python_checks(&audit, options, &env_path, &settings);

    let Some(app) = settings.app_credentials() else {
        python.await;
        return Ok(audit.finish(&format!("{shown} does not set {}", settings.missing().join(", "))));
    };
    // What an administrator can see: the acting credentials of the standard chain. Their
    // findings count only when the caller is known.
    let clients = aws::acting_clients(&super::acting_target(explicit, &settings)).await?;
    let acting = Audit::default();
    let scope = Scope {
        clients: &clients,
        key_id: &app.access_key_id,
        bucket: settings.bucket(),
        policy_name: &options.policy_name,
    };
    let s3 = clients.s3_in(settings.region());
    let (app_user, (), caller, key_user, ..) = tokio::join!(
        app_checks(&audit, &app, &settings, &options.policy_name),
        python,
        sts::acting_caller(&clients),
        iam::user_of_key(&clients.iam, &app.access_key_id),
        scope.bucket_settings(&acting, &s3),
        scope.bucket_policy(&acting, &s3),
        scope.root_mfa(&acting),
        scope.ci_role_trust(&acting, &options.ci_role),
        scope.storage(&acting, &s3),
        scope.access_logging(&acting, &s3),
    );
    let caller = match caller {
        Ok(caller) => caller,
        Err(error) => {
            let reason = diagnose::explain(&error).message;
            let reason = format!("no usable acting credentials ({reason}); pass --profile NAME of an administrator");
            return Ok(audit.finish(&reason));
        }
    };
    let policy_arn = iam::policy_arn(iam::partition(&caller.arn), &caller.account, &options.policy_name);
    match app_user.or(key_user.ok().flatten()) {
        Some(user) => {
            tokio::join!(scope.key_age(&acting, &user), scope.user_policies(&acting, &user, &policy_arn));
        }
        None => acting.skip(
            &[
                CheckId::KeyAge,
                CheckId::UnwrittenKeys,
                CheckId::BroadS3Access,
                CheckId::PolicyDrift,
                CheckId::PolicyViaGroup,
            ],
            "the key's IAM user is unknown (the key was refused)",
        ),
    }
    audit.absorb(acting);
    Ok(audit.finish("not reached"))
}

/// What is account-wide needs no .env: the root's MFA and the CI role's trust, when acting
/// credentials are at hand.
async fn account_checks(audit: &Audit, options: &Options, explicit: &Target) {
    let Ok(clients) = aws::acting_clients(explicit).await else { return };
    if sts::acting_caller(&clients).await.is_err() {
        return;
    }
    let scope = Scope { clients: &clients, key_id: "", bucket: "", policy_name: &options.policy_name };
    tokio::join!(scope.root_mfa(audit), scope.ci_role_trust(audit, &options.ci_role));
}

/// The .env itself, and what git knows about it.
fn local_checks(audit: &Audit, env_path: &Path, settings: &AppSettings) {
    let shown = env_path.display().to_string();
    let mut errors: Vec<String> =
        settings.lint_errors().iter().map(|i| format!("line {}: {}", i.line, i.message)).collect();
    errors.extend(super::selftest::session_token_problem(settings));
    let warnings: Vec<String> = settings
        .lint
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .map(|i| format!("line {}: {}", i.line, i.message))
        .collect();
    let missing = settings.missing();
    if !errors.is_empty() || !missing.is_empty() {
        let broken_lines = !errors.is_empty();
        let mut evidence = errors;
        if !missing.is_empty() {
            evidence.push(format!("missing {}", missing.join(", ")));
        }
        // Settings that are missing altogether are init's to write; broken lines are the user's.
        let fix = if !broken_lines {
            format!("run `t3s3 init` to add them to {shown}")
        } else {
            format!("fix those lines in {shown}: KEY=value, no spaces, no quotes")
        };
        audit.add(CheckId::EnvLint, CheckStatus::Fail, evidence.join("; "), fix);
    } else if !warnings.is_empty() {
        audit.add(CheckId::EnvLint, CheckStatus::Warn, warnings.join("; "), format!("tidy those lines in {shown}"));
    } else {
        audit.add(CheckId::EnvLint, CheckStatus::Pass, "parses; the four settings are set and well formed", "");
    }

    match envfile::file_mode(env_path) {
        None if cfg!(unix) => audit.skip(&[CheckId::EnvMode], &format!("cannot read the mode of {shown}")),
        None => audit.skip(&[CheckId::EnvMode], "file modes are a Unix notion; the folder's ACL protects it here"),
        Some(mode) if mode & 0o077 == 0 => {
            audit.add(CheckId::EnvMode, CheckStatus::Pass, format!("mode {mode:04o}"), "")
        }
        Some(mode) => audit.add(
            CheckId::EnvMode,
            CheckStatus::Fail,
            format!("mode {mode:04o}: other users can read the secret"),
            format!("chmod 600 {shown}"),
        ),
    }
    if git::repo_root(env_path).is_none() {
        let in_git = [CheckId::EnvIgnored, CheckId::EnvUntracked, CheckId::EnvNeverCommitted];
        audit.skip(&in_git, "not in a git repository");
    } else {
        git_checks(audit, env_path, settings);
    }
    temp_files_check(audit, env_path);
    let root = git::repo_root(env_path).unwrap_or_else(|| PathBuf::from("."));
    let gitignore = root.join(".gitignore");
    let missing = git::missing_patterns(&gitignore);
    if missing.is_empty() {
        let evidence = format!("{} has .env and *.env", gitignore.display());
        audit.add(CheckId::GitignorePatterns, CheckStatus::Pass, evidence, "");
    } else {
        audit.add(
            CheckId::GitignorePatterns,
            CheckStatus::Warn,
            format!("{} lacks {}", gitignore.display(), missing.join(", ")),
            format!("add {} to {}", missing.join(" and "), gitignore.display()),
        );
    }
}

/// Guide section 7: the backend's interpreter, boto3 in it and in its dependency files, and
/// a botocore that reads the .env's AWS_ENDPOINT_URL.
async fn python_checks(audit: &Audit, options: &Options, env_path: &Path, settings: &AppSettings) {
    let dir = backend::backend_dir(options.backend_dir.as_deref(), Some(env_path));
    let later = [CheckId::Boto3Installed, CheckId::Boto3EndpointEnv];
    let named = options.backend_dir.is_some() || options.python.is_some();
    if !named && !backend::has_python_code(&dir) {
        let all = [CheckId::BackendPython, CheckId::Boto3Installed, CheckId::Boto3Declared, CheckId::Boto3EndpointEnv];
        let reason =
            format!("no backend code in {} (no config.py, venv or dependency file); pass --backend DIR", dir.display());
        audit.skip(&all, &reason);
        return;
    }
    let found = backend::find_python(&dir, options.python.as_deref());
    let facts = match &found {
        Ok((python, _)) => backend::probe(python, &dir, backend::PROBE_LIMIT).await.map_err(|f| f.message),
        Err(failure) => Err(failure.message.clone()),
    };
    declared_check(audit, &dir, env_path);
    let ((python, how), facts) = match (found, facts) {
        (Ok(found), Ok(facts)) => (found, facts),
        (_, facts) => {
            let why = facts.err().unwrap_or_default();
            audit.add(
                CheckId::BackendPython,
                CheckStatus::Fail,
                why,
                format!(
                    "create the backend's venv (`python3 -m venv {}`) or pass --python PATH",
                    dir.join("venv").display()
                ),
            );
            audit.skip(&later, "no working interpreter for the backend");
            return;
        }
    };
    let evidence = format!("{} ({how}): Python {}", python.display(), facts.python);
    audit.add(CheckId::BackendPython, CheckStatus::Pass, evidence, "");
    let Some(botocore) = facts.botocore.as_deref().filter(|_| facts.boto3.is_some()) else {
        audit.add(
            CheckId::Boto3Installed,
            CheckStatus::Fail,
            format!("{} cannot import boto3", python.display()),
            format!("{} -m pip install boto3", python.display()),
        );
        audit.skip(&[CheckId::Boto3EndpointEnv], "boto3 is not installed");
        return;
    };
    let boto3 = facts.boto3.clone().unwrap_or_default();
    audit.add(CheckId::Boto3Installed, CheckStatus::Pass, format!("boto3 {boto3}, botocore {botocore}"), "");
    match settings.get(Key::EndpointUrl) {
        None => audit.skip(&[CheckId::Boto3EndpointEnv], "the .env sets no AWS_ENDPOINT_URL"),
        Some(_) if backend::honours_endpoint_env(botocore) => audit.add(
            CheckId::Boto3EndpointEnv,
            CheckStatus::Pass,
            format!("botocore {botocore} reads AWS_ENDPOINT_URL from the environment"),
            "",
        ),
        Some(_) => audit.add(
            CheckId::Boto3EndpointEnv,
            CheckStatus::Warn,
            format!(
                "the .env sets AWS_ENDPOINT_URL, but botocore {botocore} ignores it in the environment (read from {}.{})",
                backend::ENDPOINT_ENV_BOTOCORE.0,
                backend::ENDPOINT_ENV_BOTOCORE.1
            ),
            format!("{} -m pip install --upgrade 'boto3>=1.28' (botocore 1.31+), or pass endpoint_url= to boto3.client", python.display()),
        ),
    }
}

/// boto3 in the backend's dependency files (its folder's, the project root's).
fn declared_check(audit: &Audit, dir: &Path, env_path: &Path) {
    let mut roots = vec![dir.to_path_buf()];
    roots.extend(git::repo_root(env_path));
    let declared = backend::declared_dependencies(&roots);
    match (&declared.boto3_in, declared.files.is_empty()) {
        (Some(file), _) => {
            audit.add(CheckId::Boto3Declared, CheckStatus::Pass, format!("boto3 is in {}", file.display()), "")
        }
        (None, true) => audit.add(
            CheckId::Boto3Declared,
            CheckStatus::Warn,
            format!("no requirements*.txt, pyproject.toml or Pipfile in {}", dir.display()),
            format!(
                "declare boto3 where the backend's dependencies live, e.g. `echo boto3 >> {}`",
                dir.join("requirements.txt").display()
            ),
        ),
        (None, false) => audit.add(
            CheckId::Boto3Declared,
            CheckStatus::Warn,
            format!(
                "boto3 is not in {}",
                declared.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            format!("add boto3 to {} so every install of the backend gets it", declared.files[0].display()),
        ),
    }
}

/// The bucket settings a security review asks for beyond the guide: TLS only, and
/// incomplete multipart uploads aborted. WARN, not FAIL: the guide's setup lacks them.
fn beyond_the_guide(audit: &Audit, bucket: &str, found: &bucket::Settings, endpoint: Option<&str>) {
    if policy::denies_insecure_transport(found.policy.as_deref()) {
        audit.add(CheckId::TlsOnly, CheckStatus::Pass, "the bucket policy denies every request without TLS", "");
    } else if let Some(url) = endpoint.filter(|url| url.starts_with("http://")) {
        audit.skip(
            &[CheckId::TlsOnly],
            &format!("the endpoint {url} is plain HTTP (an emulator): TLS cannot be required"),
        );
    } else {
        audit.add(
            CheckId::TlsOnly,
            CheckStatus::Warn,
            "no bucket-policy statement denies requests without TLS (aws:SecureTransport false)",
            format!("`t3s3 init --bucket {bucket}` adds statement {} (other statements kept)", policy::TLS_SID),
        );
    }
    match found.aborts_incomplete_uploads_after() {
        Some(days) => audit.add(
            CheckId::IncompleteUploadsAborted,
            CheckStatus::Pass,
            format!("a lifecycle rule aborts incomplete multipart uploads after {days} days"),
            "",
        ),
        None => audit.add(
            CheckId::IncompleteUploadsAborted,
            CheckStatus::Warn,
            "no lifecycle rule aborts incomplete multipart uploads: abandoned parts are billed and never listed",
            format!(
                "`t3s3 init --bucket {bucket}` adds rule {} ({} days; other rules kept)",
                bucket::ABORT_RULE_ID,
                bucket::ABORT_AFTER_DAYS
            ),
        ),
    }
}

/// Policies reach the user through a group, never attached to it directly (CIS AWS 1.15).
fn via_group_check(audit: &Audit, user: &str, direct: &[(String, String)], bucket: &str) {
    if direct.is_empty() {
        let evidence = format!("`{user}` holds no managed policy directly (only through groups)");
        return audit.add(CheckId::PolicyViaGroup, CheckStatus::Pass, evidence, "");
    }
    let names: Vec<&str> = direct.iter().map(|(name, _)| name.as_str()).collect();
    audit.add(
        CheckId::PolicyViaGroup,
        CheckStatus::Warn,
        format!("`{user}` holds {} attached directly, not through a group", names.join(", ")),
        format!("`t3s3 init --bucket {bucket}` moves the t3s3 policy to group t3-chat-s3 with no gap in access"),
    );
}

/// Whether the bucket's name is in its account's own namespace, where nobody else can take it.
fn namespace_check(audit: &Audit, bucket: &str) {
    let id = CheckId::BucketNamespace;
    if bucket.is_empty() {
        return audit.skip(&[id], "the .env names no bucket");
    }
    match bucket_name::account_regional_parts(bucket) {
        Some((_, account, region)) => audit.add(
            id,
            CheckStatus::Pass,
            format!(
                "`{bucket}` is in the account regional namespace of {account} in {region}: nobody else can create it"
            ),
            "",
        ),
        None => audit.add(
            id,
            CheckStatus::Info,
            format!("`{bucket}` is in the global namespace: once deleted, anyone can re-create the name"),
            "buckets cannot be renamed; a new setup (`t3s3 init` with no name) gets an account regional one",
        ),
    }
}

/// Temporary files of an interrupted write: each holds a whole .env, secret included.
fn temp_files_check(audit: &Audit, env_path: &Path) {
    let stray = crate::envfile::stray_temp_files(env_path);
    if stray.is_empty() {
        audit.add(CheckId::EnvTempFiles, CheckStatus::Pass, "no temporary files left by an interrupted run", "");
        return;
    }
    let names: Vec<String> = stray.iter().map(|p| p.display().to_string()).collect();
    audit.add(
        CheckId::EnvTempFiles,
        CheckStatus::Warn,
        format!("{} left by an interrupted t3s3 run, each a copy of the .env with its secret", names.join(", ")),
        format!("delete them (`rm {}`), or run `t3s3 init`, which removes them", names.join(" ")),
    );
}

fn git_checks(audit: &Audit, env_path: &Path, settings: &AppSettings) {
    let shown = env_path.display().to_string();
    if git::is_ignored(env_path) {
        audit.add(CheckId::EnvIgnored, CheckStatus::Pass, format!("git ignores {shown}"), "");
    } else {
        audit.add(
            CheckId::EnvIgnored,
            CheckStatus::Fail,
            format!("git does not ignore {shown}"),
            "add `.env` and `*.env` to .gitignore (`t3s3 init` does)",
        );
    }
    if git::is_tracked(env_path) {
        audit.add(
            CheckId::EnvUntracked,
            CheckStatus::Fail,
            format!("git tracks {shown}"),
            format!("`git rm --cached {shown}`, commit, and rotate the key (`t3s3 rotate-key`)"),
        );
    } else {
        audit.add(CheckId::EnvUntracked, CheckStatus::Pass, format!("git does not track {shown}"), "");
    }
    let mut commits = git::commits_with_file(env_path);
    if let Some(key_id) = settings.get(Key::AccessKeyId) {
        commits.extend(git::commits_mentioning(env_path, key_id));
    }
    commits.sort();
    commits.dedup();
    if commits.is_empty() {
        audit.add(CheckId::EnvNeverCommitted, CheckStatus::Pass, "no commit holds the file or the key ID", "");
    } else {
        audit.add(
            CheckId::EnvNeverCommitted,
            CheckStatus::Fail,
            format!("the file or key ID is in commit(s) {}: the secret is leaked even after removal", commits.join(", ")),
            "rotate the key now (`t3s3 rotate-key`); then rewrite history (git filter-repo) if the repository is shared",
        );
    }
}

/// What the backend's own key can do: who it is, where its bucket is, that it reaches it.
/// Returns the key's IAM user name when STS says it.
async fn app_checks(audit: &Audit, app: &AppCredentials, settings: &AppSettings, policy: &str) -> Option<String> {
    let timeout = Duration::from_secs(15);
    let shown = settings.env_display();
    let (bucket, region) = (settings.bucket(), settings.region());
    let (sts_client, s3) = (aws::app_sts_client(app, timeout), aws::app_s3_client(app, timeout));
    let (identity, location, head) = tokio::join!(
        sts::identity(&sts_client, "the backend's key"),
        bucket::region_of(&s3, bucket),
        bucket::head(&s3, bucket),
    );
    let user = match identity {
        Ok(caller) => {
            audit.add(
                CheckId::AppIdentity,
                CheckStatus::Pass,
                format!("the key {} is {}", app.access_key_id, caller.arn),
                "",
            );
            caller.user_name()
        }
        Err(error) => {
            audit.add(
                CheckId::AppIdentity,
                CheckStatus::Fail,
                format!("the key {} was refused: {}", app.access_key_id, error.code_name()),
                format!(
                    "check the key in IAM; create a new one with `t3s3 rotate-key` or `t3s3 init` and update {shown}"
                ),
            );
            None
        }
    };
    match location {
        Ok(actual) if actual == region => {
            let evidence = format!("`{bucket}` is in {region}, as AWS_REGION says");
            audit.add(CheckId::BucketRegion, CheckStatus::Pass, evidence, "");
        }
        Ok(actual) => audit.add(
            CheckId::BucketRegion,
            CheckStatus::Fail,
            format!("`{bucket}` is in {actual}, but AWS_REGION is {region}"),
            format!("set AWS_REGION={actual} in {}", settings.where_set(Key::Region)),
        ),
        Err(error) => {
            let diagnosis = diagnose::diagnose(&error, settings, policy);
            let status = if error.code().is_some_and(|c| c.is_wrong_region()) {
                CheckStatus::Fail
            } else {
                CheckStatus::Skipped
            };
            audit.add(CheckId::BucketRegion, status, diagnosis.error_line(), diagnosis.fix_line());
        }
    }
    match head {
        Ok(_) => audit.add(CheckId::BucketReachable, CheckStatus::Pass, format!("the key can reach `{bucket}`"), ""),
        Err(error) => {
            let diagnosis = diagnose::diagnose(&error, settings, policy);
            audit.add(CheckId::BucketReachable, CheckStatus::Fail, diagnosis.error_line(), diagnosis.fix_line());
        }
    }
    user
}

/// The checks made with the acting credentials.
struct Scope<'a> {
    clients: &'a ActingClients,
    key_id: &'a str,
    bucket: &'a str,
    policy_name: &'a str,
}

impl Scope<'_> {
    async fn key_age(&self, audit: &Audit, user: &str) {
        let key_id = self.key_id;
        let (keys, tags) =
            tokio::join!(iam::list_keys(&self.clients.iam, user, true), iam::user_tags(&self.clients.iam, user));
        let keys = match keys {
            Ok(keys) => keys,
            Err(error) => {
                let ids = [CheckId::KeyAge, CheckId::UnwrittenKeys];
                return audit.skip(&ids, &format!("cannot list the keys of `{user}`: {error}"));
            }
        };
        self.unwritten_keys(audit, user, &keys, tags);
        let Some(key) = keys.iter().find(|k| k.id == key_id) else {
            let evidence = format!("{key_id} is not a key of `{user}` any more");
            return audit.add(CheckId::KeyAge, CheckStatus::Fail, evidence, "create a new key with `t3s3 init`");
        };
        let days = key.age_days.unwrap_or(0);
        let used = key.last_used.clone().unwrap_or_else(|| "never used".into());
        let status = key_age_status(days);
        let fix = if status == CheckStatus::Pass { "" } else { "rotate it: `t3s3 rotate-key`" };
        audit.add(CheckId::KeyAge, status, format!("{key_id} is {days} days old ({}, {used})", key.status), fix);
    }

    /// Keys an interrupted run created and never wrote: nobody holds their secret.
    fn unwritten_keys(
        &self,
        audit: &Audit,
        user: &str,
        keys: &[iam::KeyInfo],
        tags: Result<Vec<(String, String)>, AwsError>,
    ) {
        let ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
        let marked = match tags {
            Ok(tags) => iam::unwritten_among(&tags, &ids),
            Err(error) => {
                return audit.skip(
                    &[CheckId::UnwrittenKeys],
                    &format!("cannot read the tags of `{user}`: {}", error.code_name()),
                );
            }
        };
        let orphans: Vec<&str> = keys
            .iter()
            .map(|k| k.id.as_str())
            .filter(|id| marked.iter().any(|m| m == id) && *id != self.key_id)
            .collect();
        if orphans.is_empty() {
            audit.add(
                CheckId::UnwrittenKeys,
                CheckStatus::Pass,
                format!("every key of `{user}` t3s3 created was written"),
                "",
            );
        } else {
            audit.add(
                CheckId::UnwrittenKeys,
                CheckStatus::Warn,
                format!(
                    "`{user}` holds {}, created by an interrupted t3s3 run and never written (its secret is lost)",
                    orphans.join(", ")
                ),
                "`t3s3 init --yes` deletes it",
            );
        }
    }

    /// The user's policies: its attached list and our policy (its ARN is known from the
    /// caller) are read at once, then the other policies' documents.
    async fn user_policies(&self, audit: &Audit, user: &str, policy_arn: &str) {
        let (iam_client, policy_name, bucket) = (&self.clients.iam, self.policy_name, self.bucket);
        // The other policies' documents are read as soon as the attached list is in,
        // while our policy's second request is still out.
        // Its own and its groups' policies count alike: what the user holds either way.
        let others = async {
            let (attached, via_groups) =
                tokio::join!(iam::attached_policies(iam_client, user), iam::group_policies_of(iam_client, user));
            let (attached, via_groups) = (attached?, via_groups?);
            let held: Vec<(String, String)> = attached
                .iter()
                .cloned()
                .chain(
                    via_groups
                        .iter()
                        .map(|(name, arn, group)| (format!("{name} (through group {group})"), arn.clone())),
                )
                .collect();
            let found = iam::broad_s3_grants(iam_client, user, &held, policy_arn).await;
            Ok::<_, AwsError>((attached, held, found))
        };
        let (others, state) = tokio::join!(others, iam::find_policy(iam_client, policy_arn));
        let (attached, held, found) = match others {
            Ok(others) => others,
            Err(error) => {
                let ids = [CheckId::BroadS3Access, CheckId::PolicyDrift, CheckId::PolicyViaGroup];
                return audit.skip(&ids, &format!("cannot read the policies of `{user}`: {error}"));
            }
        };
        via_group_check(audit, user, &attached, bucket);
        let is_attached = held.iter().any(|(_, arn)| arn == policy_arn);
        let ours_state = is_attached.then_some(state);
        if found.is_empty() {
            audit.add(
                CheckId::BroadS3Access,
                CheckStatus::Pass,
                format!("`{user}` holds no policy granting all of S3"),
                "",
            );
        } else {
            audit.add(
                CheckId::BroadS3Access,
                CheckStatus::Fail,
                format!("`{user}` holds {}", found.join("; ")),
                format!("detach it: `aws iam detach-user-policy --user-name {user} --policy-arn ARN` ({policy_name} grants what the backend needs)"),
            );
        }
        let Some(state) = ours_state else {
            let evidence = format!("{policy_name} is not attached to `{user}` or any of its groups");
            let fix = format!("`t3s3 init --bucket {bucket} --policy-name {policy_name}` attaches it");
            return audit.add(CheckId::PolicyDrift, CheckStatus::Warn, evidence, fix);
        };
        let wanted = policy::render(bucket).unwrap_or_default();
        match state {
            Ok(Some(state)) => match policy::difference(&state.document, &wanted) {
                None => {
                    let evidence = format!("{policy_name} {} matches `t3s3 policy`", state.default_version);
                    audit.add(CheckId::PolicyDrift, CheckStatus::Pass, evidence, "");
                }
                Some(diff) => audit.add(
                    CheckId::PolicyDrift,
                    CheckStatus::Warn,
                    format!("{policy_name} {} differs: {diff}", state.default_version),
                    format!("`t3s3 init --bucket {bucket} --policy-name {policy_name}` adds a matching version"),
                ),
            },
            Ok(None) => audit.skip(&[CheckId::PolicyDrift], "the attached policy vanished while reading it"),
            Err(error) => audit.skip(&[CheckId::PolicyDrift], &error.to_string()),
        }
    }

    async fn bucket_settings(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
        let bucket = self.bucket;
        let found = match bucket::read_settings(s3, bucket).await {
            Ok(found) => found,
            Err(error) => {
                let ids = [
                    CheckId::PublicAccessBlock,
                    CheckId::AclsDisabled,
                    CheckId::DefaultEncryption,
                    CheckId::TlsOnly,
                    CheckId::IncompleteUploadsAborted,
                ];
                return audit.skip(&ids, &format!("cannot read the bucket settings: {error}"));
            }
        };
        beyond_the_guide(audit, bucket, &found, self.clients.endpoint_url().as_deref());
        if found.all_public_access_blocked() {
            audit.add(CheckId::PublicAccessBlock, CheckStatus::Pass, "all four Block Public Access flags are on", "");
        } else {
            audit.add(
                CheckId::PublicAccessBlock,
                CheckStatus::Fail,
                format!("Block Public Access is {:?} (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets)", found.public_access_block),
                format!("`t3s3 init --bucket {bucket}` turns all four on"),
            );
        }
        if found.acls_disabled() {
            let evidence = "object ownership is BucketOwnerEnforced (ACLs disabled)";
            audit.add(CheckId::AclsDisabled, CheckStatus::Pass, evidence, "");
        } else {
            audit.add(
                CheckId::AclsDisabled,
                CheckStatus::Fail,
                format!("object ownership is {:?}: ACLs can grant access", found.ownership),
                format!("`t3s3 init --bucket {bucket}` disables ACLs"),
            );
        }
        if found.encrypted() {
            let evidence = format!("default encryption {}", found.encryption.unwrap_or_default());
            audit.add(CheckId::DefaultEncryption, CheckStatus::Pass, evidence, "");
        } else {
            let fix = format!("`t3s3 init --bucket {bucket}` sets SSE-S3");
            audit.add(CheckId::DefaultEncryption, CheckStatus::Fail, "no default encryption", fix);
        }
    }

    async fn bucket_policy(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
        let id = CheckId::BucketPolicyPublic;
        match bucket::policy(s3, self.bucket).await {
            Ok(None) => audit.add(id, CheckStatus::Pass, "no bucket policy", ""),
            Ok(Some(document)) => match public_statement(&document) {
                Some(sid) => audit.add(
                    id,
                    CheckStatus::Fail,
                    format!("the bucket policy lets anyone in (statement {sid})"),
                    format!(
                        "remove that statement: `aws s3api delete-bucket-policy --bucket {}` if it is the only one",
                        self.bucket
                    ),
                ),
                None => audit.add(id, CheckStatus::Pass, "the bucket policy grants nothing to everyone", ""),
            },
            Err(error) => audit.skip(&[id], &format!("cannot read the bucket policy: {}", error.code_name())),
        }
    }

    /// The CI role admits one repository's branch, nothing wider.
    async fn ci_role_trust(&self, audit: &Audit, role: &str) {
        let id = CheckId::CiRoleTrust;
        match iam::role(&self.clients.iam, role).await {
            Ok(None) => audit.skip(&[id], &format!("no role `{role}` (`t3s3 ci-role` makes one for keyless CI)")),
            Ok(Some(state)) => {
                let problems = policy::trust_too_wide(&state.trust);
                if problems.is_empty() {
                    let evidence =
                        format!("`{role}` trusts one repository's branch, for at most {} s", state.max_session_seconds);
                    audit.add(id, CheckStatus::Pass, evidence, "");
                } else {
                    audit.add(
                        id,
                        CheckStatus::Fail,
                        format!("`{role}` can be assumed more widely than one repository: {}", problems.join("; ")),
                        "`t3s3 ci-role --repo OWNER/NAME --branch BRANCH` narrows its trust policy to exactly that",
                    );
                }
            }
            Err(error) => audit.skip(&[id], &format!("cannot read role `{role}`: {}", error.code_name())),
        }
    }

    async fn root_mfa(&self, audit: &Audit) {
        match iam::root_mfa_enabled(&self.clients.iam).await {
            Ok(true) => audit.add(CheckId::RootMfa, CheckStatus::Pass, "the account root has MFA", ""),
            Ok(false) => audit.add(
                CheckId::RootMfa,
                CheckStatus::Fail,
                "AccountMFAEnabled is 0: the account root has no MFA",
                "IAM → Security credentials (signed in as root) → Assign MFA device",
            ),
            Err(error) => {
                audit.skip(&[CheckId::RootMfa], &format!("cannot read the account summary: {}", error.code_name()))
            }
        }
    }

    async fn storage(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
        let (bytes, objects) = match bucket::stored_bytes(s3, self.bucket).await {
            Ok(found) => found,
            Err(error) => {
                return audit.skip(&[CheckId::Storage], &format!("cannot list the bucket: {}", error.code_name()));
            }
        };
        let percent = bytes as f64 * 100.0 / FREE_TIER_BYTES as f64;
        let status = if bytes > FREE_TIER_BYTES { CheckStatus::Warn } else { CheckStatus::Info };
        let evidence =
            format!("{objects} objects, {:.1} MB: {percent:.2}% of the free tier's 5 GB", bytes as f64 / 1e6);
        let fix = if status == CheckStatus::Warn { "past the free tier: check billing alerts" } else { "" };
        audit.add(CheckId::Storage, status, evidence, fix);
    }

    async fn access_logging(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
        match bucket::logging_target(s3, self.bucket).await {
            Ok(Some(target)) => {
                audit.add(CheckId::AccessLogging, CheckStatus::Info, format!("on, into `{target}`"), "")
            }
            Ok(None) => audit.add(
                CheckId::AccessLogging,
                CheckStatus::Info,
                "off (the guide suggests it if needed)",
                "turn on server access logging in S3 → bucket → Properties if you need an audit trail",
            ),
            Err(error) => audit.skip(&[CheckId::AccessLogging], &format!("cannot read logging: {}", error.code_name())),
        }
    }
}

/// The Sid (or index) of an Allow statement open to everyone without a condition.
pub fn public_statement(document: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(document).ok()?;
    let statements = match &value["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    statements.iter().enumerate().find_map(|(index, statement)| {
        let principal = &statement["Principal"];
        let everyone = principal == "*"
            || principal["AWS"] == "*"
            || principal["AWS"].as_array().is_some_and(|a| a.iter().any(|p| p == "*"));
        (statement["Effect"] == "Allow" && everyone && statement.get("Condition").is_none())
            .then(|| statement["Sid"].as_str().map_or_else(|| format!("#{}", index + 1), str::to_string))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_age_follows_the_ninety_day_rule() {
        assert_eq!(key_age_status(0), CheckStatus::Pass);
        assert_eq!(key_age_status(80), CheckStatus::Pass);
        assert_eq!(key_age_status(81), CheckStatus::Warn);
        assert_eq!(key_age_status(90), CheckStatus::Warn);
        assert_eq!(key_age_status(91), CheckStatus::Fail);
    }

    #[test]
    fn check_ids_are_unique_and_serialize_as_their_names() {
        let mut names: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(names.len(), 31);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 31);
        for id in CheckId::ALL {
            assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
        }
    }

    #[test]
    fn an_audit_reports_every_check_in_order_even_those_not_reached() {
        let audit = Audit::default();
        audit.add(CheckId::RootMfa, CheckStatus::Pass, "x", "");
        audit.add(CheckId::EnvExists, CheckStatus::Fail, "y", "");
        let report = audit.finish("why");
        assert_eq!(report.checks.len(), CheckId::ALL.len());
        assert_eq!(report.checks.iter().map(|c| c.id).collect::<Vec<_>>(), CheckId::ALL.to_vec());
        assert!(!report.ok);
        assert_eq!(report.checks[1].status, CheckStatus::Skipped);
        assert_eq!(report.checks[1].evidence, "why");
    }

    #[test]
    fn public_bucket_policies_are_spotted() {
        let public = r#"{"Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert_eq!(public_statement(public).as_deref(), Some("Open"));
        let conditioned = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        assert_eq!(public_statement(conditioned), None);
        let account = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*"}}"#;
        assert_eq!(public_statement(account), None);
    }
}
