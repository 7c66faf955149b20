//! The backend's IAM side: its user, its access keys, and the customer-managed policy.
//! Every list call goes through the SDK's paginator, so long lists are read to the end.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::get_user::GetUserError;
use serde::Serialize;

use crate::aws_error::{AwsError, During, ErrorCode, ErrorKind};
use crate::join::join_all;

type Result<T> = std::result::Result<T, AwsError>;

fn user_named(user: &str) -> String {
    format!("IAM user `{user}`")
}

/// Whether the IAM user exists.
pub async fn user_exists(iam: &Client, user: &str) -> Result<bool> {
    match iam.get_user().user_name(user).send().await {
        Ok(_) => Ok(true),
        Err(error) if matches!(error.as_service_error(), Some(GetUserError::NoSuchEntityException(_))) => Ok(false),
        Err(error) => Err(AwsError::from_sdk(&error, "iam:GetUser", user_named(user))),
    }
}

/// Creates the user, already marked as having a key created for it (it has none before),
/// so [`create_key`] need not mark it again.
pub async fn create_user(iam: &Client, user: &str) -> Result<()> {
    let creating = tag(CREATING_TAG, "");
    let request = iam.create_user().user_name(user).set_tags(creating.map(|t| vec![t]));
    request.send().await.during("iam:CreateUser", user_named(user))?;
    Ok(())
}

/// One access key of a user, without its secret (which AWS never shows again).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub status: String,
    pub age_days: Option<u64>,
    /// When it was created, in milliseconds since the epoch.
    pub created_ms: Option<i64>,
    pub last_used: Option<String>,
}

impl KeyInfo {
    pub fn active(&self) -> bool {
        self.status == "Active"
    }

    pub fn describe(&self) -> String {
        let age = self.age_days.map_or("age unknown".into(), |d| format!("{d} days old"));
        let used = self.last_used.clone().unwrap_or_else(|| "never used".into());
        format!("{} ({}, {age}, {used})", self.id, self.status)
    }
}

fn days_since(seconds: i64) -> Option<u64> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    u64::try_from((now - seconds) / 86_400).ok()
}

/// When a key was last used, in words; `None` when never (or when IAM will not say).
async fn last_used(iam: &Client, id: &str) -> Option<String> {
    let out = iam.get_access_key_last_used().access_key_id(id).send().await.ok()?;
    let used = out.access_key_last_used()?;
    let date = used.last_used_date()?;
    Some(format!("last used {} days ago ({})", days_since(date.secs()).unwrap_or(0), used.service_name()))
}

/// When (milliseconds since the epoch) and for which service AWS last recorded a use of key
/// `id`; `None` when never. An error when IAM will not say.
pub async fn last_use(iam: &Client, id: &str) -> Result<Option<(i64, String)>> {
    let out = iam
        .get_access_key_last_used()
        .access_key_id(id)
        .send()
        .await
        .during("iam:GetAccessKeyLastUsed", format!("access key {id}"))?;
    Ok(out.access_key_last_used().and_then(|used| {
        used.last_used_date().and_then(|date| Some((date.to_millis().ok()?, used.service_name().to_string())))
    }))
}

/// The user's access keys (with when each was last used when `with_last_used`, asked for
/// all keys at once).
pub async fn list_keys(iam: &Client, user: &str, with_last_used: bool) -> Result<Vec<KeyInfo>> {
    let mut keys = Vec::new();
    let mut pages = iam.list_access_keys().user_name(user).into_paginator().items().send();
    while let Some(key) = pages.next().await {
        let key = key.during("iam:ListAccessKeys", user_named(user))?;
        keys.push(KeyInfo {
            id: key.access_key_id().unwrap_or_default().to_string(),
            status: key.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            age_days: key.create_date().and_then(|d| days_since(d.secs())),
            created_ms: key.create_date().and_then(|d| d.to_millis().ok()),
            last_used: None,
        });
    }
    if with_last_used {
        add_last_used(iam, &mut keys).await;
    }
    Ok(keys)
}

/// Fills in when each key was last used, asked for all of them at once.
pub async fn add_last_used(iam: &Client, keys: &mut [KeyInfo]) {
    let used = join_all(keys.iter().map(|key| last_used(iam, &key.id))).await;
    for (key, used) in keys.iter_mut().zip(used) {
        key.last_used = used;
    }
}

/// A new access key: its ID and its secret, shown by AWS only this once.
pub struct NewKey {
    pub id: String,
    pub secret: String,
}

/// The description the guide gives the key (step 4.3). The console stores a key's
/// description as a tag on the user whose key is the access key ID.
pub const KEY_DESCRIPTION: &str = "T3 Chat Backend S3 Access";

/// The user tag set while a key is being created: its value lists the keys that existed
/// before, so a key created by a run killed before it could tag the key is still found.
pub const CREATING_TAG: &str = "t3s3:creating";
/// The user tag `rotate-key` leaves on a user whose old key still works after a rotation:
/// its value is that key's id, which `rotate-key --retire` (and only it) retires.
pub const RETIRING_TAG: &str = "t3s3:retiring";

fn tag(key: impl Into<String>, value: impl Into<String>) -> Option<aws_sdk_iam::types::Tag> {
    aws_sdk_iam::types::Tag::builder().key(key).value(value).build().ok()
}

/// Creates a key; until [`mark_written`], the user's creating mark (which lists the keys
/// that existed before) identifies it if the run stops. `existing` are the user's keys
/// before; the user is marked first unless `user_is_new` (then [`create_user`] did it).
/// CreateAccessKey is not retried: a lost answer would otherwise leave keys nobody knows.
/// Tags that cannot be set (no iam:TagUser) do not undo the key.
pub async fn create_key(iam: &Client, user: &str, existing: &[String], user_is_new: bool) -> Result<NewKey> {
    if !user_is_new {
        let before = tag(CREATING_TAG, existing.join(" "));
        let _ = iam.tag_user().user_name(user).set_tags(before.map(|t| vec![t])).send().await;
    }
    let out = iam
        .create_access_key()
        .user_name(user)
        .customize()
        .config_override(
            aws_sdk_iam::config::Config::builder().retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
        .during("iam:CreateAccessKey", user_named(user))?;
    let key = out.access_key().ok_or_else(|| {
        AwsError::new("iam:CreateAccessKey", user_named(user), ErrorKind::Unreadable("the answer holds no key".into()))
    })?;
    crate::mask::know(key.secret_access_key());
    Ok(NewKey { id: key.access_key_id().to_string(), secret: key.secret_access_key().to_string() })
}

/// Gives a key the guide's description (step 4.3), as the console does: a user tag named
/// after the key. Cosmetic: a refusal (no iam:TagUser) is not an error.
pub async fn describe_key(iam: &Client, user: &str, id: &str) {
    if let Some(description) = tag(id, KEY_DESCRIPTION) {
        let _ = iam.tag_user().user_name(user).tags(description).send().await;
    }
}

/// Marks `old_key` as replaced but still working, for `rotate-key --retire`.
pub async fn mark_retiring(iam: &Client, user: &str, old_key: &str) -> Result<()> {
    let request = iam.tag_user().user_name(user).set_tags(tag(RETIRING_TAG, old_key).map(|t| vec![t]));
    request.send().await.during("iam:TagUser", user_named(user))?;
    Ok(())
}

/// The old key is retired: its mark goes.
pub async fn unmark_retiring(iam: &Client, user: &str) {
    let _ = iam.untag_user().user_name(user).tag_keys(RETIRING_TAG).send().await;
}

/// The user's keys, and the one a rotation left working (its retiring mark), read at once.
pub async fn keys_and_retiring(iam: &Client, user: &str) -> Result<(Vec<KeyInfo>, Option<String>)> {
    let (keys, tags) = tokio::join!(list_keys(iam, user, false), user_tags(iam, user));
    let keys = keys?;
    let ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    let retiring = retiring_among(&tags?, &ids);
    Ok((keys, retiring))
}

/// The key a rotation left working (its retiring mark), if it is still among `keys`.
pub fn retiring_among(tags: &[(String, String)], keys: &[String]) -> Option<String> {
    tags.iter().find(|(key, _)| key == RETIRING_TAG).map(|(_, id)| id.clone()).filter(|id| keys.contains(id))
}

/// A key is in a .env now: the creating mark goes.
pub async fn mark_written(iam: &Client, user: &str) {
    let _ = iam.untag_user().user_name(user).tag_keys(CREATING_TAG).send().await;
}

/// The user's tags, as (key, value).
pub async fn user_tags(iam: &Client, user: &str) -> Result<Vec<(String, String)>> {
    let mut tags = Vec::new();
    let mut pages = iam.list_user_tags().user_name(user).into_paginator().items().send();
    while let Some(tag) = pages.next().await {
        let tag = tag.during("iam:ListUserTags", user_named(user))?;
        tags.push((tag.key().to_string(), tag.value().to_string()));
    }
    Ok(tags)
}

/// Of `keys` (the user's keys now), those t3s3 created and never wrote to a .env: the
/// ones a creation that never finished (its creating mark is still there) added.
pub fn unwritten_among(tags: &[(String, String)], keys: &[String]) -> Vec<String> {
    let Some((_, before)) = tags.iter().find(|(key, _)| key == CREATING_TAG) else { return Vec::new() };
    let before: Vec<&str> = before.split_whitespace().collect();
    keys.iter().filter(|id| !before.contains(&id.as_str())).cloned().collect()
}

/// Deletes a key and the description tag the console (or t3s3) gave it.
pub async fn delete_key(iam: &Client, user: &str, id: &str) -> Result<()> {
    iam.delete_access_key()
        .user_name(user)
        .access_key_id(id)
        .send()
        .await
        .during("iam:DeleteAccessKey", format!("access key {id} of `{user}`"))?;
    let _ = iam.untag_user().user_name(user).tag_keys(id).send().await;
    Ok(())
}

/// Deactivates a key (it stays listed and can be reactivated).
pub async fn deactivate_key(iam: &Client, user: &str, id: &str) -> Result<()> {
    iam.update_access_key()
        .user_name(user)
        .access_key_id(id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .during("iam:UpdateAccessKey", format!("access key {id} of `{user}`"))?;
    Ok(())
}

/// The IAM user an access key belongs to, if IAM knows the key.
pub async fn user_of_key(iam: &Client, id: &str) -> Result<Option<String>> {
    match iam
        .get_access_key_last_used()
        .access_key_id(id)
        .send()
        .await
        .during("iam:GetAccessKeyLastUsed", format!("access key {id}"))
    {
        Ok(out) => Ok(out.user_name().map(str::to_string)),
        Err(error) if error.is_not_found() || error.status == Some(400) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Who holds a managed policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyHolders {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

/// Every user, group and role the policy is attached to, across all pages.
pub async fn policy_holders(iam: &Client, arn: &str) -> Result<PolicyHolders> {
    let mut holders = PolicyHolders::default();
    let mut pages = iam.list_entities_for_policy().policy_arn(arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.during("iam:ListEntitiesForPolicy", arn)?;
        holders.users.extend(page.policy_users().iter().filter_map(|u| u.user_name().map(str::to_string)));
        holders.groups.extend(page.policy_groups().iter().filter_map(|g| g.group_name().map(str::to_string)));
        holders.roles.extend(page.policy_roles().iter().filter_map(|r| r.role_name().map(str::to_string)));
    }
    Ok(holders)
}

/// Detaches the policy from every holder and deletes its non-default versions, all at once,
/// then deletes the policy.
pub async fn delete_policy(iam: &Client, state: &PolicyState, holders: &PolicyHolders) -> Result<()> {
    let arn = state.arn.as_str();
    let users = join_all(holders.users.iter().map(|user| async move {
        iam.detach_user_policy()
            .user_name(user)
            .policy_arn(arn)
            .send()
            .await
            .during("iam:DetachUserPolicy", arn)
            .map(drop)
    }));
    let groups = join_all(holders.groups.iter().map(|group| async move {
        iam.detach_group_policy()
            .group_name(group)
            .policy_arn(arn)
            .send()
            .await
            .during("iam:DetachGroupPolicy", arn)
            .map(drop)
    }));
    let roles = join_all(holders.roles.iter().map(|role| async move {
        iam.detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .during("iam:DetachRolePolicy", arn)
            .map(drop)
    }));
    let versions = join_all(state.older_versions.iter().map(|version| async move {
        let request = iam.delete_policy_version().policy_arn(arn).version_id(version);
        request.send().await.during("iam:DeletePolicyVersion", arn).map(drop)
    }));
    let (users, groups, roles, versions) = tokio::join!(users, groups, roles, versions);
    users.into_iter().chain(groups).chain(roles).chain(versions).collect::<Result<Vec<()>>>()?;
    iam.delete_policy().policy_arn(arn).send().await.during("iam:DeletePolicy", arn)?;
    Ok(())
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
}

pub fn policy_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:policy/{name}")
}

/// A customer-managed policy as it is in IAM.
#[derive(Debug, Clone)]
pub struct PolicyState {
    pub arn: String,
    pub default_version: String,
    pub document: String,
    /// Non-default versions, oldest first.
    pub older_versions: Vec<String>,
    pub version_count: usize,
}

/// IAM returns policy documents URL-encoded (RFC 3986); emulators may not.
pub fn decode_document(raw: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(raw).is_ok() {
        return raw.to_string();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(byte) = raw.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The policy and its default version's document, if the policy exists: its versions
/// (which name the default), then the default version's document. Two requests.
pub async fn find_policy(iam: &Client, arn: &str) -> Result<Option<PolicyState>> {
    let mut versions = Vec::new();
    let mut pages = iam.list_policy_versions().policy_arn(arn).into_paginator().items().send();
    while let Some(version) = pages.next().await {
        match version.during("iam:ListPolicyVersions", arn) {
            Ok(version) => versions.push(version),
            Err(error) if error.is(&ErrorCode::NoSuchEntity) || error.status == Some(404) => return Ok(None),
            Err(error) => return Err(error),
        }
    }
    let default_version =
        versions.iter().find(|v| v.is_default_version()).and_then(|v| v.version_id()).unwrap_or("v1").to_string();
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&default_version)
        .send()
        .await
        .during("iam:GetPolicyVersion", arn)?;
    let document = decode_document(version.policy_version().and_then(|v| v.document()).unwrap_or_default());
    let mut older: Vec<(i64, String)> = versions
        .iter()
        .filter(|v| !v.is_default_version())
        .map(|v| (v.create_date().map_or(0, |d| d.secs()), v.version_id().unwrap_or_default().to_string()))
        .collect();
    older.sort_by_key(|(created, id)| (*created, version_number(id)));
    Ok(Some(PolicyState {
        arn: arn.to_string(),
        default_version,
        document,
        older_versions: older.into_iter().map(|(_, id)| id).collect(),
        version_count: versions.len(),
    }))
}

fn version_number(id: &str) -> u64 {
    id.trim_start_matches('v').parse().unwrap_or(0)
}

/// Creates the policy; returns its ARN.
pub async fn create_policy(iam: &Client, name: &str, document: &str, description: &str) -> Result<String> {
    let out = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .description(description)
        .send()
        .await
        .during("iam:CreatePolicy", format!("policy `{name}`"))?;
    Ok(out.policy().and_then(|p| p.arn()).unwrap_or_default().to_string())
}

/// Makes `document` the policy's new default version, first deleting the oldest
/// non-default version when the policy already has the five IAM allows.
/// Returns the new version ID and the version deleted, if any.
pub async fn new_default_version(
    iam: &Client,
    state: &PolicyState,
    document: &str,
) -> Result<(String, Option<String>)> {
    let mut deleted = None;
    if state.version_count >= 5 {
        if let Some(oldest) = state.older_versions.first() {
            iam.delete_policy_version()
                .policy_arn(&state.arn)
                .version_id(oldest)
                .send()
                .await
                .during("iam:DeletePolicyVersion", format!("{} {oldest}", state.arn))?;
            deleted = Some(oldest.clone());
        }
    }
    let out = iam
        .create_policy_version()
        .policy_arn(&state.arn)
        .policy_document(document)
        .set_as_default(true)
        .send()
        .await
        .during("iam:CreatePolicyVersion", &state.arn)?;
    Ok((out.policy_version().and_then(|v| v.version_id()).unwrap_or_default().to_string(), deleted))
}

/// The managed policies attached to the user: (name, ARN).
pub async fn attached_policies(iam: &Client, user: &str) -> Result<Vec<(String, String)>> {
    let mut attached = Vec::new();
    let mut pages = iam.list_attached_user_policies().user_name(user).into_paginator().items().send();
    while let Some(policy) = pages.next().await {
        let policy = policy.during("iam:ListAttachedUserPolicies", user_named(user))?;
        attached.push((
            policy.policy_name().unwrap_or_default().to_string(),
            policy.policy_arn().unwrap_or_default().to_string(),
        ));
    }
    Ok(attached)
}

pub async fn attach(iam: &Client, user: &str, arn: &str) -> Result<()> {
    iam.attach_user_policy()
        .user_name(user)
        .policy_arn(arn)
        .send()
        .await
        .during("iam:AttachUserPolicy", format!("{arn} to `{user}`"))?;
    Ok(())
}

fn group_named(group: &str) -> String {
    format!("IAM group `{group}`")
}

/// Whether the IAM group exists.
pub async fn group_exists(iam: &Client, group: &str) -> Result<bool> {
    match iam.get_group().group_name(group).max_items(1).send().await.during("iam:GetGroup", group_named(group)) {
        Ok(_) => Ok(true),
        Err(error) if error.is(&ErrorCode::NoSuchEntity) => Ok(false),
        Err(error) => Err(error),
    }
}

/// The groups the user is a member of.
pub async fn groups_of(iam: &Client, user: &str) -> Result<Vec<String>> {
    let mut groups = Vec::new();
    let mut pages = iam.list_groups_for_user().user_name(user).into_paginator().items().send();
    while let Some(group) = pages.next().await {
        groups.push(group.during("iam:ListGroupsForUser", user_named(user))?.group_name().to_string());
    }
    Ok(groups)
}

/// The managed policies the user holds through its groups: (name, ARN, group), the groups'
/// lists read at once.
pub async fn group_policies_of(iam: &Client, user: &str) -> Result<Vec<(String, String, String)>> {
    let groups = groups_of(iam, user).await?;
    let lists = join_all(groups.iter().map(|group| async move {
        let mut found = Vec::new();
        let mut pages = iam.list_attached_group_policies().group_name(group).into_paginator().items().send();
        while let Some(policy) = pages.next().await {
            let policy = policy.during("iam:ListAttachedGroupPolicies", group_named(group))?;
            let (name, arn) = (policy.policy_name().unwrap_or_default(), policy.policy_arn().unwrap_or_default());
            found.push((name.to_string(), arn.to_string(), group.clone()));
        }
        Ok::<_, AwsError>(found)
    }))
    .await;
    Ok(lists.into_iter().collect::<Result<Vec<_>>>()?.into_iter().flatten().collect())
}

pub async fn create_group(iam: &Client, group: &str) -> Result<()> {
    iam.create_group().group_name(group).send().await.during("iam:CreateGroup", group_named(group))?;
    Ok(())
}

pub async fn attach_to_group(iam: &Client, group: &str, arn: &str) -> Result<()> {
    let request = iam.attach_group_policy().group_name(group).policy_arn(arn);
    request.send().await.during("iam:AttachGroupPolicy", format!("{arn} to group `{group}`"))?;
    Ok(())
}

pub async fn add_to_group(iam: &Client, group: &str, user: &str) -> Result<()> {
    let request = iam.add_user_to_group().group_name(group).user_name(user);
    request.send().await.during("iam:AddUserToGroup", format!("`{user}` to group `{group}`"))?;
    Ok(())
}

pub async fn detach_from_user(iam: &Client, user: &str, arn: &str) -> Result<()> {
    let request = iam.detach_user_policy().user_name(user).policy_arn(arn);
    request.send().await.during("iam:DetachUserPolicy", format!("{arn} from `{user}`"))?;
    Ok(())
}

/// What the group holds besides membership: its managed and inline policies, and members.
#[derive(Debug, Clone, Default)]
pub struct GroupContents {
    pub policies: Vec<String>,
    pub inline: Vec<String>,
    pub members: Vec<String>,
}

/// The group's managed policies (ARNs), inline policy names and members, read at once;
/// `None` when the group does not exist.
pub async fn group_contents(iam: &Client, group: &str) -> Result<Option<GroupContents>> {
    let managed = async {
        let mut arns = Vec::new();
        let mut pages = iam.list_attached_group_policies().group_name(group).into_paginator().items().send();
        while let Some(policy) = pages.next().await {
            let policy = policy.during("iam:ListAttachedGroupPolicies", group_named(group))?;
            arns.push(policy.policy_arn().unwrap_or_default().to_string());
        }
        Ok::<_, AwsError>(arns)
    };
    let inline = async {
        let mut names = Vec::new();
        let mut pages = iam.list_group_policies().group_name(group).into_paginator().items().send();
        while let Some(name) = pages.next().await {
            names.push(name.during("iam:ListGroupPolicies", group_named(group))?);
        }
        Ok::<_, AwsError>(names)
    };
    let members = async {
        let mut users = Vec::new();
        let mut pages = iam.get_group().group_name(group).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.during("iam:GetGroup", group_named(group))?;
            users.extend(page.users().iter().map(|u| u.user_name().to_string()));
        }
        Ok::<_, AwsError>(users)
    };
    let (managed, inline, members) = tokio::join!(managed, inline, members);
    match members {
        Err(error) if error.is(&ErrorCode::NoSuchEntity) => Ok(None),
        members => Ok(Some(GroupContents { policies: managed?, inline: inline?, members: members? })),
    }
}

/// Removes every member and deletes the group (which must hold no policy).
pub async fn delete_group(iam: &Client, group: &str, members: &[String]) -> Result<()> {
    let removed = join_all(members.iter().map(|user| async move {
        let request = iam.remove_user_from_group().group_name(group).user_name(user);
        request.send().await.during("iam:RemoveUserFromGroup", group_named(group)).map(drop)
    }))
    .await;
    removed.into_iter().collect::<Result<Vec<()>>>()?;
    iam.delete_group().group_name(group).send().await.during("iam:DeleteGroup", group_named(group))?;
    Ok(())
}

/// The user's inline policies: (name, document), the documents read at once.
async fn inline_policies(iam: &Client, user: &str) -> Result<Vec<(String, String)>> {
    let mut names = Vec::new();
    let mut pages = iam.list_user_policies().user_name(user).into_paginator().items().send();
    while let Some(name) = pages.next().await {
        names.push(name.during("iam:ListUserPolicies", user_named(user))?);
    }
    let documents = join_all(names.iter().map(|name| async move {
        let request = iam.get_user_policy().user_name(user).policy_name(name);
        request.send().await.during("iam:GetUserPolicy", user_named(user))
    }))
    .await;
    names
        .into_iter()
        .zip(documents)
        .map(|(name, policy)| Ok((name, decode_document(policy?.policy_document()))))
        .collect()
}

/// Policies of the user, other than `except_arn`, that grant all of S3 or every bucket:
/// the guide says not to. All read at once. A policy that cannot be read is an error, never
/// "not broad": the check rests on having read them all.
pub async fn broad_s3_grants(
    iam: &Client,
    user: &str,
    attached: &[(String, String)],
    except_arn: &str,
) -> Result<Vec<String>> {
    let (managed, inline) = tokio::join!(broad_managed(iam, attached, except_arn), broad_inline(iam, user));
    let mut found = managed?;
    found.extend(inline?);
    Ok(found)
}

/// The managed policies of `held` (name, ARN), other than `except_arn`, that grant all of S3
/// or every bucket.
pub async fn broad_managed(iam: &Client, held: &[(String, String)], except_arn: &str) -> Result<Vec<String>> {
    let others: Vec<&(String, String)> = held.iter().filter(|(_, arn)| arn != except_arn).collect();
    let managed = join_all(others.iter().map(|(name, arn)| async move {
        if name == "AmazonS3FullAccess" {
            return Ok(Some(format!("managed policy AmazonS3FullAccess ({arn})")));
        }
        let Some(state) = find_policy(iam, arn).await? else { return Ok(None) };
        Ok(crate::policy::broad_s3_grant(&state.document).map(|what| format!("managed policy {name}, which {what}")))
    }))
    .await;
    Ok(managed.into_iter().collect::<Result<Vec<_>>>()?.into_iter().flatten().collect())
}

/// The user's inline policies that grant all of S3 or every bucket: they need only the
/// user's name, so they are read alongside everything else.
pub async fn broad_inline(iam: &Client, user: &str) -> Result<Vec<String>> {
    Ok(inline_policies(iam, user)
        .await?
        .into_iter()
        .filter_map(|(name, document)| {
            crate::policy::broad_s3_grant(&document).map(|what| format!("inline policy {name}, which {what}"))
        })
        .collect())
}

/// Whether the account root has MFA (GetAccountSummary's AccountMFAEnabled).
pub async fn root_mfa_enabled(iam: &Client) -> Result<bool> {
    let out = iam.get_account_summary().send().await.during("iam:GetAccountSummary", "the account")?;
    let enabled =
        out.summary_map().and_then(|m| m.get(&aws_sdk_iam::types::SummaryKeyType::AccountMfaEnabled)).copied();
    Ok(enabled == Some(1))
}

mod role;
pub use role::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_documents() {
        assert_eq!(decode_document("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(decode_document("{\"a\":\"%41\"}"), "{\"a\":\"%41\"}");
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("arn:aws:iam::123456789012:user/x"), "aws");
        assert_eq!(partition("arn:aws-cn:iam::123456789012:user/x"), "aws-cn");
    }
}
