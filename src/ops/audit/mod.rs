//! `doctor`'s work: a read-only audit of the guide's security practices, check by check, each
//! with its evidence and the exact fix. Every check id comes from [`CheckId`]; one that a run
//! cannot reach is reported SKIPPED with the reason, never left out.

use std::cell::RefCell;
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::aws::{self, Target};
use crate::diagnose;
use crate::iam;
use crate::outln;
use crate::settings::AppSettings;
use crate::sts;
use crate::ui::{Render, style};

mod account;
mod local;
mod python;

use account::{Scope, app_checks, namespace_check};
use local::local_checks;
use python::python_checks;

/// The free tier's S3 Standard storage, as the guide states it.
pub const FREE_TIER_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// The guide rotates keys every 90 days; warn ten days before.
pub const KEY_MAX_DAYS: u64 = 90;
pub const KEY_WARN_DAYS: u64 = 80;

/// Declares the check ids once: the enum, the list of all of them in report order, and
/// each id's name in the output.
macro_rules! check_ids {
    ($($id:ident => $name:literal,)*) => {
        /// One check of the audit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
        pub enum CheckId {
            $(#[serde(rename = $name)] $id,)*
        }

        impl CheckId {
            /// Every check, in the order the report lists them.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$id,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$id => $name,)*
                }
            }
        }
    };
}

check_ids! {
    EnvExists => "env_exists",
    EnvLint => "env_lint",
    EnvMode => "env_mode",
    EnvIgnored => "env_ignored",
    EnvUntracked => "env_untracked",
    EnvNeverCommitted => "env_never_committed",
    GitignorePatterns => "gitignore_patterns",
    EnvTempFiles => "env_temp_files",
    BackendPython => "backend_python",
    Boto3Installed => "boto3_installed",
    Boto3Declared => "boto3_declared",
    Boto3EndpointEnv => "boto3_endpoint_env",
    BackendSessionToken => "backend_session_token",
    AppIdentity => "app_identity",
    BucketNamespace => "bucket_namespace",
    BucketRegion => "bucket_region",
    BucketReachable => "bucket_reachable",
    KeyAge => "key_age",
    UnwrittenKeys => "unwritten_keys",
    BroadS3Access => "broad_s3_access",
    PolicyDrift => "policy_drift",
    PolicyViaGroup => "policy_via_group",
    CiRoleTrust => "ci_role_trust",
    RuntimeRoleTrust => "runtime_role_trust",
    RuntimeCredentials => "runtime_credentials",
    PublicAccessBlock => "public_access_block",
    AclsDisabled => "acls_disabled",
    DefaultEncryption => "default_encryption",
    TlsOnly => "tls_only",
    IncompleteUploadsAborted => "incomplete_uploads_aborted",
    BucketPolicyPublic => "bucket_policy_public",
    RootMfa => "root_mfa",
    BillingAlert => "billing_alert",
    Storage => "storage",
    AccessLogging => "access_logging",
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    Skipped,
    Info,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skipped => "SKIPPED",
            CheckStatus::Info => "INFO",
        }
    }
}

impl CheckId {
    /// The prowler checks (`prowler aws --service s3 iam`) this check corresponds to, so
    /// the two reports can be matched.
    pub fn prowler(self) -> &'static [&'static str] {
        match self {
            CheckId::PublicAccessBlock => &["s3_bucket_level_public_access_block"],
            CheckId::AclsDisabled => &["s3_bucket_acl_prohibited"],
            CheckId::DefaultEncryption => &["s3_bucket_default_encryption"],
            CheckId::TlsOnly => &["s3_bucket_secure_transport_policy"],
            CheckId::IncompleteUploadsAborted => &["s3_bucket_lifecycle_enabled"],
            CheckId::BucketPolicyPublic => &["s3_bucket_public_access", "s3_bucket_policy_public_write_access"],
            CheckId::AccessLogging => &["s3_bucket_server_access_logging_enabled"],
            CheckId::RootMfa => &["iam_root_mfa_enabled"],
            CheckId::KeyAge => &["iam_rotate_access_key_90_days"],
            CheckId::PolicyViaGroup => &["iam_policy_attached_only_to_group_or_roles"],
            _ => &[],
        }
    }
}

/// One finding: what was checked, what was seen, and what to do. In JSON it also names
/// the prowler checks it corresponds to.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: CheckId,
    pub status: CheckStatus,
    pub evidence: String,
    pub fix: String,
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let prowler = self.id.prowler();
        let mut out = serializer.serialize_struct("Check", 5)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("status", &self.status)?;
        out.serialize_field("evidence", &self.evidence)?;
        out.serialize_field("fix", &self.fix)?;
        if !prowler.is_empty() {
            out.serialize_field("prowler", prowler)?;
        }
        out.end()
    }
}

/// The whole audit: `ok` is false when any check FAILs.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Render for DoctorReport {
    fn text(&self, out: &mut String) {
        // The id column is as wide as the longest id, so long ids keep the columns.
        let width = self.checks.iter().map(|c| c.id.as_str().len()).max().unwrap_or(22);
        let mut skipped: Vec<(&str, Vec<&str>)> = Vec::new();
        for check in &self.checks {
            if check.status == CheckStatus::Skipped {
                // Checks skipped for one reason are said once, below (outside a project,
                // nearly all of them are).
                match skipped.iter_mut().find(|(reason, _)| *reason == check.evidence) {
                    Some((_, ids)) => ids.push(check.id.as_str()),
                    None => skipped.push((&check.evidence, vec![check.id.as_str()])),
                }
                continue;
            }
            let label = format!("{:<7}", check.status.label());
            let label = match check.status {
                CheckStatus::Pass => style::ok(&label),
                CheckStatus::Warn => style::warn(&label),
                CheckStatus::Fail => style::fail(&label),
                CheckStatus::Skipped | CheckStatus::Info => style::note(&label),
            };
            outln!(out, "{label} {:<width$} {}", check.id.as_str(), check.evidence);
            if !check.fix.is_empty() && check.status != CheckStatus::Pass {
                outln!(out, "        {:<width$} {} {}", "", style::note("fix:"), check.fix);
            }
        }
        for (reason, ids) in skipped {
            let label = style::note(&format!("{:<7}", CheckStatus::Skipped.label()));
            match ids.as_slice() {
                [one] => outln!(out, "{label} {one:<width$} {reason}"),
                many => outln!(out, "{label} {} checks: {reason}\n        ({})", many.len(), many.join(", ")),
            }
        }
        let count = |status: CheckStatus| self.checks.iter().filter(|c| c.status == status).count();
        outln!(
            out,
            "\nSummary: {} PASS, {} WARN, {} FAIL, {} SKIPPED, {} INFO",
            count(CheckStatus::Pass),
            count(CheckStatus::Warn),
            count(CheckStatus::Fail),
            count(CheckStatus::Skipped),
            count(CheckStatus::Info)
        );
    }
}

/// The rotation rule: WARN past 80 days, FAIL past 90.
pub fn key_age_status(days: u64) -> CheckStatus {
    if days > KEY_MAX_DAYS {
        CheckStatus::Fail
    } else if days > KEY_WARN_DAYS {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    }
}

/// The findings so far (checks that run at once add to it in any order; the report is
/// sorted into [`CheckId::ALL`] order at the end).
#[derive(Default)]
struct Audit {
    checks: RefCell<Vec<Check>>,
}

impl Audit {
    fn add(&self, id: CheckId, status: CheckStatus, evidence: impl Into<String>, fix: impl Into<String>) {
        self.checks.borrow_mut().push(Check { id, status, evidence: evidence.into(), fix: fix.into() });
    }

    fn skip(&self, ids: &[CheckId], reason: &str) {
        for id in ids {
            self.add(*id, CheckStatus::Skipped, reason, "");
        }
    }

    /// Takes in the findings of another audit.
    fn absorb(&self, other: Audit) {
        self.checks.borrow_mut().extend(other.checks.into_inner());
    }

    /// Every check not reached is SKIPPED with `reason`; the report is in [`CheckId::ALL`] order.
    fn finish(self, reason: &str) -> DoctorReport {
        for id in CheckId::ALL {
            if !self.checks.borrow().iter().any(|c| c.id == *id) {
                self.add(*id, CheckStatus::Skipped, reason, "");
            }
        }
        let mut checks = self.checks.into_inner();
        checks.sort_by_key(|c| c.id);
        DoctorReport { ok: !checks.iter().any(|c| c.status == CheckStatus::Fail), checks }
    }
}

/// What the audit looks at.
#[derive(Debug, Clone)]
pub struct Options {
    /// The .env files to look for, in order; the first that exists is audited.
    pub env_candidates: Vec<PathBuf>,
    pub policy_name: String,
    /// The role `ci-role` makes, whose trust policy is checked.
    pub ci_role: String,
    /// The backend's folder (default: the one holding the .env) and interpreter.
    pub backend_dir: Option<PathBuf>,
    pub python: Option<PathBuf>,
}

/// Runs every check; only a bad argument is an error, everything else is a finding.
/// The acting clients go where `explicit` says, else where the .env's backend looks.
/// Checks that only read go out together: the backend key's three, the acting caller and
/// every check that needs no user; then the user's keys and policies.
pub async fn run(options: &Options, explicit: &Target) -> Result<DoctorReport> {
    let audit = Audit::default();
    let Some(env_path) = options.env_candidates.iter().find(|p| p.is_file()).cloned() else {
        let tried = options.env_candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        audit.add(
            CheckId::EnvExists,
            CheckStatus::Fail,
            format!("no .env file (looked for {tried})"),
            "run `t3s3 init`, or pass --env-file PATH",
        );
        account_checks(&audit, options, explicit).await;
        return Ok(audit.finish("no .env file to audit"));
    };
    let shown = env_path.display().to_string();
    audit.add(CheckId::EnvExists, CheckStatus::Pass, format!("{shown} exists"), "");
    let settings = AppSettings::from_file(&env_path)?;
    local_checks(&audit, &env_path, &settings);
    namespace_check(&audit, settings.bucket());
    let python = python_checks(&audit, options, &env_path, &settings);

    let Some(mut app) = settings.app_credentials() else {
        python.await;
        return Ok(audit.finish(&format!("{shown} does not set {}", settings.missing().join(", "))));
    };
    app.endpoint_url = super::app_endpoint(explicit, app.endpoint_url);
    // What an administrator can see: the acting credentials of the standard chain. Their
    // findings count only when the caller is known.
    let clients = aws::acting_clients(&super::acting_target(explicit, &settings)).await?;
    let acting = Audit::default();
    let scope = Scope {
        clients: &clients,
        key_id: &app.access_key_id,
        bucket: settings.bucket(),
        policy_name: &options.policy_name,
    };
    let s3 = clients.s3_in(settings.region());
    let (app_user, (), caller, key_user, ..) = tokio::join!(
        app_checks(&audit, &app, &settings, &options.policy_name),
        python,
        sts::acting_caller(&clients),
        iam::user_of_key(&clients.iam, &app.access_key_id),
        scope.bucket_settings(&acting, &s3),
        scope.bucket_policy(&acting, &s3),
        scope.root_mfa(&acting),
        scope.roles(&acting, &options.ci_role),
        scope.storage(&acting, &s3),
        scope.access_logging(&acting, &s3),
    );
    let caller = match caller {
        Ok(caller) => caller,
        Err(error) => {
            let reason = acting_unusable(&error);
            return Ok(audit.finish(&reason));
        }
    };
    let policy_arn = iam::policy_arn(iam::partition(&caller.arn), &caller.account, &options.policy_name);
    let billing = scope.billing_alert(&acting, &caller.account);
    match app_user.or(key_user.ok().flatten()) {
        Some(user) => {
            tokio::join!(scope.key_age(&acting, &user), scope.user_policies(&acting, &user, &policy_arn), billing);
        }
        None => {
            billing.await;
            let reason = no_user_reason(&app);
            acting.skip(
                &[
                    CheckId::KeyAge,
                    CheckId::UnwrittenKeys,
                    CheckId::BroadS3Access,
                    CheckId::PolicyDrift,
                    CheckId::PolicyViaGroup,
                ],
                reason,
            )
        }
    }
    audit.absorb(acting);
    Ok(audit.finish("not reached"))
}

/// Why the key checks cannot run. Temporary credentials belong to a role's session: no
/// IAM user, no key to age; that is not a refused key.
fn no_user_reason(app: &aws::AppCredentials) -> &'static str {
    if app.session_token.is_some() || app.access_key_id.starts_with("ASIA") {
        "the .env holds a role's temporary credentials (a session, not an IAM user's key): these checks are about an IAM user's key"
    } else {
        "the key's IAM user is unknown (the key was refused)"
    }
}

/// What is account-wide needs no .env: the root's MFA and the CI role's trust, when acting
/// credentials are at hand.
async fn account_checks(audit: &Audit, options: &Options, explicit: &Target) {
    let account_wide = [CheckId::RootMfa, CheckId::CiRoleTrust, CheckId::RuntimeRoleTrust, CheckId::BillingAlert];
    let clients = match aws::acting_clients(explicit).await {
        Ok(clients) => clients,
        Err(failure) => {
            return audit.skip(&account_wide, &format!("needs an administrator's credentials: {}", failure.message));
        }
    };
    let caller = match sts::acting_caller(&clients).await {
        Ok(caller) => caller,
        Err(error) => return audit.skip(&account_wide, &acting_unusable(&error)),
    };
    let scope = Scope { clients: &clients, key_id: "", bucket: "", policy_name: &options.policy_name };
    tokio::join!(
        scope.root_mfa(audit),
        scope.roles(audit, &options.ci_role),
        scope.billing_alert(audit, &caller.account)
    );
}

/// Why the checks that need an administrator's credentials were skipped, in one line (the
/// credential chain's full account is not repeated on every check).
fn acting_unusable(error: &crate::aws_error::AwsError) -> String {
    use crate::aws_error::ErrorKind;
    match &error.kind {
        ErrorKind::NoCredentials(_) => {
            "needs an administrator's credentials, and none were found: pass --profile NAME (or set AWS_PROFILE)".into()
        }
        _ => {
            let message = diagnose::explain(error).message;
            let first = message.lines().next().unwrap_or_default();
            format!("needs an administrator's credentials, which could not be used: {first}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_age_follows_the_ninety_day_rule() {
        assert_eq!(key_age_status(0), CheckStatus::Pass);
        assert_eq!(key_age_status(80), CheckStatus::Pass);
        assert_eq!(key_age_status(81), CheckStatus::Warn);
        assert_eq!(key_age_status(90), CheckStatus::Warn);
        assert_eq!(key_age_status(91), CheckStatus::Fail);
    }

    /// docs/commands.md lists every check, in the order the report gives them.
    #[test]
    fn the_documented_checks_are_the_code_s_in_its_order() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md")).unwrap();
        let table = doc.split("| id | checks |").nth(1).expect("the doctor table");
        let mut ids = Vec::new();
        for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
            let first = row.split('|').nth(1).unwrap_or_default();
            ids.extend(first.split('`').skip(1).step_by(2).map(str::to_string));
        }
        let code: Vec<String> = CheckId::ALL.iter().map(|id| id.as_str().to_string()).collect();
        assert_eq!(ids, code);
    }

    #[test]
    fn check_ids_are_unique_and_serialize_as_their_names() {
        let mut names: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(names.len(), 35);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 35);
        for id in CheckId::ALL {
            assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
        }
    }

    #[test]
    fn an_audit_reports_every_check_in_order_even_those_not_reached() {
        let audit = Audit::default();
        audit.add(CheckId::RootMfa, CheckStatus::Pass, "x", "");
        audit.add(CheckId::EnvExists, CheckStatus::Fail, "y", "");
        let report = audit.finish("why");
        assert_eq!(report.checks.len(), CheckId::ALL.len());
        assert_eq!(report.checks.iter().map(|c| c.id).collect::<Vec<_>>(), CheckId::ALL.to_vec());
        assert!(!report.ok);
        assert_eq!(report.checks[1].status, CheckStatus::Skipped);
        assert_eq!(report.checks[1].evidence, "why");
    }
}
