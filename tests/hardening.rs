//! Issue 9, beyond the guide: the TLS-only bucket-policy statement and the lifecycle rule
//! that aborts incomplete multipart uploads, merged with what a bucket already has, and
//! doctor's matching checks with their prowler ids. Against moto on 127.0.0.1.

mod common;

use std::collections::BTreeMap;

use common::*;

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

    let out = run(ws.t3s3().args(["init", "--allow-http", "--require-tls"]));
    assert_eq!(out.code, 2, "{}", out.all());
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
