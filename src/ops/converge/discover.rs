//! init's read-only half: what the account already has (caller, user, keys, policy, group,
//! bucket), found before anything changes, with every reason to stop.

use anyhow::Result;

use crate::aws::ActingClients;
use crate::bucket::{self, Presence};
use crate::bucket_name;
use crate::exit::Failure;
use crate::iam;
use crate::keys::Key;
use crate::policy;
use crate::sts::{self, Caller};

use super::{Local, Options, generated_bucket_name};

/// What is already there, found with read-only calls. Every reason to stop is found
/// here, before anything changes.
pub(super) struct Discovery {
    pub(super) caller: Caller,
    pub(super) user_exists: bool,
    /// The Active key of the user that the env file already holds, with its secret.
    pub(super) keys: KeyPlan,
    /// The bucket's settings when the account already owns it in the right region.
    pub(super) bucket: Option<bucket::Settings>,
    pub(super) policy_arn: String,
    pub(super) policy: Option<iam::PolicyState>,
    /// The policy document as `t3s3 policy` renders it, in compact JSON.
    pub(super) document: String,
    /// The policy is attached to the user directly (the guide's way; migrated to the group).
    pub(super) attached: bool,
    pub(super) group: GroupFacts,
    /// The .env's key and secret when that key is kept: the migration checks it still works.
    pub(super) app_key: Option<(String, String)>,
    pub(super) warnings: Vec<String>,
}

/// The group as it is: whether it exists, holds the policy, has the user as a member.
#[derive(Debug, Default)]
pub(super) struct GroupFacts {
    pub(super) exists: bool,
    pub(super) holds_policy: bool,
    pub(super) has_member: bool,
}

/// The IAM user as it is: whether it exists, its keys, tags and attached policies, and
/// the broad S3 grants among its other policies.
#[derive(Debug)]
pub(super) struct UserFacts {
    pub(super) exists: bool,
    pub(super) keys: Vec<iam::KeyInfo>,
    pub(super) tags: Vec<(String, String)>,
    pub(super) attached: Vec<(String, String)>,
    /// The broad grants, or why the user's policies could not all be read.
    pub(super) broad: std::result::Result<Vec<String>, String>,
}

impl Default for UserFacts {
    fn default() -> Self {
        UserFacts { exists: false, keys: Vec::new(), tags: Vec::new(), attached: Vec::new(), broad: Ok(Vec::new()) }
    }
}

/// The user's keys, tags and attached policies, read at once; then its other policies'
/// documents. Nothing to read for a user that does not exist.
pub(super) async fn user_details(
    clients: &ActingClients,
    user: &str,
    exists: bool,
    policy_arn: &str,
) -> Result<UserFacts> {
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
    let broad = iam::broad_s3_grants(iam_client, user, &attached, policy_arn).await.map_err(|e| e.to_string());
    Ok(UserFacts { exists: true, keys, tags, attached, broad })
}

/// The IAM side of discovery: the caller and the user at once, then the policy (its ARN
/// needs the account) and the user's details at once.
pub(super) async fn discover_iam(
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
        return Err(super::UserMissing { user: user.to_string(), account: caller.account.clone() }.into());
    }
    let policy_arn = iam::policy_arn(iam::partition(&caller.arn), &caller.account, &options.policy_name);
    let (policy, facts) =
        tokio::join!(iam::find_policy(&clients.iam, &policy_arn), user_details(clients, user, exists, &policy_arn));
    let facts = facts?;
    Ok((caller, facts, policy_arn.clone(), policy?, group))
}

/// The IAM side and the bucket side at once. Reasons to stop are reported in a fixed
/// order: the credentials, the user, its keys, the bucket, the policy.
pub(super) async fn discover(
    clients: &ActingClients,
    options: &Options,
    local: &Local,
    caller: Option<Caller>,
) -> Result<Discovery> {
    let user = options.user.as_str();
    let (iam_side, bucket) =
        tokio::join!(discover_iam(clients, options, caller), discover_bucket(clients, local.bucket(), &options.region));
    let (caller, facts, policy_arn, policy, group) = iam_side?;
    in_callers_namespace(local.bucket(), &caller, &options.region)?;
    let (keys, mut warnings) =
        if facts.exists { key_plan(clients, options, local, &facts).await? } else { (KeyPlan::default(), Vec::new()) };
    let bucket = bucket?;
    // Compact JSON: the same document as `t3s3 policy`, without layout white space.
    let document =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&policy::render(local.bucket_name()?)?)?)?;
    let attached = facts.attached.iter().any(|(_, arn)| *arn == policy_arn);
    let group = group.map_or_else(GroupFacts::default, |contents| GroupFacts {
        exists: true,
        holds_policy: contents.policies.contains(&policy_arn),
        has_member: contents.members.iter().any(|member| member == user),
    });
    let app_key = keys.kept.as_ref().zip(local.existing(Key::SecretAccessKey)).map(|(id, secret)| (id.clone(), secret));
    let policy_name = &options.policy_name;
    match &facts.broad {
        Ok(broad) => warnings.extend(broad.iter().map(|w| {
            format!("`{user}` holds {w}: the guide says not to (least privilege); detach it once {policy_name} works")
        })),
        Err(error) => warnings.push(format!(
            "cannot read every policy `{user}` holds, so t3s3 cannot tell whether it has broader S3 access than {policy_name}: {error}"
        )),
    }
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
pub(super) fn in_callers_namespace(bucket: &str, caller: &Caller, region: &str) -> Result<()> {
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
/// secret); keys an interrupted run created and never wrote are deleted only when agreed to.
#[derive(Debug, Default)]
pub(super) struct KeyPlan {
    pub(super) kept: Option<String>,
    pub(super) orphans: Vec<String>,
    /// The kept key still carries the unwritten mark (a run stopped after writing it).
    pub(super) kept_marked: bool,
    /// Every key of the user now.
    pub(super) existing: Vec<String>,
}

/// With no key to keep, a new one is needed: both slots taken stops init, and so does a
/// key an interrupted run left (its secret is lost) unless --yes allows deleting it.
pub(super) async fn key_plan(
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
    if !orphans.is_empty() && !options.delete_unwritten_keys {
        let listing = orphans.join(", ");
        if kept.is_none() {
            return Err(super::UnwrittenKeys {
                message: format!(
                    "IAM user `{user}` holds access key {listing}, which an interrupted t3s3 run created and never wrote to {env} (its secret is lost); nothing was changed"
                ),
            }
            .into());
        }
        warnings.push(format!("`{user}` holds {listing}, created by an interrupted t3s3 run and never written anywhere: `t3s3 init --yes` deletes it"));
    }
    let orphans = if options.delete_unwritten_keys { orphans } else { Vec::new() };
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
        "another developer's clone? Give each developer a user of their own in the shared group: `t3s3 init --create-user --user {user}-$(whoami)`; or free a slot: deactivate, then delete a key nothing uses (IAM → Users → {user} → Security credentials, or `aws iam delete-access-key --user-name {user} --access-key-id ID`); or put the key the backend uses, with its secret, in {env} so init keeps it"
    ))
    .into())
}

/// The bucket's settings when the account owns it in `region`; `None` when it is missing.
pub(super) async fn discover_bucket(
    clients: &ActingClients,
    name: &str,
    region: &str,
) -> Result<Option<bucket::Settings>> {
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
