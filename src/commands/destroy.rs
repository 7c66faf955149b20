//! `t3s3 destroy`: undo `init` for a dev environment. The bucket (its objects only with
//! --force), the policy, the key named in the .env and the .env's S3 settings go; the IAM
//! user stays (the guide reuses it). Running it twice is harmless.

use anyhow::Result;
use serde::Serialize;

use crate::aws;
use crate::bucket::{self, Presence};
use crate::cli::{DestroyArgs, GlobalArgs};
use crate::envfile::{EnvFile, MANAGED_KEYS};
use crate::exit::{ExitStatus, Failure};
use crate::iam;
use crate::prompt;
use crate::report::Printer;
use crate::settings::AppSettings;

/// One resource and what happens to it: `delete` / `detach` / `remove` in the plan,
/// `deleted` / `detached` / `removed` once done, `absent` when there was nothing, `kept`.
#[derive(Debug, Clone, Serialize)]
pub struct DestroyStep {
    pub resource: &'static str,
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DestroyReport {
    pub ok: bool,
    pub dry_run: bool,
    pub steps: Vec<DestroyStep>,
}

pub async fn run(args: &DestroyArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let env_path = super::existing_env_file(args.env_file.as_deref())?;
    let shown = env_path.display().to_string();
    let settings = AppSettings::from_file(&env_path)?;
    let clients = aws::acting_clients(&super::acting_target(global, &settings)).await;
    let aws::Caller { account, arn: caller_arn } = clients.caller().await?;
    printer.note(&format!("Acting as {caller_arn} (account {account})"));

    // Look at everything first.
    let mut steps = Vec::new();
    let bucket_name = settings.get("S3_BUCKET_NAME").map(str::to_string);
    let mut bucket_plan = None;
    if let Some(name) = &bucket_name {
        match bucket::presence(&clients.s3_in("us-east-1"), name).await? {
            Presence::Ours { region } => {
                let s3 = clients.s3_in(&region);
                let versions = bucket::all_versions(&s3, name).await?;
                if !versions.is_empty() && !args.force {
                    return Err(Failure::bad_input(format!(
                        "bucket `{name}` still holds {} object version(s); nothing was deleted",
                        versions.len()
                    ))
                    .hint("run again with --force to delete them (every version) with the bucket, or empty it yourself")
                    .into());
                }
                let detail = if versions.is_empty() {
                    name.clone()
                } else {
                    format!("{name} and its {} object version(s)", versions.len())
                };
                steps.push(DestroyStep { resource: "bucket", name: detail, status: "delete".into() });
                bucket_plan = Some((s3, name.clone(), versions));
            }
            Presence::Missing => {
                steps.push(DestroyStep { resource: "bucket", name: name.clone(), status: "absent".into() })
            }
            Presence::OtherOwner => steps.push(DestroyStep {
                resource: "bucket",
                name: format!("{name} (another account's)"),
                status: "kept".into(),
            }),
        }
    }

    let policy_arn = iam::policy_arn(iam::partition(&caller_arn), &account, &args.policy_name);
    let policy_plan = match iam::find_policy(&clients.iam, &policy_arn).await? {
        Some(state) => {
            let holders = iam::policy_holders(&clients.iam, &policy_arn).await?;
            for user in &holders.users {
                steps.push(DestroyStep {
                    resource: "attachment",
                    name: format!("{} → {user}", args.policy_name),
                    status: "detach".into(),
                });
            }
            for group in &holders.groups {
                steps.push(DestroyStep {
                    resource: "attachment",
                    name: format!("{} → group {group}", args.policy_name),
                    status: "detach".into(),
                });
            }
            for role in &holders.roles {
                steps.push(DestroyStep {
                    resource: "attachment",
                    name: format!("{} → role {role}", args.policy_name),
                    status: "detach".into(),
                });
            }
            steps.push(DestroyStep { resource: "policy", name: policy_arn.clone(), status: "delete".into() });
            Some((state, holders))
        }
        None => {
            steps.push(DestroyStep { resource: "policy", name: policy_arn.clone(), status: "absent".into() });
            None
        }
    };

    let key_plan = match settings.get("AWS_ACCESS_KEY_ID") {
        Some(id) => match iam::user_of_key(&clients.iam, id).await? {
            Some(user) => {
                steps.push(DestroyStep {
                    resource: "access_key",
                    name: format!("{id} of `{user}`"),
                    status: "delete".into(),
                });
                Some((user, id.to_string()))
            }
            None => {
                steps.push(DestroyStep { resource: "access_key", name: id.to_string(), status: "absent".into() });
                None
            }
        },
        None => None,
    };

    let mut env = EnvFile::read(&env_path)?;
    let removed = env.remove(&MANAGED_KEYS);
    steps.push(DestroyStep {
        resource: "env_file",
        name: if removed.is_empty() { shown.clone() } else { format!("{shown}: {}", removed.join(", ")) },
        status: if removed.is_empty() { "absent".into() } else { "remove".into() },
    });
    steps.push(DestroyStep {
        resource: "user",
        name: key_plan.as_ref().map_or_else(|| "the backend's user".into(), |(u, _)| u.clone()),
        status: "kept".into(),
    });

    let nothing_to_do = steps.iter().all(|s| matches!(s.status.as_str(), "absent" | "kept"));
    if args.dry_run || nothing_to_do {
        printer.destroy(&DestroyReport { ok: true, dry_run: args.dry_run, steps });
        return Ok(ExitStatus::Success);
    }
    printer.destroy_plan(&steps);
    if !prompt::confirm("Delete the resources above?", args.yes)? {
        return Err(Failure::bad_input("nothing was deleted").hint("run again and answer y, or pass --yes").into());
    }

    // Apply: the .env first, so it never names a key that no longer exists.
    let done = |steps: &mut Vec<DestroyStep>, resource: &str| {
        for step in steps.iter_mut().filter(|s| s.resource == resource) {
            step.status = match step.status.as_str() {
                "delete" => "deleted".into(),
                "detach" => "detached".into(),
                "remove" => "removed".into(),
                other => other.into(),
            };
        }
    };
    if !removed.is_empty() {
        env.write()?;
        done(&mut steps, "env_file");
    }
    if let Some((user, id)) = &key_plan {
        iam::delete_key(&clients.iam, user, id).await?;
        done(&mut steps, "access_key");
    }
    if let Some((state, holders)) = &policy_plan {
        iam::delete_policy(&clients.iam, state, holders).await?;
        done(&mut steps, "attachment");
        done(&mut steps, "policy");
    }
    if let Some((s3, name, versions)) = &bucket_plan {
        bucket::delete_versions(s3, name, versions).await?;
        bucket::delete_bucket(s3, name).await?;
        done(&mut steps, "bucket");
    }
    printer.destroy(&DestroyReport { ok: true, dry_run: false, steps });
    Ok(ExitStatus::Success)
}
