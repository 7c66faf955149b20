//! `t3s3 verify` against real servers: moto (with and without IAM enforcement), s3s-fs,
//! and loopback stand-ins for what moto cannot emulate (wrong region, dead endpoints).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-test";

fn step<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no step {name}"))
}

fn statuses(report: &serde_json::Value) -> Vec<String> {
    report["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn passes_end_to_end_against_moto_and_leaves_nothing_behind() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = Workspace::new();
    ws.write_env("backend/.env", &root_key(), APP_REGION, BUCKET, &server.url());

    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 0, "{}", out.all());
    for heading in [
        "1. Checking environment variables...",
        "2. Testing S3 connection...",
        "3. Testing file upload...",
        "4. Testing file download...",
        "5. Testing presigned URL generation...",
        "6. Testing file deletion...",
        "7. Verifying file was deleted...",
        "✓ ALL TESTS PASSED! S3 is configured correctly.",
    ] {
        assert!(out.stdout.contains(heading), "missing {heading:?}:\n{}", out.stdout);
    }
    assert!(out.stdout.contains("AWS_SECRET_ACCESS_KEY: ✓ SET (backend/.env line 3)"), "{}", out.stdout);
    assert!(!out.all().contains(ROOT_SECRET), "the secret was printed");

    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION);
    let listed = s3(&config).list_objects_v2().bucket(BUCKET).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "the test object was left behind");
}

#[tokio::test]
async fn json_report_has_every_step_with_status_and_time() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = Workspace::new();
    ws.write_env(".env", &root_key(), APP_REGION, BUCKET, &server.url());
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_eq!(report["ok"], true);
    let names: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["environment", "connection", "upload", "download", "presigned_url", "delete", "confirm_deletion"]
    );
    assert!(statuses(&report).iter().all(|s| s == "passed"));
    assert!(report["steps"].as_array().unwrap().iter().all(|s| s["duration_ms"].is_u64()));
    assert!(!out.stdout.contains(ROOT_SECRET));
}

#[tokio::test]
async fn two_runs_at_once_do_not_collide() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = Workspace::new();
    ws.write_env(".env", &root_key(), APP_REGION, BUCKET, &server.url());
    // All three started before any is waited for: they run at the same time.
    let started: Vec<_> = (0..3)
        .map(|_| {
            let mut command = ws.t3s3();
            command.args(["verify", "--json"]).stdout(std::process::Stdio::piped());
            command.stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let children: Vec<_> = started.into_iter().map(|child| child.wait_with_output().unwrap()).collect();
    let keys: std::collections::BTreeSet<String> = children
        .iter()
        .map(|child| {
            assert_eq!(child.status.code(), Some(0), "{}", String::from_utf8_lossy(&child.stdout));
            let report: serde_json::Value = serde_json::from_slice(&child.stdout).unwrap();
            report["key"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(keys.len(), 3, "each run must use its own object key");
}

#[tokio::test]
async fn missing_bucket_is_diagnosed_as_no_such_bucket() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write_env("backend/.env", &root_key(), APP_REGION, "t3-chat-documents-typo", &server.url());
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    let connection = step(&report, "connection");
    assert_eq!(connection["status"], "failed");
    assert!(connection["error"].as_str().unwrap().starts_with("NoSuchBucket"), "{connection}");
    assert!(connection["fix"].as_str().unwrap().contains("S3_BUCKET_NAME in backend/.env"), "{connection}");
    assert_eq!(statuses(&report)[2..], ["skipped"; 5]);
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let (server, admin) = enforcing_moto().await;
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, APP_REGION);
    create_bucket(&s3(&config), BUCKET, APP_REGION).await;
    let mut key = admin.clone();
    // The last character changed, whatever it was: always replacing it with 'X' left the
    // secret right whenever moto's random secret already ended in 'X'.
    let other = if admin.secret.ends_with('X') { 'Y' } else { 'X' };
    key.secret = format!("{}{other}", &admin.secret[..39]);
    assert_ne!(key.secret, admin.secret);
    let ws = Workspace::new();
    ws.write_env("backend/.env", &key, APP_REGION, BUCKET, &server.url());
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("Error: SignatureDoesNotMatch"), "{}", out.stdout);
    assert!(out.stdout.contains("Update AWS_SECRET_ACCESS_KEY in backend/.env"), "{}", out.stdout);
    assert!(!out.all().contains(&key.secret));
}

#[tokio::test]
async fn unknown_key_id_is_invalid_access_key_id() {
    let (server, admin) = enforcing_moto().await;
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, APP_REGION);
    create_bucket(&s3(&config), BUCKET, APP_REGION).await;
    let key = Key { id: "AKIAAAAAAAAAAAAAAAAA".into(), secret: admin.secret.clone() };
    let ws = Workspace::new();
    ws.write_env(".env", &key, APP_REGION, BUCKET, &server.url());
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let connection = step(&out.json(), "connection").clone();
    assert!(connection["error"].as_str().unwrap().starts_with("InvalidAccessKeyId"), "{connection}");
    assert!(connection["cause"].as_str().unwrap().contains("AKIAAAAAAAAAAAAAAAAA"), "{connection}");
}

#[tokio::test]
async fn a_policy_missing_get_object_fails_at_download_and_cleans_up() {
    let (server, admin) = enforcing_moto().await;
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, APP_REGION);
    let admin_s3 = s3(&config);
    create_bucket(&admin_s3, BUCKET, APP_REGION).await;
    let iam = iam(&config);
    let mut document: serde_json::Value =
        serde_json::from_str(&t3s3::policy::render(&t3s3::bucket_name::BucketName::new(BUCKET).unwrap()).unwrap())
            .unwrap();
    document["Statement"][0]["Action"].as_array_mut().unwrap().retain(|a| a != "s3:GetObject");
    assert!(!document.to_string().contains("s3:GetObject"));
    let app = app_user_with_policy(&iam, &document).await;

    let ws = Workspace::new();
    ws.write_env("backend/.env", &app, APP_REGION, BUCKET, &server.url());
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(statuses(&report), ["passed", "passed", "passed", "failed", "skipped", "skipped", "skipped"]);
    let download = step(&report, "download");
    assert!(download["error"].as_str().unwrap().starts_with("AccessDenied"), "{download}");
    assert!(download["cause"].as_str().unwrap().contains("s3:GetObject"), "{download}");
    assert!(download["fix"].as_str().unwrap().contains("T3ChatS3Policy"), "{download}");
    assert_eq!(report["cleanup"]["deleted"], true, "{report}");
    let listed = admin_s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "the test object was left behind");
}

#[test]
fn no_env_file_names_the_paths_tried_and_exits_2() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("AWS_ACCESS_KEY_ID: ✗ MISSING"), "{}", out.stdout);
    assert!(out.stdout.contains("NoCredentials"), "{}", out.stdout);
    assert!(out.stdout.contains(".env, backend/.env"), "{}", out.stdout);
}

#[test]
fn an_env_file_given_but_absent_is_bad_input() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().args(["verify", "--env-file", "nowhere/.env"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("nowhere/.env does not exist"), "{}", out.stderr);
}

#[test]
fn missing_variables_are_listed_and_the_environment_counts() {
    let ws = Workspace::new();
    ws.write("backend/.env", "# AWS S3 Configuration\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_REGION=us-east-1\n");
    let out = run(ws.t3s3().args(["verify", "--json"]).env("S3_BUCKET_NAME", BUCKET));
    assert_eq!(out.code, 2, "{}", out.all());
    let report = out.json();
    let environment = step(&report, "environment");
    assert_eq!(environment["error"], "NoCredentials: missing AWS_SECRET_ACCESS_KEY");
    let bucket = report["settings"].as_array().unwrap().iter().find(|s| s["name"] == "S3_BUCKET_NAME").unwrap();
    assert_eq!(bucket["source"]["kind"], "environment");
}

#[tokio::test]
async fn spaces_around_equals_read_as_python_dotenv_reads_them_with_a_warning() {
    let server = moto_with_bucket("t3-chat-documents-test", "us-east-1").await;
    let ws = Workspace::new();
    ws.write(
        "backend/.env",
        &format!("# AWS S3 Configuration\nAWS_ACCESS_KEY_ID = AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nAWS_REGION=us-east-1\nS3_BUCKET_NAME=t3-chat-documents-test\nAWS_ENDPOINT_URL={}\n", server.url()),
    );
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 0, "python-dotenv reads these lines, so the backend does: {}", out.all());
    assert!(out.stdout.contains("backend/.env line 3: spaces around '=': python-dotenv reads it"), "{}", out.stdout);
    assert!(!out.stdout.contains("wJalrXUtnFEMI"), "the secret was printed");
}

#[test]
fn a_truncated_secret_and_stray_quote_are_caught_before_any_request() {
    let ws = Workspace::new();
    ws.write(
        ".env",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\nAWS_REGION=us-east-1\nS3_BUCKET_NAME=t3-chat-documents-test\"\n",
    );
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 2, "{}", out.all());
    let lint = out.json()["lint"].clone();
    let lines: Vec<u64> = lint.as_array().unwrap().iter().map(|i| i["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 4], "{lint}");
}

#[test]
fn unreachable_endpoint_is_named_and_fails_fast() {
    let ws = Workspace::new();
    let dead = format!("http://127.0.0.1:{}", free_port());
    ws.write_env(".env", &root_key(), APP_REGION, BUCKET, &dead);
    let started = Instant::now();
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert_eq!(out.code, 1, "{}", out.all());
    let connection = step(&out.json(), "connection").clone();
    assert!(connection["error"].as_str().unwrap().starts_with("EndpointUnreachable"), "{connection}");
    assert!(connection["cause"].as_str().unwrap().contains(&dead), "{connection}");
}

#[test]
fn an_endpoint_that_never_answers_times_out_within_the_limit() {
    let ws = Workspace::new();
    let silent = format!("http://127.0.0.1:{}", silent_server());
    ws.write_env(".env", &root_key(), APP_REGION, BUCKET, &silent);
    let started = Instant::now();
    let out = run(ws.t3s3().args(["verify", "--json", "--timeout", "1"]));
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert_eq!(out.code, 1, "{}", out.all());
    let connection = step(&out.json(), "connection").clone();
    assert!(connection["error"].as_str().unwrap().starts_with("Timeout"), "{connection}");
}

#[test]
fn a_301_permanent_redirect_names_the_buckets_real_region() {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>{BUCKET}.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>{BUCKET}</Bucket></Error>"
    );
    let port = canned_server("301 Moved Permanently", vec![("x-amz-bucket-region", "eu-west-1".into())], body);
    let ws = Workspace::new();
    ws.write_env("backend/.env", &root_key(), APP_REGION, BUCKET, &format!("http://127.0.0.1:{port}"));
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("is in eu-west-1, but AWS_REGION is ap-south-1"), "{}", out.stdout);
    assert!(out.stdout.contains("Set AWS_REGION=eu-west-1 in backend/.env line 4"), "{}", out.stdout);
}

#[test]
fn a_400_authorization_header_malformed_names_the_expected_region() {
    let body = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'ap-south-1' is wrong; expecting 'us-west-2'</Message><Region>us-west-2</Region></Error>".to_string();
    let port = canned_server("400 Bad Request", vec![], body);
    let ws = Workspace::new();
    ws.write_env(".env", &root_key(), APP_REGION, BUCKET, &format!("http://127.0.0.1:{port}"));
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let connection = step(&out.json(), "connection").clone();
    assert!(connection["error"].as_str().unwrap().starts_with("AuthorizationHeaderMalformed"), "{connection}");
    assert!(connection["fix"].as_str().unwrap().contains("AWS_REGION=us-west-2 in .env line 4"), "{connection}");
}

#[tokio::test]
async fn a_bucket_in_another_region_is_caught_by_its_location() {
    let server = moto_with_bucket(BUCKET, "eu-west-1").await;
    let ws = Workspace::new();
    ws.write_env("backend/.env", &root_key(), APP_REGION, BUCKET, &server.url());
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("Set AWS_REGION=eu-west-1 in backend/.env line 4"), "{}", out.stdout);
}

#[tokio::test]
async fn passes_against_a_server_that_verifies_presigned_signatures() {
    let server = s3s_fs(ROOT_KEY_ID, ROOT_SECRET);
    std::fs::create_dir(server.root().join(BUCKET)).unwrap();
    let ws = Workspace::new();
    ws.write_env(".env", &root_key(), "us-east-1", BUCKET, &server.url());
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("Fetched over HTTP: content matches."), "{}", out.stdout);
}

#[tokio::test]
async fn a_presigned_url_changed_on_its_way_fails_step_5() {
    let server = s3s_fs(ROOT_KEY_ID, ROOT_SECRET);
    std::fs::create_dir(server.root().join(BUCKET)).unwrap();
    let (proxy, tampered) = tampering_proxy(server.port);
    let ws = Workspace::new();
    ws.write_env(".env", &root_key(), "us-east-1", BUCKET, &format!("http://127.0.0.1:{proxy}"));
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert!(tampered.load(Ordering::SeqCst), "the proxy never saw a presigned request");
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(statuses(&report), ["passed", "passed", "passed", "passed", "failed", "skipped", "skipped"]);
    let presign = step(&report, "presigned_url");
    assert!(presign["cause"].as_str().unwrap().contains("refused the presigned URL"), "{presign}");
    assert_eq!(report["cleanup"]["deleted"], true, "{report}");
    let left: Vec<_> = walk(&server.root().join(BUCKET));
    assert!(left.iter().all(|p| !p.ends_with("test_file.txt")), "left behind: {left:?}");
}

#[test]
fn a_wrong_signature_against_s3s_fs_is_signature_does_not_match() {
    let server = s3s_fs(ROOT_KEY_ID, ROOT_SECRET);
    std::fs::create_dir(server.root().join(BUCKET)).unwrap();
    let ws = Workspace::new();
    let key = Key { id: ROOT_KEY_ID.into(), secret: ROOT_SECRET.replace('w', "W") };
    ws.write_env(".env", &key, "us-east-1", BUCKET, &server.url());
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let connection = step(&out.json(), "connection").clone();
    assert!(connection["error"].as_str().unwrap().starts_with("SignatureDoesNotMatch"), "{connection}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_skewed_clock_is_named_as_the_cause() {
    let body = "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds></Error>".to_string();
    let port = canned_server("403 Forbidden", vec![], body);
    let ws = Workspace::new();
    ws.write_env(".env", &root_key(), APP_REGION, BUCKET, &format!("http://127.0.0.1:{port}"));
    let out = run(ws.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let connection = step(&out.json(), "connection").clone();
    assert!(connection["error"].as_str().unwrap().starts_with("RequestTimeTooSkewed"), "{connection}");
    assert!(connection["cause"].as_str().unwrap().contains("clock"), "{connection}");
}
