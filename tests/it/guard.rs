//! `t3s3 guard`, the commit guard: on staged files and on named ones, and as the pre-commit
//! hook this repository publishes (`.pre-commit-hooks.yaml`), run by pre-commit itself.

use std::path::Path;
use std::process::Command;

use crate::common::*;

const KEY_ID: &str = "AKIA2OGYBAH6TQ4XLGMK";
const SECRET: &str = "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";

#[test]
fn staged_env_files_key_ids_and_secrets_are_refused_by_line_and_never_printed() {
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("README.md", "# T3 Chat\n");
    git(ws.path(), &["add", "README.md"]);
    let clean = run(ws.t3s3().arg("guard"));
    assert_eq!(clean.code, 0, "{}", clean.all());

    ws.write("backend/.env", &format!("AWS_ACCESS_KEY_ID={KEY_ID}\n"));
    ws.write("backend/settings.py", &format!("DEBUG = True\naws_secret_access_key = \"{SECRET}\"\n"));
    git(ws.path(), &["add", "-f", "backend/.env", "backend/settings.py"]);
    // The work tree no longer holds the secret; the staged copy does, and that is what counts.
    ws.write("backend/settings.py", "DEBUG = True\n");
    let out = run(ws.t3s3().args(["guard", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    let places: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
        .collect();
    assert_eq!(places, ["backend/.env:0", "backend/.env:1", "backend/settings.py:2"]);
    assert!(!out.stdout.contains(KEY_ID) && !out.stdout.contains(SECRET), "a secret was printed:\n{}", out.stdout);

    // Named files are read from disk; an unreadable one is bad input.
    let out = run(ws.t3s3().args(["guard", "backend/settings.py"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let out = run(ws.t3s3().args(["guard", "no/such/file.py"]));
    assert_eq!(out.code, 2, "{}", out.all());
    let outside = Workspace::new();
    let out = run(outside.t3s3().arg("guard"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("not in a git repository"), "{}", out.stderr);
}

#[test]
fn pre_commit_runs_the_published_hook_and_blocks_the_commit() {
    let ws = Workspace::new();
    let project = ws.path().join("project");
    std::fs::create_dir(&project).unwrap();
    git(&project, &["init", "-q"]);
    std::fs::write(project.join("app.py"), "print('hi')\n").unwrap();
    std::fs::write(project.join(".env"), format!("AWS_SECRET_ACCESS_KEY={SECRET}\n")).unwrap();
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_t3s3")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", binary_dir.display(), std::env::var("PATH").unwrap_or_default());
    let pre_commit = |files: &[&str]| {
        git(&project, &["add", "-f"].iter().copied().chain(files.iter().copied()).collect::<Vec<_>>());
        // try-repo runs this repository's hooks (its work tree, committed or not) on what is staged.
        let out = Command::new(repo().join(".venv/bin/pre-commit"))
            .current_dir(&project)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", ws.path().join("pre-commit-cache"))
            .env("HOME", ws.path())
            .args(["try-repo", repo().to_str().unwrap(), "t3s3-guard"])
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code(), text)
    };
    let (code, text) = pre_commit(&["app.py"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("t3s3 guard (no .env files or AWS secrets in commits)") && text.contains("Passed"), "{text}");
    let (code, text) = pre_commit(&[".env"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(".env: blocked: an env file") && text.contains("Failed"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
}

/// What a case stages in its fresh repository.
type Setup = Box<dyn Fn(&Path)>;

/// One staged file in a fresh repository; `guard`'s exit code and output.
fn guard_staged(ws: &Workspace, setup: impl Fn(&Path)) -> Run {
    git(ws.path(), &["init", "-q"]);
    setup(ws.path());
    run(ws.t3s3().arg("guard"))
}

#[test]
fn every_staged_form_of_a_secret_blocks_the_commit() {
    let env_text = format!("AWS_SECRET_ACCESS_KEY={SECRET}\n");
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(env_text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let cases: Vec<(&str, &str, Setup)> = vec![
        (
            "a symlink staged, then replaced by a file (status T)",
            "config.txt:1",
            Box::new(|dir: &Path| {
                std::os::unix::fs::symlink("README.md", dir.join("config.txt")).unwrap();
                std::fs::write(dir.join("README.md"), "# T3\n").unwrap();
                git(dir, &["add", "config.txt", "README.md"]);
                git(dir, &["commit", "-qm", "link"]);
                std::fs::remove_file(dir.join("config.txt")).unwrap();
                std::fs::write(dir.join("config.txt"), format!("aws_secret_access_key = \"{SECRET}\"\n")).unwrap();
                git(dir, &["add", "config.txt"]);
            }),
        ),
        (
            "a path that starts with N:",
            "N:notes.py:1",
            Box::new(|dir: &Path| {
                std::fs::write(dir.join("N:notes.py"), format!("aws_secret_access_key = \"{SECRET}\"\n")).unwrap();
                git(dir, &["add", "N:notes.py"]);
            }),
        ),
        (
            "a path that is not UTF-8",
            "caf\u{fffd}.py:1",
            Box::new(|dir: &Path| {
                use std::os::unix::ffi::OsStrExt;
                let name = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
                std::fs::write(dir.join(name), format!("aws_secret_access_key = \"{SECRET}\"\n")).unwrap();
                git(dir, &["add", "."]);
            }),
        ),
        (
            ".env.local",
            ".env.local",
            Box::new(|dir: &Path| {
                std::fs::write(dir.join(".env.local"), "DEBUG=1\n").unwrap();
                git(dir, &["add", ".env.local"]);
            }),
        ),
        (
            "backend/.env.prod",
            "backend/.env.prod",
            Box::new(|dir: &Path| {
                std::fs::create_dir(dir.join("backend")).unwrap();
                std::fs::write(dir.join("backend/.env.prod"), "DEBUG=1\n").unwrap();
                git(dir, &["add", "backend/.env.prod"]);
            }),
        ),
        (
            "UTF-16 text (PowerShell's redirect)",
            "creds.txt:1",
            Box::new(move |dir: &Path| {
                std::fs::write(dir.join("creds.txt"), &utf16).unwrap();
                git(dir, &["add", "creds.txt"]);
            }),
        ),
        (
            "boto3.client(...) on one line",
            "app.py:1",
            Box::new(|dir: &Path| {
                let line =
                    format!("s3 = boto3.client('s3', aws_access_key_id='x', aws_secret_access_key='{SECRET}')\n");
                std::fs::write(dir.join("app.py"), line).unwrap();
                git(dir, &["add", "app.py"]);
            }),
        ),
        (
            "a JSON entry",
            "creds.json:1",
            Box::new(|dir: &Path| {
                std::fs::write(dir.join("creds.json"), format!("{{\"aws_secret_access_key\": \"{SECRET}\"}}\n"))
                    .unwrap();
                git(dir, &["add", "creds.json"]);
            }),
        ),
    ];
    let mut passed = Vec::new();
    for (name, place, setup) in &cases {
        let ws = Workspace::new();
        let out = guard_staged(&ws, setup);
        // Blocked for the secret itself, at its path and line: "could not be read" exits 1 too.
        let named = out.stdout.contains(&format!("{place}: blocked:")) && !out.stdout.contains("could not be read");
        if out.code != 1 || !named || out.all().contains(SECRET) {
            passed.push(format!("{name}: exit {}\n{}", out.code, out.all()));
        }
    }
    assert!(passed.is_empty(), "not blocked:\n{}", passed.join("\n"));

    // The allow-list: templates may be committed.
    let ws = Workspace::new();
    let out = guard_staged(&ws, |dir| {
        std::fs::write(dir.join(".env.example"), "AWS_SECRET_ACCESS_KEY=\n").unwrap();
        git(dir, &["add", ".env.example"]);
    });
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_staged_object_git_cannot_read_blocks_the_commit() {
    let ws = Workspace::new();
    let out = guard_staged(&ws, |dir| {
        std::fs::write(dir.join("app.py"), "print('hi')\n").unwrap();
        git(dir, &["add", "app.py"]);
        // The blob the index names is gone from the object store.
        let id = Command::new("git").current_dir(dir).args(["rev-parse", ":app.py"]).output().unwrap();
        let id = String::from_utf8(id.stdout).unwrap();
        let object = dir.join(".git/objects").join(&id[..2]).join(&id.trim()[2..]);
        std::fs::remove_file(object).unwrap();
    });
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("app.py: blocked: could not be read"), "{}", out.stdout);
}

#[test]
fn a_secret_without_its_key_id_blocks_and_an_allowed_line_or_a_binary_file_is_said() {
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("Dockerfile", &format!("FROM python:3.12\nENV AWS_SECRET_ACCESS_KEY {SECRET}\n"));
    ws.write("backend/config.py", &format!("class Settings:\n    aws_secret_access_key: str = \"{SECRET}\"\n"));
    ws.write(
        "tests/test_parse.py",
        &format!("FIXTURE = \"aws_secret_access_key={SECRET}\"  # t3s3:allow parser fixture\n"),
    );
    std::fs::write(ws.path().join("logo.png"), [0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0, 1]).unwrap();
    git(ws.path(), &["add", "Dockerfile", "backend/config.py", "tests/test_parse.py", "logo.png"]);
    let out = run(ws.t3s3().args(["guard", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    let places = |field: &str| -> Vec<String> {
        report[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
            .collect()
    };
    assert_eq!(places("findings"), ["Dockerfile:2", "backend/config.py:2"]);
    assert_eq!(places("allowed"), ["tests/test_parse.py:1"]);
    assert_eq!(report["binary"], serde_json::json!(["logo.png"]));
    let text = run(ws.t3s3().arg("guard"));
    assert!(text.stdout.contains("allowed:") && text.stdout.contains("t3s3:allow"), "{}", text.stdout);
    assert!(text.stdout.contains("skipped: logo.png (binary"), "{}", text.stdout);
    assert!(!text.stdout.contains(SECRET), "a secret was printed");

    // With the two real findings unstaged, the allowed line alone does not block.
    git(ws.path(), &["rm", "-q", "--cached", "Dockerfile", "backend/config.py"]);
    let out = run(ws.t3s3().arg("guard"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("tests/test_parse.py:1: allowed:"), "{}", out.stdout);
}

/// tests/fixtures/guard-corpus.json: the AWS samples of nine scanners' own tests (gitleaks,
/// detect-secrets, trufflehog, noseyparker, sonar-text, semgrep-rules, ripsecrets, whispers,
/// CredSweeper; scripts/guard-corpus/build.py cuts them, with provenance). guard finds every
/// secret but the stand-ins t3s3 passes on purpose (AWS's EXAMPLE key, a value that says FAKE
/// or SAMPLE, a run of one character), blocks none of those, and blocks at most these four
/// clean samples, each for a reason of its own:
/// - trufflehog's "invalid pattern": a well-formed session key id beside a broken secret (guard
///   blocks a key id alone, as gitleaks does);
/// - sonar-text's `AWS_SESS_TOK = "IQoJb3JpZ2luX2Vj…"`: a real STS token under a name sonar's
///   rule does not know; guard knows the token by its prefix;
/// - sonar-text's Klaytn (`caver:`) `secretAccessKey`, and CredSweeper's "filtered too" line:
///   a secret-shaped value under an AWS-like name, which their context filters drop.
///
/// scripts/bench-guard.sh prints the same figures beside detect-secrets'.
#[test]
fn the_other_scanners_corpus_is_held_to_its_figures() {
    const ACCEPTED: [&str; 4] = [
        "trufflesecurity/trufflehog:pkg/detectors/aws/session_keys/sessionkeys_test.go",
        "SonarSource/sonar-text:aws-session-tokens",
        "SonarSource/sonar-text:aws-secret-access-keys-1",
        "Samsung/CredSweeper:tests/samples/aws_client_id",
    ];
    let corpus: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/fixtures/guard-corpus.json")).unwrap())
            .unwrap();
    let samples = corpus["samples"].as_array().unwrap();
    assert!(samples.len() >= 119, "the corpus shrank: {}", samples.len());
    let ws = Workspace::new();
    let mut names = Vec::new();
    for (index, sample) in samples.iter().enumerate() {
        let name = format!("sample-{index:03}.txt");
        let bytes = aws_smithy_types::base64::decode(sample["text_b64"].as_str().unwrap()).unwrap();
        std::fs::write(ws.path().join(&name), bytes).unwrap();
        names.push(name);
    }
    let out = run(ws.t3s3().args(["guard", "--json"]).args(&names));
    let flagged: std::collections::BTreeSet<String> =
        out.json()["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    let (mut missed, mut false_positives, mut stand_ins, mut found) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for (sample, name) in samples.iter().zip(&names) {
        let hit = flagged.contains(name);
        let source = &sample["source"];
        let what = format!("{name} ({}:{}: {})", source["repo"], source["path"], sample["upstream"]);
        let accepted = ACCEPTED.iter().any(|a| {
            let (repo, rest) = a.split_once(':').unwrap();
            source["repo"] == repo && (source["path"] == rest || sample["upstream"].as_str().unwrap().starts_with(rest))
        });
        match (sample["label"].as_str().unwrap(), sample["stand_in"] == true, hit) {
            (_, true, true) => stand_ins.push(what),
            ("secret", false, true) => found += 1,
            ("secret", false, false) => missed.push(what),
            ("clean", _, true) if !accepted => false_positives.push(what),
            _ => {}
        }
    }
    assert_eq!(missed, Vec::<String>::new(), "secrets guard let through");
    assert_eq!(stand_ins, Vec::<String>::new(), "stand-ins guard blocked");
    assert!(found >= 57, "{found} secrets found");
    assert_eq!(false_positives, Vec::<String>::new(), "clean samples blocked");
    let accepted = samples.iter().zip(&names).filter(|(s, n)| s["label"] == "clean" && flagged.contains(*n)).count();
    assert!(accepted <= ACCEPTED.len(), "{accepted} clean samples blocked");
}

#[test]
fn history_names_the_commit_path_and_line_of_a_key_removed_since() {
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("README.md", "# T3 Chat\n");
    git(ws.path(), &["add", "README.md"]);
    git(ws.path(), &["commit", "-qm", "readme"]);
    ws.write("backend/settings.py", &format!("DEBUG = True\naws_secret_access_key = \"{SECRET}\"\n"));
    git(ws.path(), &["add", "backend/settings.py"]);
    git(ws.path(), &["commit", "-qm", "settings"]);
    let leaked = git(ws.path(), &["rev-parse", "HEAD"]).trim().to_string();
    ws.write("backend/settings.py", "DEBUG = True\n");
    git(ws.path(), &["commit", "-qam", "take the key out"]);

    assert_eq!(run(ws.t3s3().arg("guard")).code, 0, "nothing staged");
    let out = run(ws.t3s3().args(["guard", "--history", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["path"], format!("{}:backend/settings.py", &leaked[..12]));
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(report["files"], 3, "each version once: the readme and two of settings.py");
    assert!(!out.stdout.contains(SECRET));
    let out = run(ws.t3s3().args(["guard", "--history", "README.md"]));
    assert_eq!(out.code, 2, "--history takes no paths: {}", out.all());
}

#[test]
fn a_fingerprint_in_the_committed_ignore_file_is_reported_not_blocking() {
    let ws = Workspace::new();
    git(ws.path(), &["init", "-q"]);
    ws.write("docs/setup.md", &format!("| AWS_SECRET_ACCESS_KEY | {SECRET} |\n"));
    ws.write("backend/app.py", &format!("aws_secret_access_key = \"{SECRET}\"\n"));
    git(ws.path(), &["add", "docs/setup.md", "backend/app.py"]);
    let out = run(ws.t3s3().args(["guard", "--json"]));
    assert_eq!(out.code, 1);
    let fingerprints: Vec<String> = out.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{}:{}", f["path"].as_str().unwrap(), f["rule"].as_str().unwrap(), f["line"]))
        .collect();
    assert_eq!(fingerprints, ["backend/app.py:aws-secret-access-key:1", "docs/setup.md:aws-secret-access-key:1"]);

    ws.write(".t3s3ignore", "# the docs show a revoked key on purpose\ndocs/setup.md:aws-secret-access-key:1\n");
    let out = run(ws.t3s3().args(["guard", "--json"]));
    assert_eq!(out.code, 1, "the other finding still blocks: {}", out.all());
    let report = out.json();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert_eq!(report["ignored"][0]["path"], "docs/setup.md");
    git(ws.path(), &["rm", "-q", "--cached", "backend/app.py"]);
    let out = run(ws.t3s3().arg("guard"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("docs/setup.md:aws-secret-access-key:1: ignored:") && out.stdout.contains(".t3s3ignore"),
        "{}",
        out.stdout
    );
}
