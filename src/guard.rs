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
    /// Findings on lines marked `t3s3:allow`: not blocking, never silent.
    pub allowed: Vec<Finding>,
    /// Findings whose fingerprint the committed ignore file ([`IGNORE_FILE`]) lists.
    pub ignored: Vec<Finding>,
    /// Files read as binary, in which guard looks for nothing.
    pub binary: Vec<String>,
}

/// The committed file of finding fingerprints guard lets through, one a line (`#` comments),
/// at the repository's top (as gitleaks' `.gitleaksignore`).
pub const IGNORE_FILE: &str = ".t3s3ignore";

impl Finding {
    /// `path:rule:line`, what [`IGNORE_FILE`] lists to let a finding through.
    pub fn fingerprint(&self) -> String {
        format!("{}:{}:{}", self.path, self.rule, self.line)
    }
}

impl GuardReport {
    /// Sorts what was found into blocking findings, allowed ones (`t3s3:allow`) and ignored
    /// ones (their fingerprint in `ignore`, the ignore file's text). An unreadable file is
    /// never let through.
    pub fn new(files: usize, found: Vec<Finding>, binary: Vec<String>, ignore: &str) -> GuardReport {
        let listed: Vec<&str> =
            ignore.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
        let (mut allowed, mut ignored, mut findings) = (Vec::new(), Vec::new(), Vec::new());
        for finding in found {
            if finding.rule == "unreadable" {
                findings.push(finding);
            } else if finding.allowed {
                allowed.push(finding);
            } else if listed.contains(&finding.fingerprint().as_str()) {
                ignored.push(finding);
            } else {
                findings.push(finding);
            }
        }
        GuardReport { ok: findings.is_empty(), files, findings, allowed, ignored, binary }
    }
}

impl Render for GuardReport {
    fn text(&self, out: &mut String) {
        for finding in &self.allowed {
            let place = format!("{}:{}", crate::ui::one_line(&finding.path), finding.line);
            outln!(out, "{place}: {} {} (the line says t3s3:allow)", style::warn("allowed:"), finding.what);
        }
        for finding in &self.ignored {
            let place = crate::ui::one_line(&finding.fingerprint());
            outln!(out, "{place}: {} {} (listed in {IGNORE_FILE})", style::warn("ignored:"), finding.what);
        }
        if !self.binary.is_empty() {
            let names: Vec<String> = self.binary.iter().map(|p| crate::ui::one_line(p)).collect();
            outln!(out, "{} {} (binary: not scanned)", style::note("skipped:"), names.join(", "));
        }
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
    /// What kind of finding: `env-file`, `aws-access-key-id`, `aws-secret-access-key`,
    /// `aws-session-token`, `unreadable`.
    pub rule: &'static str,
    /// The line says `t3s3:allow`: reported, not blocking.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allowed: bool,
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
        allowed: false,
        rule: "unreadable",
        what: format!("could not be read ({why}), so it cannot be shown free of secrets"),
        fix: "check it by hand, then commit with the file readable (or unstage it)".into(),
    }
}

/// Everything wrong with one file: its name, then each line.
pub fn scan(path: &str, bytes: &[u8]) -> Vec<Finding> {
    scan_file(path, bytes).0
}

/// [`scan`], and whether the bytes read as binary (guard names those files as skipped): one
/// decoding of the file for both.
pub fn scan_file(path: &str, bytes: &[u8]) -> (Vec<Finding>, bool) {
    let mut found = Vec::new();
    if is_env_file(path) {
        found.push(Finding {
            path: path.to_string(),
            line: 0,
            allowed: false,
            rule: "env-file",
            what: "an env file: it holds the backend's secret".into(),
            fix: format!("unstage it (`git restore --staged {path}`) and keep `.env`, `*.env` and `.env.*` in .gitignore (`t3s3 init` adds them)"),
        });
    }
    // Binary files hold no key a developer typed (the caller says which it skipped); UTF-16
    // text (PowerShell's `>`) is text.
    let Some(text) = decode(bytes) else { return (found, true) };
    for (index, line) in text.lines().enumerate() {
        let at = |rule: &'static str, what: String, fix: &str| Finding {
            path: path.to_string(),
            line: index + 1,
            what,
            fix: fix.to_string(),
            rule,
            allowed: allowed(line),
        };
        let rotate = "take it out; if it was ever pushed, rotate the key (`t3s3 rotate-key`)";
        for key_id in access_key_ids(line) {
            found.push(at("aws-access-key-id", format!("an AWS access key id ({})", masked(key_id)), rotate));
        }
        for (name, secret) in assigned_secrets(line) {
            found.push(at(
                "aws-secret-access-key",
                format!("a 40-character secret assigned to `{name}` ({})", masked(secret)),
                "keep secrets in the git-ignored .env; if it was ever pushed, rotate the key (`t3s3 rotate-key`)",
            ));
        }
        for token in session_tokens(line) {
            found.push(at("aws-session-token", format!("an AWS session token ({})", masked(token)), rotate));
        }
    }
    (found, false)
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

/// Words a stand-in says of itself (upper case).
const STAND_IN_WORDS: [&str; 6] = ["EXAMPLE", "SAMPLE", "TEST", "FAKE", "DUMMY", "PLACEHOLDER"];

/// Stand-ins, not secrets: AWS's documentation examples (`AKIAIOSFODNN7EXAMPLE`,
/// `…EXAMPLEKEY`), values that say what they are (SAMPLE, TEST, FAKE, DUMMY), and runs of one
/// character (`xxxx…`, `0000…`).
fn is_documentation_example(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    let says = STAND_IN_WORDS.iter().any(|w| upper.contains(w));
    let mut chars: Vec<char> = value.chars().filter(char::is_ascii_alphanumeric).collect();
    chars.sort_unstable();
    chars.dedup();
    says || chars.len() <= 3
}

/// Bits per character: random base64 (a secret key) has about 5, words and identifiers less.
fn entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = value.chars().count() as f64;
    counts.values().map(|&k| k as f64 / n).map(|p| -p * p.log2()).sum()
}

/// Whether `value` has the shape of a secret access key: 40 characters of its alphabet,
/// upper and lower case and a digit (or `/`, `+`), random enough; not a stand-in.
fn is_secret_shaped(value: &str) -> bool {
    let has = |f: fn(&char) -> bool| value.chars().any(|c| f(&c));
    value.len() == 40
        && has(char::is_ascii_lowercase)
        && has(char::is_ascii_uppercase)
        && (has(char::is_ascii_digit) || value.contains(['/', '+']))
        && entropy(value) >= 4.2
        && !is_documentation_example(value)
}

/// Whether the words before a value name an AWS secret: `aws_secret_access_key`,
/// `secretAccessKey`, `aws-secret-access-key`, `AWS_SECRET`, `aws_key`, `secret_key`, and
/// the generic `secret`, `password`, `token`, `credential`, `private_key`, `api_key`.
fn names_a_secret(before: &str) -> Option<String> {
    let words: Vec<&str> = before
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    // The nearest few words: a name, maybe a type (`str`), a keyword (`ENV`, `set`).
    for word in words.iter().rev().take(4) {
        let squashed: String =
            word.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
        let named =
            ["secret", "password", "passwd", "token", "credential", "privatekey", "apikey", "awskey", "accesskey"]
                .iter()
                .any(|w| squashed.contains(w));
        if named {
            return Some(word.to_string());
        }
    }
    None
}

/// An access key id: `AKIA`, `ASIA`, `ABIA`, `ACCA` or `A3T` and a letter or digit, then 16
/// upper-case letters or digits, not inside a longer word.
fn access_key_ids(line: &str) -> Vec<&str> {
    let bytes = line.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric();
    let mut found = Vec::new();
    let mut start = 0;
    while start + 20 <= bytes.len() {
        let candidate = &bytes[start..start + 20];
        let prefixed = [b"AKIA", b"ASIA", b"ABIA", b"ACCA"].iter().any(|p| candidate.starts_with(*p))
            || (candidate.starts_with(b"A3T") && (candidate[3].is_ascii_uppercase() || candidate[3].is_ascii_digit()));
        let shaped = candidate[4..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let bounded = (start == 0 || !word(bytes[start - 1])) && bytes.get(start + 20).is_none_or(|b| !word(*b));
        if prefixed && shaped && bounded {
            let id = &line[start..start + 20];
            // Stand-ins: AWS's example (`…EXAMPLE`), an id that says what it is (`…FAKE…`,
            // `…TEST…`; a real id's 16 random characters spell a word by chance about once
            // in 20,000 keys) and a run of one character (`AKIAXXXXXXXXXXXXXXXX`).
            let run = id[4..].chars().all(|c| id[4..].starts_with(c));
            let says = STAND_IN_WORDS.iter().any(|word| id[4..].contains(word));
            if !says && !run {
                found.push(id);
            }
            start += 20;
        } else {
            start += 1;
        }
    }
    found
}

/// Every 40-character value with a secret access key's shape on a line whose nearest words
/// before it name a secret, whatever stands between: `=`, `:`, a type annotation
/// (`aws_secret_access_key: str = "…"`), a quoted name and a comma (`os.getenv("AWS_SECRET_ACCESS_KEY", "…")`),
/// a subscript (`os.environ["…"] = "…"`), a space (`ENV AWS_SECRET_ACCESS_KEY …`,
/// `aws configure set aws_secret_access_key …`), JSON-escaped quotes (a notebook's `\"…\"`) or
/// a markdown table's `|`. As (the name, the value).
fn assigned_secrets(line: &str) -> Vec<(String, &str)> {
    let is_secret = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '+');
    let mut found = Vec::new();
    let mut rest = line.char_indices().peekable();
    while let Some((start, c)) = rest.next() {
        if !is_secret(c) || line[..start].chars().next_back().is_some_and(is_secret) {
            continue;
        }
        let end = line[start..].find(|c: char| !is_secret(c)).map_or(line.len(), |n| start + n);
        let value = &line[start..end];
        // Base64 padding may follow; anything else of the alphabet makes it a longer token.
        let after = line[end..].trim_start_matches('=');
        let bounded = after.chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
        if bounded && is_secret_shaped(value) {
            if let Some(name) = names_a_secret(&line[..start]) {
                found.push((name, value));
            }
        }
        while rest.peek().is_some_and(|(at, _)| *at < end) {
            rest.next();
        }
    }
    found
}

/// The starts STS gives session tokens (base64 of their first bytes; `ZXIvYXdz` is `er/aws`):
/// today's `IQoJb3JpZ2luX2Vj`, the older `FwoGZXIvYXdzE`, `FQoGZXIvYXdzE` and `AQoDYXdzE`.
const TOKEN_PREFIXES: [&str; 4] = ["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE", "FQoGZXIvYXdzE", "AQoDYXdzE"];

/// A session token: by its name (`aws_session_token`, `sessionToken`) before a long base64
/// value, or by the prefixes STS gives them ([`TOKEN_PREFIXES`]), even when the token is cut
/// across lines (a string concatenated in code, an XML element wrapped).
fn session_tokens(line: &str) -> Vec<&str> {
    let is_token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '+');
    let mut found = Vec::new();
    for (start, _) in line.match_indices(|c: char| is_token(c)) {
        if line[..start].chars().next_back().is_some_and(is_token) {
            continue;
        }
        // Base64: the alphabet, then any `=` padding (so `TOKEN=value` is a name and a value).
        let end = line[start..].find(|c: char| !is_token(c)).map_or(line.len(), |n| start + n);
        let end = end + line[end..].len() - line[end..].trim_start_matches('=').len();
        let value = &line[start..end];
        if value.len() < 24 || is_documentation_example(value) {
            continue;
        }
        let prefixed = TOKEN_PREFIXES.iter().any(|p| value.starts_with(p));
        let named = value.len() >= 100
            && names_a_secret(&line[..start]).is_some_and(|n| {
                let squashed: String =
                    n.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
                squashed.contains("sessiontoken") || squashed.contains("securitytoken")
            });
        if prefixed || (named && entropy(value) >= 4.5) {
            found.push(value);
        }
    }
    found
}

/// Whether a line carries the inline escape hatch (`t3s3:allow` in a comment).
pub fn allowed(line: &str) -> bool {
    line.contains("t3s3:allow")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIA2OGYBAH6TQ4XLGMK";
    const SECRET: &str = "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";

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
    fn a_secret_without_its_key_id_is_found_wherever_a_name_says_what_it_is() {
        for line in [
            format!("    aws_secret_access_key: str = \"{SECRET}\""),
            format!("secret = os.getenv(\"AWS_SECRET_ACCESS_KEY\", \"{SECRET}\")"),
            format!("os.environ.setdefault('AWS_SECRET_ACCESS_KEY', '{SECRET}')"),
            format!("props.set(\"aws-secret-access-key\", \"{SECRET}\");"),
            format!("os.environ[\"AWS_SECRET_ACCESS_KEY\"] = \"{SECRET}\""),
            format!("ENV AWS_SECRET_ACCESS_KEY {SECRET}"),
            format!("aws configure set aws_secret_access_key {SECRET}"),
            format!("    \"aws_secret_access_key = \\\"{SECRET}\\\"\\n\","),
            format!("| AWS_SECRET_ACCESS_KEY | {SECRET} |"),
            format!("const secretAccessKey = '{SECRET}';"),
            format!("aws_key = \"{SECRET}\""),
            format!("AWS_SECRET_ACCESS_KEY={SECRET}=="),
        ] {
            let found = scan("app.py", line.as_bytes());
            assert_eq!(found.len(), 1, "{line}: {found:?}");
            assert!(!found[0].what.contains(SECRET));
        }
    }

    #[test]
    fn a_key_id_that_says_it_is_a_stand_in_is_passed() {
        for id in ["AKIAHI38FAKE1IWUQEEN", "AKIAGIREOGIAEXAMPLE7", "ASIATESTQ2OGYBAH6TQ4", "AKIAZZZZZZZZZZZZZZZZ"] {
            assert!(scan("a.txt", format!("id: {id}").as_bytes()).is_empty(), "{id}");
        }
        // A misspelt example is a key id like any other.
        assert_eq!(scan("a.txt", b"id: AKIAIOSFODNN7EAXMPLE").len(), 1);
    }

    #[test]
    fn every_key_id_prefix_and_session_tokens_are_found() {
        for id in [
            "AKIA2OGYBAH6TQ4XLGMK",
            "ASIA2OGYBAH6TQ4XLGMK",
            "ABIA2OGYBAH6TQ4XLGMK",
            "ACCA2OGYBAH6TQ4XLGMK",
            "A3TX2OGYBAH6TQ4XLGMK",
        ] {
            assert_eq!(scan("a.txt", format!("id: {id}").as_bytes()).len(), 1, "{id}");
        }
        let token = format!(
            "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD{}",
            "k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0".repeat(3)
        );
        let found = scan("a.py", format!("session = \"{token}\"").as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].what.contains("session token") && !found[0].what.contains(&token));
        // Named with `=` and no space (the shell's `export NAME=value`), in an older form.
        let older = format!("FQoGZXIvYXdzENv//////////wEaDE{}=", "k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0".repeat(3));
        assert_eq!(scan(".envrc", format!("export AWS_SESSION_TOKEN={older}").as_bytes()).len(), 1);
        let unknown = format!("Zm9vYmFy{}=", "k1hQ7rZ2p9Xv0Lw3Tn8Ys4Bd6Fg5Jm2Qe7Ru9Wa0".repeat(3));
        assert_eq!(scan(".envrc", format!("export AWS_SESSION_TOKEN={unknown}").as_bytes()).len(), 1, "by its name");
        // Cut across a concatenation: the first piece carries STS's prefix.
        let cut = "AWS_SESSION_TOKEN = \"IQoJb3JpZ2luX2VjEKL//////////wE\" +\n    \"aDGV1LWNlbnRyYWwtMSJHMEUCIQ\"\n";
        assert_eq!(scan("creds.py", cut.as_bytes()).len(), 1);
    }

    #[test]
    fn placeholders_and_identifiers_are_not_secrets_and_allowed_lines_are_reported() {
        for clean in [
            "aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYSAMPLEKEY1\"",
            "AWS_SECRET_ACCESS_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "AWS_SECRET_ACCESS_KEY=your-secret-access-key-goes-here-in-env",
            "AWS_SECRET_ACCESS_KEY=<your-secret-access-key>",
            "public class SecretManagerServiceClientBuilderFactory : Base",
            "aws_secret_access_key = \"TestSecretKeyForUnitTestsOnlyAbCdEfGhIj\"",
            "secret: ThisIsNotARealSecretButAnIdentifierName",
        ] {
            assert_eq!(scan("a.cs", clean.as_bytes()), Vec::new(), "{clean}");
        }
        let line = format!("AWS_SECRET_ACCESS_KEY = '{SECRET}'  # t3s3:allow fixture for the parser test");
        let found = scan("tests/parse.py", line.as_bytes());
        assert_eq!(found.len(), 1);
        assert!(found[0].allowed);
        let report = GuardReport::new(1, found, vec!["logo.png".into()], "");
        assert!(report.ok && report.findings.is_empty() && report.allowed.len() == 1);
        let mut text = String::new();
        report.text(&mut text);
        assert!(text.contains("allowed:") && text.contains("t3s3:allow") && text.contains("logo.png"), "{text}");
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
