//! The settings the backend reads from its `.env`, by name: the guide's four and the endpoint.

use std::fmt;

use serde::Serialize;

/// One of the backend's S3 settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Key {
    #[serde(rename = "AWS_ACCESS_KEY_ID")]
    AccessKeyId,
    #[serde(rename = "AWS_SECRET_ACCESS_KEY")]
    SecretAccessKey,
    #[serde(rename = "AWS_REGION")]
    Region,
    #[serde(rename = "S3_BUCKET_NAME")]
    Bucket,
    #[serde(rename = "AWS_ENDPOINT_URL")]
    EndpointUrl,
    /// Read (by `verify`), never written: role credentials in CI carry one.
    #[serde(rename = "AWS_SESSION_TOKEN")]
    SessionToken,
    /// The T3 Chat backend's own name for the endpoint (its config.py reads it): read when
    /// AWS_ENDPOINT_URL is not set, written beside it when the backend declares it.
    #[serde(rename = "S3_ENDPOINT_URL")]
    S3EndpointUrl,
}

impl Key {
    /// The four the guide requires, in its order.
    pub const REQUIRED: [Key; 4] = [Key::AccessKeyId, Key::SecretAccessKey, Key::Region, Key::Bucket];
    /// Every key t3s3 writes: the required four, then the optional endpoint.
    pub const ALL: [Key; 5] = [Key::AccessKeyId, Key::SecretAccessKey, Key::Region, Key::Bucket, Key::EndpointUrl];

    /// The variable's name, as it appears in `.env` and the environment.
    pub const fn name(self) -> &'static str {
        match self {
            Key::AccessKeyId => "AWS_ACCESS_KEY_ID",
            Key::SecretAccessKey => "AWS_SECRET_ACCESS_KEY",
            Key::Region => "AWS_REGION",
            Key::Bucket => "S3_BUCKET_NAME",
            Key::EndpointUrl => "AWS_ENDPOINT_URL",
            Key::SessionToken => "AWS_SESSION_TOKEN",
            Key::S3EndpointUrl => "S3_ENDPOINT_URL",
        }
    }

    /// The key of a variable name, if it is one of t3s3's.
    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.name() == name)
    }

    /// The length AWS gives every value of this key, where it has one.
    pub const fn fixed_length(self) -> Option<usize> {
        match self {
            Key::AccessKeyId => Some(20),
            Key::SecretAccessKey => Some(40),
            _ => None,
        }
    }
}

/// Whether `value` is a template's stand-in rather than a value: `your_bucket_name`,
/// `your-access-key`, `<secret>`, `changeme`, `xxxx`, `...`. A README's `.env` block is full of
/// them; t3s3 treats them as unset (and never suggests one as a fix).
pub fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    let words =
        ["changeme", "change_me", "change-me", "replaceme", "replace_me", "replace-me", "placeholder", "todo", "tbd"];
    (value.len() >= 2 && value.starts_with('<') && value.ends_with('>'))
        || ["your_", "your-", "your."].iter().any(|prefix| lower.starts_with(prefix))
        || lower.starts_with("...")
        || words.contains(&lower.as_str())
        || (lower.len() >= 3 && lower.chars().all(|c| matches!(c, 'x' | '*' | '.')))
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for key in Key::ALL {
            assert_eq!(Key::from_name(key.name()), Some(key));
            assert_eq!(serde_json::to_value(key).unwrap(), key.name());
        }
        assert_eq!(Key::from_name("DEBUG"), None);
    }

    #[test]
    fn placeholders_are_told_from_values() {
        for stand_in in
            ["your_bucket_name", "your-access-key-id", "YOUR_SECRET", "<secret>", "changeme", "xxxx", "...", "****"]
        {
            assert!(is_placeholder(stand_in), "{stand_in}");
        }
        for value in [
            "AKIAIOSFODNN7EXAMPLE",
            "t3-chat-documents",
            "us-east-1",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "yourself-bucket",
        ] {
            assert!(!is_placeholder(value), "{value}");
        }
    }
}
