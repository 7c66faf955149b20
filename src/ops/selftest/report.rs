//! The self-test's report: its steps, their lines and diagnoses, the clean-up, and how it
//! all reads as text (the banners, each step as it ends, the verdict) and as JSON. Shared by
//! t3s3's own run and the backend's (`backend_run`).

use std::time::Duration;

use serde::Serialize;

use crate::backend::{Backend, PythonFacts};
use crate::diagnose::Diagnosis;
use crate::envfile::LintIssue;
use crate::exit::ExitStatus;
use crate::keys::Key;
use crate::outln;
use crate::settings::Source;
use crate::ui::{Render, style};

pub(crate) const RULE: &str = "==================================================";

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

/// A step's detail lines.
pub type Lines = Vec<(Mark, String)>;
/// A step's outcome: its lines, and the diagnosis when it failed.
pub type StepResult = Result<Lines, (Lines, Diagnosis)>;

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
    pub lines: Lines,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip)]
    pub diagnosis: Option<Diagnosis>,
}

impl Render for Step {
    fn text(&self, out: &mut String) {
        outln!(out, "\n{}. {}", self.number, self.title);
        for (mark, line) in &self.lines {
            let text = match mark {
                _ if line.is_empty() => {
                    outln!(out);
                    continue;
                }
                Mark::Ok if !line.contains('✓') => style::ok(&format!("✓ {line}")).to_string(),
                Mark::Ok => style::ok(line).to_string(),
                Mark::Fail if !line.contains('✗') => style::fail(&format!("✗ {line}")).to_string(),
                Mark::Fail => style::fail(line).to_string(),
                Mark::Warn => style::warn(&format!("⚠ {line}")).to_string(),
                Mark::Info => line.clone(),
            };
            outln!(out, "   {text}");
        }
        if let Some(diagnosis) = &self.diagnosis {
            outln!(out, "   {} {}", style::fail("Error:"), crate::ui::one_line(&diagnosis.error_line()));
            outln!(out, "   {} {}", style::heading("Cause:"), diagnosis.cause);
            outln!(out, "   {}", style::heading("Fix:"));
            for (index, fix) in diagnosis.fix.iter().enumerate() {
                outln!(out, "     {}. {fix}", index + 1);
            }
        }
        outln!(out, "   {}", style::note(&format!("({} ms)", self.duration_ms)));
    }
}

/// One setting as step 1 saw it; never the value of the secret.
#[derive(Debug, Clone, Serialize)]
pub struct SettingReport {
    pub name: Key,
    pub set: bool,
    pub source: Source,
}

/// What became of the test object after a failed run.
#[derive(Debug, Clone, Serialize)]
pub struct Cleanup {
    /// The object's exact key.
    pub key: String,
    /// The bucket no longer holds it.
    pub deleted: bool,
    pub message: String,
    /// How to delete it by hand, when it may still be there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
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
    /// Where the credentials that signed came from: the key's setting, or the default
    /// chain's source when the .env holds no key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    pub lint: Vec<LintIssue>,
    pub steps: Vec<Step>,
    /// What happened to the test object after a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<Cleanup>,
}

impl VerifyReport {
    pub fn failed_step(&self) -> Option<&Step> {
        self.steps.iter().find(|step| step.status == StepStatus::Failed)
    }

    /// 0 when every step passed, 2 when the settings themselves are unusable, else 1.
    pub fn exit_status(&self) -> ExitStatus {
        match self.failed_step() {
            None => ExitStatus::Success,
            Some(step) if step.number == 1 => ExitStatus::BadInput,
            Some(_) => ExitStatus::CheckFailed,
        }
    }
}

/// The banner a run opens with, in text mode: t3s3's own self-test, or the backend's run
/// with its folder and interpreter.
pub enum Banner<'a> {
    SelfTest,
    Backend { backend: &'a Backend, facts: &'a PythonFacts },
}

impl Serialize for Banner<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl Render for Banner<'_> {
    fn text(&self, out: &mut String) {
        let Banner::Backend { backend, facts } = self else {
            return outln!(out, "{RULE}\n{}\n{RULE}", style::heading("S3 Configuration Test"));
        };
        let boto3 = facts.boto3.as_deref().map_or("boto3 not installed".into(), |v| format!("boto3 {v}"));
        outln!(out, "\n{RULE}\n{}", style::heading("Backend S3 Test (the backend's own code)"));
        outln!(out, "{RULE}");
        outln!(out, "   Backend: {}", backend.dir.display());
        outln!(out, "   Python:  {} ({}; Python {}, {boto3})", backend.python.display(), backend.how, facts.python);
    }
}

/// Fills in the steps an earlier failure left unreached as skipped; `true` when all seven
/// passed.
pub fn finish_steps(steps: &mut Vec<Step>) -> bool {
    for number in steps.len() as u8 + 1..=STEPS.len() as u8 {
        steps.push(Step::skipped(number));
    }
    steps.iter().all(|step| step.status == StepStatus::Passed)
}

/// The closing banner; the steps were shown as they ended.
impl Render for VerifyReport {
    fn verdict(&self) -> String {
        match self.failed_step() {
            None => "✓ ALL TESTS PASSED! S3 is configured correctly.".into(),
            Some(step) => format!(
                "✗ TEST FAILED at step {} ({}): {}",
                step.number,
                step.name,
                step.error.clone().unwrap_or_default()
            ),
        }
    }

    fn text(&self, out: &mut String) {
        if let Some(cleanup) = &self.cleanup {
            let text = if cleanup.deleted { style::note(&cleanup.message) } else { style::warn(&cleanup.message) };
            outln!(out, "\n   {} {text}", style::note("Cleanup:"));
            if let Some(command) = &cleanup.command {
                outln!(out, "   {} {command}", style::heading("Delete it with:"));
            }
        }
        outln!(out, "\n{RULE}");
        match self.failed_step() {
            None => outln!(out, "{}", style::ok("✓ ALL TESTS PASSED! S3 is configured correctly.")),
            Some(step) => {
                let skipped: Vec<String> = self
                    .steps
                    .iter()
                    .filter(|s| s.status == StepStatus::Skipped)
                    .map(|s| s.number.to_string())
                    .collect();
                outln!(out, "{}", style::fail(&format!("✗ TEST FAILED at step {} ({}).", step.number, step.name)));
                if !skipped.is_empty() {
                    outln!(out, "  Steps {} were skipped.", skipped.join(", "));
                }
            }
        }
        let total: u64 = self.steps.iter().map(|s| s.duration_ms).sum();
        outln!(out, "{}", style::note(&format!("  Total time: {total} ms")));
        outln!(out, "{RULE}");
    }
}

/// The seven steps: [`crate::guide::STEPS`].
pub use crate::guide::STEPS;

impl Step {
    /// Step `number` (1-7), ended with `result` after `took`.
    pub fn ended(number: u8, result: StepResult, took: Duration) -> Step {
        let crate::guide::Step { name, title, .. } = crate::guide::step(number);
        let (lines, diagnosis) = match result {
            Ok(lines) => (lines, None),
            Err((lines, diagnosis)) => (lines, Some(diagnosis)),
        };
        Step {
            number,
            name,
            title,
            status: if diagnosis.is_some() { StepStatus::Failed } else { StepStatus::Passed },
            duration_ms: took.as_millis() as u64,
            lines,
            error: diagnosis.as_ref().map(Diagnosis::error_line),
            cause: diagnosis.as_ref().map(|d| d.cause.clone()),
            fix: diagnosis.as_ref().map(Diagnosis::fix_line),
            diagnosis,
        }
    }

    /// Step `number`, not reached because an earlier one failed.
    pub fn skipped(number: u8) -> Step {
        let crate::guide::Step { name, title, .. } = crate::guide::step(number);
        Step {
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
        }
    }
}
