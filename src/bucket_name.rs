//! S3 general-purpose bucket naming rules, each with the message a user sees when it is broken,
//! and the account regional namespace's names (`PREFIX-ACCOUNTID-REGION-an`).

use crate::region::is_region_name;

/// The ending S3 reserves for names in an account regional namespace.
pub const ACCOUNT_REGIONAL_SUFFIX: &str = "-an";

/// Regions without account regional namespaces (AWS: Middle East (Bahrain) and (UAE)).
pub const WITHOUT_ACCOUNT_REGIONAL: [&str; 2] = ["me-south-1", "me-central-1"];

/// The name of `prefix` in the account regional namespace of `account` in `region`.
pub fn account_regional(prefix: &str, account: &str, region: &str) -> String {
    format!("{prefix}-{account}-{region}{ACCOUNT_REGIONAL_SUFFIX}")
}

/// A name in an account regional namespace, split: (prefix, account id, region).
pub fn account_regional_parts(name: &str) -> Option<(&str, &str, &str)> {
    let body = name.strip_suffix(ACCOUNT_REGIONAL_SUFFIX)?;
    // The account id is the only 12-digit part followed by a region name up to the end.
    body.match_indices('-').find_map(|(dash, _)| {
        let rest = &body[dash + 1..];
        let (account, region) = (rest.get(..12)?, rest.get(13..)?);
        let shaped = account.chars().all(|c| c.is_ascii_digit()) && rest.as_bytes().get(12) == Some(&b'-');
        (dash > 0 && shaped && is_region_name(region)).then(|| (&body[..dash], account, region))
    })
}

/// Checks `name` against every rule for general-purpose buckets; the error names the broken rule.
/// A hint for a name that breaks the rules: its valid lower-case form when that is one
/// (`My_Bucket` → `my-bucket`), else `fallback`.
pub fn hint(name: &str, fallback: &str) -> String {
    let fixed: String =
        name.trim().to_lowercase().chars().map(|c| if c == '_' || c == ' ' { '-' } else { c }).collect();
    if fixed != name && validate(&fixed).is_ok() {
        format!("bucket names are lower case: did you mean `{fixed}`?")
    } else {
        fallback.to_string()
    }
}

/// A bucket name that follows S3's naming rules, parsed once where it enters (a flag, the
/// .env, a generated name); the policy is rendered only for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketName(String);

impl BucketName {
    /// `typed` as a bucket name, or the rule it breaks.
    pub fn new(typed: &str) -> Result<BucketName, String> {
        validate(typed).map(|()| BucketName(typed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for BucketName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BucketName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a bucket name where it enters: bad input (exit 2) naming the rule it breaks, with
/// its valid lower-case form when there is one, else `fallback` as the next step.
pub fn parse(typed: &str, fallback: &str) -> Result<BucketName, crate::exit::Failure> {
    BucketName::new(typed).map_err(|rule| crate::exit::Failure::bad_input(rule).hint(hint(typed, fallback)))
}

pub fn validate(name: &str) -> Result<(), String> {
    let broken = |rule: &str| Err(format!("invalid bucket name `{name}`: {rule}"));
    let len = name.len();
    if !(3..=63).contains(&len) {
        return broken(&format!("must be 3 to 63 characters long (it has {len})"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return broken(&format!("may contain only lowercase letters, digits, '.' and '-' (found {bad:?})"));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return broken("must begin and end with a letter or digit");
    }
    if name.contains("..") {
        return broken("must not contain two adjacent periods ('..')");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return broken("must not be formatted as an IP address (like 192.168.5.4)");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return broken(&format!("must not start with the reserved prefix `{prefix}`"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return broken(&format!("must not end with the reserved suffix `{suffix}`"));
        }
    }
    if name.ends_with(ACCOUNT_REGIONAL_SUFFIX) && account_regional_parts(name).is_none() {
        return broken(
            "ends in `-an`, which S3 reserves for account regional namespaces, whose names are PREFIX-<12-digit account id>-<region>-an",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upper_case_name_is_offered_in_lower_case() {
        assert!(hint("T3-Chat-Documents", "x").contains("`t3-chat-documents`"));
        assert!(hint("t3_chat_docs", "x").contains("`t3-chat-docs`"));
        assert_eq!(hint("ab", "pick another"), "pick another");
    }

    #[test]
    fn account_regional_names_are_built_and_read_back() {
        let name = account_regional("t3-chat-documents", "123456789012", "ap-south-1");
        assert_eq!(name, "t3-chat-documents-123456789012-ap-south-1-an");
        assert_eq!(validate(&name), Ok(()));
        assert_eq!(account_regional_parts(&name), Some(("t3-chat-documents", "123456789012", "ap-south-1")));
        // The longest region name still fits in 63 characters.
        assert_eq!(validate(&account_regional("t3-chat-documents", "123456789012", "ap-southeast-5")), Ok(()));
        for not_regional in ["t3-chat-documents-john2024", "plan", "x-123456789012-ap-south-1"] {
            assert_eq!(account_regional_parts(not_regional), None, "{not_regional}");
        }
        for bad in
            ["t3-chat-an", "x-12345678901-ap-south-1-an", "x-123456789012-mumbai-an", "123456789012-ap-south-1-an"]
        {
            let message = validate(bad).expect_err(bad);
            assert!(message.contains("account regional namespaces"), "{bad}: {message}");
        }
    }

    #[test]
    fn accepts_the_guides_examples() {
        for name in ["t3-chat-documents-john2024", "t3-chat-documents-abc123", "a.b-c", "abc"] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn each_rule_is_named_when_broken() {
        let cases = [
            ("ab", "3 to 63"),
            (&"a".repeat(64), "3 to 63"),
            ("T3-chat", "lowercase"),
            ("t3_chat", "lowercase"),
            ("-abc", "begin and end"),
            ("abc.", "begin and end"),
            ("a..b", "adjacent periods"),
            ("192.168.5.4", "IP address"),
            ("xn--abc", "`xn--`"),
            ("sthree-abc", "`sthree-`"),
            ("amzn-s3-demo-abc", "`amzn-s3-demo-`"),
            ("abc-s3alias", "`-s3alias`"),
            ("abc--ol-s3", "`--ol-s3`"),
            ("abc.mrap", "`.mrap`"),
            ("abc--x-s3", "`--x-s3`"),
            ("abc--table-s3", "`--table-s3`"),
        ];
        for (name, rule) in cases {
            let message = validate(name).expect_err(name);
            assert!(message.contains(rule), "{name}: {message}");
        }
    }
}
