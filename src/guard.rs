//! `t3s3 guard`'s scanner: what must never be committed. A `.env` file, an AWS access key id
//! (`AKIA`/`ASIA` and 16 more), or a 40-character secret assigned to a key-like name. Pure:
//! it reads bytes handed to it and never prints a secret whole.

use serde::Serialize;

use crate::outln;
use crate::ui::{Render, style};

/// What `guard` looked at and found; `ok` when nothing.
#[derive(Debug, Clone, Serialize)]
pub struct GuardReport {
    pub ok: bool,
    /// How many files were read.
    pub files: usize,
    pub findings: Vec<Finding>,
}

impl Render for GuardReport {
    fn text(&self, out: &mut String) {
        for finding in &self.findings {
            let place =
                if finding.line == 0 { finding.path.clone() } else { format!("{}:{}", finding.path, finding.line) };
            outln!(out, "{place}: {} {}", style::fail("blocked:"), finding.what);
            outln!(out, "  {} {}", style::note("fix:"), finding.fix);
        }
        match self.findings.len() {
            0 => outln!(out, "{}", style::ok(&format!("✓ no .env file or AWS secret in {} file(s)", self.files))),
            n => outln!(out, "{}", style::fail(&format!("✗ {n} finding(s): keep them out of the commit"))),
        }
    }
}

/// One thing found, by file and line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub path: String,
    /// 0 for a finding about the file itself.
    pub line: usize,
    pub what: String,
    pub fix: String,
}

/// Whether a file name is one git should ignore as an env file (`.env`, `*.env`).
pub fn is_env_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == ".env" || name.ends_with(".env")
}

/// Everything wrong with one file: its name, then each line.
pub fn scan(path: &str, bytes: &[u8]) -> Vec<Finding> {
    let mut found = Vec::new();
    if is_env_file(path) {
        found.push(Finding {
            path: path.to_string(),
            line: 0,
            what: "an env file: it holds the backend's secret".into(),
            fix: format!("unstage it (`git restore --staged {path}`) and keep `.env` and `*.env` in .gitignore (`t3s3 init` adds them)"),
        });
    }
    // Binary files hold no key a developer typed.
    if bytes.contains(&0) {
        return found;
    }
    let text = String::from_utf8_lossy(bytes);
    for (index, line) in text.lines().enumerate() {
        for key_id in access_key_ids(line) {
            found.push(Finding {
                path: path.to_string(),
                line: index + 1,
                what: format!("an AWS access key id ({})", masked(key_id)),
                fix: "take it out; if it was ever pushed, rotate the key (`t3s3 rotate-key`)".into(),
            });
        }
        if let Some((name, secret)) = assigned_secret(line) {
            found.push(Finding {
                path: path.to_string(),
                line: index + 1,
                what: format!("a 40-character secret assigned to `{name}` ({})", masked(secret)),
                fix: "keep secrets in the git-ignored .env; if it was ever pushed, rotate the key (`t3s3 rotate-key`)"
                    .into(),
            });
        }
    }
    found
}

/// The first four characters, the rest hidden.
fn masked(secret: &str) -> String {
    format!("{}…", secret.chars().take(4).collect::<String>())
}

/// AWS's own documentation examples (`AKIAIOSFODNN7EXAMPLE`, `…EXAMPLEKEY`) are not secrets.
fn is_documentation_example(value: &str) -> bool {
    value.contains("EXAMPLE")
}

/// `AKIA` or `ASIA` and 16 upper-case letters or digits, not inside a longer word.
fn access_key_ids(line: &str) -> Vec<&str> {
    let bytes = line.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric();
    let mut found = Vec::new();
    let mut start = 0;
    while start + 20 <= bytes.len() {
        let candidate = &bytes[start..start + 20];
        let prefixed = candidate.starts_with(b"AKIA") || candidate.starts_with(b"ASIA");
        let shaped = candidate[4..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let bounded = (start == 0 || !word(bytes[start - 1])) && bytes.get(start + 20).is_none_or(|b| !word(*b));
        if prefixed && shaped && bounded {
            let id = &line[start..start + 20];
            if !is_documentation_example(id) {
                found.push(id);
            }
            start += 20;
        } else {
            start += 1;
        }
    }
    found
}

/// `NAME = value` (or `NAME: value`, quoted or not, `export` allowed) where NAME looks like
/// it holds a secret and the value is exactly 40 characters of a secret access key's alphabet.
fn assigned_secret(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start().strip_prefix("export ").unwrap_or(line.trim_start());
    let split = line.find(['=', ':'])?;
    let name = line[..split].trim().trim_matches(['"', '\'']);
    let lower = name.to_ascii_lowercase();
    let key_like =
        ["secret", "password", "token", "credential", "private_key", "api_key"].iter().any(|w| lower.contains(w));
    if !key_like || name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let value = line[split + 1..].trim().trim_end_matches([',', ';']).trim_matches(['"', '\'']);
    let shaped = value.len() == 40 && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '+' | '='));
    let mixed = value.chars().any(|c| c.is_ascii_lowercase()) && value.chars().any(|c| c.is_ascii_uppercase());
    (shaped && mixed && !is_documentation_example(value)).then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIA2OGYBAH6TQ4XLGMK";
    const SECRET: &str = "k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0";

    #[test]
    fn finds_env_files_key_ids_and_assigned_secrets_without_printing_them() {
        assert!(is_env_file(".env") && is_env_file("backend/.env") && is_env_file("prod.env"));
        assert!(!is_env_file(".env.example") && !is_env_file("envelope.txt"));
        let text = format!("x = 1\naws_key = \"{ID}\"\nAWS_SECRET_ACCESS_KEY={SECRET}\n");
        let found = scan("settings.py", text.as_bytes());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].line, found[1].line), (2, 3));
        assert!(found[0].what.contains("AKIA…") && found[1].what.contains("AWS_SECRET_ACCESS_KEY"), "{found:?}");
        for finding in &found {
            assert!(!finding.what.contains(ID) && !finding.what.contains(SECRET), "{finding:?}");
        }
        let env = scan("backend/.env", b"DEBUG=1\n");
        assert_eq!((env.len(), env[0].line), (1, 0));
    }

    #[test]
    fn passes_examples_longer_words_and_values_that_are_not_secrets() {
        for clean in [
            "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "XAKIA2OGYBAH6TQ4XLGMK",
            "AKIA2OGYBAH6TQ4XLGMKQ",
            "commit = 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
            "secret_name = aws-secret-access-key-of-the-backend-01",
            "token_count: 1234567890123456789012345678901234567890",
        ] {
            assert_eq!(scan("a.txt", clean.as_bytes()), Vec::new(), "{clean}");
        }
        assert_eq!(scan("a.bin", &[0, 65, 75, 73, 65]), Vec::new());
    }
}
