//! `verify --backend`: the guide's seven steps (section 8.1) run through the backend's own
//! Python, settings loader and S3 client, as the guide's `test_s3.py` runs them, with the
//! presigned URL fetched as well. Failures are explained in the backend's terms (which file,
//! which method); when the backend loaded other settings than t3s3 resolved, it says which.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws_error::{AwsError, ErrorCode, ErrorKind};
use crate::backend::{self, Backend, DriverStep, Event, LoadedSettings, Problem, PythonError, PythonFacts};
use crate::diagnose::{self, Diagnosis, Subject};
use crate::exit::ExitStatus;
use crate::keys::Key;
use crate::ops::selftest::{self, Cleanup, Lines, Mark, Progress, RULE, STEPS, Step, StepStatus, VerifyReport};
use crate::outln;
use crate::settings::AppSettings;
use crate::ui::{Render, style};

/// The backend's S3 client, as the driver found it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientFacts {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    /// Whether the client's credentials carry a session token (None: unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<bool>,
}

/// A setting the backend loaded differently from t3s3.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Difference {
    pub setting: String,
    pub backend: String,
    pub t3s3: String,
}

/// The backend run: its interpreter, the settings it loaded, its seven steps.
#[derive(Debug, Clone, Serialize)]
pub struct BackendReport {
    pub ok: bool,
    pub dir: String,
    pub python: String,
    /// How the interpreter was found.
    pub python_found_by: String,
    pub versions: PythonFacts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded: Option<LoadedSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientFacts>,
    pub steps: Vec<Step>,
    /// Where the backend's settings differ from what t3s3 resolved.
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<Cleanup>,
    /// Objects of this run (their keys hold its id) that were still in the bucket after the
    /// backend's run, and what became of each: the backend may have written one key and
    /// reported another.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<Cleanup>,
    /// The last lines the backend's code printed, when a step failed (its own error
    /// messages, "Error uploading file: ..."), secrets masked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub printed: Vec<String>,
    /// Why the backend run did not happen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// `verify --backend` as one JSON object: t3s3's own run, with the backend's beside it.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyWithBackend {
    #[serde(flatten)]
    pub own: VerifyReport,
    pub backend: BackendReport,
}

impl VerifyWithBackend {
    /// t3s3's own run decides first (2 for unusable settings); then a failed backend run is 1.
    pub fn exit_status(&self) -> ExitStatus {
        match self.own.exit_status() {
            ExitStatus::Success if !self.backend.ok => ExitStatus::CheckFailed,
            status => status,
        }
    }
}

impl BackendReport {
    pub fn failed_step(&self) -> Option<&Step> {
        self.steps.iter().find(|step| step.status == StepStatus::Failed)
    }
}

impl Render for BackendReport {
    fn text(&self, out: &mut String) {
        if let Some(reason) = &self.skipped {
            outln!(out, "\n{} backend test skipped: {reason}", style::note("–"));
            return;
        }
        if !self.printed.is_empty() {
            outln!(out, "\n   {}", style::heading("The backend printed (its last lines):"));
            for line in &self.printed {
                outln!(out, "     | {}", crate::ui::one_line(line));
            }
        }
        for cleanup in self.cleanup.iter().chain(&self.leftovers) {
            let text = if cleanup.deleted { style::note(&cleanup.message) } else { style::warn(&cleanup.message) };
            outln!(out, "\n   {} {text}", style::note("Cleanup:"));
            if let Some(command) = &cleanup.command {
                outln!(out, "   {} {command}", style::heading("Delete it with:"));
            }
        }
        if !self.differences.is_empty() {
            outln!(out, "\n   {}", style::warn("The backend loaded other settings than t3s3 resolved:"));
            for difference in &self.differences {
                outln!(out, "     {}: backend {}; t3s3 {}", difference.setting, difference.backend, difference.t3s3);
            }
            let versions = format!(
                "boto3 {}, botocore {}",
                self.versions.boto3.as_deref().unwrap_or("not installed"),
                self.versions.botocore.as_deref().unwrap_or("not installed")
            );
            outln!(out, "     Python {} at {}: {versions}", self.versions.python, self.versions.executable);
        }
        outln!(out, "\n{RULE}");
        match self.failed_step() {
            None => outln!(out, "{}", style::ok("✓ ALL TESTS PASSED through the backend's own S3 client.")),
            Some(step) => outln!(
                out,
                "{}",
                style::fail(&format!("✗ BACKEND TEST FAILED at step {} ({}).", step.number, step.name))
            ),
        }
        outln!(out, "{RULE}");
    }
}

/// How the backend run goes.
#[derive(Debug, Clone)]
pub struct Options {
    pub selftest: selftest::Options,
}

/// A report for a backend run that did not happen.
pub fn skipped(backend: &Backend, facts: &PythonFacts, reason: String) -> BackendReport {
    BackendReport { skipped: Some(reason), steps: (1..=7).map(Step::skipped).collect(), ..empty(backend, facts) }
}

fn empty(backend: &Backend, facts: &PythonFacts) -> BackendReport {
    BackendReport {
        ok: false,
        dir: backend.dir.display().to_string(),
        python: backend.python.display().to_string(),
        python_found_by: backend.how.clone(),
        versions: facts.clone(),
        loaded: None,
        client: None,
        steps: Vec::new(),
        differences: Vec::new(),
        cleanup: None,
        leftovers: Vec::new(),
        printed: Vec::new(),
        skipped: None,
    }
}

/// What the run has seen so far (events arrive one by one).
struct Seen<'a> {
    report: BackendReport,
    key: Option<String>,
    driver_cleaned: bool,
    last: Instant,
    context: Context<'a>,
}

/// What a diagnosis needs to know.
struct Context<'a> {
    backend: &'a Backend,
    settings: &'a AppSettings,
    policy_name: &'a str,
}

/// Runs the guide's seven steps through the backend's code, telling `progress` as each ends.
pub async fn run(
    backend: &Backend,
    facts: &PythonFacts,
    settings: &AppSettings,
    options: &Options,
    progress: &dyn Progress,
) -> BackendReport {
    let context = Context { backend, settings, policy_name: &options.selftest.policy_name };
    let seen = RefCell::new(Seen {
        report: empty(backend, facts),
        key: None,
        driver_cleaned: false,
        last: Instant::now(),
        context,
    });
    let timeout = options.selftest.timeout;
    // Each of the six steps that talk to S3 gets --timeout, and Python its start-up.
    let limit = timeout * 6 + Duration::from_secs(5);
    let test_id = selftest::run_id();
    let secrets = known_secrets(settings, &backend.dir);
    let driven = backend::drive(backend, &test_id, &secrets, timeout, limit, |event| {
        if let Some(step) = seen.borrow_mut().take(event) {
            progress.step(&step);
        }
    })
    .await;
    let mut seen = seen.into_inner();
    if let Some(step) = seen.ending(driven, limit) {
        progress.step(&step);
    }
    if let (Some(key), false) = (seen.key.clone(), seen.driver_cleaned) {
        let passed = seen.report.steps.iter().filter(|s| s.status == StepStatus::Passed).count();
        if passed < STEPS.len() {
            seen.report.cleanup = match deletable(&key, &test_id) {
                true => selftest::remove_test_object(settings, &options.selftest, &key).await,
                false => Some(left_alone(&key, &test_id)),
            };
        }
    }
    let mut report = seen.report;
    // Whatever holds this run's id under the prefix the driver uploads to is provably t3s3's.
    let handled = report.cleanup.as_ref().filter(|c| c.deleted).map(|c| c.key.clone());
    report.leftovers =
        selftest::remove_run_objects(settings, &options.selftest, UPLOAD_PREFIX, &test_id, handled.as_deref()).await;
    report.ok = selftest::finish_steps(&mut report.steps);
    report.differences = differences(&report, settings);
    if let Some(problem) =
        token_dropped(&report, settings, &backend.dir).or_else(|| needs_a_key(settings, &backend.dir))
    {
        explain_code_problem(&mut report, problem);
    }
    report
}

/// Something in the backend's code that breaks it where t3s3's own client works: the
/// difference, the cause and the code change.
/// The session token t3s3 uses, dropped by the backend's client. Seen by the driver (the credentials the client resolved carry no token) or
/// read from the code (explicit key and secret, no `aws_session_token`).
struct CodeProblem {
    difference: Difference,
    cause: String,
    fix: Vec<String>,
}

fn token_dropped(report: &BackendReport, settings: &AppSettings, dir: &std::path::Path) -> Option<CodeProblem> {
    settings.get(Key::SessionToken)?;
    let seen = report.client.as_ref().and_then(|c| c.session_token);
    let call = backend::drops_session_token(dir);
    if seen == Some(true) || (seen.is_none() && call.is_none()) {
        return None;
    }
    let at = call.map_or_else(|| "the backend's S3 client".to_string(), |(file, line)| format!("{file} line {line}"));
    Some(CodeProblem {
        difference: Difference {
            setting: Key::SessionToken.name().into(),
            backend: format!("not passed to boto3 ({at})"),
            t3s3: format!("set ({})", settings.where_set(Key::SessionToken)),
        },
        cause: format!(
            "The .env holds role credentials (a key, a secret and AWS_SESSION_TOKEN), but {at} builds its boto3 client with the key and secret only: AWS refuses a temporary key without its token (403, InvalidAccessKeyId)."
        ),
        fix: vec![
            format!(
                "In {at}, pass aws_session_token=settings.aws_session_token to boto3.client (and add `aws_session_token: Optional[str] = None` to Settings)."
            ),
            "Or pass no keys at all when none are set, and let boto3 find the credentials (the environment, the role)."
                .into(),
        ],
    })
}

/// A .env without a key (a server on a role): a backend that requires AWS_ACCESS_KEY_ID
/// (`s3_configured` needing both keys) or passes explicit keys to boto3 cannot run on the
/// role's credentials; the file and line, and the change.
fn needs_a_key(settings: &AppSettings, dir: &std::path::Path) -> Option<CodeProblem> {
    if !settings.keyless() {
        return None;
    }
    let places: Vec<String> = [backend::requires_a_key(dir), backend::passes_explicit_keys(dir)]
        .into_iter()
        .flatten()
        .map(|(file, line)| format!("{file} line {line}"))
        .collect();
    if places.is_empty() {
        return None;
    }
    let at = places.join(" and ");
    Some(CodeProblem {
        difference: Difference {
            setting: "credentials".into(),
            backend: format!("requires a key in its settings ({at})"),
            t3s3: "the default credential chain (the .env holds no key)".into(),
        },
        cause: format!("The .env holds no key, as on a server that runs on a role, but the backend's code cannot run without one: {at}."),
        fix: vec![
            "Let boto3 find the credentials when no key is set: pass aws_access_key_id/aws_secret_access_key to boto3.client only when they are set (e.g. `**({'aws_access_key_id': s.aws_access_key_id, 'aws_secret_access_key': s.aws_secret_access_key} if s.aws_access_key_id else {})`).".into(),
            "Make s3_configured require the bucket (and region), not the keys.".into(),
        ],
    })
}

/// Says so: a difference naming the call, the failing step's cause and fix, and the run
/// fails even where an emulator let the request through: on AWS it would not pass.
fn explain_code_problem(report: &mut BackendReport, dropped: CodeProblem) {
    report.differences.push(dropped.difference);
    report.ok = false;
    let Some(step) = report.steps.iter_mut().find(|s| s.status == StepStatus::Failed) else { return };
    step.cause = Some(dropped.cause.clone());
    step.fix = Some(dropped.fix.join(" "));
    if let Some(diagnosis) = &mut step.diagnosis {
        diagnosis.cause = dropped.cause;
        diagnosis.fix = dropped.fix;
    }
}

impl Seen<'_> {
    /// Takes in one event; returns the step it ended, if any.
    fn take(&mut self, event: &Event) -> Option<Step> {
        match event {
            Event::Python(facts) => self.report.versions = (**facts).clone(),
            Event::Settings(loaded) => self.report.loaded = Some((**loaded).clone()),
            Event::Client { endpoint_url, region, session_token } => {
                self.report.client = Some(ClientFacts {
                    endpoint_url: endpoint_url.clone(),
                    region: region.clone(),
                    session_token: *session_token,
                })
            }
            Event::Object { key, .. } => self.key = Some(key.clone()),
            Event::Cleanup(cleanup) => {
                self.driver_cleaned = cleanup.deleted;
                let bucket = cleanup.bucket.clone().unwrap_or_default();
                let why = cleanup.error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default();
                self.report.cleanup = Some(Cleanup {
                    key: cleanup.key.clone(),
                    deleted: cleanup.deleted,
                    message: if cleanup.deleted {
                        format!(
                            "test object {} deleted with the backend's boto3 client; `{bucket}` does not hold it",
                            cleanup.key
                        )
                    } else {
                        format!("the backend's boto3 client could not delete {}{why}", cleanup.key)
                    },
                    command: None,
                });
            }
            Event::Step(step) => {
                let took = self.last.elapsed();
                self.last = Instant::now();
                let result = self.context.result(step, self.report.loaded.as_ref());
                let step = Step::ended(step.number, result, took);
                self.report.steps.push(step.clone());
                return Some(step);
            }
            Event::Done => {}
        }
        None
    }

    /// After the driver stopped: a step it never finished is failed with the reason.
    fn ending(&mut self, driven: Result<backend::DriverRun, String>, limit: Duration) -> Option<Step> {
        let finished = self.report.steps.len() == STEPS.len()
            || self.report.steps.iter().any(|step| step.status == StepStatus::Failed);
        let number = self.report.steps.len() as u8 + 1;
        let python = self.context.backend.python.display().to_string();
        let diagnosis = match driven {
            Err(why) => Diagnosis {
                code: Subject::PythonNotRun,
                message: why,
                cause: format!("The backend's interpreter {python} could not be started."),
                fix: vec!["Pass --python PATH to the interpreter the backend runs with.".into()],
            },
            Ok(run) if run.timed_out => Diagnosis {
                code: Subject::Timeout,
                message: format!("{} gave no answer within {} s", crate::guide::step(number).method, limit.as_secs()),
                cause: "The backend's code did not return: its S3 client may retry an unreachable endpoint, or wait for input.".into(),
                fix: vec![
                    "Check the endpoint and region the backend's client uses (AWS_ENDPOINT_URL, AWS_REGION).".into(),
                    "Raise --timeout if the network is slow.".into(),
                ],
            },
            Ok(run) if finished => {
                // A step failed: what the backend printed on the way is its own account of it.
                if self.report.steps.iter().any(|step| step.status == StepStatus::Failed) {
                    self.report.printed = run.stderr_tail.lines().map(str::to_string).collect();
                }
                return None;
            }
            Ok(run) => Diagnosis {
                code: Subject::PythonStopped,
                message: format!(
                    "the backend's Python stopped during {} (exit {})",
                    crate::guide::step(number).method,
                    run.exit_code.map_or("by a signal".into(), |c| c.to_string())
                ),
                cause: if run.stderr_tail.is_empty() { "It printed nothing on stderr.".into() } else { run.stderr_tail },
                fix: vec!["Run the guide's test_s3.py in the backend folder to see the whole error.".into()],
            },
        };
        let took = self.last.elapsed();
        let step = Step::ended(number, Err((vec![(Mark::Fail, diagnosis.message.clone())], diagnosis)), took);
        self.report.steps.push(step.clone());
        Some(step)
    }
}

impl Context<'_> {
    /// A driver step as t3s3 shows it: the backend's lines, and the failure explained.
    fn result(&self, step: &DriverStep, loaded: Option<&LoadedSettings>) -> Result<Lines, (Lines, Diagnosis)> {
        let mut lines: Lines =
            step.lines.iter().map(|line| (if line.ok { Mark::Ok } else { Mark::Info }, line.text.clone())).collect();
        if step.number == 1 {
            lines.splice(0..0, loaded_lines(loaded));
        }
        if step.ok {
            return Ok(lines);
        }
        let method = crate::guide::step(step.number).method;
        let diagnosis = match (&step.error, &step.problem) {
            (Some(error), _) => self.exception(method, error),
            (None, Some(problem)) => self.problem(step.number, method, problem, loaded),
            (None, None) => Diagnosis {
                code: Subject::Failed,
                message: format!("{method} failed"),
                cause: "The driver gave no reason.".into(),
                fix: vec![],
            },
        };
        if lines.iter().all(|(mark, _)| *mark != Mark::Fail) {
            lines.push((Mark::Fail, format!("{method} failed")));
        }
        Err((lines, diagnosis))
    }

    /// An exception the backend's code raised.
    fn exception(&self, method: &str, error: &PythonError) -> Diagnosis {
        let at = error.location.clone().unwrap_or_else(|| method.to_string());
        let python = self.backend.python.display();
        if error.kind == "ModuleNotFoundError" || error.kind == "ImportError" {
            let module = error.module.clone().unwrap_or_default();
            let package = match module.split('.').next().unwrap_or_default() {
                "pydantic_settings" => "pydantic-settings",
                "boto3" | "botocore" => "boto3",
                other => other,
            }
            .to_string();
            return Diagnosis {
                code: Subject::PythonException(error.kind.clone()),
                message: format!("{at}: {}", error.message),
                cause: format!("`{module}` is not installed for the backend's interpreter {python} (guide step 7.1)."),
                fix: vec![
                    format!("{python} -m pip install {package}"),
                    format!("Add {package} to the backend's requirements.txt so every install gets it."),
                ],
            };
        }
        let Some(code) = &error.code else {
            return self.python_error(&at, error);
        };
        let aws = AwsError {
            message: error.aws_message.clone().or_else(|| Some(error.message.clone())),
            status: error.status,
            bucket_region: error.bucket_region.clone(),
            request_id: error.request_id.clone(),
            ..AwsError::new(
                error.operation.as_ref().map_or("s3".into(), |op| format!("s3:{op}")),
                format!("bucket `{}`", self.settings.bucket()),
                ErrorKind::Service(ErrorCode::parse(code)),
            )
        };
        let mut diagnosis = diagnose::diagnose(&aws, self.settings, self.policy_name);
        diagnosis.message = format!("{at} raised {}: {}", error.kind, diagnosis.message);
        diagnosis
    }

    /// A Python error that is not AWS's answer: botocore's own, or the backend's code.
    fn python_error(&self, at: &str, error: &PythonError) -> Diagnosis {
        let (cause, fix) = match error.kind.as_str() {
            "NoCredentialsError" | "PartialCredentialsError" => (
                "boto3 found no credentials: the backend's client does not pass the settings' key to boto3, and the environment has none.".to_string(),
                vec!["Build the client with aws_access_key_id= and aws_secret_access_key= from get_settings().".to_string()],
            ),
            "EndpointConnectionError" | "ConnectTimeoutError" | "ReadTimeoutError" => (
                "The backend's client cannot reach its S3 endpoint.".to_string(),
                vec![format!(
                    "Check the endpoint_url the client is built with against AWS_ENDPOINT_URL ({}).",
                    self.settings.where_set(Key::EndpointUrl)
                )],
            ),
            "NoRegionError" => (
                "The backend's client has no region.".to_string(),
                vec!["Pass region_name=settings.aws_region when building the boto3 client.".to_string()],
            ),
            _ => (
                format!("The backend's code raised {} at {at}.", error.kind),
                vec![
                    format!("Fix {at}. The guide's interface: upload_file(file_content=, filename=, user_id=, conversation_id=, document_id=, content_type=) returning a dict with s3_key; download_file(key) -> bytes; get_presigned_url(key, expiration=60) -> str; delete_file(key); file_exists(key) -> bool."),
                ],
            ),
        };
        Diagnosis {
            code: Subject::PythonException(error.kind.clone()),
            message: format!("{at}: {}", error.message),
            cause,
            fix,
        }
    }

    /// A wrong answer (no exception) from the backend's code.
    fn problem(&self, number: u8, method: &str, problem: &Problem, loaded: Option<&LoadedSettings>) -> Diagnosis {
        match problem {
            Problem::Missing { missing } => self.missing(method, missing, loaded),
            Problem::Refused { status, body, bucket_region, path, key, .. } => {
                self.refused(method, *status, body, bucket_region.clone(), path, key)
            }
            Problem::StillExists => Diagnosis {
                code: Subject::StillExists,
                message: format!("{method} returned True after delete_file()"),
                cause: "delete_file() returned without error, but file_exists() still says the object is there: file_exists() must return False when HeadObject answers 404 (see Cleanup for what S3 holds).".into(),
                fix: vec!["Fix file_exists(): catch botocore's ClientError with code 404 / NoSuchKey / NotFound and return False.".into()],
            },
            Problem::ForeignKey { key, test_id } => Diagnosis {
                code: Subject::ForeignKey,
                message: format!("{method} returned s3_key `{key}`, which is not the object it just uploaded"),
                cause: format!(
                    "The key does not hold this run's id ({test_id}) and the object there does not hold the test bytes: it may be a user's document. t3s3 did not download-compare, delete or change it, and stopped before the steps that delete."
                ),
                fix: vec![format!(
                    "Return the key upload_file() wrote from {method}: the guide builds it from user_id, conversation_id, document_id and filename."
                )],
            },
            Problem::Mismatch { .. } => Diagnosis {
                code: Subject::ContentMismatch,
                message: format!("{method} returned something other than the uploaded bytes"),
                cause: "download_file() must return the object's bytes (response['Body'].read()).".into(),
                fix: vec![format!("Fix {method}.")],
            },
            Problem::NoKey { returned } => Diagnosis {
                code: Subject::NoS3Key,
                message: format!("{method} returned {returned}"),
                cause: "The guide's upload_file() returns a dict with `s3_key`, which the other steps use.".into(),
                fix: vec![format!("Return {{\"s3_key\": key, ...}} from {method}.")],
            },
            Problem::NotAUrl { returned } => Diagnosis {
                code: Subject::NotAUrl,
                message: format!("{method} returned {returned}"),
                cause: "get_presigned_url() must return the URL string generate_presigned_url() gives.".into(),
                fix: vec![format!("Fix {method}.")],
            },
            Problem::Unreachable { message, host } => Diagnosis {
                code: Subject::UrlUnreachable,
                message: format!("{method} returned a URL whose host {host} cannot be reached: {message}"),
                cause: "Presigned URLs are fetched by browsers: their host must be the S3 endpoint the backend's client uses.".into(),
                fix: vec![format!("Check the endpoint_url and region the client in {method} is built with.")],
            },
            Problem::Unknown => Diagnosis {
                code: Subject::Unknown,
                message: format!("step {number}: {method} failed"),
                cause: "The driver reported a problem this build of t3s3 does not know.".into(),
                fix: vec![],
            },
        }
    }

    /// Step 1: get_settings() left required values empty.
    fn missing(&self, method: &str, missing: &[String], loaded: Option<&LoadedSettings>) -> Diagnosis {
        let reads = loaded.and_then(|l| l.env_files.clone()).map(|files| files.join(", "));
        let t3s3_file = self.settings.env_file.as_ref().map(|p| p.display().to_string());
        let cause = match (&reads, &t3s3_file) {
            (Some(files), Some(ours)) => format!(
                "{method} reads {files} (relative to {}); t3s3 read {ours}. Those values are not in what the backend reads.",
                self.backend.dir.display()
            ),
            _ => "The backend's settings loader did not find them.".to_string(),
        };
        Diagnosis {
            code: Subject::MissingSettings,
            message: format!("{method} returned no {}", missing.join(", ")),
            cause,
            fix: vec![
                format!(
                    "Make config.py read the .env t3s3 wrote{} (pydantic-settings: model_config = SettingsConfigDict(env_file=\".env\")), or move the settings into the file it reads.",
                    t3s3_file.map(|f| format!(" ({f})")).unwrap_or_default()
                ),
                "Restart the application after changing .env.".into(),
            ],
        }
    }

    /// Step 5: the URL get_presigned_url() returned was refused when fetched.
    fn refused(
        &self,
        method: &str,
        status: u16,
        body: &str,
        region: Option<String>,
        path: &str,
        key: &str,
    ) -> Diagnosis {
        let error =
            AwsError::from_http("s3:GetObject", format!("bucket `{}`", self.settings.bucket()), status, region, body);
        let mut diagnosis = diagnose::diagnose(&error, self.settings, self.policy_name);
        let code = error.code().map(|c| c.as_str().to_string()).unwrap_or_default();
        diagnosis.message = format!("{method} returned a URL the bucket refuses: HTTP {status} {code}");
        let said = error.message.clone().map(|m| format!(" ({m})")).unwrap_or_default();
        diagnosis.cause = format!(
            "The backend's other steps worked with the same key and bucket, so the URL {method} builds is wrong: S3 answered HTTP {status} {code}{said} for /{path}."
        );
        if status == 404 {
            diagnosis.cause.push_str(&format!(
                " The test object is /{}/{key}: the URL names another object.",
                self.settings.bucket()
            ));
            diagnosis.fix.clear();
        }
        diagnosis.fix.insert(
            0,
            format!("Build the URL with generate_presigned_url('get_object', Params={{'Bucket': bucket, 'Key': s3_key}}, ExpiresIn=expiration) on the same client as the uploads ({method})."),
        );
        diagnosis
    }
}

/// Step 1's lines: each setting SET or MISSING, and where the backend got it (never a value
/// of the secret).
fn loaded_lines(loaded: Option<&LoadedSettings>) -> Lines {
    let Some(loaded) = loaded else { return Vec::new() };
    crate::guide::FIELDS
        .iter()
        .map(|(field, _)| {
            let set = loaded.fields.get(*field).is_some_and(|f| f.set);
            let origin = loaded.origins.get(*field).map(|o| format!(" ({})", relative(o))).unwrap_or_default();
            let name = field.to_uppercase();
            if set {
                (Mark::Ok, format!("{name}: ✓ SET{origin}"))
            } else {
                (Mark::Fail, format!("{name}: ✗ MISSING"))
            }
        })
        .collect()
}

/// The settings the backend loaded against t3s3's: values (never the secret's), the .env
/// files read, the client's endpoint and region.
fn differences(report: &BackendReport, settings: &AppSettings) -> Vec<Difference> {
    let mut found = Vec::new();
    let Some(loaded) = &report.loaded else { return found };
    let origin =
        |field: &str| loaded.origins.get(field).map(|o| format!(" (from {})", relative(o))).unwrap_or_default();
    for (field, key) in
        [("aws_access_key_id", Key::AccessKeyId), ("aws_region", Key::Region), ("s3_bucket_name", Key::Bucket)]
    {
        let theirs = loaded.fields.get(field).and_then(|f| f.value.clone()).filter(|v| !v.is_empty());
        let ours = settings.get(key).map(str::to_string);
        if theirs != ours {
            found.push(Difference {
                setting: key.name().to_string(),
                backend: theirs.map_or("not set".into(), |v| format!("`{v}`{}", origin(field))),
                t3s3: ours.map_or("not set".into(), |v| format!("`{v}` ({})", settings.where_set(key))),
            });
        }
    }
    let secret_set = loaded.fields.get("aws_secret_access_key").is_some_and(|f| f.set);
    if !secret_set && settings.get(Key::SecretAccessKey).is_some() {
        found.push(Difference {
            setting: Key::SecretAccessKey.name().to_string(),
            backend: "not set".into(),
            t3s3: format!("set ({})", settings.where_set(Key::SecretAccessKey)),
        });
    }
    if let (Some(files), Some(ours)) = (&loaded.env_files, &settings.env_file) {
        let ours_abs = std::path::absolute(ours).unwrap_or_else(|_| ours.clone());
        let same = |f: &String| std::fs::canonicalize(f).ok() == std::fs::canonicalize(&ours_abs).ok();
        if !files.iter().any(same) {
            let shown: Vec<String> = files
                .iter()
                .zip(loaded.env_files_exist.iter().chain(std::iter::repeat(&false)))
                .map(|(f, exists)| if *exists { relative(f) } else { format!("{} (missing)", relative(f)) })
                .collect();
            found.push(Difference {
                setting: ".env file".into(),
                backend: if shown.is_empty() { "none".into() } else { shown.join(", ") },
                t3s3: ours.display().to_string(),
            });
        }
    }
    if let Some(client) = &report.client {
        let ours = settings.get(Key::EndpointUrl);
        let trim = |url: &str| url.trim_end_matches('/').to_string();
        let theirs = client.endpoint_url.as_deref().map(trim);
        let differs = match (ours, &theirs) {
            (Some(ours), Some(theirs)) => trim(ours) != *theirs,
            (Some(_), None) => true,
            (None, Some(theirs)) => !theirs.contains("amazonaws.com"),
            (None, None) => false,
        };
        if differs {
            found.push(Difference {
                setting: "S3 endpoint".into(),
                backend: theirs.unwrap_or_else(|| "none".into()),
                t3s3: ours.map_or("AWS's own".into(), |e| format!("{e} ({})", settings.where_set(Key::EndpointUrl))),
            });
        }
        if let Some(region) = client.region.as_deref().filter(|r| *r != settings.region()) {
            found.push(Difference {
                setting: "client region".into(),
                backend: region.to_string(),
                t3s3: settings.region().to_string(),
            });
        }
    }
    found
}

/// A path the driver gave (absolute) as the user would type it from here.
fn relative(path: &str) -> String {
    let here = std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok());
    match here.as_deref().and_then(|here| std::path::Path::new(path).strip_prefix(here).ok()) {
        Some(rest) => rest.display().to_string(),
        None => path.to_string(),
    }
}

/// The `user_id` the driver uploads as: the backend's keys start `t3s3_selftest/{run id}/`.
const UPLOAD_PREFIX: &str = "t3s3_selftest/";

/// Whether t3s3 may delete `key` after a failed backend run: only a key that holds this
/// run's unique id, so never an object the backend named that this run cannot prove it wrote.
fn deletable(key: &str, test_id: &str) -> bool {
    key.contains(test_id)
}

/// The clean-up line for a key t3s3 will not delete.
fn left_alone(key: &str, test_id: &str) -> Cleanup {
    Cleanup {
        key: key.to_string(),
        deleted: false,
        message: format!(
            "left {key} alone: it does not hold this run's id ({test_id}), so t3s3 cannot prove it wrote it; the test object the backend uploaded has a key holding {test_id}"
        ),
        command: None,
    }
}

/// The secret values t3s3 knows of, masked in whatever the backend's run prints: the
/// settings' secret and session token, and every secret-like value of the backend folder's
/// `.env` (which the backend may read though t3s3 resolved another file).
fn known_secrets(settings: &AppSettings, dir: &std::path::Path) -> Vec<String> {
    let mut secrets: Vec<String> = [Key::SecretAccessKey, Key::SessionToken]
        .iter()
        .filter_map(|key| settings.get(*key).map(str::to_string))
        .collect();
    if let Some(text) = crate::fsio::read_text(&dir.join(".env")) {
        let bindings = crate::dotenv::parse(&text);
        for (name, value) in crate::dotenv::values(&bindings, &Default::default(), true) {
            let upper = name.to_ascii_uppercase();
            if ["SECRET", "TOKEN", "PASSWORD", "PRIVATE"].iter().any(|word| upper.contains(word)) {
                value.iter().for_each(|v| crate::mask::know(v));
                secrets.extend(value);
            }
        }
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_holding_the_runs_id_are_deletable() {
        let id = "18a3f00-1c2";
        assert!(deletable("t3s3_selftest/18a3f00-1c2/test_document/test_file.txt", id));
        assert!(deletable("users/t3s3_selftest/18a3f00-1c2_test_file.txt", id));
        assert!(!deletable("users/42/contract.pdf", id));
        assert!(!deletable("t3s3_selftest/18a3f00-1c3/test_document/test_file.txt", id), "another run's id");
        let left = left_alone("users/42/contract.pdf", id);
        assert!(!left.deleted && left.command.is_none(), "no command to delete what is not ours: {left:?}");
    }

    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let secrets = vec!["k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0".to_string(), "ab".to_string()];
        let line = "input_value='k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0', ab";
        assert_eq!(backend::redact(line, &secrets), "input_value='****', ab", "too short a value is not masked");
    }
}
