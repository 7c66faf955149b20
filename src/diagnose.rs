//! AWS errors explained in the user's own terms: the guide's troubleshooting. [`diagnose`]
//! explains what the backend's key met; [`explain`] explains what the acting credentials met.
//! Both are plain functions of a typed [`AwsError`], table-tested below and in tests/it/replay.rs.

use serde::Serialize;

use crate::aws_error::{AwsError, ErrorCode, ErrorKind};
use crate::keys::Key;
use crate::settings::AppSettings;

/// What a diagnosis is about: a failed AWS call (its answer's code, or how the request
/// failed), or one of t3s3's own findings. Read as text it is the name people see
/// (`SignatureDoesNotMatch`, `EndpointUnreachable`, `ContentMismatch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// AWS (or the endpoint) answered with this code.
    Service(ErrorCode),
    /// How a request failed without an answer, as [`ErrorKind`] says.
    EndpointUnreachable,
    Timeout,
    NoCredentials,
    NoRegion,
    UnreadableResponse,
    RequestFailed,
    /// The settings are missing or malformed.
    MissingSettings,
    MalformedSettings,
    /// The test object is still there after its deletion.
    StillExists,
    /// Other bytes came back than went up.
    ContentMismatch,
    /// The backend's `upload_file()` named an object it did not write.
    ForeignKey,
    /// The backend's `upload_file()` returned no `s3_key`.
    NoS3Key,
    /// The backend's `get_presigned_url()` returned no URL.
    NotAUrl,
    /// The host of the backend's presigned URL cannot be reached.
    UrlUnreachable,
    /// The backend's interpreter could not be started, or stopped.
    PythonNotRun,
    PythonStopped,
    /// An exception the backend's code raised, by its Python type name.
    PythonException(String),
    /// The driver reported a failure without a reason, or one this build does not know.
    Failed,
    Unknown,
}

impl Subject {
    /// What a failed AWS call is about.
    pub fn of(error: &AwsError) -> Subject {
        match &error.kind {
            ErrorKind::Service(code) => Subject::Service(code.clone()),
            ErrorKind::Unreachable(_) => Subject::EndpointUnreachable,
            ErrorKind::Timeout => Subject::Timeout,
            ErrorKind::NoCredentials(_) => Subject::NoCredentials,
            ErrorKind::NoRegion => Subject::NoRegion,
            ErrorKind::Unreadable(_) => Subject::UnreadableResponse,
            ErrorKind::Other(_) => Subject::RequestFailed,
        }
    }

    /// The answer's AWS code, when AWS answered.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Subject::Service(code) => Some(code),
            _ => None,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Subject::Service(code) => return write!(f, "{code}"),
            Subject::PythonException(kind) => kind.as_str(),
            Subject::EndpointUnreachable => "EndpointUnreachable",
            Subject::Timeout => "Timeout",
            Subject::NoCredentials => "NoCredentials",
            Subject::NoRegion => "NoRegion",
            Subject::UnreadableResponse => "UnreadableResponse",
            Subject::RequestFailed => "RequestFailed",
            Subject::MissingSettings => "MissingSettings",
            Subject::MalformedSettings => "MalformedSettings",
            Subject::StillExists => "StillExists",
            Subject::ContentMismatch => "ContentMismatch",
            Subject::ForeignKey => "ForeignKey",
            Subject::NoS3Key => "NoS3Key",
            Subject::NotAUrl => "NotAUrl",
            Subject::UrlUnreachable => "Unreachable",
            Subject::PythonNotRun => "PythonNotRun",
            Subject::PythonStopped => "PythonStopped",
            Subject::Failed => "Failed",
            Subject::Unknown => "Unknown",
        };
        f.write_str(name)
    }
}

impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A failure explained: what happened, why, and what to do.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Diagnosis {
    /// What it is about: the AWS code or t3s3's name for the failure.
    pub code: Subject,
    /// What the service (or the network) said.
    pub message: String,
    pub cause: String,
    pub fix: Vec<String>,
}

impl Diagnosis {
    /// `Code: message` for one-line displays.
    pub fn error_line(&self) -> String {
        if self.message.is_empty() { self.code.to_string() } else { format!("{}: {}", self.code, self.message) }
    }

    /// The fix steps as one line, numbered when there are several.
    pub fn fix_line(&self) -> String {
        match self.fix.as_slice() {
            [one] => one.clone(),
            many => many.iter().enumerate().map(|(i, step)| format!("{}. {step}", i + 1)).collect::<Vec<_>>().join(" "),
        }
    }
}

/// An error met by the acting credentials (init, doctor, rotate-key, destroy), as one line
/// naming the action and the resource, and the next step. Never a bare "service error".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub message: String,
    pub fix: Option<String>,
}

pub fn explain(error: &AwsError) -> Explanation {
    let AwsError { action, resource, .. } = error;
    let said = error.message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default();
    let (message, fix) = match &error.kind {
        ErrorKind::Unreachable(detail) => (
            format!("{action} on {resource}: cannot reach {detail}"),
            Some("check --endpoint-url / AWS_ENDPOINT_URL (and the .env's), the network and any proxy (HTTPS_PROXY)".to_string()),
        ),
        ErrorKind::Timeout => (
            format!("{action} on {resource}: no answer in time"),
            Some("check the network, then run the command again; it picks up where it stopped".into()),
        ),
        ErrorKind::NoCredentials(detail) => (
            format!("{action} on {resource}: no AWS credentials were found{}", parenthesised(detail)),
            Some("run `aws configure` or `aws sso login`, pass --profile NAME, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into()),
        ),
        ErrorKind::NoRegion => (
            format!("{action} on {resource}: no AWS region is configured"),
            Some("pass --region REGION, or set AWS_REGION".into()),
        ),
        ErrorKind::Unreadable(detail) => (
            format!("unreadable answer to {action} on {resource}: {detail}"),
            Some("check that --endpoint-url / AWS_ENDPOINT_URL is the AWS service (not a proxy's page), then run again".into()),
        ),
        ErrorKind::Other(detail) => (format!("{action} on {resource} failed: {detail}"), None),
        ErrorKind::Service(ErrorCode::AccessDenied) => (
            format!("{action} on {resource} was denied{said}"),
            Some(format!("the acting credentials need {action}; use an administrator profile (--profile NAME)")),
        ),
        ErrorKind::Service(code) if code.is_rejected_credentials() => (
            format!("{action} on {resource}: the acting credentials were rejected: {code}{said}"),
            Some("check the profile or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in your shell (`aws configure`, `aws sso login`)".into()),
        ),
        ErrorKind::Service(ErrorCode::LimitExceeded) => (
            format!("{action} on {resource}: an IAM limit is reached{said}"),
            Some("a user holds at most 2 access keys and a policy at most 5 versions: delete one you no longer use, then run again".into()),
        ),
        ErrorKind::Service(ErrorCode::MalformedPolicyDocument) => (
            format!("{action} on {resource}: IAM refused the policy document{said}"),
            Some("compare it with `t3s3 policy --bucket NAME`; report it if t3s3 wrote it".into()),
        ),
        ErrorKind::Service(ErrorCode::DeleteConflict) => (
            format!("{action} on {resource}: it is still in use{said}"),
            Some("detach it (or delete what depends on it) first, then run again".into()),
        ),
        ErrorKind::Service(code) => (
            format!("{action} on {resource} failed: {code}{said}"),
            Some("run the command again; it converges from wherever it stopped".into()),
        ),
    };
    Explanation { message, fix }
}

fn parenthesised(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(" ({detail})") }
}

/// Explains a failed S3 request made with the backend's settings (`verify`, `doctor`).
/// `policy_name` is the policy the key should hold.
pub fn diagnose(error: &AwsError, settings: &AppSettings, policy_name: &str) -> Diagnosis {
    if let Some(diagnosis) = transport(error, settings) {
        return diagnosis;
    }
    let code = Subject::of(error);
    let message = match (&error.message, error.status) {
        (Some(message), _) if !message.is_empty() => message.clone(),
        (_, Some(status)) => format!("HTTP {status}"),
        _ => String::new(),
    };
    let wrong_region = error.code().is_some_and(ErrorCode::is_wrong_region)
        || error.bucket_region.as_deref().is_some_and(|real| real != settings.region());
    let (cause, fix) =
        if wrong_region { region_mismatch(error, settings) } else { by_code(error, settings, policy_name) };
    Diagnosis { code, message, cause, fix }
}

/// The endpoint URL requests go to, for messages.
fn endpoint_name(settings: &AppSettings) -> String {
    settings
        .get(Key::EndpointUrl)
        .map_or_else(|| format!("https://s3.{}.amazonaws.com", settings.region()), str::to_string)
}

/// Failures before any answer: nothing at the address, no answer in time, no request built.
fn transport(error: &AwsError, settings: &AppSettings) -> Option<Diagnosis> {
    let endpoint = endpoint_name(settings);
    let make = |message: String, cause: String, fix: Vec<String>| {
        Some(Diagnosis { code: Subject::of(error), message, cause, fix })
    };
    match &error.kind {
        ErrorKind::Unreachable(detail) => make(
            detail.clone(),
            format!("Nothing answered at {endpoint}."),
            match settings.get(Key::EndpointUrl) {
                Some(url) => vec![
                    format!(
                        "Start the S3 service at {url}, or fix AWS_ENDPOINT_URL ({}).",
                        settings.where_set(Key::EndpointUrl)
                    ),
                    "Remove AWS_ENDPOINT_URL to use real AWS.".into(),
                ],
                None => vec![
                    "Check the network connection and any proxy settings (HTTPS_PROXY).".into(),
                    format!(
                        "Check that AWS_REGION={} is a real region ({}).",
                        settings.region(),
                        settings.where_set(Key::Region)
                    ),
                ],
            },
        ),
        ErrorKind::Timeout => make(
            format!("no answer from {endpoint} in time"),
            format!("{endpoint} accepted the connection or was being reached, but did not answer in time."),
            vec![
                format!("Check that {endpoint} is the S3 service and is healthy."),
                "Retry with a longer --timeout if the network is slow.".into(),
            ],
        ),
        ErrorKind::Unreadable(detail) => make(
            format!("unreadable answer from {endpoint} to {}: {detail}", error.action),
            format!("{endpoint} answered {}, but the answer was cut short or is not what S3 sends.", error.action),
            vec![format!("Check that {endpoint} is an S3 service (not a proxy's error page), then run again.")],
        ),
        ErrorKind::Other(detail) | ErrorKind::NoCredentials(detail) => make(
            detail.clone(),
            format!("The request to {endpoint} failed before S3 answered."),
            vec!["Read the message above; check the endpoint URL, proxy and TLS settings.".into()],
        ),
        ErrorKind::NoRegion => make(
            "no region".into(),
            "No region was set for the request.".into(),
            vec![format!("Set AWS_REGION in {}.", settings.env_display())],
        ),
        ErrorKind::Service(_) => None,
    }
}

fn region_mismatch(error: &AwsError, settings: &AppSettings) -> (String, Vec<String>) {
    let (bucket, region) = (settings.bucket(), settings.region());
    match &error.bucket_region {
        Some(real) => (
            format!(
                "Region mismatch: bucket `{bucket}` is in {real}, but AWS_REGION is {region}. (S3 says: \"The bucket you are attempting to access must be addressed using the specified endpoint\".)"
            ),
            vec![format!("Set AWS_REGION={real} in {} and restart the backend.", settings.where_set(Key::Region))],
        ),
        None => (
            format!("Region mismatch: bucket `{bucket}` is not in {region}, the region AWS_REGION names."),
            vec![
                format!("Open S3 → {bucket} → Properties and note its AWS Region."),
                format!("Set AWS_REGION to it in {}.", settings.where_set(Key::Region)),
            ],
        ),
    }
}

/// A 403 without a body (HeadBucket, HeadObject): the two causes it may have, and how to tell.
fn bare_403(operation: &str, bucket: &str, key_id: &str, env: &str, policy: &str) -> (String, Vec<String>) {
    (
        format!(
            "S3 refused {operation} on `{bucket}` with a bare 403 (a HEAD answer has no body): either the key {key_id} itself was refused (deleted, inactive, or temporary credentials without their session token), or it may not s3:ListBucket on `{bucket}`, which HeadBucket needs."
        ),
        vec![
            format!("Run `t3s3 verify` with {env}: its own requests carry error bodies and tell the two apart."),
            format!(
                "Check that {policy} grants s3:ListBucket on arn:aws:s3:::{bucket} (`t3s3 policy --bucket {bucket}`)."
            ),
            "With role credentials, pass AWS_SESSION_TOKEN to the client along with the key.".into(),
        ],
    )
}

fn by_code(error: &AwsError, settings: &AppSettings, policy: &str) -> (String, Vec<String>) {
    let (bucket, env, operation) = (settings.bucket(), settings.env_display(), error.action.as_str());
    let key_id = settings.get(Key::AccessKeyId).unwrap_or_default();
    let code = error.code().cloned().unwrap_or_else(|| ErrorCode::Other(error.code_name()));
    // S3 answers HEAD requests without a body: a 403 there says neither why nor who.
    let bodiless =
        operation.contains("Head") && error.message.as_deref().is_none_or(|m| m.is_empty() || m == "Forbidden");
    match code {
        ErrorCode::AccessDenied if bodiless => bare_403(operation, bucket, key_id, &env, policy),
        ErrorCode::AccessDenied => (
            format!(
                "The key {key_id} is not allowed {operation} on `{bucket}`: {policy} is not attached to its user, or names another bucket."
            ),
            vec![
                format!("IAM → Users → your user → Permissions: check that {policy} is attached."),
                format!("Check that the policy names `{bucket}`: compare it with `t3s3 policy --bucket {bucket}`."),
                format!("Or let t3s3 converge it: `t3s3 init --bucket {bucket} --policy-name {policy}`."),
            ],
        ),
        ErrorCode::NoSuchBucket => (
            format!(
                "No bucket named `{bucket}` exists here: S3_BUCKET_NAME ({}) does not match a real bucket.",
                settings.where_set(Key::Bucket)
            ),
            vec![
                "Copy the exact bucket name from the S3 console.".into(),
                format!("Update S3_BUCKET_NAME in {env}, or create the bucket with `t3s3 init --bucket {bucket}`."),
            ],
        ),
        ErrorCode::InvalidAccessKeyId => (
            format!(
                "AWS does not know the access key ID {key_id} ({}): it is mistyped or was deleted.",
                settings.where_set(Key::AccessKeyId)
            ),
            vec![
                "IAM → Users → your user → Security credentials: check the key is there and Active.".into(),
                "If it was deleted, create a new key (`t3s3 init` does this).".into(),
                format!("Update AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in {env}."),
            ],
        ),
        ErrorCode::SignatureDoesNotMatch => (
            format!(
                "The secret key ({}) does not belong to access key {key_id}: it is mistyped, truncated or from another key.",
                settings.where_set(Key::SecretAccessKey)
            ),
            vec![
                "A secret cannot be viewed again after creation: delete this access key in IAM.".into(),
                "Create a new access key (`t3s3 init` does this and writes it for you).".into(),
                format!("Update AWS_SECRET_ACCESS_KEY in {env} with the new secret (no quotes, no spaces)."),
            ],
        ),
        ErrorCode::RequestTimeTooSkewed => (
            "This machine's clock is too far from AWS's time (more than 15 minutes), so every signature is rejected."
                .into(),
            vec!["Synchronise the clock (e.g. `sudo timedatectl set-ntp true`) and retry.".into()],
        ),
        ErrorCode::ExpiredToken | ErrorCode::InvalidClientTokenId => (
            "The credentials include an expired or invalid session token.".into(),
            vec![format!("Use a long-term access key of the backend's user in {env}, or refresh the session.")],
        ),
        ErrorCode::NoSuchKey | ErrorCode::NotFound => (
            format!(
                "The object is not in `{bucket}`: something else deleted it, or the bucket's contents are not what was written."
            ),
            vec!["Run `t3s3 verify` again; if it repeats, check bucket lifecycle rules and other writers.".into()],
        ),
        ErrorCode::SlowDown | ErrorCode::ServiceUnavailable | ErrorCode::InternalError => (
            format!("S3 at {} is failing or throttling requests.", endpoint_name(settings)),
            vec!["Wait a minute and run `t3s3 verify` again.".into()],
        ),
        code => (
            format!(
                "S3 answered {operation} on `{bucket}` with {code} (HTTP {}).",
                error.status.map_or("?".into(), |s| s.to_string())
            ),
            vec!["Look the code up in the S3 error reference; the message above says what S3 objected to.".into()],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Setting, Source};

    fn settings() -> AppSettings {
        let set = |name: Key, value: &str| Setting {
            name,
            value: Some(value.into()),
            source: Source::File { path: "backend/.env".into(), line: 2 },
        };
        AppSettings {
            required: vec![
                set(Key::AccessKeyId, "AKIAIOSFODNN7EXAMPLE"),
                set(Key::SecretAccessKey, "x".repeat(40).as_str()),
                set(Key::Region, "ap-south-1"),
                set(Key::Bucket, "t3-chat-documents-x"),
            ],
            endpoint_url: Setting { name: Key::EndpointUrl, value: None, source: Source::Missing },
            session_token: Setting { name: Key::SessionToken, value: None, source: Source::Missing },
            ignored_session_token: false,
            env_file: Some("backend/.env".into()),
            tried: vec!["backend/.env".into()],
            lint: Vec::new(),
        }
    }

    fn service(code: ErrorCode) -> AwsError {
        AwsError::new("s3:PutObject", "bucket `t3-chat-documents-x`", ErrorKind::Service(code))
    }

    #[test]
    fn a_bare_403_on_a_head_request_names_both_causes() {
        // botocore's code for a HeadBucket refused without a body is "403".
        let bare =
            AwsError::new("s3:HeadBucket", "bucket `t3-chat-documents-x`", ErrorKind::Service(ErrorCode::parse("403")));
        let diagnosis = diagnose(&bare, &settings(), "T3ChatS3Policy");
        assert!(diagnosis.cause.contains("bare 403"), "{}", diagnosis.cause);
        assert!(diagnosis.cause.contains("key AKIAIOSFODNN7EXAMPLE itself was refused"), "{}", diagnosis.cause);
        assert!(diagnosis.cause.contains("s3:ListBucket"), "{}", diagnosis.cause);
        // A 403 with S3's own message keeps the policy diagnosis.
        let worded = AwsError { message: Some("Access Denied".into()), ..bare.clone() };
        assert!(diagnose(&worded, &settings(), "T3ChatS3Policy").cause.contains("is not attached"));
    }

    #[test]
    fn each_failure_of_the_backend_key_gets_its_cause() {
        let table: [(AwsError, &str, &str); 8] = [
            (service(ErrorCode::AccessDenied), "AccessDenied", "MyPolicy is not attached"),
            (service(ErrorCode::NoSuchBucket), "NoSuchBucket", "No bucket named `t3-chat-documents-x`"),
            (service(ErrorCode::InvalidAccessKeyId), "InvalidAccessKeyId", "does not know the access key ID"),
            (service(ErrorCode::SignatureDoesNotMatch), "SignatureDoesNotMatch", "backend/.env line 2"),
            (service(ErrorCode::RequestTimeTooSkewed), "RequestTimeTooSkewed", "clock"),
            (service(ErrorCode::SlowDown), "SlowDown", "throttling"),
            (AwsError::new("s3:PutObject", "b", ErrorKind::Timeout), "Timeout", "did not answer in time"),
            (
                AwsError::new("s3:PutObject", "b", ErrorKind::Unreachable("refused".into())),
                "EndpointUnreachable",
                "Nothing answered at https://s3.ap-south-1.amazonaws.com",
            ),
        ];
        for (error, code, cause) in table {
            let diagnosis = diagnose(&error, &settings(), "MyPolicy");
            assert_eq!(diagnosis.code.to_string(), code);
            assert!(diagnosis.cause.contains(cause), "{code}: {}", diagnosis.cause);
            assert!(!diagnosis.fix.is_empty());
        }
    }

    #[test]
    fn a_bucket_in_another_region_names_the_real_one() {
        let mut error = service(ErrorCode::PermanentRedirect);
        error.bucket_region = Some("eu-west-1".into());
        let diagnosis = diagnose(&error, &settings(), "T3ChatS3Policy");
        assert!(diagnosis.cause.contains("is in eu-west-1, but AWS_REGION is ap-south-1"), "{}", diagnosis.cause);
        assert_eq!(diagnosis.fix, vec!["Set AWS_REGION=eu-west-1 in backend/.env line 2 and restart the backend."]);
        let unnamed = diagnose(&service(ErrorCode::AuthorizationHeaderMalformed), &settings(), "T3ChatS3Policy");
        assert!(unnamed.fix[0].contains("Properties"), "{:?}", unnamed.fix);
    }

    #[test]
    fn acting_errors_name_the_action_the_resource_and_the_next_step() {
        let error = |kind| AwsError::new("iam:CreatePolicy", "policy `P`", kind);
        let table = [
            (
                error(ErrorKind::Service(ErrorCode::AccessDenied)),
                "iam:CreatePolicy on policy `P` was denied",
                "--profile",
            ),
            (error(ErrorKind::Service(ErrorCode::InvalidClientTokenId)), "were rejected", "aws configure"),
            (error(ErrorKind::NoCredentials(String::new())), "no AWS credentials were found", "aws sso login"),
            (error(ErrorKind::NoRegion), "no AWS region", "--region"),
            (error(ErrorKind::Unreachable("refused".into())), "cannot reach refused", "--endpoint-url"),
            (error(ErrorKind::Service(ErrorCode::LimitExceeded)), "limit", "2 access keys"),
            (error(ErrorKind::Service(ErrorCode::DeleteConflict)), "still in use", "detach"),
            (error(ErrorKind::Service(ErrorCode::Other("Weird".into()))), "failed: Weird", "run the command again"),
        ];
        for (error, message, fix) in table {
            let explained = explain(&error);
            assert!(explained.message.contains(message), "{}", explained.message);
            assert!(explained.fix.as_deref().unwrap_or_default().contains(fix), "{:?}", explained.fix);
        }
    }
}
