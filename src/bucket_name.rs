//! S3 general-purpose bucket naming rules, each with the message a user sees when it is broken.

/// Checks `name` against every rule for general-purpose buckets; the error names the broken rule.
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

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
