//! `ci-role`'s work: keyless CI. GitHub's OIDC provider and a role that only one repository's
//! branch can assume, with the backend's least-privilege policy, looked at before anything is
//! created; then the workflow to paste. A second run changes nothing.

use anyhow::Result;
use serde::Serialize;

use crate::aws::ActingClients;
use crate::change::Kind;
use crate::exit::{Failure, after_changes};
use crate::iam;
use crate::ops::record::{Record, Requests, Resource, Status};
use crate::outln;
use crate::policy;
use crate::sts;
use crate::ui::{Render, style};

/// The most a CI session may last: one hour.
pub const MAX_SESSION_SECONDS: i32 = 3600;

/// What the user asked for, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// OWNER/NAME.
    pub repo: String,
    pub branch: String,
    /// A GitHub deployment environment: the token's subject names it instead of the branch.
    pub environment: Option<String>,
    /// Take over a role of that name that t3s3 did not create.
    pub adopt: bool,
    pub role_name: String,
    pub bucket: crate::bucket_name::BucketName,
    pub region: String,
    pub policy_name: String,
    pub dry_run: bool,
}

/// What ci-role did (or would do), and the workflow that uses it.
#[derive(Debug, Clone, Serialize)]
pub struct CiRoleReport {
    pub ok: bool,
    pub dry_run: bool,
    pub account: String,
    pub role_arn: String,
    pub provider_arn: String,
    /// The only token subject the role trusts.
    pub subject: String,
    pub resources: Vec<Resource>,
    /// The GitHub Actions workflow to paste.
    pub workflow: String,
    pub requests: Requests,
}

impl Render for CiRoleReport {
    fn text(&self, out: &mut String) {
        if self.dry_run {
            outln!(out, "{}", style::warn("Dry run: read-only calls only; nothing was changed."));
        }
        Resource::rows(out, &self.resources);
        outln!(out, "{}", style::note(&self.requests.line()));
        outln!(out, "\nOnly `{}` can assume {}, for at most one hour.", self.subject, self.role_arn);
        outln!(
            out,
            "{}",
            style::warn("Every workflow there with `id-token: write` can assume it: review who may push to it.")
        );
        outln!(out, "Paste this into .github/workflows/s3.yml (no AWS key is stored in GitHub):\n");
        outln!(out, "{}", self.workflow);
        outln!(
            out,
            "{}",
            style::note(
                "CI proves t3s3's own client on the role's temporary credentials, not the backend's: a backend that builds boto3.client with a key and secret but no aws_session_token fails on them (`t3s3 verify --backend` and doctor's backend_session_token check it)."
            )
        );
    }
}

/// The provider, the role (trust, session limit, policy) and the policy, looked at at once,
/// then made to match. Every reason to stop is found before the first change.
pub async fn run(clients: &ActingClients, options: &Options) -> Result<CiRoleReport> {
    let caller = sts::acting_caller(clients).await?;
    let partition = iam::partition(&caller.arn);
    let provider_arn = iam::github_provider_arn(partition, &caller.account);
    let policy_arn = iam::policy_arn(partition, &caller.account, &options.policy_name);
    let iam_client = &clients.iam;
    let (provider, role, policy) = tokio::join!(
        iam::oidc_provider(iam_client, &provider_arn),
        iam::role(iam_client, &options.role_name),
        iam::find_policy(iam_client, &policy_arn)
    );
    let (provider, role, policy) = (provider?, role?, policy?);
    let wanted = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&policy::render(&options.bucket)?)?)?;
    if let Some(state) = &policy {
        if !policy::same_document(&state.document, &wanted) {
            let difference = policy::difference(&state.document, &wanted).unwrap_or_default();
            return Err(Failure::bad_input(format!(
                "policy {} does not match `t3s3 policy --bucket {}` ({difference}); nothing was changed",
                options.policy_name, options.bucket
            ))
            .hint(format!(
                "converge it with `t3s3 init --bucket {}`, or pass --policy-name for a policy of its own",
                options.bucket
            ))
            .into());
        }
    }
    if let Some(state) = &role {
        check_existing_role(state, options, &policy_arn)?;
    }
    let work = Work { clients, options, record: Record::new(options.dry_run) };
    let trust = policy::github_trust(&provider_arn, &options.subject());
    let role_arn = format!("arn:{partition}:iam::{}:role/{}", caller.account, options.role_name);
    let applied = work.apply(&provider_arn, provider, &policy_arn, policy.is_some(), (role, &role_arn), &trust).await;
    let (resources, changes) = work.record.into_parts();
    let role_arn = applied.map_err(|error| after_changes(error, changes))?;
    Ok(CiRoleReport {
        ok: true,
        dry_run: options.dry_run,
        account: caller.account,
        subject: options.subject(),
        workflow: workflow(&role_arn, options),
        role_arn,
        provider_arn,
        resources,
        requests: Requests::of(&clients.log),
    })
}

/// The changes, recorded as they are made.
struct Work<'a> {
    clients: &'a ActingClients,
    options: &'a Options,
    record: Record,
}

impl Work<'_> {
    /// Provider and policy at once; then the role, whose trust names the provider.
    async fn apply(
        &self,
        provider_arn: &str,
        provider: Option<iam::OidcProvider>,
        policy_arn: &str,
        policy_exists: bool,
        (role, role_arn): (Option<iam::RoleState>, &str),
        trust: &str,
    ) -> Result<String> {
        let (provider_done, policy_done) =
            tokio::join!(self.provider(provider_arn, provider), self.policy(policy_arn, policy_exists));
        provider_done?;
        policy_done?;
        self.role(role, role_arn, trust, policy_arn).await
    }

    async fn provider(&self, arn: &str, found: Option<iam::OidcProvider>) -> Result<()> {
        let create = iam::create_github_provider(&self.clients.iam);
        crate::ops::ensure_provider(self.clients, &self.record, arn, found, create).await
    }

    async fn policy(&self, arn: &str, exists: bool) -> Result<()> {
        let (name, bucket) = (&self.options.policy_name, &self.options.bucket);
        crate::ops::ensure_policy(self.clients, &self.record, arn, exists, name, bucket).await
    }

    /// The role: created, or its trust, session limit and policy made to match.
    async fn role(
        &self,
        found: Option<iam::RoleState>,
        role_arn: &str,
        trust: &str,
        policy_arn: &str,
    ) -> Result<String> {
        let (iam_client, name, dry_run) = (&self.clients.iam, self.options.role_name.as_str(), self.options.dry_run);
        let (subject, record, policy_name) = (self.options.subject(), &self.record, &self.options.policy_name);
        let Some(state) = found else {
            let arn = if dry_run {
                role_arn.to_string()
            } else {
                let description = format!("GitHub Actions of {subject} (t3s3 ci-role)");
                let new_role =
                    iam::NewRole { trust, seconds: MAX_SESSION_SECONDS, description: &description, made_by: "ci-role" };
                let arn = iam::create_role(iam_client, name, new_role).await?;
                record.created(Kind::Role, format!("role {name} created"));
                iam::attach_to_role(iam_client, name, policy_arn).await?;
                record.created(Kind::Attachment, format!("{} attached to role {name}", policy_name));
                arn
            };
            record.row(Kind::Role, name, record.status(true, true), format!("assumable only by {subject}"));
            record.row(Kind::Attachment, name, record.status(true, true), format!("{} → {name}", policy_name));
            return Ok(arn);
        };
        let adopt = !state.ours && !state.adopted;
        if adopt && !dry_run {
            iam::tag_adopted(iam_client, name).await?;
            record.updated(Kind::Role, format!("role {name} adopted (tagged {})", iam::ADOPTED_TAG));
        }
        let trust_differs = !policy::same_document(&state.trust, trust);
        let session_differs = state.max_session_seconds != MAX_SESSION_SECONDS;
        let attach = !state.policies.iter().any(|arn| arn == policy_arn);
        if !dry_run {
            let update_trust = async {
                if trust_differs {
                    iam::update_trust(iam_client, name, trust).await?;
                    record.updated(Kind::TrustPolicy, format!("trust policy of role {name} replaced"));
                }
                Ok::<_, anyhow::Error>(())
            };
            let limit = async {
                if session_differs {
                    iam::set_max_session(iam_client, name, MAX_SESSION_SECONDS).await?;
                    record.updated(Kind::SessionLimit, format!("session limit of role {name} set to one hour"));
                }
                Ok::<_, anyhow::Error>(())
            };
            let attached = async {
                if attach {
                    iam::attach_to_role(iam_client, name, policy_arn).await?;
                    record.created(Kind::Attachment, format!("{} attached to role {name}", policy_name));
                }
                Ok::<_, anyhow::Error>(())
            };
            let (a, b, c) = tokio::join!(update_trust, limit, attached);
            a?;
            b?;
            c?;
        }
        match adopt {
            true => {
                record.row(Kind::Role, name, record.status(true, false), format!("{} adopted (--adopt)", state.arn))
            }
            false => record.row(Kind::Role, name, Status::Unchanged, &state.arn),
        }
        record.row(Kind::TrustPolicy, name, record.status(trust_differs, false), format!("only {subject}"));
        let was = if session_differs { format!(" (was {} s)", state.max_session_seconds) } else { String::new() };
        record.row(
            Kind::SessionLimit,
            name,
            record.status(session_differs, false),
            format!("{MAX_SESSION_SECONDS} s{was}"),
        );
        record.row(Kind::Attachment, name, record.status(attach, true), format!("{} → {name}", policy_name));
        Ok(state.arn)
    }
}

impl Options {
    /// The only token subject the role trusts.
    pub fn subject(&self) -> String {
        policy::github_subject(&self.repo, &self.branch, self.environment.as_deref())
    }
}

/// Refuses, before any change, a role of that name that t3s3 did not create (unless
/// `--adopt`), and one that holds anything beyond the least-privilege policy: replacing
/// its trust would hand those policies to GitHub's tokens.
fn check_existing_role(state: &iam::RoleState, options: &Options, policy_arn: &str) -> Result<()> {
    let name = &options.role_name;
    if !state.ours && !state.adopted && !options.adopt {
        return Err(Failure::bad_input(format!(
            "role {name} already exists and t3s3 did not create it (no {} tag); nothing was changed",
            iam::CREATED_TAG
        ))
        .hint(format!(
            "choose another --role-name, or pass --adopt to let t3s3 replace its trust policy (it must hold nothing but {})",
            options.policy_name
        ))
        .into());
    }
    let extra = extra_role_policies(state, policy_arn);
    if !extra.is_empty() {
        return Err(Failure::check_failed(format!(
            "role {name} holds more than {}: {}; GitHub's token would get them too, so nothing was changed",
            options.policy_name,
            extra.join(", ")
        ))
        .hint(format!(
            "detach them (`aws iam detach-role-policy --role-name {name} --policy-arn ARN`, `aws iam delete-role-policy --role-name {name} --policy-name NAME`), or choose another --role-name"
        ))
        .into());
    }
    Ok(())
}

/// What a role holds beyond `policy_arn`: other managed policies and every inline one.
pub fn extra_role_policies(state: &iam::RoleState, policy_arn: &str) -> Vec<String> {
    let managed = state.policies.iter().filter(|arn| *arn != policy_arn).map(|arn| format!("managed policy {arn}"));
    managed.chain(state.inline.iter().map(|name| format!("inline policy {name}"))).collect()
}

/// A branch name as a literal in GitHub's branch filter, whose `* ? + [ ] !` are pattern
/// characters unless escaped with `\\`.
fn filter_pattern(branch: &str) -> String {
    branch.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '*' | '?' | '+' | '[' | ']' | '!') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// A YAML single-quoted scalar: `'` doubled, nothing else special inside.
fn yaml_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The workflow that installs t3s3, then assumes the role and runs `t3s3 verify`: no stored
/// key, and nothing is built or installed while the role's credentials exist. Actions are
/// pinned by commit, the install by this build's commit, and the checkout keeps no token,
/// so it passes `zizmor` as the project's own workflows do.
fn workflow(role_arn: &str, options: &Options) -> String {
    let environment = options
        .environment
        .as_deref()
        .map(|name| {
            format!("    environment: {}   # the role trusts only this environment's jobs\n", yaml_quoted(name))
        })
        .unwrap_or_default();
    let commit = env!("T3S3_COMMIT_FULL");
    let pin = if commit == "unknown" {
        String::from("--tag v") + env!("CARGO_PKG_VERSION")
    } else {
        format!("--rev {commit}")
    };
    format!(
        "name: S3 check
on:
  push:
    branches: [{branch}]
permissions:
  id-token: write   # lets the job ask GitHub for its OIDC token
  contents: read
jobs:
  verify:
    runs-on: ubuntu-latest
{environment}    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      # Installed before any AWS credential exists: no build script runs with the role's rights.
      - name: Install t3s3 (pinned to the build that printed this workflow)
        run: cargo install --locked --git \"$T3S3_REPO\" {pin}
        env:
          T3S3_REPO: ${{{{ vars.T3S3_REPO }}}}
      - uses: aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2
        with:
          role-to-assume: {role_arn}
          aws-region: {region}
      - name: Verify S3 with the role's temporary credentials
        run: t3s3 verify
        env:
          S3_BUCKET_NAME: {bucket}
",
        branch = yaml_quoted(&filter_pattern(&options.branch)),
        region = options.region,
        bucket = options.bucket,
    )
}

/// Checks a repository (`OWNER/NAME`, as GitHub allows them) and a branch name (git's ref
/// rules, and no wildcard): the trust policy names them exactly.
pub fn check_repo_and_branch(repo: &str, branch: &str) -> Result<(), String> {
    let Some((owner, name)) = repo.split_once('/') else {
        return Err(format!("--repo `{repo}` is not OWNER/NAME"));
    };
    let owner_ok = (1..=39).contains(&owner.len())
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !owner.starts_with('-');
    let name_ok = (1..=100).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name != "."
        && name != "..";
    if !owner_ok || !name_ok {
        return Err(format!(
            "--repo `{repo}` is not a GitHub repository name (OWNER: letters, digits, '-'; NAME: letters, digits, '.', '_', '-')"
        ));
    }
    if let Err(why) = check_branch(branch) {
        return Err(format!("--branch `{branch}` is not a branch name git accepts: {why}"));
    }
    Ok(())
}

/// git's `check-ref-format --branch` rules, and no leading `!` (a negation in GitHub's
/// branch filter).
pub fn check_branch(branch: &str) -> Result<(), &'static str> {
    let bad = |c: char| c.is_ascii_control() || matches!(c, ' ' | '*' | '?' | '[' | '\\' | '~' | '^' | ':' | '\x7f');
    if branch.is_empty() {
        return Err("it is empty");
    }
    if branch.chars().any(bad) {
        return Err("it holds a space, a control character or one of * ? [ \\ ~ ^ :");
    }
    if branch.contains("..") || branch.contains("@{") || branch == "@" {
        return Err("it holds '..' or '@{', or is '@'");
    }
    if branch.starts_with(['-', '!']) {
        return Err("it starts with '-' or '!'");
    }
    if branch.starts_with('/') || branch.ends_with('/') || branch.contains("//") {
        return Err("it starts or ends with '/', or holds '//'");
    }
    if branch.ends_with('.') {
        return Err("it ends with '.'");
    }
    if branch.split('/').any(|part| part.starts_with('.') || part.ends_with(".lock")) {
        return Err("a part starts with '.' or ends with '.lock'");
    }
    Ok(())
}

/// A GitHub deployment environment's name: up to 255 characters, none of which would
/// change the subject's meaning (`:`) or the YAML.
pub fn check_environment(name: &str) -> Result<(), String> {
    let ok = (1..=255).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        && name.trim() == name;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--environment `{name}` is not a GitHub environment name (letters, digits, '-', '_', '.', inner spaces)"
        ))
    }
}

/// IAM's rule for role names: 1-64 of letters, digits and `+=,.@_-`.
pub fn check_role_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("--role-name `{name}` is not an IAM role name (1-64 of letters, digits, +=,.@_-)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_branches_are_checked_before_any_request() {
        assert_eq!(check_repo_and_branch("acme/t3-chat", "main"), Ok(()));
        assert_eq!(check_repo_and_branch("acme-inc/t3.chat_api", "release/2026-11"), Ok(()));
        for (repo, branch) in [
            ("acme", "main"),
            ("acme/*", "main"),
            ("acme/t3 chat", "main"),
            ("-acme/t3", "main"),
            ("acme/t3", "*"),
            ("acme/t3", "feature/*"),
            ("acme/t3", ""),
            ("acme/t3", "a..b"),
            ("acme/t3", "main:evil"),
            ("acme/t3", "x.lock"),
            ("acme/t3", "!main"),
            ("acme/t3", "@{u}"),
            ("acme/t3", "a/.hidden"),
            ("acme/t3", "@"),
        ] {
            assert!(check_repo_and_branch(repo, branch).is_err(), "{repo} {branch}");
        }
        assert_eq!(yaml_quoted("it's"), "'it''s'");
        assert_eq!(check_repo_and_branch("acme/t3", "x]"), Ok(()), "git accepts it; the workflow escapes it");
        assert_eq!(filter_pattern("x]+y"), "x\\]\\+y");
        assert!(check_environment("production").is_ok() && check_environment("a:b").is_err());
        assert!(check_role_name("T3ChatCI").is_ok());
        assert!(check_role_name("bad role").is_err());
        assert!(check_role_name(&"r".repeat(65)).is_err());
    }
}
