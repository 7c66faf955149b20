//! `t3s3 guard`, the commit guard: on staged files and on named ones, and as the pre-commit
//! hook this repository publishes (`.pre-commit-hooks.yaml`), run by pre-commit itself.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const KEY_ID: &str = "AKIA2OGYBAH6TQ4XLGMK";
const SECRET: &str = "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";

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

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
