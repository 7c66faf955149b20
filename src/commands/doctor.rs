//! `t3s3 doctor`: a read-only audit of the guide's security practices, check by check,
//! each with its evidence and the exact fix. It never changes anything.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::aws::{self, ActingClients};
use crate::bucket;
use crate::cli::{DoctorArgs, GlobalArgs};
use crate::diagnose::{self, facts};
use crate::envfile::Severity;
use crate::exit::ExitStatus;
use crate::git;
use crate::iam;
use crate::policy;
use crate::report::Printer;
use crate::settings::{self, AppSettings};

/// The free tier's S3 Standard storage, as the guide states it.
pub const FREE_TIER_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// The guide rotates keys every 90 days; warn ten days before.
pub const KEY_MAX_DAYS: u64 = 90;
pub const KEY_WARN_DAYS: u64 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CheckStatus {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "WARN")]
    Warn,
    #[serde(rename = "FAIL")]
    Fail,
    #[serde(rename = "SKIPPED")]
    Skipped,
    #[serde(rename = "INFO")]
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

/// One finding: what was checked, what was seen, and what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: CheckStatus,
    pub evidence: String,
    pub fix: String,
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

struct Audit {
    checks: Vec<Check>,
}

impl Audit {
    fn add(&mut self, id: &'static str, status: CheckStatus, evidence: impl Into<String>, fix: impl Into<String>) {
        self.checks.push(Check { id, status, evidence: evidence.into(), fix: fix.into() });
    }

    fn skip(&mut self, ids: &[&'static str], reason: &str) {
        for id in ids {
            self.add(id, CheckStatus::Skipped, reason, "");
        }
    }
}

const APP_CHECKS: [&str; 3] = ["app_identity", "bucket_region", "bucket_reachable"];
const ACTING_CHECKS: [&str; 10] = [
    "key_age",
    "broad_s3_access",
    "policy_drift",
    "public_access_block",
    "acls_disabled",
    "default_encryption",
    "bucket_policy_public",
    "root_mfa",
    "storage",
    "access_logging",
];

pub async fn run(args: &DoctorArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let checks = audit(args, global).await?;
    printer.doctor(&checks);
    Ok(if checks.iter().any(|c| c.status == CheckStatus::Fail) { ExitStatus::CheckFailed } else { ExitStatus::Success })
}

/// Runs every check; only a bad argument is an error, everything else is a finding.
pub async fn audit(args: &DoctorArgs, global: &GlobalArgs) -> Result<Vec<Check>> {
    let mut audit = Audit { checks: Vec::new() };
    let candidates = match &args.env_file {
        Some(path) => vec![path.clone()],
        None => settings::default_env_candidates(),
    };
    let Some(env_path) = candidates.iter().find(|p| p.is_file()).cloned() else {
        let tried = candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        audit.add(
            "env_exists",
            CheckStatus::Fail,
            format!("no .env file (looked for {tried})"),
            "run `t3s3 init`, or pass --env-file PATH",
        );
        audit.skip(&APP_CHECKS, "no .env file");
        audit.skip(&ACTING_CHECKS, "no .env file to audit");
        return Ok(audit.checks);
    };
    let shown = env_path.display().to_string();
    audit.add("env_exists", CheckStatus::Pass, format!("{shown} exists"), "");
    let settings = AppSettings::from_file(&env_path)?;
    local_checks(&mut audit, &env_path, &settings);

    let Some(app) = settings.app_credentials() else {
        let missing = settings.missing().join(", ");
        audit.skip(&APP_CHECKS, &format!("{shown} does not set {missing}"));
        audit.skip(&ACTING_CHECKS, &format!("{shown} does not set {missing}"));
        return Ok(audit.checks);
    };
    let bucket = settings.bucket().to_string();
    let region = settings.region().to_string();

    // What the backend holds: its own key.
    let timeout = Duration::from_secs(15);
    let app_user = match aws::app_sts_client(&app, timeout).get_caller_identity().send().await {
        Ok(identity) => {
            let arn = identity.arn().unwrap_or_default().to_string();
            audit.add("app_identity", CheckStatus::Pass, format!("the key {} is {arn}", app.access_key_id), "");
            arn.split(":user/").nth(1).map(|path| path.rsplit('/').next().unwrap_or(path).to_string())
        }
        Err(error) => {
            let facts = facts(&error);
            let code = facts.code.clone().unwrap_or_else(|| "no answer".into());
            audit.add(
                "app_identity",
                CheckStatus::Fail,
                format!("the key {} was refused: {code}", app.access_key_id),
                format!(
                    "check the key in IAM; create a new one with `t3s3 rotate-key` or `t3s3 init` and update {shown}"
                ),
            );
            None
        }
    };
    let app_s3 = aws::app_s3_client(&app, timeout);
    match app_s3.get_bucket_location().bucket(&bucket).send().await {
        Ok(out) => {
            let actual = bucket::location_region(out.location_constraint().map(|c| c.as_str()));
            if actual == region {
                audit.add(
                    "bucket_region",
                    CheckStatus::Pass,
                    format!("`{bucket}` is in {region}, as AWS_REGION says"),
                    "",
                );
            } else {
                audit.add(
                    "bucket_region",
                    CheckStatus::Fail,
                    format!("`{bucket}` is in {actual}, but AWS_REGION is {region}"),
                    format!("set AWS_REGION={actual} in {}", settings.where_set("AWS_REGION")),
                );
            }
        }
        Err(error) => {
            let diagnosis = diagnose::diagnose(&facts(&error), &settings, "s3:GetBucketLocation");
            let status = if diagnosis.code.contains("Redirect") || diagnosis.code == "AuthorizationHeaderMalformed" {
                CheckStatus::Fail
            } else {
                CheckStatus::Skipped
            };
            audit.add("bucket_region", status, diagnosis.error_line(), diagnosis.fix_line());
        }
    }
    match app_s3.head_bucket().bucket(&bucket).send().await {
        Ok(_) => audit.add("bucket_reachable", CheckStatus::Pass, format!("the key can reach `{bucket}`"), ""),
        Err(error) => {
            let diagnosis = diagnose::diagnose(&facts(&error), &settings, "s3:ListBucket");
            audit.add("bucket_reachable", CheckStatus::Fail, diagnosis.error_line(), diagnosis.fix_line());
        }
    }

    // What an administrator can see: the acting credentials of the standard chain.
    let clients = aws::acting_clients(&super::acting_target(global, &settings)).await;
    if let Err(reason) = clients.caller().await {
        audit.skip(
            &ACTING_CHECKS,
            &format!("no usable acting credentials ({reason}); pass --profile NAME of an administrator"),
        );
        return Ok(audit.checks);
    }
    acting_checks(&mut audit, &clients, &app.access_key_id, app_user, &bucket, &region, &args.policy_name).await;
    Ok(audit.checks)
}

fn local_checks(audit: &mut Audit, env_path: &std::path::Path, settings: &AppSettings) {
    let shown = env_path.display().to_string();
    let errors: Vec<String> =
        settings.lint_errors().iter().map(|i| format!("line {}: {}", i.line, i.message)).collect();
    let warnings: Vec<String> = settings
        .lint
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .map(|i| format!("line {}: {}", i.line, i.message))
        .collect();
    let missing = settings.missing();
    if !errors.is_empty() || !missing.is_empty() {
        let mut evidence = errors;
        if !missing.is_empty() {
            evidence.push(format!("missing {}", missing.join(", ")));
        }
        audit.add(
            "env_lint",
            CheckStatus::Fail,
            evidence.join("; "),
            format!("fix those lines in {shown}: KEY=value, no spaces, no quotes"),
        );
    } else if !warnings.is_empty() {
        audit.add("env_lint", CheckStatus::Warn, warnings.join("; "), format!("tidy those lines in {shown}"));
    } else {
        audit.add("env_lint", CheckStatus::Pass, "parses; the four settings are set and well formed", "");
    }

    let mode = std::fs::metadata(env_path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    if mode & 0o077 == 0 {
        audit.add("env_mode", CheckStatus::Pass, format!("mode {mode:04o}"), "");
    } else {
        audit.add(
            "env_mode",
            CheckStatus::Fail,
            format!("mode {mode:04o}: other users can read the secret"),
            format!("chmod 600 {shown}"),
        );
    }

    if git::repo_root(env_path).is_none() {
        audit.add("env_ignored", CheckStatus::Skipped, "not in a git repository", "");
        audit.add("env_untracked", CheckStatus::Skipped, "not in a git repository", "");
        audit.add("env_never_committed", CheckStatus::Skipped, "not in a git repository", "");
    } else {
        if git::is_ignored(env_path) {
            audit.add("env_ignored", CheckStatus::Pass, format!("git ignores {shown}"), "");
        } else {
            audit.add(
                "env_ignored",
                CheckStatus::Fail,
                format!("git does not ignore {shown}"),
                "add `.env` and `*.env` to .gitignore (`t3s3 init` does)",
            );
        }
        if git::is_tracked(env_path) {
            audit.add(
                "env_untracked",
                CheckStatus::Fail,
                format!("git tracks {shown}"),
                format!("`git rm --cached {shown}`, commit, and rotate the key (`t3s3 rotate-key`)"),
            );
        } else {
            audit.add("env_untracked", CheckStatus::Pass, format!("git does not track {shown}"), "");
        }
        let mut commits = git::commits_with_file(env_path);
        if let Some(key_id) = settings.get("AWS_ACCESS_KEY_ID") {
            commits.extend(git::commits_mentioning(env_path, key_id));
        }
        commits.sort();
        commits.dedup();
        if commits.is_empty() {
            audit.add("env_never_committed", CheckStatus::Pass, "no commit holds the file or the key ID", "");
        } else {
            audit.add(
                "env_never_committed",
                CheckStatus::Fail,
                format!("the file or key ID is in commit(s) {}: the secret is leaked even after removal", commits.join(", ")),
                "rotate the key now (`t3s3 rotate-key`); then rewrite history (git filter-repo) if the repository is shared",
            );
        }
    }

    let root = git::repo_root(env_path).unwrap_or_else(|| PathBuf::from("."));
    let gitignore = root.join(".gitignore");
    let missing = git::missing_patterns(&gitignore);
    if missing.is_empty() {
        audit.add("gitignore_patterns", CheckStatus::Pass, format!("{} has .env and *.env", gitignore.display()), "");
    } else {
        audit.add(
            "gitignore_patterns",
            CheckStatus::Warn,
            format!("{} lacks {}", gitignore.display(), missing.join(", ")),
            format!("add {} to {}", missing.join(" and "), gitignore.display()),
        );
    }
}

async fn acting_checks(
    audit: &mut Audit,
    clients: &ActingClients,
    key_id: &str,
    app_user: Option<String>,
    bucket_name: &str,
    region: &str,
    policy_name: &str,
) {
    let iam_client = &clients.iam;
    let user = match app_user {
        Some(user) => Some(user),
        None => iam_client
            .get_access_key_last_used()
            .access_key_id(key_id)
            .send()
            .await
            .ok()
            .and_then(|out| out.user_name().map(str::to_string)),
    };
    match &user {
        None => audit.skip(
            &["key_age", "broad_s3_access", "policy_drift"],
            "the key's IAM user is unknown (the key was refused)",
        ),
        Some(user) => match iam::list_keys(iam_client, user, true).await {
            Err(error) => audit.skip(&["key_age"], &format!("cannot list the keys of `{user}`: {error}")),
            Ok(keys) => match keys.iter().find(|k| k.id == key_id) {
                None => audit.add(
                    "key_age",
                    CheckStatus::Fail,
                    format!("{key_id} is not a key of `{user}` any more"),
                    "create a new key with `t3s3 init`",
                ),
                Some(key) => {
                    let days = key.age_days.unwrap_or(0);
                    let used = key.last_used.clone().unwrap_or_else(|| "never used".into());
                    let status = key_age_status(days);
                    let fix = if status == CheckStatus::Pass {
                        String::new()
                    } else {
                        "rotate it: `t3s3 rotate-key`".to_string()
                    };
                    audit.add("key_age", status, format!("{key_id} is {days} days old ({}, {used})", key.status), fix);
                }
            },
        },
    }

    if let Some(user) = &user {
        match iam::attached_policies(iam_client, user).await {
            Err(error) => audit
                .skip(&["broad_s3_access", "policy_drift"], &format!("cannot read the policies of `{user}`: {error}")),
            Ok(attached) => {
                let ours = attached.iter().find(|(name, _)| name == policy_name).map(|(_, arn)| arn.clone());
                let except = ours.clone().unwrap_or_default();
                match iam::broad_s3_grants(iam_client, user, &attached, &except).await {
                    Ok(found) if found.is_empty() => audit.add("broad_s3_access", CheckStatus::Pass, format!("`{user}` holds no policy granting all of S3"), ""),
                    Ok(found) => audit.add(
                        "broad_s3_access",
                        CheckStatus::Fail,
                        format!("`{user}` holds {}", found.join("; ")),
                        format!("detach it: `aws iam detach-user-policy --user-name {user} --policy-arn ARN` (T3ChatS3Policy grants what the backend needs)"),
                    ),
                    Err(error) => audit.skip(&["broad_s3_access"], &error.to_string()),
                }
                let wanted = policy::render(bucket_name).unwrap_or_default();
                match ours {
                    None => audit.add(
                        "policy_drift",
                        CheckStatus::Warn,
                        format!("{policy_name} is not attached to `{user}`"),
                        format!("`t3s3 init --bucket {bucket_name}` attaches it"),
                    ),
                    Some(arn) => match iam::find_policy(iam_client, &arn).await {
                        Ok(Some(state)) => match policy::difference(&state.document, &wanted) {
                            None => audit.add(
                                "policy_drift",
                                CheckStatus::Pass,
                                format!("{policy_name} {} matches `t3s3 policy`", state.default_version),
                                "",
                            ),
                            Some(diff) => audit.add(
                                "policy_drift",
                                CheckStatus::Warn,
                                format!("{policy_name} {} differs: {diff}", state.default_version),
                                format!("`t3s3 init --bucket {bucket_name}` adds a matching version"),
                            ),
                        },
                        Ok(None) => audit.skip(&["policy_drift"], "the attached policy vanished while reading it"),
                        Err(error) => audit.skip(&["policy_drift"], &error.to_string()),
                    },
                }
            }
        }
    }

    let s3 = clients.s3_in(region);
    match bucket::read_settings(&s3, bucket_name).await {
        Err(error) => audit.skip(
            &["public_access_block", "acls_disabled", "default_encryption"],
            &format!("cannot read the bucket settings: {error}"),
        ),
        Ok(found) => {
            if found.all_public_access_blocked() {
                audit.add("public_access_block", CheckStatus::Pass, "all four Block Public Access flags are on", "");
            } else {
                audit.add(
                    "public_access_block",
                    CheckStatus::Fail,
                    format!("Block Public Access is {:?} (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets)", found.public_access_block),
                    format!("`t3s3 init --bucket {bucket_name}` turns all four on"),
                );
            }
            if found.acls_disabled() {
                audit.add(
                    "acls_disabled",
                    CheckStatus::Pass,
                    "object ownership is BucketOwnerEnforced (ACLs disabled)",
                    "",
                );
            } else {
                audit.add(
                    "acls_disabled",
                    CheckStatus::Fail,
                    format!("object ownership is {:?}: ACLs can grant access", found.ownership),
                    format!("`t3s3 init --bucket {bucket_name}` disables ACLs"),
                );
            }
            if found.encrypted() {
                audit.add(
                    "default_encryption",
                    CheckStatus::Pass,
                    format!("default encryption {}", found.encryption.unwrap_or_default()),
                    "",
                );
            } else {
                audit.add(
                    "default_encryption",
                    CheckStatus::Fail,
                    "no default encryption",
                    format!("`t3s3 init --bucket {bucket_name}` sets SSE-S3"),
                );
            }
        }
    }
    match s3.get_bucket_policy().bucket(bucket_name).send().await {
        Ok(out) => match public_statement(out.policy().unwrap_or_default()) {
            Some(sid) => audit.add("bucket_policy_public", CheckStatus::Fail, format!("the bucket policy lets anyone in (statement {sid})"), format!("remove that statement: `aws s3api delete-bucket-policy --bucket {bucket_name}` if it is the only one")),
            None => audit.add("bucket_policy_public", CheckStatus::Pass, "the bucket policy grants nothing to everyone", ""),
        },
        Err(error) if facts(&error).code.as_deref() == Some("NoSuchBucketPolicy") => {
            audit.add("bucket_policy_public", CheckStatus::Pass, "no bucket policy", "")
        }
        Err(error) => audit.skip(&["bucket_policy_public"], &format!("cannot read the bucket policy: {}", facts(&error).code.unwrap_or_default())),
    }
    match iam_client.get_account_summary().send().await {
        Ok(out) => {
            let enabled = out
                .summary_map()
                .and_then(|m| m.get(&aws_sdk_iam::types::SummaryKeyType::AccountMfaEnabled))
                .copied()
                .unwrap_or(0);
            if enabled == 1 {
                audit.add("root_mfa", CheckStatus::Pass, "the account root has MFA", "");
            } else {
                audit.add(
                    "root_mfa",
                    CheckStatus::Fail,
                    "AccountMFAEnabled is 0: the account root has no MFA",
                    "IAM → Security credentials (signed in as root) → Assign MFA device",
                );
            }
        }
        Err(error) => audit.skip(
            &["root_mfa"],
            &format!("cannot read the account summary: {}", facts(&error).code.unwrap_or_default()),
        ),
    }
    match stored_bytes(&s3, bucket_name).await {
        Ok((bytes, objects)) => {
            let percent = bytes as f64 * 100.0 / FREE_TIER_BYTES as f64;
            let status = if bytes > FREE_TIER_BYTES { CheckStatus::Warn } else { CheckStatus::Info };
            audit.add(
                "storage",
                status,
                format!("{objects} objects, {:.1} MB: {percent:.2}% of the free tier's 5 GB", bytes as f64 / 1e6),
                if status == CheckStatus::Warn {
                    "past the free tier: check billing alerts".to_string()
                } else {
                    String::new()
                },
            );
        }
        Err(code) => audit.skip(&["storage"], &format!("cannot list the bucket: {code}")),
    }
    match s3.get_bucket_logging().bucket(bucket_name).send().await {
        Ok(out) => match out.logging_enabled() {
            Some(logging) => {
                audit.add("access_logging", CheckStatus::Info, format!("on, into `{}`", logging.target_bucket()), "")
            }
            None => audit.add(
                "access_logging",
                CheckStatus::Info,
                "off (the guide suggests it if needed)",
                "turn on server access logging in S3 → bucket → Properties if you need an audit trail",
            ),
        },
        Err(error) => {
            audit.skip(&["access_logging"], &format!("cannot read logging: {}", facts(&error).code.unwrap_or_default()))
        }
    }
}

async fn stored_bytes(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(u64, u64), String> {
    let (mut bytes, mut objects, mut token) = (0u64, 0u64, None);
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| facts(&e).code.unwrap_or_else(|| "no answer".into()))?;
        for object in page.contents() {
            bytes += object.size().unwrap_or(0).max(0) as u64;
            objects += 1;
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok((bytes, objects));
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
    fn public_bucket_policies_are_spotted() {
        let public = r#"{"Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert_eq!(public_statement(public).as_deref(), Some("Open"));
        let conditioned = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        assert_eq!(public_statement(conditioned), None);
        let account = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*"}}"#;
        assert_eq!(public_statement(account), None);
    }
}
