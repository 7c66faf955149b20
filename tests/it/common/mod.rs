//! Test harness: real servers on loopback (moto, s3s-fs, small proxies) and the real binary.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

pub const APP_REGION: &str = "ap-south-1";
/// moto accepts any credentials until IAM enforcement starts; these are the guide's examples.
pub const ROOT_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const ROOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(env_var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env_var).map(PathBuf::from).unwrap_or_else(|| repo().join(default));
    assert!(path.exists(), "{} is missing: run scripts/setup-test-env.sh first", path.display());
    path
}

/// Ports handed out in this test process, by [`free_port`] or [`listen`].
static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());

fn claim(port: u16) -> bool {
    let mut given = GIVEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if given.contains(&port) {
        return false;
    }
    given.push(port);
    true
}

/// A loopback port nothing listens on, never handed out twice in this test process: two
/// tests starting servers at once must not get the same port (the second server would fail
/// to bind while its test talked to the first one's).
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if claim(port) {
            return port;
        }
    }
}

/// A listener on a loopback port no other server of this process was promised.
pub fn listen() -> (TcpListener, u16) {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if claim(port) {
            return (listener, port);
        }
    }
}

fn wait_for_port(port: u16, child: &mut Child, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{name} exited early with {status}");
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{name} did not listen on 127.0.0.1:{port} within 30 s");
}

/// A server process on a free loopback port, stopped when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    _root: Option<tempfile::TempDir>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn root(&self) -> &Path {
        self._root.as_ref().expect("server has a data folder").path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's standalone server (S3, IAM, STS). With `enforce_after`, it checks signatures
/// and IAM policies after that many requests.
pub fn moto(enforce_after: Option<u32>) -> Server {
    moto_with(enforce_after, &[])
}

/// moto with extra settings, e.g. `MOTO_IAM_LOAD_MANAGED_POLICIES=true` for AWS's own policies.
pub fn moto_with(enforce_after: Option<u32>, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut command = Command::new(tool("T3S3_MOTO_SERVER", ".venv/bin/moto_server"));
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(count) = enforce_after {
        command.env("INITIAL_NO_AUTH_ACTION_COUNT", count.to_string());
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().expect("start moto_server");
    wait_for_port(port, &mut child, "moto_server");
    Server { child, port, _root: None }
}

/// A plain HTTP file server over `root` (Python's http.server from the test venv), e.g. a
/// stand-in for GitHub's release downloads.
pub fn static_files(root: &Path) -> Server {
    let port = free_port();
    let mut child = Command::new(tool("T3S3_PYTHON", ".venv/bin/python"))
        .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
        .arg(root)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start http.server");
    wait_for_port(port, &mut child, "http.server");
    Server { child, port, _root: None }
}

/// s3s-fs: an S3 server that verifies header and presigned SigV4 signatures.
pub fn s3s_fs(key_id: &str, secret: &str) -> Server {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let mut child = Command::new(tool("T3S3_S3S_FS", ".tools/bin/s3s-fs"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", key_id, "--secret-key", secret])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs");
    wait_for_port(port, &mut child, "s3s-fs");
    Server { child, port, _root: Some(root) }
}

/// An SDK config for test setup against `endpoint` with the given key.
pub fn sdk_config(endpoint: &str, key_id: &str, secret: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
            key_id, secret, None, None, "test",
        )))
        .endpoint_url(endpoint)
        .build()
}

pub fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

pub fn iam(config: &aws_config::SdkConfig) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(config)
}

pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) {
    let mut request = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    request.send().await.expect("create bucket");
}

/// A key pair of an IAM user.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

pub async fn create_user_with_key(iam: &aws_sdk_iam::Client, user: &str) -> Key {
    iam.create_user().user_name(user).send().await.expect("create user");
    create_key(iam, user).await
}

pub async fn create_key(iam: &aws_sdk_iam::Client, user: &str) -> Key {
    let key = iam.create_access_key().user_name(user).send().await.expect("create key");
    let key = key.access_key().unwrap();
    Key { id: key.access_key_id().to_string(), secret: key.secret_access_key().to_string() }
}

/// Makes `server` (moto) check every signature and IAM policy from the next request on
/// (its `POST /moto-api/reset-auth` switch).
pub fn enforce_from_now(server: &Server) {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let request =
        "POST /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0";
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "moto refused reset-auth: {answer}");
}

/// moto with IAM enforcement and an administrator key: the first three requests (the
/// allowance moto is started with) create the admin, everything after is checked.
pub async fn enforcing_moto() -> (Server, Key) {
    let server = moto(Some(3));
    let bootstrap = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    let iam = iam(&bootstrap);
    iam.create_user().user_name("admin").send().await.unwrap();
    iam.put_user_policy()
        .user_name("admin")
        .policy_name("everything")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let admin = create_key(&iam, "admin").await;
    (server, admin)
}

/// A folder for a test's files, with a git-free, AWS-free environment for the binary.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap()
    }

    /// The real binary, run in this folder with every AWS setting of the developer cleared.
    pub fn t3s3(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_t3s3"));
        command
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("AWS_CONFIG_FILE", self.path().join("no-aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path().join("no-aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    }

    /// The binary acting with moto's "root" credentials from the environment, as a developer's
    /// shell would, against `server`.
    pub fn acting(&self, server: &Server) -> Command {
        let mut command = self.t3s3();
        command
            .env("AWS_ACCESS_KEY_ID", ROOT_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", ROOT_SECRET)
            .args(["--endpoint-url", &server.url()]);
        command
    }

    /// `t3s3 init --bucket BUCKET --create-user --no-verify` in APP_REGION against `server`,
    /// which must succeed: a project set up for the test that follows.
    pub fn initialise(&self, server: &Server, bucket: &str) {
        let out = run(self
            .acting(server)
            .args(["--region", APP_REGION, "init", "--bucket", bucket])
            .args(["--create-user", "--no-verify"]));
        assert_eq!(out.code, 0, "{}", out.all());
    }

    /// The backend's .env as the guide writes it.
    pub fn write_env(&self, name: &str, key: &Key, region: &str, bucket: &str, endpoint: &str) -> PathBuf {
        self.write(
            name,
            &format!(
                "# AWS S3 Configuration\nAWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\nAWS_REGION={region}\nS3_BUCKET_NAME={bucket}\nAWS_ENDPOINT_URL={endpoint}\n",
                key.id, key.secret
            ),
        )
    }
}

/// Runs `command` on a pseudo-terminal (Python's pty module from the test venv), as a user at
/// a terminal would: each of `answers` is typed when the output stops at a prompt (`: `, `] `).
/// The run's terminal output (stdout and stderr, as the user saw them) is `stdout`.
pub fn on_terminal(command: &Command, answers: &[&str]) -> Run {
    const DRIVER: &str = r#"
import os, pty, select, sys
answers = sys.argv[1].split("\n") if sys.argv[1] else []
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
seen = b""
while True:
    ready, _, _ = select.select([fd], [], [], 60)
    if not ready:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
    if answers and (seen.endswith(b": ") or seen.endswith(b"] ")):
        os.write(fd, answers.pop(0).encode() + b"\n")
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#;
    let mut driver = Command::new(tool("T3S3_PYTHON", ".venv/bin/python"));
    driver
        .env_clear()
        .arg("-c")
        .arg(DRIVER)
        .arg(answers.join("\n"))
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            driver.env(name, value);
        }
    }
    if let Some(dir) = command.get_current_dir() {
        driver.current_dir(dir);
    }
    run(&mut driver)
}

/// `init`'s (or `ci-role`'s) summary rows in `--json`: resource -> status.
pub fn resource_statuses(report: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["resource"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string()))
        .collect()
}

/// A finished run of the binary, with what a user sees.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

pub fn run(command: &mut Command) -> Run {
    let Output { status, stdout, stderr } = command.output().expect("run t3s3");
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "t3s3 panicked:\n{}", run.stderr);
    assert!(!run.all().contains("RUST_BACKTRACE"), "backtrace hint shown:\n{}", run.all());
    run
}

/// A loopback HTTP server answering every request with one canned response, as S3 does
/// for a bucket in another region. Returns its port; the thread lives with the test.
pub fn canned_server(status_line: &'static str, headers: Vec<(&'static str, String)>, body: String) -> u16 {
    let (listener, port) = listen();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let headers = headers.clone();
            let body = body.clone();
            thread::spawn(move || answer_all(stream, status_line, &headers, &body));
        }
    });
    port
}

fn answer_all(mut stream: TcpStream, status_line: &str, headers: &[(&str, String)], body: &str) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    loop {
        let Some(head) = read_head(&mut stream) else { return };
        let is_head = head.starts_with("HEAD ");
        let length = content_length(&head);
        let mut rest = vec![0u8; length];
        if stream.read_exact(&mut rest).is_err() {
            return;
        }
        let mut response = format!("HTTP/1.1 {status_line}\r\n");
        for (name, value) in headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("content-type: application/xml\r\n");
        response.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        if !is_head {
            response.push_str(body);
        }
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// A loopback server that accepts connections and never answers.
pub fn silent_server() -> u16 {
    let (listener, port) = listen();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// A TCP proxy to `upstream` that changes one character of the signature of any
/// presigned request passing through (a URL "changed on its way"). Returns its port
/// and a flag that is set once it has tampered with a request.
pub fn tampering_proxy(upstream: u16) -> (u16, Arc<AtomicBool>) {
    const MARK: &[u8] = b"X-Amz-Signature=";
    let (listener, port) = listen();
    let tampered = Arc::new(AtomicBool::new(false));
    let flag = tampered.clone();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let flag = flag.clone();
            thread::spawn(move || {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { return };
                let (mut client_reader, mut server_writer) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                // Every request of the connection (it is kept alive and reused), byte by byte:
                // the first character of each presigned signature is changed on its way.
                let forward = thread::spawn(move || {
                    let mut seen: Vec<u8> = Vec::new();
                    let mut byte = [0u8; 1];
                    while let Ok(1) = client_reader.read(&mut byte) {
                        if seen.ends_with(MARK) {
                            byte[0] = if byte[0] == b'0' { b'1' } else { b'0' };
                            flag.store(true, Ordering::SeqCst);
                        }
                        seen.push(byte[0]);
                        if seen.len() > MARK.len() {
                            seen.remove(0);
                        }
                        if server_writer.write_all(&byte).is_err() {
                            break;
                        }
                    }
                    let _ = server_writer.shutdown(std::net::Shutdown::Write);
                });
                let (mut server_reader, mut client_writer) = (server, client);
                let _ = std::io::copy(&mut server_reader, &mut client_writer);
                let _ = client_writer.shutdown(std::net::Shutdown::Write);
                let _ = forward.join();
            });
        }
    });
    (port, tampered)
}

/// A TCP proxy to `upstream` whose first `failures` connections get the S3 answer for a key
/// AWS does not know yet (403 InvalidAccessKeyId), as a brand-new key gets for a few
/// seconds on real AWS; every later connection is passed through untouched.
pub fn new_key_proxy(upstream: u16, failures: usize) -> u16 {
    let (listener, port) = listen();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let seen = seen.clone();
            thread::spawn(move || {
                if seen.fetch_add(1, Ordering::SeqCst) < failures {
                    let _ = read_head(&mut client);
                    let body = "<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>";
                    let response = format!(
                        "HTTP/1.1 403 Forbidden\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = client.write_all(response.as_bytes());
                    return;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { return };
                pipe(client, server);
            });
        }
    });
    port
}

/// The backend's user `t3_chat` with a key and `document` attached as T3ChatS3Policy, made
/// by an administrator. The document goes as compact JSON: moto (not AWS) rejects the
/// signature of an IAM form body with spaces once it enforces signatures.
pub async fn app_user_with_policy(iam: &aws_sdk_iam::Client, document: &serde_json::Value) -> Key {
    let app = create_user_with_key(iam, "t3_chat").await;
    let policy =
        iam.create_policy().policy_name("T3ChatS3Policy").policy_document(document.to_string()).send().await.unwrap();
    iam.attach_user_policy()
        .user_name("t3_chat")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    app
}

/// Copies bytes both ways between a client and a server until both sides close.
fn pipe(client: TcpStream, server: TcpStream) {
    let (mut client_reader, mut server_writer) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let forward = thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(std::net::Shutdown::Write);
    });
    let (mut server_reader, mut client_writer) = (server, client);
    let _ = std::io::copy(&mut server_reader, &mut client_writer);
    let _ = client_writer.shutdown(std::net::Shutdown::Write);
    let _ = forward.join();
}

/// One request as the fault proxy saw it.
#[derive(Debug, Clone)]
pub struct ProxiedRequest {
    pub method: String,
    /// Path and query, e.g. `/bucket?location`.
    pub target: String,
    /// The `Action=` of a Query API (IAM, STS) form body, if any.
    pub action: Option<String>,
    /// The `x-amz-security-token` header: the session token of temporary credentials.
    pub security_token: Option<String>,
    /// Every header, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl ProxiedRequest {
    /// A header's value, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `METHOD target` or the Query API action, for matching in rules.
    pub fn is(&self, method: &str, target_contains: &str) -> bool {
        self.method == method && self.target.contains(target_contains)
    }
}

/// What the fault proxy does with one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward it and its answer untouched.
    Pass,
    /// Answer this status and body (XML) without asking upstream.
    Answer(u16, &'static str),
    /// Close the connection without answering (a reset before the request arrived).
    ResetBefore,
    /// Forward it (so it takes effect), then close without answering (a reset after the body was sent).
    ResetAfter,
    /// Forward it, then send the answer's head and only half its body.
    Truncated,
    /// Forward it after this long.
    Delay(Duration),
}

/// A loopback HTTP proxy in front of `upstream` that applies `rule` to each request
/// (numbered from 0 in arrival order): S3 and IAM answers as faulty networks and
/// overloaded services give them.
pub fn fault_proxy(upstream: u16, rule: impl Fn(&ProxiedRequest, usize) -> Fault + Send + Sync + 'static) -> u16 {
    let (listener, port) = listen();
    let rule = Arc::new(rule);
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (rule, count) = (rule.clone(), count.clone());
            thread::spawn(move || serve_faulty(client, upstream, &*rule, &count));
        }
    });
    port
}

fn serve_faulty(
    mut client: TcpStream,
    upstream: u16,
    rule: &(dyn Fn(&ProxiedRequest, usize) -> Fault + Send + Sync),
    count: &std::sync::atomic::AtomicUsize,
) {
    client.set_read_timeout(Some(Duration::from_secs(30))).ok();
    loop {
        let Some(head) = read_head(&mut client) else { return };
        let mut body = vec![0u8; content_length(&head)];
        if client.read_exact(&mut body).is_err() {
            return;
        }
        let first = head.lines().next().unwrap_or_default().to_string();
        let mut parts = first.split_whitespace();
        let request = ProxiedRequest {
            method: parts.next().unwrap_or_default().to_string(),
            target: parts.next().unwrap_or_default().to_string(),
            action: String::from_utf8_lossy(&body)
                .split('&')
                .find_map(|pair| pair.strip_prefix("Action=").map(str::to_string)),
            security_token: head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("x-amz-security-token").then(|| value.trim().to_string())
            }),
            headers: head
                .lines()
                .skip(1)
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
                .collect(),
        };
        let fault = rule(&request, count.fetch_add(1, Ordering::SeqCst));
        let answer = match fault {
            Fault::ResetBefore => return,
            Fault::Answer(status, xml) => format!(
                "HTTP/1.1 {status} Fault\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n{xml}",
                xml.len()
            )
            .into_bytes(),
            Fault::Delay(wait) => {
                thread::sleep(wait);
                match forward(upstream, &head, &body) {
                    Some(answer) => answer,
                    None => return,
                }
            }
            Fault::Pass | Fault::ResetAfter | Fault::Truncated => match forward(upstream, &head, &body) {
                Some(answer) if matches!(fault, Fault::ResetAfter) => {
                    drop(answer);
                    return;
                }
                Some(answer) if matches!(fault, Fault::Truncated) => {
                    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |p| p + 4);
                    let keep = split + (answer.len() - split) / 2;
                    let _ = client.write_all(&answer[..keep]);
                    return;
                }
                Some(answer) => answer,
                None => return,
            },
        };
        if client.write_all(&answer).is_err() {
            return;
        }
    }
}

/// Sends one request upstream on a connection of its own and returns the whole answer,
/// re-framed for a kept-alive client connection.
fn forward(upstream: u16, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    let mut lines: Vec<&str> = head.trim_end().split("\r\n").collect();
    lines.retain(|line| !line.to_ascii_lowercase().starts_with("connection:"));
    let head = format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n"));
    server.write_all(head.as_bytes()).ok()?;
    server.write_all(body).ok()?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).ok()?;
    // The upstream closes after its answer; say the length so the client can keep its connection.
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let (answer_head, answer_body) = answer.split_at(split);
    let text = String::from_utf8_lossy(answer_head);
    let is_head = head.starts_with("HEAD ");
    let mut kept: Vec<&str> = text
        .trim_end()
        .split("\r\n")
        .filter(|line| {
            let lower = line.to_ascii_lowercase();
            let framing = lower.starts_with("content-length:") || lower.starts_with("transfer-encoding:");
            !lower.starts_with("connection:") && (!framing || is_head)
        })
        .collect();
    let length = format!("content-length: {}", answer_body.len());
    if !is_head {
        kept.push(&length);
    }
    let mut framed = format!("{}\r\n\r\n", kept.join("\r\n")).into_bytes();
    framed.extend_from_slice(answer_body);
    Some(framed)
}

/// moto with `bucket` already made in `region` by its root.
pub async fn moto_with_bucket(bucket: &str, region: &str) -> Server {
    let server = moto(None);
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, region);
    create_bucket(&s3(&config), bucket, region).await;
    server
}

/// moto's root credentials, as a key.
pub fn root_key() -> Key {
    Key { id: ROOT_KEY_ID.into(), secret: ROOT_SECRET.into() }
}

/// Runs git in `dir` as a throwaway author; it must succeed. Returns what it printed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A .env's values as dotenvy (a second parser beside python-dotenv) reads them.
pub fn env_values(path: &Path) -> std::collections::BTreeMap<String, String> {
    dotenvy::from_path_iter(path).unwrap().map(Result::unwrap).collect()
}

/// One check of a `doctor --json` report, by id.
pub fn check_in(report: &serde_json::Value, id: &str) -> serde_json::Value {
    let checks = report["checks"].as_array().expect("a doctor report");
    checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no check {id}: {report}")).clone()
}

/// `doctor --json` as moto's root against `server`, then one check of it.
pub fn doctor_check(ws: &Workspace, server: &Server, id: &str) -> serde_json::Value {
    check_in(&run(ws.acting(server).args(["doctor", "--json"])).json(), id)
}

/// What the account holds, as moto's root sees it: every bucket (its versioning, policy,
/// lifecycle and object count), user (keys with their status, policies, direct or through a
/// group), group, customer policy (its versions), role (trust, policies), instance profile,
/// OIDC provider and budget. "Nothing changed" is this text, equal before and after.
pub async fn snapshot(server: &Server) -> String {
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    let (s3, iam) = (s3(&config), iam(&config));
    let mut lines = Vec::new();
    for bucket in s3.list_buckets().send().await.unwrap().buckets() {
        let name = bucket.name().unwrap();
        let versioning = s3.get_bucket_versioning().bucket(name).send().await.ok().and_then(|v| v.status().cloned());
        let policy = s3.get_bucket_policy().bucket(name).send().await.ok().and_then(|p| p.policy().map(str::to_string));
        let lifecycle = s3.get_bucket_lifecycle_configuration().bucket(name).send().await.ok().map(|l| l.rules().len());
        let objects = s3.list_object_versions().bucket(name).send().await.map(|l| l.versions().len()).unwrap_or(0);
        lines.push(format!(
            "bucket {name} versioning {versioning:?} policy {policy:?} lifecycle {lifecycle:?} objects {objects}"
        ));
    }
    for user in iam.list_users().send().await.unwrap().users() {
        let keys = iam.list_access_keys().user_name(user.user_name()).send().await.unwrap();
        let ids: Vec<String> = keys
            .access_key_metadata()
            .iter()
            .map(|k| format!("{} {:?}", k.access_key_id().unwrap(), k.status()))
            .collect();
        let attached = iam.list_attached_user_policies().user_name(user.user_name()).send().await.unwrap();
        let mut names: Vec<String> =
            attached.attached_policies().iter().map(|p| p.policy_name().unwrap().to_string()).collect();
        let inline = iam.list_user_policies().user_name(user.user_name()).send().await.unwrap();
        names.extend(inline.policy_names().iter().map(|n| format!("{n} (inline)")));
        for group in iam.list_groups_for_user().user_name(user.user_name()).send().await.unwrap().groups() {
            names.push(format!("member of {}", group.group_name()));
        }
        lines.push(format!("user {} keys {ids:?} policies {names:?}", user.user_name()));
    }
    for group in iam.list_groups().send().await.unwrap().groups() {
        let held = iam.list_attached_group_policies().group_name(group.group_name()).send().await.unwrap();
        let names: Vec<&str> = held.attached_policies().iter().map(|p| p.policy_name().unwrap()).collect();
        lines.push(format!("group {} policies {names:?}", group.group_name()));
    }
    let policies = iam.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).send().await.unwrap();
    for policy in policies.policies() {
        let versions = iam.list_policy_versions().policy_arn(policy.arn().unwrap()).send().await.unwrap();
        let ids: Vec<String> = versions
            .versions()
            .iter()
            .map(|v| format!("{}{}", v.version_id().unwrap(), if v.is_default_version() { "*" } else { "" }))
            .collect();
        lines.push(format!("policy {} versions {ids:?}", policy.policy_name().unwrap()));
    }
    for role in iam.list_roles().send().await.unwrap().roles() {
        let attached = iam.list_attached_role_policies().role_name(role.role_name()).send().await.unwrap();
        let names: Vec<&str> = attached.attached_policies().iter().map(|p| p.policy_name().unwrap()).collect();
        let trust = role.assume_role_policy_document().unwrap_or_default();
        lines.push(format!("role {} trust {trust} policies {names:?}", role.role_name()));
    }
    for profile in iam.list_instance_profiles().send().await.unwrap().instance_profiles() {
        let roles: Vec<&str> = profile.roles().iter().map(|r| r.role_name()).collect();
        lines.push(format!("instance profile {} roles {roles:?}", profile.instance_profile_name()));
    }
    for provider in iam.list_open_id_connect_providers().send().await.unwrap().open_id_connect_provider_list() {
        let arn = provider.arn().unwrap();
        let got = iam.get_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await.unwrap();
        lines.push(format!("oidc provider {arn} clients {:?}", got.client_id_list()));
    }
    let budgets = aws_sdk_budgets::Client::new(&config);
    let listed = budgets.describe_budgets().account_id("123456789012").send().await;
    for budget in listed.ok().map(|l| l.budgets().to_vec()).unwrap_or_default() {
        lines.push(format!("budget {} limit {:?}", budget.budget_name(), budget.budget_limit().map(|l| l.amount())));
    }
    lines.sort();
    lines.join("\n")
}
