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
            outln!(out, "{}: {} {}", crate::ui::one_line(&place), style::fail("blocked:"), finding.what);
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

/// The largest named file guard reads; a larger one is reported as unreadable (blocked).
pub const FILE_CAP: u64 = 64 << 20;

/// Env files that hold no secret by convention and may be committed.
pub const ENV_TEMPLATES: [&str; 3] = [".env.example", ".env.sample", ".env.template"];

/// Whether a file is an env file that must not be committed: `.env`, `*.env`, and `.env.*`
/// (`.env.local`, `.env.production`, `backend/.env.prod`) except [`ENV_TEMPLATES`].
pub fn is_env_file(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    if ENV_TEMPLATES.contains(&name) {
        return false;
    }
    name == ".env" || name.ends_with(".env") || name.starts_with(".env.")
}

/// A finding for a file whose bytes could not be read: the guard cannot vouch for it, so
/// the commit is blocked.
pub fn unreadable(path: &str, why: &str) -> Finding {
    Finding {
        path: path.to_string(),
        line: 0,
        what: format!("could not be read ({why}), so it cannot be shown free of secrets"),
        fix: "check it by hand, then commit with the file readable (or unstage it)".into(),
    }
}

/// Everything wrong with one file: its name, then each line.
pub fn scan(path: &str, bytes: &[u8]) -> Vec<Finding> {
    let mut found = Vec::new();
    if is_env_file(path) {
        found.push(Finding {
            path: path.to_string(),
            line: 0,
            what: "an env file: it holds the backend's secret".into(),
            fix: format!("unstage it (`git restore --staged {path}`) and keep `.env`, `*.env` and `.env.*` in .gitignore (`t3s3 init` adds them)"),
        });
    }
    // Binary files hold no key a developer typed; UTF-16 text (PowerShell's `>`) is text.
    let Some(text) = decode(bytes) else { return found };
    for (index, line) in text.lines().enumerate() {
        for key_id in access_key_ids(line) {
            found.push(Finding {
                path: path.to_string(),
                line: index + 1,
                what: format!("an AWS access key id ({})", masked(key_id)),
                fix: "take it out; if it was ever pushed, rotate the key (`t3s3 rotate-key`)".into(),
            });
        }
        for (name, secret) in assigned_secrets(line) {
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

/// A file's text: UTF-8 (BOM or not), or UTF-16 with a byte-order mark or in the shape
/// ASCII text takes in UTF-16 (every other byte zero). `None` for binary files.
fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |bytes: &[u8], little: bool| {
        let units = bytes.chunks(2).map(|pair| {
            let (a, b) = (pair[0], *pair.get(1).unwrap_or(&0));
            if little { u16::from_le_bytes([a, b]) } else { u16::from_be_bytes([a, b]) }
        });
        char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect::<String>()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => return Some(utf16(rest, true)),
        [0xFE, 0xFF, rest @ ..] => return Some(utf16(rest, false)),
        _ => {}
    }
    if !bytes.contains(&0) {
        return Some(String::from_utf8_lossy(bytes).into_owned());
    }
    let zeros_at = |parity: usize| bytes.iter().skip(parity).step_by(2).all(|b| *b == 0);
    if bytes.len().is_multiple_of(2) && zeros_at(1) {
        return Some(utf16(bytes, true));
    }
    if bytes.len().is_multiple_of(2) && zeros_at(0) {
        return Some(utf16(bytes, false));
    }
    None
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

/// Every `NAME = value` / `NAME: value` on a line (quoted or not, anywhere: keyword
/// arguments, dict and JSON entries, `export`) where NAME looks like it holds a secret and
/// the value is exactly 40 characters of a secret access key's alphabet.
fn assigned_secrets(line: &str) -> Vec<(&str, &str)> {
    let bytes = line.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
    let is_secret = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=');
    let mut found = Vec::new();
    for (at, _) in line.match_indices(['=', ':']) {
        // Backwards: spaces, a closing quote, the name.
        let mut end = at;
        while end > 0 && bytes[end - 1] == b' ' {
            end -= 1;
        }
        if end > 0 && matches!(bytes[end - 1], b'"' | b'\'') {
            end -= 1;
        }
        let mut start = end;
        while start > 0 && is_name(bytes[start - 1]) {
            start -= 1;
        }
        let name = &line[start..end];
        let lower = name.to_ascii_lowercase();
        let key_like =
            ["secret", "password", "token", "credential", "private_key", "api_key"].iter().any(|w| lower.contains(w));
        if !key_like {
            continue;
        }
        // Forwards: `=` of `==`/`=>` is no assignment of a value, then spaces, an opening quote, the value.
        let mut from = at + 1;
        if bytes.get(from).is_some_and(|b| *b == b'>') {
            from += 1;
        }
        while bytes.get(from).is_some_and(|b| *b == b' ') {
            from += 1;
        }
        if bytes.get(from).is_some_and(|b| matches!(b, b'"' | b'\'')) {
            from += 1;
        }
        let mut to = from;
        while to < bytes.len() && is_secret(bytes[to]) {
            to += 1;
        }
        let value = line[from..to].trim_end_matches('=');
        let value = if value.len() == 40 { value } else { &line[from..to] };
        let shaped = value.len() == 40;
        let mixed = value.chars().any(|c| c.is_ascii_lowercase()) && value.chars().any(|c| c.is_ascii_uppercase());
        if shaped && mixed && !is_documentation_example(value) {
            found.push((name, value));
        }
    }
    found
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
        for env in [".env.local", ".env.production", "backend/.env.prod", "backend\\.env"] {
            assert!(is_env_file(env), "{env}");
        }
        for template in [".env.sample", "backend/.env.template", ".envrc.md"] {
            assert!(!is_env_file(template), "{template}");
        }
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

    #[test]
    fn secrets_are_found_in_keyword_arguments_json_and_utf16() {
        for line in [
            format!("s3 = boto3.client('s3', aws_access_key_id=x, aws_secret_access_key='{SECRET}')"),
            format!("{{\"aws_secret_access_key\": \"{SECRET}\"}}"),
            format!("config = {{'region': 'x', 'aws_secret_access_key' : '{SECRET}'}}"),
            format!("$env:AWS_SECRET_ACCESS_KEY = \"{SECRET}\""),
            format!("aws_secret_access_key => \"{SECRET}\""),
        ] {
            let found = scan("app.py", line.as_bytes());
            assert_eq!(found.len(), 1, "{line}: {found:?}");
            assert!(!found[0].what.contains(SECRET));
        }
        let text = format!("AWS_ACCESS_KEY_ID={ID}\r\nAWS_SECRET_ACCESS_KEY={SECRET}\r\n");
        let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(scan("creds.txt", &utf16).len(), 2, "UTF-16 with a BOM");
        let bare: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(scan("creds.txt", &bare).len(), 2, "UTF-16 without a BOM");
    }
}
