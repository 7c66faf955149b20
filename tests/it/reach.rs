//! First contact: what a new user meets before anything works. The version names its
//! build; a missing key is said before a region is asked for; doctor's advice fits the case.

use std::process::Command;

use crate::common::*;

#[test]
fn version_names_the_commit_and_the_target() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().arg("--version"));
    assert_eq!(out.code, 0, "{}", out.all());
    let head = Command::new("git").current_dir(repo()).args(["rev-parse", "--short=12", "HEAD"]).output().unwrap();
    // A build from a git checkout names its commit (cargo rebuilds when .git/refs change);
    // one from a source tarball, where git has no HEAD to give, says "unknown".
    let head = match head.status.success() {
        true => String::from_utf8_lossy(&head.stdout).trim().to_string(),
        false => "unknown".to_string(),
    };
    let line = out.stdout.trim();
    assert!(
        line.starts_with(&format!("t3s3 {} (commit {head}", env!("CARGO_PKG_VERSION"))),
        "{line} does not name {head}"
    );
    assert!(line.contains(std::env::consts::ARCH), "{line}");
}

#[test]
fn init_without_credentials_says_so_before_asking_for_a_region() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().arg("init"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no AWS credentials were found"), "{}", out.stderr);
    assert!(!out.stderr.contains("region"), "asked about the region first:\n{}", out.stderr);
}

#[test]
fn an_empty_answer_to_the_region_question_asks_again() {
    let server = moto(None);
    let ws = Workspace::new();
    let mut init = ws.acting(&server);
    init.args(["init", "--create-user", "--no-verify", "--env-file", ".env"]);
    let out = on_terminal(&init, &["", "north-pole", "1"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("Which AWS region should the bucket live in?"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("Please answer 1-4 or a region code").count(), 2, "{}", out.stdout);
    assert!(ws.read(".env").contains("AWS_REGION=ap-south-1\n"), "{}", ws.read(".env"));
}

#[tokio::test]
async fn doctor_advises_init_for_missing_settings_and_checks_the_account_without_a_env() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write(".env", "DEBUG=1\n");
    let acting = |ws: &Workspace| {
        let mut command = ws.t3s3();
        command.env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID).env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET).args([
            "--endpoint-url",
            &server.url(),
            "--region",
            APP_REGION,
            "doctor",
            "--json",
        ]);
        command
    };
    let check = |report: &serde_json::Value, id: &str| {
        report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone()
    };
    let report = run(&mut acting(&ws)).json();
    let lint = check(&report, "env_lint");
    assert_eq!(lint["status"], "FAIL", "{lint}");
    // The advice repeats the options given, so it works when pasted.
    let advised = format!("run `t3s3 --region {APP_REGION} --endpoint-url {} init` to add them to .env", server.url());
    assert_eq!(lint["fix"], advised, "{lint}");

    // No .env at all: the account-wide checks still run (moto's root has no MFA).
    let empty = Workspace::new();
    let report = run(&mut acting(&empty)).json();
    assert_eq!(check(&report, "env_exists")["status"], "FAIL");
    let mfa = check(&report, "root_mfa");
    assert_eq!(mfa["status"], "FAIL", "{mfa}");
    assert!(mfa["evidence"].as_str().unwrap().contains("AccountMFAEnabled is 0"), "{mfa}");
    assert_eq!(check(&report, "bucket_reachable")["status"], "SKIPPED");
}

#[test]
fn each_command_offers_only_the_options_that_do_something_and_refuses_the_rest() {
    let ws = Workspace::new();
    let policy_help = run(ws.t3s3().args(["policy", "--help"]));
    assert_eq!(policy_help.code, 0, "{}", policy_help.all());
    for idle in ["--profile", "--region", "--endpoint-url", "--timeout", "--verbose", "--quiet"] {
        assert!(!policy_help.stdout.contains(idle), "policy --help offers {idle}:\n{}", policy_help.stdout);
    }
    assert!(policy_help.stdout.contains("--json"), "{}", policy_help.stdout);
    let verify_help = run(ws.t3s3().args(["verify", "--help"]));
    assert!(!verify_help.stdout.contains("--profile"), "verify never uses a profile:\n{}", verify_help.stdout);
    assert!(verify_help.stdout.contains("instead of the .env's AWS_REGION"), "{}", verify_help.stdout);
    let init_help = run(ws.t3s3().args(["init", "--help"]));
    assert!(init_help.stdout.contains("--profile"), "{}", init_help.stdout);

    // Typed anyway, before or after the command's name: exit 2, named, and nothing printed.
    for args in [
        &["--profile", "admin", "policy", "--bucket", "t3-chat-documents-abc"][..],
        &["policy", "--bucket", "t3-chat-documents-abc", "--profile", "admin"][..],
    ] {
        let out = run(ws.t3s3().args(args));
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.stderr.contains("--profile does nothing for `t3s3 policy`"), "{}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
    }
    let out = run(ws.t3s3().args(["--region", "eu-west-1", "verify", "--profile", "admin"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--profile does nothing for `t3s3 verify`"), "{}", out.stderr);

    // `help` is a command like the others: it has help, and `help X` is `X --help`.
    let help_help = run(ws.t3s3().args(["help", "--help"]));
    assert_eq!(help_help.code, 0, "{}", help_help.all());
    assert!(help_help.stdout.contains("Usage: t3s3 help"), "{}", help_help.stdout);
    let help_policy = run(ws.t3s3().args(["help", "policy"]));
    assert_eq!((help_policy.code, help_policy.stdout.as_str()), (0, policy_help.stdout.as_str()));
    let no_such = run(ws.t3s3().args(["help", "nope"]));
    assert_eq!(no_such.code, 2, "{}", no_such.all());
}

#[test]
fn bash_sources_the_completion_script_and_completes_subcommands() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().args(["completions", "bash"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let script = ws.write("t3s3.bash", &out.stdout);
    let probe = format!(
        "source {}; COMP_WORDS=(t3s3 ver); COMP_CWORD=1; COMP_LINE='t3s3 ver'; COMP_POINT=8; _t3s3 t3s3 ver t3s3; complete -p t3s3; echo \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let bash = Command::new("bash").arg("-c").arg(&probe).output().unwrap();
    let text = String::from_utf8_lossy(&bash.stdout);
    assert!(bash.status.success(), "{text}{}", String::from_utf8_lossy(&bash.stderr));
    assert!(text.contains("-F _t3s3 t3s3"), "{text}");
    assert!(text.lines().last().unwrap_or_default().split_whitespace().any(|w| w == "verify"), "{text}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = run(ws.t3s3().args(["completions", shell]));
        assert_eq!(out.code, 0, "{shell}: {}", out.all());
        assert!(out.stdout.contains("t3s3"), "{shell}");
    }
}

#[test]
fn man_pages_cover_every_command_and_a_closed_pipe_is_not_a_crash() {
    let ws = Workspace::new();
    std::fs::create_dir(ws.path().join("man")).unwrap();
    let out = run(ws.t3s3().args(["man", "--out", "man"]));
    assert_eq!(out.code, 0, "{}", out.all());
    for command in ["t3s3", "t3s3-init", "t3s3-verify", "t3s3-ci-role", "t3s3-guard", "t3s3-doctor"] {
        let page = ws.read(&format!("man/{command}.1"));
        assert!(page.starts_with(".ie") && page.contains(".SH NAME"), "{command}.1");
    }
    assert_eq!(run(ws.t3s3().args(["man", "--out", "nowhere"])).code, 2);
    // `t3s3 completions bash | head -1`: the reader goes away; t3s3 ends quietly.
    let mut child = ws
        .t3s3()
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn quiet_prints_the_verdict_only_and_verbose_tells_each_request_without_secrets() {
    let server = moto(None);
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION);
    create_bucket(&s3(&config), "t3-chat-documents-reach", APP_REGION).await;
    let ws = Workspace::new();
    let key = Key { id: ROOT_KEY_ID.into(), secret: ROOT_SECRET.into() };
    ws.write_env(".env", &key, APP_REGION, "t3-chat-documents-reach", &server.url());

    let quiet = run(ws.t3s3().args(["verify", "--quiet"]));
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert_eq!(quiet.stdout, "✓ ALL TESTS PASSED! S3 is configured correctly.\n");
    assert_eq!(quiet.stderr, "");

    let verbose = run(ws.t3s3().args(["verify", "-v"]));
    assert_eq!(verbose.code, 0, "{}", verbose.all());
    let requests: Vec<&str> = verbose.stderr.lines().filter(|l| l.starts_with("aws: ")).collect();
    let bucket_url = format!("{}/t3-chat-documents-reach/", server.url());
    let put = format!("aws: s3:PutObject PUT {bucket_url}test_user/");
    assert!(requests.iter().any(|l| l.starts_with(&put) && l.contains("-> 200 (")), "{}", verbose.stderr);
    let location = format!("aws: s3:GetBucketLocation GET {bucket_url} -> 200");
    assert!(requests.iter().any(|l| l.starts_with(&location)), "{}", verbose.stderr);
    assert!(!verbose.stderr.contains('?'), "a query string was printed:\n{}", verbose.stderr);
    assert!(requests.len() >= 5, "{}", verbose.stderr);
    assert!(!verbose.all().contains(ROOT_SECRET), "a secret was printed");
    assert!(verbose.stdout.contains("ALL TESTS PASSED"), "the report is unchanged:\n{}", verbose.stdout);

    let help = run(ws.t3s3().args(["verify", "--help"]));
    assert!(help.stdout.contains("Global options:"), "{}", help.stdout);
}

#[test]
fn mistyped_regions_profiles_buckets_and_commands_get_what_was_meant() {
    let ws = Workspace::new();
    ws.write("aws-config", "[profile admin]\nregion = ap-south-1\n");
    for (region, meant) in [("ap-south1", "ap-south-1"), ("AP-SOUTH-1", "ap-south-1"), ("mumbai", "ap-south-1")] {
        for command in ["init", "doctor"] {
            let out = run(ws.t3s3().args(["--region", region, command]));
            assert_eq!(out.code, 2, "{region} {command}: {}", out.all());
            assert!(out.stderr.contains(&format!("did you mean `{meant}`")), "{region} {command}: {}", out.stderr);
        }
    }
    let out =
        run(ws.t3s3().env("AWS_CONFIG_FILE", ws.path().join("aws-config")).args(["--profile", "adimn", "doctor"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("did you mean `admin`"), "{}", out.stderr);
    assert!(!out.stderr.contains("aws configure --profile adimn"), "{}", out.stderr);
    let out = run(ws.t3s3().args(["policy", "--bucket", "T3-Chat-Documents"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("did you mean `t3-chat-documents`"), "{}", out.stderr);
    let out = run(ws.t3s3().arg("setup"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("`t3s3 init` does that"), "{}", out.stderr);
}
