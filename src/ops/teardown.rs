//! `destroy`'s work: undo `init` for a dev environment. A plan first (read-only), then the
//! changes in an order that never leaves the .env naming a deleted key. The IAM user stays.

use anyhow::Result;
use serde::Serialize;

use crate::aws::ActingClients;
use crate::aws_error::AwsError;
use crate::bucket::{self, Presence};
use crate::budgets;
use crate::change::{Change, Kind};
use crate::envfile::EnvFile;
use crate::exit::{Failure, after_changes};
use crate::iam;
use crate::join::join_all;
use crate::keys::Key;
use crate::outln;
use crate::runtime_trust::Platform;
use crate::settings::AppSettings;
use crate::sts::{self, Caller};
use crate::ui::{Render, style};

/// What happens to one resource: planned, done, or nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DestroyStatus {
    Delete,
    Detach,
    Remove,
    Deleted,
    Detached,
    Removed,
    Absent,
    Kept,
}

impl DestroyStatus {
    fn label(self) -> &'static str {
        match self {
            DestroyStatus::Delete => "delete",
            DestroyStatus::Detach => "detach",
            DestroyStatus::Remove => "remove",
            DestroyStatus::Deleted => "deleted",
            DestroyStatus::Detached => "detached",
            DestroyStatus::Removed => "removed",
            DestroyStatus::Absent => "absent",
            DestroyStatus::Kept => "kept",
        }
    }

    /// The planned action, done.
    fn done(self) -> Self {
        match self {
            DestroyStatus::Delete => DestroyStatus::Deleted,
            DestroyStatus::Detach => DestroyStatus::Detached,
            DestroyStatus::Remove => DestroyStatus::Removed,
            other => other,
        }
    }

    fn is_done(self) -> bool {
        matches!(self, DestroyStatus::Deleted | DestroyStatus::Detached | DestroyStatus::Removed)
    }

    fn is_nothing(self) -> bool {
        matches!(self, DestroyStatus::Absent | DestroyStatus::Kept)
    }
}

/// One resource and what happens to it.
#[derive(Debug, Clone, Serialize)]
pub struct DestroyStep {
    pub resource: Kind,
    pub name: String,
    pub status: DestroyStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct DestroyReport {
    pub ok: bool,
    pub dry_run: bool,
    pub steps: Vec<DestroyStep>,
}

fn rows(out: &mut String, steps: &[DestroyStep]) {
    for step in steps {
        let label = step.status.label();
        let status = if step.status.is_done() {
            style::ok(label)
        } else if step.status.is_nothing() {
            style::note(label)
        } else {
            style::warn(label)
        };
        // Labelled as init labels its rows ("access key", not "access_key").
        outln!(out, "  {:<20} {:<13} {}", step.resource.label(), status, step.name);
    }
}

impl Render for DestroyReport {
    fn text(&self, out: &mut String) {
        if !self.dry_run && self.steps.iter().any(|s| s.status.is_done()) {
            outln!(out, "Result:");
        }
        rows(out, &self.steps);
        if self.dry_run {
            outln!(out, "Dry run: nothing was deleted.");
        }
    }
}

/// The bucket to delete: a client in its region, its name, and every object version in it.
struct BucketPlan {
    s3: aws_sdk_s3::Client,
    name: String,
    versions: Vec<(String, Option<String>)>,
}

/// What `destroy` will do, found with read-only calls.
pub struct Plan {
    /// Who is acting.
    pub caller: Caller,
    pub steps: Vec<DestroyStep>,
    bucket: Option<BucketPlan>,
    policy: Option<(iam::PolicyState, iam::PolicyHolders)>,
    /// The group to delete after the policy, with its members to remove first.
    group: Option<(String, Vec<String>)>,
    /// The CI role `ci-role` made (with its policies), and GitHub's provider when t3s3 made
    /// it and no other role trusts it.
    ci: (Option<(String, Vec<String>)>, Option<String>),
    /// The runtime roles `runtime-role` made, with their instance profiles and providers.
    runtime: RuntimePlan,
    key: Option<(String, String)>,
    /// The key a rotation left working, (user, id): it goes with the .env's key.
    retiring: Option<(String, String)>,
    /// The billing alert `init --budget-email` made, to delete.
    budget: bool,
    env: EnvFile,
    env_removes: bool,
    /// Why the plan cannot be carried out without --force: the bucket holds objects (a dry
    /// run still shows the whole plan, the bucket marked kept).
    pub needs_force: Option<Failure>,
}

impl Plan {
    /// Nothing exists to delete.
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(|s| s.status.is_nothing())
    }
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.steps.serialize(serializer)
    }
}

impl Render for Plan {
    fn text(&self, out: &mut String) {
        outln!(out, "Plan:");
        rows(out, &self.steps);
    }
}

fn step(resource: Kind, name: impl Into<String>, status: DestroyStatus) -> DestroyStep {
    DestroyStep { resource, name: name.into(), status }
}

/// Looks at everything first, the caller and policy, the bucket and the key at once, from
/// the .env the command read (once). A bucket with objects is kept without `force`, and
/// the plan says it needs it.
pub async fn plan(clients: &ActingClients, mut env: EnvFile, names: &Names, force: bool) -> Result<Plan> {
    let (policy_name, group) = (names.policy.as_str(), names.group.as_str());
    let env_path = &env.path().to_path_buf();
    let settings = AppSettings::of(&env);
    env.require_parseable()?;
    let policy_side = async {
        let caller = sts::acting_caller(clients).await?;
        let arn = iam::policy_arn(iam::partition(&caller.arn), &caller.account, policy_name);
        let provider_arn = iam::github_provider_arn(iam::partition(&caller.arn), &caller.account);
        let (state, holders, contents, ci) = tokio::join!(
            iam::find_policy(&clients.iam, &arn),
            iam::policy_holders(&clients.iam, &arn),
            iam::group_contents(&clients.iam, group),
            plan_ci(clients, &names.ci_role, &provider_arn)
        );
        // A policy that does not exist has no holders (IAM answers NoSuchEntity for them).
        let found = match state? {
            Some(state) => Some((state, holders?)),
            None => None,
        };
        Ok::<_, AwsError>((caller, arn, found, contents?, ci?))
    };
    let bucket_side = async {
        match settings.get(Key::Bucket) {
            Some(name) => plan_bucket(clients, name, force).await.map(Some),
            None => Ok(None),
        }
    };
    let (policy_side, bucket_side, key_side, runtime) =
        tokio::join!(policy_side, bucket_side, plan_keys(clients, &settings), plan_runtime(clients));
    let (caller, policy_arn, policy, contents, (ci_steps, ci)) = policy_side?;
    let (runtime_steps, runtime) = runtime?;
    let mut steps = Vec::new();
    let (bucket, needs_force) = match bucket_side? {
        Some((bucket_step, bucket, needs_force)) => {
            steps.push(bucket_step);
            (bucket, needs_force)
        }
        None => (None, None),
    };
    match &policy {
        Some((_, holders)) => {
            let attachments = holders.users.iter().map(|u| format!("{policy_name} → {u}"));
            let attachments = attachments
                .chain(holders.groups.iter().map(|g| format!("{policy_name} → group {g}")))
                .chain(holders.roles.iter().map(|r| format!("{policy_name} → role {r}")));
            steps.extend(attachments.map(|name| step(Kind::Attachment, name, DestroyStatus::Detach)));
            steps.push(step(Kind::Policy, &policy_arn, DestroyStatus::Delete));
        }
        None => steps.push(step(Kind::Policy, &policy_arn, DestroyStatus::Absent)),
    }
    let (group_step, group) = plan_group(group, contents, &policy_arn);
    steps.push(group_step);
    steps.extend(ci_steps.into_iter().chain(runtime_steps));
    let (env_key, retiring) = key_side?;
    let key = env_key.and_then(|(id, user)| {
        let (key_step, key) = plan_key(id, user);
        steps.push(key_step);
        key
    });
    if let Some((user, old)) = &retiring {
        let name = format!("{old} of `{user}` (replaced by rotate-key, never retired)");
        steps.push(step(Kind::AccessKey, name, DestroyStatus::Delete));
    }
    let shown = env_path.display().to_string();
    let mut names: Vec<&str> = Key::ALL.map(Key::name).to_vec();
    names.push(Key::S3EndpointUrl.name());
    let removed = env.remove(&names);
    let env_removes = !removed.is_empty();
    steps.push(match (env_removes, env.exists()) {
        (true, _) => step(Kind::EnvFile, format!("{shown}: {}", removed.join(", ")), DestroyStatus::Remove),
        (false, true) => step(Kind::EnvFile, format!("{shown} (holds none of t3s3's settings)"), DestroyStatus::Kept),
        (false, false) => step(Kind::EnvFile, shown, DestroyStatus::Absent),
    });
    let (budget_step, budget) = plan_budget(clients, &caller.account).await;
    steps.extend(budget_step);
    let user = key.as_ref().map_or_else(|| "the backend's user".into(), |(u, _): &(String, String)| u.clone());
    steps.push(step(Kind::User, user, DestroyStatus::Kept));
    Ok(Plan { caller, steps, bucket, policy, group, ci, runtime, key, retiring, budget, env, env_removes, needs_force })
}

/// The budget `init --budget-email` made (its name is t3s3's own): deleted. Credentials that
/// may not read budgets keep it, said in the plan, rather than stopping the rest.
async fn plan_budget(clients: &ActingClients, account: &str) -> (Option<DestroyStep>, bool) {
    let name = budgets::BUDGET_NAME;
    match budgets::find(&clients.budgets(), account, name).await {
        Ok(Some(_)) => (Some(step(Kind::Budget, name, DestroyStatus::Delete)), true),
        Ok(None) => (None, false),
        Err(error) => (
            Some(step(Kind::Budget, format!("{name} (cannot read: {})", error.code_name()), DestroyStatus::Kept)),
            false,
        ),
    }
}

/// The names `destroy` looks for.
#[derive(Debug, Clone)]
pub struct Names {
    pub policy: String,
    pub group: String,
    pub ci_role: String,
}

type CiPlan = (Option<(String, Vec<String>)>, Option<String>);

/// The CI role goes when `ci-role` made it (its tag); GitHub's provider when t3s3 made it
/// and no role but that one trusts it.
async fn plan_ci(
    clients: &ActingClients,
    role: &str,
    provider_arn: &str,
) -> Result<(Vec<DestroyStep>, CiPlan), AwsError> {
    let (found, provider, trusting) = tokio::join!(
        iam::role(&clients.iam, role),
        iam::oidc_provider(&clients.iam, provider_arn),
        iam::roles_trusting(&clients.iam, provider_arn)
    );
    let mut steps = Vec::new();
    let (role_step, role_plan) = plan_role(role, found?);
    steps.extend(role_step);
    let others: Vec<String> =
        trusting?.into_iter().filter(|r| role_plan.as_ref().is_none_or(|(ours, _)| r != ours)).collect();
    let provider_plan = match provider? {
        Some(provider) if provider.ours && others.is_empty() => {
            steps.push(step(Kind::OidcProvider, provider_arn, DestroyStatus::Delete));
            Some(provider_arn.to_string())
        }
        Some(provider) => {
            let why =
                if provider.ours { format!("trusted by {}", others.join(", ")) } else { "not made by t3s3".into() };
            steps.push(step(Kind::OidcProvider, format!("{provider_arn} ({why})"), DestroyStatus::Kept));
            None
        }
        None => None,
    };
    Ok((steps, (role_plan, provider_plan)))
}

/// What `runtime-role` made, to delete: roles (with their policies), EC2 instance profiles
/// (with the roles in them) and Fly.io providers no other role trusts.
#[derive(Debug, Default)]
struct RuntimePlan {
    roles: Vec<(String, Vec<String>)>,
    profiles: Vec<(String, Vec<String>)>,
    providers: Vec<String>,
}

/// The runtime roles by their default names: deleted when `runtime-role` made them (their
/// tag says which platform), kept otherwise; EC2's instance profile and Fly.io's provider go
/// with them when t3s3 made those too (a provider only when no other role trusts it).
async fn plan_runtime(clients: &ActingClients) -> Result<(Vec<DestroyStep>, RuntimePlan), AwsError> {
    let names = Platform::ALL.map(Platform::default_role_name);
    let found = join_all(names.iter().map(|name| iam::role(&clients.iam, name))).await;
    let (mut steps, mut plan) = (Vec::new(), RuntimePlan::default());
    for (name, found) in names.iter().zip(found) {
        let Some(state) = found? else { continue };
        let Some(platform) = state.made_by.as_deref().and_then(Platform::of_tag_value) else {
            steps.push(step(Kind::RuntimeRole, format!("{name} (not made by t3s3 runtime-role)"), DestroyStatus::Kept));
            continue;
        };
        steps.push(step(Kind::RuntimeRole, *name, DestroyStatus::Delete));
        if platform == Platform::Ec2 {
            if let Some(profile) = iam::instance_profile(&clients.iam, name).await?.filter(|p| p.ours) {
                steps.push(step(Kind::InstanceProfile, *name, DestroyStatus::Delete));
                plan.profiles.push((name.to_string(), profile.roles));
            }
        }
        if let Some(provider) = fly_provider(&state.trust) {
            let others: Vec<String> =
                iam::roles_trusting(&clients.iam, &provider).await?.into_iter().filter(|r| r != name).collect();
            match iam::oidc_provider(&clients.iam, &provider).await? {
                Some(found) if found.ours && others.is_empty() => {
                    steps.push(step(Kind::OidcProvider, &provider, DestroyStatus::Delete));
                    plan.providers.push(provider);
                }
                Some(_) => steps.push(step(
                    Kind::OidcProvider,
                    format!("{provider} (kept: not t3s3's, or trusted by {})", others.join(", ")),
                    DestroyStatus::Kept,
                )),
                None => {}
            }
        }
        plan.roles.push((name.to_string(), state.policies));
    }
    Ok((steps, plan))
}

/// The Fly.io provider a trust policy names, if any.
fn fly_provider(trust: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(trust).ok()?;
    let statements = value["Statement"].as_array()?.clone();
    statements.iter().find_map(|s| {
        s["Principal"]["Federated"]
            .as_str()
            .filter(|arn| arn.contains(":oidc-provider/oidc.fly.io/"))
            .map(str::to_string)
    })
}

/// The .env's key (and its user), and the key a rotation replaced and never retired: its
/// mark names it, so destroy does not leave a working key behind.
async fn plan_keys(
    clients: &ActingClients,
    settings: &AppSettings,
) -> Result<(Option<(String, Option<String>)>, Option<(String, String)>), AwsError> {
    let Some(id) = settings.get(Key::AccessKeyId) else { return Ok((None, None)) };
    let user = iam::user_of_key(&clients.iam, id).await?;
    let retiring = match &user {
        Some(user) => {
            iam::keys_and_retiring(&clients.iam, user).await?.1.filter(|old| old != id).map(|old| (user.clone(), old))
        }
        None => None,
    };
    Ok((Some((id.to_string(), user)), retiring))
}

/// The CI role's row: deleted (with its attached policies detached) only when t3s3 created
/// it; a role it adopted or never made is kept.
fn plan_role(role: &str, found: Option<iam::RoleState>) -> (Option<DestroyStep>, Option<(String, Vec<String>)>) {
    match found {
        Some(state) if state.ours => {
            (Some(step(Kind::CiRole, role, DestroyStatus::Delete)), Some((role.to_string(), state.policies)))
        }
        Some(state) => {
            let why = if state.adopted { "adopted, not made by t3s3" } else { "not made by t3s3" };
            (Some(step(Kind::CiRole, format!("{role} ({why})"), DestroyStatus::Kept)), None)
        }
        None => (None, None),
    }
}

/// The key's row: deleted from its user, or already gone.
fn plan_key(id: String, user: Option<String>) -> (DestroyStep, Option<(String, String)>) {
    match user {
        Some(user) => (step(Kind::AccessKey, format!("{id} of `{user}`"), DestroyStatus::Delete), Some((user, id))),
        None => (step(Kind::AccessKey, id, DestroyStatus::Absent), None),
    }
}

/// The group init made: deleted (its members removed first) when t3s3's policy is all it
/// holds; kept when it holds anything else.
fn plan_group(
    group: &str,
    contents: Option<iam::GroupContents>,
    policy_arn: &str,
) -> (DestroyStep, Option<(String, Vec<String>)>) {
    let Some(contents) = contents else { return (step(Kind::Group, group, DestroyStatus::Absent), None) };
    let others = contents.policies.iter().filter(|arn| *arn != policy_arn).count() + contents.inline.len();
    if others > 0 {
        return (step(Kind::Group, format!("{group} (holds {others} other policies)"), DestroyStatus::Kept), None);
    }
    let name = match contents.members.as_slice() {
        [] => group.to_string(),
        members => format!("{group} (members removed first: {})", members.join(", ")),
    };
    (step(Kind::Group, name, DestroyStatus::Delete), Some((group.to_string(), contents.members)))
}

/// The bucket's row of the plan, and what deleting it takes.
type BucketSide = (DestroyStep, Option<BucketPlan>, Option<Failure>);

async fn plan_bucket(clients: &ActingClients, name: &str, force: bool) -> Result<BucketSide> {
    match bucket::presence(&clients.s3_in("us-east-1"), name).await? {
        Presence::Ours { region } => {
            let s3 = clients.s3_in(&region);
            let versions = bucket::all_versions(&s3, name).await?;
            if !versions.is_empty() && !force {
                let count = plural(versions.len(), "object version");
                let refusal = Failure::bad_input(format!("bucket `{name}` still holds {count}; nothing was deleted"))
                    .hint(
                        "run again with --force to delete them (every version) with the bucket, or empty it yourself",
                    );
                let kept = format!("{name} (holds {count}: kept, needs --force)");
                return Ok((step(Kind::Bucket, kept, DestroyStatus::Kept), None, Some(refusal)));
            }
            let detail = if versions.is_empty() {
                name.to_string()
            } else {
                format!("{name} and its {}", plural(versions.len(), "object version"))
            };
            Ok((
                step(Kind::Bucket, detail, DestroyStatus::Delete),
                Some(BucketPlan { s3, name: name.to_string(), versions }),
                None,
            ))
        }
        Presence::Missing => Ok((step(Kind::Bucket, name, DestroyStatus::Absent), None, None)),
        Presence::OtherOwner => {
            Ok((step(Kind::Bucket, format!("{name} (another account's)"), DestroyStatus::Kept), None, None))
        }
    }
}

/// "1 object version", "3 object versions".
fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// Carries out the plan: the .env first, so it never names a key that no longer exists;
/// then the key, the policy and the bucket. A failure part way lists what went.
pub async fn apply(clients: &ActingClients, mut plan: Plan) -> Result<DestroyReport> {
    let mut changes = Vec::new();
    match apply_steps(clients, &mut plan, &mut changes).await {
        Ok(()) => Ok(DestroyReport { ok: true, dry_run: false, steps: plan.steps }),
        Err(error) => Err(after_changes(error, changes)),
    }
}

/// Marks the planned steps of `kind` done; each is a change (a kept or absent resource was
/// not changed).
fn mark_done(steps: &mut [DestroyStep], kind: Kind) -> Vec<Change> {
    let mut changes = Vec::new();
    for step in steps.iter_mut().filter(|s| s.resource == kind && !s.status.is_nothing()) {
        step.status = step.status.done();
        changes.push(Change::deleted(kind, format!("{} {} {}", kind.label(), step.name, step.status.label())));
    }
    changes
}

async fn apply_steps(clients: &ActingClients, plan: &mut Plan, changes: &mut Vec<Change>) -> Result<()> {
    let mut done = |steps: &mut Vec<DestroyStep>, kind: Kind| changes.extend(mark_done(steps, kind));
    if plan.env_removes {
        plan.env.write()?;
        done(&mut plan.steps, Kind::EnvFile);
    }
    // The key, the policy and the bucket do not depend on each other: all at once.
    let key = async {
        if let Some((user, id)) = &plan.retiring {
            iam::delete_key(&clients.iam, user, id).await?;
            iam::unmark_retiring(&clients.iam, user).await;
        }
        match &plan.key {
            Some((user, id)) => iam::delete_key(&clients.iam, user, id).await,
            None => Ok(()),
        }
    };
    // The group goes once the policy (detached from it) is gone.
    let policy = async {
        if let Some((state, holders)) = &plan.policy {
            iam::delete_policy(&clients.iam, state, holders).await?;
        }
        if let Some((group, members)) = &plan.group {
            iam::delete_group(&clients.iam, group, members).await?;
        }
        // The role's own policy list may name the one just deleted: detach only the rest.
        if let Some((role, policies)) = &plan.ci.0 {
            let deleted_arn = plan.policy.as_ref().map(|(state, _)| state.arn.as_str());
            let rest: Vec<String> = policies.iter().filter(|arn| Some(arn.as_str()) != deleted_arn).cloned().collect();
            iam::delete_role(&clients.iam, role, &rest).await?;
        }
        if let Some(provider) = &plan.ci.1 {
            iam::delete_oidc_provider(&clients.iam, provider).await?;
        }
        delete_runtime(clients, &plan.runtime, plan.policy.as_ref().map(|(state, _)| state.arn.as_str())).await?;
        Ok::<_, AwsError>(())
    };
    let bucket = async {
        match &plan.bucket {
            Some(BucketPlan { s3, name, versions }) => {
                bucket::delete_versions(s3, name, versions).await?;
                bucket::delete_bucket(s3, name).await
            }
            None => Ok(()),
        }
    };
    let (key, policy, bucket) = tokio::join!(key, policy, bucket);
    // A side that succeeded carried out every step planned for it.
    let policy_side = [
        Kind::Attachment,
        Kind::Policy,
        Kind::Group,
        Kind::CiRole,
        Kind::OidcProvider,
        Kind::RuntimeRole,
        Kind::InstanceProfile,
    ];
    for (succeeded, kinds) in
        [(key.is_ok(), &[Kind::AccessKey][..]), (policy.is_ok(), &policy_side), (bucket.is_ok(), &[Kind::Bucket])]
    {
        if succeeded {
            for kind in kinds {
                done(&mut plan.steps, *kind);
            }
        }
    }
    key?;
    policy?;
    bucket?;
    if plan.budget {
        budgets::delete(&clients.budgets(), &plan.caller.account, budgets::BUDGET_NAME).await?;
        done(&mut plan.steps, Kind::Budget);
    }
    Ok(())
}

/// Users other than the .env key's that hold the policy (directly or as members of the group)
/// and have an active access key: another developer's clone runs on the bucket.
pub async fn other_users(clients: &ActingClients, plan: &Plan) -> Result<Vec<String>, AwsError> {
    let mine = plan.key.as_ref().map(|(user, _)| user.as_str());
    let mut users: Vec<String> = plan.policy.iter().flat_map(|(_, holders)| holders.users.clone()).collect();
    users.extend(plan.group.iter().flat_map(|(_, members)| members.clone()));
    users.sort();
    users.dedup();
    users.retain(|user| Some(user.as_str()) != mine);
    let keys = join_all(users.iter().map(|user| iam::list_keys(&clients.iam, user, false))).await;
    let mut active = Vec::new();
    for (user, keys) in users.into_iter().zip(keys) {
        if keys?.iter().any(iam::KeyInfo::active) {
            active.push(user);
        }
    }
    Ok(active)
}

/// Instance profiles first (a role in one cannot be deleted), then the roles, then providers.
async fn delete_runtime(
    clients: &ActingClients,
    plan: &RuntimePlan,
    deleted_policy: Option<&str>,
) -> Result<(), AwsError> {
    for (profile, roles) in &plan.profiles {
        iam::delete_instance_profile(&clients.iam, profile, roles).await?;
    }
    for (role, policies) in &plan.roles {
        let rest: Vec<String> = policies.iter().filter(|arn| Some(arn.as_str()) != deleted_policy).cloned().collect();
        iam::delete_role(&clients.iam, role, &rest).await?;
    }
    for provider in &plan.providers {
        iam::delete_oidc_provider(&clients.iam, provider).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_steps_carried_out_are_changes() {
        let mut steps = vec![
            step(Kind::Group, "t3-chat-s3 (another member)", DestroyStatus::Kept),
            step(Kind::Policy, "T3ChatS3Policy", DestroyStatus::Delete),
            step(Kind::Attachment, "T3ChatS3Policy → t3-chat-s3", DestroyStatus::Detach),
        ];
        let changes: Vec<Change> = [Kind::Group, Kind::Policy, Kind::Attachment]
            .into_iter()
            .flat_map(|kind| mark_done(&mut steps, kind))
            .collect();
        let said: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(said, ["policy T3ChatS3Policy deleted", "attachment T3ChatS3Policy → t3-chat-s3 detached"]);
        assert_eq!(steps[0].status, DestroyStatus::Kept);
        assert!(changes.iter().all(|c| c.action == crate::change::Action::Deleted));
    }

    fn role(ours: bool, adopted: bool) -> iam::RoleState {
        iam::RoleState {
            arn: "arn:aws:iam::1:role/T3ChatCI".into(),
            ours,
            adopted,
            made_by: ours.then(|| "ci-role".to_string()),
            inline: Vec::new(),
            trust: String::new(),
            max_session_seconds: 3600,
            policies: vec!["arn:aws:iam::1:policy/T3ChatS3Policy".into()],
        }
    }

    #[test]
    fn only_a_role_t3s3_created_is_deleted() {
        let (row, plan) = plan_role("T3ChatCI", Some(role(true, false)));
        assert_eq!(row.unwrap().status, DestroyStatus::Delete);
        assert_eq!(plan.unwrap().1, vec!["arn:aws:iam::1:policy/T3ChatS3Policy".to_string()]);
        for (ours, adopted) in [(false, true), (false, false)] {
            let (row, plan) = plan_role("T3ChatCI", Some(role(ours, adopted)));
            let row = row.unwrap();
            assert_eq!(row.status, DestroyStatus::Kept, "{row:?}");
            assert!(plan.is_none());
        }
        assert!(matches!(plan_role("T3ChatCI", None), (None, None)));
    }

    #[test]
    fn a_group_holding_anything_else_is_kept() {
        let policy = "arn:aws:iam::1:policy/T3ChatS3Policy";
        let contents = |policies: Vec<&str>, inline: Vec<&str>, members: Vec<&str>| iam::GroupContents {
            policies: policies.into_iter().map(str::to_string).collect(),
            inline: inline.into_iter().map(str::to_string).collect(),
            members: members.into_iter().map(str::to_string).collect(),
        };
        let (row, plan) = plan_group("g", Some(contents(vec![policy], vec![], vec!["t3_chat"])), policy);
        assert_eq!(row.status, DestroyStatus::Delete);
        assert!(row.name.contains("members removed first: t3_chat"), "{row:?}");
        assert_eq!(plan.unwrap().1, vec!["t3_chat".to_string()]);
        let (row, plan) =
            plan_group("g", Some(contents(vec![policy, "arn:aws:iam::1:policy/Other"], vec![], vec![])), policy);
        assert_eq!((row.status, plan.is_none()), (DestroyStatus::Kept, true));
        let (row, plan) = plan_group("g", Some(contents(vec![], vec!["inline"], vec![])), policy);
        assert_eq!((row.status, plan.is_none()), (DestroyStatus::Kept, true));
        assert_eq!(plan_group("g", None, policy).0.status, DestroyStatus::Absent);
    }

    #[test]
    fn a_key_without_a_user_is_absent_and_done_steps_read_as_done() {
        let (row, plan) = plan_key("AKIA1".into(), None);
        assert_eq!((row.status, plan), (DestroyStatus::Absent, None));
        let (row, plan) = plan_key("AKIA1".into(), Some("t3_chat".into()));
        assert_eq!(row.status, DestroyStatus::Delete);
        assert_eq!(plan, Some(("t3_chat".to_string(), "AKIA1".to_string())));
        assert_eq!(DestroyStatus::Delete.done(), DestroyStatus::Deleted);
        assert_eq!(DestroyStatus::Kept.done(), DestroyStatus::Kept);
        assert!(DestroyStatus::Detached.is_done() && DestroyStatus::Absent.is_nothing());
    }
}
