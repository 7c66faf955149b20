//! Real AWS answers that the emulators do not give, replayed through the SDK's test HTTP
//! client (`StaticReplayClient`): each answer's status, headers and XML body are as AWS
//! documents them (the document is named above each test). t3s3's own bucket / iam code
//! reads them into an `AwsError`, and the diagnosis and exit code are checked.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;

use t3s3::aws_error::{AwsError, ErrorCode, ErrorKind};
use t3s3::diagnose::{Subject, diagnose, explain};
use t3s3::exit::{ExitStatus, status_of};
use t3s3::keys::Key;
use t3s3::settings::{AppSettings, Setting, Source};
use t3s3::{bucket, iam};

const BUCKET: &str = "t3-chat-documents-replay";

/// One recorded answer; the request side is not checked.
fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> ReplayEvent {
    let request = http::Request::builder().uri("https://example.com/").body(SdkBody::empty()).unwrap();
    let mut response = http::Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    ReplayEvent::new(request, response.body(SdkBody::from(body.to_string())).unwrap())
}

fn credentials() -> Credentials {
    Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None, None, "replay")
}

fn s3(events: Vec<ReplayEvent>) -> (aws_sdk_s3::Client, StaticReplayClient) {
    let replay = StaticReplayClient::new(events);
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-south-1"))
        .credentials_provider(credentials())
        .retry_config(RetryConfig::disabled())
        .http_client(replay.clone())
        .build();
    (aws_sdk_s3::Client::from_conf(config), replay)
}

fn iam_client(events: Vec<ReplayEvent>) -> (aws_sdk_iam::Client, StaticReplayClient) {
    let replay = StaticReplayClient::new(events);
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials())
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
        .http_client(replay.clone())
        .build();
    (aws_sdk_iam::Client::from_conf(config), replay)
}

/// The backend's settings as read from backend/.env (region ap-south-1).
fn settings() -> AppSettings {
    let line = |name: Key, value: &str, line: usize| Setting {
        name,
        value: Some(value.into()),
        source: Source::File { path: "backend/.env".into(), line },
    };
    AppSettings {
        required: vec![
            line(Key::AccessKeyId, "AKIAIOSFODNN7EXAMPLE", 2),
            line(Key::SecretAccessKey, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 3),
            line(Key::Region, "ap-south-1", 4),
            line(Key::Bucket, BUCKET, 5),
        ],
        endpoint_url: Setting { name: Key::EndpointUrl, value: None, source: Source::Missing },
        session_token: Setting { name: Key::SessionToken, value: None, source: Source::Missing },
        ignored_session_token: false,
        env_file: Some("backend/.env".into()),
        tried: vec!["backend/.env".into()],
        lint: Vec::new(),
    }
}

/// An S3 error body as "Error responses" (Amazon S3 API Reference) documents it.
fn s3_error(code: &str, message: &str, extra: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{extra}<RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>"
    )
}

/// An IAM error body as "Common Errors" / the Query API error format documents it.
fn iam_error(status_type: &str, code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>{status_type}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>"
    )
}

async fn location_error(status: u16, headers: &[(&str, &str)], body: &str) -> AwsError {
    let (client, _) = s3(vec![answer(status, headers, body)]);
    bucket::region_of(&client, BUCKET).await.expect_err("the answer is an error")
}

// "Error responses", Amazon S3 API Reference: PermanentRedirect, 301 Moved Permanently,
// "The bucket you are attempting to access must be addressed using the specified endpoint";
// the x-amz-bucket-region header names the bucket's region (HeadBucket, "Response Syntax").
#[tokio::test]
async fn a_301_permanent_redirect_names_the_buckets_region() {
    let body = s3_error(
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
        &format!("<Endpoint>{BUCKET}.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>{BUCKET}</Bucket>"),
    );
    let error = location_error(301, &[("x-amz-bucket-region", "eu-west-1")], &body).await;
    assert_eq!(error.kind, ErrorKind::Service(ErrorCode::PermanentRedirect));
    assert_eq!(error.bucket_region.as_deref(), Some("eu-west-1"));
    assert_eq!(error.request_id.as_deref(), Some("4442587FB7D0A2F9"));
    let diagnosis = diagnose(&error, &settings(), "T3ChatS3Policy");
    assert!(diagnosis.cause.contains("is in eu-west-1, but AWS_REGION is ap-south-1"), "{}", diagnosis.cause);
    assert_eq!(diagnosis.fix, vec!["Set AWS_REGION=eu-west-1 in backend/.env line 4 and restart the backend."]);
}

// "Error responses": AuthorizationHeaderMalformed, 400 Bad Request; the message names the
// region the request should have been signed for, and the body carries <Region>.
#[tokio::test]
async fn a_400_authorization_header_malformed_names_the_expected_region() {
    let body = s3_error(
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the region 'ap-south-1' is wrong; expecting 'us-west-2'",
        "<Region>us-west-2</Region>",
    );
    let error = location_error(400, &[], &body).await;
    assert_eq!(error.kind, ErrorKind::Service(ErrorCode::AuthorizationHeaderMalformed));
    let diagnosis = diagnose(&error, &settings(), "T3ChatS3Policy");
    assert_eq!(diagnosis.code, Subject::Service(ErrorCode::AuthorizationHeaderMalformed));
    assert!(diagnosis.fix[0].contains("AWS_REGION=us-west-2 in backend/.env line 4"), "{:?}", diagnosis.fix);
}

// "Error responses": InvalidAccessKeyId, 403 Forbidden, "The AWS access key ID that you
// provided does not exist in our records."
#[tokio::test]
async fn a_403_invalid_access_key_id_names_the_key_and_its_line() {
    let body = s3_error(
        "InvalidAccessKeyId",
        "The AWS access key ID that you provided does not exist in our records.",
        "<AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId>",
    );
    let error = location_error(403, &[], &body).await;
    assert_eq!(error.kind, ErrorKind::Service(ErrorCode::InvalidAccessKeyId));
    let diagnosis = diagnose(&error, &settings(), "T3ChatS3Policy");
    assert!(
        diagnosis.cause.contains("does not know the access key ID AKIAIOSFODNN7EXAMPLE (backend/.env line 2)"),
        "{}",
        diagnosis.cause
    );
}

// "Error responses": SignatureDoesNotMatch, 403 Forbidden.
#[tokio::test]
async fn a_403_signature_does_not_match_blames_the_secret() {
    let body = s3_error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        "",
    );
    let error = location_error(403, &[], &body).await;
    let diagnosis = diagnose(&error, &settings(), "T3ChatS3Policy");
    assert_eq!(diagnosis.code, Subject::Service(ErrorCode::SignatureDoesNotMatch));
    assert!(diagnosis.cause.contains("The secret key (backend/.env line 3)"), "{}", diagnosis.cause);
    let acting = explain(&error);
    assert!(acting.message.contains("the acting credentials were rejected"), "{}", acting.message);
    assert_eq!(status_of(&anyhow::Error::new(error)), ExitStatus::BadInput);
}

// "Error responses": RequestTimeTooSkewed, 403 Forbidden, "The difference between the
// request time and the server's time is too large."
#[tokio::test]
async fn a_403_request_time_too_skewed_names_the_clock() {
    let body = s3_error(
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>",
    );
    let error = location_error(403, &[], &body).await;
    let diagnosis = diagnose(&error, &settings(), "T3ChatS3Policy");
    assert_eq!(diagnosis.code, Subject::Service(ErrorCode::RequestTimeTooSkewed));
    assert!(diagnosis.cause.contains("clock"), "{}", diagnosis.cause);
}

// CreateBucket, Amazon S3 API Reference, "Errors": BucketAlreadyExists (409, another
// account owns the name) and BucketAlreadyOwnedByYou (409, in regions other than us-east-1).
#[tokio::test]
async fn create_bucket_reads_both_409_answers_through_the_typed_variants() {
    let taken = s3_error(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        &format!("<BucketName>{BUCKET}</BucketName>"),
    );
    let (client, _) = s3(vec![answer(409, &[], &taken)]);
    assert!(!bucket::create(&client, BUCKET, "ap-south-1").await.unwrap(), "another account's name is not ours");
    let ours = s3_error(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        &format!("<BucketName>{BUCKET}</BucketName>"),
    );
    let (client, _) = s3(vec![answer(409, &[], &ours)]);
    assert!(bucket::create(&client, BUCKET, "ap-south-1").await.unwrap(), "already ours is success");
}

// "Error responses": IllegalLocationConstraintException, 400, a LocationConstraint that
// does not match the endpoint's region.
#[tokio::test]
async fn an_illegal_location_constraint_is_a_region_problem() {
    let body = s3_error(
        "IllegalLocationConstraintException",
        "The ap-south-1 location constraint is incompatible for the region specific endpoint this request was sent to.",
        "",
    );
    let (client, _) = s3(vec![answer(400, &[], &body)]);
    let error = bucket::create(&client, BUCKET, "ap-south-1").await.expect_err("400");
    assert!(error.code().is_some_and(ErrorCode::is_wrong_region));
    assert_eq!(
        explain(&error).message,
        format!(
            "s3:CreateBucket on bucket `{BUCKET}` in ap-south-1 failed: IllegalLocationConstraintException (The ap-south-1 location constraint is incompatible for the region specific endpoint this request was sent to.)"
        )
    );
    assert_eq!(status_of(&anyhow::Error::new(error)), ExitStatus::Unexpected);
}

// CreateAccessKey, IAM API Reference, "Errors": LimitExceeded, 409, "The request was
// rejected because it attempted to create resources beyond the current AWS account limits."
#[tokio::test]
async fn a_third_access_key_is_limit_exceeded_with_the_way_out() {
    let body = iam_error("Sender", "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2");
    // t3s3 first marks the user (TagUser, "creating"), then asks for the key.
    let tagged = "<TagUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></TagUserResponse>";
    let (client, _) = iam_client(vec![answer(200, &[], tagged), answer(409, &[], &body)]);
    let existing = ["AKIAFIRSTKEY00000001".to_string(), "AKIASECONDKEY0000002".to_string()];
    let error = iam::create_key(&client, "t3_chat", &existing, false).await.err().expect("409");
    assert_eq!(error.kind, ErrorKind::Service(ErrorCode::LimitExceeded));
    assert_eq!(error.request_id.as_deref(), Some("7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"));
    let explained = explain(&error);
    assert!(explained.message.contains("iam:CreateAccessKey on IAM user `t3_chat`: an IAM limit is reached (Cannot exceed quota for AccessKeysPerUser: 2)"), "{}", explained.message);
    assert!(explained.fix.unwrap().contains("2 access keys"));
}

// GetUser, IAM API Reference, "Errors": NoSuchEntity, 404.
#[tokio::test]
async fn no_such_entity_means_the_user_is_missing() {
    let body = iam_error("Sender", "NoSuchEntity", "The user with name t3_chat cannot be found.");
    let (client, _) = iam_client(vec![answer(404, &[], &body)]);
    assert!(!iam::user_exists(&client, "t3_chat").await.unwrap());
    let (client, _) = iam_client(vec![answer(
        404,
        &[],
        &iam_error("Sender", "NoSuchEntity", "Policy arn:aws:iam::123456789012:policy/T3ChatS3Policy was not found."),
    )]);
    assert!(iam::find_policy(&client, "arn:aws:iam::123456789012:policy/T3ChatS3Policy").await.unwrap().is_none());
}

// CreateUser, IAM API Reference, "Errors": EntityAlreadyExists, 409.
#[tokio::test]
async fn entity_already_exists_is_named() {
    let body = iam_error("Sender", "EntityAlreadyExists", "User with name t3_chat already exists.");
    let (client, _) = iam_client(vec![answer(409, &[], &body)]);
    let error = iam::create_user(&client, "t3_chat").await.expect_err("409");
    assert_eq!(error.kind, ErrorKind::Service(ErrorCode::EntityAlreadyExists));
    assert!(explain(&error).message.contains("iam:CreateUser on IAM user `t3_chat` failed: EntityAlreadyExists"));
}

// DeletePolicy, IAM API Reference, "Errors": DeleteConflict, 409, "The request was rejected
// because it attempted to delete a resource that has attached subordinate entities."
#[tokio::test]
async fn delete_conflict_says_detach_first() {
    let arn = "arn:aws:iam::123456789012:policy/T3ChatS3Policy";
    let body = iam_error("Sender", "DeleteConflict", "Cannot delete a policy attached to entities.");
    let (client, _) = iam_client(vec![answer(409, &[], &body)]);
    let state = iam::PolicyState {
        arn: arn.into(),
        default_version: "v1".into(),
        document: "{}".into(),
        older_versions: Vec::new(),
        version_count: 1,
    };
    let error = iam::delete_policy(&client, &state, &iam::PolicyHolders::default()).await.expect_err("409");
    let explained = explain(&error);
    assert!(
        explained
            .message
            .contains("iam:DeletePolicy on arn:aws:iam::123456789012:policy/T3ChatS3Policy: it is still in use"),
        "{}",
        explained.message
    );
    assert!(explained.fix.unwrap().contains("detach"));
}

// CreatePolicy, IAM API Reference, "Errors": MalformedPolicyDocument, 400.
#[tokio::test]
async fn malformed_policy_document_is_named() {
    let body = iam_error("Sender", "MalformedPolicyDocument", "Syntax errors in policy.");
    let (client, _) = iam_client(vec![answer(400, &[], &body)]);
    let error = iam::create_policy(&client, "T3ChatS3Policy", "{", "d").await.expect_err("400");
    assert_eq!(error.kind, ErrorKind::Service(ErrorCode::MalformedPolicyDocument));
    assert!(explain(&error).message.contains("IAM refused the policy document (Syntax errors in policy.)"));
}

// ListEntitiesForPolicy, IAM API Reference: IsTruncated and Marker page the answer
// (at most 100 entities a page by default). Every page counts: a policy attached to
// entities on the second page must still be detached before it can be deleted.
#[tokio::test]
async fn policy_holders_are_read_across_pages() {
    let page = |users: &[&str], groups: &[&str], marker: Option<&str>| {
        let users: String = users
            .iter()
            .map(|u| format!("<member><UserName>{u}</UserName><UserId>AIDA{u}</UserId></member>"))
            .collect();
        let groups: String = groups
            .iter()
            .map(|g| format!("<member><GroupName>{g}</GroupName><GroupId>AGPA{g}</GroupId></member>"))
            .collect();
        let truncated = marker.map_or("<IsTruncated>false</IsTruncated>".to_string(), |m| {
            format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>")
        });
        format!(
            "<ListEntitiesForPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListEntitiesForPolicyResult><PolicyRoles/><PolicyGroups>{groups}</PolicyGroups><PolicyUsers>{users}</PolicyUsers>{truncated}</ListEntitiesForPolicyResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListEntitiesForPolicyResponse>"
        )
    };
    let (client, replay) = iam_client(vec![
        answer(200, &[], &page(&["t3_chat", "alice"], &[], Some("page2"))),
        answer(200, &[], &page(&["bob"], &["backend"], None)),
    ]);
    let holders = iam::policy_holders(&client, "arn:aws:iam::123456789012:policy/T3ChatS3Policy").await.unwrap();
    assert_eq!(holders.users, ["t3_chat", "alice", "bob"]);
    assert_eq!(holders.groups, ["backend"]);
    let requests: Vec<String> =
        replay.actual_requests().map(|r| std::str::from_utf8(r.body().bytes().unwrap()).unwrap().to_string()).collect();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].contains("Marker=page2"), "{}", requests[1]);
}

// ListAccessKeys, IAM API Reference: the same IsTruncated / Marker paging.
#[tokio::test]
async fn access_keys_are_read_across_pages() {
    let page = |id: &str, marker: Option<&str>| {
        let truncated = marker.map_or("<IsTruncated>false</IsTruncated>".to_string(), |m| {
            format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>")
        });
        format!(
            "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListAccessKeysResult><UserName>t3_chat</UserName><AccessKeyMetadata><member><UserName>t3_chat</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status><CreateDate>2026-11-01T00:00:00Z</CreateDate></member></AccessKeyMetadata>{truncated}</ListAccessKeysResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListAccessKeysResponse>"
        )
    };
    let (client, _) = iam_client(vec![
        answer(200, &[], &page("AKIAFIRSTPAGE0000001", Some("next"))),
        answer(200, &[], &page("AKIASECONDPAGE000002", None)),
    ]);
    let keys = iam::list_keys(&client, "t3_chat", false).await.unwrap();
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, ["AKIAFIRSTPAGE0000001", "AKIASECONDPAGE000002"]);
}

// ListObjectVersions, Amazon S3 API Reference: IsTruncated with NextKeyMarker and
// NextVersionIdMarker; destroy --force must delete every version on every page.
#[tokio::test]
async fn object_versions_are_read_across_pages() {
    let page = |key: &str, next: Option<(&str, &str)>| {
        let truncated = next.map_or("<IsTruncated>false</IsTruncated>".to_string(), |(k, v)| format!("<IsTruncated>true</IsTruncated><NextKeyMarker>{k}</NextKeyMarker><NextVersionIdMarker>{v}</NextVersionIdMarker>"));
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{BUCKET}</Name><EncodingType>url</EncodingType>{truncated}<Version><Key>{key}</Key><VersionId>v-{key}</VersionId><IsLatest>true</IsLatest><Size>3</Size></Version><DeleteMarker><Key>{key}.old</Key><VersionId>d-{key}</VersionId><IsLatest>true</IsLatest></DeleteMarker></ListVersionsResult>"
        )
    };
    // Keys come URL-encoded (asked with encoding-type=url): an end user's ESC included.
    let (client, replay) = s3(vec![
        answer(200, &[], &page("a%1B%5B2J.pdf", Some(("a%1B%5B2J.pdf", "v-a.pdf")))),
        answer(200, &[], &page("b+c.pdf", None)),
    ]);
    let versions = bucket::every_version(&client, BUCKET).await.unwrap();
    assert_eq!(versions.len(), 4, "{versions:?}");
    assert!(versions.contains(&("b c.pdf".into(), Some("v-b+c.pdf".into()))), "{versions:?}");
    assert!(versions.contains(&("a\x1b[2J.pdf".into(), Some("v-a%1B%5B2J.pdf".into()))), "{versions:?}");
    let first = replay.actual_requests().next().unwrap().uri().to_string();
    assert!(first.contains("encoding-type=url"), "{first}");
    let second = replay.actual_requests().nth(1).unwrap().uri().to_string();
    assert!(second.contains("key-marker=a%1B%5B2J.pdf") && second.contains("version-id-marker=v-a.pdf"), "{second}");
}

fn budgets_client(events: Vec<ReplayEvent>) -> (aws_sdk_budgets::Client, StaticReplayClient) {
    let replay = StaticReplayClient::new(events);
    let config = aws_sdk_budgets::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials())
        .retry_config(aws_sdk_budgets::config::retry::RetryConfig::disabled())
        .http_client(replay.clone())
        .build();
    (aws_sdk_budgets::Client::from_conf(config), replay)
}

/// UpdateBudget, which moto does not implement: AWS answers `{}` (Budgets API Reference,
/// UpdateBudget, "Response Syntax"); the request carries the whole new budget.
#[tokio::test]
async fn a_budget_limit_is_updated_with_the_whole_monthly_cost_budget() {
    let (client, replay) = budgets_client(vec![answer(200, &[("content-type", "application/x-amz-json-1.1")], "{}")]);
    t3s3::budgets::update_limit(&client, "123456789012", "t3s3-monthly-cost", 12.5).await.unwrap();
    let requests = replay.actual_requests().collect::<Vec<_>>();
    assert_eq!(requests.len(), 1);
    let target = requests[0].headers().get("x-amz-target").unwrap_or_default().to_string();
    assert_eq!(target, "AWSBudgetServiceGateway.UpdateBudget");
    let body: serde_json::Value = serde_json::from_slice(requests[0].body().bytes().unwrap()).unwrap();
    assert_eq!(body["AccountId"], "123456789012");
    assert_eq!(body["NewBudget"]["BudgetName"], "t3s3-monthly-cost");
    assert_eq!(body["NewBudget"]["BudgetLimit"], serde_json::json!({"Amount": "12.5", "Unit": "USD"}));
    assert_eq!(
        (body["NewBudget"]["TimeUnit"].as_str(), body["NewBudget"]["BudgetType"].as_str()),
        (Some("MONTHLY"), Some("COST"))
    );
}

/// AccessDeniedException as Budgets answers it (a JSON body, `__type`): read as AccessDenied,
/// so init goes on without the budget and doctor skips billing_alert.
#[tokio::test]
async fn budgets_access_denied_is_read_as_denied() {
    let body = r#"{"__type":"AccessDeniedException","Message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: budgets:ViewBudget"}"#;
    let (client, _) = budgets_client(vec![answer(
        400,
        &[("content-type", "application/x-amz-json-1.1"), ("x-amzn-errortype", "AccessDeniedException")],
        body,
    )]);
    let error = t3s3::budgets::find(&client, "123456789012", "t3s3-monthly-cost").await.unwrap_err();
    assert!(t3s3::budgets::is_denied(&error), "{error:?}");
    assert_eq!(error.action, "budgets:ViewBudget");
}
