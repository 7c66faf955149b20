//! The README's command blocks marked `<!-- tests/it/readme.rs runs this block against moto -->`,
//! run line by line as a user would paste them: bash, `t3s3` on PATH, an `admin` profile in
//! ~/.aws whose endpoint is moto on 127.0.0.1, in a T3 Chat project.

use std::process::Command;

use crate::common::*;

const MARK: &str = "<!-- tests/it/readme.rs runs this block against moto -->";

/// The command lines of each marked block, in order.
fn marked_blocks() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != MARK {
            continue;
        }
        assert!(lines.next().is_some_and(|l| l.starts_with("```")), "a code block follows the mark");
        let block: Vec<String> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        blocks.push(block);
    }
    blocks
}

#[tokio::test]
async fn the_readmes_commands_work_as_shown() {
    let blocks = marked_blocks();
    assert_eq!(blocks.len(), 4, "the quick start, the everyday commands, CI and production");
    let server = moto(None);
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join(".aws")).unwrap();
    ws.write(".aws/config", &format!("[profile admin]\nregion = ap-south-1\nendpoint_url = {}\n", server.url()));
    ws.write(
        ".aws/credentials",
        &format!("[admin]\naws_access_key_id = {ROOT_KEY_ID}\naws_secret_access_key = {ROOT_SECRET}\n"),
    );
    // A T3 Chat project: the backend's code (for verify --backend) and its .env.
    let fixture = repo().join("tests/fixtures/backend");
    for file in ["config.py", "storage/__init__.py", "storage/s3_client.py", "requirements.txt"] {
        ws.write(&format!("backend/{file}"), &std::fs::read_to_string(fixture.join(file)).unwrap());
    }
    ws.write("backend/.env", "# T3 Chat\nDATABASE_URL=postgres://localhost/t3\n");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_t3s3")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let mut ran = Vec::new();
    for line in blocks.iter().flatten() {
        let mut command = Command::new("bash");
        command
            .args(["-c", line])
            .current_dir(ws.path())
            .env_clear()
            .env("PATH", &path)
            .env("HOME", ws.path())
            .env("AWS_CONFIG_FILE", ws.path().join(".aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", ws.path().join(".aws/credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // The backend's interpreter: the test venv (boto3, pydantic-settings), as an
            // activated venv would be.
            .env("VIRTUAL_ENV", repo().join(".venv"))
            .env("NO_COLOR", "1");
        let out = run(&mut command);
        // moto's root account has no MFA and no API gives it one: doctor's only FAIL.
        let expected = if line.contains(" doctor") { 1 } else { 0 };
        assert_eq!(out.code, expected, "`{line}`:\n{}", out.all());
        if line.contains(" doctor") {
            let fails: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
            assert_eq!(fails.len(), 1, "{fails:?}");
            assert!(fails[0].contains("root_mfa"), "{fails:?}");
        }
        ran.push(line.clone());
    }
    assert!(ran.len() >= 10, "{ran:?}");
    assert!(ws.read("backend/.env").contains("S3_BUCKET_NAME=t3-chat-documents-"), "init wrote the settings");
}
