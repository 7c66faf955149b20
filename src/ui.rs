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

/// Colours and symbols named by what they mean. A styled piece is marked with Unicode
/// noncharacters (U+FDD0..U+FDD4 to open, U+FDDF to close), which the printer turns into ANSI
/// colours, or drops, only after it has escaped every control character in the text: so no
/// escape sequence reaches the terminal but the colours t3s3 chose.
pub mod style {
    pub(super) const OPEN: [(char, &str); 5] = [
        ('\u{FDD0}', "\x1b[32m"),
        ('\u{FDD1}', "\x1b[1;31m"),
        ('\u{FDD2}', "\x1b[33m"),
        ('\u{FDD3}', "\x1b[2m"),
        ('\u{FDD4}', "\x1b[1m"),
    ];
    pub(super) const CLOSE: char = '\u{FDDF}';
    pub(super) const RESET: &str = "\x1b[0m";

    fn styled(open: usize, text: &str) -> String {
        format!("{}{text}{CLOSE}", OPEN[open].0)
    }
    pub fn ok(text: &str) -> String {
        styled(0, text)
    }
    pub fn fail(text: &str) -> String {
        styled(1, text)
    }
    pub fn warn(text: &str) -> String {
        styled(2, text)
    }
    pub fn note(text: &str) -> String {
        styled(3, text)
    }
    pub fn heading(text: &str) -> String {
        styled(4, text)
    }
}

/// Text from outside (an object key, a file name, a server's message) on one line: its line
/// breaks shown as `\n` and `\r`, so it cannot start a line of its own. The printer escapes
/// every other control character.
pub fn one_line(text: &str) -> String {
    if !text.contains(['\n', '\r']) {
        return text.to_string();
    }
    text.replace('\r', "\\r").replace('\n', "\\n")
}

/// Whether a terminal would act on `c` instead of showing it: C0 controls, DEL, C1 controls,
/// the bidirectional overrides, embeddings, isolates and marks, and the line and paragraph
/// separators.
fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}')
}

/// What reaches the terminal: every secret t3s3 knows masked ([`crate::mask`]), every control
/// character but the line breaks of `text` shown as a visible escape (`\r`, `\t`, `\x1b`,
/// `\u{202e}`), and t3s3's own styles turned into colours when `colour` is on (dropped
/// otherwise). The one gate between text and a terminal.
pub fn for_terminal(text: &str, colour: bool) -> String {
    let text = crate::mask::hide(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some((_, ansi)) = style::OPEN.iter().find(|(open, _)| *open == c) {
            if colour {
                out.push_str(ansi);
            }
        } else if c == style::CLOSE {
            if colour {
                out.push_str(style::RESET);
            }
        } else if c == '\n' {
            out.push(c);
        } else if is_unsafe(c) {
            match c {
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{0}'..='\u{7F}' => out.push_str(&format!("\\x{:02x}", c as u32)),
                _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A report's JSON, pretty, with every secret t3s3 knows masked inside its strings.
fn json_of(report: &impl Serialize) -> String {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    crate::mask::hide_json(&mut value);
    format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
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
        outln!(out, "{} {}", style::fail("error:"), one_line(&self.error));
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
    /// ANSI colours in text output.
    colour: bool,
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
        Printer { json, colour: enabled && !json, quiet }
    }

    /// The command's result: its text, or its JSON object, on stdout.
    pub fn report(&self, report: &impl Render) {
        if self.json {
            self.out(&json_of(report));
        } else {
            let mut text = String::new();
            if self.quiet {
                text = format!("{}\n", report.verdict());
            } else {
                report.text(&mut text);
            }
            self.out(&text);
        }
    }

    /// Whether reports go out as JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// The report's JSON only (with --json): its text was shown part by part with [`Printer::progress`].
    pub fn print_json(&self, report: &impl Serialize) {
        if self.json {
            self.out(&json_of(report));
        }
    }

    /// Part of a report shown as it happens (text only: the JSON report carries it at the end).
    pub fn progress(&self, part: &impl Render) {
        if !self.json && !self.quiet {
            let mut text = String::new();
            part.text(&mut text);
            self.out(&text);
        }
    }

    /// With --quiet in text mode, the report's one-line verdict (its text was shown part by
    /// part with [`Printer::progress`], which --quiet silences).
    pub fn quiet_verdict(&self, report: &impl Render) {
        if self.quiet && !self.json {
            self.out(&format!("{}\n", report.verdict()));
        }
    }

    /// A line of progress (text mode only; JSON reports carry the same facts).
    pub fn note(&self, message: &str) {
        if !self.json && !self.quiet {
            self.out(&format!("{message}\n"));
        }
    }

    /// Something the user should look at that does not stop the command: on stderr, text
    /// and JSON alike.
    pub fn warning(&self, message: &str) {
        if !self.quiet {
            self.err(&format!("{} {message}\n", style::warn("warning:")));
        }
    }

    /// A wait the user should know about; on stderr with --json so stdout stays one object.
    pub fn waiting(&self, message: &str) {
        if self.quiet {
            return;
        }
        if self.json {
            self.err(&format!("waiting: {message}\n"));
        } else {
            self.out(&format!("   {}\n", style::warn(&format!("… {message}"))));
        }
    }

    /// The error that ended the command: on stderr, or as the JSON object on stdout.
    pub fn error(&self, report: &ErrorReport) {
        if self.json {
            self.report(report);
        } else {
            let mut text = String::new();
            report.text(&mut text);
            self.err(&text);
        }
    }

    /// Text on stdout, through [`for_terminal`]; JSON as it is ([`json_of`] masked its strings,
    /// and masking its text again could cut an escape in two).
    fn out(&self, text: &str) {
        if self.json {
            stdout(text);
        } else {
            stdout(&for_terminal(text, self.colour));
        }
    }

    fn err(&self, text: &str) {
        stderr(&for_terminal(text, self.colour));
    }
}

/// A line on stderr from outside a report (a question, the request log), through the same gate.
pub fn to_stderr(text: &str) {
    stderr(&for_terminal(text, false));
}

/// Writes that never panic: a closed pipe (`t3s3 verify | head`) is not an error.
fn stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_from_outside_are_shown_not_obeyed() {
        let attack = "key\r\x1b]0;owned\x07\x1b[2J\u{9b}31m invoice\u{202e}fdp.exe \u{2066}x\u{2069}\x7f\ttab";
        let shown = for_terminal(&format!("{attack}\n"), true);
        assert_eq!(
            shown,
            "key\\r\\x1b]0;owned\\x07\\x1b[2J\\u{9b}31m invoice\\u{202e}fdp.exe \\u{2066}x\\u{2069}\\x7f\\ttab\n"
        );
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown:?}");
    }

    #[test]
    fn only_t3s3s_own_styles_become_colours() {
        let line = format!("{} {}\n", style::ok("PASS"), "users/\x1b[32mALL TESTS PASSED");
        assert_eq!(for_terminal(&line, true), "\x1b[32mPASS\x1b[0m users/\\x1b[32mALL TESTS PASSED\n");
        assert_eq!(for_terminal(&line, false), "PASS users/\\x1b[32mALL TESTS PASSED\n");
    }

    #[test]
    fn outside_text_stays_on_its_line() {
        assert_eq!(one_line("a.pdf\r\nALL TESTS PASSED"), "a.pdf\\r\\nALL TESTS PASSED");
        assert_eq!(one_line("users/1/a.pdf"), "users/1/a.pdf");
    }
}
