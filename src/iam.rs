//! The backend's IAM side: its user, its access keys, and the customer-managed policy.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use aws_sdk_iam::Client;
use serde::Serialize;

use crate::diagnose::{acting_error, facts};

fn is_no_such_entity<E>(
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let facts = facts(error);
    facts.code.as_deref() == Some("NoSuchEntity") || facts.status == Some(404)
}

/// Whether the IAM user exists.
pub async fn user_exists(iam: &Client, user: &str) -> Result<bool> {
    match iam.get_user().user_name(user).send().await {
        Ok(_) => Ok(true),
        Err(e) if is_no_such_entity(&e) => Ok(false),
        Err(e) => Err(acting_error(e, "iam:GetUser", &format!("IAM user `{user}`"))),
    }
}

pub async fn create_user(iam: &Client, user: &str) -> Result<()> {
    iam.create_user()
        .user_name(user)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:CreateUser", &format!("IAM user `{user}`")))?;
    Ok(())
}

/// One access key of a user, without its secret (which AWS never shows again).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub status: String,
    pub age_days: Option<u64>,
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

/// The user's access keys (with when each was last used when `with_last_used`).
pub async fn list_keys(iam: &Client, user: &str, with_last_used: bool) -> Result<Vec<KeyInfo>> {
    let listed = iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:ListAccessKeys", &format!("IAM user `{user}`")))?;
    let mut keys = Vec::new();
    for key in listed.access_key_metadata() {
        let id = key.access_key_id().unwrap_or_default().to_string();
        let last_used = if with_last_used {
            match iam.get_access_key_last_used().access_key_id(&id).send().await {
                Ok(out) => out.access_key_last_used().and_then(|u| {
                    u.last_used_date().map(|date| {
                        let days = days_since(date.secs()).unwrap_or(0);
                        format!("last used {days} days ago ({})", u.service_name())
                    })
                }),
                Err(_) => None,
            }
        } else {
            None
        };
        keys.push(KeyInfo {
            id,
            status: key.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            age_days: key.create_date().and_then(|d| days_since(d.secs())),
            last_used,
        });
    }
    Ok(keys)
}

/// A new access key: its ID and its secret, shown by AWS only this once.
pub struct NewKey {
    pub id: String,
    pub secret: String,
}

/// The description the guide gives the key (step 4.3). The console stores a key's
/// description as a tag on the user whose key is the access key ID.
pub const KEY_DESCRIPTION: &str = "T3 Chat Backend S3 Access";

/// Creates a key with the guide's description. A description that cannot be set (no
/// iam:TagUser) does not undo the key: it is cosmetic.
pub async fn create_key(iam: &Client, user: &str) -> Result<NewKey> {
    let out = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:CreateAccessKey", &format!("IAM user `{user}`")))?;
    let key = out.access_key().context("CreateAccessKey returned no key")?;
    let key = NewKey { id: key.access_key_id().to_string(), secret: key.secret_access_key().to_string() };
    if let Ok(tag) = aws_sdk_iam::types::Tag::builder().key(&key.id).value(KEY_DESCRIPTION).build() {
        let _ = iam.tag_user().user_name(user).tags(tag).send().await;
    }
    Ok(key)
}

/// Deletes a key and the description tag the console (or t3s3) gave it.
pub async fn delete_key(iam: &Client, user: &str, id: &str) -> Result<()> {
    iam.delete_access_key()
        .user_name(user)
        .access_key_id(id)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:DeleteAccessKey", &format!("access key {id} of `{user}`")))?;
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
        .map_err(|e| acting_error(e, "iam:UpdateAccessKey", &format!("access key {id} of `{user}`")))?;
    Ok(())
}

/// The IAM user an access key belongs to, if IAM knows the key.
pub async fn user_of_key(iam: &Client, id: &str) -> Result<Option<String>> {
    match iam.get_access_key_last_used().access_key_id(id).send().await {
        Ok(out) => Ok(out.user_name().map(str::to_string)),
        Err(e) if is_no_such_entity(&e) || facts(&e).status == Some(400) => Ok(None),
        Err(e) => Err(acting_error(e, "iam:GetAccessKeyLastUsed", &format!("access key {id}"))),
    }
}

/// Who holds a managed policy.
#[derive(Debug, Clone, Default)]
pub struct PolicyHolders {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

pub async fn policy_holders(iam: &Client, arn: &str) -> Result<PolicyHolders> {
    let out = iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:ListEntitiesForPolicy", arn))?;
    Ok(PolicyHolders {
        users: out.policy_users().iter().filter_map(|u| u.user_name().map(str::to_string)).collect(),
        groups: out.policy_groups().iter().filter_map(|g| g.group_name().map(str::to_string)).collect(),
        roles: out.policy_roles().iter().filter_map(|r| r.role_name().map(str::to_string)).collect(),
    })
}

/// Detaches the policy from every holder, deletes its non-default versions, then the policy.
pub async fn delete_policy(iam: &Client, state: &PolicyState, holders: &PolicyHolders) -> Result<()> {
    let arn = state.arn.as_str();
    for user in &holders.users {
        iam.detach_user_policy()
            .user_name(user)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| acting_error(e, "iam:DetachUserPolicy", arn))?;
    }
    for group in &holders.groups {
        iam.detach_group_policy()
            .group_name(group)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| acting_error(e, "iam:DetachGroupPolicy", arn))?;
    }
    for role in &holders.roles {
        iam.detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| acting_error(e, "iam:DetachRolePolicy", arn))?;
    }
    for version in &state.older_versions {
        iam.delete_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| acting_error(e, "iam:DeletePolicyVersion", arn))?;
    }
    iam.delete_policy().policy_arn(arn).send().await.map_err(|e| acting_error(e, "iam:DeletePolicy", arn))?;
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

/// The policy and its default version's document, if the policy exists.
pub async fn find_policy(iam: &Client, arn: &str) -> Result<Option<PolicyState>> {
    let policy = match iam.get_policy().policy_arn(arn).send().await {
        Ok(out) => out.policy().cloned().context("GetPolicy returned no policy")?,
        Err(e) if is_no_such_entity(&e) => return Ok(None),
        Err(e) => return Err(acting_error(e, "iam:GetPolicy", arn)),
    };
    let default_version = policy.default_version_id().unwrap_or("v1").to_string();
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&default_version)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:GetPolicyVersion", arn))?;
    let document = decode_document(version.policy_version().and_then(|v| v.document()).unwrap_or_default());
    let versions = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:ListPolicyVersions", arn))?;
    let mut older: Vec<(i64, String)> = versions
        .versions()
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
        version_count: versions.versions().len(),
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
        .map_err(|e| acting_error(e, "iam:CreatePolicy", &format!("policy `{name}`")))?;
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
                .map_err(|e| acting_error(e, "iam:DeletePolicyVersion", &format!("{} {oldest}", state.arn)))?;
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
        .map_err(|e| acting_error(e, "iam:CreatePolicyVersion", &state.arn))?;
    Ok((out.policy_version().and_then(|v| v.version_id()).unwrap_or_default().to_string(), deleted))
}

/// The managed policies attached to the user: (name, ARN).
pub async fn attached_policies(iam: &Client, user: &str) -> Result<Vec<(String, String)>> {
    let out = iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:ListAttachedUserPolicies", &format!("IAM user `{user}`")))?;
    Ok(out
        .attached_policies()
        .iter()
        .map(|p| (p.policy_name().unwrap_or_default().to_string(), p.policy_arn().unwrap_or_default().to_string()))
        .collect())
}

pub async fn attach(iam: &Client, user: &str, arn: &str) -> Result<()> {
    iam.attach_user_policy()
        .user_name(user)
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| acting_error(e, "iam:AttachUserPolicy", &format!("{arn} to `{user}`")))?;
    Ok(())
}

/// Policies of the user, other than `except_arn`, that grant all of S3 or every bucket:
/// the guide says not to.
pub async fn broad_s3_grants(
    iam: &Client,
    user: &str,
    attached: &[(String, String)],
    except_arn: &str,
) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for (name, arn) in attached.iter().filter(|(_, arn)| arn != except_arn) {
        if name == "AmazonS3FullAccess" {
            found.push(format!("managed policy AmazonS3FullAccess ({arn})"));
            continue;
        }
        if let Ok(Some(state)) = find_policy(iam, arn).await {
            if let Some(what) = crate::policy::broad_s3_grant(&state.document) {
                found.push(format!("managed policy {name}, which {what}"));
            }
        }
    }
    if let Ok(inline) = iam.list_user_policies().user_name(user).send().await {
        for name in inline.policy_names() {
            if let Ok(policy) = iam.get_user_policy().user_name(user).policy_name(name).send().await {
                if let Some(what) = crate::policy::broad_s3_grant(&decode_document(policy.policy_document())) {
                    found.push(format!("inline policy {name}, which {what}"));
                }
            }
        }
    }
    Ok(found)
}

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
