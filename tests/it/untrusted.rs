//! Untrusted input, fail closed: object keys end users chose, text a server sends, a git that
//! cannot answer, files that are not files. Each case runs the real binary against moto or a
//! loopback stand-in.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-untrusted";

/// What end users upload: the file name ends the key, so any character S3 accepts.
const USER_KEYS: [&str; 9] = [
    "users/1/c/d/report\x1b]0;owned\x07\x1b[2J.pdf",
    "users/2/c/d/line\rALL TESTS PASSED.pdf",
    "users/3/c/d/bell\x07 and C1 \u{85}\u{9b}31m.pdf",
    "users/4/c/d/invoice\u{202e}fdp.exe",
    // moto's HTTP server cannot route a path holding a line feed (S3 can): `ui::one_line`'s
    // unit test covers `\n`; U+2028 is the line separator terminals may break on.
    "users/5/c/d/two\u{2028}lines.pdf",
    "users/6/c/d/space and+plus%25 & <tag> 'q' \"dq\".pdf",
    "users/7/c/d/\u{2066}isolate\u{2069}\u{200f}.pdf",
    "users/8/c/d/tab\there\u{7f}.pdf",
    "top\x01level",
];

/// Fails with the character when `text` holds anything a terminal would act on.
fn assert_terminal_safe(text: &str) {
    let unsafe_char = text.chars().find(|c| {
        (c.is_control() && *c != '\n')
            || matches!(*c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
    });
    assert_eq!(unsafe_char, None, "a control or bidi character reached the terminal:\n{text:?}");
}

/// A project set up by init against `server`, in a git repository.
fn initialised(server: &Server) -> Workspace {
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("backend/.env", "DEBUG=1\n");
    ws.initialise(server, BUCKET);
    ws
}

#[tokio::test]
async fn every_key_an_end_user_chose_lists_round_trips_and_is_deleted_by_destroy() {
    let server = moto(None);
    let ws = initialised(&server);
    let client = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    for key in USER_KEYS {
        client.put_object().bucket(BUCKET).key(key).body(b"%PDF".to_vec().into()).send().await.unwrap();
    }

    let out = run(ws.t3s3().args(["ls", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let mut listed: Vec<String> =
        out.json()["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap().to_string()).collect();
    let mut expected: Vec<String> = USER_KEYS.iter().map(|k| k.to_string()).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "--json gives every key byte for byte");

    let out = run(ws.t3s3().arg("ls"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_terminal_safe(&out.all());
    assert_eq!(out.stdout.lines().count(), USER_KEYS.len() + 1, "one line a key, then the total:\n{}", out.stdout);
    assert!(out.stdout.contains("invoice\\u{202e}fdp.exe"), "{}", out.stdout);
    assert!(out.stdout.contains("two\\u{2028}lines.pdf"), "{}", out.stdout);
    assert!(out.stdout.contains("line\\rALL TESTS PASSED.pdf"), "{}", out.stdout);

    let out = run(ws.t3s3().args(["ls", "--summary"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_terminal_safe(&out.all());
    assert!(out.stdout.contains("9 objects,"), "{}", out.stdout);

    let out = run(ws.acting(&server).args(["destroy", "--force", "--yes"]));
    assert_eq!(out.code, 0, "one upload must not block teardown: {}", out.all());
    assert_terminal_safe(&out.all());
    let buckets = client.list_buckets().send().await.unwrap();
    assert!(buckets.buckets().iter().all(|b| b.name() != Some(BUCKET)), "the bucket is gone");
}

/// An S3 stand-in whose every answer is a 403 carrying `message`.
fn refusing_endpoint(message: &str) -> String {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>{message}</Message><RequestId>r1</RequestId></Error>"
    );
    format!("http://127.0.0.1:{}", canned_server("403 Forbidden", vec![], body))
}

#[test]
fn a_servers_message_is_shown_not_obeyed_and_never_repeats_the_secret() {
    let secret = "Zq3/Vb8+Nm2xLp9/Rt5yWc1+Ke7uJh4sGd6aFo0i";
    let url_encoded = "Zq3%2FVb8%2BNm2xLp9%2FRt5yWc1%2BKe7uJh4sGd6aFo0i";
    let json_escaped = "Zq3\\/Vb8+Nm2xLp9\\/Rt5yWc1+Ke7uJh4sGd6aFo0i";
    let tail = &secret[18..];
    // The escape sequences travel as XML character references, as S3 would send them.
    let message = format!(
        "&#x1B;]0;pwned&#x7;&#x1B;[2J&#x1B;[32mALL TESTS PASSED&#x1B;[0m&#x1B;]52;c;Y3VybCBldmls&#x7; secret {secret} url {url_encoded} json {json_escaped} cut ...{tail}"
    );
    let endpoint = refusing_endpoint(&message);
    let ws = Workspace::new();
    let key = Key { id: "AKIAZZZZZZZZZZZZZZZZ".into(), secret: secret.into() };
    ws.write_env("backend/.env", &key, APP_REGION, BUCKET, &endpoint);

    for args in [&["ls"][..], &["ls", "--json"], &["verify"], &["verify", "--json"]] {
        let out = run(ws.t3s3().args(args));
        assert_ne!(out.code, 0, "{args:?}: {}", out.all());
        let all = out.all();
        assert_terminal_safe(&all);
        for shape in [secret, url_encoded, json_escaped, tail, &secret[..14]] {
            assert!(!all.contains(shape), "{args:?} printed the secret as {shape:?}:\n{all}");
        }
        assert!(all.contains("AKIAZZZZZZZZZZZZZZZZ") || !all.contains("AKIA"), "the key id may show: {all}");
        if !args.contains(&"--json") {
            assert!(all.contains("\\x1b]0;pwned\\x07"), "{args:?} hid the server's text instead of showing it:\n{all}");
        }
    }
}

#[tokio::test]
async fn a_git_that_cannot_answer_gets_no_secret_written() {
    let server = moto(None);
    let iam_client = iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"));
    let users = || async { iam_client.list_users().send().await.unwrap().users().len() };

    // A corrupt index: git runs and fails.
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    let before = "DEBUG=1\n";
    ws.write("backend/.env", before);
    std::fs::write(ws.path().join(".git/index"), b"DIRC garbage that is no index").unwrap();
    let out = run(ws.acting(&server).args(["--region", APP_REGION, "init", "--create-user", "--no-verify"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("git cannot answer") && out.stderr.contains("index"), "{}", out.stderr);
    assert!(out.stderr.contains("next:"), "{}", out.stderr);
    assert_eq!(ws.read("backend/.env"), before, "the .env was written");
    assert_eq!(users().await, 0, "a user was created before the refusal");
    let doctor = run(ws.acting(&server).args(["doctor", "--json"]));
    let tracked = check_in(&doctor.json(), "env_untracked");
    assert_eq!(tracked["status"], "SKIPPED", "{tracked}");
    assert!(tracked["evidence"].as_str().unwrap().contains("git cannot answer"), "{tracked}");

    // A repository, and no git to ask.
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join(".git")).unwrap();
    ws.write("backend/.env", before);
    let no_git = tempfile::tempdir().unwrap();
    let out = run(ws.acting(&server).env("PATH", no_git.path()).args([
        "--region",
        APP_REGION,
        "init",
        "--create-user",
        "--no-verify",
    ]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("git cannot be run"), "{}", out.stderr);
    assert_eq!(ws.read("backend/.env"), before);
    assert_eq!(users().await, 0);

    // A repository someone else owns ("dubious ownership", a bind-mounted checkout in a
    // container). Only root can give a folder away, so only root runs this part (CI is root).
    if is_root() {
        let ws = Workspace::new();
        git(ws.path(), &["init", "-q"]);
        ws.write("backend/.env", before);
        let status = Command::new("chown").args(["-R", "4242"]).arg(ws.path()).status().unwrap();
        assert!(status.success());
        let out = run(ws.acting(&server).args(["--region", APP_REGION, "init", "--create-user", "--no-verify"]));
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(out.stderr.contains("safe.directory"), "{}", out.stderr);
        assert_eq!(ws.read("backend/.env"), before);
    }

    // And rotate-key, on a project init set up before the index broke.
    let ws = initialised(&server);
    let env_before = ws.read("backend/.env");
    std::fs::write(ws.path().join(".git/index"), b"DIRC garbage that is no index").unwrap();
    let out = run(ws.acting(&server).args(["rotate-key", "--yes"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("git cannot answer"), "{}", out.stderr);
    assert_eq!(ws.read("backend/.env"), env_before);
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Runs `command`, killing it after `limit`; its exit code (None when it had to be killed),
/// stdout and stderr.
fn run_within(command: &mut Command, limit: Duration) -> (Option<i32>, String, String) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (code, out, err)
}

fn mkfifo(path: &std::path::Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[tokio::test]
async fn files_that_are_not_files_are_refused_by_name_and_nothing_waits() {
    let server = moto(None);
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    std::fs::create_dir_all(ws.path().join("backend")).unwrap();
    mkfifo(&ws.path().join("backend/.env"));
    let (code, _, err) = run_within(
        ws.acting(&server).args(["--region", APP_REGION, "init", "--create-user", "--no-verify"]),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(2), "init on a FIFO .env: {err}");
    assert!(err.contains("backend/.env") && err.contains("FIFO"), "{err}");

    // A venv whose .pth files are a FIFO and a link to /dev/zero: doctor reads neither.
    let ws = initialised(&server);
    let venv = ws.path().join("backend/venv");
    let site = venv.join("lib/python3.11/site-packages");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\nversion_info = 3.11.7\n").unwrap();
    let python = venv.join("bin/python");
    std::fs::write(&python, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    mkfifo(&site.join("fifo.pth"));
    std::os::unix::fs::symlink("/dev/zero", site.join("zero.pth")).unwrap();
    let (code, out, err) = run_within(ws.acting(&server).args(["doctor", "--json"]), Duration::from_secs(60));
    assert!(matches!(code, Some(0 | 1)), "doctor did not finish on its own ({code:?}): {err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(check_in(&report, "backend_python")["status"], "PASS", "{report}");

    // guard named a FIFO: reported, not waited on.
    let fifo = ws.path().join("notes.txt");
    mkfifo(&fifo);
    let (code, out, _) = run_within(ws.t3s3().args(["guard", "notes.txt"]), Duration::from_secs(30));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("notes.txt") && out.contains("FIFO"), "{out}");
}

#[tokio::test]
async fn ls_with_a_key_that_may_not_list_points_at_the_keys_policy_not_at_profile() {
    let (server, admin) = enforcing_moto().await;
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, APP_REGION);
    create_bucket(&s3(&config), BUCKET, APP_REGION).await;
    let read_only = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")}]});
    let app = app_user_with_policy(&iam(&config), &read_only).await;
    let ws = Workspace::new();
    ws.write_env("backend/.env", &app, APP_REGION, BUCKET, &server.url());

    let out = run(ws.t3s3().arg("ls"));
    assert_eq!(out.code, 2, "a key refused is configuration: {}", out.all());
    assert!(!out.stderr.contains("--profile"), "ls takes no --profile: {}", out.stderr);
    assert!(out.stderr.contains(&app.id) && out.stderr.contains("T3ChatS3Policy"), "{}", out.stderr);
    assert!(out.stderr.contains(&format!("t3s3 init --bucket {BUCKET}")), "{}", out.stderr);
}

#[tokio::test]
async fn doctor_sends_the_backends_key_where_verify_does_and_a_bad_endpoint_is_refused_everywhere() {
    let server = moto(None);
    let ws = initialised(&server);
    // The .env names no endpoint: it comes from the flag, as verify takes it.
    let env = ws.read("backend/.env");
    let without: String =
        env.lines().filter(|l| !l.starts_with("AWS_ENDPOINT_URL=")).map(|l| format!("{l}\n")).collect();
    ws.write("backend/.env", &without);
    assert_eq!(run(ws.t3s3().args(["--endpoint-url", &server.url(), "verify"])).code, 0);
    let out = run(ws.acting(&server).args(["doctor", "--json"]));
    let identity = check_in(&out.json(), "app_identity");
    assert_eq!(identity["status"], "PASS", "the backend's key went elsewhere: {identity}");
    assert!(!out.all().contains("amazonaws.com:"), "{}", out.all());

    for command in [
        &["ls"][..],
        &["doctor"],
        &["verify"],
        &["init", "--no-verify"],
        &["destroy", "--dry-run"],
        &["rotate-key", "--dry-run"],
        &["ci-role", "--repo", "acme/t3-chat", "--dry-run"],
    ] {
        let out = run(ws
            .t3s3()
            .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
            .args(["--endpoint-url", "ftp://x"])
            .args(command));
        assert_eq!(out.code, 2, "{command:?}: {}", out.all());
        assert!(out.stderr.contains("--endpoint-url: the endpoint URL `ftp://x`"), "{command:?}: {}", out.stderr);
    }
}
