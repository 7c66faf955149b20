//! `t3s3 verify`: the guide's seven-step self-test, run with exactly the settings the backend uses.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use serde::Serialize;

use crate::aws;
use crate::bucket_name;
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::diagnose::{self, Diagnosis, ErrorFacts, Transport};
use crate::envfile::LintIssue;
use crate::exit::ExitStatus;
use crate::report::Printer;
use crate::settings::{AppSettings, Overrides, Source, is_region_name};

/// What the test uploads, as in the guide.
pub const TEST_CONTENT: &[u8] = b"Hello, this is a test file for T3 Chat S3 setup!";
/// How long the presigned URL is valid, as in the guide.
pub const PRESIGN_SECONDS: u64 = 60;

/// Runs the self-test and prints it; exit 1 when a step fails, 2 when settings are unusable.
pub async fn run(args: &VerifyArgs, global: &GlobalArgs, printer: &Printer) -> Result<ExitStatus> {
    let overrides = Overrides { region: global.region.clone(), endpoint_url: global.endpoint_url.clone() };
    let settings = AppSettings::resolve(args.env_file.as_deref(), &overrides)?;
    let options = Options { timeout: Duration::from_secs(args.timeout.max(1)), wait_for_new_key: None };
    printer.verify_begin();
    let report = self_test(&settings, &options, printer).await;
    printer.verify_end(&report);
    Ok(report.exit_status())
}

/// How the self-test runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Per-request time limit.
    pub timeout: Duration,
    /// For a key created moments ago: keep retrying InvalidAccessKeyId this long.
    pub wait_for_new_key: Option<Duration>,
}

/// Told about each step as it ends, and about waits, so people see progress.
pub trait Progress {
    fn step(&self, step: &Step);
    fn waiting(&self, message: &str);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Passed,
    Failed,
    Skipped,
}

/// How a detail line of a step reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Fail,
    Warn,
    Info,
}

/// One of the seven steps and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub number: u8,
    pub name: &'static str,
    #[serde(skip)]
    pub title: &'static str,
    pub status: StepStatus,
    pub duration_ms: u64,
    #[serde(skip)]
    pub lines: Vec<(Mark, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip)]
    pub diagnosis: Option<Diagnosis>,
}

/// One setting as step 1 saw it; never the value of the secret.
#[derive(Debug, Clone, Serialize)]
pub struct SettingReport {
    pub name: &'static str,
    pub set: bool,
    pub source: Source,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_file: Option<String>,
    pub bucket: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub settings: Vec<SettingReport>,
    pub lint: Vec<LintIssue>,
    pub steps: Vec<Step>,
    /// What happened to the test object after a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
}

impl VerifyReport {
    pub fn failed_step(&self) -> Option<&Step> {
        self.steps.iter().find(|step| step.status == StepStatus::Failed)
    }

    pub fn exit_status(&self) -> ExitStatus {
        match self.failed_step() {
            None => ExitStatus::Success,
            Some(step) if step.number == 1 => ExitStatus::BadInput,
            Some(_) => ExitStatus::CheckFailed,
        }
    }
}

const STEPS: [(&str, &str); 7] = [
    ("environment", "Checking environment variables..."),
    ("connection", "Testing S3 connection..."),
    ("upload", "Testing file upload..."),
    ("download", "Testing file download..."),
    ("presigned_url", "Testing presigned URL generation..."),
    ("delete", "Testing file deletion..."),
    ("confirm_deletion", "Verifying file was deleted..."),
];

type StepResult = std::result::Result<Vec<(Mark, String)>, (Vec<(Mark, String)>, Diagnosis)>;

struct Run<'a> {
    report: VerifyReport,
    progress: &'a dyn Progress,
}

impl Run<'_> {
    fn record(&mut self, number: u8, started: Instant, result: StepResult) -> bool {
        let (name, title) = STEPS[usize::from(number - 1)];
        let (lines, diagnosis) = match result {
            Ok(lines) => (lines, None),
            Err((lines, diagnosis)) => (lines, Some(diagnosis)),
        };
        let step = Step {
            number,
            name,
            title,
            status: if diagnosis.is_some() { StepStatus::Failed } else { StepStatus::Passed },
            duration_ms: started.elapsed().as_millis() as u64,
            lines,
            error: diagnosis.as_ref().map(Diagnosis::error_line),
            cause: diagnosis.as_ref().map(|d| d.cause.clone()),
            fix: diagnosis.as_ref().map(Diagnosis::fix_line),
            diagnosis,
        };
        self.progress.step(&step);
        let passed = step.status == StepStatus::Passed;
        self.report.steps.push(step);
        passed
    }

    fn skip_rest(&mut self) {
        for number in self.report.steps.len() as u8 + 1..=STEPS.len() as u8 {
            let (name, title) = STEPS[usize::from(number - 1)];
            self.report.steps.push(Step {
                number,
                name,
                title,
                status: StepStatus::Skipped,
                duration_ms: 0,
                lines: Vec::new(),
                error: None,
                cause: None,
                fix: None,
                diagnosis: None,
            });
        }
    }

    fn finish(mut self) -> VerifyReport {
        self.skip_rest();
        self.report.ok = self.report.steps.iter().all(|step| step.status == StepStatus::Passed);
        self.report
    }
}

/// Runs the seven steps with `settings`, telling `progress` as each ends.
pub async fn self_test(settings: &AppSettings, options: &Options, progress: &dyn Progress) -> VerifyReport {
    let mut run = Run {
        report: VerifyReport {
            ok: false,
            env_file: settings.env_file.as_ref().map(|p| p.display().to_string()),
            bucket: settings.bucket().to_string(),
            region: settings.region().to_string(),
            endpoint_url: settings.get(crate::settings::ENDPOINT).map(str::to_string),
            key: None,
            settings: settings
                .required
                .iter()
                .chain([&settings.endpoint_url])
                .map(|s| SettingReport { name: s.name, set: s.value.is_some(), source: s.source.clone() })
                .collect(),
            lint: settings.lint.clone(),
            steps: Vec::new(),
            cleanup: None,
        },
        progress,
    };

    // 1. Settings.
    let started = Instant::now();
    let step1 = check_settings(settings);
    if !run.record(1, started, step1) {
        return run.finish();
    }
    let app = settings.app_credentials().expect("step 1 checked that all four are set");
    let bucket = settings.bucket().to_string();

    // 2. Client and connection.
    let started = Instant::now();
    let client = aws::app_s3_client(&app, options.timeout);
    let step2 = check_connection(&client, settings, options, progress).await;
    if !run.record(2, started, step2) {
        return run.finish();
    }

    // 3. Upload.
    let key = unique_key();
    run.report.key = Some(key.clone());
    let started = Instant::now();
    let upload = client
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("text/plain")
        .body(ByteStream::from_static(TEST_CONTENT))
        .send()
        .await;
    let step3 = match upload {
        Ok(_) => Ok(vec![(Mark::Ok, "Upload successful!".into()), (Mark::Info, format!("S3 Key: {key}"))]),
        Err(error) => Err((
            vec![(Mark::Fail, "Upload failed".into())],
            diagnose::diagnose(&diagnose::facts(&error), settings, "s3:PutObject"),
        )),
    };
    if !run.record(3, started, step3) {
        return run.finish();
    }

    // 4. Download and compare.
    let started = Instant::now();
    let step4 = download(&client, settings, &key).await;
    if !run.record(4, started, step4) {
        run.report.cleanup = Some(clean_up(&client, &bucket, &key).await);
        return run.finish();
    }

    // 5. Presigned URL, fetched for real.
    let started = Instant::now();
    let step5 = presigned_fetch(&client, settings, &key, options.timeout).await;
    if !run.record(5, started, step5) {
        run.report.cleanup = Some(clean_up(&client, &bucket, &key).await);
        return run.finish();
    }

    // 6. Delete.
    let started = Instant::now();
    let step6 = match client.delete_object().bucket(&bucket).key(&key).send().await {
        Ok(_) => Ok(vec![(Mark::Ok, "File deleted successfully!".into())]),
        Err(error) => Err((
            vec![(Mark::Fail, "Delete failed".into())],
            diagnose::diagnose(&diagnose::facts(&error), settings, "s3:DeleteObject"),
        )),
    };
    if !run.record(6, started, step6) {
        return run.finish();
    }

    // 7. Confirm deletion.
    let started = Instant::now();
    let step7 = confirm_deleted(&client, settings, &key).await;
    run.record(7, started, step7);
    run.finish()
}

fn check_settings(settings: &AppSettings) -> StepResult {
    let mut lines = Vec::new();
    for setting in &settings.required {
        match &setting.value {
            Some(_) => lines.push((Mark::Ok, format!("{}: ✓ SET ({})", setting.name, setting.source))),
            None => lines.push((Mark::Fail, format!("{}: ✗ MISSING", setting.name))),
        }
    }
    if settings.endpoint_url.value.is_some() {
        lines.push((Mark::Info, format!("AWS_ENDPOINT_URL: SET ({})", settings.endpoint_url.source)));
    }
    for issue in &settings.lint {
        let mark = if issue.severity == crate::envfile::Severity::Error { Mark::Fail } else { Mark::Warn };
        lines.push((mark, format!("{} line {}: {}", settings.env_display(), issue.line, issue.message)));
    }

    let missing = settings.missing();
    if !missing.is_empty() {
        let tried = settings.tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        let (cause, mut fix) = match &settings.env_file {
            None => (
                format!(
                    "No .env file was found (looked for {tried}) and the environment does not set {}.",
                    missing.join(", ")
                ),
                vec![
                    "Put the .env file in the backend/ directory (or pass --env-file PATH).".into(),
                    "Run `t3s3 init` to create the bucket, key and .env in one go.".into(),
                ],
            ),
            Some(path) => (
                format!(
                    "{} {} not set in {} or the environment.",
                    missing.join(", "),
                    if missing.len() == 1 { "is" } else { "are" },
                    path.display()
                ),
                vec![format!("Add {} to {} (KEY=value, no spaces around '=').", missing.join(", "), path.display())],
            ),
        };
        fix.push("Restart the application after changing .env.".into());
        let diagnosis =
            Diagnosis { code: "NoCredentials".into(), message: format!("missing {}", missing.join(", ")), cause, fix };
        return Err((lines, diagnosis));
    }

    let mut problems: Vec<String> = settings
        .lint_errors()
        .iter()
        .map(|issue| format!("{} line {}: {}", settings.env_display(), issue.line, issue.message))
        .collect();
    if !is_region_name(settings.region()) {
        problems.push(format!(
            "AWS_REGION `{}` ({}) is not a region name like ap-south-1",
            settings.region(),
            settings.where_set("AWS_REGION")
        ));
    }
    if let Err(rule) = bucket_name::validate(settings.bucket()) {
        problems.push(format!("S3_BUCKET_NAME ({}): {rule}", settings.where_set("S3_BUCKET_NAME")));
    }
    if let Some(endpoint) = settings.get(crate::settings::ENDPOINT) {
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            problems.push(format!(
                "AWS_ENDPOINT_URL `{endpoint}` ({}) must start with http:// or https://",
                settings.where_set("AWS_ENDPOINT_URL")
            ));
        }
    }
    if !problems.is_empty() {
        let diagnosis = Diagnosis {
            code: "MalformedSettings".into(),
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
    if let Some(endpoint) = settings.get(crate::settings::ENDPOINT) {
        lines.push((Mark::Info, format!("Endpoint: {endpoint}")));
    }
    Ok(lines)
}

async fn check_connection(
    client: &aws_sdk_s3::Client,
    settings: &AppSettings,
    options: &Options,
    progress: &dyn Progress,
) -> StepResult {
    let bucket = settings.bucket();
    let region = settings.region();
    let deadline = options.wait_for_new_key.map(|wait| Instant::now() + wait);
    let mut delay = Duration::from_millis(500);
    loop {
        let result = client.get_bucket_location().bucket(bucket).send().await;
        let error = match result {
            Ok(output) => {
                let real = crate::bucket::location_region(output.location_constraint().map(|c| c.as_str()));
                let mut lines = vec![(Mark::Ok, "S3 client created successfully".into())];
                if real != region {
                    let facts = ErrorFacts { bucket_region: Some(real), status: Some(200), ..Default::default() };
                    return Err((lines, diagnose::diagnose(&facts, settings, "s3:GetBucketLocation")));
                }
                lines.push((Mark::Ok, format!("Bucket {bucket} answers from {region}")));
                return Ok(lines);
            }
            Err(error) => error,
        };
        let facts = diagnose::facts(&error);
        if facts.code.as_deref() == Some("NotImplemented") || facts.status == Some(501) {
            return head_bucket(client, settings).await;
        }
        if facts.code.as_deref() == Some("InvalidAccessKeyId") {
            if deadline.is_some_and(|d| Instant::now() + delay < d) {
                progress.waiting(&format!(
                    "the new access key is not active yet (InvalidAccessKeyId); retrying in {:.1} s",
                    delay.as_secs_f32()
                ));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        }
        return Err((
            vec![(Mark::Fail, "Failed to reach the bucket".into())],
            diagnose::diagnose(&facts, settings, "s3:GetBucketLocation"),
        ));
    }
}

/// For S3 services without GetBucketLocation: HeadBucket answers the same question.
async fn head_bucket(client: &aws_sdk_s3::Client, settings: &AppSettings) -> StepResult {
    match client.head_bucket().bucket(settings.bucket()).send().await {
        Ok(output) => {
            let mut lines = vec![(Mark::Ok, "S3 client created successfully".into())];
            if let Some(real) = output.bucket_region().filter(|real| *real != settings.region()) {
                let facts =
                    ErrorFacts { bucket_region: Some(real.to_string()), status: Some(200), ..Default::default() };
                return Err((lines, diagnose::diagnose(&facts, settings, "s3:ListBucket")));
            }
            lines.push((Mark::Ok, format!("Bucket {} is reachable", settings.bucket())));
            Ok(lines)
        }
        Err(error) => Err((
            vec![(Mark::Fail, "Failed to reach the bucket".into())],
            diagnose::diagnose(&diagnose::facts(&error), settings, "s3:ListBucket"),
        )),
    }
}

async fn download(client: &aws_sdk_s3::Client, settings: &AppSettings, key: &str) -> StepResult {
    let output = match client.get_object().bucket(settings.bucket()).key(key).send().await {
        Ok(output) => output,
        Err(error) => {
            return Err((
                vec![(Mark::Fail, "Download failed".into())],
                diagnose::diagnose(&diagnose::facts(&error), settings, "s3:GetObject"),
            ));
        }
    };
    match output.body.collect().await.map(|aggregated| aggregated.into_bytes()) {
        Ok(bytes) if bytes.as_ref() == TEST_CONTENT => {
            Ok(vec![(Mark::Ok, "Download successful! Content matches.".into())])
        }
        Ok(bytes) => {
            Err((vec![(Mark::Fail, "Downloaded content doesn't match!".into())], mismatch("download", bytes.len())))
        }
        Err(error) => Err((
            vec![(Mark::Fail, "Download failed".into())],
            transport_diagnosis(settings, &format!("the download stopped part way: {error}")),
        )),
    }
}

fn mismatch(what: &str, got: usize) -> Diagnosis {
    Diagnosis {
        code: "ContentMismatch".into(),
        message: format!("the {what} returned {got} bytes that differ from the {} uploaded", TEST_CONTENT.len()),
        cause:
            "Something between the backend and S3 changed the object (a proxy, an encoding setting, or another writer)."
                .into(),
        fix: vec!["Check proxies and any object transformation on the bucket, then run `t3s3 verify` again.".into()],
    }
}

fn transport_diagnosis(settings: &AppSettings, detail: &str) -> Diagnosis {
    let facts = ErrorFacts { transport: Some(Transport::Unreachable(detail.to_string())), ..Default::default() };
    diagnose::diagnose(&facts, settings, "s3:GetObject")
}

async fn presigned_fetch(
    client: &aws_sdk_s3::Client,
    settings: &AppSettings,
    key: &str,
    timeout: Duration,
) -> StepResult {
    let config = PresigningConfig::expires_in(Duration::from_secs(PRESIGN_SECONDS)).expect("60 s is a valid expiry");
    let presigned = match client.get_object().bucket(settings.bucket()).key(key).presigned(config).await {
        Ok(presigned) => presigned,
        Err(error) => {
            return Err((
                vec![(Mark::Fail, "Presigned URL generation failed".into())],
                diagnose::diagnose(&diagnose::facts(&error), settings, "s3:GetObject"),
            ));
        }
    };
    let url = presigned.uri().to_string();
    let preview: String = url.chars().take(80).collect();
    let mut lines = vec![
        (Mark::Ok, "Presigned URL generated!".into()),
        (Mark::Info, format!("URL (valid for {PRESIGN_SECONDS} seconds): {preview}...")),
    ];
    let http = match reqwest::Client::builder().timeout(timeout).connect_timeout(Duration::from_secs(3)).build() {
        Ok(http) => http,
        Err(error) => return Err((lines, transport_diagnosis(settings, &error.to_string()))),
    };
    let mut request = http.get(&url);
    for (name, value) in presigned.headers() {
        request = request.header(name, value);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            lines.push((Mark::Fail, "Fetching the presigned URL failed".into()));
            let transport =
                if error.is_timeout() { Transport::TimedOut } else { Transport::Unreachable(format!("{error:?}")) };
            let facts = ErrorFacts { transport: Some(transport), ..Default::default() };
            return Err((lines, diagnose::diagnose(&facts, settings, "s3:GetObject")));
        }
    };
    let status = response.status().as_u16();
    let bucket_region = response.headers().get("x-amz-bucket-region").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = response.bytes().await.unwrap_or_default();
    if status == 200 && body.as_ref() == TEST_CONTENT {
        lines.push((Mark::Ok, "Fetched over HTTP: content matches.".into()));
        return Ok(lines);
    }
    lines.push((Mark::Fail, format!("Fetching the presigned URL returned HTTP {status}")));
    if status == 200 {
        return Err((lines, mismatch("presigned URL", body.len())));
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let facts = ErrorFacts {
        code: diagnose::xml_element(&text, "Code"),
        message: diagnose::xml_element(&text, "Message"),
        status: Some(status),
        bucket_region,
        body: text,
        transport: None,
    };
    let mut diagnosis = diagnose::diagnose(&facts, settings, "s3:GetObject");
    if matches!(
        diagnosis.code.as_str(),
        "SignatureDoesNotMatch" | "AccessDenied" | "AuthorizationQueryParametersError" | "HTTP 500"
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
                settings.where_set("AWS_ENDPOINT_URL")
            ),
            "Check the machine's clock is synchronised.".into(),
        ];
    }
    Err((lines, diagnosis))
}

async fn confirm_deleted(client: &aws_sdk_s3::Client, settings: &AppSettings, key: &str) -> StepResult {
    match client.head_object().bucket(settings.bucket()).key(key).send().await {
        Ok(_) => Err((
            vec![(Mark::Fail, "File still exists!".into())],
            Diagnosis {
                code: "StillExists".into(),
                message: format!("{key} is still in {}", settings.bucket()),
                cause: "DeleteObject succeeded but the object is still there: the bucket may have Object Lock or a replication or versioning setup that restores it.".into(),
                fix: vec![format!("Check Object Lock and replication on `{}`.", settings.bucket())],
            },
        )),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {
            Ok(vec![(Mark::Ok, "File no longer exists (deletion confirmed)".into())])
        }
        Err(error) => {
            let facts = diagnose::facts(&error);
            let mut diagnosis = diagnose::diagnose(&facts, settings, "s3:ListBucket");
            if facts.status == Some(403) {
                diagnosis.cause = format!(
                    "S3 answers 403 instead of 404 for a missing object when the key may not list `{}`, so the deletion cannot be confirmed.",
                    settings.bucket()
                );
                diagnosis.fix.insert(0, "Make sure T3ChatS3Policy grants s3:ListBucket on the bucket ARN.".into());
            }
            Err((vec![(Mark::Fail, "Verification failed".into())], diagnosis))
        }
    }
}

async fn clean_up(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    match client.delete_object().bucket(bucket).key(key).send().await {
        Ok(_) => format!("test object {key} deleted"),
        Err(error) => {
            let facts = diagnose::facts(&error);
            format!(
                "could not delete the test object {key} ({}); delete it by hand",
                facts.code.unwrap_or_else(|| "no answer".into())
            )
        }
    }
}

/// A key no other run shares, so two CI jobs at once never collide.
fn unique_key() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("test_user/test_conversation/{:x}-{:x}/test_file.txt", nanos, std::process::id())
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
