//! The guide's seven-step self-test (section 8), run with exactly the settings the backend
//! uses: used by `verify`, and by `init` and `rotate-key` after they write a key.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::aws::{self, AppCredentials};
use crate::aws_error::{AwsError, ErrorCode, ErrorKind};
use crate::bucket;
use crate::bucket_name;
use crate::diagnose::{self, Diagnosis, Subject};
use crate::envfile::Severity;
use crate::keys::Key;
use crate::settings::{AppSettings, is_region_name};
use crate::ui::Printer;

mod report;
pub use report::*;

/// What the test uploads, as in the guide.
pub use crate::guide::TEST_CONTENT;
/// How long the presigned URL is valid, as in the guide.
pub const PRESIGN_SECONDS: u64 = 60;

/// How the self-test runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Per-request time limit.
    pub timeout: Duration,
    /// For a key created moments ago: keep retrying InvalidAccessKeyId this long.
    pub wait_for_new_key: Option<Duration>,
    /// The policy the key should hold, named in diagnoses.
    pub policy_name: String,
}

/// Told about each step as it ends, and about waits, so people see progress.
pub trait Progress {
    fn step(&self, step: &Step);
    fn waiting(&self, message: &str);
}

impl Progress for Printer {
    fn step(&self, step: &Step) {
        self.progress(step);
    }

    fn waiting(&self, message: &str) {
        Printer::waiting(self, message);
    }
}

/// The run in progress: the report so far and who hears about each step.
struct Run<'a> {
    report: VerifyReport,
    progress: &'a dyn Progress,
    started: Instant,
}

impl Run<'_> {
    /// Records step `number` (timed from the last record); `true` when it passed.
    fn record(&mut self, number: u8, result: StepResult) -> bool {
        let took = self.started.elapsed();
        self.record_timed(number, result, took)
    }

    /// Records step `number`, which took `took`; `true` when it passed.
    fn record_timed(&mut self, number: u8, result: StepResult, took: Duration) -> bool {
        let step = Step::ended(number, result, took);
        self.started = Instant::now();
        self.progress.step(&step);
        let passed = step.status == StepStatus::Passed;
        self.report.steps.push(step);
        passed
    }

    fn finish(mut self) -> VerifyReport {
        self.report.ok = finish_steps(&mut self.report.steps);
        self.report
    }
}

fn empty_report(settings: &AppSettings) -> VerifyReport {
    VerifyReport {
        ok: false,
        env_file: settings.env_file.as_ref().map(|p| p.display().to_string()),
        bucket: settings.bucket().to_string(),
        region: settings.region().to_string(),
        endpoint_url: settings.get(Key::EndpointUrl).map(str::to_string),
        key: None,
        settings: settings
            .required
            .iter()
            .chain([&settings.endpoint_url, &settings.session_token])
            .map(|s| SettingReport { name: s.name, set: s.value.is_some(), source: s.source.clone() })
            .collect(),
        credentials: None,
        lint: settings.lint.clone(),
        steps: Vec::new(),
        cleanup: None,
    }
}

/// How long a key created moments ago may be refused (InvalidAccessKeyId) before AWS has
/// accepted it everywhere: the self-test after init or rotate-key retries that long.
pub const NEW_KEY_PROPAGATION: Duration = Duration::from_secs(30);

/// The self-test a command runs right after writing `env_path` (init, rotate-key): its
/// banner, each step as it ends, and the verdict, on the settings exactly as the backend
/// will read them from that file.
pub async fn after_writing(
    env_path: &std::path::Path,
    options: &Options,
    printer: &Printer,
) -> anyhow::Result<VerifyReport> {
    printer.progress(&Banner::SelfTest);
    let result = run(&AppSettings::from_file(env_path)?, options, printer).await;
    printer.progress(&result);
    Ok(result)
}

/// Runs the seven steps with `settings`, telling `progress` as each ends.
pub async fn run(settings: &AppSettings, options: &Options, progress: &dyn Progress) -> VerifyReport {
    let mut run = Run { report: empty_report(settings), progress, started: Instant::now() };
    let chain = match settings.keyless() {
        true => Some(aws::chain_credentials(settings.region(), settings.get(Key::EndpointUrl), options.timeout).await),
        false => None,
    };
    run.report.credentials = match &chain {
        Some(Ok((_, source))) => Some(format!("the default credential chain: {source}")),
        Some(Err(_)) => None,
        None => settings.setting(Key::AccessKeyId).map(|s| format!("AWS_ACCESS_KEY_ID ({})", s.source)),
    };
    let app = match check_settings(settings, chain) {
        Ok((lines, app)) => {
            run.record(1, Ok(lines));
            app
        }
        Err(failed) => {
            run.record(1, Err(failed));
            return run.finish();
        }
    };
    let test = Test { client: aws::app_s3_client(&app, options.timeout), settings, options };
    // Each step gets --timeout, retries included; step 2 also the wait for a new key.
    let connection_limit = options.timeout + options.wait_for_new_key.unwrap_or_default();
    let limit = options.timeout;
    let key = unique_key();
    run.report.key = Some(key.clone());
    let connection = test.bounded(connection_limit, "s3:GetBucketLocation", test.connection(progress));
    let upload = test.bounded(limit, "s3:PutObject", test.upload(&key));
    // A key in use goes out with the upload alongside the connection check (neither needs
    // the other's answer); a new key is waited for first, so the upload is not refused.
    let uploaded = if options.wait_for_new_key.is_none() {
        let ((connection, took2), (upload, took3)) = tokio::join!(timed(connection), timed(upload));
        let connected = run.record_timed(2, connection, took2);
        match (connected, upload) {
            (true, upload) => Some(run.record_timed(3, upload, took3)),
            // Step 3 is not reported past a failed step 2, but what it stored is cleaned up.
            (false, Ok(_)) => Some(false),
            (false, Err(_)) => None,
        }
    } else if run.record(2, connection.await) {
        Some(run.record(3, upload.await))
    } else {
        None
    };
    let Some(uploaded) = uploaded else {
        run.report.key = None;
        return run.finish();
    };
    // From the upload on, a failure may leave the test object behind (an upload whose
    // answer was lost may still have stored it): it is cleaned up, and checked, at the end.
    let passed = uploaded
        && {
            // Steps 4 and 5 both only read the object: they go out together. Step 5 counts only
            // when step 4 passed (a later step is never reported past a failed one).
            let ((download, took4), (presigned, took5)) = tokio::join!(
                timed(test.bounded(limit, "s3:GetObject", test.download(&key))),
                timed(test.bounded(limit, "s3:GetObject", test.presigned_fetch(&key))),
            );
            run.record_timed(4, download, took4) && run.record_timed(5, presigned, took5)
        }
        && run.record(6, test.bounded(limit, "s3:DeleteObject", test.delete(&key)).await);
    if passed {
        run.record(7, test.bounded(limit, "s3:ListBucket", test.confirm_deleted(&key)).await);
    } else {
        run.report.cleanup = Some(test.clean_up(&key).await);
    }
    run.finish()
}

/// Deletes a test object another run left in the bucket of `settings` (the backend test,
/// when the backend's own client could not), and says whether it is gone.
pub async fn remove_test_object(settings: &AppSettings, options: &Options, key: &str) -> Option<Cleanup> {
    let app = settings.app_credentials()?;
    let test = Test { client: aws::app_s3_client(&app, options.timeout), settings, options };
    Some(test.clean_up(key).await)
}

/// Deletes every object under `prefix` whose key holds `test_id` (this run's own, so provably
/// t3s3's), but `done`; what became of each. Nothing when the bucket cannot be listed.
pub async fn remove_run_objects(
    settings: &AppSettings,
    options: &Options,
    prefix: &str,
    test_id: &str,
    done: Option<&str>,
) -> Vec<Cleanup> {
    let Some(app) = settings.app_credentials() else { return Vec::new() };
    let test = Test { client: aws::app_s3_client(&app, options.timeout), settings, options };
    let listing = bucket::list_objects(&test.client, settings.bucket(), Some(prefix));
    let Ok(Ok(objects)) = tokio::time::timeout(options.timeout, listing).await else { return Vec::new() };
    let mut cleaned = Vec::new();
    for object in objects.iter().filter(|o| o.key.contains(test_id) && Some(o.key.as_str()) != done) {
        cleaned.push(test.clean_up(&object.key).await);
    }
    cleaned
}

/// A future's output and how long it took.
async fn timed<F: Future>(future: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

/// Step 1: every setting set, well formed, and the .env free of errors.
fn check_settings(settings: &AppSettings, chain: Option<Chain>) -> Result<(Lines, AppCredentials), (Lines, Diagnosis)> {
    let mut lines = Vec::new();
    for setting in &settings.required {
        match &setting.value {
            Some(_) => lines.push((Mark::Ok, format!("{}: ✓ SET ({})", setting.name, setting.source))),
            None if chain.is_some() => {
                lines.push((Mark::Info, format!("{}: not set: the default credential chain signs", setting.name)))
            }
            None => lines.push((Mark::Fail, format!("{}: ✗ MISSING", setting.name))),
        }
    }
    if settings.endpoint_url.value.is_some() {
        lines.push((Mark::Info, format!("{}: SET ({})", settings.endpoint_url.name, settings.endpoint_url.source)));
    }
    match settings.session_token.value {
        Some(_) => lines.push((Mark::Ok, format!("AWS_SESSION_TOKEN: ✓ SET ({})", settings.session_token.source))),
        None if settings.ignored_session_token => lines.push((
            Mark::Info,
            "AWS_SESSION_TOKEN: set in the environment but not used: the key comes from the .env file".into(),
        )),
        None => lines.push((Mark::Info, "AWS_SESSION_TOKEN: not set (a long-term key needs none)".into())),
    }
    for issue in &settings.lint {
        let mark = if issue.severity == Severity::Error { Mark::Fail } else { Mark::Warn };
        lines.push((mark, format!("{} line {}: {}", settings.env_display(), issue.line, issue.message)));
    }
    let app = match chain {
        Some(Ok((app, source))) => {
            lines.push((Mark::Ok, format!("Credentials: {source}, key {}", app.access_key_id)));
            Some(app)
        }
        Some(Err(why)) => return Err((lines, no_chain_credentials(why))),
        None => settings.app_credentials(),
    };
    let Some(app) = app else {
        return Err((lines, missing_settings(settings)));
    };
    let problems = setting_problems(settings);
    if !problems.is_empty() {
        let diagnosis = Diagnosis {
            code: Subject::MalformedSettings,
            message: format!("{} problem(s) in the settings", problems.len()),
            cause: problems.join("; "),
            fix: vec![
                format!(
                    "Fix the lines named above in {}: KEY=value, no spaces around '=', no quotes.",
                    settings.env_display()
                ),
                "Restart the application after changing .env.".into(),
            ],
        };
        return Err((lines, diagnosis));
    }
    lines.push((Mark::Info, String::new()));
    lines.push((Mark::Info, format!("Region: {}", settings.region())));
    lines.push((Mark::Info, format!("Bucket: {}", settings.bucket())));
    if let Some(endpoint) = settings.get(Key::EndpointUrl) {
        lines.push((Mark::Info, format!("Endpoint: {endpoint}")));
    }
    Ok((lines, app))
}

/// The default chain's answer for a .env without a key.
type Chain = Result<(AppCredentials, &'static str), String>;

/// No key in the .env and no source of the default chain answered.
fn no_chain_credentials(why: String) -> Diagnosis {
    Diagnosis {
        code: Subject::NoCredentials,
        message: why,
        cause: "The .env holds no key, so the backend (and t3s3) look for credentials the way boto3 does: the environment, a profile, a web identity token, the ECS container or EC2 instance metadata; none answered.".into(),
        fix: vec![
            "On the server: give it its role (`t3s3 runtime-role --platform ec2|ecs|lambda|fly` prints how).".into(),
            "On a developer machine: run `t3s3 init` to write a key to the .env, or export AWS_PROFILE.".into(),
        ],
    }
}

fn missing_settings(settings: &AppSettings) -> Diagnosis {
    let missing = settings.missing().join(", ");
    let tried = settings.tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let (cause, mut fix) = match &settings.env_file {
        None => (
            format!("No .env file was found (looked for {tried}) and the environment does not set {missing}."),
            vec![
                "Put the .env file in the backend/ directory (or pass --env-file PATH).".into(),
                format!(
                    "Run `t3s3 --profile YOUR_ADMIN_PROFILE --region {} init --create-user` to create the bucket, user, key and backend/.env in one go.",
                    if settings.region().is_empty() { "ap-south-1" } else { settings.region() }
                ),
            ],
        ),
        Some(path) => (
            format!(
                "{missing} {} not set in {} or the environment.",
                if settings.missing().len() == 1 { "is" } else { "are" },
                path.display()
            ),
            vec![format!("Add {missing} to {} (KEY=value, no spaces around '=').", path.display())],
        ),
    };
    fix.push("Restart the application after changing .env.".into());
    Diagnosis { code: Subject::NoCredentials, message: format!("missing {missing}"), cause, fix }
}

/// A key and session token that cannot go together: a temporary ASIA key without its token,
/// or a token beside a long-term AKIA key.
pub fn session_token_problem(settings: &AppSettings) -> Option<String> {
    let key_id = settings.get(Key::AccessKeyId).unwrap_or_default();
    match (key_id.starts_with("ASIA"), settings.get(Key::SessionToken).is_some()) {
        (true, false) => Some(format!(
            "AWS_ACCESS_KEY_ID ({}) starts with ASIA: a temporary key from STS, which works only with its AWS_SESSION_TOKEN; set it from the same credentials",
            settings.where_set(Key::AccessKeyId)
        )),
        (false, true) if key_id.starts_with("AKIA") => Some(format!(
            "AWS_SESSION_TOKEN ({}) is set, but AWS_ACCESS_KEY_ID is a long-term AKIA key, which takes no session token: unset AWS_SESSION_TOKEN",
            settings.where_set(Key::SessionToken)
        )),
        _ => None,
    }
}

/// Values that are set but cannot work: lint errors, a bad region, bucket name or endpoint.
fn setting_problems(settings: &AppSettings) -> Vec<String> {
    let mut problems: Vec<String> = settings
        .lint_errors()
        .iter()
        .map(|issue| format!("{} line {}: {}", settings.env_display(), issue.line, issue.message))
        .collect();
    if !is_region_name(settings.region()) {
        problems.push(format!(
            "AWS_REGION `{}` ({}) is not a region name like ap-south-1",
            settings.region(),
            settings.where_set(Key::Region)
        ));
    }
    problems.extend(session_token_problem(settings));
    if let Err(rule) = bucket_name::validate(settings.bucket()) {
        problems.push(format!("S3_BUCKET_NAME ({}): {rule}", settings.where_set(Key::Bucket)));
    }
    if let Some(endpoint) = settings.get(Key::EndpointUrl) {
        if let Err(problem) = aws::validate_endpoint(endpoint) {
            problems.push(format!("AWS_ENDPOINT_URL ({}): {problem}", settings.where_set(Key::EndpointUrl)));
        }
    }
    problems
}

/// Steps 2-7: the backend's key against its bucket.
struct Test<'a> {
    client: aws_sdk_s3::Client,
    settings: &'a AppSettings,
    options: &'a Options,
}

impl Test<'_> {
    fn bucket(&self) -> &str {
        self.settings.bucket()
    }

    /// `step`, given at most `limit`; past it, the step failed with a timeout.
    async fn bounded(&self, limit: Duration, action: &str, step: impl Future<Output = StepResult>) -> StepResult {
        match tokio::time::timeout(limit, step).await {
            Ok(result) => result,
            Err(_) => {
                let error = AwsError::new(action, format!("bucket `{}`", self.bucket()), ErrorKind::Timeout);
                Err(self.failed(&format!("No answer within {} s", limit.as_secs()), &error))
            }
        }
    }

    fn failed(&self, line: &str, error: &AwsError) -> (Lines, Diagnosis) {
        (vec![(Mark::Fail, line.to_string())], diagnose::diagnose(error, self.settings, &self.options.policy_name))
    }

    /// Step 2: the bucket's location, compared with AWS_REGION. A key created moments ago
    /// may be refused for a few seconds: with `wait_for_new_key`, that is waited out.
    async fn connection(&self, progress: &dyn Progress) -> StepResult {
        let bucket = self.bucket();
        let deadline = self.options.wait_for_new_key.map(|wait| Instant::now() + wait);
        let mut delay = Duration::from_millis(500);
        loop {
            let error = match bucket::region_of(&self.client, bucket).await {
                Ok(real) => return self.compare_region(Some(real), "GetBucketLocation"),
                Err(error) => error,
            };
            if error.is(&ErrorCode::NotImplemented) || error.status == Some(501) {
                return match bucket::head(&self.client, bucket).await {
                    Ok(real) => self.compare_region(real, "HeadBucket"),
                    Err(error) => Err(self.failed("Failed to reach the bucket", &error)),
                };
            }
            if error.is(&ErrorCode::InvalidAccessKeyId) && deadline.is_some_and(|d| Instant::now() + delay < d) {
                progress.waiting(&format!(
                    "the new access key is not active yet (InvalidAccessKeyId); retrying in {:.1} s",
                    delay.as_secs_f32()
                ));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
            return Err(self.failed("Failed to reach the bucket", &error));
        }
    }

    /// The region the bucket answered from against AWS_REGION.
    fn compare_region(&self, real: Option<String>, how: &str) -> StepResult {
        let (bucket, region) = (self.bucket(), self.settings.region());
        let created = (Mark::Ok, "S3 client created successfully".to_string());
        match real {
            Some(real) if real != region => {
                let error = AwsError {
                    message: Some(format!("{how} says `{bucket}` is in {real}")),
                    bucket_region: Some(real),
                    status: Some(200),
                    ..AwsError::new(
                        "s3:GetBucketLocation",
                        format!("bucket `{bucket}`"),
                        ErrorKind::Service(ErrorCode::RegionMismatch),
                    )
                };
                Err((vec![created], diagnose::diagnose(&error, self.settings, &self.options.policy_name)))
            }
            _ => Ok(vec![created, (Mark::Ok, format!("Bucket {bucket} answers from {region}"))]),
        }
    }

    async fn upload(&self, key: &str) -> StepResult {
        match bucket::put_object(&self.client, self.bucket(), key, TEST_CONTENT).await {
            Ok(()) => Ok(vec![(Mark::Ok, "Upload successful!".into()), (Mark::Info, format!("S3 Key: {key}"))]),
            Err(error) => Err(self.failed("Upload failed", &error)),
        }
    }

    async fn download(&self, key: &str) -> StepResult {
        match bucket::get_object(&self.client, self.bucket(), key).await {
            Ok(bytes) if bytes == TEST_CONTENT => Ok(vec![(Mark::Ok, "Download successful! Content matches.".into())]),
            Ok(bytes) => {
                Err((vec![(Mark::Fail, "Downloaded content doesn't match!".into())], mismatch("download", bytes.len())))
            }
            Err(error) => Err(self.failed("Download failed", &error)),
        }
    }

    /// Step 5: a presigned URL, fetched over HTTP as a browser would.
    async fn presigned_fetch(&self, key: &str) -> StepResult {
        let expires = Duration::from_secs(PRESIGN_SECONDS);
        let (url, headers) = match bucket::presign_get(&self.client, self.bucket(), key, expires).await {
            Ok(presigned) => presigned,
            Err(error) => return Err(self.failed("Presigned URL generation failed", &error)),
        };
        let preview: String = url.chars().take(80).collect();
        let mut lines = vec![
            (Mark::Ok, "Presigned URL generated!".into()),
            (Mark::Info, format!("URL (valid for {PRESIGN_SECONDS} seconds): {preview}...")),
        ];
        let resource = format!("the presigned URL for `{key}`");
        let answer = match bucket::fetch_presigned(&url, &headers, self.options.timeout).await {
            Ok(answer) => answer,
            Err(kind) => {
                lines.push((Mark::Fail, "Fetching the presigned URL failed".into()));
                let error = AwsError::new("s3:GetObject", resource, kind);
                return Err((lines, diagnose::diagnose(&error, self.settings, &self.options.policy_name)));
            }
        };
        if answer.status == 200 && answer.body == TEST_CONTENT {
            lines.push((Mark::Ok, "Fetched over HTTP: content matches.".into()));
            return Ok(lines);
        }
        lines.push((Mark::Fail, format!("Fetching the presigned URL returned HTTP {}", answer.status)));
        if answer.status == 200 {
            return Err((lines, mismatch("presigned URL", answer.body.len())));
        }
        let text = String::from_utf8_lossy(&answer.body);
        let error = AwsError::from_http("s3:GetObject", resource, answer.status, answer.bucket_region, &text);
        Err((lines, self.presign_refused(&error)))
    }

    /// The presigned URL was refused though header-signed requests worked.
    fn presign_refused(&self, error: &AwsError) -> Diagnosis {
        let mut diagnosis = diagnose::diagnose(error, self.settings, &self.options.policy_name);
        if matches!(
            diagnosis.code.code(),
            Some(
                ErrorCode::SignatureDoesNotMatch
                    | ErrorCode::AccessDenied
                    | ErrorCode::AuthorizationQueryParametersError
                    | ErrorCode::InternalError
            )
        ) {
            diagnosis.cause = format!(
                "Requests signed in headers worked with this key, but S3 refused the presigned URL ({}). \
                 The URL was changed on its way (a proxy or CDN rewriting its host or query), the host a browser reaches is not the one signed, \
                 or the clock is off.",
                diagnosis.code
            );
            diagnosis.fix = vec![
                "Hand presigned URLs to browsers unchanged, straight from the S3 endpoint they were signed for.".into(),
                format!(
                    "If AWS_ENDPOINT_URL is set ({}), it must be the address browsers reach.",
                    self.settings.where_set(Key::EndpointUrl)
                ),
                "Check the machine's clock is synchronised.".into(),
            ];
        }
        diagnosis
    }

    async fn delete(&self, key: &str) -> StepResult {
        match bucket::delete_object(&self.client, self.bucket(), key).await {
            Ok(()) => Ok(vec![(Mark::Ok, "File deleted successfully!".into())]),
            Err(error) => Err(self.failed("Delete failed", &error)),
        }
    }

    async fn confirm_deleted(&self, key: &str) -> StepResult {
        let bucket = self.bucket();
        match bucket::object_exists(&self.client, bucket, key).await {
            Ok(false) => Ok(vec![(Mark::Ok, "File no longer exists (deletion confirmed)".into())]),
            Ok(true) => Err((
                vec![(Mark::Fail, "File still exists!".into())],
                Diagnosis {
                    code: Subject::StillExists,
                    message: format!("{key} is still in {bucket}"),
                    cause: "DeleteObject succeeded but the object is still there: the bucket may have Object Lock or a replication or versioning setup that restores it.".into(),
                    fix: vec![format!("Check Object Lock and replication on `{bucket}`.")],
                },
            )),
            Err(error) => {
                let (lines, mut diagnosis) = self.failed("Verification failed", &error);
                if error.status == Some(403) {
                    diagnosis.cause = format!(
                        "S3 answers 403 instead of 404 for a missing object when the key may not list `{bucket}`, so the deletion cannot be confirmed."
                    );
                    diagnosis.fix.insert(0, format!("Make sure {} grants s3:ListBucket on the bucket ARN.", self.options.policy_name));
                }
                Err((lines, diagnosis))
            }
        }
    }

    /// Deletes the test object after a failure (twice if need be); when that fails, checks
    /// whether it is there at all.
    async fn clean_up(&self, key: &str) -> Cleanup {
        let bucket = self.bucket();
        let mut problem = None;
        for _ in 0..2 {
            match tokio::time::timeout(self.options.timeout, bucket::delete_object(&self.client, bucket, key)).await {
                Ok(Ok(())) => {
                    problem = None;
                    break;
                }
                Ok(Err(error)) => problem = Some(error.code_name()),
                Err(_) => problem = Some("Timeout".into()),
            }
        }
        // DeleteObject succeeded: gone. It failed: gone only if HeadObject says so (an
        // upload that never stored it).
        let check = bucket::object_exists(&self.client, bucket, key);
        let gone =
            problem.is_none() || matches!(tokio::time::timeout(self.options.timeout, check).await, Ok(Ok(false)));
        if gone {
            let message = format!("test object {key} deleted (or never stored); `{bucket}` does not hold it");
            return Cleanup { key: key.to_string(), deleted: true, message, command: None };
        }
        let endpoint =
            self.settings.get(Key::EndpointUrl).map(|url| format!(" --endpoint-url {url}")).unwrap_or_default();
        let why = problem.map(|code| format!(" (DeleteObject: {code})")).unwrap_or_default();
        Cleanup {
            key: key.to_string(),
            deleted: false,
            message: format!("the test object {key} may still be in `{bucket}`{why}"),
            command: Some(format!(
                "aws s3api delete-object --bucket {bucket} --key {key} --region {}{endpoint}",
                self.settings.region()
            )),
        }
    }
}

fn mismatch(what: &str, got: usize) -> Diagnosis {
    Diagnosis {
        code: Subject::ContentMismatch,
        message: format!("the {what} returned {got} bytes that differ from the {} uploaded", TEST_CONTENT.len()),
        cause:
            "Something between the backend and S3 changed the object (a proxy, an encoding setting, or another writer)."
                .into(),
        fix: vec!["Check proxies and any object transformation on the bucket, then run `t3s3 verify` again.".into()],
    }
}

/// An id no other run shares (the clock in nanoseconds and the process), so two CI jobs at
/// once never collide; both runs' test objects carry it.
pub fn run_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// The test object's key in t3s3's own run.
fn unique_key() -> String {
    format!("test_user/test_conversation/{}/test_file.txt", run_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_per_run() {
        assert_ne!(unique_key(), unique_key());
        assert!(unique_key().starts_with("test_user/test_conversation/"));
    }
}
