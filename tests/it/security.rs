//! `t3s3 doctor`, `rotate-key` and `destroy` against moto: the guide's security practices.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-sec";

/// A T3 Chat project (a git repository with backend/) set up by `t3s3 init` against `server`.
fn initialised(server: &Server) -> Workspace {
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("backend/.env", "# T3 Chat\nDATABASE_URL=postgres://localhost/t3\n");
    ws.initialise(server, BUCKET);
    ws
}

fn doctor(ws: &Workspace, server: &Server) -> BTreeMap<String, (String, String)> {
    let out = run(ws.acting(server).args(["doctor", "--json"]));
    assert!(out.code == 0 || out.code == 1, "{}", out.all());
    let report = out.json();
    let map: BTreeMap<String, (String, String)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(c["fix"].is_string(), "{c}");
            (
                c["id"].as_str().unwrap().to_string(),
                (c["status"].as_str().unwrap().to_string(), c["evidence"].as_str().unwrap().to_string()),
            )
        })
        .collect();
    let failed = map.values().any(|(s, _)| s == "FAIL");
    assert_eq!(out.code, i32::from(failed), "exit 1 exactly when a check fails: {map:?}");
    assert_eq!(report["ok"], !failed, "ok is false exactly when a check fails");
    map
}

fn status(map: &BTreeMap<String, (String, String)>, id: &str) -> String {
    map.get(id).unwrap_or_else(|| panic!("no check {id}: {map:?}")).0.clone()
}

fn root_iam(server: &Server) -> aws_sdk_iam::Client {
    iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"))
}

async fn key_ids(server: &Server, user: &str) -> Vec<(String, String)> {
    let keys = root_iam(server).list_access_keys().user_name(user).send().await.unwrap();
    let mut ids: Vec<(String, String)> = keys
        .access_key_metadata()
        .iter()
        .map(|k| (k.access_key_id().unwrap().to_string(), k.status().unwrap().as_str().to_string()))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn doctor_passes_a_fresh_setup_except_what_moto_cannot_have() {
    let server = moto(None);
    let ws = initialised(&server);
    let checks = doctor(&ws, &server);
    for (id, (status, evidence)) in &checks {
        match id.as_str() {
            // moto hard-codes AccountMFAEnabled = 0: no API enables MFA on its root.
            "root_mfa" => assert_eq!(status, "FAIL", "{evidence}"),
            "storage" | "access_logging" => assert_eq!(status, "INFO", "{id}: {evidence}"),
            // init was not asked for a budget: nothing warns before the bill.
            "billing_alert" => assert_eq!(status, "WARN", "{id}: {evidence}"),
            // moto speaks plain HTTP: init leaves the TLS-only statement out, and doctor says why.
            "tls_only" => {
                assert_eq!(status, "SKIPPED", "{id}: {evidence}");
                assert!(evidence.contains("is plain HTTP"), "{evidence}");
            }
            "ci_role_trust" | "runtime_role_trust" => assert_eq!(status, "SKIPPED", "{id}: {evidence}"),
            // No runtime role yet: production would run on the long-lived key.
            "runtime_credentials" => assert_eq!(status, "WARN", "{id}: {evidence}"),
            // The test names its bucket (`--bucket`): a global name, reported as information.
            "bucket_namespace" => assert_eq!(status, "INFO", "{id}: {evidence}"),
            // The project has a .env but no backend code: section 7's checks have nothing to look at.
            "backend_python"
            | "boto3_installed"
            | "boto3_declared"
            | "boto3_endpoint_env"
            | "backend_session_token" => {
                assert_eq!(status, "SKIPPED", "{id}: {evidence}");
                assert!(evidence.contains("no backend code in backend"), "{id}: {evidence}");
            }
            _ => assert_eq!(status, "PASS", "{id}: {evidence}"),
        }
    }
    assert_eq!(checks.len(), 35, "{checks:?}");
    assert!(checks["root_mfa"].1.contains("AccountMFAEnabled is 0"));
}

#[tokio::test]
async fn doctor_fails_each_broken_practice_with_its_evidence() {
    let server = moto_with(None, &[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let ws = initialised(&server);
    let env_path = ws.path().join("backend/.env");

    std::fs::set_permissions(&env_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "env_mode"), "FAIL");
    assert!(checks["env_mode"].1.contains("0644"));
    std::fs::set_permissions(&env_path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let iam = root_iam(&server);
    let full = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
    iam.attach_user_policy().user_name("t3_chat").policy_arn(full).send().await.unwrap();
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "broad_s3_access"), "FAIL");
    assert!(checks["broad_s3_access"].1.contains("AmazonS3FullAccess"), "{:?}", checks["broad_s3_access"]);
    iam.detach_user_policy().user_name("t3_chat").policy_arn(full).send().await.unwrap();

    let s3 = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    s3.put_public_access_block()
        .bucket(BUCKET)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "public_access_block"), "FAIL");

    let arn = "arn:aws:iam::123456789012:policy/T3ChatS3Policy";
    let drifted = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::t3-chat-documents-sec/*"}]}"#;
    iam.create_policy_version().policy_arn(arn).policy_document(drifted).set_as_default(true).send().await.unwrap();
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "policy_drift"), "WARN");
    assert!(
        checks["policy_drift"].1.contains("missing: s3:DeleteObject on arn:aws:s3:::t3-chat-documents-sec/*"),
        "{:?}",
        checks["policy_drift"]
    );

    let text = std::fs::read_to_string(&env_path).unwrap().replace("AWS_REGION=ap-south-1", "AWS_REGION=eu-west-1");
    std::fs::write(&env_path, text).unwrap();
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "bucket_region"), "FAIL");
    assert!(checks["bucket_region"].1.contains("is in ap-south-1, but AWS_REGION is eu-west-1"));
}

#[tokio::test]
async fn doctor_fails_a_tracked_env_and_one_that_was_ever_committed() {
    let server = moto(None);
    let ws = initialised(&server);
    git(ws.path(), &["add", "-f", "backend/.env"]);
    git(ws.path(), &["commit", "-qm", "oops"]);
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "env_untracked"), "FAIL");
    assert_eq!(status(&checks, "env_never_committed"), "FAIL");

    git(ws.path(), &["rm", "-q", "--cached", "backend/.env"]);
    git(ws.path(), &["commit", "-qm", "remove it"]);
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "env_untracked"), "PASS");
    assert_eq!(status(&checks, "env_never_committed"), "FAIL", "removal does not unleak: {checks:?}");
    let out = run(ws.acting(&server).args(["doctor", "--json"]));
    let fix =
        out.json()["checks"].as_array().unwrap().iter().find(|c| c["id"] == "env_never_committed").unwrap()["fix"]
            .clone();
    assert!(fix.as_str().unwrap().contains("rotate"), "{fix}");
}

#[tokio::test]
async fn the_secret_committed_in_another_file_on_another_branch_fails_env_never_committed() {
    let server = moto(None);
    let ws = initialised(&server);
    git(ws.path(), &["commit", "-q", "--allow-empty", "-m", "start"]);
    let secret = env_values(&ws.path().join("backend/.env"))["AWS_SECRET_ACCESS_KEY"].clone();
    assert_eq!(status(&doctor(&ws, &server), "env_never_committed"), "PASS");
    // A developer pastes the secret (alone, no key id) into settings on a branch of their own.
    git(ws.path(), &["checkout", "-q", "-b", "try-s3"]);
    ws.write("backend/settings.py", &format!("SECRET = \"{secret}\"\n"));
    git(ws.path(), &["add", "backend/settings.py"]);
    git(ws.path(), &["commit", "-qm", "try it"]);
    let commit = git(ws.path(), &["log", "-1", "--format=%H"]).trim()[..12].to_string();
    git(ws.path(), &["checkout", "-q", "-"]);
    let checks = doctor(&ws, &server);
    let (status, evidence) = &checks["env_never_committed"];
    assert_eq!(status, "FAIL", "{evidence}");
    assert!(evidence.contains(&format!("{commit}:backend/settings.py")), "{evidence}");
    assert!(!evidence.contains(&secret), "{evidence}");
}

#[tokio::test]
async fn a_env_committed_without_any_aws_key_is_a_warning_naming_the_commit() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("backend/.env", "# T3 Chat\nDATABASE_URL=postgres://localhost/t3\n");
    git(ws.path(), &["add", "-f", "backend/.env"]);
    git(ws.path(), &["commit", "-qm", "the database settings"]);
    let commit = git(ws.path(), &["log", "-1", "--format=%h"]).trim().to_string();
    git(ws.path(), &["rm", "-q", "--cached", "backend/.env"]);
    git(ws.path(), &["commit", "-qm", "untrack it"]);
    ws.initialise(&server, BUCKET);

    let out = run(ws.acting(&server).args(["doctor", "--json"]));
    let check = check_in(&out.json(), "env_never_committed");
    assert_eq!(check["status"], "WARN", "no AWS key was ever committed: {check}");
    assert!(check["evidence"].as_str().unwrap().contains(&commit), "{check}");
    assert!(check["evidence"].as_str().unwrap().contains("holding no AWS key"), "{check}");
}

#[tokio::test]
async fn a_role_session_in_the_env_is_named_a_session_not_a_refused_key() {
    let server = moto(None);
    let ws = initialised(&server);
    // A developer pastes role credentials (an assumed role's session) over init's key.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    root_iam(&server).create_role().role_name("Dev").assume_role_policy_document(trust).send().await.unwrap();
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION);
    let assumed = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Dev")
        .role_session_name("alice")
        .send()
        .await
        .unwrap();
    let credentials = assumed.credentials().unwrap();
    let session = Key { id: credentials.access_key_id().into(), secret: credentials.secret_access_key().into() };
    let env = ws.write_env("backend/.env", &session, APP_REGION, BUCKET, &server.url());
    let text = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, format!("{text}AWS_SESSION_TOKEN={}\n", credentials.session_token())).unwrap();

    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "app_identity"), "PASS", "{checks:?}");
    assert!(checks["app_identity"].1.contains(":assumed-role/Dev/alice"), "{checks:?}");
    for id in ["key_age", "unwritten_keys", "broad_s3_access"] {
        let (status, evidence) = &checks[id];
        assert_eq!(status, "SKIPPED", "{id}: {evidence}");
        assert!(evidence.contains("temporary credentials"), "{id}: {evidence}");
        assert!(!evidence.contains("refused"), "{id}: {evidence}");
    }
}

#[tokio::test]
async fn doctor_skips_what_needs_acting_credentials_when_there_are_none() {
    let server = moto(None);
    let ws = initialised(&server);
    // No acting credentials in the environment: only the app key from the .env.
    let out = run(ws.t3s3().args(["doctor", "--json"]));
    let checks = out.json();
    let get = |id: &str| checks["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(get("app_identity")["status"], "PASS");
    assert_eq!(get("key_age")["status"], "SKIPPED");
    assert!(
        get("key_age")["evidence"].as_str().unwrap().contains("needs an administrator's credentials"),
        "{}",
        get("key_age")
    );
    assert_eq!(get("root_mfa")["status"], "SKIPPED");
    assert_eq!(out.code, 0, "{}", out.all());
}

#[tokio::test]
async fn rotate_key_leaves_the_old_key_working_until_retired() {
    let server = moto(None);
    let ws = initialised(&server);
    let old = env_values(&ws.path().join("backend/.env"))["AWS_ACCESS_KEY_ID"].clone();
    // The running backend holds the .env as it was until it restarts.
    ws.write("running/.env", &ws.read("backend/.env"));
    assert_eq!(run(ws.t3s3().arg("verify")).code, 0);
    let out = run(ws.acting(&server).args(["rotate-key", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let new = env_values(&ws.path().join("backend/.env"))["AWS_ACCESS_KEY_ID"].clone();
    assert_ne!(new, old);
    assert_eq!(out.json()["old_key_action"], "active");
    let mut both = vec![(old.clone(), "Active".to_string()), (new.clone(), "Active".to_string())];
    both.sort();
    assert_eq!(key_ids(&server, "t3_chat").await, both);
    assert!(
        !out.all().contains(&env_values(&ws.path().join("backend/.env"))["AWS_SECRET_ACCESS_KEY"]),
        "the secret was printed"
    );
    assert_eq!(run(ws.t3s3().arg("verify")).code, 0);
    let running = run(ws.t3s3().args(["verify", "--env-file", "running/.env"]));
    assert_eq!(running.code, 0, "the backend not yet restarted lost S3: {}", running.all());
    assert!(ws.read("backend/.env").starts_with("# T3 Chat\nDATABASE_URL=postgres://localhost/t3\n"));
    let text = run(ws.acting(&server).arg("rotate-key"));
    assert_eq!(text.code, 2, "a second rotation before retiring: {}", text.all());
    assert!(text.stderr.contains("rotate-key --retire"), "{}", text.stderr);

    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "unwritten_keys"), "WARN", "{:?}", checks["unwritten_keys"]);
    assert!(checks["unwritten_keys"].1.contains(&old), "{:?}", checks["unwritten_keys"]);

    // The backend not yet restarted used the old key after the rotation: --retire refuses,
    // naming the key and when; --yes retires it anyway.
    let out = run(ws.acting(&server).args(["rotate-key", "--retire"]));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&old) && out.stderr.contains("was used at") && out.stderr.contains("approximately"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(key_ids(&server, "t3_chat").await, both, "a key in use was retired");
    let out = run(ws.acting(&server).args(["rotate-key", "--retire", "--yes", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["old_key"], old.as_str());
    assert_eq!(key_ids(&server, "t3_chat").await, vec![(new.clone(), "Active".to_string())]);
    assert_eq!(status(&doctor(&ws, &server), "unwritten_keys"), "PASS");
    let again = run(ws.acting(&server).args(["rotate-key", "--retire"]));
    assert_eq!(again.code, 0, "retiring twice is done already: {}", again.all());
    assert!(again.stdout.contains("Nothing to retire"), "{}", again.stdout);
    assert_eq!(key_ids(&server, "t3_chat").await, vec![(new, "Active".to_string())]);
}

#[tokio::test]
async fn rotate_key_now_retires_the_old_key_in_one_step() {
    let server = moto(None);
    let ws = initialised(&server);
    let out = run(ws.acting(&server).args(["rotate-key", "--now", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["old_key_action"], "deleted");
    let new = env_values(&ws.path().join("backend/.env"))["AWS_ACCESS_KEY_ID"].clone();
    assert_eq!(key_ids(&server, "t3_chat").await, vec![(new, "Active".to_string())]);
    assert_eq!(run(ws.t3s3().arg("verify")).code, 0);
}

#[tokio::test]
async fn rotate_key_keep_old_only_deactivates() {
    let server = moto(None);
    let ws = initialised(&server);
    let old = env_values(&ws.path().join("backend/.env"))["AWS_ACCESS_KEY_ID"].clone();
    let out = run(ws.acting(&server).args(["rotate-key", "--keep-old"]));
    assert_eq!(out.code, 2, "--keep-old without --now or --retire: {}", out.all());
    let out = run(ws.acting(&server).args(["rotate-key", "--now", "--keep-old"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let new = env_values(&ws.path().join("backend/.env"))["AWS_ACCESS_KEY_ID"].clone();
    let mut expected = vec![(old, "Inactive".to_string()), (new, "Active".to_string())];
    expected.sort();
    assert_eq!(key_ids(&server, "t3_chat").await, expected);
}

#[tokio::test]
async fn rotate_key_asks_before_deleting_a_second_key_not_in_the_env() {
    let server = moto(None);
    let ws = initialised(&server);
    let other = create_key(&root_iam(&server), "t3_chat").await;
    let before = key_ids(&server, "t3_chat").await;
    let env_before = ws.read("backend/.env");
    let out = run(ws.acting(&server).arg("rotate-key"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains(&other.id), "names the key not in the .env: {}", out.stderr);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(key_ids(&server, "t3_chat").await, before);
    assert_eq!(ws.read("backend/.env"), env_before);

    let out = run(ws.acting(&server).args(["rotate-key", "--now", "--yes"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let keys = key_ids(&server, "t3_chat").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].0, env_values(&ws.path().join("backend/.env"))["AWS_ACCESS_KEY_ID"]);
}

#[tokio::test]
async fn rotate_key_rolls_back_completely_when_the_new_key_fails_verification() {
    // Under IAM enforcement moto answers presigned GETs with HTTP 500, so the new key's
    // self-test fails at step 5: the rollback path runs for real.
    let (server, admin) = enforcing_moto().await;
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, APP_REGION);
    create_bucket(&s3(&config), BUCKET, APP_REGION).await;
    let iam = iam(&config);
    let app = app_user_with_policy(
        &iam,
        &serde_json::from_str(&t3s3::policy::render(&t3s3::bucket_name::BucketName::new(BUCKET).unwrap()).unwrap())
            .unwrap(),
    )
    .await;

    let ws = Workspace::new();
    ws.write_env("backend/.env", &app, APP_REGION, BUCKET, &server.url());
    let env_before = ws.read("backend/.env");
    let out = run(ws
        .t3s3()
        .env("AWS_ACCESS_KEY_ID", &admin.id)
        .env("AWS_SECRET_ACCESS_KEY", &admin.secret)
        .args(["rotate-key", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(report["rolled_back"], true);
    assert_eq!(report["verify"]["steps"][4]["status"], "failed", "{report}");
    assert_eq!(ws.read("backend/.env"), env_before, "the .env must name the old key again, byte for byte");
    let keys = iam.list_access_keys().user_name("t3_chat").send().await.unwrap();
    let keys: Vec<(&str, &str)> =
        keys.access_key_metadata().iter().map(|k| (k.access_key_id().unwrap(), k.status().unwrap().as_str())).collect();
    assert_eq!(keys, vec![(app.id.as_str(), "Active")], "only the old, active key may remain");
}

#[tokio::test]
async fn destroy_removes_what_init_made_keeps_the_rest_and_is_harmless_twice() {
    let server = moto(None);
    let ws = initialised(&server);
    let s3 = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    s3.put_object().bucket(BUCKET).key("u/c/d/doc.pdf").body(b"%PDF".to_vec().into()).send().await.unwrap();
    let env_before = ws.read("backend/.env");

    let out = run(ws.acting(&server).args(["destroy", "--yes"]));
    assert_eq!(out.code, 2, "a bucket with objects needs --force: {}", out.all());
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(ws.read("backend/.env"), env_before);

    let account = snapshot(&server).await;
    let out = run(ws.acting(&server).args(["destroy", "--dry-run"]));
    assert_eq!(out.code, 0, "a dry run shows the plan: {}", out.all());
    assert!(out.stdout.contains("kept, needs --force"), "{}", out.stdout);
    let out = run(ws.acting(&server).args(["destroy", "--dry-run", "--force", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(ws.read("backend/.env"), env_before);
    assert!(s3.head_bucket().bucket(BUCKET).send().await.is_ok(), "dry run deleted the bucket");
    assert_eq!(snapshot(&server).await, account, "a dry run changed the account");

    let out = run(ws.acting(&server).args(["destroy", "--force"]));
    assert_eq!(out.code, 2, "no terminal and no --yes: {}", out.all());
    assert!(s3.head_bucket().bucket(BUCKET).send().await.is_ok());

    let out = run(ws.acting(&server).args(["destroy", "--force", "--yes", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(s3.head_bucket().bucket(BUCKET).send().await.is_err(), "the bucket is still there");
    let iam = root_iam(&server);
    let policies = iam.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).send().await.unwrap();
    assert!(policies.policies().is_empty(), "the policy is still there");
    assert_eq!(key_ids(&server, "t3_chat").await, vec![], "the key is still there");
    assert!(iam.get_user().user_name("t3_chat").send().await.is_ok(), "the user must be kept");
    assert!(iam.get_group().group_name("t3-chat-s3").send().await.is_err(), "the group init made is still there");
    let env_after = ws.read("backend/.env");
    // Back as it was but for the blank line init put before its section (which t3s3 cannot
    // tell from one of the user's): the header is gone with the settings.
    assert_eq!(env_after, "# T3 Chat\nDATABASE_URL=postgres://localhost/t3\n\n");
    for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "S3_BUCKET_NAME"] {
        assert!(!env_after.contains(key), "{key} left in {env_after}");
    }

    let again = run(ws.acting(&server).args(["--region", APP_REGION, "destroy", "--yes", "--json"]));
    assert_eq!(again.code, 0, "{}", again.all());
    let statuses: Vec<String> =
        again.json()["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_string()).collect();
    assert!(statuses.iter().all(|s| s == "absent" || s == "kept"), "{statuses:?}");
    assert_eq!(ws.read("backend/.env"), env_after);
}

#[tokio::test]
async fn rotate_key_waits_while_the_new_key_is_not_yet_accepted() {
    let server = moto(None);
    let ws = initialised(&server);
    // The backend reaches S3 through a proxy that refuses the first two requests the way
    // AWS refuses a key created seconds ago; the acting credentials go to moto directly.
    let proxy = new_key_proxy(server.port, 2);
    let env_path = ws.path().join("backend/.env");
    let text = std::fs::read_to_string(&env_path).unwrap().replace(&server.url(), &format!("http://127.0.0.1:{proxy}"));
    std::fs::write(&env_path, text).unwrap();
    let out = run(ws.acting(&server).arg("rotate-key"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout.matches("the new access key is not active yet").count(), 2, "{}", out.stdout);
    assert!(out.stdout.contains("ALL TESTS PASSED"), "{}", out.stdout);
}

#[tokio::test]
async fn doctor_sees_not_action_grants_and_never_passes_policies_it_could_not_read() {
    let server = moto(None);
    let ws = initialised(&server);
    let iam = root_iam(&server);
    // PowerUserAccess's shape: everything but IAM and Organizations, so all of S3.
    let power_user = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#;
    iam.put_user_policy()
        .user_name("t3_chat")
        .policy_name("PowerUserish")
        .policy_document(power_user)
        .send()
        .await
        .unwrap();
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "broad_s3_access"), "FAIL", "{:?}", checks["broad_s3_access"]);
    assert!(checks["broad_s3_access"].1.contains("PowerUserish") && checks["broad_s3_access"].1.contains("NotAction"));

    // A narrow inline policy that the acting credentials may not read.
    let narrow =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#;
    iam.put_user_policy()
        .user_name("t3_chat")
        .policy_name("PowerUserish")
        .policy_document(narrow)
        .send()
        .await
        .unwrap();
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "broad_s3_access"), "PASS", "{:?}", checks["broad_s3_access"]);
    let denied = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: iam:GetUserPolicy</Message></Error><RequestId>1</RequestId></ErrorResponse>";
    let proxy = fault_proxy(server.port, move |request, _| match request.action.as_deref() {
        Some("GetUserPolicy") => Fault::Answer(403, denied),
        _ => Fault::Pass,
    });
    let out = run(ws.t3s3().env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).args([
        "--endpoint-url",
        &format!("http://127.0.0.1:{proxy}"),
        "doctor",
        "--json",
    ]));
    assert_eq!(out.code, 1, "{}", out.all());
    let broad = out.json()["checks"].as_array().unwrap().iter().find(|c| c["id"] == "broad_s3_access").unwrap().clone();
    assert_eq!(broad["status"], "FAIL", "{broad}");
    assert!(broad["evidence"].as_str().unwrap().contains("AccessDenied"), "{broad}");
}

#[tokio::test]
async fn a_env_linked_to_a_tracked_file_gets_no_secret_and_doctor_fails_it() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write(".gitignore", ".env\n*.env\n");
    let shared = "# shared settings\nDATABASE_URL=postgres://localhost/t3\n";
    ws.write("shared/settings.txt", shared);
    git(ws.path(), &["add", ".gitignore", "shared/settings.txt"]);
    git(ws.path(), &["commit", "-qm", "settings"]);
    std::fs::create_dir_all(ws.path().join("backend")).unwrap();
    std::os::unix::fs::symlink("../shared/settings.txt", ws.path().join("backend/.env")).unwrap();

    let out = run(ws.acting(&server).args([
        "--region",
        APP_REGION,
        "init",
        "--bucket",
        BUCKET,
        "--create-user",
        "--no-verify",
    ]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("git tracks it") && out.stderr.contains("settings.txt"), "{}", out.stderr);
    assert_eq!(ws.read("shared/settings.txt"), shared, "the tracked file was written");
    let users = root_iam(&server).list_users().send().await.unwrap();
    assert!(users.users().is_empty(), "exit 2 after creating a user");

    // doctor looks at the file really written, and leftover temp files beside it.
    ws.write("shared/settings.txt", "AWS_ACCESS_KEY_ID=AKIA2OGYBAH6TQ4XLGMK\n");
    ws.write("shared/.t3s3-crashed.tmp.env", "AWS_SECRET_ACCESS_KEY=x\n");
    let checks = doctor(&ws, &server);
    assert_eq!(status(&checks, "env_untracked"), "FAIL", "{:?}", checks["env_untracked"]);
    assert!(checks["env_untracked"].1.contains("a link to"), "{:?}", checks["env_untracked"]);
    assert_eq!(status(&checks, "env_ignored"), "FAIL", "{:?}", checks["env_ignored"]);
    // Committed without a key (the key is only in the working copy, which env_untracked fails).
    assert_eq!(status(&checks, "env_never_committed"), "WARN", "{:?}", checks["env_never_committed"]);
    assert_eq!(status(&checks, "env_temp_files"), "WARN", "{:?}", checks["env_temp_files"]);
}

#[tokio::test]
async fn rotate_key_dry_run_changes_nothing_and_says_what_it_would_do() {
    let server = moto(None);
    let ws = initialised(&server);
    let (keys, env) = (key_ids(&server, "t3_chat").await, ws.read("backend/.env"));
    let account = snapshot(&server).await;
    let out = run(ws.acting(&server).args(["rotate-key", "--dry-run"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("Dry run") && out.stdout.contains("until `t3s3 rotate-key --retire`"),
        "{}",
        out.stdout
    );
    let out = run(ws.acting(&server).args(["rotate-key", "--dry-run", "--now", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.json()["steps"].to_string().contains("deactivate and delete"), "{}", out.stdout);
    assert_eq!(key_ids(&server, "t3_chat").await, keys, "a dry run changed the keys");
    assert_eq!(snapshot(&server).await, account, "a dry run changed the account");
    assert_eq!(ws.read("backend/.env"), env, "a dry run changed the .env");
}

#[tokio::test]
async fn destroy_after_an_unretired_rotation_leaves_no_working_key() {
    let server = moto(None);
    let ws = initialised(&server);
    let out = run(ws.acting(&server).arg("rotate-key"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(key_ids(&server, "t3_chat").await.len(), 2, "the old key still works until --retire");
    let out = run(ws.acting(&server).args(["destroy", "--yes", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("replaced by rotate-key, never retired"), "{}", out.stdout);
    assert_eq!(key_ids(&server, "t3_chat").await, vec![], "a working key was left behind");
}

#[tokio::test]
async fn destroy_dry_run_on_a_bucket_with_objects_shows_the_plan_with_the_bucket_kept() {
    let server = moto(None);
    let ws = initialised(&server);
    let client = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    client.put_object().bucket(BUCKET).key("users/1/a.pdf").body(b"%PDF".to_vec().into()).send().await.unwrap();

    let out = run(ws.acting(&server).args(["destroy", "--dry-run", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    let bucket = report["steps"].as_array().unwrap().iter().find(|s| s["resource"] == "bucket").unwrap().clone();
    assert_eq!(bucket["status"], "kept", "{bucket}");
    assert!(bucket["name"].as_str().unwrap().contains("holds 1 object version: kept, needs --force"), "{bucket}");
    assert!(report["steps"].as_array().unwrap().iter().any(|s| s["resource"] == "policy" && s["status"] == "delete"));

    // Without --dry-run and --force: refused, nothing deleted.
    let out = run(ws.acting(&server).args(["destroy", "--yes"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(run(ws.t3s3().arg("verify")).code, 0, "something was deleted");
    // ls says "1 object".
    let out = run(ws.t3s3().arg("ls"));
    assert!(out.stdout.contains("1 object, 4 B in"), "{}", out.stdout);
}

#[tokio::test]
async fn a_team_gets_a_user_each_and_destroy_keeps_what_another_developer_uses() {
    let server = moto(None);
    let alice = initialised(&server);
    // Bob's clone: the same bucket, his own user in the shared group.
    let bob = Workspace::new();
    git(bob.path(), &["init", "-q"]);
    bob.write("backend/.env", "DEBUG=1\n");
    let out = run(bob.acting(&server).args(["--region", APP_REGION, "init", "--bucket", BUCKET]).args([
        "--create-user",
        "--user",
        "t3_chat-bob",
        "--no-verify",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(run(bob.t3s3().arg("verify")).code, 0);

    let out = run(alice.acting(&server).args(["destroy", "--yes"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("`t3_chat-bob` still uses"), "{}", out.stderr);
    assert!(out.stderr.contains("--include-others"), "{}", out.stderr);
    assert_eq!(run(bob.t3s3().arg("verify")).code, 0, "Bob's clone lost S3");
    let plan = run(alice.acting(&server).args(["destroy", "--dry-run"]));
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stderr.contains("warning:") && plan.stderr.contains("t3_chat-bob"), "{}", plan.stderr);

    let out = run(alice.acting(&server).args(["destroy", "--yes", "--include-others"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_ne!(run(bob.t3s3().arg("verify")).code, 0, "asked to, destroy took the team's bucket");
}

#[tokio::test]
async fn the_printed_next_step_works_when_pasted() {
    let server = moto(None);
    let ws = initialised(&server);
    let out = run(ws.acting(&server).args(["rotate-key", "--env-file", "backend/.env"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let next = out.stdout.lines().skip_while(|l| !l.contains("Next:")).nth(1).unwrap().trim().to_string();
    assert_eq!(next, format!("t3s3 --endpoint-url {} rotate-key --env-file backend/.env --retire", server.url()));
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_t3s3")).parent().unwrap().to_path_buf();
    let out = run(std::process::Command::new("bash")
        .env_clear()
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("HOME", ws.path())
        .env("AWS_CONFIG_FILE", ws.path().join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", ws.path().join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .current_dir(ws.path())
        .args(["-c", &next]));
    assert_eq!(out.code, 0, "`{next}` pasted: {}", out.all());
    assert!(out.stdout.contains("Retired"), "{}", out.stdout);
}

#[tokio::test]
async fn advice_in_errors_and_doctor_fixes_repeats_the_options_given() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("backend/.env", &format!("S3_BUCKET_NAME={BUCKET}\n"));
    let url = server.url();
    let out = run(ws.acting(&server).args(["--region", APP_REGION, "rotate-key", "--env-file", "backend/.env"]));
    assert_eq!(out.code, 2, "{}", out.all());
    let advised = format!("`t3s3 --region {APP_REGION} --endpoint-url {url} init --env-file backend/.env`");
    assert!(out.stderr.contains(&advised), "{}", out.stderr);
    // doctor's fixes name their commands the same way.
    let out = run(ws.acting(&server).args(["--region", APP_REGION, "doctor", "--json", "--env-file", "backend/.env"]));
    let fixes: Vec<String> =
        out.json()["checks"].as_array().unwrap().iter().map(|c| c["fix"].as_str().unwrap().to_string()).collect();
    let named: Vec<&String> = fixes.iter().filter(|f| f.contains("`t3s3 ")).collect();
    assert!(!named.is_empty(), "{fixes:?}");
    for fix in named {
        assert!(fix.contains(&format!("`t3s3 --region {APP_REGION} --endpoint-url {url} ")), "{fix}");
    }
    // Pasted as printed, the error's advice works.
    let line = advised.trim_matches('`');
    let mut pasted = ws.t3s3();
    pasted.env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET);
    let out = run(pasted.args(line.split(' ').skip(1)).args(["--create-user", "--no-verify"]));
    assert_eq!(out.code, 0, "`{line}`: {}", out.all());
    assert!(env_values(&ws.path().join("backend/.env")).contains_key("AWS_ACCESS_KEY_ID"));
}

#[test]
fn doctor_outside_a_project_says_so_in_a_line_not_thirty() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().arg("doctor"));
    assert_eq!(out.code, 1, "{}", out.all());
    let skipped: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("SKIPPED")).collect();
    assert!(skipped.len() <= 3, "one line a reason: {}", out.stdout);
    assert!(out.stdout.contains("SKIPPED 30 checks: no .env file to audit"), "{}", out.stdout);
    assert!(out.stdout.contains("FAIL    env_exists"), "{}", out.stdout);
}
