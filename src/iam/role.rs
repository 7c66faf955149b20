//! Keyless CI's IAM side: GitHub's OIDC provider and the role a workflow assumes
//! (`t3s3 ci-role`), tagged so `destroy` takes only what t3s3 made.

use aws_sdk_iam::Client;

use super::{Result, decode_document, tag};
use crate::aws_error::{AwsError, During, ErrorCode};
use crate::join::join_all;

pub use crate::policy::{GITHUB_AUDIENCE, GITHUB_OIDC_HOST};
/// The tag t3s3 puts on what it creates for CI, so `destroy` takes only its own.
pub const CREATED_TAG: &str = "t3s3:created";
/// The tag `ci-role --adopt` puts on a role it did not create.
pub const ADOPTED_TAG: &str = "t3s3:adopted";

/// The ARN of GitHub's OIDC provider in `account`.
pub fn github_provider_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}")
}

/// An OIDC provider as IAM has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    pub arn: String,
    pub audiences: Vec<String>,
    /// t3s3 created it (its tag).
    pub ours: bool,
}

/// The provider at `arn`, if it exists.
pub async fn oidc_provider(iam: &Client, arn: &str) -> Result<Option<OidcProvider>> {
    match iam.get_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await {
        Ok(out) => Ok(Some(OidcProvider {
            arn: arn.to_string(),
            audiences: out.client_id_list().to_vec(),
            ours: out.tags().iter().any(|t| t.key() == CREATED_TAG),
        })),
        Err(error) => {
            let error = AwsError::from_sdk(&error, "iam:GetOpenIDConnectProvider", arn);
            if error.is(&ErrorCode::NoSuchEntity) || error.status == Some(404) { Ok(None) } else { Err(error) }
        }
    }
}

/// Creates GitHub's provider with the STS audience, tagged as t3s3's. IAM fetches GitHub's
/// certificate itself; the thumbprints are GitHub's published ones, for older accounts.
pub async fn create_github_provider(iam: &Client) -> Result<String> {
    let out = iam
        .create_open_id_connect_provider()
        .url(format!("https://{GITHUB_OIDC_HOST}"))
        .client_id_list(GITHUB_AUDIENCE)
        .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
        .thumbprint_list("1c58a3a8518e8759bf075b76b750d4f2df264fcd")
        .set_tags(tag(CREATED_TAG, "ci-role").map(|t| vec![t]))
        .send()
        .await
        .during("iam:CreateOpenIDConnectProvider", GITHUB_OIDC_HOST)?;
    Ok(out.open_id_connect_provider_arn().unwrap_or_default().to_string())
}

/// Creates Fly.io's provider for one organization (`oidc.fly.io/ORG`) with the STS audience,
/// tagged as t3s3's. IAM fetches the issuer's certificate itself.
pub async fn create_fly_provider(iam: &Client, issuer: &str) -> Result<String> {
    let out = iam
        .create_open_id_connect_provider()
        .url(format!("https://{issuer}"))
        .client_id_list(GITHUB_AUDIENCE)
        .set_tags(tag(CREATED_TAG, "runtime-role:fly").map(|t| vec![t]))
        .send()
        .await
        .during("iam:CreateOpenIDConnectProvider", issuer)?;
    Ok(out.open_id_connect_provider_arn().unwrap_or_default().to_string())
}

/// Adds the STS audience to a provider that lacks it.
pub async fn add_audience(iam: &Client, arn: &str) -> Result<()> {
    let request = iam.add_client_id_to_open_id_connect_provider().open_id_connect_provider_arn(arn);
    request.client_id(GITHUB_AUDIENCE).send().await.during("iam:AddClientIDToOpenIDConnectProvider", arn)?;
    Ok(())
}

pub async fn delete_oidc_provider(iam: &Client, arn: &str) -> Result<()> {
    let request = iam.delete_open_id_connect_provider().open_id_connect_provider_arn(arn);
    request.send().await.during("iam:DeleteOpenIDConnectProvider", arn)?;
    Ok(())
}

fn role_named(role: &str) -> String {
    format!("IAM role `{role}`")
}

/// A role as IAM has it: its trust policy (decoded), session limit and managed policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    pub arn: String,
    /// t3s3 created it (its tag).
    pub ours: bool,
    /// `ci-role --adopt` took it over (its own tag): managed by t3s3, never deleted by it.
    pub adopted: bool,
    /// The value of t3s3's created tag: which command made it (`ci-role`,
    /// `runtime-role:ec2`, ...).
    pub made_by: Option<String>,
    /// Its inline policies, by name.
    pub inline: Vec<String>,
    pub trust: String,
    pub max_session_seconds: i32,
    pub policies: Vec<String>,
}

/// The role and its attached policies (read at once), if it exists.
pub async fn role(iam: &Client, name: &str) -> Result<Option<RoleState>> {
    let get = iam.get_role().role_name(name).send();
    let (got, policies, inline) = tokio::join!(get, attached_role_policies(iam, name), inline_role_policies(iam, name));
    let Some(role) = got_role(got, name)? else { return Ok(None) };
    Ok(Some(state_of(&role, policies?, inline?)))
}

/// [`role`], its policies read only once it is known to exist: one request for a role that
/// is not there (what doctor mostly finds), one round trip more for one that is.
pub async fn role_if_present(iam: &Client, name: &str) -> Result<Option<RoleState>> {
    let Some(role) = got_role(iam.get_role().role_name(name).send().await, name)? else { return Ok(None) };
    let (policies, inline) = tokio::join!(attached_role_policies(iam, name), inline_role_policies(iam, name));
    Ok(Some(state_of(&role, policies?, inline?)))
}

type GetRoleAnswer = std::result::Result<
    aws_sdk_iam::operation::get_role::GetRoleOutput,
    aws_sdk_iam::error::SdkError<aws_sdk_iam::operation::get_role::GetRoleError>,
>;

/// GetRole's role; `None` when there is none of that name.
fn got_role(got: GetRoleAnswer, name: &str) -> Result<Option<aws_sdk_iam::types::Role>> {
    match got.during("iam:GetRole", role_named(name)) {
        Ok(out) => Ok(out.role().cloned()),
        Err(error) if error.is(&ErrorCode::NoSuchEntity) => Ok(None),
        Err(error) => Err(error),
    }
}

fn state_of(role: &aws_sdk_iam::types::Role, policies: Vec<String>, inline: Vec<String>) -> RoleState {
    RoleState {
        arn: role.arn().to_string(),
        ours: role.tags().iter().any(|t| t.key() == CREATED_TAG),
        adopted: role.tags().iter().any(|t| t.key() == ADOPTED_TAG),
        made_by: role.tags().iter().find(|t| t.key() == CREATED_TAG).map(|t| t.value().to_string()),
        trust: decode_document(role.assume_role_policy_document().unwrap_or_default()),
        max_session_seconds: role.max_session_duration().unwrap_or(3600),
        policies,
        inline,
    }
}

async fn inline_role_policies(iam: &Client, name: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut pages = iam.list_role_policies().role_name(name).into_paginator().items().send();
    while let Some(policy) = pages.next().await {
        match policy.during("iam:ListRolePolicies", role_named(name)) {
            Ok(policy) => names.push(policy),
            Err(error) if error.is(&ErrorCode::NoSuchEntity) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        }
    }
    Ok(names)
}

/// Marks a role `ci-role --adopt` took over: t3s3 manages its trust from now on, and
/// `destroy` still keeps it (only [`CREATED_TAG`] lets it go).
pub async fn tag_adopted(iam: &Client, name: &str) -> Result<()> {
    let request = iam.tag_role().role_name(name).set_tags(tag(ADOPTED_TAG, "ci-role").map(|t| vec![t]));
    request.send().await.during("iam:TagRole", role_named(name))?;
    Ok(())
}

async fn attached_role_policies(iam: &Client, name: &str) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut pages = iam.list_attached_role_policies().role_name(name).into_paginator().items().send();
    while let Some(policy) = pages.next().await {
        match policy.during("iam:ListAttachedRolePolicies", role_named(name)) {
            Ok(policy) => arns.push(policy.policy_arn().unwrap_or_default().to_string()),
            Err(error) if error.is(&ErrorCode::NoSuchEntity) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        }
    }
    Ok(arns)
}

/// What a new role is: its trust policy, session limit, description, and which t3s3 command
/// makes it (the value of its created tag).
pub struct NewRole<'a> {
    pub trust: &'a str,
    pub seconds: i32,
    pub description: &'a str,
    pub made_by: &'a str,
}

/// Creates the role with its trust policy and session limit, tagged as t3s3's.
pub async fn create_role(iam: &Client, name: &str, role: NewRole<'_>) -> Result<String> {
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(role.trust)
        .max_session_duration(role.seconds)
        .description(role.description)
        .set_tags(tag(CREATED_TAG, role.made_by).map(|t| vec![t]))
        .send()
        .await
        .during("iam:CreateRole", role_named(name))?;
    Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

pub async fn update_trust(iam: &Client, name: &str, trust: &str) -> Result<()> {
    let request = iam.update_assume_role_policy().role_name(name).policy_document(trust);
    request.send().await.during("iam:UpdateAssumeRolePolicy", role_named(name))?;
    Ok(())
}

pub async fn set_max_session(iam: &Client, name: &str, seconds: i32) -> Result<()> {
    let request = iam.update_role().role_name(name).max_session_duration(seconds);
    request.send().await.during("iam:UpdateRole", role_named(name))?;
    Ok(())
}

pub async fn attach_to_role(iam: &Client, name: &str, arn: &str) -> Result<()> {
    let request = iam.attach_role_policy().role_name(name).policy_arn(arn);
    request.send().await.during("iam:AttachRolePolicy", format!("{arn} to role `{name}`"))?;
    Ok(())
}

/// Detaches the role's managed policies, deletes its inline ones (all at once), then the role.
pub async fn delete_role(iam: &Client, name: &str, policies: &[String]) -> Result<()> {
    let mut inline = Vec::new();
    let mut pages = iam.list_role_policies().role_name(name).into_paginator().items().send();
    while let Some(policy) = pages.next().await {
        inline.push(policy.during("iam:ListRolePolicies", role_named(name))?);
    }
    let detached = join_all(policies.iter().map(|arn| async move {
        let request = iam.detach_role_policy().role_name(name).policy_arn(arn);
        request.send().await.during("iam:DetachRolePolicy", role_named(name)).map(drop)
    }));
    let deleted = join_all(inline.iter().map(|policy| async move {
        let request = iam.delete_role_policy().role_name(name).policy_name(policy);
        request.send().await.during("iam:DeleteRolePolicy", role_named(name)).map(drop)
    }));
    let (detached, deleted) = tokio::join!(detached, deleted);
    detached.into_iter().chain(deleted).collect::<Result<Vec<()>>>()?;
    iam.delete_role().role_name(name).send().await.during("iam:DeleteRole", role_named(name))?;
    Ok(())
}

/// The roles whose trust policy names `provider_arn`.
pub async fn roles_trusting(iam: &Client, provider_arn: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut pages = iam.list_roles().into_paginator().items().send();
    while let Some(role) = pages.next().await {
        let role = role.during("iam:ListRoles", "the account's roles")?;
        if decode_document(role.assume_role_policy_document().unwrap_or_default()).contains(provider_arn) {
            names.push(role.role_name().to_string());
        }
    }
    Ok(names)
}

fn profile_named(name: &str) -> String {
    format!("instance profile `{name}`")
}

/// An instance profile as IAM has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfile {
    pub arn: String,
    pub roles: Vec<String>,
    /// t3s3 created it (its tag).
    pub ours: bool,
}

/// The instance profile `name` (EC2 hands an instance its role through one), if it exists.
pub async fn instance_profile(iam: &Client, name: &str) -> Result<Option<InstanceProfile>> {
    match iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .during("iam:GetInstanceProfile", profile_named(name))
    {
        Ok(out) => Ok(out.instance_profile().map(|profile| InstanceProfile {
            arn: profile.arn().to_string(),
            roles: profile.roles().iter().map(|r| r.role_name().to_string()).collect(),
            ours: profile.tags().iter().any(|t| t.key() == CREATED_TAG),
        })),
        Err(error) if error.is(&ErrorCode::NoSuchEntity) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Creates an instance profile, tagged as t3s3's.
pub async fn create_instance_profile(iam: &Client, name: &str) -> Result<String> {
    let request = iam
        .create_instance_profile()
        .instance_profile_name(name)
        .set_tags(tag(CREATED_TAG, "runtime-role:ec2").map(|t| vec![t]));
    let out = request.send().await.during("iam:CreateInstanceProfile", profile_named(name))?;
    Ok(out.instance_profile().map(|p| p.arn().to_string()).unwrap_or_default())
}

pub async fn add_role_to_instance_profile(iam: &Client, profile: &str, role: &str) -> Result<()> {
    let request = iam.add_role_to_instance_profile().instance_profile_name(profile).role_name(role);
    request.send().await.during("iam:AddRoleToInstanceProfile", profile_named(profile))?;
    Ok(())
}

/// Takes its roles out of the instance profile, then deletes it.
pub async fn delete_instance_profile(iam: &Client, name: &str, roles: &[String]) -> Result<()> {
    for role in roles {
        let request = iam.remove_role_from_instance_profile().instance_profile_name(name).role_name(role);
        request.send().await.during("iam:RemoveRoleFromInstanceProfile", profile_named(name))?;
    }
    iam.delete_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .during("iam:DeleteInstanceProfile", profile_named(name))?;
    Ok(())
}
