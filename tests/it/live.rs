//! The one test against real AWS: init, verify, doctor, rotate-key and destroy on a
//! throwaway bucket, user, policy and group. Ignored (shown as such in every run) unless run
//! with `--ignored` and `T3S3_LIVE_PROFILE` naming a profile of yours; never run by this
//! repository's CI. Everything it makes has a name of its
//! own (a random suffix), so nothing of yours is touched, and it is removed even when a step
//! fails. Cost: a handful of requests and one 49-byte object for a few seconds, nothing
//! measurable within the free tier.
//!
//!   T3S3_LIVE_PROFILE=admin T3S3_LIVE_REGION=ap-south-1 cargo test --test it live:: -- --ignored --nocapture

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

struct Live {
    profile: String,
    region: String,
    dir: tempfile::TempDir,
    suffix: String,
}

impl Live {
    fn names(&self) -> (String, String, String) {
        let s = &self.suffix;
        (format!("t3s3-live-{s}"), format!("T3s3Live{s}"), format!("t3s3-live-{s}"))
    }

    /// The real binary with the developer's own AWS configuration (never an emulator).
    fn t3s3(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_t3s3"))
            .current_dir(self.dir.path())
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args(["--profile", &self.profile, "--region", &self.region])
            .args(args)
            .output()
            .expect("run t3s3");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(!text.contains("panicked"), "{text}");
        println!("$ t3s3 {}\n{text}", args.join(" "));
        output
    }

    fn env_path(&self) -> PathBuf {
        self.dir.path().join(".env")
    }
}

/// Removes what the test made, whatever happened: destroy (bucket, policy, group, key, .env
/// settings), then the throwaway user (with any key left).
impl Drop for Live {
    fn drop(&mut self) {
        let (user, policy, group) = self.names();
        if self.env_path().exists() {
            self.t3s3(&["destroy", "--force", "--yes", "--policy-name", &policy, "--group", &group]);
        }
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(delete_user(&self.profile, &user));
    }
}

async fn delete_user(profile: &str, user: &str) {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).profile_name(profile).load().await;
    let iam = aws_sdk_iam::Client::new(&config);
    if let Ok(keys) = iam.list_access_keys().user_name(user).send().await {
        for key in keys.access_key_metadata() {
            let _ = iam
                .delete_access_key()
                .user_name(user)
                .access_key_id(key.access_key_id().unwrap_or_default())
                .send()
                .await;
        }
    }
    if let Ok(groups) = iam.list_groups_for_user().user_name(user).send().await {
        for group in groups.groups() {
            let _ = iam.remove_user_from_group().group_name(group.group_name()).user_name(user).send().await;
        }
    }
    if let Ok(tags) = iam.list_user_tags().user_name(user).send().await {
        let keys: Vec<String> = tags.tags().iter().map(|t| t.key().to_string()).collect();
        if !keys.is_empty() {
            let _ = iam.untag_user().user_name(user).set_tag_keys(Some(keys)).send().await;
        }
    }
    let _ = iam.delete_user().user_name(user).send().await;
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null)
}

#[test]
#[ignore = "talks to real AWS: run with --ignored and T3S3_LIVE_PROFILE=<your admin profile>"]
fn live_init_verify_doctor_rotate_destroy() {
    let profile = std::env::var("T3S3_LIVE_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())
        .expect("set T3S3_LIVE_PROFILE=<your AWS profile> (and T3S3_LIVE_REGION) to run against AWS");
    let region = std::env::var("T3S3_LIVE_REGION").unwrap_or_else(|_| "us-east-1".into());
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let live =
        Live { profile, region, dir: tempfile::tempdir().unwrap(), suffix: format!("{:x}", nanos % 0xffff_ffff) };
    let (user, policy, group) = live.names();

    let init = live.t3s3(&[
        "init",
        "--json",
        "--create-user",
        "--user",
        &user,
        "--policy-name",
        &policy,
        "--group",
        &group,
        "--global-namespace",
    ]);
    assert_eq!(init.status.code(), Some(0), "init failed");
    let report = json(&init);
    assert_eq!(report["verify"]["ok"], true, "{report}");
    assert!(Path::new(&live.env_path()).exists());

    let verify = live.t3s3(&["verify", "--json"]);
    assert_eq!(verify.status.code(), Some(0), "verify failed");

    let doctor = live.t3s3(&["doctor", "--json", "--policy-name", &policy]);
    let checks = json(&doctor);
    for id in ["app_identity", "bucket_reachable", "public_access_block", "default_encryption", "policy_drift"] {
        let check =
            checks["checks"].as_array().and_then(|c| c.iter().find(|c| c["id"] == id)).cloned().unwrap_or_default();
        assert_eq!(check["status"], "PASS", "{id}: {check}");
    }

    let rotate = live.t3s3(&["rotate-key", "--json"]);
    assert_eq!(rotate.status.code(), Some(0), "rotate-key failed");
    let again = live.t3s3(&["verify"]);
    assert_eq!(again.status.code(), Some(0), "verify after the rotation failed");
    let retire = live.t3s3(&["rotate-key", "--retire", "--json"]);
    assert_eq!(retire.status.code(), Some(0), "rotate-key --retire failed");
    // Drop runs destroy and deletes the user.
}
