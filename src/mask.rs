//! Every secret t3s3 knows, and the one function that hides them in text.
//!
//! The place that learns a secret registers it ([`know`]): the .env reader for
//! `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, the start of the run for the same variables
//! in the environment, and the IAM call that creates a key. The printer masks them in every
//! line it writes, text and JSON alike ([`hide`]), in the shapes a secret takes on its way
//! through other programs: as it is, percent-encoded (either case), JSON-escaped (`\/`), in
//! base64, and any fragment of [`FRAGMENT`] characters or more of those (pydantic shows the end
//! of a long value, a log cuts a line). Access key ids are not secrets and stay visible.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

/// The shortest run of a secret's characters that is masked. Secrets are random: 12
/// characters of one (72 bits and more) do not turn up in other text by chance.
pub const FRAGMENT: usize = 12;

/// What a masked run reads as.
pub const MASK: &str = "****";

/// Values shorter than this are not treated as secrets (an empty or placeholder value).
const SHORTEST_SECRET: usize = 16;

#[derive(Default)]
struct Known {
    secrets: Vec<String>,
    /// Every FRAGMENT-long window of every shape of every secret.
    windows: HashSet<Vec<char>>,
}

static KNOWN: Mutex<Option<Known>> = Mutex::new(None);

fn known() -> MutexGuard<'static, Option<Known>> {
    KNOWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remembers `secret` for the rest of the run; short values are ignored.
pub fn know(secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() < SHORTEST_SECRET {
        return;
    }
    let mut guard = known();
    let known = guard.get_or_insert_with(Known::default);
    if known.secrets.iter().any(|s| s == secret) {
        return;
    }
    known.secrets.push(secret.to_string());
    for shape in shapes(secret) {
        let chars: Vec<char> = shape.chars().collect();
        for window in chars.windows(FRAGMENT) {
            known.windows.insert(window.to_vec());
        }
    }
}

/// The environment's AWS secrets (a profile's or CI's), known from the start of the run.
pub fn know_environment() {
    for name in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        if let Ok(value) = std::env::var(name) {
            know(&value);
        }
    }
}

/// The shapes a secret is printed in by other programs.
fn shapes(secret: &str) -> Vec<String> {
    let encoded = |upper: bool| {
        let mut out = String::new();
        for byte in secret.bytes() {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                out.push(byte as char);
            } else if upper {
                out.push_str(&format!("%{byte:02X}"));
            } else {
                out.push_str(&format!("%{byte:02x}"));
            }
        }
        out
    };
    let json: String = serde_json::to_string(secret).unwrap_or_default().trim_matches('"').replace('/', "\\/");
    vec![secret.to_string(), encoded(true), encoded(false), json, base64(secret.as_bytes())]
}

/// Standard base64 with padding (how a secret reads inside a Basic header or a data URL).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `text` with every known secret, in any of its shapes, and every fragment of one masked as
/// [`MASK`] (a run of such characters becomes one mask).
pub fn hide(text: &str) -> String {
    let guard = known();
    let Some(known) = guard.as_ref() else { return text.to_string() };
    hide_with(text, &known.windows)
}

fn hide_with(text: &str, windows: &HashSet<Vec<char>>) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < FRAGMENT {
        return text.to_string();
    }
    let mut masked = vec![false; chars.len()];
    for start in 0..=chars.len() - FRAGMENT {
        if windows.contains(&chars[start..start + FRAGMENT]) {
            masked[start..start + FRAGMENT].iter_mut().for_each(|m| *m = true);
        }
    }
    if !masked.contains(&true) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < chars.len() {
        if masked[index] {
            out.push_str(MASK);
            while index < chars.len() && masked[index] {
                index += 1;
            }
        } else {
            out.push(chars[index]);
            index += 1;
        }
    }
    out
}

/// Masks every string inside a JSON value (the value stays valid JSON).
pub fn hide_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            let hidden = hide(text);
            if hidden != *text {
                *text = hidden;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(hide_json),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(hide_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Kx7/pQ2+vR9sT4uW1yZ3aB5cD8eF0gH6iJ2kL4mN";

    fn windows(secret: &str) -> HashSet<Vec<char>> {
        let mut set = HashSet::new();
        for shape in shapes(secret) {
            let chars: Vec<char> = shape.chars().collect();
            chars.windows(FRAGMENT).for_each(|w| {
                set.insert(w.to_vec());
            });
        }
        set
    }

    #[test]
    fn every_shape_and_long_fragment_is_masked() {
        let w = windows(SECRET);
        let hide = |text: &str| hide_with(text, &w);
        assert_eq!(hide(&format!("secret={SECRET}!")), "secret=****!");
        assert_eq!(hide("url: Kx7%2FpQ2%2BvR9sT4uW1yZ3aB5cD8eF0gH6iJ2kL4mN&x=1"), "url: ****&x=1");
        assert_eq!(hide("url: Kx7%2fpQ2%2bvR9sT4uW1yZ3aB5cD8eF0gH6iJ2kL4mN"), "url: ****");
        assert_eq!(hide(r#"{"s": "Kx7\/pQ2+vR9sT4uW1yZ3aB5cD8eF0gH6iJ2kL4mN"}"#), r#"{"s": "****"}"#);
        assert_eq!(hide(&format!("b64 {}", base64(SECRET.as_bytes()))), "b64 ****");
        // pydantic's truncated input_value shows the last characters only.
        assert_eq!(hide("input_value='...sT4uW1yZ3aB5cD8eF0gH6iJ2kL4mN'"), "input_value='...****'");
        assert_eq!(hide("head Kx7/pQ2+vR9sT4 ..."), "head **** ...");
        // Shorter pieces, the access key id and other text stay.
        assert_eq!(hide("Kx7/pQ2+vR9 AKIAIOSFODNN7EXAMPLE"), "Kx7/pQ2+vR9 AKIAIOSFODNN7EXAMPLE");
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn json_stays_json_and_only_values_change() {
        know("Zz9/Yy8+Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn");
        let mut value = serde_json::json!({"error": "bad Zz9/Yy8+Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn", "n": 1});
        hide_json(&mut value);
        assert_eq!(value, serde_json::json!({"error": "bad ****", "n": 1}));
    }
}
