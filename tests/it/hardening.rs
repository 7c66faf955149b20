//! Beyond the guide: the TLS-only bucket-policy statement and the lifecycle rule
//! that aborts incomplete multipart uploads, merged with what a bucket already has, and
//! doctor's matching checks with their prowler ids. Against moto on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-hardening";

fn init(ws: &Workspace, server: &Server, extra: &[&str]) -> Run {
    let mut command = ws.t3s3();
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &server.url(), "--region", APP_REGION, "init", "--json", "--bucket", BUCKET])
        .args(["--create-user", "--no-verify"])
        .args(extra);
    run(&mut command)
}

fn rows(report: &serde_json::Value) -> BTreeMap<String, (String, String)> {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let (status, detail) = (r["status"].as_str().unwrap(), r["detail"].as_str().unwrap());
            (r["resource"].as_str().unwrap().to_string(), (status.to_string(), detail.to_string()))
        })
        .collect()
}

fn root_s3(server: &Server) -> aws_sdk_s3::Client {
    s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION))
}

/// A bucket someone already set up: a policy statement and a lifecycle rule of their own.
async fn bucket_of_someone_else(server: &Server) {
    let s3 = root_s3(server);
    create_bucket(&s3, BUCKET, APP_REGION).await;
    let theirs = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Theirs","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::123456789012:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{BUCKET}/*"}}]}}"#
    );
    s3.put_bucket_policy().bucket(BUCKET).policy(theirs).send().await.unwrap();
    let rule = aws_sdk_s3::types::LifecycleRule::builder()
        .id("expire-tmp")
        .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
        .filter(aws_sdk_s3::types::LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(aws_sdk_s3::types::LifecycleExpiration::builder().days(1).build())
        .build()
        .unwrap();
    let config = aws_sdk_s3::types::BucketLifecycleConfiguration::builder().rules(rule).build().unwrap();
    s3.put_bucket_lifecycle_configuration().bucket(BUCKET).lifecycle_configuration(config).send().await.unwrap();
}

async fn statement_sids(server: &Server) -> Vec<String> {
    let out = root_s3(server).get_bucket_policy().bucket(BUCKET).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(out.policy().unwrap()).unwrap();
    policy["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap().to_string()).collect()
}

async fn rule_ids(server: &Server) -> Vec<(String, Option<i32>)> {
    let out = root_s3(server).get_bucket_lifecycle_configuration().bucket(BUCKET).send().await.unwrap();
    out.rules()
        .iter()
        .map(|r| {
            let days = r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation());
            (r.id().unwrap_or_default().to_string(), days)
        })
        .collect()
}

#[tokio::test]
async fn the_tls_statement_and_lifecycle_rule_join_what_the_bucket_has_and_refuse_plain_http() {
    let server = moto(None);
    bucket_of_someone_else(&server).await;
    let ws = Workspace::new();

    let first = init(&ws, &server, &["--require-tls"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let report = first.json();
    let rows = rows(&report);
    assert_eq!(rows["tls_only"].0, "updated", "{rows:?}");
    assert!(rows["tls_only"].1.contains("1 other statement(s) kept"), "{rows:?}");
    assert_eq!(rows["lifecycle"].0, "updated", "{rows:?}");
    assert!(rows["lifecycle"].1.contains("after 7 days; 1 other rule(s) kept"), "{rows:?}");
    assert_eq!(statement_sids(&server).await, ["Theirs", "T3s3DenyInsecureTransport"]);
    assert_eq!(
        rule_ids(&server).await,
        [("expire-tmp".to_string(), None), ("t3s3-abort-incomplete-multipart-uploads".to_string(), Some(7))]
    );

    let again = init(&ws, &server, &["--require-tls"]);
    assert_eq!(again.code, 0, "{}", again.all());
    let report = again.json();
    assert_eq!(report["requests"]["mutating"], 0, "a converged re-run changes nothing: {report}");
    let rows = self::rows(&report);
    assert_eq!((rows["tls_only"].0.as_str(), rows["lifecycle"].0.as_str()), ("unchanged", "unchanged"));
    assert_eq!(statement_sids(&server).await.len(), 2, "no second copy of the statement");

    // moto evaluates the bucket policy: over plain HTTP, the statement refuses an upload.
    let refused = root_s3(&server)
        .put_object()
        .bucket(BUCKET)
        .key("x")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"1"))
        .send()
        .await;
    let status = refused.expect_err("plain HTTP was let through").raw_response().map(|r| r.status().as_u16());
    assert_eq!(status, Some(403));
}

#[tokio::test]
async fn on_a_plain_http_endpoint_the_statement_is_left_out_and_allow_http_keeps_it_out() {
    let server = moto(None);
    let ws = Workspace::new();
    let out = init(&ws, &server, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rows = rows(&out.json());
    assert_eq!(rows["tls_only"].0, "unchanged", "{rows:?}");
    assert!(rows["tls_only"].1.contains("is plain HTTP"), "{rows:?}");
    assert!(rows["tls_only"].1.contains("--require-tls adds it anyway"), "{rows:?}");
    assert_eq!(rows["lifecycle"].0, "created", "{rows:?}");
    let policy = root_s3(&server).get_bucket_policy().bucket(BUCKET).send().await;
    assert!(policy.is_err(), "no bucket policy was written");

    let out = init(&ws, &server, &["--allow-http"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(rows_of(&out)["tls_only"].1, "off (--allow-http)");

    // With credentials and an endpoint, so only the conflict can refuse it.
    let out = init(&ws, &server, &["--allow-http", "--require-tls"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("'--allow-http' cannot be used with '--require-tls'"), "{}", out.all());
}

fn rows_of(out: &Run) -> BTreeMap<String, (String, String)> {
    rows(&out.json())
}

#[tokio::test]
async fn doctor_warns_on_a_guide_bucket_and_names_the_prowler_checks() {
    let server = moto(None);
    let ws = Workspace::new();
    let out = init(&ws, &server, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let doctor = || {
        let mut command = ws.t3s3();
        command
            .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
            .args(["doctor", "--json"]);
        let report = run(&mut command).json();
        let checks: BTreeMap<String, serde_json::Value> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_string(), c.clone()))
            .collect();
        checks
    };
    let checks = doctor();
    let lifecycle = &checks["incomplete_uploads_aborted"];
    assert_eq!(lifecycle["status"], "PASS", "{lifecycle}");
    assert_eq!(lifecycle["prowler"], serde_json::json!(["s3_bucket_lifecycle_enabled"]));
    assert_eq!(checks["tls_only"]["prowler"], serde_json::json!(["s3_bucket_secure_transport_policy"]));
    assert_eq!(checks["default_encryption"]["prowler"], serde_json::json!(["s3_bucket_default_encryption"]));
    assert!(checks["env_mode"].get("prowler").is_none(), "a check with no prowler match names none");

    // The bucket as the guide leaves it: no lifecycle rule.
    root_s3(&server).delete_bucket_lifecycle().bucket(BUCKET).send().await.unwrap();
    let checks = doctor();
    let lifecycle = &checks["incomplete_uploads_aborted"];
    assert_eq!(lifecycle["status"], "WARN", "{lifecycle}");
    assert!(
        lifecycle["fix"].as_str().unwrap().contains("t3-chat-documents-hardening` adds rule t3s3-abort"),
        "{lifecycle}"
    );
}

/// Role credentials as CI gets them: moto's STS AssumeRole (ASIA key, secret, session token).
async fn role_credentials(server: &Server) -> (String, String, String) {
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    iam(&config).create_role().role_name("ci").assume_role_policy_document(trust).send().await.unwrap();
    let assumed = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/ci")
        .role_session_name("ci")
        .send()
        .await
        .unwrap();
    let credentials = assumed.credentials().unwrap();
    let parts = (credentials.access_key_id(), credentials.secret_access_key(), credentials.session_token());
    (parts.0.to_string(), parts.1.to_string(), parts.2.to_string())
}

#[tokio::test]
async fn verify_signs_with_the_session_token_of_role_credentials() {
    let server = moto(None);
    create_bucket(&root_s3(&server), BUCKET, APP_REGION).await;
    let (key_id, secret, token) = role_credentials(&server).await;
    assert!(key_id.starts_with("ASIA"), "{key_id}");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let proxy = fault_proxy(server.port, move |request, _| {
        record.lock().unwrap().push((request.target.clone(), request.security_token.clone()));
        Fault::Pass
    });
    let ws = Workspace::new();
    ws.write(
        ".env",
        &format!("AWS_REGION={APP_REGION}\nS3_BUCKET_NAME={BUCKET}\nAWS_ENDPOINT_URL=http://127.0.0.1:{proxy}\n"),
    );

    let verify = |token: Option<&str>| {
        let mut command = ws.t3s3();
        command.env("AWS_ACCESS_KEY_ID", &key_id).env("AWS_SECRET_ACCESS_KEY", &secret).args(["verify", "--json"]);
        if let Some(token) = token {
            command.env("AWS_SESSION_TOKEN", token);
        }
        run(&mut command)
    };
    let out = verify(Some(&token));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stdout.contains(&token), "the session token was printed");
    let report = out.json();
    let setting = report["settings"].as_array().unwrap().iter().find(|s| s["name"] == "AWS_SESSION_TOKEN").unwrap();
    assert_eq!((setting["set"].as_bool(), setting["source"]["kind"].as_str()), (Some(true), Some("environment")));
    let seen = seen.lock().unwrap().clone();
    let signed: Vec<_> = seen.iter().filter(|(target, _)| target.contains(BUCKET)).collect();
    assert!(signed.len() >= 5, "{seen:?}");
    for (target, sent) in &signed {
        // The presigned URL carries it in its query instead of a header.
        if target.contains("X-Amz-Security-Token=") {
            continue;
        }
        assert_eq!(sent.as_deref(), Some(token.as_str()), "{target} went out without the session token");
    }
    assert!(seen.iter().any(|(target, _)| target.contains("X-Amz-Security-Token=")), "presigned URL without the token");

    // An ASIA key without its token is bad input, named before any request.
    let out = verify(None);
    assert_eq!(out.code, 2, "{}", out.all());
    let environment = &out.json()["steps"][0];
    assert!(environment["cause"].as_str().unwrap().contains("starts with ASIA"), "{environment}");
    assert!(environment["cause"].as_str().unwrap().contains("AWS_SESSION_TOKEN"), "{environment}");
}

#[tokio::test]
async fn a_shell_session_token_is_not_paired_with_the_env_files_long_term_key() {
    let server = moto(None);
    create_bucket(&root_s3(&server), BUCKET, APP_REGION).await;
    let ws = Workspace::new();
    let key = Key { id: ROOT_KEY_ID.into(), secret: ROOT_SECRET.into() };
    ws.write_env(".env", &key, APP_REGION, BUCKET, &server.url());
    let out = run(ws.t3s3().env("AWS_SESSION_TOKEN", "token-of-an-sso-session").arg("verify"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("AWS_SESSION_TOKEN: set in the environment but not used"), "{}", out.stdout);

    // In the file itself, beside a long-term AKIA key, a token is a mistake AWS would refuse.
    ws.write(".env", &format!("{}AWS_SESSION_TOKEN=stray\n", ws.read(".env")));
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 2, "{}", out.all());
    let cause = out.json()["steps"][0]["cause"].as_str().unwrap().to_string();
    assert!(cause.contains("long-term AKIA key, which takes no session token"), "{cause}");
    let doctor = run(ws.t3s3().args(["doctor", "--json"])).json();
    let lint = doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "env_lint").unwrap().clone();
    assert_eq!(lint["status"], "FAIL", "{lint}");
    assert!(lint["evidence"].as_str().unwrap().contains("takes no session token"), "{lint}");
}

async fn held_policies(server: &Server, admin: &Key, user: &str) -> (Vec<String>, Vec<String>) {
    let iam = iam(&sdk_config(&server.url(), &admin.id, &admin.secret, "us-east-1"));
    let direct = iam.list_attached_user_policies().user_name(user).send().await.unwrap();
    let direct = direct.attached_policies().iter().map(|p| p.policy_name().unwrap().to_string()).collect();
    let mut via_groups = Vec::new();
    for group in iam.list_groups_for_user().user_name(user).send().await.unwrap().groups() {
        let held = iam.list_attached_group_policies().group_name(group.group_name()).send().await.unwrap();
        via_groups.extend(
            held.attached_policies().iter().map(|p| format!("{} via {}", p.policy_name().unwrap(), group.group_name())),
        );
    }
    (direct, via_groups)
}

#[tokio::test]
async fn a_fresh_init_puts_the_policy_on_the_group_and_the_user_in_it() {
    let server = moto(None);
    let ws = Workspace::new();
    let out = init(&ws, &server, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rows = rows(&out.json());
    for resource in ["group", "attachment", "membership"] {
        assert_eq!(rows[resource].0, "created", "{resource}: {rows:?}");
    }
    assert!(!rows.contains_key("direct_attachment"), "{rows:?}");
    assert_eq!(
        held_policies(&server, &root_key(), "t3_chat").await,
        (vec![], vec!["T3ChatS3Policy via t3-chat-s3".to_string()])
    );

    let out = init(&ws, &server, &["--group", "backend-s3"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        rows_of(&out)["group"],
        ("created".to_string(), "holds T3ChatS3Policy; the user gets it as a member".to_string())
    );
}

/// The guide's setup migrated under IAM enforcement: the key works before, the policy moves
/// to the group, the key works after, and a re-run changes nothing.
#[tokio::test]
async fn the_guides_direct_attachment_moves_to_the_group_and_the_key_keeps_working() {
    let (server, admin) = enforcing_moto().await;
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, APP_REGION);
    create_bucket(&s3(&config), BUCKET, APP_REGION).await;
    let document: serde_json::Value =
        serde_json::from_str(&t3s3::policy::render(&t3s3::bucket_name::BucketName::new(BUCKET).unwrap()).unwrap())
            .unwrap();
    let app = app_user_with_policy(&iam(&config), &document).await;
    let ws = Workspace::new();
    ws.write_env(".env", &app, APP_REGION, BUCKET, &server.url());
    // moto answers presigned GETs with 500 under enforcement, so `verify` cannot pass here:
    // the key is tried with the backend's own calls instead.
    let key_works = || async {
        let app_s3 = s3(&sdk_config(&server.url(), &app.id, &app.secret, APP_REGION));
        let body = aws_sdk_s3::primitives::ByteStream::from_static(b"doc");
        let put = app_s3.put_object().bucket(BUCKET).key("u/c/d/f.pdf").body(body).send().await;
        let get = app_s3.get_object().bucket(BUCKET).key("u/c/d/f.pdf").send().await;
        let list = app_s3.list_objects_v2().bucket(BUCKET).send().await;
        let delete = app_s3.delete_object().bucket(BUCKET).key("u/c/d/f.pdf").send().await;
        put.is_ok() && get.is_ok() && list.is_ok() && delete.is_ok()
    };
    let admin_cmd = |args: &[&str]| {
        let mut command = ws.t3s3();
        command
            .env("AWS_ACCESS_KEY_ID", &admin.id)
            .env("AWS_SECRET_ACCESS_KEY", &admin.secret)
            .args(["--endpoint-url", &server.url(), "--region", APP_REGION])
            .args(args);
        run(&mut command)
    };
    assert!(key_works().await, "the guide's setup works before");
    let doctor = admin_cmd(&["doctor", "--json"]).json();
    let via_group =
        doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "policy_via_group").unwrap().clone();
    assert_eq!(via_group["status"], "WARN", "{via_group}");
    assert_eq!(via_group["prowler"], serde_json::json!(["iam_policy_attached_only_to_group_or_roles"]));

    let out = admin_cmd(&["init", "--json", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let rows = rows(&out.json());
    assert_eq!(rows["direct_attachment"].0, "updated", "{rows:?}");
    assert!(rows["direct_attachment"].1.contains("the key was checked first"), "{rows:?}");
    assert_eq!(rows["access_key"].0, "unchanged", "the .env's key is kept");
    assert_eq!(
        held_policies(&server, &admin, "t3_chat").await,
        (vec![], vec!["T3ChatS3Policy via t3-chat-s3".to_string()])
    );
    assert!(key_works().await, "the key works through the group");

    let again = admin_cmd(&["init", "--json", "--no-verify"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(again.json()["requests"]["mutating"], 0, "{}", again.stdout);
    let doctor = admin_cmd(&["doctor", "--json"]).json();
    let via_group =
        doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "policy_via_group").unwrap().clone();
    assert_eq!(via_group["status"], "PASS", "{via_group}");
    let drift = doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "policy_drift").unwrap().clone();
    assert_eq!(drift["status"], "PASS", "the policy held through the group is the one compared: {drift}");
}

const DERIVED: &str = "t3-chat-documents-123456789012-ap-south-1-an";

/// init with no bucket named, through a proxy that records CreateBucket's namespace header
/// and answers it with `refuse` when given.
fn init_default(ws: &Workspace, proxy: u16, region: &str, extra: &[&str]) -> Run {
    let mut command = ws.t3s3();
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &format!("http://127.0.0.1:{proxy}"), "--region", region, "init", "--json"])
        .args(["--create-user", "--no-verify"])
        .args(extra);
    run(&mut command)
}

type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn namespace_proxy(server: &Server, refuse: bool) -> (u16, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let port = fault_proxy(server.port, move |request, _| {
        // CreateBucket, path style: `PUT /BUCKET/` with no sub-resource.
        let creates =
            request.method == "PUT" && request.target.matches('/').count() == 2 && request.target.ends_with('/');
        if !creates {
            return Fault::Pass;
        }
        let namespace = request.header("x-amz-bucket-namespace").map(str::to_string);
        record.lock().unwrap().push((request.target.clone(), namespace.clone()));
        match (refuse, namespace) {
            (true, Some(_)) => Fault::Answer(
                400,
                "<Error><Code>InvalidArgument</Code><Message>Unsupported header 'x-amz-bucket-namespace' received for this API call.</Message></Error>",
            ),
            _ => Fault::Pass,
        }
    });
    (port, seen)
}

#[tokio::test]
async fn the_default_bucket_is_in_the_account_regional_namespace_and_every_machine_derives_it() {
    let server = moto(None);
    let (proxy, seen) = namespace_proxy(&server, false);
    let ws = Workspace::new();
    let plan = init_default(&ws, proxy, APP_REGION, &["--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(plan.json()["bucket"], DERIVED, "the dry run names the bucket the real run creates");

    let out = init_default(&ws, proxy, APP_REGION, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_eq!((report["bucket"].as_str(), report["naming"].as_str()), (Some(DERIVED), Some("account_regional")));
    assert_eq!(*seen.lock().unwrap(), [(format!("/{DERIVED}/"), Some("account-regional".to_string()))]);
    assert!(ws.read(".env").contains(&format!("S3_BUCKET_NAME={DERIVED}\n")));
    let doctor = run(ws.t3s3().args(["doctor", "--json"])).json();
    let namespace =
        doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "bucket_namespace").unwrap().clone();
    assert_eq!(namespace["status"], "PASS", "{namespace}");

    // A second machine, with no .env yet, lands on the same bucket.
    let other = Workspace::new();
    let out = init_default(&other, proxy, APP_REGION, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["bucket"], DERIVED);
    assert_eq!(rows_of(&out)["bucket"].0, "unchanged");
    assert_eq!(seen.lock().unwrap().len(), 1, "no second CreateBucket");
}

#[tokio::test]
async fn a_global_name_with_the_flag_in_regions_without_the_namespace_and_when_the_endpoint_refuses_it() {
    let server = moto(None);
    let (proxy, seen) = namespace_proxy(&server, false);
    let ws = Workspace::new();
    let out = init_default(&ws, proxy, APP_REGION, &["--global-namespace"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert!(report["bucket"].as_str().unwrap().starts_with("t3-chat-documents-"), "{report}");
    assert!(!report["bucket"].as_str().unwrap().ends_with("-an"), "{report}");
    assert_eq!(report["naming"]["global"], "--global-namespace");
    assert_eq!(seen.lock().unwrap()[0].1, None, "no namespace header for a global name");

    let bahrain = Workspace::new();
    let out = init_default(&bahrain, proxy, "me-south-1", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["naming"]["global"], "AWS offers no account regional namespace in me-south-1");

    // An endpoint that does not know the header: the run falls back, says so, and converges
    // on one bucket and one key.
    let server = moto(None);
    let (proxy, seen) = namespace_proxy(&server, true);
    let ws = Workspace::new();
    let out = init_default(&ws, proxy, APP_REGION, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    let bucket = report["bucket"].as_str().unwrap().to_string();
    assert!(!bucket.ends_with("-an"), "{report}");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("the endpoint refused the account regional namespace (InvalidArgument)"), "{warnings}");
    let tries: Vec<Option<String>> = seen.lock().unwrap().iter().map(|(_, ns)| ns.clone()).collect();
    assert_eq!(tries, [Some("account-regional".to_string()), None]);
    assert!(ws.read(".env").contains(&format!("S3_BUCKET_NAME={bucket}\n")));
    let iam = iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"));
    let keys = iam.list_access_keys().user_name("t3_chat").send().await.unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1, "one key after the fallback");
    let buckets = root_s3(&server).list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 1);
    let again = init_default(&ws, proxy, APP_REGION, &[]);
    assert_eq!(again.json()["requests"]["mutating"], 0, "{}", again.stdout);
}

#[tokio::test]
async fn a_name_in_another_accounts_namespace_or_malformed_is_refused_before_any_change() {
    let server = moto(None);
    let ws = Workspace::new();
    let out = init(&ws, &server, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let mut command = ws.t3s3();
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &server.url(), "--region", APP_REGION, "init", "--create-user", "--no-verify"])
        .args(["--bucket", "t3-chat-documents-210987654321-ap-south-1-an"]);
    let out = run(&mut command);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("account regional namespace of account 210987654321"), "{}", out.stderr);
    let buckets = root_s3(&server).list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 1, "nothing was created");

    let out = run(ws.t3s3().args(["policy", "--bucket", "t3-chat-documents-an"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("reserves for account regional namespaces"), "{}", out.stderr);
    let out = run(ws.t3s3().args(["policy", "--bucket", DERIVED]));
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_refused_connection_names_the_endpoint_and_doctor_without_credentials_stays_short() {
    let port = free_port(); // nothing listens there
    let ws = Workspace::new();
    let endpoint = format!("http://127.0.0.1:{port}");
    // Whatever --timeout is: retries of a refused connection that outlast it are still a
    // refused connection (exit 2), not an unexpected timeout (exit 3).
    for timeout in [None, Some("1")] {
        let mut command = ws.t3s3();
        command
            .env("AWS_ACCESS_KEY_ID", "AKIA2OGYBAH6TQ4XLGMK")
            .env("AWS_SECRET_ACCESS_KEY", "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")
            .args(timeout.map(|t| ["--timeout", t]).into_iter().flatten())
            .args(["--region", "ap-south-1", "--endpoint-url", &endpoint, "init", "--bucket", "t3-chat-x"]);
        let out = run(&mut command);
        assert_eq!(out.code, 2, "--timeout {timeout:?}: {}", out.all());
        assert!(out.stderr.contains(&format!("cannot reach {endpoint}: connection refused")), "{}", out.stderr);
        assert!(!out.stderr.contains("dispatch failure"), "{}", out.stderr);
    }

    // No administrator credentials anywhere: the checks that need them say so in one line
    // each, and a network error is not blamed on the key.
    let key = Key { id: "AKIA2OGYBAH6TQ4XLGMK".into(), secret: "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".into() };
    ws.write_env(".env", &key, "ap-south-1", "t3-chat-x", &endpoint);
    let out = run(ws.t3s3().arg("doctor"));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.stdout.contains("Attempted:"), "the credential chain is dumped:\n{}", out.stdout);
    assert!(out.stdout.lines().count() < 50, "{} lines:\n{}", out.stdout.lines().count(), out.stdout);
    let identity =
        out.stdout.lines().skip_while(|l| !l.contains("app_identity")).take(2).collect::<Vec<_>>().join("\n");
    assert!(identity.contains("cannot reach") && !identity.contains("rotate-key"), "{identity}");
    assert!(out.stdout.contains("needs an administrator's credentials, and none were found"), "{}", out.stdout);
}
