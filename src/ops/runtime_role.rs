//! `runtime-role`'s work: no key in production. One role, tagged as t3s3's, holding exactly
//! the backend's least-privilege policy, trusted only by the platform the backend runs on
//! (EC2 through an instance profile, an ECS task, a Lambda function, or one Fly.io app's OIDC
//! tokens); looked at before anything is created, then made to match. A second run changes
//! nothing. It prints what to do on the platform; there is no secret to print.

use anyhow::Result;
use serde::Serialize;

use crate::aws::ActingClients;
use crate::change::Kind;
use crate::exit::{Failure, after_changes};
use crate::iam;
use crate::ops::record::{Record, Requests, Resource, Status};
use crate::outln;
use crate::policy;
use crate::runtime_trust::{self, FlyApp, Platform};
use crate::sts;
use crate::ui::{Render, style};

/// A runtime session's limit: STS's default of one hour (the platform renews it).
const MAX_SESSION_SECONDS: i32 = 3600;

/// What the user asked for, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub platform: Platform,
    pub role_name: String,
    /// Fly.io's organization and app (with `--platform fly`).
    pub fly: Option<FlyApp>,
    pub bucket: crate::bucket_name::BucketName,
    pub region: String,
    pub policy_name: String,
    pub dry_run: bool,
}

/// What runtime-role did (or would do), and the platform's next step.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeRoleReport {
    pub ok: bool,
    pub dry_run: bool,
    pub platform: Platform,
    pub account: String,
    pub role_arn: String,
    /// EC2's instance profile, of the role's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_profile_arn: Option<String>,
    /// Fly.io's OIDC provider for the organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_arn: Option<String>,
    /// The role's trust policy, as written.
    pub trust_policy: serde_json::Value,
    pub resources: Vec<Resource>,
    /// What to do on the platform, each a line to paste.
    pub next_steps: Vec<String>,
    pub requests: Requests,
}

impl Render for RuntimeRoleReport {
    fn text(&self, out: &mut String) {
        if self.dry_run {
            outln!(out, "{}", style::warn("Dry run: read-only calls only; nothing was changed."));
        }
        Resource::rows(out, &self.resources);
        outln!(out, "{}", style::note(&self.requests.line()));
        outln!(
            out,
            "\nOnly {} can assume {}; it holds nothing but the bucket's least-privilege policy.",
            who(self.platform),
            self.role_arn
        );
        outln!(out, "{}", style::heading("Next, on the platform:"));
        for step in &self.next_steps {
            outln!(out, "  {step}");
        }
    }
}

fn who(platform: Platform) -> &'static str {
    match platform {
        Platform::Ec2 => "EC2 instances given its instance profile",
        Platform::Ecs => "ECS tasks of this account that name it as their task role",
        Platform::Lambda => "Lambda functions that name it as their execution role",
        Platform::Fly => "the Fly.io app's machines",
    }
}

/// The role (and the instance profile or Fly.io's provider), looked at at once, then made to
/// match. Every reason to stop is found before the first change.
pub async fn run(clients: &ActingClients, options: &Options) -> Result<RuntimeRoleReport> {
    let caller = sts::acting_caller(clients).await?;
    let partition = iam::partition(&caller.arn);
    let policy_arn = iam::policy_arn(partition, &caller.account, &options.policy_name);
    let provider_arn = options.fly.as_ref().map(|fly| {
        format!("arn:{partition}:iam::{}:oidc-provider/{}", caller.account, runtime_trust::fly_issuer(&fly.org))
    });
    let iam_client = &clients.iam;
    let profile_name = (options.platform == Platform::Ec2).then_some(options.role_name.as_str());
    let (role, policy, profile, provider) = tokio::join!(
        iam::role(iam_client, &options.role_name),
        iam::find_policy(iam_client, &policy_arn),
        async {
            match profile_name {
                Some(name) => iam::instance_profile(iam_client, name).await,
                None => Ok(None),
            }
        },
        async {
            match &provider_arn {
                Some(arn) => iam::oidc_provider(iam_client, arn).await,
                None => Ok(None),
            }
        }
    );
    let (role, policy, profile, provider) = (role?, policy?, profile?, provider?);
    check_policy(policy.as_ref(), options)?;
    if let Some(state) = &role {
        check_existing_role(state, options, &policy_arn)?;
    }
    if let Some(found) = profile.as_ref().filter(|p| p.roles.iter().any(|r| *r != options.role_name)) {
        return Err(Failure::bad_input(format!(
            "instance profile {} already holds role {}; nothing was changed",
            options.role_name,
            found.roles.join(", ")
        ))
        .hint("choose another --role-name (the instance profile takes the role's name)")
        .into());
    }
    let trust = runtime_trust::trust(options.platform, &caller.account, provider_arn.as_deref(), options.fly.as_ref());
    let work = Work { clients, options, record: Record::new(options.dry_run) };
    let role_arn = format!("arn:{partition}:iam::{}:role/{}", caller.account, options.role_name);
    let applied = async {
        let (provider_done, policy_done) =
            tokio::join!(work.provider(provider_arn.as_deref(), provider), work.policy(&policy_arn, policy.is_some()));
        provider_done?;
        policy_done?;
        let role_arn = work.role(role, &role_arn, &trust, &policy_arn).await?;
        let profile_arn = match profile_name {
            Some(name) => Some(work.instance_profile(name, profile, &caller.account, partition).await?),
            None => None,
        };
        Ok::<_, anyhow::Error>((role_arn, profile_arn))
    };
    let applied = applied.await;
    let (resources, changes) = work.record.into_parts();
    let (role_arn, instance_profile_arn) = applied.map_err(|error| after_changes(error, changes))?;
    Ok(RuntimeRoleReport {
        ok: true,
        dry_run: options.dry_run,
        platform: options.platform,
        account: caller.account,
        next_steps: next_steps(options, &role_arn),
        role_arn,
        instance_profile_arn,
        provider_arn,
        trust_policy: serde_json::from_str(&trust).unwrap_or_default(),
        resources,
        requests: Requests::of(&clients.log),
    })
}

/// A policy of that name that grants anything else is refused: the role would hand it on.
fn check_policy(found: Option<&iam::PolicyState>, options: &Options) -> Result<()> {
    let wanted = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&policy::render(&options.bucket)?)?)?;
    let Some(state) = found.filter(|state| !policy::same_document(&state.document, &wanted)) else { return Ok(()) };
    let difference = policy::difference(&state.document, &wanted).unwrap_or_default();
    Err(Failure::bad_input(format!(
        "policy {} does not match `t3s3 policy --bucket {}` ({difference}); nothing was changed",
        options.policy_name, options.bucket
    ))
    .hint(format!(
        "converge it with `t3s3 init --bucket {}`, or pass --policy-name for a policy of its own",
        options.bucket
    ))
    .into())
}

/// Refuses, before any change, a role of that name that t3s3 did not make for this platform,
/// and one of t3s3's that holds anything beyond the least-privilege policy.
fn check_existing_role(state: &iam::RoleState, options: &Options, policy_arn: &str) -> Result<()> {
    let name = &options.role_name;
    let wanted = options.platform.tag_value();
    if state.made_by.as_deref() != Some(wanted.as_str()) {
        let whose = match &state.made_by {
            Some(other) => format!("t3s3 made it as `{other}`, not `{wanted}`"),
            None => format!("t3s3 did not create it (no {} tag)", iam::CREATED_TAG),
        };
        return Err(Failure::bad_input(format!("role {name} already exists and {whose}; nothing was changed"))
            .hint("choose another --role-name")
            .into());
    }
    let extra = crate::ops::ci_role::extra_role_policies(state, policy_arn);
    if !extra.is_empty() {
        return Err(Failure::check_failed(format!(
            "role {name} holds more than {}: {}; the backend would get them too, so nothing was changed",
            options.policy_name,
            extra.join(", ")
        ))
        .hint(format!(
            "detach them (`aws iam detach-role-policy --role-name {name} --policy-arn ARN`, `aws iam delete-role-policy --role-name {name} --policy-name NAME`)"
        ))
        .into());
    }
    Ok(())
}

/// What to do on the platform, exactly.
fn next_steps(options: &Options, role_arn: &str) -> Vec<String> {
    let name = &options.role_name;
    let mut steps = match (options.platform, &options.fly) {
        (Platform::Ec2, _) => vec![format!(
            "aws ec2 associate-iam-instance-profile --instance-id INSTANCE_ID --iam-instance-profile Name={name} --region {}",
            options.region
        )],
        (Platform::Ecs, _) => {
            vec![format!("In the task definition: \"taskRoleArn\": \"{role_arn}\" (then deploy a new revision)")]
        }
        (Platform::Lambda, _) => vec![format!(
            "aws lambda update-function-configuration --function-name FUNCTION --role {role_arn} --region {}",
            options.region
        )],
        (Platform::Fly, Some(fly)) => vec![format!(
            "fly secrets set AWS_ROLE_ARN={role_arn} --app {} (Fly writes the token file and sets AWS_WEB_IDENTITY_TOKEN_FILE; boto3 picks both up)",
            fly.app
        )],
        (Platform::Fly, None) => Vec::new(),
    };
    steps.push(format!(
        "Give the backend AWS_REGION={} and S3_BUCKET_NAME={} and no AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY: boto3 finds the role's credentials itself.",
        options.region, options.bucket
    ));
    steps.push("Then check it there with `t3s3 verify` (a .env without a key uses the same credentials).".into());
    steps
}

/// The changes, recorded as they are made.
struct Work<'a> {
    clients: &'a ActingClients,
    options: &'a Options,
    record: Record,
}

impl Work<'_> {
    /// Fly.io's provider for the organization: created (tagged) when missing, the STS
    /// audience added when it lacks it.
    async fn provider(&self, arn: Option<&str>, found: Option<iam::OidcProvider>) -> Result<()> {
        let (Some(arn), Some(fly)) = (arn, &self.options.fly) else { return Ok(()) };
        let issuer = runtime_trust::fly_issuer(&fly.org);
        let create = iam::create_fly_provider(&self.clients.iam, &issuer);
        crate::ops::ensure_provider(self.clients, &self.record, arn, found, create).await
    }

    async fn policy(&self, arn: &str, exists: bool) -> Result<()> {
        let (name, bucket) = (&self.options.policy_name, &self.options.bucket);
        crate::ops::ensure_policy(self.clients, &self.record, arn, exists, name, bucket).await
    }

    /// The role: created, or its trust and policy made to match.
    async fn role(
        &self,
        found: Option<iam::RoleState>,
        role_arn: &str,
        trust: &str,
        policy_arn: &str,
    ) -> Result<String> {
        let (iam_client, name, dry_run) = (&self.clients.iam, self.options.role_name.as_str(), self.options.dry_run);
        let platform = self.options.platform;
        let Some(state) = found else {
            let arn = if dry_run {
                role_arn.to_string()
            } else {
                let description = format!("The T3 Chat backend on {} (t3s3 runtime-role)", platform.name());
                let made_by = platform.tag_value();
                let new_role =
                    iam::NewRole { trust, seconds: MAX_SESSION_SECONDS, description: &description, made_by: &made_by };
                let arn = iam::create_role(iam_client, name, new_role).await?;
                self.record.created(Kind::Role, format!("role {name} created"));
                iam::attach_to_role(iam_client, name, policy_arn).await?;
                self.record.created(Kind::Attachment, format!("{} attached to role {name}", self.options.policy_name));
                arn
            };
            self.record.row(
                Kind::Role,
                name,
                self.record.status(true, true),
                format!("trusted only by {}", who(platform)),
            );
            self.record.row(
                Kind::Attachment,
                name,
                self.record.status(true, true),
                format!("{} → {name}", self.options.policy_name),
            );
            return Ok(arn);
        };
        let trust_differs = !policy::same_document(&state.trust, trust);
        let attach = !state.policies.iter().any(|arn| arn == policy_arn);
        if trust_differs && !dry_run {
            iam::update_trust(iam_client, name, trust).await?;
            self.record.updated(Kind::TrustPolicy, format!("trust policy of role {name} replaced"));
        }
        if attach && !dry_run {
            iam::attach_to_role(iam_client, name, policy_arn).await?;
            self.record.created(Kind::Attachment, format!("{} attached to role {name}", self.options.policy_name));
        }
        self.record.row(Kind::Role, name, Status::Unchanged, &state.arn);
        self.record.row(
            Kind::TrustPolicy,
            name,
            self.record.status(trust_differs, false),
            format!("only {}", who(platform)),
        );
        self.record.row(
            Kind::Attachment,
            name,
            self.record.status(attach, true),
            format!("{} → {name}", self.options.policy_name),
        );
        Ok(state.arn)
    }

    /// EC2's instance profile of the role's name, holding the role.
    async fn instance_profile(
        &self,
        name: &str,
        found: Option<iam::InstanceProfile>,
        account: &str,
        partition: &str,
    ) -> Result<String> {
        let (iam_client, dry_run) = (&self.clients.iam, self.options.dry_run);
        let (arn, created) = match found.as_ref() {
            Some(profile) => (profile.arn.clone(), false),
            None if dry_run => (format!("arn:{partition}:iam::{account}:instance-profile/{name}"), true),
            None => {
                let arn = iam::create_instance_profile(iam_client, name).await?;
                self.record.created(Kind::InstanceProfile, format!("instance profile {name} created"));
                (arn, true)
            }
        };
        let holds = found.is_some_and(|p| p.roles.iter().any(|r| r == name));
        if !holds && !dry_run {
            iam::add_role_to_instance_profile(iam_client, name, name).await?;
            self.record.updated(Kind::InstanceProfile, format!("role {name} added to instance profile {name}"));
        }
        let status = if created { self.record.status(true, true) } else { self.record.status(!holds, false) };
        self.record.row(Kind::InstanceProfile, name, status, format!("holds role {name}"));
        Ok(arn)
    }
}

/// Fly.io's names: an organization's slug and an app's name (lower-case letters, digits and
/// hyphens), which the trust names exactly.
pub fn check_fly_name(what: &str, name: &str) -> Result<(), String> {
    let ok = (1..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok { Ok(()) } else { Err(format!("{what} `{name}` is not a Fly.io name (lower-case letters, digits and '-')")) }
}
