//! The work below the commands: each operation takes resolved options and clients and
//! returns a report that renders itself. No operation calls the SDK directly (bucket.rs,
//! iam.rs and sts.rs do), and no operation knows which command called it.

pub mod audit;
pub mod backend_run;
pub mod ci_role;
pub mod converge;
pub mod listing;
pub mod record;
pub mod rotate;
pub mod runtime_role;
pub mod selftest;
pub mod teardown;

use std::path::{Path, PathBuf};

use crate::aws::Target;
use crate::exit::Failure;
use crate::keys::Key;
use crate::settings::{self, AppSettings};

/// The .env a command works on: the one named, else ./.env, else ./backend/.env; it must exist.
pub fn existing_env_file(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let candidates = match explicit {
        Some(path) => vec![path.to_path_buf()],
        None => settings::default_env_candidates(),
    };
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let tried = candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        Failure::bad_input(format!("no .env file found (looked for {tried})"))
            .hint("pass --env-file PATH, or run `t3s3 init` first")
            .into()
    })
}

/// Where the acting credentials go: the flags, else the backend's own region and endpoint,
/// so an audit or a change targets the same place the backend talks to.
pub fn acting_target(explicit: &Target, settings: &AppSettings) -> Target {
    Target {
        profile: explicit.profile.clone(),
        region: explicit.region.clone().or_else(|| settings.get(Key::Region).and_then(settings::RegionName::new)),
        endpoint_url: explicit.endpoint_url.clone().or_else(|| settings.get(Key::EndpointUrl).map(str::to_string)),
        timeout: explicit.timeout,
    }
}

/// An OIDC provider a role trusts (GitHub's for ci-role, Fly.io's for runtime-role): created by
/// `create` when missing, given the STS audience when it lacks it, kept as it is otherwise;
/// its row. Nothing is sent in a dry run.
pub async fn ensure_provider<F>(
    clients: &crate::aws::ActingClients,
    record: &crate::ops::record::Record,
    arn: &str,
    found: Option<crate::iam::OidcProvider>,
    create: F,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = Result<String, crate::aws_error::AwsError>>,
{
    let audience = crate::iam::GITHUB_AUDIENCE; // sts.amazonaws.com, for every provider here
    let (status, detail) = match found {
        None => {
            if !record.dry_run() {
                create.await?;
                record.created(crate::change::Kind::OidcProvider, format!("OIDC provider {arn} created"));
            }
            (record.status(true, true), format!("audience {audience}"))
        }
        Some(provider) if !provider.audiences.iter().any(|a| a == audience) => {
            if !record.dry_run() {
                crate::iam::add_audience(&clients.iam, arn).await?;
                record.updated(crate::change::Kind::OidcProvider, format!("audience {audience} added to {arn}"));
            }
            (record.status(true, false), format!("audience {audience} added"))
        }
        Some(provider) => {
            let whose = if provider.ours { "made by t3s3" } else { "already there; kept as it is" };
            (crate::ops::record::Status::Unchanged, format!("audience {audience}; {whose}"))
        }
    };
    record.row(crate::change::Kind::OidcProvider, arn, status, detail);
    Ok(())
}

/// The least-privilege policy for a role (ci-role, runtime-role): created when it is missing
/// (not in a dry run), and its row.
pub async fn ensure_policy(
    clients: &crate::aws::ActingClients,
    record: &crate::ops::record::Record,
    arn: &str,
    exists: bool,
    name: &str,
    bucket: &crate::bucket_name::BucketName,
) -> anyhow::Result<()> {
    let needed = !exists;
    if needed && !record.dry_run() {
        let document =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&crate::policy::render(bucket)?)?)?;
        crate::iam::create_policy(&clients.iam, name, &document, crate::policy::DESCRIPTION).await?;
        record.created(crate::change::Kind::Policy, format!("policy {name} created"));
    }
    let detail = format!("{name}: the backend's least privilege on `{bucket}`");
    record.row(crate::change::Kind::Policy, arn, record.status(needed, true), detail);
    Ok(())
}

/// Where requests signed with the backend's key go, as `verify` resolves it: the flag, the
/// environment's AWS_ENDPOINT_URL, then the .env's. With an endpoint configured anywhere, no
/// request signed with the key goes to an AWS host.
pub fn app_endpoint(explicit: &Target, from_file: Option<String>) -> Option<String> {
    explicit
        .endpoint_url
        .clone()
        .or_else(|| std::env::var(Key::EndpointUrl.name()).ok().filter(|url| !url.is_empty()))
        .or(from_file)
}

/// CreateAccessKey failed (`init`, `rotate-key`): its answer may be what was lost (a reset, a
/// truncated body), with the key created in IAM and its secret held by nobody. Lists the
/// user's keys and names any that was not among `before`, with the command that removes it.
pub async fn lost_key_error(
    clients: &crate::aws::ActingClients,
    error: crate::aws_error::AwsError,
    user: &str,
    before: &[String],
) -> anyhow::Error {
    let Ok(keys) = crate::iam::list_keys(&clients.iam, user, false).await else {
        return anyhow::Error::new(error).context(format!(
            "IAM may have created a key for `{user}` whose secret nobody holds (its keys could not be listed): check with `aws iam list-access-keys --user-name {user}`"
        ));
    };
    let unknown: Vec<String> = keys.into_iter().map(|k| k.id).filter(|id| !before.contains(id)).collect();
    if unknown.is_empty() {
        return error.into();
    }
    let deletes: Vec<String> = unknown
        .iter()
        .map(|id| format!("`aws iam delete-access-key --user-name {user} --access-key-id {id}`"))
        .collect();
    Failure::unexpected(format!(
        "{error}; IAM created {} for `{user}` but its secret never arrived, so nobody holds it",
        unknown.join(", ")
    ))
    .hint(format!("run `t3s3 init --yes` again (it finds and deletes that key), or {}", deletes.join(" and ")))
    .into()
}
