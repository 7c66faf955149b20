//! Faults between t3s3 and AWS. A loopback proxy in front of moto answers 500 and
//! 503 SlowDown, resets connections before and after the body was sent, truncates answers,
//! sends junk, and adds latency; verify and init must end cleanly every time: the right exit
//! code, a message naming what failed, nothing lost, nothing left behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-faults";
const SLOW_DOWN: &str = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
const INTERNAL: &str =
    "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>";
const IAM_INTERNAL: &str = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>Request processing has failed because of an unknown error.</Message></Error><RequestId>r</RequestId></ErrorResponse>";

/// `t3s3 verify --json` with the backend's .env pointing at the proxy.
fn verify_through(proxy: u16, extra: &[&str]) -> (Run, Workspace) {
    let ws = Workspace::new();
    ws.write_env(".env", &root_key(), APP_REGION, BUCKET, &format!("http://127.0.0.1:{proxy}"));
    let out = run(ws.t3s3().args(extra).args(["verify", "--json"]));
    (out, ws)
}

fn step(report: &serde_json::Value, name: &str) -> serde_json::Value {
    report["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone()
}

async fn objects(server: &Server) -> Vec<String> {
    let client = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    let listed = client.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    listed.contents().iter().map(|o| o.key().unwrap().to_string()).collect()
}

/// The test object's PUT (not a bucket-level request).
fn object_put(request: &ProxiedRequest) -> bool {
    request.is("PUT", "/test_user/")
}

#[tokio::test]
async fn two_slow_downs_are_retried_and_verify_passes() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let proxy = fault_proxy(server.port, move |request, _| {
        if request.is("GET", "?location") && counter.fetch_add(1, Ordering::SeqCst) < 2 {
            Fault::Answer(503, SLOW_DOWN)
        } else {
            Fault::Pass
        }
    });
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(seen.load(Ordering::SeqCst), 3, "two SlowDown answers, then the one that passed");
}

#[tokio::test]
async fn an_upload_that_always_fails_names_the_error_and_leaves_nothing() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let proxy = fault_proxy(
        server.port,
        |request, _| if object_put(request) { Fault::Answer(500, INTERNAL) } else { Fault::Pass },
    );
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert!(step(&report, "upload")["error"].as_str().unwrap().starts_with("InternalError"), "{report}");
    assert_eq!(report["cleanup"]["deleted"], true, "{report}");
    assert_eq!(objects(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_upload_whose_answer_is_lost_is_cleaned_up_at_the_end() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let proxy =
        fault_proxy(server.port, |request, _| if object_put(request) { Fault::ResetAfter } else { Fault::Pass });
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(step(&report, "upload")["status"], "failed", "{report}");
    assert_eq!(report["cleanup"]["deleted"], true, "{report}");
    assert_eq!(report["cleanup"]["key"], report["key"], "{report}");
    assert_eq!(objects(&server).await, Vec::<String>::new(), "the stored object was deleted");
}

#[tokio::test]
async fn a_delete_that_keeps_failing_names_the_object_left_and_how_to_delete_it() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let proxy =
        fault_proxy(
            server.port,
            |request, _| if request.method == "DELETE" { Fault::Answer(500, INTERNAL) } else { Fault::Pass },
        );
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(step(&report, "delete")["status"], "failed", "{report}");
    let key = report["key"].as_str().unwrap();
    assert_eq!(report["cleanup"]["deleted"], false, "{report}");
    let command = report["cleanup"]["command"].as_str().unwrap();
    assert!(
        command.contains(&format!("--bucket {BUCKET} --key {key}")) && command.contains("--endpoint-url"),
        "{command}"
    );
    assert_eq!(objects(&server).await, vec![key.to_string()], "the object really is still there");
    let text = run(_ws.t3s3().arg("verify"));
    assert!(text.stdout.contains("Delete it with: aws s3api delete-object"), "{}", text.stdout);
}

#[tokio::test]
async fn a_junk_answer_is_named_unreadable_with_the_endpoint_and_action() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let proxy = fault_proxy(server.port, |request, _| {
        if request.is("GET", "?location") { Fault::Answer(200, "<<<this is not XML") } else { Fault::Pass }
    });
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let error = step(&out.json(), "connection")["error"].as_str().unwrap().to_string();
    assert!(
        error.contains(&format!("unreadable answer from http://127.0.0.1:{proxy} to s3:GetBucketLocation")),
        "{error}"
    );
    assert!(!error.contains("HTTP 200: HTTP 200"), "{error}");
}

#[tokio::test]
async fn a_truncated_download_fails_step_4_and_cleans_up() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let proxy = fault_proxy(
        server.port,
        |request, _| if request.is("GET", "/test_user/") { Fault::Truncated } else { Fault::Pass },
    );
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(step(&report, "download")["status"], "failed", "{report}");
    assert_eq!(report["cleanup"]["deleted"], true, "{report}");
    assert_eq!(objects(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn connections_reset_before_any_answer_fail_step_2_naming_the_endpoint() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let proxy = fault_proxy(server.port, |_, _| Fault::ResetBefore);
    let started = Instant::now();
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let connection = step(&out.json(), "connection");
    assert_eq!(connection["status"], "failed");
    assert!(connection["cause"].as_str().unwrap().contains(&format!("127.0.0.1:{proxy}")), "{connection}");
    assert!(started.elapsed() < Duration::from_secs(15), "gave up in time: {:?}", started.elapsed());
}

#[tokio::test]
async fn latency_on_every_request_still_passes() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let proxy = fault_proxy(server.port, |_, _| Fault::Delay(Duration::from_millis(150)));
    let (out, _ws) = verify_through(proxy, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[tokio::test]
async fn timeout_bounds_a_step_retries_included() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    // Every answer would take a minute; with --timeout 1 the run ends long before the first
    // one could arrive, however loaded the machine (a bound relative to the delay, not a
    // speed target: those live in bench/).
    let delay = Duration::from_secs(60);
    let proxy = fault_proxy(server.port, move |_, _| Fault::Delay(delay));
    let started = Instant::now();
    let (out, _ws) = verify_through(proxy, &["--timeout", "1"]);
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(step(&out.json(), "connection")["error"].as_str().unwrap().split(':').next(), Some("Timeout"));
    // One step of one second, retries included, then the run stops: 10 s leaves room for a
    // loaded machine and still fails a timeout applied per attempt or ignored.
    assert!(took < Duration::from_secs(10), "--timeout 1 bounds the step: took {took:?}");
}

/// `t3s3 init --json` as moto's root, through the proxy.
fn init_through(ws: &Workspace, proxy: u16, extra: &[&str]) -> Run {
    run(ws
        .t3s3()
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &format!("http://127.0.0.1:{proxy}"), "--region", APP_REGION, "init", "--json"])
        .args(["--bucket", BUCKET, "--create-user", "--no-verify"])
        .args(extra))
}

async fn key_count(server: &Server, user: &str) -> usize {
    let iam = iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"));
    iam.list_access_keys().user_name(user).send().await.unwrap().access_key_metadata().len()
}

#[tokio::test]
async fn init_failing_at_create_policy_exits_4_and_converges_after() {
    let server = moto(None);
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = fail.clone();
    let proxy = fault_proxy(server.port, move |request, _| {
        if flag.load(Ordering::SeqCst) && request.action.as_deref() == Some("CreatePolicy") {
            Fault::Answer(500, IAM_INTERNAL)
        } else {
            Fault::Pass
        }
    });
    let ws = Workspace::new();
    let out = init_through(&ws, proxy, &[]);
    assert_eq!(out.code, 4, "{}", out.all());
    let report = out.json();
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("iam:CreatePolicy on policy `T3ChatS3Policy` failed: ServiceFailure"),
        "{report}"
    );
    assert!(report["changed"].to_string().contains("bucket `t3-chat-documents-faults` created"), "{report}");
    fail.store(false, Ordering::SeqCst);
    let again = init_through(&ws, proxy, &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(key_count(&server, "t3_chat").await, 1);
}

#[tokio::test]
async fn init_with_a_junk_caller_identity_changes_nothing() {
    let server = moto(None);
    let proxy = fault_proxy(server.port, |request, _| {
        if request.action.as_deref() == Some("GetCallerIdentity") {
            Fault::Answer(200, "junk, not XML")
        } else {
            Fault::Pass
        }
    });
    let ws = Workspace::new();
    let out = init_through(&ws, proxy, &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.json()["error"].as_str().unwrap().contains("unreadable answer to sts:GetCallerIdentity"),
        "{}",
        out.stdout
    );
    assert!(!ws.path().join(".env").exists());
    let client = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    assert!(client.list_buckets().send().await.unwrap().buckets().is_empty(), "nothing was created");
}

#[tokio::test]
async fn a_key_whose_answer_was_lost_is_found_and_deleted_only_with_consent() {
    let server = moto(None);
    let lose = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = lose.clone();
    let proxy = fault_proxy(server.port, move |request, _| {
        if flag.load(Ordering::SeqCst) && request.action.as_deref() == Some("CreateAccessKey") {
            Fault::ResetAfter
        } else {
            Fault::Pass
        }
    });
    let ws = Workspace::new();
    let out = init_through(&ws, proxy, &[]);
    assert_eq!(out.code, 4, "a failure after changes (the bucket, the user): {}", out.all());
    assert_eq!(key_count(&server, "t3_chat").await, 1, "CreateAccessKey is not retried: one key, its answer lost");
    lose.store(false, Ordering::SeqCst);

    let refused = init_through(&ws, proxy, &[]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(
        refused.json()["error"].as_str().unwrap().contains("interrupted t3s3 run created and never wrote"),
        "{}",
        refused.stdout
    );
    assert_eq!(key_count(&server, "t3_chat").await, 1, "nothing deleted without consent");
    // At a terminal init asks; "n" deletes nothing.
    let mut command = ws.t3s3();
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &format!("http://127.0.0.1:{proxy}"), "--region", APP_REGION, "init"])
        .args(["--bucket", BUCKET, "--create-user", "--no-verify"]);
    let declined = on_terminal(&command, &["n"]);
    assert_eq!(declined.code, 2, "{}", declined.stdout);
    assert!(declined.stdout.contains("Delete them (nobody holds their secret)? [y/N]"), "{}", declined.stdout);
    assert_eq!(key_count(&server, "t3_chat").await, 1, "nothing deleted after no");

    let converged = init_through(&ws, proxy, &["--yes"]);
    assert_eq!(converged.code, 0, "{}", converged.all());
    assert_eq!(key_count(&server, "t3_chat").await, 1, "the lost key went, one new key came");
    let env = dotenvy::from_path_iter(ws.path().join(".env"))
        .unwrap()
        .map(Result::unwrap)
        .collect::<std::collections::BTreeMap<_, _>>();
    let iam = iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"));
    let keys = iam.list_access_keys().user_name("t3_chat").send().await.unwrap();
    assert_eq!(keys.access_key_metadata()[0].access_key_id(), Some(env["AWS_ACCESS_KEY_ID"].as_str()));
}

#[tokio::test]
async fn init_rides_out_slow_downs_and_latency() {
    let server = moto(None);
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let proxy = fault_proxy(server.port, move |request, _| {
        // CreateBucket, path style: `PUT /BUCKET/` with no sub-resource.
        let create_bucket = request.method == "PUT" && request.target == format!("/{BUCKET}/");
        if create_bucket && counter.fetch_add(1, Ordering::SeqCst) < 2 {
            Fault::Answer(503, SLOW_DOWN)
        } else {
            Fault::Delay(Duration::from_millis(50))
        }
    });
    let ws = Workspace::new();
    let out = init_through(&ws, proxy, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(seen.load(Ordering::SeqCst), 3, "CreateBucket answered SlowDown twice, then created");
}

#[tokio::test]
async fn a_key_whose_answer_was_truncated_is_named_with_the_command_that_removes_it() {
    let server = moto(None);
    let lose = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = lose.clone();
    let proxy = fault_proxy(server.port, move |request, _| {
        if flag.load(Ordering::SeqCst) && request.action.as_deref() == Some("CreateAccessKey") {
            Fault::Truncated
        } else {
            Fault::Pass
        }
    });
    let ws = Workspace::new();
    let out = init_through(&ws, proxy, &[]);
    assert_eq!(out.code, 4, "{}", out.all());
    let iam = iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"));
    let keys = iam.list_access_keys().user_name("t3_chat").send().await.unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1, "CreateAccessKey is not retried");
    let id = keys.access_key_metadata()[0].access_key_id().unwrap();
    let report = out.json();
    let (error, fix) = (report["error"].as_str().unwrap(), report["fix"].as_str().unwrap_or_default());
    assert!(error.contains(id) && error.contains("nobody holds it"), "{report}");
    assert!(fix.contains(&format!("aws iam delete-access-key --user-name t3_chat --access-key-id {id}")), "{report}");
    let again = format!("`t3s3 --region {APP_REGION} --endpoint-url http://127.0.0.1:{proxy} init --yes`");
    assert!(fix.contains(&again), "{report}");
}
