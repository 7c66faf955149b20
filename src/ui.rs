//! The printer: the only module that writes to the terminal, and the only user of colour. It
//! knows no command: reports render themselves ([`Render`]) and the printer writes them.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cli::ColorChoice;

/// A report that knows how it reads as text; as JSON it is its serde form, one object
/// with `ok` and the command's fields.
pub trait Render: Serialize {
    /// Appends the report's text (lines ending in `\n`) to `out`.
    fn text(&self, out: &mut String);

    /// The one line `--quiet` prints: by default the text's last line that is not a rule.
    fn verdict(&self) -> String {
        let mut text = String::new();
        self.text(&mut text);
        let last = text.lines().rev().find(|line| !line.trim().is_empty() && !line.starts_with("====="));
        last.map(|line| line.trim().to_string()).unwrap_or_default()
    }
}

/// Colours and symbols named by what they mean.
pub mod style {
    use colored::{ColoredString, Colorize};

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

/// `writeln!` into a `String` (which cannot fail).
#[macro_export]
macro_rules! outln {
    ($out:expr) => {{
        $out.push('\n');
    }};
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// How an error that ended a command reads: the message, the next step, and what had
/// been changed before it struck.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub ok: bool,
    pub error: String,
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<String>>,
}

impl Render for ErrorReport {
    fn text(&self, out: &mut String) {
        outln!(out, "{} {}", style::fail("error:"), self.error);
        if let Some(changed) = &self.changed {
            outln!(out, "{} {}", style::warn("changed before the failure:"), changed.join("; "));
        }
        if let Some(fix) = &self.fix {
            outln!(out, "{} {fix}", style::note("next:"));
        }
    }
}

/// Where output goes and how it looks.
#[derive(Debug)]
pub struct Printer {
    json: bool,
    /// --quiet: errors and the report's last line only.
    quiet: bool,
}

impl Printer {
    /// `--color auto` colours only a terminal, and never when NO_COLOR is set.
    pub fn new(json: bool, color: ColorChoice, quiet: bool) -> Self {
        let enabled = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
            }
        };
        // Windows consoles show ANSI colours once asked to (virtual terminal processing);
        // one that cannot gets none rather than escape codes.
        #[cfg(windows)]
        let enabled = enabled && colored::control::set_virtual_terminal(true).is_ok();
        colored::control::set_override(enabled && !json);
        Printer { json, quiet }
    }

    /// The command's result: its text, or its JSON object, on stdout.
    pub fn report(&self, report: &impl Render) {
        if self.json {
            stdout(&format!("{}\n", serde_json::to_string_pretty(report).unwrap_or_default()));
        } else {
            let mut text = String::new();
            if self.quiet {
                text = format!("{}\n", report.verdict());
            } else {
                report.text(&mut text);
            }
            stdout(&text);
        }
    }

    /// Whether reports go out as JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// The report's JSON only (with --json): its text was shown part by part with [`Printer::progress`].
    pub fn print_json(&self, report: &impl Serialize) {
        if self.json {
            stdout(&format!("{}\n", serde_json::to_string_pretty(report).unwrap_or_default()));
        }
    }

    /// Part of a report shown as it happens (text only: the JSON report carries it at the end).
    pub fn progress(&self, part: &impl Render) {
        if !self.json && !self.quiet {
            let mut text = String::new();
            part.text(&mut text);
            stdout(&text);
        }
    }

    /// A line of progress (text mode only; JSON reports carry the same facts).
    pub fn note(&self, message: &str) {
        if !self.json && !self.quiet {
            stdout(&format!("{message}\n"));
        }
    }

    /// A wait the user should know about; on stderr with --json so stdout stays one object.
    pub fn waiting(&self, message: &str) {
        if self.quiet {
            return;
        }
        if self.json {
            stderr(&format!("waiting: {message}\n"));
        } else {
            stdout(&format!("   {}\n", style::warn(&format!("… {message}"))));
        }
    }

    /// The error that ended the command: on stderr, or as the JSON object on stdout.
    pub fn error(&self, report: &ErrorReport) {
        if self.json {
            self.report(report);
        } else {
            let mut text = String::new();
            report.text(&mut text);
            stderr(&text);
        }
    }
}

/// Writes that never panic: a closed pipe (`t3s3 verify | head`) is not an error.
fn stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
