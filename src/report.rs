//! Renders reports as text or JSON: the only module that prints, and the only user of colour.

use std::io::IsTerminal;

use colored::{ColoredString, Colorize};

use crate::cli::ColorChoice;
use crate::commands::destroy::{DestroyReport, DestroyStep};
use crate::commands::doctor::{Check, CheckStatus};
use crate::commands::init::{InitReport, Status};
use crate::commands::rotate_key::RotateReport;
use crate::commands::verify::{Mark, Progress, Step, StepStatus, VerifyReport};
use crate::exit::Failure;

/// `println!` that never panics: a closed pipe (`t3s3 verify | head`) is not an error.
macro_rules! out {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that never panics.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

const RULE: &str = "==================================================";

/// Colours and symbols named by what they mean.
mod style {
    use super::*;
    pub fn ok(text: &str) -> ColoredString {
        text.green()
    }
    pub fn fail(text: &str) -> ColoredString {
        text.red().bold()
    }
    pub fn warn(text: &str) -> ColoredString {
        text.yellow()
    }
    pub fn note(text: &str) -> ColoredString {
        text.dimmed()
    }
    pub fn heading(text: &str) -> ColoredString {
        text.bold()
    }
}

/// Where output goes and how it looks.
#[derive(Debug)]
pub struct Printer {
    json: bool,
}

impl Printer {
    /// `--color auto` colours only a terminal, and never when NO_COLOR is set.
    pub fn new(json: bool, color: ColorChoice) -> Self {
        let enabled = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
            }
        };
        colored::control::set_override(enabled && !json);
        Printer { json }
    }

    /// An error that ended the command: message and next step on stderr (JSON on stdout with --json).
    pub fn error(&self, error: &anyhow::Error) {
        let failure = error.chain().find_map(|cause| cause.downcast_ref::<Failure>());
        let message = match failure {
            Some(failure) => {
                let context: Vec<String> = error
                    .chain()
                    .take_while(|cause| cause.downcast_ref::<Failure>().is_none())
                    .map(ToString::to_string)
                    .collect();
                if context.is_empty() {
                    failure.message.clone()
                } else {
                    format!("{}: {}", context.join(": "), failure.message)
                }
            }
            None => format!("{error:#}"),
        };
        let hint = failure.and_then(|f| f.hint.clone());
        if self.json {
            let value = serde_json::json!({ "ok": false, "error": message, "fix": hint });
            out!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            return;
        }
        err!("{} {message}", style::fail("error:"));
        if let Some(hint) = hint {
            err!("{} {hint}", style::note("next:"));
        }
    }

    /// A policy document: stdout holds the JSON and nothing else.
    pub fn policy(&self, document: &str) {
        out!("{document}");
    }

    pub fn init_begin(&self, caller_arn: &str, account: &str, region: &str, dry_run: bool) {
        if self.json {
            return;
        }
        out!("Acting as {caller_arn} (account {account}) in {region}");
        if dry_run {
            out!("{}", style::warn("Dry run: read-only calls only; nothing will be changed."));
        }
    }

    pub fn init_summary(&self, report: &InitReport) {
        if self.json {
            return;
        }
        out!();
        for resource in &report.resources {
            let status = match resource.status {
                Status::Created | Status::Updated => style::ok(resource.status.label()),
                Status::WouldCreate | Status::WouldUpdate => style::warn(resource.status.label()),
                Status::Unchanged => style::note(resource.status.label()),
            };
            let label = resource.resource.replace('_', " ");
            let detail =
                if resource.detail.is_empty() { String::new() } else { format!("  {}", style::note(&resource.detail)) };
            out!("  {label:<20} {status:<13} {}{detail}", resource.name);
        }
        for warning in &report.warnings {
            out!("  {} {warning}", style::warn("warning:"));
        }
        out!(
            "{}",
            style::note(&format!(
                "  {} AWS requests, {} of them changes",
                report.requests.total, report.requests.mutating
            ))
        );
        out!();
    }

    pub fn init_end(&self, report: &InitReport) {
        if self.json {
            out!("{}", serde_json::to_string_pretty(report).unwrap_or_default());
            return;
        }
        if report.dry_run {
            out!("Dry run finished: run without --dry-run to apply.");
        } else if report.verify.is_none() && report.ok {
            out!("Done. Check it any time with `t3s3 verify`.");
        }
    }

    /// A line of progress (text mode only; JSON reports carry the same facts).
    pub fn note(&self, message: &str) {
        if !self.json {
            out!("{message}");
        }
    }

    pub fn rotate(&self, report: &RotateReport) {
        if self.json {
            out!("{}", serde_json::to_string_pretty(report).unwrap_or_default());
            return;
        }
        if report.rolled_back {
            out!(
                "{}",
                style::fail(&format!(
                    "✗ The new key failed verification: {} names {} again and the new key was deleted.",
                    report.env_file, report.old_key
                ))
            );
        } else {
            out!(
                "{}",
                style::ok(&format!(
                    "✓ Rotated: {} now holds {}; the old key {} was {}.",
                    report.env_file,
                    report.new_key.as_deref().unwrap_or_default(),
                    report.old_key,
                    report.old_key_action
                ))
            );
            out!("  Restart the backend so it loads the new key.");
        }
    }

    /// The plan `destroy` asks about (text mode; the JSON report comes at the end).
    pub fn destroy_plan(&self, steps: &[DestroyStep]) {
        if self.json {
            return;
        }
        out!("Plan:");
        self.destroy_rows(steps);
    }

    pub fn destroy(&self, report: &DestroyReport) {
        if self.json {
            out!("{}", serde_json::to_string_pretty(report).unwrap_or_default());
            return;
        }
        if !report.dry_run
            && report.steps.iter().any(|s| matches!(s.status.as_str(), "deleted" | "detached" | "removed"))
        {
            out!("Result:");
        }
        self.destroy_rows(&report.steps);
        if report.dry_run {
            out!("Dry run: nothing was deleted.");
        }
    }

    fn destroy_rows(&self, steps: &[DestroyStep]) {
        for step in steps {
            let status = match step.status.as_str() {
                "deleted" | "detached" | "removed" => style::ok(&step.status),
                "absent" | "kept" => style::note(&step.status),
                _ => style::warn(&step.status),
            };
            out!("  {:<12} {:<16} {}", step.resource, status, step.name);
        }
    }

    /// The audit: one line per check with its evidence, then the fix where there is one.
    pub fn doctor(&self, checks: &[Check]) {
        if self.json {
            out!("{}", serde_json::to_string_pretty(checks).unwrap_or_default());
            return;
        }
        for check in checks {
            let label = format!("{:<7}", check.status.label());
            let label = match check.status {
                CheckStatus::Pass => style::ok(&label),
                CheckStatus::Warn => style::warn(&label),
                CheckStatus::Fail => style::fail(&label),
                CheckStatus::Skipped | CheckStatus::Info => style::note(&label),
            };
            out!("{label} {:<22} {}", check.id, check.evidence);
            if !check.fix.is_empty() && check.status != CheckStatus::Pass {
                out!("        {:<22} {} {}", "", style::note("fix:"), check.fix);
            }
        }
        let count = |status: CheckStatus| checks.iter().filter(|c| c.status == status).count();
        out!(
            "\nSummary: {} PASS, {} WARN, {} FAIL, {} SKIPPED, {} INFO",
            count(CheckStatus::Pass),
            count(CheckStatus::Warn),
            count(CheckStatus::Fail),
            count(CheckStatus::Skipped),
            count(CheckStatus::Info)
        );
    }

    pub fn verify_begin(&self) {
        if self.json {
            return;
        }
        out!("{RULE}");
        out!("{}", style::heading("S3 Configuration Test"));
        out!("{RULE}");
    }

    /// Ends `t3s3 verify`: the banner, or the JSON report.
    pub fn verify_end(&self, report: &VerifyReport) {
        if self.json {
            out!("{}", serde_json::to_string_pretty(report).unwrap_or_default());
            return;
        }
        self.verify_footer(report);
    }

    /// The closing banner of a self-test in text mode (inside `init` too); JSON callers
    /// embed the report in their own object instead.
    pub fn verify_footer(&self, report: &VerifyReport) {
        if self.json {
            return;
        }
        if let Some(cleanup) = &report.cleanup {
            out!("\n   {} {cleanup}", style::note("Cleanup:"));
        }
        out!("\n{RULE}");
        match report.failed_step() {
            None => out!("{}", style::ok("✓ ALL TESTS PASSED! S3 is configured correctly.")),
            Some(step) => {
                let skipped: Vec<String> = report
                    .steps
                    .iter()
                    .filter(|s| s.status == StepStatus::Skipped)
                    .map(|s| s.number.to_string())
                    .collect();
                out!("{}", style::fail(&format!("✗ TEST FAILED at step {} ({}).", step.number, step.name)));
                if !skipped.is_empty() {
                    out!("  Steps {} were skipped.", skipped.join(", "));
                }
            }
        }
        let total: u64 = report.steps.iter().map(|s| s.duration_ms).sum();
        out!("{}", style::note(&format!("  Total time: {total} ms")));
        out!("{RULE}");
    }

    fn print_step(&self, step: &Step) {
        out!("\n{}. {}", step.number, step.title);
        for (mark, line) in &step.lines {
            if line.is_empty() {
                out!();
                continue;
            }
            let text = match mark {
                Mark::Ok if !line.contains('✓') => style::ok(&format!("✓ {line}")),
                Mark::Ok => style::ok(line),
                Mark::Fail if !line.contains('✗') => style::fail(&format!("✗ {line}")),
                Mark::Fail => style::fail(line),
                Mark::Warn => style::warn(&format!("⚠ {line}")),
                Mark::Info => line.normal(),
            };
            out!("   {text}");
        }
        if let Some(diagnosis) = &step.diagnosis {
            out!("   {} {}", style::fail("Error:"), diagnosis.error_line());
            out!("   {} {}", style::heading("Cause:"), diagnosis.cause);
            out!("   {}", style::heading("Fix:"));
            for (index, fix) in diagnosis.fix.iter().enumerate() {
                out!("     {}. {fix}", index + 1);
            }
        }
        out!("   {}", style::note(&format!("({} ms)", step.duration_ms)));
    }
}

impl Progress for Printer {
    fn step(&self, step: &Step) {
        if !self.json {
            self.print_step(step);
        }
    }

    fn waiting(&self, message: &str) {
        if self.json {
            err!("waiting: {message}");
        } else {
            out!("   {}", style::warn(&format!("… {message}")));
        }
    }
}
