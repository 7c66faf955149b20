//! One typed error per failed AWS call: the action, the resource, what kind of failure it was
//! (a service error code, or no answer at all), and the facts the answer carried. Built once,
//! where the call is made; explained in `diagnose`, mapped to an exit code in `exit`.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

/// The AWS error codes t3s3 treats on their own; anything else keeps its code in `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    AccessDenied,
    AuthorizationHeaderMalformed,
    /// A presigned URL's query (`X-Amz-*`) is malformed or expired.
    AuthorizationQueryParametersError,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    DeleteConflict,
    EntityAlreadyExists,
    ExpiredToken,
    IllegalLocationConstraintException,
    InternalError,
    InvalidAccessKeyId,
    InvalidClientTokenId,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchEntity,
    NoSuchKey,
    /// HeadObject / HeadBucket on something missing: a bare 404 without a body.
    NotFound,
    NotImplemented,
    /// The bucket has no such configuration (ownership, Block Public Access, encryption).
    NotConfigured(String),
    PermanentRedirect,
    /// t3s3's own finding: the bucket answers from another region than AWS_REGION.
    RegionMismatch,
    RequestTimeTooSkewed,
    ServiceUnavailable,
    SignatureDoesNotMatch,
    SlowDown,
    Other(String),
}

impl ErrorCode {
    /// The code as AWS spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
            ErrorCode::AuthorizationQueryParametersError => "AuthorizationQueryParametersError",
            ErrorCode::BucketAlreadyExists => "BucketAlreadyExists",
            ErrorCode::BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            ErrorCode::DeleteConflict => "DeleteConflict",
            ErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            ErrorCode::ExpiredToken => "ExpiredToken",
            ErrorCode::IllegalLocationConstraintException => "IllegalLocationConstraintException",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::InvalidAccessKeyId => "InvalidAccessKeyId",
            ErrorCode::InvalidClientTokenId => "InvalidClientTokenId",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::NoSuchBucket => "NoSuchBucket",
            ErrorCode::NoSuchBucketPolicy => "NoSuchBucketPolicy",
            ErrorCode::NoSuchEntity => "NoSuchEntity",
            ErrorCode::NoSuchKey => "NoSuchKey",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::PermanentRedirect => "PermanentRedirect",
            ErrorCode::RegionMismatch => "RegionMismatch",
            ErrorCode::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            ErrorCode::ServiceUnavailable => "ServiceUnavailable",
            ErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            ErrorCode::SlowDown => "SlowDown",
            ErrorCode::NotConfigured(code) | ErrorCode::Other(code) => code,
        }
    }

    /// Reads a code as AWS spells it; unknown codes are kept in `Other`.
    pub fn parse(code: &str) -> Self {
        match code {
            // "403": botocore's code for an answer without a body (HEAD requests get none).
            "AccessDenied"
            | "AccessDeniedException"
            | "Forbidden"
            | "403"
            | "AllAccessDisabled"
            | "UnauthorizedOperation" => ErrorCode::AccessDenied,
            "AuthorizationHeaderMalformed" => ErrorCode::AuthorizationHeaderMalformed,
            "AuthorizationQueryParametersError" => ErrorCode::AuthorizationQueryParametersError,
            "BucketAlreadyExists" => ErrorCode::BucketAlreadyExists,
            "BucketAlreadyOwnedByYou" => ErrorCode::BucketAlreadyOwnedByYou,
            "DeleteConflict" => ErrorCode::DeleteConflict,
            "EntityAlreadyExists" => ErrorCode::EntityAlreadyExists,
            "ExpiredToken" | "InvalidToken" | "TokenRefreshRequired" => ErrorCode::ExpiredToken,
            "IllegalLocationConstraintException" => ErrorCode::IllegalLocationConstraintException,
            "InternalError" => ErrorCode::InternalError,
            "InvalidAccessKeyId" => ErrorCode::InvalidAccessKeyId,
            "InvalidClientTokenId" | "UnrecognizedClientException" => ErrorCode::InvalidClientTokenId,
            "LimitExceeded" => ErrorCode::LimitExceeded,
            "MalformedPolicyDocument" => ErrorCode::MalformedPolicyDocument,
            "NoSuchBucket" => ErrorCode::NoSuchBucket,
            "NoSuchBucketPolicy" => ErrorCode::NoSuchBucketPolicy,
            "NoSuchEntity" => ErrorCode::NoSuchEntity,
            "NoSuchKey" => ErrorCode::NoSuchKey,
            "NotFound" | "404" => ErrorCode::NotFound,
            "NotImplemented" => ErrorCode::NotImplemented,
            "OwnershipControlsNotFoundError"
            | "NoSuchPublicAccessBlockConfiguration"
            | "NoSuchLifecycleConfiguration"
            | "ServerSideEncryptionConfigurationNotFoundError" => ErrorCode::NotConfigured(code.to_string()),
            "PermanentRedirect" => ErrorCode::PermanentRedirect,
            "RegionMismatch" => ErrorCode::RegionMismatch,
            "RequestTimeTooSkewed" => ErrorCode::RequestTimeTooSkewed,
            "ServiceUnavailable" | "Throttling" | "ThrottlingException" => ErrorCode::ServiceUnavailable,
            "SignatureDoesNotMatch" => ErrorCode::SignatureDoesNotMatch,
            "SlowDown" => ErrorCode::SlowDown,
            other => ErrorCode::Other(other.to_string()),
        }
    }

    /// The code an answer without one stands for, from its HTTP status alone.
    fn from_status(status: u16) -> Self {
        match status {
            301 => ErrorCode::PermanentRedirect,
            403 => ErrorCode::AccessDenied,
            404 => ErrorCode::NotFound,
            // S3's 500 without a body is its InternalError.
            500 => ErrorCode::InternalError,
            503 => ErrorCode::ServiceUnavailable,
            other => ErrorCode::Other(format!("HTTP {other}")),
        }
    }

    /// The credentials themselves were refused (as opposed to a permission they lack).
    pub fn is_rejected_credentials(&self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidAccessKeyId
                | ErrorCode::InvalidClientTokenId
                | ErrorCode::SignatureDoesNotMatch
                | ErrorCode::ExpiredToken
        )
    }

    /// The answer says the bucket is addressed in the wrong region.
    pub fn is_wrong_region(&self) -> bool {
        matches!(
            self,
            ErrorCode::PermanentRedirect
                | ErrorCode::RegionMismatch
                | ErrorCode::AuthorizationHeaderMalformed
                | ErrorCode::IllegalLocationConstraintException
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of failure a call met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// AWS (or the endpoint) answered with an error code.
    Service(ErrorCode),
    /// Nothing answered at the address (refused, unresolvable, reset).
    Unreachable(String),
    /// Something took longer than allowed.
    Timeout,
    /// The credential chain found no credentials (or could not load the ones named).
    NoCredentials(String),
    /// No region was configured for a call that needs one.
    NoRegion,
    /// An answer arrived but could not be read (truncated, junk, an unexpected shape).
    Unreadable(String),
    /// The request could not be built or sent for another reason.
    Other(String),
}

/// A failed AWS call, with everything its answer (or the lack of one) told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The IAM action the call needed, e.g. `s3:PutObject`.
    pub action: String,
    /// What it acted on, in words: "bucket `x`", "IAM user `t3_chat`".
    pub resource: String,
    pub kind: ErrorKind,
    /// The service's own message.
    pub message: Option<String>,
    pub status: Option<u16>,
    /// The `x-amz-bucket-region` header, else a `<Region>` element, else the region an
    /// AuthorizationHeaderMalformed message says it expected.
    pub bucket_region: Option<String>,
    pub request_id: Option<String>,
}

impl AwsError {
    /// An error for `action` on `resource` with no facts yet.
    pub fn new(action: impl Into<String>, resource: impl Into<String>, kind: ErrorKind) -> Self {
        AwsError {
            action: action.into(),
            resource: resource.into(),
            kind,
            message: None,
            status: None,
            bucket_region: None,
            request_id: None,
        }
    }

    /// Reads every fact of an SDK error: its metadata, its raw answer and its source chain.
    pub fn from_sdk<E>(
        error: &SdkError<E, HttpResponse>,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut found = AwsError::new(action, resource, ErrorKind::Other(String::new()));
        let mut body = String::new();
        if let Some(raw) = error.raw_response() {
            found.status = Some(raw.status().as_u16());
            body = raw.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            found.bucket_region = raw.headers().get("x-amz-bucket-region").map(str::to_string);
            found.request_id = raw
                .headers()
                .get("x-amz-request-id")
                .or_else(|| raw.headers().get("x-amzn-requestid"))
                .map(str::to_string);
        }
        let code = error.code().map(str::to_string).or_else(|| xml_element(&body, "Code"));
        found.message = error.message().map(str::to_string).or_else(|| xml_element(&body, "Message"));
        found.request_id = found.request_id.take().or_else(|| xml_element(&body, "RequestId"));
        // The operation's time ran out while retrying a connection that was refused each
        // time: that is an unreachable endpoint (exit 2), whatever --timeout is.
        let refused_each_time = || connect_failure_of(&found.action);
        found.kind = match error {
            SdkError::TimeoutError(_) => match refused_each_time() {
                Some(chain) => ErrorKind::Unreachable(unreachable(&chain, &found.action)),
                None => ErrorKind::Timeout,
            },
            SdkError::DispatchFailure(failure) if failure.is_timeout() => ErrorKind::Timeout,
            SdkError::DispatchFailure(failure) if failure.is_io() => {
                ErrorKind::Unreachable(unreachable(&chain(error), &found.action))
            }
            // A success status with an error: the answer itself could not be read.
            SdkError::ServiceError(_) | SdkError::ResponseError(_)
                if code.is_none() && found.status.is_some_and(|s| (200..300).contains(&s)) =>
            {
                ErrorKind::Unreadable(chain(error))
            }
            SdkError::ServiceError(_) | SdkError::ResponseError(_) if code.is_some() => {
                ErrorKind::Service(ErrorCode::parse(code.as_deref().unwrap_or_default()))
            }
            SdkError::ServiceError(_) => match found.status {
                Some(status) => ErrorKind::Service(ErrorCode::from_status(status)),
                None => ErrorKind::Other(chain(error)),
            },
            SdkError::ResponseError(_) => match found.status {
                Some(status) if status >= 300 => ErrorKind::Service(ErrorCode::from_status(status)),
                _ => ErrorKind::Unreadable(chain(error)),
            },
            _ if has_source::<CredentialsError>(error) => ErrorKind::NoCredentials(credentials_problem(error)),
            _ => ErrorKind::Other(chain(error)),
        };
        if found.bucket_region.is_none() {
            found.bucket_region = xml_element(&body, "Region").or_else(|| expected_region(found.message.as_deref()));
        }
        found
    }

    /// An answer fetched outside the SDK (the presigned URL): status, headers and body.
    pub fn from_http(
        action: impl Into<String>,
        resource: impl Into<String>,
        status: u16,
        bucket_region: Option<String>,
        body: &str,
    ) -> Self {
        let code = xml_element(body, "Code").map_or_else(|| ErrorCode::from_status(status), |c| ErrorCode::parse(&c));
        let message = xml_element(body, "Message");
        AwsError {
            bucket_region: bucket_region.or_else(|| expected_region(message.as_deref())),
            request_id: xml_element(body, "RequestId"),
            message,
            status: Some(status),
            ..AwsError::new(action, resource, ErrorKind::Service(code))
        }
    }

    /// The service error code, when there was an answer with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match &self.kind {
            ErrorKind::Service(code) => Some(code),
            _ => None,
        }
    }

    /// Whether the answer was this code.
    pub fn is(&self, code: &ErrorCode) -> bool {
        self.code() == Some(code)
    }

    /// The thing asked for does not exist (NoSuchEntity, NoSuchKey, a bare 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self.code(), Some(ErrorCode::NoSuchEntity | ErrorCode::NoSuchKey | ErrorCode::NotFound))
            || self.status == Some(404)
    }

    /// `Code` or t3s3's name for a failure without an answer, for one-line displays.
    pub fn code_name(&self) -> String {
        match &self.kind {
            ErrorKind::Service(code) => code.to_string(),
            ErrorKind::Unreachable(_) => "EndpointUnreachable".into(),
            ErrorKind::Timeout => "Timeout".into(),
            ErrorKind::NoCredentials(_) => "NoCredentials".into(),
            ErrorKind::NoRegion => "NoRegion".into(),
            ErrorKind::Unreadable(_) => "UnreadableResponse".into(),
            ErrorKind::Other(_) => "RequestFailed".into(),
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}: {}", self.action, self.resource, self.code_name())?;
        if let Some(message) = &self.message {
            write!(f, " ({message})")?;
        }
        Ok(())
    }
}

impl StdError for AwsError {}

/// `.send().await.during("s3:PutObject", "bucket `x`")?`: the one conversion from SDK errors.
pub trait During<T> {
    fn during(self, action: &str, resource: impl Into<String>) -> Result<T, AwsError>;
}

impl<T, E> During<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn during(self, action: &str, resource: impl Into<String>) -> Result<T, AwsError> {
        self.map_err(|error| AwsError::from_sdk(&error, action, resource))
    }
}

fn has_source<T: StdError + 'static>(error: &(dyn StdError + 'static)) -> bool {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.downcast_ref::<T>().is_some() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// What the credential chain said: the messages below the outermost credentials error.
fn credentials_problem(error: &(dyn StdError + 'static)) -> String {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.downcast_ref::<CredentialsError>().is_some() {
            return chain(current);
        }
        cause = current.source();
    }
    String::new()
}

/// The messages of an error and its causes, in one line: "dispatch failure: io error:
/// ... Connection refused (os error 111)". Each cause's Display, never a Debug dump.
/// What one run's clients saw as they sent, kept for the run's errors and `--verbose`:
/// whether each request is told on stderr, the origin (scheme, host, port) of the last
/// request to each service (`s3`, `iam`, `sts`, `budgets`), so "cannot reach" names the host
/// the failing request went to (requests to two services at once never swap names), and how
/// the last attempt to each service failed to connect (a timed-out operation's error carries
/// nothing of its attempts).
///
/// `run.rs` makes one per run and runs the command inside [`Trace::scope`]; the SDK polls its
/// interceptors inside the caller's task, so they find it there. Outside a run (a unit
/// test) nothing is traced and messages say "the endpoint".
#[derive(Debug, Default)]
pub struct Trace {
    verbose: bool,
    /// The run's HTTP connectors (one connection pool each), by (connect, read) timeout:
    /// every SDK client of the run and the presigned GET share them.
    pub connectors: std::sync::Mutex<Vec<(ConnectorKey, aws_smithy_runtime_api::client::http::SharedHttpConnector)>>,
    origins: PerService<String>,
    connect_failures: PerService<Option<String>>,
}

/// The last value seen for each service (`s3`, `iam`, ...).
#[derive(Debug)]
struct PerService<T>(std::sync::Mutex<Vec<(String, T)>>);

impl<T> Default for PerService<T> {
    fn default() -> Self {
        PerService(std::sync::Mutex::new(Vec::new()))
    }
}

impl<T: Clone> PerService<T> {
    fn set(&self, service: &str, value: T) {
        let mut last = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        last.retain(|(known, _)| *known != service_of(service));
        last.push((service_of(service), value));
    }

    /// The value for the service of `action` (`s3:ListBucket` -> `s3`).
    fn get(&self, action: &str) -> Option<T> {
        let last = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        last.iter().find(|(known, _)| *known == service_of(action)).map(|(_, value)| value.clone())
    }
}

/// A connector's connect and read timeouts.
pub type ConnectorKey = (Option<std::time::Duration>, Option<std::time::Duration>);

tokio::task_local! {
    static RUN: std::sync::Arc<Trace>;
}

impl Trace {
    pub fn new(verbose: bool) -> std::sync::Arc<Trace> {
        std::sync::Arc::new(Trace { verbose, ..Trace::default() })
    }

    /// Runs `work` as the run this trace belongs to.
    pub async fn scope<F: std::future::Future>(self: std::sync::Arc<Self>, work: F) -> F::Output {
        RUN.scope(self, work).await
    }
}

/// `read` of this run's trace; `None` outside a run.
pub fn traced<R>(read: impl FnOnce(&Trace) -> R) -> Option<R> {
    RUN.try_with(|trace| read(trace)).ok()
}

/// Whether this run tells each request on stderr (`--verbose`).
pub fn verbose() -> bool {
    traced(|trace| trace.verbose).unwrap_or(false)
}

/// The service of an action or of the SDK's metadata: `s3:ListBucket` -> `s3`.
fn service_of(action: &str) -> String {
    action.split(':').next().unwrap_or(action).to_ascii_lowercase()
}

/// Records where a request to `service` is about to go (its URI; only the origin is kept).
pub fn remember_request(service: &str, uri: &str) {
    let origin = match uri.find("://") {
        Some(at) => {
            let rest = &uri[at + 3..];
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            uri[..at + 3 + end].to_string()
        }
        None => return,
    };
    traced(|trace| trace.origins.set(service, origin));
}

/// Where the last request to the service of `action` (`s3:ListBucket` -> `s3`) went.
fn origin_of(action: &str) -> Option<String> {
    traced(|trace| trace.origins.get(action)).flatten()
}

/// Records how an attempt to `service` ended: `Some(chain)` when it could not connect.
pub fn remember_attempt(service: &str, connect_failure: Option<String>) {
    traced(|trace| trace.connect_failures.set(service, connect_failure));
}

/// How the last attempt to the service of `action` failed to connect, if it did.
fn connect_failure_of(action: &str) -> Option<String> {
    traced(|trace| trace.connect_failures.get(action)).flatten().flatten()
}

/// A connection failure in words: where, and the likely cause, instead of the HTTP stack's
/// "dispatch failure: io error: client error (Connect)".
fn unreachable(chain: &str, action: &str) -> String {
    let lower = chain.to_ascii_lowercase();
    let cause = if lower.contains("connection refused") {
        "connection refused: nothing listens there (is the service or emulator running, and the port right?)"
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        "the host name does not resolve (a typo in the endpoint or region, or no DNS)"
    } else if lower.contains("reset") || lower.contains("broken pipe") {
        "the connection was reset (a proxy or firewall in the way?)"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        "the TLS handshake failed (an https:// URL for a plain-HTTP service, or a proxy's certificate)"
    } else if lower.contains("unreachable") {
        "the network is unreachable"
    } else {
        chain.rsplit(": ").next().unwrap_or(chain)
    };
    match origin_of(action) {
        Some(origin) => format!("{origin}: {cause}"),
        None => format!("the endpoint: {cause}"),
    }
}

fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = cause {
        let text = current.to_string();
        if !text.is_empty() && !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        cause = current.source();
    }
    parts.join(": ")
}

/// The text of the first `<name>` element in an XML error body.
pub fn xml_element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(body[start..end].trim().to_string()).filter(|text| !text.is_empty())
}

/// "expecting 'eu-west-1'" in an AuthorizationHeaderMalformed message.
fn expected_region(message: Option<&str>) -> Option<String> {
    let message = message?;
    let start = message.find("expecting '")? + "expecting '".len();
    let end = message[start..].find('\'')? + start;
    Some(message[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cannot_reach_names_the_host_of_the_failing_service_within_its_run() {
        let traced = Trace::new(false).scope(async {
            remember_request("s3", "http://127.0.0.1:9/t3-chat-documents/key?x-id=PutObject");
            remember_request("sts", "https://sts.ap-south-1.amazonaws.com/");
            remember_attempt("s3", Some("connection refused".into()));
            let s3 = unreachable("dispatch failure: Connection refused (os error 111)", "s3:PutObject");
            assert_eq!(
                s3,
                "http://127.0.0.1:9: connection refused: nothing listens there (is the service or emulator running, and the port right?)"
            );
            let sts = unreachable("dns error: failed to lookup address", "sts:GetCallerIdentity");
            assert!(sts.starts_with("https://sts.ap-south-1.amazonaws.com: "), "{sts}");
            assert!(unreachable("reset", "iam:GetRole").starts_with("the endpoint: "));
            assert_eq!(connect_failure_of("s3:PutObject").as_deref(), Some("connection refused"));
            assert_eq!(connect_failure_of("iam:GetRole"), None, "another service's failure is not this one's");
        });
        traced.await;
        // Another run (or none) knows nothing of that one.
        assert!(Trace::new(false).scope(async { origin_of("s3:PutObject") }).await.is_none());
        assert!(origin_of("s3:PutObject").is_none());
    }

    #[test]
    fn codes_round_trip_and_unknown_ones_are_kept() {
        for code in
            ["AccessDenied", "NoSuchBucket", "SignatureDoesNotMatch", "BucketAlreadyOwnedByYou", "LimitExceeded"]
        {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
        }
        assert_eq!(ErrorCode::parse("Frobnicated"), ErrorCode::Other("Frobnicated".into()));
        assert_eq!(ErrorCode::parse("AccessDeniedException"), ErrorCode::AccessDenied);
    }

    #[test]
    fn reads_xml_elements() {
        let body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        assert_eq!(xml_element(body, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_element(body, "Message").as_deref(), Some("Access Denied"));
        assert_eq!(xml_element(body, "Region"), None);
    }

    #[test]
    fn finds_the_expected_region_in_a_malformed_header_message() {
        let error = AwsError::from_http(
            "s3:ListBucket",
            "bucket `b`",
            400,
            None,
            "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message></Error>",
        );
        assert_eq!(error.bucket_region.as_deref(), Some("eu-west-1"));
        assert!(error.is(&ErrorCode::AuthorizationHeaderMalformed));
    }

    #[test]
    fn a_status_without_a_code_still_has_a_kind() {
        let error = AwsError::from_http("s3:GetObject", "x", 403, None, "");
        assert!(error.is(&ErrorCode::AccessDenied));
        assert_eq!(AwsError::from_http("a", "r", 404, None, "").code(), Some(&ErrorCode::NotFound));
    }
}
