//! The `.env` model: reading, linting and merging `.env` files, byte for byte where untouched
//! (written through `fsio`'s atomic write).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::dotenv;
use crate::exit::Failure;
use crate::keys::Key;

/// The comment the guide puts above the S3 settings; new keys are appended under it.
pub const SECTION_HEADER: &str = "# AWS S3 Configuration";

/// One physical line and the line ending that followed it (empty for a last line without one).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawLine {
    text: String,
    ending: String,
}

/// A `.env` file held as its lines, so that untouched lines are written back exactly.
#[derive(Debug, Clone)]
pub struct EnvFile {
    path: PathBuf,
    lines: Vec<RawLine>,
    existed: bool,
}

/// A value read from the file, with the (1-based) line that defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvValue {
    pub value: String,
    pub line: usize,
}

/// How bad a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A mistake in the file, with its line number and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintIssue {
    pub line: usize,
    pub key: Option<String>,
    pub severity: Severity,
    pub message: String,
}

/// What a merge did to each key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    pub added: Vec<String>,
    pub updated: Vec<String>,
}

impl MergeOutcome {
    pub fn changed(&self) -> bool {
        !self.added.is_empty() || !self.updated.is_empty()
    }
}

/// A statement of the file (python-dotenv's binding) and the physical lines it covers.
#[derive(Debug, Clone)]
struct Statement {
    binding: dotenv::Binding,
    /// Zero-based indexes of its first and last physical line.
    first: usize,
    last: usize,
}

impl EnvFile {
    /// Reads `path`; a missing file reads as empty (and [`EnvFile::exists`] says so). A file
    /// that cannot be read, a folder, bytes that are not UTF-8 or a link to nothing are
    /// bad input (exit 2), named with the line where it matters.
    pub fn read(path: &Path) -> Result<Self> {
        let shown = path.display();
        if crate::fsio::is_link(path) && fs::metadata(path).is_err() {
            let target = fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
            return Err(Failure::bad_input(format!("{shown} is a link to {target}, which does not exist"))
                .hint(format!("point the link at the real .env, or remove it so t3s3 can create {shown}"))
                .into());
        }
        if path.is_dir() {
            return Err(Failure::bad_input(format!("{shown} is a folder, not a .env file"))
                .hint("pass the path of the .env file itself")
                .into());
        }
        let (text, existed) = match crate::fsio::read_capped(path, crate::fsio::PROJECT_FILE_CAP) {
            Ok(bytes) => (utf8(path, bytes)?, true),
            Err(crate::fsio::ReadError::Missing) => (String::new(), false),
            Err(crate::fsio::ReadError::Io(error)) => {
                return Err(Failure::bad_input(format!("cannot read {shown}: {error}"))
                    .hint(format!("check the permissions of {shown} (t3s3 runs as you)"))
                    .into());
            }
            Err(why) => {
                return Err(Failure::bad_input(format!("cannot read {shown}: {why}"))
                    .hint(format!("make {shown} a regular .env file, or pass another path with --env-file"))
                    .into());
            }
        };
        let file = EnvFile { path: path.to_path_buf(), lines: split_lines(&text), existed };
        for name in [Key::SecretAccessKey, Key::SessionToken] {
            if let Some(value) = file.values().0.get(name.name()) {
                crate::mask::know(&value.value);
            }
        }
        Ok(file)
    }

    pub fn exists(&self) -> bool {
        self.existed
    }

    /// The path it was read from (and is written to).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text as it would be written.
    pub fn contents(&self) -> String {
        self.lines.iter().map(|line| format!("{}{}", line.text, line.ending)).collect()
    }

    /// The text python-dotenv parses (Python's text mode: every line break `\n`, no
    /// byte-order mark) and where each physical line starts in it.
    fn normalized(&self) -> (String, Vec<usize>) {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(self.lines.len());
        for (index, line) in self.lines.iter().enumerate() {
            starts.push(text.len());
            let body = if index == 0 { line.text.strip_prefix('\u{feff}').unwrap_or(&line.text) } else { &line.text };
            text.push_str(body);
            if !line.ending.is_empty() {
                text.push('\n');
            }
        }
        (text, starts)
    }

    fn statements(&self) -> Vec<Statement> {
        let (text, starts) = self.normalized();
        let line_of = |offset: usize| starts.partition_point(|start| *start <= offset).saturating_sub(1);
        dotenv::parse(&text)
            .into_iter()
            .map(|binding| {
                let first = line_of(binding.start);
                let last = line_of(binding.end.saturating_sub(1).max(binding.start));
                Statement { binding, first, last }
            })
            .collect()
    }

    /// The values as the backend's python-dotenv reads them (`${VAR}` looked up in the
    /// process environment first, as `load_dotenv` does); a later definition wins. Keys
    /// without `=` are left out. Statements python-dotenv cannot parse (it skips them) are
    /// returned as lint errors.
    pub fn values(&self) -> (BTreeMap<String, EnvValue>, Vec<LintIssue>) {
        self.values_of(&self.statements())
    }

    /// [`EnvFile::values`] of statements already parsed.
    fn values_of(&self, statements: &[Statement]) -> (BTreeMap<String, EnvValue>, Vec<LintIssue>) {
        let bindings: Vec<dotenv::Binding> = statements.iter().map(|s| s.binding.clone()).collect();
        let environment: BTreeMap<String, String> = std::env::vars().collect();
        let resolved = dotenv::values(&bindings, &environment, false);
        let mut values = BTreeMap::new();
        for (key, value) in resolved {
            let Some(value) = value else { continue };
            let line = statements
                .iter()
                .rev()
                .find(|s| s.binding.key.as_deref() == Some(key.as_str()))
                .map_or(0, |s| s.first + 1);
            values.insert(key, EnvValue { value, line });
        }
        (values, self.parse_errors_of(statements))
    }

    /// The values exactly as python-dotenv's `dotenv_values` gives them for `environment`
    /// (keys without `=` map to `None`).
    pub fn dotenv_values(&self, environment: &BTreeMap<String, String>) -> BTreeMap<String, Option<String>> {
        let bindings: Vec<dotenv::Binding> = self.statements().into_iter().map(|s| s.binding).collect();
        dotenv::values(&bindings, environment, true)
    }

    /// The statements python-dotenv cannot parse, with their first line.
    pub fn parse_errors(&self) -> Vec<LintIssue> {
        self.parse_errors_of(&self.statements())
    }

    fn parse_errors_of(&self, statements: &[Statement]) -> Vec<LintIssue> {
        statements
            .iter()
            .filter_map(|s| {
                let reason = s.binding.error?;
                Some(LintIssue {
                    line: s.first + 1,
                    key: assignment(&self.lines[s.first].text).map(|a| a.key.trim().to_string()),
                    severity: Severity::Error,
                    message: format!("cannot be parsed: {reason}; python-dotenv skips this line"),
                })
            })
            .collect()
    }

    /// Refuses (exit 2) a file with statements python-dotenv cannot parse: t3s3 does not
    /// write into a file the backend would read differently from what t3s3 sees.
    pub fn require_parseable(&self) -> Result<()> {
        let errors = self.parse_errors();
        let Some(first) = errors.first() else { return Ok(()) };
        let lines: Vec<String> = errors.iter().map(|e| e.line.to_string()).collect();
        Err(Failure::bad_input(format!("{} line {}: {}", self.path.display(), first.line, first.message))
            .hint(format!(
                "fix line(s) {} of {} (close the quote, or quote a value with spaces), then run again; nothing was changed",
                lines.join(", "),
                self.path.display()
            ))
            .into())
    }

    /// The statements that set `key`.
    fn definitions(&self, key: &str) -> Vec<Statement> {
        self.statements().into_iter().filter(|s| s.binding.key.as_deref() == Some(key)).collect()
    }

    /// Finds the mistakes behind the guide's NoCredentials and SignatureDoesNotMatch errors.
    pub fn lint(&self) -> Vec<LintIssue> {
        let mut issues = Vec::new();
        if let Some(index) = self.lines.iter().position(|line| line.ending == "\r\n") {
            issues.push(LintIssue {
                line: index + 1,
                key: None,
                severity: Severity::Warning,
                message: format!(
                    "Windows (CRLF) line endings: python-dotenv reads them, but a shell's `source` keeps the \\r in each value; for LF endings run `sed -i 's/\\r$//' {}` (or in VS Code click CRLF in the status bar and choose LF)",
                    self.path.display()
                ),
            });
        }
        let mut seen: BTreeMap<String, (usize, Option<String>)> = BTreeMap::new();
        let statements = self.statements();
        for statement in &statements {
            let Some(key) = statement.binding.key.clone() else { continue };
            let number = statement.first + 1;
            let severity = if Key::from_name(&key).is_some() { Severity::Error } else { Severity::Warning };
            for problem in statement_problems(statement, &self.lines[statement.first].text) {
                // python-dotenv (the backend's loader) reads `KEY = value` as KEY=value: a
                // warning, not a reason to stop.
                let severity = if problem.starts_with("spaces around '='") { Severity::Warning } else { severity };
                issues.push(LintIssue { line: number, key: Some(key.clone()), severity, message: problem });
            }
            let raw = statement.binding.raw_value.clone();
            match seen.get(&key) {
                Some((first, previous)) => {
                    let same = *previous == raw;
                    issues.push(LintIssue {
                        line: number,
                        key: Some(key.clone()),
                        severity: if same { Severity::Warning } else { severity },
                        message: if same {
                            format!("`{key}` is set again (first on line {first}); remove one")
                        } else {
                            format!("`{key}` is set again with another value (first on line {first}); tools disagree on which one wins: keep one")
                        },
                    });
                }
                None => {
                    seen.insert(key.clone(), (number, raw));
                }
            }
        }
        let (values, parse_issues) = self.values_of(&statements);
        issues.extend(length_issues(&values));
        issues.extend(parse_issues);
        issues.sort_by_key(|issue| issue.line);
        issues
    }

    /// Sets each key: statements that define it are rewritten in place as one line (keeping
    /// an `export ` prefix and the line ending), a multi-line one included; missing keys are
    /// appended under [`SECTION_HEADER`]. Every other byte stays as it was.
    pub fn merge(&mut self, updates: &[(&str, &str)]) -> MergeOutcome {
        let mut outcome = MergeOutcome::default();
        let mut missing = Vec::new();
        for (key, value) in updates {
            let definitions = self.definitions(key);
            if definitions.is_empty() {
                missing.push((*key, *value));
                continue;
            }
            let mut changed = false;
            for statement in definitions.iter().rev() {
                let first = &self.lines[statement.first];
                let export = if first.text.trim_start().starts_with("export ") { "export " } else { "" };
                let text = format!("{export}{key}={}", render_value(value));
                if statement.first != statement.last || first.text != text {
                    let ending = self.lines[statement.last].ending.clone();
                    self.lines.splice(statement.first..=statement.last, [RawLine { text, ending }]);
                    changed = true;
                }
            }
            if changed {
                outcome.updated.push(key.to_string());
            }
        }
        if !missing.is_empty() {
            self.append(&missing, &mut outcome);
        }
        outcome
    }

    fn append(&mut self, missing: &[(&str, &str)], outcome: &mut MergeOutcome) {
        let ending = self.dominant_ending();
        if let Some(last) = self.lines.last_mut() {
            if last.ending.is_empty() {
                last.ending = ending.clone();
            }
        }
        // Under the guide's header when the file has one (after the last line of its section,
        // the first blank line below it), so there is never a second header.
        let at = match self.lines.iter().position(|line| line.text.trim() == SECTION_HEADER) {
            Some(header) => {
                let mut end = header + 1;
                while self.lines.get(end).is_some_and(|line| !line.text.trim().is_empty()) {
                    end += 1;
                }
                end
            }
            None => {
                if self.lines.last().is_some_and(|line| !line.text.trim().is_empty()) {
                    self.lines.push(RawLine { text: String::new(), ending: ending.clone() });
                }
                self.lines.push(RawLine { text: SECTION_HEADER.into(), ending: ending.clone() });
                self.lines.len()
            }
        };
        let added = missing
            .iter()
            .map(|(key, value)| RawLine { text: format!("{key}={}", render_value(value)), ending: ending.clone() });
        self.lines.splice(at..at, added);
        outcome.added.extend(missing.iter().map(|(key, _)| key.to_string()));
    }

    /// Removes every statement that sets one of `keys` (all its lines); returns the keys removed.
    pub fn remove(&mut self, keys: &[&str]) -> Vec<String> {
        let mut removed = Vec::new();
        for statement in self.statements().iter().rev() {
            let Some(key) = statement.binding.key.as_deref().filter(|key| keys.contains(key)) else { continue };
            self.lines.drain(statement.first..=statement.last);
            if !removed.iter().any(|k| k == key) {
                removed.insert(0, key.to_string());
            }
        }
        if !removed.is_empty() {
            self.drop_empty_section();
        }
        removed
    }

    /// The guide's `# AWS S3 Configuration` header, once nothing is left under it (no line
    /// right after it). Blank lines stay: one `merge` added cannot be told from one of yours.
    fn drop_empty_section(&mut self) {
        let Some(header) = self.lines.iter().position(|line| line.text.trim() == SECTION_HEADER) else { return };
        if self.lines.get(header + 1).is_some_and(|line| !line.text.trim().is_empty()) {
            return;
        }
        self.lines.remove(header);
    }

    fn dominant_ending(&self) -> String {
        let crlf = self.lines.iter().filter(|line| line.ending == "\r\n").count();
        let lf = self.lines.iter().filter(|line| line.ending == "\n").count();
        if crlf > lf { "\r\n".into() } else { "\n".into() }
    }

    /// Writes the file atomically with mode 0600 (through a link, to the link's target).
    pub fn write(&self) -> Result<()> {
        crate::fsio::write_atomic(&self.path, self.contents().as_bytes(), 0o600)
    }
}

/// The bytes as text, or bad input naming the line of the first byte that is not UTF-8.
fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let line = error.as_bytes()[..valid].iter().filter(|b| **b == b'\n').count() + 1;
        Failure::bad_input(format!("{} line {line} is not UTF-8 text (byte {} of the file)", path.display(), valid + 1))
            .hint(format!("save {} as UTF-8 (python-dotenv reads it as UTF-8 too)", path.display()))
            .into()
    })
}

/// A value as written: bare when python-dotenv reads it back unchanged, else single-quoted.
fn render_value(value: &str) -> String {
    let bare = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./+:@,=%".contains(c));
    if bare || value.is_empty() {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A line that assigns a key, split at the first `=` (for messages about the raw text).
struct Assignment<'a> {
    key: &'a str,
    value: &'a str,
}

/// Keys and secrets whose length is not the one AWS gives them (a character lost or added).
fn length_issues(values: &BTreeMap<String, EnvValue>) -> Vec<LintIssue> {
    let fixed = Key::ALL.into_iter().filter_map(|k| Some((k.name(), k.fixed_length()?)));
    fixed
        .filter_map(|(key, expected)| {
            let found = values.get(key)?;
            let length = found.value.chars().count();
            (length != expected && !found.value.is_empty()).then(|| LintIssue {
                line: found.line,
                key: Some(key.into()),
                severity: Severity::Error,
                message: format!(
                    "`{key}` is {length} characters long; AWS issues them {expected} long (a character lost or added when copying?)"
                ),
            })
        })
        .collect()
}

fn assignment(text: &str) -> Option<Assignment<'_>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('#') {
        return None;
    }
    let trimmed = trimmed.strip_prefix("export ").unwrap_or(trimmed);
    let (key, value) = trimmed.split_once('=')?;
    if key.trim().is_empty() {
        return None;
    }
    Some(Assignment { key, value })
}

/// What is wrong with one statement as written (its first line is `first_line`).
fn statement_problems(statement: &Statement, first_line: &str) -> Vec<String> {
    let key = statement.binding.key.as_deref().unwrap_or_default();
    let Some(raw) = &statement.binding.raw_value else {
        return vec![format!("`{key}` has no `=`: python-dotenv reads it as unset (not a KEY=VALUE line)")];
    };
    let mut problems = Vec::new();
    if key.contains(char::is_whitespace) {
        problems.push(format!("the key `{key}` contains white space"));
    }
    if let Some(assignment) = assignment(first_line) {
        if assignment.key.ends_with(char::is_whitespace) || assignment.value.starts_with(char::is_whitespace) {
            problems.push(format!("spaces around '=': python-dotenv reads it, a shell's `source` does not; `t3s3 init` writes `{key}=value`"));
        }
    }
    if let Some(problem) = quote_problem(raw.trim()) {
        problems.push(problem);
    }
    problems
}

fn quote_problem(value: &str) -> Option<String> {
    if value.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}']) {
        return Some("typographic quotes (“ ” ‘ ’) end up in the value: use plain ' or \" or none".into());
    }
    let first = value.chars().next()?;
    let last = value.chars().last()?;
    let is_quote = |c: char| c == '"' || c == '\'';
    if !is_quote(first) && is_quote(last) {
        return Some(format!(
            "the value ends with a {last} quote it does not open with, so the quote ends up in the value"
        ));
    }
    None
}

/// Physical lines as Python's universal newlines split them (`\r\n`, `\n` or `\r`).
fn split_lines(text: &str) -> Vec<RawLine> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(end) => {
                let ending = if rest[end..].starts_with("\r\n") { "\r\n" } else { &rest[end..end + 1] };
                lines.push(RawLine { text: rest[..end].into(), ending: ending.into() });
                rest = &rest[end + ending.len()..];
            }
            None => {
                lines.push(RawLine { text: rest.into(), ending: String::new() });
                rest = "";
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> EnvFile {
        EnvFile { path: PathBuf::from("test.env"), lines: split_lines(text), existed: true }
    }

    const GOOD: &str =
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

    #[test]
    fn round_trips_byte_for_byte() {
        for text in ["", "A=1", "A=1\n", "# c\r\nA=1\r\n\r\n", "x\n\n  # y \nB = 2"] {
            assert_eq!(file(text).contents(), text);
        }
    }

    #[test]
    fn good_file_has_no_findings() {
        assert_eq!(file(GOOD).lint(), vec![]);
    }

    #[test]
    fn finds_each_mistake_with_its_line() {
        let findings = |text: &str| file(text).lint();
        let spaces = findings("# c\nAWS_REGION = us-east-1\n");
        assert_eq!(spaces[0].line, 2);
        assert!(spaces[0].message.contains("spaces around '='"));
        assert_eq!(spaces[0].severity, Severity::Warning, "python-dotenv reads it");

        let quote = findings("S3_BUCKET_NAME=abc\"\n");
        assert!(quote[0].message.contains("quote"), "{quote:?}");

        let key_space = findings("AWS_REGION =us-east-1\n");
        assert!(key_space[0].message.contains("spaces around '='"));

        let crlf = findings("A=1\r\n");
        assert!(crlf[0].message.contains("CRLF"));

        let dup = findings("AWS_REGION=us-east-1\nAWS_REGION=eu-west-1\n");
        assert_eq!(dup[0].line, 2);
        assert_eq!(dup[0].severity, Severity::Error);

        let short = findings("AWS_SECRET_ACCESS_KEY=abc\n");
        assert!(short[0].message.contains("3 characters"), "{short:?}");
        let long_id = findings("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLEX\n");
        assert!(long_id[0].message.contains("21 characters"), "{long_id:?}");

        let other = findings("DATABASE_URL = x\n");
        assert_eq!(other[0].severity, Severity::Warning);
    }

    #[test]
    fn values_take_the_last_definition() {
        let (values, issues) = file("A=1\nB='two'\nA=3\n").values();
        assert!(issues.is_empty());
        assert_eq!(values["A"], EnvValue { value: "3".into(), line: 3 });
        assert_eq!(values["B"].value, "two");
    }

    #[test]
    fn merge_updates_in_place_and_appends_the_rest() {
        let mut env = file("# mine\nDEBUG=1\r\nexport AWS_REGION=us-east-1\nTAIL=x");
        let outcome = env.merge(&[("AWS_REGION", "ap-south-1"), ("S3_BUCKET_NAME", "b1")]);
        assert_eq!(outcome.updated, vec!["AWS_REGION"]);
        assert_eq!(outcome.added, vec!["S3_BUCKET_NAME"]);
        assert_eq!(
            env.contents(),
            "# mine\nDEBUG=1\r\nexport AWS_REGION=ap-south-1\nTAIL=x\n\n# AWS S3 Configuration\nS3_BUCKET_NAME=b1\n"
        );
        let again = env.merge(&[("AWS_REGION", "ap-south-1"), ("S3_BUCKET_NAME", "b1")]);
        assert!(!again.changed());
    }

    #[test]
    fn missing_keys_join_the_existing_section_never_a_second_header() {
        let mut env = file("# AWS S3 Configuration\nAWS_REGION=us-east-1\n\n# Database\nDATABASE_URL=x\n");
        env.merge(&[("AWS_REGION", "ap-south-1"), ("S3_BUCKET_NAME", "b1")]);
        assert_eq!(
            env.contents(),
            "# AWS S3 Configuration\nAWS_REGION=ap-south-1\nS3_BUCKET_NAME=b1\n\n# Database\nDATABASE_URL=x\n"
        );
    }

    #[test]
    fn merge_into_an_empty_file_writes_the_guides_section() {
        let mut env = file("");
        env.merge(&[("AWS_REGION", "us-east-1")]);
        assert_eq!(env.contents(), "# AWS S3 Configuration\nAWS_REGION=us-east-1\n");
    }

    #[test]
    fn remove_takes_the_emptied_section_header() {
        let mut env = file("# mine\nDEBUG=1\n");
        env.merge(&[("AWS_REGION", "ap-south-1"), ("S3_BUCKET_NAME", "b1")]);
        env.remove(&["AWS_REGION", "S3_BUCKET_NAME"]);
        assert_eq!(env.contents(), "# mine\nDEBUG=1\n\n");
        // A header with the user's own lines still under it stays.
        let mut env = file("# AWS S3 Configuration\nAWS_REGION=x\nMY_S3_PREFIX=docs\n");
        env.remove(&["AWS_REGION"]);
        assert_eq!(env.contents(), "# AWS S3 Configuration\nMY_S3_PREFIX=docs\n");
        // An emptied section in the middle: the header goes, the rest stays as it was.
        let mut env = file("A=1\n\n# AWS S3 Configuration\nAWS_REGION=x\n\nB=2\n");
        env.remove(&["AWS_REGION"]);
        assert_eq!(env.contents(), "A=1\n\n\nB=2\n");
        // A blank line of the user's before the section survives (python-dotenv corpus case).
        let mut env = file("A=1\n\n");
        env.merge(&[("AWS_REGION", "x")]);
        env.remove(&["AWS_REGION"]);
        assert_eq!(env.contents(), "A=1\n\n");
    }

    #[test]
    fn remove_keeps_every_other_line() {
        let mut env = file("A=1\nAWS_REGION=x\n# c\n");
        assert_eq!(env.remove(&["AWS_REGION"]), vec!["AWS_REGION"]);
        assert_eq!(env.contents(), "A=1\n# c\n");
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_sets_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, "A=1\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let mut env = EnvFile::read(&path).unwrap();
        env.merge(&[("B", "2")]);
        env.write().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "A=1\n\n# AWS S3 Configuration\nB=2\n");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }
}
