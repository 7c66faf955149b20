//! `t3s3 init` against moto: fresh setups, idempotent re-runs, dry runs, every reason to
//! stop, the .env merge, and what the created key may and may not do under IAM enforcement.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-init";

/// The binary acting with moto's "root" credentials from the environment, as a developer's shell would.
fn init(ws: &Workspace, server: &Server, region: &str, extra: &[&str]) -> Run {
    let mut command = ws.t3s3();
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &server.url(), "--region", region, "init", "--json"])
        .args(extra);
    run(&mut command)
}

fn root_config(server: &Server, region: &str) -> aws_config::SdkConfig {
    sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, region)
}

#[tokio::test]
async fn fresh_init_in_ap_south_1_then_verify_passes_and_a_rerun_changes_nothing() {
    let server = moto(None);
    let ws = Workspace::new();
    std::fs::create_dir(ws.path().join("backend")).unwrap();
    let first = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let report = first.json();
    assert_eq!(report["verify"]["ok"], true, "{report}");
    let created = resource_statuses(&report);
    for resource in [
        "bucket",
        "object_ownership",
        "public_access_block",
        "encryption",
        "user",
        "policy",
        "group",
        "attachment",
        "membership",
        "lifecycle",
        "access_key",
        "env_file",
        "gitignore",
    ] {
        assert_eq!(created[resource], "created", "{resource}: {report}");
    }
    assert_eq!(created["versioning"], "unchanged");

    // The bucket really is where and how the guide wants it.
    let s3 = s3(&root_config(&server, APP_REGION));
    let location = s3.get_bucket_location().bucket(BUCKET).send().await.unwrap();
    assert_eq!(location.location_constraint().unwrap().as_str(), APP_REGION);
    let settings = t3s3::bucket::read_settings(&s3, BUCKET).await.unwrap();
    assert!(settings.acls_disabled() && settings.all_public_access_blocked(), "{settings:?}");
    assert_eq!(settings.encryption.as_deref(), Some("AES256"));

    // The .env holds the new key, and the secret was never printed.
    let env = env_values(&ws.path().join("backend/.env"));
    assert_eq!(env["S3_BUCKET_NAME"], BUCKET);
    assert_eq!(env["AWS_REGION"], APP_REGION);
    assert_eq!(env["AWS_ENDPOINT_URL"], server.url());
    let key_row = report["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "access_key").unwrap();
    assert_eq!(env["AWS_ACCESS_KEY_ID"], key_row["name"].as_str().unwrap());
    assert!(!first.all().contains(&env["AWS_SECRET_ACCESS_KEY"]), "the secret was printed");
    let mode = std::fs::metadata(ws.path().join("backend/.env")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(ws.read(".gitignore"), ".env\n*.env\n.env.*\n!.env.example\n");

    // verify on its own, as a developer would run it next.
    let verify = run(ws.t3s3().arg("verify"));
    assert_eq!(verify.code, 0, "{}", verify.all());

    // Same arguments again: every resource unchanged, no change sent, same keys and versions.
    let before = snapshot(&server).await;
    let env_before = ws.read("backend/.env");
    let second = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(second.code, 0, "{}", second.all());
    let report = second.json();
    assert!(resource_statuses(&report).values().all(|s| s == "unchanged"), "{report}");
    assert_eq!(report["requests"]["mutating"], 0, "{report}");
    assert_eq!(snapshot(&server).await, before);
    assert_eq!(ws.read("backend/.env"), env_before);
}

#[tokio::test]
async fn fresh_init_in_us_east_1_sends_no_location_constraint_and_verifies() {
    let server = moto(None);
    let ws = Workspace::new();
    let out = init(&ws, &server, "us-east-1", &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["verify"]["ok"], true);
    let s3 = s3(&root_config(&server, "us-east-1"));
    let location = s3.get_bucket_location().bucket(BUCKET).send().await.unwrap();
    assert!(location.location_constraint().is_none_or(|c| c.as_str().is_empty()), "{location:?}");
    assert_eq!(env_values(&ws.path().join(".env"))["AWS_REGION"], "us-east-1");
}

#[tokio::test]
async fn without_a_bucket_name_one_is_generated_and_reused_on_the_next_run() {
    let server = moto(None);
    let ws = Workspace::new();
    // --global-namespace: the random name of the global namespace (the default is the
    // account regional name, tested in tests/it/hardening.rs).
    let first = init(&ws, &server, APP_REGION, &["--create-user", "--no-verify", "--global-namespace"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let bucket = first.json()["bucket"].as_str().unwrap().to_string();
    assert!(bucket.starts_with("t3-chat-documents-") && bucket.len() == 30, "{bucket}");
    let second = init(&ws, &server, APP_REGION, &["--no-verify"]);
    assert_eq!(second.json()["bucket"], bucket.as_str());
}

#[tokio::test]
async fn dry_run_changes_nothing_in_the_account_or_on_disk() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write(".env", "# keep me\nDEBUG=1\n");
    let before = snapshot(&server).await;
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(resource_statuses(&report)["bucket"], "would_create");
    assert_eq!(resource_statuses(&report)["access_key"], "would_create");
    assert_eq!(report["requests"]["mutating"], 0, "{report}");
    assert_eq!(snapshot(&server).await, before);
    assert_eq!(ws.read(".env"), "# keep me\nDEBUG=1\n");
    assert!(!ws.path().join(".gitignore").exists());
}

#[tokio::test]
async fn a_drifted_policy_gets_a_new_default_version_and_the_oldest_goes_at_five() {
    let server = moto(None);
    let ws = Workspace::new();
    let iam = iam(&root_config(&server, "us-east-1"));
    iam.create_user().user_name("t3_chat").send().await.unwrap();
    let drifted = |n: u32| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::old-bucket-{n}/*"}}]}}"#
        )
    };
    let arn = iam
        .create_policy()
        .policy_name("T3ChatS3Policy")
        .policy_document(drifted(1))
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    for n in 2..=5 {
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(drifted(n))
            .set_as_default(n == 5)
            .send()
            .await
            .unwrap();
    }
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(resource_statuses(&out.json())["policy"], "updated");
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
    let mut ids: Vec<(String, bool)> =
        versions.versions().iter().map(|v| (v.version_id().unwrap().to_string(), v.is_default_version())).collect();
    ids.sort();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(!ids.iter().any(|(id, _)| id == "v1"), "the oldest non-default version should be gone: {ids:?}");
    let default = ids.iter().find(|(_, default)| *default).unwrap().0.clone();
    assert_eq!(default, "v6");
    let document = iam.get_policy_version().policy_arn(&arn).version_id("v6").send().await.unwrap();
    let document = t3s3::iam::decode_document(document.policy_version().unwrap().document().unwrap());
    assert!(t3s3::policy::same_document(
        &document,
        &t3s3::policy::render(&t3s3::bucket_name::BucketName::new(BUCKET).unwrap()).unwrap()
    ));

    // Converged: the next run leaves the versions alone.
    let again = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--no-verify"]);
    assert_eq!(resource_statuses(&again.json())["policy"], "unchanged");
    assert_eq!(iam.list_policy_versions().policy_arn(&arn).send().await.unwrap().versions().len(), 5);
}

#[tokio::test]
async fn a_user_with_two_keys_stops_before_creating_anything() {
    let server = moto(None);
    let ws = Workspace::new();
    let iam = iam(&root_config(&server, "us-east-1"));
    let first = create_user_with_key(&iam, "t3_chat").await;
    let second = create_key(&iam, "t3_chat").await;
    let before = snapshot(&server).await;
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET]);
    assert_eq!(out.code, 2, "{}", out.all());
    let error = out.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains(&first.id) && error.contains(&second.id), "{error}");
    assert!(error.contains("Active") && error.contains("days old"), "{error}");
    assert!(out.json()["fix"].as_str().unwrap().contains("delete-access-key"), "{}", out.stdout);
    assert_eq!(snapshot(&server).await, before);
    assert!(!ws.path().join(".env").exists());
}

#[tokio::test]
async fn a_missing_user_needs_create_user() {
    let server = moto(None);
    let ws = Workspace::new();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.json()["error"].as_str().unwrap().contains("IAM user `t3_chat` does not exist"), "{}", out.stdout);
    // The exact command to run, with what was typed (region, endpoint, bucket) kept.
    let fix = out.json()["fix"].as_str().unwrap().to_string();
    let expected = format!(
        "`t3s3 --endpoint-url {} --region {APP_REGION} init --create-user --json --bucket {BUCKET}`",
        server.url()
    );
    assert!(fix.contains(&expected), "{fix}\nwanted {expected}");
    assert_eq!(snapshot(&server).await, "", "nothing may be created");

    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(resource_statuses(&out.json())["user"], "created");
}

#[tokio::test]
async fn at_a_terminal_init_offers_to_create_the_missing_user() {
    let server = moto(None);
    let ws = Workspace::new();
    // At a terminal init offers to create it; "n" changes nothing, "y" goes on.
    let mut command = ws.acting(&server);
    command.args(["--region", APP_REGION, "init", "--bucket", BUCKET, "--no-verify"]);
    let refused = on_terminal(&command, &["n"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(refused.stdout.contains("Create it (the guide's step 4)? [y/N]"), "{}", refused.stdout);
    assert_eq!(snapshot(&server).await, "", "nothing may be created after no");
    let accepted = on_terminal(&command, &["y"]);
    assert_eq!(accepted.code, 0, "{}", accepted.stdout);
    let iam = iam(&root_config(&server, "us-east-1"));
    assert!(iam.get_user().user_name("t3_chat").send().await.is_ok(), "yes created the user");
}

#[tokio::test]
async fn a_bucket_owned_by_another_account_is_refused() {
    let server = moto(None);
    let sts = aws_sdk_sts::Client::new(&root_config(&server, "us-east-1"));
    let other = sts
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/someone-else")
        .role_session_name("other")
        .send()
        .await
        .unwrap();
    let creds = other.credentials().unwrap();
    let other_config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(APP_REGION))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_string()),
                None,
                "other",
            ),
        ))
        .endpoint_url(server.url())
        .build();
    create_bucket(&s3(&other_config), BUCKET, APP_REGION).await;

    let ws = Workspace::new();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let report = out.json();
    assert!(report["error"].as_str().unwrap().contains("another AWS account"), "{report}");
    assert!(report["fix"].as_str().unwrap().contains("global"), "{report}");
    let iam = iam(&root_config(&server, "us-east-1"));
    assert!(iam.list_users().send().await.unwrap().users().is_empty(), "nothing may be created");
}

#[tokio::test]
async fn an_existing_env_keeps_every_other_byte_and_ends_up_0600() {
    let server = moto(None);
    let ws = Workspace::new();
    let original = "# T3 Chat backend\r\nDATABASE_URL=postgres://localhost/t3\r\n\r\n  # indented comment  \nOPENAI_API_KEY='sk-test'\nAWS_REGION=eu-west-1\nTAIL=no-newline";
    let path = ws.write("backend/.env", original);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    ws.write(".gitignore", "node_modules/\n");
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let written = ws.read("backend/.env");
    let env = env_values(&ws.path().join("backend/.env"));
    let expected_start = original.replace("AWS_REGION=eu-west-1", "AWS_REGION=ap-south-1");
    // As many LF as CRLF lines: new lines take LF; the unterminated last line gets one.
    assert!(written.starts_with(&format!("{expected_start}\n\n# AWS S3 Configuration\n")), "{written:?}");
    for line in original.split_inclusive('\n').filter(|l| !l.starts_with("AWS_REGION")) {
        assert!(written.contains(line), "lost {line:?}");
    }
    assert_eq!(env["AWS_REGION"], APP_REGION);
    assert_eq!(env["OPENAI_API_KEY"], "sk-test");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(
        ws.read(".gitignore"),
        "node_modules/\n\n# Secrets (added by t3s3)\n.env\n*.env\n.env.*\n!.env.example\n"
    );
}

#[tokio::test]
async fn a_tracked_env_file_is_refused_and_nothing_is_created() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("backend/.env", "DEBUG=1\n");
    git(ws.path(), &["add", "backend/.env"]);
    git(ws.path(), &["commit", "-qm", "oops"]);
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.json()["fix"].as_str().unwrap().contains("git rm --cached backend/.env"), "{}", out.stdout);
    assert_eq!(ws.read("backend/.env"), "DEBUG=1\n");
    assert_eq!(snapshot(&server).await, "");
}

#[tokio::test]
async fn in_a_git_repository_the_env_file_ends_up_ignored() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    std::fs::create_dir(ws.path().join("backend")).unwrap();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let ignored =
        Command::new("git").current_dir(ws.path()).args(["check-ignore", "-q", "backend/.env"]).status().unwrap();
    assert!(ignored.success(), "git must ignore backend/.env");
}

#[test]
fn a_missing_region_without_a_terminal_is_bad_input() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).args([
        "--endpoint-url",
        "http://127.0.0.1:9",
        "init",
        "--bucket",
        BUCKET,
    ]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--region"), "{}", out.stderr);
    // Credentials are checked first first: these runs have some, so the region is judged.
    let with_key = || {
        let mut command = ws.t3s3();
        command.env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET);
        command
    };
    let out = run(with_key().args(["--region", "mumbai", "init", "--bucket", BUCKET]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("not an AWS region name"), "{}", out.stderr);
    let out = run(with_key().args(["--region", APP_REGION, "init", "--bucket", "Bad_Bucket"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("lowercase"), "{}", out.stderr);
}

/// Sends requests with an unknown key until moto starts enforcing IAM (each request counts).
async fn use_up_the_unauthenticated_allowance(server: &Server) {
    let sts = aws_sdk_sts::Client::new(&sdk_config(&server.url(), "AKIAUNKNOWNUNKNOWN00", ROOT_SECRET, "us-east-1"));
    for _ in 0..500 {
        if sts.get_caller_identity().send().await.is_err() {
            return;
        }
    }
    panic!("moto never started enforcing IAM");
}

#[tokio::test]
async fn the_created_key_is_least_privilege_under_iam_enforcement() {
    let server = moto(Some(120));
    let ws = Workspace::new();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["verify"]["ok"], true, "presign was fetched before enforcement: {}", out.stdout);
    // An admin for the "other bucket", created while moto still allows anything.
    let root = root_config(&server, APP_REGION);
    create_bucket(&s3(&root), "someone-elses-bucket", APP_REGION).await;
    s3(&root)
        .put_object()
        .bucket("someone-elses-bucket")
        .key("secret.txt")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    use_up_the_unauthenticated_allowance(&server).await;

    let env = env_values(&ws.path().join(".env"));
    let app = s3(&sdk_config(&server.url(), &env["AWS_ACCESS_KEY_ID"], &env["AWS_SECRET_ACCESS_KEY"], APP_REGION));
    let key = "user/conv/doc/file.pdf";
    app.put_object().bucket(BUCKET).key(key).body(b"%PDF-1.4".to_vec().into()).send().await.expect("put in own bucket");
    let got = app.get_object().bucket(BUCKET).key(key).send().await.expect("get from own bucket");
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"%PDF-1.4");
    app.list_objects_v2().bucket(BUCKET).send().await.expect("list own bucket");
    app.delete_object().bucket(BUCKET).key(key).send().await.expect("delete in own bucket");

    let denied = |result: Result<(), String>, what: &str| {
        let code = result.expect_err(&format!("{what} must be denied"));
        assert_eq!(code, "AccessDenied", "{what}");
    };
    let code = |e: String| e;
    denied(
        app.list_buckets()
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code(t3s3::aws_error::AwsError::from_sdk(&e, "", "").code_name())),
        "ListBuckets",
    );
    denied(
        app.put_bucket_policy()
            .bucket(BUCKET)
            .policy("{}")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| t3s3::aws_error::AwsError::from_sdk(&e, "", "").code_name()),
        "PutBucketPolicy",
    );
    denied(
        app.delete_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| t3s3::aws_error::AwsError::from_sdk(&e, "", "").code_name()),
        "DeleteBucket",
    );
    denied(
        app.get_object()
            .bucket("someone-elses-bucket")
            .key("secret.txt")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| t3s3::aws_error::AwsError::from_sdk(&e, "", "").code_name()),
        "GetObject on another bucket",
    );
    denied(
        app.put_object()
            .bucket("someone-elses-bucket")
            .key("x")
            .body(b"x".to_vec().into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| t3s3::aws_error::AwsError::from_sdk(&e, "", "").code_name()),
        "PutObject on another bucket",
    );
}

#[tokio::test]
async fn boto3_built_from_the_written_env_works_like_the_backend() {
    let server = moto(None);
    let ws = Workspace::new();
    std::fs::create_dir(ws.path().join("backend")).unwrap();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let script = r#"
import boto3
from dotenv import dotenv_values
env = dotenv_values("backend/.env")
s3 = boto3.client(
    "s3",
    aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    region_name=env["AWS_REGION"],
    endpoint_url=env.get("AWS_ENDPOINT_URL"),
)
bucket = env["S3_BUCKET_NAME"]
s3.put_object(Bucket=bucket, Key="u/c/d/doc.pdf", Body=b"%PDF-1.7 test", ContentType="application/pdf")
assert s3.get_object(Bucket=bucket, Key="u/c/d/doc.pdf")["Body"].read() == b"%PDF-1.7 test"
s3.delete_object(Bucket=bucket, Key="u/c/d/doc.pdf")
print("boto3 ok")
"#;
    let python = repo().join(".venv/bin/python");
    let result = Command::new(python)
        .current_dir(ws.path())
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", ws.path())
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!(String::from_utf8_lossy(&result.stdout).trim(), "boto3 ok");
}

#[tokio::test]
async fn a_setup_that_stopped_halfway_converges_on_the_next_run() {
    let server = moto(None);
    let ws = Workspace::new();
    // What a run interrupted after the bucket was created leaves: a bare bucket, a user
    // without the policy, no .env.
    let root = root_config(&server, APP_REGION);
    create_bucket(&s3(&root), BUCKET, APP_REGION).await;
    iam(&root).create_user().user_name("t3_chat").send().await.unwrap();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    let status = resource_statuses(&report);
    assert_eq!(status["bucket"], "unchanged");
    assert_eq!(status["user"], "unchanged");
    for resource in ["public_access_block", "encryption", "policy", "attachment", "access_key"] {
        assert!(["updated", "created"].contains(&status[resource].as_str()), "{resource}: {report}");
    }
    assert_eq!(report["verify"]["ok"], true);
    let settings = t3s3::bucket::read_settings(&s3(&root), BUCKET).await.unwrap();
    assert!(settings.acls_disabled() && settings.all_public_access_blocked() && settings.encrypted(), "{settings:?}");
}

/// Makes a folder immutable (even root cannot write into it) until dropped.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn new(path: &std::path::Path) -> Self {
        let status = Command::new("chattr").arg("+i").arg(path).status().expect("chattr is needed for this test");
        assert!(status.success(), "chattr +i {} failed", path.display());
        Immutable(path.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[tokio::test]
async fn when_the_env_file_cannot_be_written_the_new_key_is_deleted_again() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write("backend/.env", "DEBUG=1\n");
    let before = {
        let _locked = Immutable::new(&ws.path().join("backend"));
        let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
        assert_eq!(out.code, 4, "a failure after changes (the bucket, the user): {}", out.all());
        assert!(out.json()["error"].as_str().unwrap().contains("backend/.env"), "{}", out.stdout);
        assert!(out.json()["error"].as_str().unwrap().contains("deleted again"), "{}", out.stdout);
        snapshot(&server).await
    };
    assert!(before.contains("user t3_chat keys []"), "no key may outlive the failed write:\n{before}");
    assert_eq!(ws.read("backend/.env"), "DEBUG=1\n");
}

#[tokio::test]
async fn on_a_terminal_a_missing_region_is_asked_for_with_the_guides_four() {
    let server = moto(None);
    let ws = Workspace::new();
    let inner = format!(
        "{} --endpoint-url {} init --bucket {BUCKET} --create-user --no-verify",
        env!("CARGO_BIN_EXE_t3s3"),
        server.url()
    );
    // `script` gives the binary a real terminal; "2" picks the second suggestion.
    let mut command = ws.t3s3();
    command.env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).env("TERM", "dumb");
    let output = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .current_dir(ws.path())
        .env_clear()
        .envs(command.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"2\n")?;
            child.wait_with_output()
        })
        .expect("run script");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    for region in ["ap-south-1", "us-east-1", "us-west-2", "eu-west-1"] {
        assert!(screen.contains(region), "{region} not offered:\n{screen}");
    }
    assert_eq!(env_values(&ws.path().join(".env"))["AWS_REGION"], "us-east-1");
}

#[tokio::test]
async fn versioning_only_with_the_flag_and_a_warning_for_s3_full_access() {
    let server = moto_with(None, &[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let ws = Workspace::new();
    let iam = iam(&root_config(&server, "us-east-1"));
    iam.create_user().user_name("t3_chat").send().await.unwrap();
    iam.attach_user_policy()
        .user_name("t3_chat")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3FullAccess")
        .send()
        .await
        .unwrap();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("AmazonS3FullAccess") && warnings.contains("least privilege"), "{warnings}");
    // Read through t3s3's reader: moto's GetBucketVersioning answer has a root element the SDK rejects.
    let s3 = s3(&root_config(&server, APP_REGION));
    let settings = t3s3::bucket::read_settings(&s3, BUCKET).await.unwrap();
    assert_eq!(settings.versioning, None, "versioning must stay off without --versioning");

    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--no-verify", "--versioning"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(resource_statuses(&out.json())["versioning"], "updated");
    let settings = t3s3::bucket::read_settings(&s3, BUCKET).await.unwrap();
    assert_eq!(settings.versioning.as_deref(), Some("Enabled"));
}

#[tokio::test]
async fn your_bucket_in_another_region_names_the_region_to_use() {
    let server = moto(None);
    let ws = Workspace::new();
    create_bucket(&s3(&root_config(&server, "eu-west-1")), BUCKET, "eu-west-1").await;
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.json()["error"].as_str().unwrap().contains("is in eu-west-1, not ap-south-1"), "{}", out.stdout);
    assert_eq!(out.json()["fix"], "run again with --region eu-west-1");
    assert!(iam(&root_config(&server, "us-east-1")).list_users().send().await.unwrap().users().is_empty());
}

#[tokio::test]
async fn an_env_file_git_would_still_pick_up_stops_init_before_any_change() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    // A deeper .gitignore re-includes it, whatever the top one says.
    ws.write("backend/.gitignore", "!.env\n");
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.json()["error"].as_str().unwrap().contains("git does not ignore backend/.env"), "{}", out.stdout);
    assert_eq!(snapshot(&server).await, "", "nothing may be created in AWS");
    assert!(!ws.path().join("backend/.env").exists(), "no secret may be written");
}

#[tokio::test]
async fn the_new_key_carries_the_guides_description() {
    let server = moto(None);
    let ws = Workspace::new();
    let out = init(&ws, &server, APP_REGION, &["--bucket", BUCKET, "--create-user", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let key_id = env_values(&ws.path().join(".env"))["AWS_ACCESS_KEY_ID"].clone();
    let tags = iam(&root_config(&server, "us-east-1")).list_user_tags().user_name("t3_chat").send().await.unwrap();
    let tag = tags.tags().iter().find(|t| t.key() == key_id).expect("a tag named after the key");
    assert_eq!(tag.value(), "T3 Chat Backend S3 Access");
}

/// A failure after a change never exits 2. S3 denies PutBucketEncryption (as an
/// IAM policy or SCP would; moto does not enforce that action, so a loopback proxy gives
/// S3's documented 403 AccessDenied answer), after init has created the bucket.
#[tokio::test]
async fn a_denial_after_the_bucket_was_created_exits_4_listing_the_change_and_a_rerun_converges() {
    let server = moto(None);
    let deny = Arc::new(AtomicBool::new(true));
    // S3's answer to an action an IAM policy denies (403 AccessDenied), while `deny` is set.
    let denied = deny.clone();
    let proxy = fault_proxy(server.port, move |request, _| {
        if denied.load(Ordering::SeqCst) && request.is("PUT", "?encryption") {
            Fault::Answer(
                403,
                "<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>656c76696e6727732072657175657374</RequestId></Error>",
            )
        } else {
            Fault::Pass
        }
    });
    let ws = Workspace::new();
    let acting_init = |ws: &Workspace| {
        run(ws
            .t3s3()
            .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
            .args(["--endpoint-url", &format!("http://127.0.0.1:{proxy}"), "--region", APP_REGION, "init", "--json"])
            .args(["--no-verify", "--bucket", BUCKET, "--create-user"]))
    };

    let out = acting_init(&ws);
    assert_eq!(out.code, 4, "{}", out.all());
    let report = out.json();
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("s3:PutEncryptionConfiguration on bucket `t3-chat-documents-init` was denied"), "{report}");
    let changed: Vec<&str> = report["changed"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changed.iter().any(|c| c.contains("bucket `t3-chat-documents-init` created")), "{changed:?}");
    assert!(report["fix"].as_str().unwrap().contains("run the same command again"), "{report}");
    // The IAM side ran alongside the bucket at once: what it made is listed as changed,
    // the new key included; its secret is safe in the .env, so the key was kept.
    let env = env_values(&ws.path().join(".env"));
    let key = env["AWS_ACCESS_KEY_ID"].clone();
    assert_eq!(
        snapshot(&server).await,
        format!(
            "bucket t3-chat-documents-init versioning None policy None lifecycle Some(1) objects 0\ngroup t3-chat-s3 policies [\"T3ChatS3Policy\"]\npolicy T3ChatS3Policy versions [\"v1*\"]\nuser t3_chat keys [\"{key} Some(Active)\"] policies [\"member of t3-chat-s3\"]"
        )
    );
    for made in [
        "IAM user `t3_chat` created".to_string(),
        "policy T3ChatS3Policy created".into(),
        "IAM group `t3-chat-s3` created".into(),
        "T3ChatS3Policy attached to group `t3-chat-s3`".into(),
        "`t3_chat` added to group `t3-chat-s3`".into(),
        format!("access key {key} created"),
        ".env written".into(),
    ] {
        assert!(changed.contains(&made.as_str()), "{made}: {changed:?}");
    }

    // Lift the denial; the same command converges from where it stopped.
    deny.store(false, Ordering::SeqCst);
    let again = acting_init(&ws);
    assert_eq!(again.code, 0, "{}", again.all());
    let statuses = resource_statuses(&again.json());
    assert_eq!(statuses["bucket"], "unchanged");
    assert_eq!(statuses["encryption"], "updated");
    assert_eq!(statuses["access_key"], "unchanged", "the key the first run wrote is kept");
}

/// The .env block of the T3 Chat backend's README, as a developer copies it.
const README_ENV: &str = "# Database\nDATABASE_URL=postgresql://localhost/t3chat\n\n# AWS S3 Configuration\nAWS_ACCESS_KEY_ID=your_access_key_id\nAWS_SECRET_ACCESS_KEY=your_secret_access_key\nAWS_REGION=us-east-1\nS3_BUCKET_NAME=your_bucket_name\n\n# OpenAI\nOPENAI_API_KEY=sk-your-key\n";

#[tokio::test]
async fn the_backends_readme_placeholders_are_unset_values_filled_in_place() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write("backend/.env", README_ENV);

    // Before init: the placeholders are named, and init is the next step.
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("S3_BUCKET_NAME=your_bucket_name is a placeholder"), "{}", out.stdout);
    assert!(!out.all().contains("your-bucket-name"), "a placeholder was suggested as the fix: {}", out.all());

    let out = init(&ws, &server, APP_REGION, &["--create-user", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let text = ws.read("backend/.env");
    assert!(!text.contains("your_"), "{text}");
    assert_eq!(text.matches("# AWS S3 Configuration").count(), 1, "a second header: {text}");
    let section = text.split("# AWS S3 Configuration\n").nth(1).unwrap().split("\n\n").next().unwrap();
    for name in [
        "AWS_ACCESS_KEY_ID=AKIA",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_REGION=ap-south-1",
        "S3_BUCKET_NAME=t3-chat-documents-",
    ] {
        assert!(section.contains(name), "{name} not in the guide's section:\n{text}");
    }
    assert!(text.ends_with("\n# OpenAI\nOPENAI_API_KEY=sk-your-key\n"), "{text}");
    assert_eq!(run(ws.t3s3().arg("verify")).code, 0);

    // A bad name that is no placeholder: the file and line are named.
    let ws = Workspace::new();
    ws.write("backend/.env", "DEBUG=1\nS3_BUCKET_NAME=My_Bucket\n");
    let out = init(&ws, &server, APP_REGION, &["--create-user", "--no-verify"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("backend/.env line 2"), "{}", out.stdout);
}

#[test]
fn a_region_aws_does_not_have_is_refused_before_any_request() {
    let (listener, port) = listen();
    listener.set_nonblocking(true).unwrap();
    let ws = Workspace::new();
    ws.write("backend/.env", "DEBUG=1\n");
    // No endpoint: the typo would create a bucket in no region and be written to the .env.
    let out = run(ws
        .t3s3()
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{port}"))
        .args(["--region", "ap-souht-1", "init", "--create-user"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("`ap-souht-1` (--region) is not a region AWS has"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `ap-south-1`"), "{}", out.stderr);
    assert_eq!(ws.read("backend/.env"), "DEBUG=1\n");
    assert!(listener.accept().is_err(), "a request was sent");
}

#[tokio::test]
async fn init_never_ignores_what_the_repositorys_gitignore_re_includes() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write(".gitignore", "node_modules/\n.env\n!.env.example\n");
    ws.write("backend/.env", "DEBUG=1\n");
    ws.write("backend/.env.example", "S3_BUCKET_NAME=your_bucket_name\n");
    let out = init(&ws, &server, APP_REGION, &["--create-user", "--no-verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let check = Command::new("git")
        .current_dir(ws.path())
        .args(["check-ignore", "-q", "backend/.env.example"])
        .status()
        .unwrap();
    assert!(!check.success(), "init made git ignore .env.example:\n{}", ws.read(".gitignore"));
    let check =
        Command::new("git").current_dir(ws.path()).args(["check-ignore", "-q", "backend/.env"]).status().unwrap();
    assert!(check.success(), "git does not ignore backend/.env");
    assert!(ws.read(".gitignore").ends_with("!.env.example\n"), "{}", ws.read(".gitignore"));
}

#[tokio::test]
async fn init_quiet_prints_the_one_line_verdict() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write("backend/.env", "DEBUG=1\n");
    let out = run(ws.t3s3().env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).args([
        "--endpoint-url",
        &server.url(),
        "--region",
        APP_REGION,
        "-q",
        "init",
        "--create-user",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.lines().count(), 1, "one line: {:?}", out.stdout);
    assert!(out.stdout.contains("PASSED"), "{:?}", out.stdout);
}

#[tokio::test]
async fn pyproject_tool_t3s3_sets_the_env_file_profile_and_region_the_command_line_overrides() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write(".aws/config", &format!("[profile admin]\nendpoint_url = {}\n", server.url()));
    ws.write(
        ".aws/credentials",
        &format!("[admin]\naws_access_key_id = {ROOT_KEY_ID}\naws_secret_access_key = {ROOT_SECRET}\n"),
    );
    ws.write("pyproject.toml", "[project]\nname = \"t3-chat\"\n\n[tool.t3s3]\nenv-file = \"server/settings.env\"\nprofile = \"admin\"\nregion = \"ap-south-1\"\n");
    ws.write("server/settings.env", "DEBUG=1\n");
    std::fs::create_dir_all(ws.path().join("sub")).unwrap();
    let aws = |command: &mut Command| {
        command
            .env("AWS_CONFIG_FILE", ws.path().join(".aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", ws.path().join(".aws/credentials"));
    };
    let mut command = ws.t3s3();
    aws(&mut command);
    let out = run(command.args(["init", "--bucket", BUCKET, "--create-user", "--no-verify"]));
    assert_eq!(out.code, 0, "no --profile, --region or --env-file on the command line: {}", out.all());
    let values = env_values(&ws.path().join("server/settings.env"));
    assert_eq!(values.get("AWS_REGION").map(String::as_str), Some("ap-south-1"));
    assert_eq!(run(ws.t3s3().arg("verify")).code, 0, "verify found server/settings.env");
    // From a subfolder, the repository's pyproject.toml still says where the .env is.
    let mut command = ws.t3s3();
    aws(&mut command);
    let out = run(command.current_dir(ws.path().join("sub")).args(["verify"]));
    assert_eq!(out.code, 0, "{}", out.all());
    // The command line wins; a table t3s3 cannot read is named by file and line.
    ws.write("pyproject.toml", "[tool.t3s3]\nregion = \"ap-south-1\"\nbucket = \"x\"\n");
    let mut command = ws.t3s3();
    aws(&mut command);
    let out = run(command.args(["--profile", "admin", "doctor"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("pyproject.toml: line 3: [tool.t3s3] has no `bucket`"), "{}", out.stderr);
}

#[tokio::test]
async fn init_says_how_to_check_it_with_the_options_it_was_given() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write("deploy/app.env", "DEBUG=1\n");
    let out = run(ws.acting(&server).args(["--region", APP_REGION, "init", "--env-file", "deploy/app.env"]).args([
        "--bucket",
        BUCKET,
        "--create-user",
        "--no-verify",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    let line = out.stdout.lines().find(|l| l.starts_with("Done. Check it any time with")).unwrap().to_string();
    let command = line.split('`').nth(1).unwrap();
    assert_eq!(
        command,
        format!("t3s3 --region {APP_REGION} --endpoint-url {} verify --env-file deploy/app.env", server.url())
    );
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    assert_eq!(run(ws.t3s3().args(&args)).code, 0, "`{command}` pasted");
}
