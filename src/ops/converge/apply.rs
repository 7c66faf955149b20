//! init's changes: one step per resource (or, with --dry-run, only the record of it), the
//! S3 side and the IAM side together, with the summary rows in a fixed order.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::aws::{self, ActingClients};
use crate::bucket;
use crate::bucket_name;
use crate::budgets;
use crate::exit::Failure;
use crate::fsio;
use crate::git;
use crate::iam;
use crate::join::join_all;
use crate::keys::Key;
use crate::policy;

use super::discover::{Discovery, KeyPlan};
use super::{Local, NamespaceRefused, Options, Tls};
use crate::change::{Change, Kind};
use crate::ops::record::{Record, Resource, Status};

/// Makes each change (or, with --dry-run, only records it), keeps the summary rows and
/// a list of what was changed, for the summary of a failure. The S3 work and the IAM work
/// go out together; rows and changes are sorted into a fixed order at the end.
pub(super) struct Apply<'a> {
    pub(super) clients: &'a ActingClients,
    pub(super) options: &'a Options,
    pub(super) account: &'a str,
    pub(super) record: Record,
}

impl Apply<'_> {
    /// Every step. .gitignore first: no secret is ever written to a file git would pick
    /// up. Then the bucket side and the IAM side at once; a key created while the other
    /// side failed is deleted again (nobody would hold its secret). Then the .env.
    pub(super) async fn all(&self, found: &Discovery, local: &mut Local) -> Result<Option<iam::NewKey>> {
        self.gitignore(&local.env_path)?;
        let bucket_name = local.bucket().to_string();
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
            self.record.forget(|change| change.what.contains(&key.id));
            error.context(format!("the new access key {} was deleted again", key.id))
        } else {
            error
        }
    }

    /// The rows and the changes, in [`Kind`]'s order.
    pub(super) fn finish(self) -> (Vec<Resource>, Vec<Change>) {
        self.record.into_parts()
    }

    fn row(&self, resource: Kind, name: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.record.row(resource, name, status, detail);
    }

    /// `unchanged` when nothing is needed, else created / updated (or would be).
    fn status(&self, needed: bool, create: bool) -> Status {
        self.record.status(needed, create)
    }

    fn changed(&self, change: Change) {
        self.record.changed(change);
    }

    /// The billing alert (`--budget-email`): a monthly cost budget named
    /// [`budgets::BUDGET_NAME`] with both alerts, created, or its limit and alerts made to
    /// match. Credentials that may not use Budgets give a warning with the fix, not an error.
    pub(super) async fn budget(&self, account: &str) -> Result<Option<String>> {
        let Some(wish) = &self.options.budget else { return Ok(None) };
        let (client, name, dry_run) = (self.clients.budgets(), budgets::BUDGET_NAME, self.options.dry_run);
        let denied = |error: &crate::aws_error::AwsError| {
            format!(
                "billing alert not set: {} ({}); grant budgets:ViewBudget and budgets:ModifyBudget, then run `t3s3 init --budget-email {}` again",
                error.action,
                error.code_name(),
                wish.email
            )
        };
        let found = match budgets::find(&client, account, name).await {
            Ok(found) => found,
            Err(error) if budgets::is_denied(&error) => return Ok(Some(denied(&error))),
            Err(error) => return Err(error.into()),
        };
        let alerts = budgets::ALERTS.iter().map(budgets::describe_alert).collect::<Vec<_>>().join(" and ");
        let detail = format!("{} USD a month; e-mails {} at {alerts}", wish.usd, wish.email);
        let Some(state) = found else {
            if !dry_run {
                match budgets::create(&client, account, name, wish.usd, &wish.email).await {
                    Ok(()) => self.changed(Change::created(Kind::Budget, format!("budget {name} created"))),
                    Err(error) if budgets::is_denied(&error) => return Ok(Some(denied(&error))),
                    Err(error) => return Err(error.into()),
                }
            }
            self.row(Kind::Budget, name, self.status(true, true), detail);
            return Ok(None);
        };
        let limit_differs = state.limit_usd.is_none_or(|limit| (limit - wish.usd).abs() > 0.005);
        let missing = state.missing_alerts();
        if !dry_run {
            if limit_differs {
                budgets::update_limit(&client, account, name, wish.usd).await?;
                self.changed(Change::updated(Kind::Budget, format!("budget {name} set to {} USD", wish.usd)));
            }
            for alert in &missing {
                budgets::add_alert(&client, account, name, alert, &wish.email).await?;
                self.changed(Change::updated(
                    Kind::Budget,
                    format!("{} alert added to {name}", budgets::describe_alert(alert)),
                ));
            }
        }
        let mut what = Vec::new();
        if limit_differs {
            what.push(format!("limit was {}", state.limit_usd.map_or("unset".into(), |l| format!("{l} USD"))));
        }
        what.extend(missing.iter().map(|alert| format!("{} alert added", budgets::describe_alert(alert))));
        let detail = if what.is_empty() { detail } else { format!("{detail} ({})", what.join("; ")) };
        self.row(Kind::Budget, name, self.status(limit_differs || !missing.is_empty(), false), detail);
        Ok(None)
    }

    /// Makes sure git ignores the env file.
    fn gitignore(&self, env_path: &Path) -> Result<()> {
        let dry_run = self.options.dry_run;
        let repo = git::repo_root(env_path);
        let gitignore = repo.as_ref().map_or_else(|| PathBuf::from(".gitignore"), |root| root.join(".gitignore"));
        let existed = gitignore.exists();
        if let Some(rule) = repo.as_ref().and_then(|_| git::reincluded_elsewhere(env_path, &gitignore)) {
            return Err(Failure::bad_input(format!(
                "git does not ignore {} even with t3s3's patterns in {}: {rule} re-includes it",
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
            self.changed(Change::updated(
                Kind::Gitignore,
                format!("{} gained {}", gitignore.display(), added.join(", ")),
            ));
        }
        if repo.is_some() && !dry_run && !git::is_ignored(env_path) {
            return Err(Failure::bad_input(format!(
                "git does not ignore {} even with t3s3's patterns in {}",
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
            (Some(_), true) => format!("has {}; git ignores {env}", git::IGNORE_PATTERNS.join(", ")),
            (Some(_), false) => format!("added {}; git ignores {env}", added.join(", ")),
            (None, true) => format!("has {} (not a git repository)", git::IGNORE_PATTERNS.join(", ")),
            (None, false) => format!("added {} (not a git repository)", added.join(", ")),
        };
        self.row(Kind::Gitignore, gitignore.display().to_string(), self.status(!added.is_empty(), !existed), detail);
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
            self.changed(Change::created(Kind::Bucket, format!("bucket `{name}` created in {region}")));
        }
        let namespace = match bucket_name::account_regional_parts(name) {
            Some(_) => "; account regional namespace (only this account can create the name)".to_string(),
            None => String::new(),
        };
        self.row(Kind::Bucket, name, self.status(create, true), format!("in {region}{namespace}"));

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
                        self.changed(Change::updated(*resource, what.clone()));
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
    fn bucket_needs(&self, name: &str, create: bool, before: &bucket::Settings) -> Vec<(Kind, bool, String)> {
        // A new bucket already has ACLs disabled (ObjectOwnership on CreateBucket).
        vec![
            (Kind::ObjectOwnership, !before.acls_disabled() && !create, format!("ACLs disabled on `{name}`")),
            (
                Kind::PublicAccessBlock,
                !before.all_public_access_blocked(),
                format!("Block Public Access turned on for `{name}`"),
            ),
            (Kind::Encryption, !before.encrypted(), format!("SSE-S3 default encryption set on `{name}`")),
            (
                Kind::Versioning,
                self.options.versioning && !before.versioning_enabled(),
                format!("versioning turned on for `{name}`"),
            ),
            (
                Kind::TlsOnly,
                self.options.tls.required() && !policy::has_tls_statement(before.policy.as_deref(), name),
                format!("statement {} added to the bucket policy of `{name}`", policy::TLS_SID),
            ),
            (
                Kind::Lifecycle,
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
        resource: &Kind,
        before: &bucket::Settings,
    ) -> Result<()> {
        match resource {
            Kind::ObjectOwnership => bucket::disable_acls(s3, name).await?,
            Kind::PublicAccessBlock => bucket::block_public_access(s3, name).await?,
            Kind::Encryption => bucket::encrypt_sse_s3(s3, name).await?,
            Kind::Versioning => bucket::enable_versioning(s3, name).await?,
            Kind::TlsOnly => {
                let document = policy::with_tls_statement(before.policy.as_deref(), name).map_err(|error| {
                    Failure::check_failed(format!("the bucket policy of `{name}` cannot be merged: {error:#}"))
                        .hint("fix or delete the bucket policy, or pass --allow-http to leave it alone")
                })?;
                bucket::put_policy(s3, name, &document).await?
            }
            Kind::Lifecycle => bucket::put_lifecycle(s3, name, before.lifecycle_with_abort_rule()).await?,
            other => return Err(Failure::unexpected(format!("{} is not a bucket setting", other.name())).into()),
        }
        Ok(())
    }

    fn bucket_rows(&self, name: &str, create: bool, before: &bucket::Settings, after: &bucket::Settings) {
        let fix_versioning = self.options.versioning && !before.versioning_enabled();
        let status = |needed: bool| self.status(needed, create);
        self.row(Kind::ObjectOwnership, name, status(!before.acls_disabled()), "BucketOwnerEnforced (ACLs disabled)");
        self.row(
            Kind::PublicAccessBlock,
            name,
            status(!before.all_public_access_blocked()),
            "all four Block Public Access flags on",
        );
        let encryption = match after.encryption.as_deref() {
            Some("AES256") | None => "SSE-S3 (AES256)".to_string(),
            Some(other) => format!("{other} (already stronger than SSE-S3; left as it is)"),
        };
        self.row(Kind::Encryption, name, status(!before.encrypted()), encryption);
        let versioning_detail =
            match (self.options.versioning || before.versioning_enabled(), before.versioning.as_deref()) {
                (true, _) => "on",
                (false, Some("Suspended")) => "suspended",
                (false, _) => "off (pass --versioning to keep object history)",
            };
        self.row(Kind::Versioning, name, status(fix_versioning), versioning_detail);
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
        self.row(Kind::TlsOnly, name, tls_status, tls_detail);
        let others = after.lifecycle.iter().filter(|r| r.id() != Some(bucket::ABORT_RULE_ID)).count();
        let kept = if others > 0 { format!("; {others} other rule(s) kept") } else { String::new() };
        let detail = format!("incomplete multipart uploads aborted after {} days{kept}", bucket::ABORT_AFTER_DAYS);
        self.row(Kind::Lifecycle, name, status(!before.has_abort_rule()), detail);
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
            self.changed(Change::created(Kind::User, format!("IAM user `{user}` created")));
        }
        self.row(Kind::User, user, self.status(!exists, true), format!("account {}", self.account));
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
                    self.changed(Change::created(Kind::Policy, format!("policy {name} created")));
                    arn
                };
                self.row(Kind::Policy, arn, self.status(true, true), format!("{name} v1"));
            }
            Some(state) if policy::same_document(&state.document, &found.document) => {
                let detail = format!("{name} {} (default)", state.default_version);
                self.row(Kind::Policy, state.arn.clone(), Status::Unchanged, detail);
            }
            Some(state) if dry_run => {
                let pruned = match (state.version_count >= 5, state.older_versions.first()) {
                    (true, Some(oldest)) => format!(", deleting {oldest}"),
                    _ => String::new(),
                };
                let detail =
                    format!("new default version{pruned}: its document differs from `t3s3 policy --bucket {bucket}`");
                self.row(Kind::Policy, state.arn.clone(), Status::WouldUpdate, detail);
            }
            Some(state) => {
                let (version, deleted) = iam::new_default_version(iam_client, state, &found.document).await?;
                self.changed(Change::updated(Kind::Policy, format!("policy {name} {version} made the default")));
                let detail = match deleted {
                    Some(old) => format!("{name} {version} (default; drifted, deleted oldest version {old})"),
                    None => format!("{name} {version} (default; the old document had drifted)"),
                };
                self.row(Kind::Policy, state.arn.clone(), Status::Updated, detail);
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
            self.changed(Change::created(Kind::Group, format!("IAM group `{group}` created")));
        }
        self.row(
            Kind::Group,
            group,
            self.status(!facts.exists, true),
            format!("holds {name}; the user gets it as a member"),
        );
        let attach = async {
            if !facts.holds_policy && !dry_run {
                iam::attach_to_group(iam_client, group, arn).await?;
                self.changed(Change::created(Kind::Attachment, format!("{name} attached to group `{group}`")));
            }
            Ok::<_, anyhow::Error>(())
        };
        let member = async {
            if !facts.has_member && !dry_run {
                iam::add_to_group(iam_client, group, user).await?;
                self.changed(Change::created(Kind::Membership, format!("`{user}` added to group `{group}`")));
            }
            Ok::<_, anyhow::Error>(())
        };
        let (attach, member) = tokio::join!(attach, member);
        attach?;
        member?;
        self.row(Kind::Attachment, format!("{name} → group {group}"), self.status(!facts.holds_policy, true), "");
        self.row(Kind::Membership, format!("{user} ∈ {group}"), self.status(!facts.has_member, true), "");
        if !found.attached {
            return Ok(());
        }
        if !dry_run {
            self.key_still_works(found, bucket).await?;
            iam::detach_from_user(iam_client, user, arn).await?;
            self.changed(Change::deleted(
                Kind::DirectAttachment,
                format!("{name} detached from `{user}` (held through `{group}`)"),
            ));
        }
        let detail = format!("detached: `{user}` holds it through group {group} (the key was checked first)");
        self.row(Kind::DirectAttachment, format!("{name} → {user}"), Status::changed(dry_run, false), detail);
        Ok(())
    }

    /// Before the policy leaves the user: the .env's key reaches the bucket (GetBucketLocation,
    /// which the policy grants) with the group in place. A new key has nothing to check.
    async fn key_still_works(&self, found: &Discovery, bucket: &str) -> Result<()> {
        let Some((key_id, secret)) = &found.app_key else { return Ok(()) };
        let app = aws::AppCredentials {
            access_key_id: key_id.clone(),
            secret_access_key: secret.clone(),
            region: self.options.region.to_string(),
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
                self.changed(Change::deleted(Kind::AccessKey, format!("access key {orphan} (never written) deleted")));
            }
            let status = if self.options.dry_run { Status::WouldUpdate } else { Status::Updated };
            self.row(
                Kind::AccessKey,
                orphan.clone(),
                status,
                "deleted: an interrupted run created it and never wrote it",
            );
        }
        match plan.kept.as_deref() {
            Some(id) => {
                let detail = format!("Active key of `{user}` already in {}", env_path.display());
                self.row(Kind::AccessKey, id, Status::Unchanged, detail);
                Ok(None)
            }
            None if self.options.dry_run => {
                self.row(Kind::AccessKey, format!("new key of `{user}`"), Status::WouldCreate, "");
                Ok(None)
            }
            None => {
                let remaining: Vec<String> =
                    plan.existing.iter().filter(|id| !plan.orphans.contains(id)).cloned().collect();
                let key = match iam::create_key(&self.clients.iam, &user, &remaining, user_is_new).await {
                    Ok(key) => key,
                    Err(error) => {
                        return Err(super::super::lost_key_error(self.clients, error, &user, &remaining).await);
                    }
                };
                self.changed(Change::created(Kind::AccessKey, format!("access key {} created", key.id)));
                self.row(Kind::AccessKey, key.id.clone(), Status::Created, "the secret goes only into the env file");
                Ok(Some(key))
            }
        }
    }

    /// Merges the settings into the env file and writes it atomically with mode 0600.
    fn env_file(&self, local: &mut Local, new_key: Option<&iam::NewKey>) -> Result<()> {
        let key_id = new_key.map(|k| k.id.clone()).or(local.existing(Key::AccessKeyId)).unwrap_or_default();
        let secret = new_key.map(|k| k.secret.clone()).or(local.existing(Key::SecretAccessKey)).unwrap_or_default();
        let endpoint = self.clients.endpoint_url();
        let bucket = local.bucket().to_string();
        let mut updates =
            vec![(Key::Region.name(), self.options.region.as_str()), (Key::Bucket.name(), bucket.as_str())];
        // In a dry run without a key yet there is no key to write: the plan shows the rest.
        if !key_id.is_empty() {
            updates.splice(
                0..0,
                [(Key::AccessKeyId.name(), key_id.as_str()), (Key::SecretAccessKey.name(), secret.as_str())],
            );
        }
        if let Some(endpoint) = &endpoint {
            updates.push((Key::EndpointUrl.name(), endpoint.as_str()));
            // The T3 Chat backend reads S3_ENDPOINT_URL: written too when its config declares
            // it or the .env has it, so the backend talks to the same endpoint.
            let folder = fsio::folder(&local.env_path).to_path_buf();
            if local.existing(Key::S3EndpointUrl).is_some()
                || crate::backend::config_declares(&folder, Key::S3EndpointUrl.name())
            {
                updates.push((Key::S3EndpointUrl.name(), endpoint.as_str()));
            }
        }
        let path = local.env_path.clone();
        let existed = local.env.exists();
        let merged = local.env.merge(&updates);
        let loose_mode = existed && fsio::file_mode(&path).is_some_and(|mode| mode & 0o077 != 0);
        let needed = merged.changed() || loose_mode || !existed;
        if needed && !self.options.dry_run {
            local.env.write()?;
            self.changed(Change::created(Kind::EnvFile, format!("{} written", path.display())));
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
            (true, false) => format!("already up to date ({})", fsio::PRIVATE),
            (false, _) => format!("{}; other lines kept; {}", parts.join("; "), fsio::PRIVATE),
        };
        self.row(Kind::EnvFile, path.display().to_string(), self.status(needed, !existed), detail);
        Ok(())
    }
}
