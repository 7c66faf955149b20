//! Checks that read AWS: the backend's own key (who it is, what it can reach) and, with the
//! acting credentials, the bucket's settings, the user's keys and policies, the account.

use std::time::Duration;

use crate::aws::{self, ActingClients, AppCredentials};
use crate::aws_error::{AwsError, ErrorKind};
use crate::bucket;
use crate::bucket_name::{self, BucketName};
use crate::diagnose;
use crate::iam;
use crate::join::join_all;
use crate::keys::Key;
use crate::policy;
use crate::runtime_trust::Platform;
use crate::settings::AppSettings;
use crate::sts;

use super::{Audit, CheckId, CheckStatus, FREE_TIER_BYTES, key_age_status};

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
pub(super) fn namespace_check(audit: &Audit, bucket: &str) {
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

/// What the backend's own key can do: who it is, where its bucket is, that it reaches it.
/// Returns the key's IAM user name when STS says it.
pub(super) async fn app_checks(
    audit: &Audit,
    app: &AppCredentials,
    settings: &AppSettings,
    policy: &str,
) -> Option<String> {
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
        Err(error) if matches!(error.kind, ErrorKind::Service(_)) => {
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
        // No answer says nothing about the key: the network or the endpoint is at fault.
        Err(error) => {
            let explained = diagnose::explain(&error);
            let fix = explained.fix.unwrap_or_else(|| "check the network, then run doctor again".into());
            audit.add(CheckId::AppIdentity, CheckStatus::Fail, explained.message, fix);
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
pub(super) struct Scope<'a> {
    pub(super) clients: &'a ActingClients,
    pub(super) key_id: &'a str,
    pub(super) bucket: &'a str,
    pub(super) policy_name: &'a str,
}

impl Scope<'_> {
    pub(super) async fn key_age(&self, audit: &Audit, user: &str) {
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
        let (marked, retiring) = match tags {
            Ok(tags) => (iam::unwritten_among(&tags, &ids), iam::retiring_among(&tags, &ids)),
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
        if let Some(old) = retiring.filter(|id| *id != self.key_id) {
            return audit.add(
                CheckId::UnwrittenKeys,
                CheckStatus::Warn,
                format!("`{user}` still holds {old}, which `rotate-key` replaced and left working until the backend restarts"),
                "restart the backend so it loads the new key, then `t3s3 rotate-key --retire`",
            );
        }
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
    pub(super) async fn user_policies(&self, audit: &Audit, user: &str, policy_arn: &str) {
        let (iam_client, policy_name, bucket) = (&self.clients.iam, self.policy_name, self.bucket);
        // The other policies' documents are read as soon as the attached list is in,
        // while our policy's second request is still out.
        // Its own and its groups' policies count alike: what the user holds either way.
        let others = async {
            // The inline policies need only the user: read alongside the lists.
            let (attached, via_groups, inline) = tokio::join!(
                iam::attached_policies(iam_client, user),
                iam::group_policies_of(iam_client, user),
                iam::broad_inline(iam_client, user)
            );
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
            // An inline policy that cannot be read fails the broad check, as a managed one does.
            let found = iam::broad_managed(iam_client, &held, policy_arn).await.and_then(|mut found| {
                found.extend(inline?);
                Ok(found)
            });
            Ok::<_, AwsError>((attached, held, found))
        };
        let (others, state) = tokio::join!(others, iam::find_policy(iam_client, policy_arn));
        let (attached, held, found) = match others {
            Ok(others) => others,
            Err(error) => {
                let why = format!("cannot read the policies of `{user}`: {error}");
                let fix = "grant the acting credentials iam:ListAttachedUserPolicies, iam:ListGroupsForUser and iam:ListAttachedGroupPolicies, then run doctor again";
                audit.add(
                    CheckId::BroadS3Access,
                    CheckStatus::Fail,
                    format!("{why}, so none can be shown narrow"),
                    fix,
                );
                return audit.skip(&[CheckId::PolicyDrift, CheckId::PolicyViaGroup], &why);
            }
        };
        via_group_check(audit, user, &attached, bucket);
        let is_attached = held.iter().any(|(_, arn)| arn == policy_arn);
        let ours_state = is_attached.then_some(state);
        broad_check(audit, user, policy_name, found);
        let Some(state) = ours_state else {
            let evidence = format!("{policy_name} is not attached to `{user}` or any of its groups");
            let fix = format!("`t3s3 init --bucket {bucket} --policy-name {policy_name}` attaches it");
            return audit.add(CheckId::PolicyDrift, CheckStatus::Warn, evidence, fix);
        };
        // The .env's bucket, checked where doctor reads it (an unusable name renders nothing).
        let wanted = BucketName::new(bucket).ok().and_then(|name| policy::render(&name).ok()).unwrap_or_default();
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

    pub(super) async fn bucket_settings(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
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

    pub(super) async fn bucket_policy(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
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
    /// The roles t3s3 makes: CI's, and the deployed backend's (with whether the backend still
    /// needs a long-lived key).
    pub(super) async fn roles(&self, audit: &Audit, ci_role: &str) {
        tokio::join!(self.ci_role_trust(audit, ci_role), self.runtime_roles(audit));
    }

    /// runtime_role_trust: every runtime role t3s3 made (by its default names) is trusted by
    /// its platform alone and holds nothing but the least-privilege policy.
    /// runtime_credentials: with a long-lived key in the .env and no such role, production
    /// would run on that key.
    async fn runtime_roles(&self, audit: &Audit) {
        let names = Platform::ALL.map(Platform::default_role_name);
        let found = join_all(names.iter().map(|name| iam::role_if_present(&self.clients.iam, name))).await;
        let mut ours = Vec::new();
        for (name, found) in names.iter().zip(found) {
            match found {
                Ok(Some(state)) => {
                    if let Some(platform) = state.made_by.as_deref().and_then(Platform::of_tag_value) {
                        ours.push((name, platform, state));
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    let why = format!("cannot read role `{name}`: {}", error.code_name());
                    return audit.skip(&[CheckId::RuntimeRoleTrust, CheckId::RuntimeCredentials], &why);
                }
            }
        }
        self.runtime_credentials(audit, ours.len());
        if ours.is_empty() {
            let why = "no runtime role (`t3s3 runtime-role --platform ec2|ecs|lambda|fly` makes one)";
            return audit.skip(&[CheckId::RuntimeRoleTrust], why);
        }
        let mut problems = Vec::new();
        for (name, platform, state) in &ours {
            let account = state.arn.split(':').nth(4).unwrap_or_default();
            let policy_arn = iam::policy_arn(iam::partition(&state.arn), account, self.policy_name);
            let wide = crate::runtime_trust::too_wide(&state.trust, *platform, account);
            let extra = crate::ops::ci_role::extra_role_policies(state, &policy_arn);
            problems.extend(wide.into_iter().chain(extra).map(|p| format!("`{name}` ({}): {p}", platform.name())));
        }
        let names: Vec<String> =
            ours.iter().map(|(name, platform, _)| format!("`{name}` ({})", platform.name())).collect();
        if problems.is_empty() {
            let evidence =
                format!("{} trusted by its platform alone, holding only {}", names.join(", "), self.policy_name);
            audit.add(CheckId::RuntimeRoleTrust, CheckStatus::Pass, evidence, "");
        } else {
            audit.add(
                CheckId::RuntimeRoleTrust,
                CheckStatus::Fail,
                problems.join("; "),
                format!("detach every policy but {} from the role, then `t3s3 runtime-role --platform PLATFORM` rewrites its trust", self.policy_name),
            );
        }
    }

    fn runtime_credentials(&self, audit: &Audit, runtime_roles: usize) {
        let id = CheckId::RuntimeCredentials;
        if self.key_id.is_empty() {
            return audit.skip(&[id], "no .env key to judge");
        }
        match (runtime_roles, self.key_id.starts_with("AKIA")) {
            (0, true) => audit.add(
                id,
                CheckStatus::Warn,
                format!(
                    "the backend's only credentials are the long-lived key {}: production would hold it for years",
                    self.key_id
                ),
                "give the deployed backend a role instead: `t3s3 runtime-role --platform ec2|ecs|lambda|fly`",
            ),
            (0, false) => audit.add(id, CheckStatus::Pass, format!("{} is temporary (a role's)", self.key_id), ""),
            (n, _) => audit.add(
                id,
                CheckStatus::Pass,
                format!("{n} runtime role(s) give the deployed backend temporary credentials"),
                "",
            ),
        }
    }

    pub(super) async fn ci_role_trust(&self, audit: &Audit, role: &str) {
        let id = CheckId::CiRoleTrust;
        match iam::role_if_present(&self.clients.iam, role).await {
            Ok(None) => audit.skip(&[id], &format!("no role `{role}` (`t3s3 ci-role` makes one for keyless CI)")),
            Ok(Some(state)) => {
                let mut problems = policy::trust_too_wide(&state.trust);
                // The least-privilege policy lives in the role's own account.
                let account = state.arn.split(':').nth(4).unwrap_or_default();
                let policy_arn = iam::policy_arn(iam::partition(&state.arn), account, self.policy_name);
                let extra = crate::ops::ci_role::extra_role_policies(&state, &policy_arn);
                if !extra.is_empty() {
                    problems.push(format!(
                        "it holds more than {}: {} (GitHub's token gets them too)",
                        self.policy_name,
                        extra.join(", ")
                    ));
                }
                let warnings = policy::trust_warnings(&state.trust);
                if problems.is_empty() && warnings.is_empty() {
                    let evidence =
                        format!("`{role}` trusts one repository's branch, for at most {} s", state.max_session_seconds);
                    audit.add(id, CheckStatus::Pass, evidence, "");
                } else if problems.is_empty() {
                    audit.add(
                        id,
                        CheckStatus::Warn,
                        format!("`{role}`: {}", warnings.join("; ")),
                        "trust one branch or a protected environment instead: `t3s3 ci-role --repo OWNER/NAME --branch BRANCH` (or --environment NAME)",
                    );
                } else {
                    audit.add(
                        id,
                        CheckStatus::Fail,
                        format!("`{role}` grants more than one repository's branch may have: {}", problems.join("; ")),
                        format!("detach every policy but {} from `{role}`, then `t3s3 ci-role --repo OWNER/NAME --branch BRANCH` narrows its trust policy", self.policy_name),
                    );
                }
            }
            Err(error) => audit.skip(&[id], &format!("cannot read role `{role}`: {}", error.code_name())),
        }
    }

    pub(super) async fn root_mfa(&self, audit: &Audit) {
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

    pub(super) async fn storage(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
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
        // Request counts (the guide's 20,000 GET and 2,000 PUT a month) exist only as
        // CloudWatch request metrics, which a bucket has only once they are turned on and
        // paid for: t3s3 does not read them, and says so rather than guess.
        let evidence = format!(
            "{evidence}; requests are not counted here (S3 reports them only as CloudWatch request metrics, off unless enabled; see Billing → Free tier)"
        );
        let fix = if status == CheckStatus::Warn { "past the free tier: check billing alerts" } else { "" };
        audit.add(CheckId::Storage, status, evidence, fix);
    }

    /// The guide's "set up billing alerts": a cost budget with at least one notification.
    pub(super) async fn billing_alert(&self, audit: &Audit, account: &str) {
        let id = CheckId::BillingAlert;
        match crate::budgets::cost_budgets(&self.clients.budgets(), account).await {
            Ok(budgets) => match budgets.iter().find(|(_, notifications)| *notifications > 0) {
                Some((name, count)) => {
                    audit.add(id, CheckStatus::Pass, format!("cost budget `{name}` with {count} notification(s)"), "")
                }
                None => {
                    let seen = if budgets.is_empty() {
                        "no cost budget".to_string()
                    } else {
                        format!(
                            "cost budget(s) {} without notifications",
                            budgets.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                        )
                    };
                    audit.add(
                        id,
                        CheckStatus::Warn,
                        format!("{seen}: nothing warns you before the bill does"),
                        "`t3s3 init --budget-email YOU@EXAMPLE.COM` (a 5 USD monthly budget; --budget-usd N for another)",
                    )
                }
            },
            Err(error) if crate::budgets::is_denied(&error) => audit.skip(
                &[id],
                &format!(
                    "the acting credentials may not read budgets ({}): grant budgets:ViewBudget",
                    error.code_name()
                ),
            ),
            Err(error) => audit.skip(&[id], &format!("cannot read budgets: {}", diagnose::explain(&error).message)),
        }
    }

    pub(super) async fn access_logging(&self, audit: &Audit, s3: &aws_sdk_s3::Client) {
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

/// broad_s3_access: the user's other policies, or why they could not all be read (a FAIL:
/// none can be shown narrow).
fn broad_check(audit: &Audit, user: &str, policy_name: &str, found: Result<Vec<String>, AwsError>) {
    match found {
        Err(error) => audit.add(
            CheckId::BroadS3Access,
            CheckStatus::Fail,
            format!("cannot read every policy `{user}` holds, so none can be shown narrow: {error}"),
            "grant the acting credentials iam:ListPolicyVersions, iam:GetPolicyVersion and iam:GetUserPolicy, then run doctor again",
        ),
        Ok(found) if found.is_empty() => audit.add(
            CheckId::BroadS3Access,
            CheckStatus::Pass,
            format!("`{user}` holds no policy granting all of S3"),
            "",
        ),
        Ok(found) => audit.add(
            CheckId::BroadS3Access,
            CheckStatus::Fail,
            format!("`{user}` holds {}", found.join("; ")),
            format!("detach it: `aws iam detach-user-policy --user-name {user} --policy-arn ARN` ({policy_name} grants what the backend needs)"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
