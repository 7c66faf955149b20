//! Reading, linting, merging and atomically writing `.env` files, byte for byte where untouched.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

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

impl EnvFile {
    /// Reads `path`; a missing file reads as empty (and [`EnvFile::exists`] says so).
    pub fn read(path: &Path) -> Result<Self> {
        let (text, existed) = match fs::read(path) {
            Ok(bytes) => {
                let text =
                    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", path.display()))?;
                (text, true)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
            Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(EnvFile { path: path.to_path_buf(), lines: split_lines(&text), existed })
    }

    pub fn exists(&self) -> bool {
        self.existed
    }

    /// The file's text as it would be written.
    pub fn contents(&self) -> String {
        self.lines.iter().map(|line| format!("{}{}", line.text, line.ending)).collect()
    }

    /// The values, parsed the way dotenv libraries parse them; a later definition wins.
    /// When the whole file does not parse, each line is parsed alone so that one bad line
    /// does not hide the others; the lines that fail are returned as lint errors.
    pub fn values(&self) -> (BTreeMap<String, EnvValue>, Vec<LintIssue>) {
        let mut values = BTreeMap::new();
        let insert = |key: String, value: String, values: &mut BTreeMap<String, EnvValue>| {
            let line = self.definition_lines(&key).last().map_or(0, |index| index + 1);
            values.insert(key, EnvValue { value, line });
        };
        let whole: Result<Vec<(String, String)>, _> = dotenvy::from_read_iter(self.contents().as_bytes()).collect();
        if let Ok(pairs) = whole {
            for (key, value) in pairs {
                insert(key, value, &mut values);
            }
            return (values, Vec::new());
        }
        let mut issues = Vec::new();
        for (index, line) in self.lines.iter().enumerate() {
            for item in dotenvy::from_read_iter(line.text.as_bytes()) {
                match item {
                    Ok((key, value)) => insert(key, value, &mut values),
                    Err(_) => issues.push(LintIssue {
                        line: index + 1,
                        key: assignment(&line.text).map(|a| a.key.trim().to_string()),
                        severity: Severity::Error,
                        message: "cannot be parsed (an unclosed quote or a stray character?)".into(),
                    }),
                }
            }
        }
        (values, issues)
    }

    /// Zero-based indexes of the lines that assign `key`.
    fn definition_lines(&self, key: &str) -> Vec<usize> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, line)| assignment(&line.text).is_some_and(|a| a.key.trim() == key))
            .map(|(index, _)| index)
            .collect()
    }

    /// Finds the mistakes behind the guide's NoCredentials and SignatureDoesNotMatch errors.
    pub fn lint(&self) -> Vec<LintIssue> {
        let mut issues = Vec::new();
        let severity_for = |key: &str| {
            if Key::from_name(key).is_some() { Severity::Error } else { Severity::Warning }
        };
        if let Some(index) = self.lines.iter().position(|line| line.ending == "\r\n") {
            issues.push(LintIssue {
                line: index + 1,
                key: None,
                severity: Severity::Warning,
                message:
                    "Windows (CRLF) line endings: some tools keep the \\r in the value; save the file with LF endings"
                        .into(),
            });
        }
        let mut seen: BTreeMap<String, (usize, String)> = BTreeMap::new();
        for (index, line) in self.lines.iter().enumerate() {
            let number = index + 1;
            let trimmed = line.text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let Some(assignment) = assignment(&line.text) else {
                issues.push(LintIssue {
                    line: number,
                    key: None,
                    severity: Severity::Warning,
                    message: "not a KEY=VALUE line".into(),
                });
                continue;
            };
            let key = assignment.key.trim().to_string();
            let severity = severity_for(&key);
            let mut push =
                |message: String| issues.push(LintIssue { line: number, key: Some(key.clone()), severity, message });
            if key.contains(char::is_whitespace) {
                push(format!("the key `{key}` contains white space"));
            }
            if assignment.key.ends_with(char::is_whitespace) || assignment.value.starts_with(char::is_whitespace) {
                push(format!("spaces around '=': write `{key}=value` with nothing between key, '=' and value"));
            }
            if let Some(problem) = quote_problem(assignment.value.trim()) {
                push(problem);
            }
            if let Some((first, previous)) = seen.get(&key) {
                let same = previous == assignment.value.trim();
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
            } else {
                seen.insert(key.clone(), (number, assignment.value.trim().to_string()));
            }
        }
        let (values, parse_issues) = self.values();
        issues.extend(length_issues(&values));
        for issue in parse_issues {
            if !issues.iter().any(|known| known.line == issue.line && known.severity == Severity::Error) {
                issues.push(issue);
            }
        }
        issues.sort_by_key(|issue| issue.line);
        issues
    }

    /// Sets each key: lines that define it are rewritten in place (keeping an `export `
    /// prefix and the line ending), missing keys are appended under [`SECTION_HEADER`].
    /// Every other line stays exactly as it was.
    pub fn merge(&mut self, updates: &[(&str, &str)]) -> MergeOutcome {
        let mut outcome = MergeOutcome::default();
        let mut missing = Vec::new();
        for (key, value) in updates {
            let indexes = self.definition_lines(key);
            if indexes.is_empty() {
                missing.push((*key, *value));
                continue;
            }
            let mut changed = false;
            for index in indexes {
                let export = if self.lines[index].text.trim_start().starts_with("export ") { "export " } else { "" };
                let text = format!("{export}{key}={value}");
                if self.lines[index].text != text {
                    self.lines[index].text = text;
                    changed = true;
                }
            }
            if changed {
                outcome.updated.push(key.to_string());
            }
        }
        if missing.is_empty() {
            return outcome;
        }
        let ending = self.dominant_ending();
        if let Some(last) = self.lines.last_mut() {
            if last.ending.is_empty() {
                last.ending = ending.clone();
            }
        }
        let has_header = self.lines.iter().any(|line| line.text.trim() == SECTION_HEADER);
        if !has_header {
            if self.lines.last().is_some_and(|line| !line.text.trim().is_empty()) {
                self.lines.push(RawLine { text: String::new(), ending: ending.clone() });
            }
            self.lines.push(RawLine { text: SECTION_HEADER.into(), ending: ending.clone() });
        }
        for (key, value) in missing {
            self.lines.push(RawLine { text: format!("{key}={value}"), ending: ending.clone() });
            outcome.added.push(key.to_string());
        }
        outcome
    }

    /// Removes every line that assigns one of `keys`; returns the keys that were there.
    pub fn remove(&mut self, keys: &[&str]) -> Vec<String> {
        let mut removed = Vec::new();
        self.lines.retain(|line| match assignment(&line.text) {
            Some(a) if keys.contains(&a.key.trim()) => {
                removed.push(a.key.trim().to_string());
                false
            }
            _ => true,
        });
        removed.dedup();
        removed
    }

    fn dominant_ending(&self) -> String {
        let crlf = self.lines.iter().filter(|line| line.ending == "\r\n").count();
        let lf = self.lines.iter().filter(|line| line.ending == "\n").count();
        if crlf > lf { "\r\n".into() } else { "\n".into() }
    }

    /// Writes the file atomically (temp file in the same folder, fsync, rename) with mode 0600.
    pub fn write(&self) -> Result<()> {
        write_atomic(&self.path, self.contents().as_bytes(), 0o600)
    }
}

/// Writes `bytes` to `path` through a temp file in the same folder, fsyncs it, sets `mode`
/// and renames it over `path`, so a reader sees the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".t3s3-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).with_context(|| format!("cannot replace {}", path.display()))?;
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

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

fn quote_problem(value: &str) -> Option<String> {
    if value.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}']) {
        return Some("typographic quotes (“ ” ‘ ’) end up in the value: use plain ' or \" or none".into());
    }
    let first = value.chars().next()?;
    let last = value.chars().last()?;
    let is_quote = |c: char| c == '"' || c == '\'';
    if is_quote(first) && (value.len() < 2 || last != first) {
        return Some(format!("the value opens a {first} quote that does not close at the end of the line"));
    }
    if !is_quote(first) && is_quote(last) {
        return Some(format!(
            "the value ends with a {last} quote it does not open with, so the quote ends up in the value"
        ));
    }
    None
}

fn split_lines(text: &str) -> Vec<RawLine> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(end) => {
                let (line, ending) =
                    if rest[..end].ends_with('\r') { (&rest[..end - 1], "\r\n") } else { (&rest[..end], "\n") };
                lines.push(RawLine { text: line.into(), ending: ending.into() });
                rest = &rest[end + 1..];
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
        assert_eq!(spaces[0].severity, Severity::Error);

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
    fn merge_into_an_empty_file_writes_the_guides_section() {
        let mut env = file("");
        env.merge(&[("AWS_REGION", "us-east-1")]);
        assert_eq!(env.contents(), "# AWS S3 Configuration\nAWS_REGION=us-east-1\n");
    }

    #[test]
    fn remove_keeps_every_other_line() {
        let mut env = file("A=1\nAWS_REGION=x\n# c\n");
        assert_eq!(env.remove(&["AWS_REGION"]), vec!["AWS_REGION"]);
        assert_eq!(env.contents(), "A=1\n# c\n");
    }

    #[test]
    fn atomic_write_sets_mode_0600() {
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
