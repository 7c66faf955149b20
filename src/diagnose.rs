//! AWS errors turned into a cause and a fix in the user's own terms (the guide's troubleshooting).

use std::error::Error as StdError;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use serde::Serialize;

use crate::settings::AppSettings;

/// What went wrong, as much as the response (or its absence) tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFacts {
    /// The AWS error code (`AccessDenied`), from the SDK or the response body.
    pub code: Option<String>,
    pub message: Option<String>,
    pub status: Option<u16>,
    /// The `x-amz-bucket-region` response header: where the bucket really lives.
    pub bucket_region: Option<String>,
    /// The response body, for codes and regions the SDK did not parse.
    pub body: String,
    pub transport: Option<Transport>,
}

/// Failures before any HTTP answer arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Nothing answered at the address (refused, unresolvable, reset).
    Unreachable(String),
    /// Something took longer than allowed.
    TimedOut,
    /// Anything else the SDK reported, with its whole chain of causes.
    Other(String),
}

/// A failure explained: what happened, why, and what to do.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Diagnosis {
    /// The AWS code or t3s3's name for the failure.
    pub code: String,
    /// What the service (or the network) said.
    pub message: String,
    pub cause: String,
    pub fix: Vec<String>,
}

impl Diagnosis {
    /// `Code: message` for one-line displays.
    pub fn error_line(&self) -> String {
        if self.message.is_empty() { self.code.clone() } else { format!("{}: {}", self.code, self.message) }
    }

    /// The fix steps as one line, numbered when there are several.
    pub fn fix_line(&self) -> String {
        match self.fix.as_slice() {
            [one] => one.clone(),
            many => many.iter().enumerate().map(|(i, step)| format!("{}. {step}", i + 1)).collect::<Vec<_>>().join(" "),
        }
    }
}

/// Collects the facts of any SDK error.
pub fn facts<E>(error: &SdkError<E, HttpResponse>) -> ErrorFacts
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let mut facts = ErrorFacts::default();
    if let Some(raw) = error.raw_response() {
        facts.status = Some(raw.status().as_u16());
        facts.bucket_region = raw.headers().get("x-amz-bucket-region").map(str::to_string);
        facts.body = raw.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    }
    facts.code = error.code().map(str::to_string).or_else(|| xml_element(&facts.body, "Code"));
    facts.message = error.message().map(str::to_string).or_else(|| xml_element(&facts.body, "Message"));
    match error {
        SdkError::DispatchFailure(failure) if failure.is_timeout() => facts.transport = Some(Transport::TimedOut),
        SdkError::DispatchFailure(failure) if failure.is_io() => {
            facts.transport = Some(Transport::Unreachable(DisplayErrorContext(error).to_string()))
        }
        SdkError::TimeoutError(_) => facts.transport = Some(Transport::TimedOut),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            facts.transport = Some(Transport::Other(DisplayErrorContext(error).to_string()))
        }
        SdkError::ResponseError(_) if facts.code.is_none() => {
            facts.transport = Some(Transport::Other(DisplayErrorContext(error).to_string()))
        }
        _ => {}
    }
    facts
}

/// The text of the first `<name>` element in an XML error body.
pub fn xml_element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(body[start..end].trim().to_string()).filter(|text| !text.is_empty())
}

/// The region a wrong-region answer names: the header, a `<Region>` element, or
/// "expecting 'eu-west-1'" in an AuthorizationHeaderMalformed message.
fn real_region(facts: &ErrorFacts) -> Option<String> {
    if let Some(region) = &facts.bucket_region {
        return Some(region.clone());
    }
    if let Some(region) = xml_element(&facts.body, "Region") {
        return Some(region);
    }
    let message = facts.message.as_deref().unwrap_or(&facts.body);
    let start = message.find("expecting '")? + "expecting '".len();
    let end = message[start..].find('\'')? + start;
    Some(message[start..end].to_string())
}

/// Explains a failed S3 request made with the backend's settings. `operation` is the
/// IAM action it needed, e.g. `s3:PutObject`.
pub fn diagnose(facts: &ErrorFacts, settings: &AppSettings, operation: &str) -> Diagnosis {
    let bucket = settings.bucket();
    let region = settings.region();
    let env = settings.env_display();
    let endpoint = settings.get(crate::settings::ENDPOINT).map(str::to_string);
    let endpoint_name = endpoint.clone().unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let message = facts.message.clone().unwrap_or_default();
    let make = |code: &str, message: String, cause: String, fix: Vec<String>| Diagnosis {
        code: code.to_string(),
        message,
        cause,
        fix,
    };

    match &facts.transport {
        Some(Transport::Unreachable(detail)) => {
            return make(
                "EndpointUnreachable",
                detail.clone(),
                format!("Nothing answered at {endpoint_name}."),
                match &endpoint {
                    Some(url) => vec![
                        format!(
                            "Start the S3 service at {url}, or fix AWS_ENDPOINT_URL ({}).",
                            settings.where_set("AWS_ENDPOINT_URL")
                        ),
                        "Remove AWS_ENDPOINT_URL to use real AWS.".into(),
                    ],
                    None => vec![
                        "Check the network connection and any proxy settings (HTTPS_PROXY).".into(),
                        format!(
                            "Check that AWS_REGION={region} is a real region ({}).",
                            settings.where_set("AWS_REGION")
                        ),
                    ],
                },
            );
        }
        Some(Transport::TimedOut) => {
            return make(
                "Timeout",
                format!("no answer from {endpoint_name} in time"),
                format!("{endpoint_name} accepted the connection or was being reached, but did not answer in time."),
                vec![
                    format!("Check that {endpoint_name} is the S3 service and is healthy."),
                    "Retry with a longer --timeout if the network is slow.".into(),
                ],
            );
        }
        Some(Transport::Other(detail)) if facts.status.is_none() => {
            return make(
                "RequestFailed",
                detail.clone(),
                format!("The request to {endpoint_name} failed before S3 answered."),
                vec!["Read the message above; check the endpoint URL, proxy and TLS settings.".into()],
            );
        }
        _ => {}
    }

    let code = facts.code.clone().unwrap_or_else(|| match facts.status {
        Some(301) => "PermanentRedirect".into(),
        Some(403) => "AccessDenied".into(),
        Some(404) => "NoSuchBucket".into(),
        Some(status) => format!("HTTP {status}"),
        None => "UnknownError".into(),
    });

    let region_mismatch = match code.as_str() {
        "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => true,
        _ => facts.bucket_region.as_deref().is_some_and(|real| real != region),
    };
    if region_mismatch {
        let real = real_region(facts);
        let cause = match &real {
            Some(real) => format!(
                "Region mismatch: bucket `{bucket}` is in {real}, but AWS_REGION is {region}. (S3 says: \"The bucket you are attempting to access must be addressed using the specified endpoint\".)"
            ),
            None => format!("Region mismatch: bucket `{bucket}` is not in {region}, the region AWS_REGION names."),
        };
        let fix = match &real {
            Some(real) => {
                vec![format!("Set AWS_REGION={real} in {} and restart the backend.", settings.where_set("AWS_REGION"))]
            }
            None => vec![
                format!("Open S3 → {bucket} → Properties and note its AWS Region."),
                format!("Set AWS_REGION to it in {}.", settings.where_set("AWS_REGION")),
            ],
        };
        let message = if message.is_empty() { format!("HTTP {}", facts.status.unwrap_or_default()) } else { message };
        return make(&code, message, cause, fix);
    }

    let key_id = settings.get("AWS_ACCESS_KEY_ID").unwrap_or_default();
    let (cause, fix) = match code.as_str() {
        "AccessDenied" | "Forbidden" | "AllAccessDisabled" => (
            format!(
                "The key {key_id} is not allowed {operation} on `{bucket}`: T3ChatS3Policy is not attached to its user, or names another bucket."
            ),
            vec![
                "IAM → Users → your user → Permissions: check that T3ChatS3Policy is attached.".into(),
                format!("Check that the policy names `{bucket}`: compare it with `t3s3 policy --bucket {bucket}`."),
                format!("Or let t3s3 converge it: `t3s3 init --bucket {bucket}`."),
            ],
        ),
        "NoSuchBucket" => (
            format!(
                "No bucket named `{bucket}` exists here: S3_BUCKET_NAME ({}) does not match a real bucket.",
                settings.where_set("S3_BUCKET_NAME")
            ),
            vec![
                "Copy the exact bucket name from the S3 console.".into(),
                format!("Update S3_BUCKET_NAME in {env}, or create the bucket with `t3s3 init --bucket {bucket}`."),
            ],
        ),
        "InvalidAccessKeyId" => (
            format!(
                "AWS does not know the access key ID {key_id} ({}): it is mistyped or was deleted.",
                settings.where_set("AWS_ACCESS_KEY_ID")
            ),
            vec![
                "IAM → Users → your user → Security credentials: check the key is there and Active.".into(),
                "If it was deleted, create a new key (`t3s3 init` does this).".into(),
                format!("Update AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in {env}."),
            ],
        ),
        "SignatureDoesNotMatch" => (
            format!(
                "The secret key ({}) does not belong to access key {key_id}: it is mistyped, truncated or from another key.",
                settings.where_set("AWS_SECRET_ACCESS_KEY")
            ),
            vec![
                "A secret cannot be viewed again after creation: delete this access key in IAM.".into(),
                "Create a new access key (`t3s3 init` does this and writes it for you).".into(),
                format!("Update AWS_SECRET_ACCESS_KEY in {env} with the new secret (no quotes, no spaces)."),
            ],
        ),
        "RequestTimeTooSkewed" => (
            "This machine's clock is too far from AWS's time (more than 15 minutes), so every signature is rejected."
                .into(),
            vec!["Synchronise the clock (e.g. `sudo timedatectl set-ntp true`) and retry.".into()],
        ),
        "ExpiredToken" | "InvalidToken" | "TokenRefreshRequired" => (
            "The credentials include an expired or invalid session token.".into(),
            vec![format!("Use a long-term access key of the backend's user in {env}, or refresh the session.")],
        ),
        "NoSuchKey" | "NotFound" => (
            format!(
                "The object is not in `{bucket}`: something else deleted it, or the bucket's contents are not what was written."
            ),
            vec!["Run `t3s3 verify` again; if it repeats, check bucket lifecycle rules and other writers.".into()],
        ),
        "SlowDown" | "ServiceUnavailable" | "InternalError" => (
            format!("S3 at {endpoint_name} is failing or throttling requests."),
            vec!["Wait a minute and run `t3s3 verify` again.".into()],
        ),
        _ => (
            format!(
                "S3 answered {operation} on `{bucket}` with {code} (HTTP {}).",
                facts.status.map_or("?".into(), |s| s.to_string())
            ),
            vec!["Look the code up in the S3 error reference; the message above says what S3 objected to.".into()],
        ),
    };
    let message = if message.is_empty() && facts.status.is_some() {
        format!("HTTP {}", facts.status.unwrap_or_default())
    } else {
        message
    };
    make(&code, message, cause, fix)
}

/// An error from a call made with the acting credentials (init, doctor, destroy), as one
/// message naming the action, the resource and the next step; never a bare "service error".
pub fn acting_error<E>(error: SdkError<E, HttpResponse>, action: &str, resource: &str) -> anyhow::Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    use crate::exit::Failure;
    let facts = facts(&error);
    let code = facts.code.clone().unwrap_or_else(|| facts.status.map_or("no answer".into(), |s| format!("HTTP {s}")));
    let said = facts.message.clone().map(|m| format!(" ({m})")).unwrap_or_default();
    match (&facts.transport, code.as_str()) {
        (Some(Transport::Unreachable(detail)), _) => Failure::bad_input(format!("{action} on {resource}: cannot reach AWS: {detail}"))
            .hint("check --endpoint-url / AWS_ENDPOINT_URL, the network and any proxy")
            .into(),
        (Some(Transport::TimedOut), _) => Failure::unexpected(format!("{action} on {resource}: no answer in time"))
            .hint("check the network, then run the command again; it picks up where it stopped")
            .into(),
        (_, "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => {
            Failure::bad_input(format!("{action} on {resource} was denied{said}"))
                .hint(format!("the acting credentials need {action}; use an administrator profile (--profile NAME)"))
                .into()
        }
        (_, "InvalidClientTokenId" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "UnrecognizedClientException") => {
            Failure::bad_input(format!("{action} on {resource}: the acting credentials were rejected: {code}{said}"))
                .hint("check the profile or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in your shell (`aws configure`, `aws sso login`)")
                .into()
        }
        (Some(Transport::Other(detail)), _) if facts.code.is_none() && facts.status.is_some() => {
            Failure::unexpected(format!("{action} on {resource}: the answer could not be read: {detail}")).into()
        }
        (Some(Transport::Other(detail)), _) if facts.status.is_none() => {
            if detail.contains("Missing Region") {
                Failure::bad_input(format!("{action} on {resource}: no AWS region is configured"))
                    .hint("pass --region REGION, or set AWS_REGION")
                    .into()
            } else if detail.contains("credentials") || detail.contains("Credentials") {
                Failure::bad_input(format!("{action} on {resource}: no AWS credentials were found"))
                    .hint("run `aws configure` or `aws sso login`, pass --profile NAME, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
                    .into()
            } else {
                Failure::unexpected(format!("{action} on {resource} failed: {detail}")).into()
            }
        }
        _ => Failure::unexpected(format!("{action} on {resource} failed: {code}{said}"))
            .hint("run the command again; it converges from wherever it stopped")
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_xml_elements() {
        let body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        assert_eq!(xml_element(body, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_element(body, "Message").as_deref(), Some("Access Denied"));
        assert_eq!(xml_element(body, "Region"), None);
    }

    #[test]
    fn finds_the_expected_region_in_a_malformed_header_message() {
        let facts = ErrorFacts {
            message: Some(
                "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'".into(),
            ),
            ..Default::default()
        };
        assert_eq!(real_region(&facts).as_deref(), Some("eu-west-1"));
    }
}
