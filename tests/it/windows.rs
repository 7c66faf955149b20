//! The Windows binary (x86_64-pc-windows-gnu, built by scripts/build-windows.sh) run under
//! Wine against moto on 127.0.0.1: what a Windows user of the guide would see. Built only
//! with `--features wine-tests` (scripts/test.sh turns it on when Wine and MinGW are here,
//! and names it as skipped when they are not).
//!
//! Wine cannot stand in for two things, covered by plain-function tests instead: ACLs (its
//! icacls prints nothing and changes nothing: `fsio::acl_tests`) and Git for Windows
//! (none in the prefix: guard is run on named files here, on staged ones in tests/it/guard.rs).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Once;

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-wine";

fn exe() -> PathBuf {
    let path = repo().join("target/windows/x86_64-pc-windows-gnu/debug/t3s3.exe");
    assert!(path.is_file(), "{} is missing: run scripts/build-windows.sh", path.display());
    path
}

fn prefix() -> PathBuf {
    repo().join("target/wineprefix")
}

/// Wine makes its prefix on first use; two tests doing it at once would collide.
fn wine_ready() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        let status = Command::new("wine")
            .args(["cmd", "/c", "exit"])
            .env("WINEPREFIX", prefix())
            .env("WINEDEBUG", "-all")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wine (scripts/install-system-tools.sh installs it)");
        assert!(status.success(), "wine cannot start");
    });
}

/// `t3s3.exe` under Wine in `ws`, with the same cleared environment as the Linux tests.
fn windows(ws: &Workspace) -> Command {
    wine_ready();
    let mut command = Command::new("wine");
    command
        .arg(exe())
        .current_dir(ws.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", ws.path())
        .env("WINEPREFIX", prefix())
        .env("WINEDEBUG", "-all")
        .env("USERNAME", "dev")
        .env("AWS_CONFIG_FILE", ws.path().join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", ws.path().join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

fn acting(ws: &Workspace, server: &Server) -> Command {
    let mut command = windows(ws);
    command.env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).args([
        "--endpoint-url",
        &server.url(),
        "--region",
        APP_REGION,
    ]);
    command
}

/// Nothing a Windows user sees may talk of Unix file modes.
fn no_unix_talk(out: &Run) {
    for unix in ["chmod", "mode 0", "0600", "Unix"] {
        assert!(!out.all().contains(unix), "{unix:?} shown on Windows:\n{}", out.all());
    }
}

#[test]
fn policy_and_bad_input_behave_as_on_linux() {
    let ws = Workspace::new();
    let out = run(windows(&ws).args(["policy", "--bucket", BUCKET]));
    assert_eq!(out.code, 0, "{}", out.all());
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(document["Statement"][0]["Resource"], format!("arn:aws:s3:::{BUCKET}/*"));
    let out = run(windows(&ws).args(["policy", "--bucket", "Bad_Bucket"]));
    assert_eq!(out.code, 2, "{}", out.all());
    let out = run(windows(&ws).args(["completions", "powershell"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("Register-ArgumentCompleter") && out.stdout.contains("'t3s3'"), "{}", out.stdout);
}

#[test]
fn init_verify_doctor_rotate_and_destroy_on_windows() {
    let server = moto(None);
    let ws = Workspace::new();
    // A .env saved by a Windows editor: CRLF line endings, kept for every line.
    ws.write("backend/.env", "# T3 Chat\r\nDATABASE_URL=postgres://localhost/t3\r\n");

    let out = run(acting(&ws, &server).args(["init", "--bucket", BUCKET, "--create-user"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("ALL TESTS PASSED"), "{}", out.stdout);
    no_unix_talk(&out);
    let env = ws.read("backend/.env");
    assert!(env.starts_with("# T3 Chat\r\nDATABASE_URL=postgres://localhost/t3\r\n"), "{env:?}");
    assert!(env.contains(&format!("\r\nS3_BUCKET_NAME={BUCKET}\r\n")), "{env:?}");
    assert!(!env.replace("\r\n", "").contains('\n'), "a bare LF in a CRLF file: {env:?}");
    let values = dotenvy::from_path_iter(ws.path().join("backend/.env")).unwrap().map(Result::unwrap);
    let values: std::collections::BTreeMap<String, String> = values.collect();
    assert!(values["AWS_ACCESS_KEY_ID"].starts_with("AKIA"), "{values:?}");
    assert!(ws.read(".gitignore").contains("*.env"));
    assert!(ws.path().join("backend/.t3s3-lock.env").exists(), "the lock file beside the .env");
    // A second run converges: nothing new.
    let again = run(acting(&ws, &server).args(["init", "--bucket", BUCKET, "--json", "--no-verify"]));
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(again.json()["requests"]["mutating"], 0, "a second run changes nothing: {}", again.stdout);

    let out = run(windows(&ws).args(["verify", "--env-file", "backend/.env"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("backend/.env"), "the path as the user typed it: {}", out.stdout);
    let out = run(windows(&ws).args(["verify", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["ok"], true);
    assert_eq!(out.json()["env_file"], "backend\\.env", "found by t3s3: Windows separators");

    let out = run(acting(&ws, &server).args(["doctor", "--json"]));
    assert_eq!(out.code, 1, "moto's root has no MFA: {}", out.all());
    let checks = out.json();
    let check = |id: &str| checks["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    // Wine's icacls reads nothing: doctor says it could not tell, never PASS.
    let mode = check("env_mode");
    assert_eq!(mode["status"], "WARN", "{mode}");
    assert!(mode["evidence"].as_str().unwrap().contains("could not read the ACL"), "{mode}");
    assert_eq!(check("app_identity")["status"], "PASS");
    assert_eq!(check("policy_drift")["status"], "PASS");

    let old = values["AWS_ACCESS_KEY_ID"].clone();
    let out = run(acting(&ws, &server).args(["rotate-key", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["old_key_action"], "active");
    let out = run(acting(&ws, &server).args(["rotate-key", "--retire"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains(&old), "{}", out.stdout);
    assert!(ws.read("backend/.env").starts_with("# T3 Chat\r\n"), "CRLF kept through the rotation");

    let out = run(acting(&ws, &server).args(["destroy", "--yes", "--force"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!ws.read("backend/.env").contains("AWS_ACCESS_KEY_ID"));
    assert!(ws.read("backend/.env").starts_with("# T3 Chat\r\nDATABASE_URL=postgres://localhost/t3\r\n"));
}

#[test]
fn guard_reads_named_files_on_windows() {
    let ws = Workspace::new();
    ws.write("app.py", "print('hi')\r\n");
    ws.write("settings.py", "aws_secret_access_key = \"k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0\"\r\n");
    let out = run(windows(&ws).args(["guard", "app.py"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let out = run(windows(&ws).args(["guard", "app.py", "settings.py", ".env.local"]));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("settings.py:1") && out.stdout.contains(".env.local"), "{}", out.stdout);
    assert!(!out.stdout.contains("k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0"));
}
