//! Bad flags, crashes and races. Every bad flag is exit 2 with a message and no
//! panic, before any request; `init` killed at any point leaves the .env old or complete and
//! no secret where git would see it, and a re-run ends with one key; two `init`s at once
//! take turns and leave one key.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::common::*;

/// A loopback endpoint that counts the connections made to it (and answers none): a bad
/// flag that slipped through to a request would show in the count.
fn counting_endpoint() -> (String, Arc<AtomicUsize>) {
    let (listener, port) = listen();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://127.0.0.1:{port}"), count)
}

/// `args` run with working credentials in the environment (so nothing fails for the want of
/// them): exit 2, `message` in what it says, no panic, one short message.
fn assert_bad_input(ws: &Workspace, args: &[String], message: &str) {
    let out = run(ws.t3s3().env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).args(args));
    assert_eq!(out.code, 2, "{args:?}\n{}", out.all());
    assert!(out.stderr.contains(message), "{args:?} must say {message:?}\n{}", out.all());
    for never in ["panicked", "backtrace", "RUST_BACKTRACE", "DispatchFailure"] {
        assert!(!out.all().contains(never), "{args:?}\n{}", out.all());
    }
    let lines = out.stderr.lines().filter(|line| !line.trim().is_empty()).count();
    assert!(lines <= 4, "{args:?}: one message, not a dump\n{}", out.stderr);
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[test]
fn every_bad_flag_is_exit_2_with_a_message_and_no_request() {
    let ws = Workspace::new();
    let (endpoint, connections) = counting_endpoint();
    ws.write_env(
        ".env",
        &Key { id: ROOT_KEY_ID.into(), secret: ROOT_SECRET.into() },
        APP_REGION,
        "t3-chat-documents-flags",
        &endpoint,
    );
    let acting = ["--region", APP_REGION, "--endpoint-url", endpoint.as_str()];
    let mut cases: Vec<(Vec<String>, String)> = Vec::new();

    for timeout in ["0", "3601", "18446744073709551615", "9223372036854775808", "abc", "", "1.5"] {
        cases.push((strings(&["verify", "--timeout", timeout]), format!("invalid value '{timeout}' for '--timeout")));
    }
    cases.push((strings(&["verify", "--timeout", "-1"]), "unexpected argument '-1'".into()));
    for (url, why) in [
        ("http://127.0.0.1:99999", "has port `99999`"),
        ("http://", "has no valid host name"),
        ("not a url", "is not an http:// or https:// URL"),
        ("ftp://127.0.0.1", "is not an http:// or https:// URL"),
        ("http://u:p@127.0.0.1", "carries a user name or password"),
        ("http://[::1", "has an unclosed [IPv6] host"),
        ("http://127.0.0.1:0", "has port `0`"),
        ("", "is not an http:// or https:// URL"),
    ] {
        let said = format!("--endpoint-url: the endpoint URL `{url}` {why}");
        cases.push((strings(&["--region", APP_REGION, "--endpoint-url", url, "init", "--create-user"]), said.clone()));
        for command in
            [&["verify"][..], &["doctor"], &["ls"], &["destroy"], &["ci-role", "--repo", "acme/t3"], &["rotate-key"]]
        {
            let mut args = strings(&["--endpoint-url", url]);
            args.extend(strings(command));
            cases.push((args, said.clone()));
        }
    }
    for region in ["", "US-EAST-1", "mumbai", "ap-south-1 ", "us_east_1", "../../etc"] {
        let said = format!("`{region}` (--region) is not an AWS region name");
        cases.push((
            strings(&["--region", region, "--endpoint-url", &endpoint, "init", "--env-file", "fresh.env"]),
            said,
        ));
    }
    let long = "a".repeat(64);
    for bucket in
        ["", "A", "a..b", long.as_str(), "192.168.1.1", "xn--abc", "-abc", "abc-", "ab", "sthree-x", "x-s3alias"]
    {
        cases.push((strings(&["policy", "--bucket", bucket]), format!("invalid bucket name `{bucket}`: must")));
    }
    for bucket in ["Bad_Name", "a..b", "192.168.1.1"] {
        let mut args = strings(&acting);
        args.extend(strings(&["init", "--env-file", "fresh.env", "--bucket", bucket]));
        cases.push((args, format!("invalid bucket name `{bucket}`")));
    }
    for command in ["init", "doctor", "destroy"] {
        let mut args = strings(&["--profile", "nope"]);
        args.extend(strings(&acting));
        args.push(command.into());
        cases.push((args, "the AWS profile `nope` (--profile) is not defined".into()));
    }

    std::fs::create_dir(ws.path().join("folder.env")).unwrap();
    std::os::unix::fs::symlink(ws.path().join("nowhere"), ws.path().join("dangling.env")).unwrap();
    std::fs::write(ws.path().join("latin1.env"), b"A=1\nB=caf\xe9\n").unwrap();
    std::fs::write(ws.path().join("unclosed.env"), "DEBUG=\"1\nAWS_REGION=ap-south-1\n").unwrap();
    let dangling = format!("dangling.env is a link to {}, which does not exist", ws.path().join("nowhere").display());
    let file_cases = [
        ("folder.env", "folder.env is a folder, not a .env file"),
        ("dangling.env", dangling.as_str()),
        ("latin1.env", "latin1.env line 2 is not UTF-8 text"),
        ("unclosed.env", "unclosed.env line 1: cannot be parsed: a \" quote never closes"),
    ];
    for (file, said) in file_cases {
        // verify reads the file only to test it; a file it cannot parse fails the check (exit 1).
        if file != "unclosed.env" {
            cases.push((strings(&["verify", "--env-file", file]), said.into()));
        }
        let mut args = strings(&acting);
        args.extend(strings(&["init", "--create-user", "--env-file", file]));
        cases.push((args, said.into()));
    }
    cases.push((strings(&["verify", "--env-file", "missing.env"]), "the env file missing.env does not exist".into()));
    for (args, said) in [
        (&["--color", "bogus", "verify"][..], "invalid value 'bogus' for '--color"),
        (&["verify", "--bogus"], "unexpected argument '--bogus'"),
        (&["bogus"], "unrecognized subcommand 'bogus'"),
        (&["policy", "--bucket"], "a value is required for '--bucket"),
    ] {
        cases.push((strings(args), said.into()));
    }

    assert!(cases.len() >= 99, "{} cases", cases.len());
    for (args, said) in &cases {
        assert_bad_input(&ws, args, said);
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "a bad flag reached the network");
    assert!(!ws.path().join("fresh.env").exists(), "nothing was written");
    assert_eq!(
        std::fs::read(ws.path().join("latin1.env")).unwrap(),
        b"A=1\nB=caf\xe9\n",
        "bad files are left as they were"
    );
    // The same setup with good flags does reach the endpoint: the count above could rise.
    let _ = run(ws.t3s3().args(["--timeout", "2", "verify"]));
    assert!(connections.load(Ordering::SeqCst) > 0, "verify never reached the counting endpoint");
}

/// The env file's values, as t3s3 reads them; `None` when the file is absent.
fn env_values(path: &std::path::Path) -> Option<BTreeMap<String, String>> {
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8(bytes).expect("a complete file");
    let env = t3s3::envfile::EnvFile::read(path).unwrap();
    assert!(env.parse_errors().is_empty(), "a whole file, never half of one: {text:?}");
    Some(env.values().0.into_iter().map(|(k, v)| (k, v.value)).collect())
}

fn git_in(ws: &Workspace, args: &[&str]) -> String {
    let out = Command::new("git").arg("-C").arg(ws.path()).args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn init_command(ws: &Workspace, server: &Server, user: &str, bucket: &str) -> Command {
    let mut command = ws.t3s3();
    command
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &server.url(), "--region", APP_REGION, "init", "--create-user"])
        .args(["--user", user, "--bucket", bucket, "--env-file", "backend/.env"]);
    command
}

async fn keys_of(server: &Server, user: &str) -> Vec<String> {
    let iam = iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"));
    match iam.list_access_keys().user_name(user).send().await {
        Ok(listed) => listed.access_key_metadata().iter().map(|k| k.access_key_id().unwrap().to_string()).collect(),
        Err(_) => Vec::new(),
    }
}

const ORIGINAL: &str = "# T3 Chat\nDEBUG=1\n";

fn project() -> Workspace {
    let ws = Workspace::new();
    git_in(&ws, &["init", "-q"]);
    ws.write("backend/.env", ORIGINAL);
    ws
}

#[tokio::test]
async fn init_killed_at_any_point_leaves_nothing_lost_and_a_rerun_ends_with_one_key() {
    let server = moto(None);
    // How long a whole init takes here, to spread the kills across it.
    let warm = project();
    let started = Instant::now();
    let out = run(&mut init_command(&warm, &server, "warmup", "t3-chat-documents-warmup"));
    assert_eq!(out.code, 0, "{}", out.all());
    let whole = started.elapsed();
    // Replay a failure with T3S3_KILL_SEED=<the seed it printed>.
    let seed = match std::env::var("T3S3_KILL_SEED") {
        Ok(seed) => seed.parse::<u64>().expect("T3S3_KILL_SEED is a number"),
        Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64,
    };
    eprintln!("kill points from seed {seed} (T3S3_KILL_SEED={seed} replays them)");
    let mut state = seed | 1;
    let rounds = 10u32;
    for round in 0..rounds {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let jitter = (state >> 33) as f64 / f64::from(u32::MAX);
        let at = whole.mul_f64((f64::from(round) + jitter) / f64::from(rounds));
        let ws = project();
        let (user, bucket) = (format!("killed{round}"), format!("t3-chat-documents-killed{round}"));
        let mut child =
            init_command(&ws, &server, &user, &bucket).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let context = format!("seed {seed}, round {round}, killed after {at:?} of {whole:?}");

        let env_path = ws.path().join("backend/.env");
        let values = env_values(&env_path).expect("the .env is still there");
        let text = std::fs::read_to_string(&env_path).unwrap();
        if text != ORIGINAL {
            assert!(text.starts_with(ORIGINAL), "{context}: other lines kept: {text:?}");
            for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "S3_BUCKET_NAME"] {
                assert!(values.contains_key(key), "{context}: a complete new .env: {text:?}");
            }
            assert_eq!(std::fs::metadata(&env_path).unwrap().permissions().mode() & 0o777, 0o600, "{context}");
        }
        let visible = git_in(&ws, &["status", "--porcelain", "--untracked-files=all"]);
        for line in visible.lines() {
            let path = ws.path().join(line.trim_start_matches("?? "));
            let contents = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(!contents.contains("AWS_SECRET_ACCESS_KEY"), "{context}: git would pick up a secret in {line}");
        }

        let again = run(init_command(&ws, &server, &user, &bucket).args(["--yes", "--no-verify", "--json"]));
        assert_eq!(again.code, 0, "{context}: the re-run converges\n{}", again.all());
        let keys = keys_of(&server, &user).await;
        assert_eq!(keys.len(), 1, "{context}: exactly one key after the re-run: {keys:?}");
        assert_eq!(env_values(&env_path).unwrap()["AWS_ACCESS_KEY_ID"], keys[0], "{context}: the .env holds it");
        assert!(t3s3::fsio::stray_temp_files(&env_path).is_empty(), "{context}: temp files removed");
    }
}

#[tokio::test]
async fn two_inits_at_once_take_turns_and_leave_one_key() {
    let server = moto(None);
    for round in 0..3 {
        let ws = project();
        let (user, bucket) = (format!("racer{round}"), format!("t3-chat-documents-race{round}"));
        let children: Vec<_> = (0..2)
            .map(|_| {
                init_command(&ws, &server, &user, &bucket)
                    .args(["--json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let keys = keys_of(&server, &user).await;
        assert_eq!(keys.len(), 1, "round {round}: {keys:?}");
        let values = env_values(&ws.path().join("backend/.env")).unwrap();
        assert_eq!(values["AWS_ACCESS_KEY_ID"], keys[0], "round {round}: the .env holds the one key");
    }
}

/// Item 6 and 7: what a killed run can leave (a temp file holding the new .env, a key it
/// never wrote) is ignored by git, reported by doctor, and cleared by the next init.
#[tokio::test]
async fn leftovers_of_a_killed_run_are_ignored_reported_and_cleared() {
    let server = moto(None);
    let ws = project();
    let out = run(init_command(&ws, &server, "t3_chat", "t3-chat-documents-leftovers").args(["--no-verify"]));
    assert_eq!(out.code, 0, "{}", out.all());
    // What a SIGKILL during the .env write leaves, and a key created whose secret was lost.
    let stale = ws.write("backend/.t3s3-AbC123.tmp.env", "AWS_SECRET_ACCESS_KEY=lost\n");
    let root = iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"));
    // The creating mark lists the keys that existed before; the lost key is not among them.
    let written_key = env_values(&ws.path().join("backend/.env")).unwrap()["AWS_ACCESS_KEY_ID"].clone();
    let mark = aws_sdk_iam::types::Tag::builder().key("t3s3:creating").value(written_key).build().unwrap();
    root.tag_user().user_name("t3_chat").tags(mark).send().await.unwrap();
    let lost = create_key(&root, "t3_chat").await;

    let ignored = Command::new("git")
        .arg("-C")
        .arg(ws.path())
        .args(["check-ignore", "-q", "backend/.t3s3-AbC123.tmp.env"])
        .status()
        .unwrap();
    assert!(ignored.success(), "git ignores the temp file");

    let doctor = run(ws.t3s3().env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).args([
        "--endpoint-url",
        &server.url(),
        "doctor",
        "--json",
    ]));
    let checks = doctor.json()["checks"].clone();
    let check = |id: &str| checks.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(check("env_temp_files")["status"], "WARN", "{checks}");
    assert!(check("env_temp_files")["evidence"].as_str().unwrap().contains(".t3s3-AbC123.tmp.env"));
    assert_eq!(check("unwritten_keys")["status"], "WARN", "{checks}");
    assert!(check("unwritten_keys")["evidence"].as_str().unwrap().contains(&lost.id));

    let again =
        run(init_command(&ws, &server, "t3_chat", "t3-chat-documents-leftovers").args(["--no-verify", "--yes"]));
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.stdout.contains("Removed backend/.t3s3-AbC123.tmp.env"), "{}", again.stdout);
    assert!(!stale.exists());
    assert_eq!(keys_of(&server, "t3_chat").await.len(), 1, "the lost key was deleted with --yes");
}

/// Item 11: every command has --timeout; a silent endpoint costs about that, not 60 s.
#[test]
fn init_against_a_silent_endpoint_gives_up_after_timeout() {
    let ws = project();
    let started = Instant::now();
    let out = run(ws
        .t3s3()
        .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
        .args(["--endpoint-url", &format!("http://127.0.0.1:{}", silent_server()), "--region", APP_REGION])
        .args(["--timeout", "1", "init", "--json"]));
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.json()["error"]
            .as_str()
            .unwrap()
            .contains("sts:GetCallerIdentity on the acting credentials: no answer in time"),
        "{}",
        out.stdout
    );
    assert!(started.elapsed().as_secs_f64() < 4.0, "took {:?}", started.elapsed());
    assert_eq!(std::fs::read_to_string(ws.path().join("backend/.env")).unwrap(), ORIGINAL);
}

/// Item 12: an unknown profile names itself and the files looked in.
#[test]
fn an_unknown_profile_is_named_with_the_files_looked_in() {
    let ws = project();
    ws.write("no-aws-config", "[default]\nregion = ap-south-1\n[profile admin]\n");
    let out = run(ws.t3s3().args(["--profile", "nope", "--region", APP_REGION, "doctor"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("the AWS profile `nope` (--profile) is not defined in"), "{}", out.stderr);
    assert!(out.stderr.contains("no-aws-config") && out.stderr.contains("no-aws-credentials"), "{}", out.stderr);
    assert!(out.stderr.contains("defined: default, admin"), "{}", out.stderr);
}
