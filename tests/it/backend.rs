//! `t3s3 verify --backend` and doctor's section-7 checks, against moto and a stand-in T3
//! Chat backend (tests/fixtures/backend: pydantic-settings config.py, boto3 s3_client.py)
//! run by real Python interpreters: the test venv, and venvs made here with or without boto3.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-backend";

fn test_python() -> PathBuf {
    repo().join(".venv/bin/python")
}

/// boto3's and botocore's versions as the test venv holds them (the lock decides them; no test
/// repeats a version the resolver picked).
fn venv_versions() -> (String, String) {
    let out = Command::new(test_python())
        .args(["-I", "-c", "import boto3, botocore; print(boto3.__version__, botocore.__version__)"])
        .output()
        .unwrap();
    assert!(out.status.success(), "the test venv has no boto3: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (boto3, botocore) = text.trim().split_once(' ').unwrap();
    (boto3.to_string(), botocore.to_string())
}

/// How verify and doctor print them: "boto3 X, botocore Y".
fn venv_versions_text() -> String {
    let (boto3, botocore) = venv_versions();
    format!("boto3 {boto3}, botocore {botocore}")
}

async fn objects_left(server: &Server) -> Vec<String> {
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION);
    let listed = s3(&config).list_objects_v2().bucket(BUCKET).send().await.unwrap();
    listed.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
}

/// A project with the guide's layout: backend/.env (written as `t3s3 init` writes it),
/// backend/config.py and backend/storage/ copied from the stand-in backend.
fn project(server: &Server) -> Workspace {
    let ws = Workspace::new();
    let key = Key { id: ROOT_KEY_ID.into(), secret: ROOT_SECRET.into() };
    let env = ws.write_env("backend/.env", &key, APP_REGION, BUCKET, &server.url());
    // The backend's own name for the endpoint, as init writes it for this config.py.
    let mut text = std::fs::read_to_string(&env).unwrap();
    text.push_str(&format!("S3_ENDPOINT_URL={}\n", server.url()));
    std::fs::write(&env, text).unwrap();
    let fixture = repo().join("tests/fixtures/backend");
    for file in ["config.py", "storage/__init__.py", "storage/s3_client.py", "requirements.txt"] {
        ws.write(&format!("backend/{file}"), &std::fs::read_to_string(fixture.join(file)).unwrap());
    }
    ws
}

/// Changes one piece of the stand-in's code, as a bug in a real backend would.
fn patch(ws: &Workspace, file: &str, from: &str, to: &str) {
    let path = format!("backend/{file}");
    let text = ws.read(&path);
    assert!(text.contains(from), "{path} has no {from:?}");
    ws.write(&path, &text.replacen(from, to, 1));
}

/// A real venv at `dir` whose packages are the test venv's, except `leave_out`.
fn make_venv(dir: &Path, leave_out: &[&str]) -> PathBuf {
    let status = Command::new(test_python()).args(["-m", "venv", "--without-pip"]).arg(dir).status().unwrap();
    assert!(status.success(), "python -m venv failed");
    let python = dir.join("bin/python");
    let site = |python: &Path| {
        let out = Command::new(python)
            .args(["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
            .output()
            .unwrap();
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    };
    let theirs = site(&test_python());
    let packages = dir.join("shared-packages");
    std::fs::create_dir_all(&packages).unwrap();
    for entry in std::fs::read_dir(&theirs).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_lowercase();
        if !leave_out.iter().any(|skip| name.starts_with(skip)) {
            std::os::unix::fs::symlink(entry.path(), packages.join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(site(&python).join("shared.pth"), format!("{}\n", packages.display())).unwrap();
    python
}

fn backend_step<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["backend"]["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

fn backend_statuses(report: &serde_json::Value) -> Vec<String> {
    let steps = report["backend"]["steps"].as_array().unwrap();
    steps.iter().map(|s| s["status"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_backends_own_code_passes_all_seven_steps_and_leaves_nothing() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    let python = test_python();

    let out = run(ws.t3s3().args(["verify", "--backend", "--python"]).arg(&python));
    assert_eq!(out.code, 0, "{}", out.all());
    for line in [
        "✓ ALL TESTS PASSED! S3 is configured correctly.",
        "Backend S3 Test (the backend's own code)",
        "Backend: backend",
        "AWS_SECRET_ACCESS_KEY: ✓ SET",
        "S3 Key: t3s3_selftest/",
        "✓ Fetched over HTTP: content matches.",
        "✓ ALL TESTS PASSED through the backend's own S3 client.",
    ] {
        assert!(out.stdout.contains(line), "missing {line:?}:\n{}", out.stdout);
    }
    assert!(!out.all().contains(ROOT_SECRET), "the secret was printed");

    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "backend", "--python"]).arg(&python));
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["steps"].as_array().unwrap().len(), 7, "t3s3's own run is in the JSON too");
    assert_eq!(backend_statuses(&report), ["passed"; 7]);
    assert_eq!(report["backend"]["versions"]["boto3"], venv_versions().0);
    assert_eq!(report["backend"]["loaded"]["fields"]["s3_bucket_name"]["value"], BUCKET);
    assert!(report["backend"]["loaded"]["fields"]["aws_secret_access_key"].get("value").is_none());
    assert_eq!(report["backend"]["differences"], serde_json::json!([]));
    assert!(!out.stdout.contains(ROOT_SECRET));
    assert_eq!(objects_left(&server).await, Vec::<String>::new(), "a test object was left behind");
}

#[tokio::test]
async fn the_interpreter_is_the_backends_venv_when_none_is_named() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    make_venv(&ws.path().join("backend/venv"), &[]);

    let out = run(ws.t3s3().args(["verify", "--json", "--backend"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_eq!(report["backend"]["python_found_by"], "backend/venv");
    assert!(report["backend"]["versions"]["executable"].as_str().unwrap().contains("backend/venv"));
}

#[tokio::test]
async fn boto3_missing_from_the_backends_interpreter_fails_with_the_pip_command() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    let python = make_venv(&ws.path().join("backend/venv"), &["boto3", "botocore", "s3transfer"]);

    let out = run(ws.t3s3().args(["verify", "--json", "--backend"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(report["steps"][6]["status"], "passed", "t3s3's own run passed");
    assert_eq!(backend_statuses(&report)[..2], ["passed", "failed"]);
    let connection = backend_step(&report, "connection");
    assert!(connection["error"].as_str().unwrap().contains("No module named 'boto3'"), "{connection}");
    let fix = connection["fix"].as_str().unwrap();
    assert!(fix.contains(&format!("{} -m pip install boto3", python.display())), "{fix}");
    assert_eq!(report["backend"]["versions"]["boto3"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_config_reading_another_file_is_named_against_the_env_t3s3_read() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    patch(&ws, "config.py", "env_file=\".env\"", "env_file=\"settings.env\"");

    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(backend_statuses(&report)[0], "failed");
    let environment = backend_step(&report, "environment");
    assert!(environment["error"].as_str().unwrap().contains("returned no AWS_ACCESS_KEY_ID"), "{environment}");
    assert!(environment["cause"].as_str().unwrap().contains("settings.env"), "{environment}");
    let differences = report["backend"]["differences"].as_array().unwrap();
    let file = differences.iter().find(|d| d["setting"] == ".env file").expect("the .env file difference");
    assert!(file["backend"].as_str().unwrap().ends_with("settings.env (missing)"), "{file}");
    assert_eq!(file["t3s3"], "backend/.env");
    assert!(differences.iter().any(|d| d["setting"] == "S3_BUCKET_NAME" && d["backend"] == "not set"));

    let text = run(ws.t3s3().args(["verify", "--backend", "--python"]).arg(test_python()));
    assert!(text.stdout.contains("The backend loaded other settings than t3s3 resolved:"), "{}", text.stdout);
    assert!(text.stdout.contains(&venv_versions_text()), "{}", text.stdout);
}

#[tokio::test]
async fn a_presigned_url_the_bucket_refuses_fails_step_5_and_the_object_is_still_removed() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    // A real bug: the URL is signed for the file name instead of the object's key.
    patch(
        &ws,
        "storage/s3_client.py",
        "Params={\"Bucket\": self.bucket_name, \"Key\": s3_key}",
        "Params={\"Bucket\": self.bucket_name, \"Key\": s3_key.split(\"/\")[-1]}",
    );

    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(backend_statuses(&report), ["passed", "passed", "passed", "passed", "failed", "skipped", "skipped"]);
    let presigned = backend_step(&report, "presigned_url");
    let error = presigned["error"].as_str().unwrap();
    assert!(
        error.contains(
            "storage/s3_client.py: get_presigned_url() returned a URL the bucket refuses: HTTP 404 NoSuchKey"
        ),
        "{error}"
    );
    assert_eq!(report["backend"]["cleanup"]["deleted"], true, "{}", report["backend"]);
    assert_eq!(objects_left(&server).await, Vec::<String>::new(), "the test object was left behind");
}

#[tokio::test]
async fn a_file_exists_that_lies_fails_step_7_and_the_object_is_gone() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    patch(
        &ws,
        "storage/s3_client.py",
        "    def file_exists(self, s3_key):\n",
        "    def file_exists(self, s3_key):\n        return True\n",
    );

    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(backend_statuses(&report)[6], "failed");
    let confirm = backend_step(&report, "confirm_deletion");
    assert!(confirm["error"].as_str().unwrap().starts_with("StillExists"), "{confirm}");
    assert!(confirm["fix"].as_str().unwrap().contains("file_exists()"), "{confirm}");
    assert_eq!(report["backend"]["cleanup"]["deleted"], true, "{}", report["backend"]);
    assert_eq!(objects_left(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_backend_without_storage_or_a_working_python_is_bad_input_before_any_request() {
    // Nothing listens on the endpoint: a request sent would show as a failed step, not exit 2.
    let ws = Workspace::new();
    let key = Key { id: ROOT_KEY_ID.into(), secret: ROOT_SECRET.into() };
    ws.write_env("backend/.env", &key, APP_REGION, BUCKET, &format!("http://127.0.0.1:{}", free_port()));
    ws.write("backend/config.py", "def get_settings(): pass\n");

    let out = run(ws.t3s3().args(["verify", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no S3 client found in backend"), "{}", out.stderr);
    assert!(out.stderr.contains("backend/storage/s3_client.py"), "{}", out.stderr);
    assert!(out.stderr.contains("--client MODULE:ATTR"), "{}", out.stderr);
    assert!(!out.stdout.contains("S3 Configuration Test"), "the self-test ran:\n{}", out.stdout);

    ws.write("backend/storage/s3_client.py", "def get_s3_client(): pass\n");
    let out = run(ws.t3s3().args(["verify", "--backend", "--python", "no/such/python"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("the interpreter no/such/python does not exist"), "{}", out.stderr);

    let not_python = ws.write("backend/fake-python", "#!/bin/sh\necho 'not python' >&2\nexit 3\n");
    std::fs::set_permissions(&not_python, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(&not_python));
    assert_eq!(out.code, 2, "{}", out.all());
    let error = out.json();
    assert!(error["error"].as_str().unwrap().contains("cannot be run: not python"), "{error}");

    let out = run(ws.t3s3().args(["verify", "--backend", "nowhere", "--python"]).arg(test_python()));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("the backend folder nowhere does not exist"), "{}", out.stderr);
}

#[tokio::test]
async fn the_backend_run_is_skipped_when_t3s3s_own_run_fails() {
    let server = moto(None); // no bucket
    let ws = project(&server);
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert!(report["backend"]["skipped"].as_str().unwrap().contains("t3s3's own run failed at step 2"), "{report}");
    assert_eq!(backend_statuses(&report), ["skipped"; 7]);
}

#[tokio::test]
async fn doctor_finds_the_backends_interpreter_and_boto3_in_it_and_in_requirements() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    make_venv(&ws.path().join("backend/venv"), &[]);

    let out = run(ws.t3s3().args(["doctor", "--json"]));
    let report = out.json();
    let python = check_in(&report, "backend_python");
    assert_eq!(python["status"], "PASS", "{python}");
    assert!(
        python["evidence"].as_str().unwrap().contains("backend/venv/bin/python (backend/venv): Python 3."),
        "{python}"
    );
    assert_eq!(check_in(&report, "boto3_installed")["evidence"], venv_versions_text());
    assert_eq!(check_in(&report, "boto3_declared")["evidence"], "boto3 is in backend/requirements.txt");
    let endpoint = check_in(&report, "boto3_endpoint_env");
    assert_eq!(endpoint["status"], "PASS", "{endpoint}");
}

#[tokio::test]
async fn doctor_warns_of_a_plain_interpreter_that_verify_runs_but_doctor_will_not() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    // No venv anywhere: the backend runs on the system's python3, as `verify --backend` does.
    let plain = ["/usr/bin/python3", "/bin/python3"].into_iter().find(|p| Path::new(p).is_file()).expect("python3");
    let out = run(ws.t3s3().args(["doctor", "--json"]).env("PATH", "/usr/bin:/bin").env_remove("VIRTUAL_ENV"));
    let report = out.json();
    let python = check_in(&report, "backend_python");
    assert_eq!(python["status"], "WARN", "{python}");
    assert!(python["evidence"].as_str().unwrap().contains("(python3 on PATH) is not in a venv"), "{python}");
    assert!(python["fix"].as_str().unwrap().contains(&format!("pass --python {plain}")), "{python}");
    assert_eq!(check_in(&report, "boto3_installed")["status"], "SKIPPED");
    // Given the interpreter, doctor runs it and the check passes or names what is missing.
    let out = run(ws.t3s3().args(["doctor", "--json", "--python", plain]).env("PATH", "/usr/bin:/bin"));
    assert_ne!(check_in(&out.json(), "backend_python")["status"], "WARN", "{}", out.stdout);
}

#[tokio::test]
async fn doctor_fails_boto3_missing_with_the_pip_command_and_warns_when_undeclared() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    let python = make_venv(&ws.path().join("backend/.venv"), &["boto3", "botocore", "s3transfer"]);
    ws.write("backend/requirements.txt", "fastapi\n# boto3 comes later\n");

    let out = run(ws.t3s3().args(["doctor", "--json"]));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(check_in(&report, "backend_python")["status"], "PASS");
    let installed = check_in(&report, "boto3_installed");
    assert_eq!(installed["status"], "FAIL", "{installed}");
    assert_eq!(installed["fix"], format!("{} -m pip install boto3", python.display()));
    let declared = check_in(&report, "boto3_declared");
    assert_eq!(declared["status"], "WARN", "{declared}");
    assert!(declared["evidence"].as_str().unwrap().contains("boto3 is not in backend/requirements.txt"), "{declared}");
    assert_eq!(check_in(&report, "boto3_endpoint_env")["status"], "SKIPPED");

    // An interpreter that cannot run is a FAIL naming it, never a crash.
    let out = run(ws.t3s3().args(["doctor", "--json", "--python", "/no/such/python"]));
    let python = check_in(&out.json(), "backend_python").clone();
    assert_eq!(python["status"], "FAIL", "{python}");
    assert!(python["evidence"].as_str().unwrap().contains("/no/such/python does not exist"), "{python}");
}

#[tokio::test]
async fn a_backend_that_hangs_is_stopped_within_the_time_limit() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    patch(
        &ws,
        "storage/s3_client.py",
        "        s3_key = f\"",
        "        __import__(\"time\").sleep(3600)\n        s3_key = f\"",
    );

    let started = std::time::Instant::now();
    let out = run(ws.t3s3().args(["--timeout", "1", "verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
    let report = out.json();
    let upload = backend_step(&report, "upload");
    assert_eq!(upload["status"], "failed");
    assert!(
        upload["error"]
            .as_str()
            .unwrap()
            .starts_with("Timeout: storage/s3_client.py: upload_file() gave no answer within 11 s"),
        "{upload}"
    );
}

async fn put_object(server: &Server, key: &str, body: &[u8]) {
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION);
    let body = aws_sdk_s3::primitives::ByteStream::from(body.to_vec());
    s3(&config).put_object().bucket(BUCKET).key(key).body(body).send().await.unwrap();
}

async fn object_bytes(server: &Server, key: &str) -> Option<Vec<u8>> {
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION);
    let got = s3(&config).get_object().bucket(BUCKET).key(key).send().await.ok()?;
    Some(got.body.collect().await.unwrap().into_bytes().to_vec())
}

#[tokio::test]
async fn a_key_the_backend_names_but_did_not_write_is_never_deleted() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let contract = b"%PDF-1.7 a user's signed contract".to_vec();
    put_object(&server, "users/42/contract.pdf", &contract).await;
    let ws = project(&server);
    // The backend writes the test object but answers with another key: a user's document.
    patch(&ws, "storage/s3_client.py", "return {\"s3_key\": s3_key,", "return {\"s3_key\": \"users/42/contract.pdf\",");

    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(object_bytes(&server, "users/42/contract.pdf").await, Some(contract), "the user's document was touched");
    let report = out.json();
    assert_eq!(backend_statuses(&report)[2], "failed", "{}", report["backend"]);
    let upload = backend_step(&report, "upload");
    assert!(upload["error"].as_str().unwrap().contains("users/42/contract.pdf"), "{upload}");
    assert!(upload["cause"].as_str().unwrap().contains("did not"), "{upload}");
    let cleanup = &report["backend"]["cleanup"];
    assert_eq!(cleanup["deleted"], false, "{cleanup}");
    assert!(cleanup["message"].as_str().unwrap().starts_with("left users/42/contract.pdf alone"), "{cleanup}");
    // The object the backend really uploaded, under the run's own prefix, is gone and named.
    let leftovers = report["backend"]["leftovers"].as_array().expect("the run's own objects are reported");
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    assert_eq!(leftovers[0]["deleted"], true, "{leftovers:?}");
    assert!(leftovers[0]["key"].as_str().unwrap().starts_with("t3s3_selftest/"), "{leftovers:?}");
    assert_eq!(objects_left(&server).await, ["users/42/contract.pdf"], "the test object was left behind");

    let text = run(ws.t3s3().args(["verify", "--backend", "--python"]).arg(test_python()));
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(text.stdout.contains("left users/42/contract.pdf alone"), "{}", text.stdout);
    assert_eq!(objects_left(&server).await, ["users/42/contract.pdf"], "the test object was left behind");
}

#[tokio::test]
async fn a_key_the_backend_names_that_holds_the_test_bytes_is_cleaned_up() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    // A fixed key without the run's id, but the object there is the one just uploaded; a
    // later step fails, so clean-up must still remove it.
    patch(
        &ws,
        "storage/s3_client.py",
        "s3_key = f\"{user_id}/{conversation_id}/{document_id}/{filename}\"",
        "s3_key = \"uploads/test_file.txt\"",
    );
    patch(
        &ws,
        "storage/s3_client.py",
        "    def file_exists(self, s3_key):\n",
        "    def file_exists(self, s3_key):\n        return True\n",
    );

    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(backend_statuses(&report)[..6], ["passed"; 6], "{}", report["backend"]);
    assert_eq!(report["backend"]["cleanup"]["deleted"], true, "{}", report["backend"]);
    assert_eq!(objects_left(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_secret_in_the_backends_own_error_is_never_printed() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    // pydantic's ValidationError repeats the rejected value: input_value='<the secret>'.
    patch(&ws, "config.py", "aws_secret_access_key: str = \"\"", "aws_secret_access_key: int = 0");
    // The backend also prints it on stderr as it loads.
    patch(
        &ws,
        "config.py",
        "@lru_cache",
        "import os, sys\nprint(open('.env').read(), file=sys.stderr)\nsys.stderr.flush()\n\n@lru_cache",
    );

    for json in [false, true] {
        let mut command = ws.t3s3();
        command.arg("verify").args(json.then_some("--json")).args(["--backend", "--python"]).arg(test_python());
        let out = run(&mut command);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.all().contains("input_value="), "the error itself is shown: {}", out.all());
        assert!(!out.all().contains(ROOT_SECRET), "the secret was printed: {}", out.all());
        assert!(!out.all().contains(&ROOT_SECRET[..20]), "part of the secret was printed: {}", out.all());
    }
}

#[tokio::test]
async fn doctor_runs_no_code_from_the_checkout() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    let marker = ws.path().join("ran");
    // A venv whose interpreter is any file: doctor reads its packages, never runs it.
    let venv = ws.path().join("backend/venv");
    make_venv(&venv, &[]);
    let python = venv.join("bin/python");
    std::fs::remove_file(&python).unwrap();
    std::fs::write(&python, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // A module shadowing the standard library's, in the backend folder.
    ws.write("backend/json.py", &format!("open({:?}, 'w').write('json.py ran')\n", marker.display().to_string()));

    let out = run(ws.t3s3().args(["doctor", "--json"]));
    assert!(!marker.exists(), "doctor ran code from the checkout: {}", out.all());
    let report = out.json();
    assert_eq!(check_in(&report, "backend_python")["status"], "PASS", "{report}");
    assert_eq!(check_in(&report, "boto3_installed")["evidence"], venv_versions_text());

    // Named with --python, the interpreter runs, isolated from the backend's json.py.
    let out = run(ws.t3s3().args(["doctor", "--json", "--python"]).arg(test_python()));
    assert!(!marker.exists(), "the backend's json.py shadowed the standard library: {}", out.all());
    assert_eq!(check_in(&out.json(), "boto3_installed")["status"], "PASS", "{}", out.all());

    // verify --backend runs the backend's code by design, but not its json.py in place of Python's.
    let out = run(ws.t3s3().args(["verify", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!marker.exists(), "the backend's json.py shadowed the standard library: {}", out.all());
}

/// The backend's code, as in [`project`], with only `env` as its .env (no init run).
fn backend_with_env(env: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("backend/.env", env);
    let fixture = repo().join("tests/fixtures/backend");
    for file in ["config.py", "storage/__init__.py", "storage/s3_client.py", "requirements.txt"] {
        ws.write(&format!("backend/{file}"), &std::fs::read_to_string(fixture.join(file)).unwrap());
    }
    ws
}

#[tokio::test]
async fn the_backends_own_endpoint_variable_is_read_written_and_compared() {
    let server = moto(None);
    // init writes S3_ENDPOINT_URL beside AWS_ENDPOINT_URL: the backend's config.py reads it.
    let ws = backend_with_env("# T3 Chat\nDATABASE_URL=postgres://localhost/t3\n");
    git(ws.path(), &["init", "-q"]);
    ws.initialise(&server, BUCKET);
    let values = env_values(&ws.path().join("backend/.env"));
    assert_eq!(values.get("S3_ENDPOINT_URL"), Some(&server.url()), "{values:?}");
    assert_eq!(values.get("AWS_ENDPOINT_URL"), Some(&server.url()), "{values:?}");
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["backend"]["differences"], serde_json::json!([]));

    // A .env with the backend's name only: verify goes to that endpoint, never to AWS.
    let text = ws.read("backend/.env");
    let only_theirs: String =
        text.lines().filter(|l| !l.starts_with("AWS_ENDPOINT_URL=")).map(|l| format!("{l}\n")).collect();
    ws.write("backend/.env", &only_theirs);
    let out = run(ws.t3s3().arg("verify"));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("S3_ENDPOINT_URL: SET (backend/.env line"), "{}", out.stdout);

    // Two names, two endpoints: said, with both places.
    ws.write("backend/.env", &format!("{only_theirs}AWS_ENDPOINT_URL=http://127.0.0.1:9\n"));
    let out = run(ws.t3s3().arg("verify"));
    assert!(out.stdout.contains("AWS_ENDPOINT_URL (http://127.0.0.1:9"), "{}", out.stdout);
    assert!(out.stdout.contains("differ"), "{}", out.stdout);
}

#[tokio::test]
async fn a_backend_that_drops_the_session_token_is_named_with_the_line_to_change() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    // Role credentials as STS issues them (moto, unenforced, takes any).
    let session_token = "IQoJb3JpZ2luX2VjEXAMPLEtokenFQoGZXIvYXdzEBYaDHVzZXJuYW1lLXRva2VuIjAwLgIhAO1bcd2kFZ3nUq7";
    let key = Key { id: "ASIAQXZ3B4C5D6E7F8G9".into(), secret: "Tk9/pQ2+vR9sT4uW1yZ3aB5cD8eF0gH6iJ2kL4mX".into() };
    let ws = project(&server);
    let env = ws.write_env("backend/.env", &key, APP_REGION, BUCKET, &server.url());
    let mut text = std::fs::read_to_string(&env).unwrap();
    text.push_str(&format!("S3_ENDPOINT_URL={}\nAWS_SESSION_TOKEN={session_token}\n", server.url()));
    std::fs::write(&env, text).unwrap();
    let call_line =
        ws.read("backend/storage/s3_client.py").lines().position(|l| l.contains("boto3.client(")).unwrap() + 1;

    // moto lets the token-less request through; AWS would refuse it: t3s3 says so anyway.
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(report["steps"][6]["status"], "passed", "t3s3's own client sends the token");
    assert_eq!(report["backend"]["ok"], false);
    assert_eq!(report["backend"]["client"]["session_token"], false, "{}", report["backend"]);
    let differences = report["backend"]["differences"].as_array().unwrap();
    let token = differences.iter().find(|d| d["setting"] == "AWS_SESSION_TOKEN").expect("the token difference");
    assert!(token["backend"].as_str().unwrap().contains(&format!("storage/s3_client.py line {call_line}")), "{token}");
    assert!(!out.stdout.contains(session_token), "the token was printed");
    let doctor = run(ws.t3s3().args(["doctor", "--json"]));
    let check = check_in(&doctor.json(), "backend_session_token");
    assert_eq!(check["status"], "FAIL", "{check}");
    assert!(check["evidence"].as_str().unwrap().contains(&format!("line {call_line}")), "{check}");

    // The change the fix names: the token passed on.
    patch(
        &ws,
        "config.py",
        "    s3_endpoint_url: Optional[str] = None\n",
        "    s3_endpoint_url: Optional[str] = None\n    aws_session_token: Optional[str] = None\n",
    );
    patch(
        &ws,
        "storage/s3_client.py",
        "aws_secret_access_key=settings.aws_secret_access_key,",
        "aws_secret_access_key=settings.aws_secret_access_key,\n            aws_session_token=settings.aws_session_token,",
    );
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["backend"]["client"]["session_token"], true);
    assert_eq!(check_in(&run(ws.t3s3().args(["doctor", "--json"])).json(), "backend_session_token")["status"], "PASS");
}

#[tokio::test]
async fn a_backend_that_cannot_run_on_a_role_is_named_with_its_lines() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    // A server on a role: the .env holds no key; the machine's credentials (a profile here).
    ws.write(
        "backend/.env",
        &format!(
            "AWS_REGION={APP_REGION}\nS3_BUCKET_NAME={BUCKET}\nAWS_ENDPOINT_URL={0}\nS3_ENDPOINT_URL={0}\n",
            server.url()
        ),
    );
    ws.write(
        "no-aws-credentials",
        &format!("[default]\naws_access_key_id = {ROOT_KEY_ID}\naws_secret_access_key = {ROOT_SECRET}\n"),
    );
    let config_line =
        ws.read("backend/config.py").lines().position(|l| l.contains("return bool(self.aws_access_key_id")).unwrap()
            + 1;
    let client_line =
        ws.read("backend/storage/s3_client.py").lines().position(|l| l.contains("aws_access_key_id=")).unwrap() + 1;

    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = out.json();
    assert_eq!(report["steps"][6]["status"], "passed", "t3s3's own run uses the role's credentials");
    assert!(report["credentials"].as_str().unwrap().contains("profile"), "{}", report["credentials"]);
    let differences = report["backend"]["differences"].as_array().unwrap();
    let needs = differences.iter().find(|d| d["setting"] == "credentials").expect("the backend needs a key");
    let named = needs["backend"].as_str().unwrap();
    assert!(named.contains(&format!("config.py line {config_line}")), "{needs}");
    assert!(named.contains(&format!("storage/s3_client.py line {client_line}")), "{needs}");
    let failed =
        report["backend"]["steps"].as_array().unwrap().iter().find(|s| s["status"] == "failed").unwrap().clone();
    assert!(
        failed["fix"].as_str().unwrap().contains("let boto3 find the credentials")
            || failed["fix"].as_str().unwrap().contains("Let boto3 find the credentials"),
        "{failed}"
    );
}

#[tokio::test]
async fn settings_load_dotenv_copied_into_the_environment_are_named_by_their_file() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    // The real backend loads backend/.env by absolute path with python-dotenv at import.
    patch(
        &ws,
        "config.py",
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n",
        "from pydantic_settings import BaseSettings, SettingsConfigDict\nimport os\nfrom dotenv import load_dotenv\n\nload_dotenv(os.path.join(os.path.dirname(os.path.abspath(__file__)), \".env\"))\n",
    );
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 0, "{}", out.all());
    let origins = out.json()["backend"]["loaded"]["origins"].clone();
    for field in ["aws_access_key_id", "s3_bucket_name", "aws_region"] {
        let origin = origins[field].as_str().unwrap();
        assert!(origin.ends_with("backend/.env"), "{field} came from {origin}, not the environment: {origins}");
    }
}

#[tokio::test]
async fn a_failed_step_shows_what_the_backends_own_code_printed() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    patch(
        &ws,
        "storage/s3_client.py",
        "        s3_key = f\"{user_id}/{conversation_id}/{document_id}/{filename}\"\n",
        "        s3_key = f\"{user_id}/{conversation_id}/{document_id}/{filename}\"\n        print(\"Error uploading file: NoSuchBucket \\x1b[2J\")\n        raise RuntimeError(\"upload failed\")\n",
    );
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 1, "{}", out.all());
    let printed = out.json()["backend"]["printed"].clone();
    assert!(
        printed.as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("Error uploading file: NoSuchBucket")),
        "{printed}"
    );
    let text = run(ws.t3s3().args(["verify", "--backend", "--python"]).arg(test_python()));
    assert!(text.stdout.contains("The backend printed"), "{}", text.stdout);
    assert!(text.stdout.contains("| Error uploading file: NoSuchBucket \\x1b[2J"), "{}", text.stdout);
}

#[tokio::test]
async fn another_layout_is_found_and_one_of_its_own_is_named_with_settings_and_client() {
    let server = moto_with_bucket(BUCKET, APP_REGION).await;
    let ws = project(&server);
    // backend/app/core/config.py and backend/app/storage/s3_client.py, as many FastAPI apps have.
    let config = ws.read("backend/config.py");
    let client = ws
        .read("backend/storage/s3_client.py")
        .replace("from config import get_settings", "from app.core.config import get_settings");
    for file in ["config.py", "storage/s3_client.py", "storage/__init__.py"] {
        std::fs::remove_file(ws.path().join("backend").join(file)).unwrap();
    }
    ws.write("backend/app/core/config.py", &config);
    ws.write("backend/app/storage/s3_client.py", &client);
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(backend_statuses(&out.json()), ["passed"; 7]);

    // A layout of its own: named, and a wrong name is exit 2 before any request.
    std::fs::rename(ws.path().join("backend/app/storage/s3_client.py"), ws.path().join("backend/app/files.py"))
        .unwrap();
    let out = run(ws.t3s3().args(["verify", "--backend", "--python"]).arg(test_python()));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no S3 client found") && out.stderr.contains("--client MODULE:ATTR"), "{}", out.stderr);
    let out = run(ws.t3s3().args(["verify", "--json", "--backend", "--python"]).arg(test_python()).args([
        "--settings",
        "app.core.config:get_settings",
        "--client",
        "app.files:S3Client",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    let out = run(ws.t3s3().args(["verify", "--backend", "--client", "app.nowhere:S3Client"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("has no module app.nowhere"), "{}", out.stderr);
}
