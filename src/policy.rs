//! The least-privilege IAM policy for the backend's bucket: rendering and comparison. Pure, no network.

use anyhow::{Context, Result};
use serde_json::Value;

use crate::bucket_name::BucketName;

/// The policy template, with `${BUCKET}` where the bucket name goes.
pub const TEMPLATE: &str = include_str!("../policies/t3chat-s3.json");

/// The policy's name in IAM, as in the guide.
pub const DEFAULT_NAME: &str = "T3ChatS3Policy";

/// The policy's description in IAM, as in the guide.
pub const DESCRIPTION: &str = "Allows T3 Chat backend to upload, download, and delete files from S3";

/// The five actions the backend needs, as the guide lists them.
pub const ACTIONS: [&str; 5] =
    ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"];

/// Renders the policy for `bucket` as pretty JSON (the name was checked where it entered).
pub fn render(bucket: &BucketName) -> Result<String> {
    let text = TEMPLATE.replace("${BUCKET}", bucket);
    let document: Value = serde_json::from_str(&text).context("the built-in policy template is not valid JSON")?;
    Ok(serde_json::to_string_pretty(&document)?)
}

/// Whether two policy documents grant the same thing, compared as JSON rather than text:
/// key order, white space, a lone string versus a one-element list, and the order
/// inside `Action` / `Resource` lists do not count as differences.
pub fn same_document(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)) {
        (Ok(a), Ok(b)) => normalize(a) == normalize(b),
        _ => false,
    }
}

/// The Sid of the bucket-policy statement that refuses requests without TLS.
pub const TLS_SID: &str = "T3s3DenyInsecureTransport";

/// The bucket-policy statement that denies every S3 action on the bucket and its objects
/// when `aws:SecureTransport` is false (Security Hub S3.5; prowler
/// s3_bucket_secure_transport_policy). A Deny is never public, so Block Public Access keeps it.
pub fn tls_statement(bucket: &str) -> Value {
    serde_json::json!({
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    })
}

/// Whether a bucket policy holds t3s3's TLS statement for `bucket`, as written.
pub fn has_tls_statement(document: Option<&str>, bucket: &str) -> bool {
    let Some(value) = document.and_then(|d| serde_json::from_str::<Value>(d).ok()) else { return false };
    let wanted = normalize(tls_statement(bucket));
    as_list(&value["Statement"]).into_iter().any(|statement| normalize(statement) == wanted)
}

/// Whether any statement of a bucket policy denies requests without TLS on the whole bucket
/// (t3s3's, or an equivalent one someone else wrote).
pub fn denies_insecure_transport(document: Option<&str>) -> bool {
    let Some(value) = document.and_then(|d| serde_json::from_str::<Value>(d).ok()) else { return false };
    as_list(&value["Statement"]).iter().any(|statement| {
        let condition = &statement["Condition"]["Bool"]["aws:SecureTransport"];
        statement["Effect"] == "Deny"
            && (condition == "false" || condition == false)
            && as_list(&statement["Action"]).iter().any(|a| a == "s3:*" || a == "*")
    })
}

/// The bucket policy with t3s3's TLS statement in it: every other statement kept as it is,
/// an older statement with the same Sid replaced. Err when the existing policy is not JSON.
pub fn with_tls_statement(existing: Option<&str>, bucket: &str) -> Result<String> {
    let mut document = match existing {
        Some(text) => serde_json::from_str::<Value>(text).context("the bucket policy is not valid JSON")?,
        None => serde_json::json!({"Version": "2012-10-17", "Statement": []}),
    };
    let mut statements: Vec<Value> =
        as_list(&document["Statement"]).into_iter().filter(|statement| statement["Sid"] != TLS_SID).collect();
    statements.push(tls_statement(bucket));
    document["Statement"] = Value::Array(statements);
    if document.get("Version").is_none() {
        document["Version"] = Value::String("2012-10-17".into());
    }
    Ok(serde_json::to_string(&document)?)
}

/// GitHub Actions' OIDC issuer, without the scheme.
pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";
/// The audience `aws-actions/configure-aws-credentials` asks tokens for.
pub const GITHUB_AUDIENCE: &str = "sts.amazonaws.com";

/// The token subject of a workflow run on `branch` of `repo` (OWNER/NAME), or of a job in
/// the deployment `environment` (GitHub then names the environment, not the branch).
pub fn github_subject(repo: &str, branch: &str, environment: Option<&str>) -> String {
    match environment {
        Some(environment) => format!("repo:{repo}:environment:{environment}"),
        None => format!("repo:{repo}:ref:refs/heads/{branch}"),
    }
}

/// The role's trust policy: GitHub's OIDC tokens for exactly one repository and branch,
/// with the STS audience; no wildcard anywhere.
pub fn github_trust(provider_arn: &str, subject: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{GITHUB_OIDC_HOST}:aud"): GITHUB_AUDIENCE,
                format!("{GITHUB_OIDC_HOST}:sub"): subject,
            }},
        }],
    })
    .to_string()
}

/// Why a role's trust policy lets more than one repository's branch or environment assume it:
/// every Allow statement counts. Anything but GitHub's provider as the principal (an account,
/// `"AWS": "*"`, a service, `NotPrincipal`), an action other than
/// `sts:AssumeRoleWithWebIdentity`, a subject that is missing or matches more than one, or an
/// audience other than [`GITHUB_AUDIENCE`] is named. Empty when none.
pub fn trust_too_wide(document: &str) -> Vec<String> {
    review_trust(document).0
}

/// What is allowed but worth a second look: a `pull_request` subject admits the workflow of
/// any pull request's branch, a fork's included where workflows run for them.
pub fn trust_warnings(document: &str) -> Vec<String> {
    review_trust(document).1
}

/// The Allow statements of a trust policy that name the expected principal, and what every
/// trust t3s3 writes must not hold, for ci-role's and runtime-role's reviews alike: a
/// document that is not JSON, NotPrincipal, NotAction, a principal of `"*"` (anyone), any
/// other principal (named), and any action but `action`. `expected(kind, value)` tells the
/// principal t3s3 trusts from any other.
pub fn allow_statements(
    document: &str,
    action: &str,
    expected: impl Fn(&str, &str) -> bool,
    what: &str,
) -> (Vec<(String, Value)>, Vec<String>) {
    let Ok(value) = serde_json::from_str::<Value>(document) else {
        return (Vec::new(), vec!["the trust policy is not JSON".into()]);
    };
    let (mut matched, mut problems) = (Vec::new(), Vec::new());
    for (index, statement) in as_list(&value["Statement"]).into_iter().enumerate() {
        if statement["Effect"] != "Allow" {
            continue;
        }
        let name = statement["Sid"]
            .as_str()
            .map_or_else(|| format!("statement {}", index + 1), |sid| format!("statement `{sid}`"));
        if !statement["NotPrincipal"].is_null() {
            problems.push(format!("{name} allows everyone but {} (NotPrincipal)", statement["NotPrincipal"]));
            continue;
        }
        let mut named = false;
        match &statement["Principal"] {
            Value::Object(kinds) => {
                for (kind, values) in kinds {
                    for value in as_list(values) {
                        if expected(kind, value.as_str().unwrap_or_default()) {
                            named = true;
                        } else {
                            problems.push(format!("{name} trusts {kind} {value}, not only {what}"));
                        }
                    }
                }
            }
            other => problems.push(format!("{name} trusts the principal {other}: anyone")),
        }
        if !statement["NotAction"].is_null() {
            problems.push(format!("{name} allows every action but {} (NotAction)", statement["NotAction"]));
        }
        for allowed in as_list(&statement["Action"]) {
            if allowed.as_str() != Some(action) {
                problems.push(format!("{name} allows {allowed}, not only {action}"));
            }
        }
        if named {
            matched.push((name, statement));
        }
    }
    (matched, problems)
}

fn review_trust(document: &str) -> (Vec<String>, Vec<String>) {
    let (sub, aud) = (format!("{GITHUB_OIDC_HOST}:sub"), format!("{GITHUB_OIDC_HOST}:aud"));
    let github =
        |kind: &str, value: &str| kind == "Federated" && value.ends_with(&format!("oidc-provider/{GITHUB_OIDC_HOST}"));
    let (statements, mut problems) =
        allow_statements(document, "sts:AssumeRoleWithWebIdentity", github, "GitHub's OIDC provider");
    let mut warnings = Vec::new();
    for (name, statement) in statements {
        let exact = as_list(&statement["Condition"]["StringEquals"][&sub]);
        let like = as_list(&statement["Condition"]["StringLike"][&sub]);
        let wild = |v: &Value| v.as_str().is_none_or(|s| s.contains('*') || s.contains('?'));
        match (exact.as_slice(), like.as_slice()) {
            ([], []) => {
                problems.push("no condition on the token's subject: any GitHub repository can assume it".into())
            }
            ([one], []) if !wild(one) => {
                if one.as_str().is_some_and(|s| s.ends_with(":pull_request")) {
                    warnings.push(format!(
                        "{name} trusts {one}: the workflow of any pull request's branch, not one branch"
                    ));
                }
            }
            _ => {
                let all: Vec<String> = exact.iter().chain(&like).map(|v| v.to_string()).collect();
                problems
                    .push(format!("the subject may be any of {}: more than one repository or branch", all.join(", ")));
            }
        }
        let audiences = as_list(&statement["Condition"]["StringEquals"][&aud]);
        if audiences.len() != 1 || audiences[0] != GITHUB_AUDIENCE {
            problems.push(format!("the audience is not exactly {GITHUB_AUDIENCE}"));
        }
    }
    (problems, warnings)
}

/// Every (action, resource) pair a document allows, for showing how two documents differ.
pub fn grants(document: &str) -> std::collections::BTreeSet<(String, String)> {
    let mut pairs = std::collections::BTreeSet::new();
    let Ok(value) = serde_json::from_str::<Value>(document) else { return pairs };
    for statement in as_list(&value["Statement"]) {
        if statement["Effect"] != "Allow" {
            continue;
        }
        for action in as_list(&statement["Action"]) {
            for resource in as_list(&statement["Resource"]) {
                if let (Some(action), Some(resource)) = (action.as_str(), resource.as_str()) {
                    pairs.insert((action.to_string(), resource.to_string()));
                }
            }
        }
    }
    pairs
}

/// How `actual` differs from `wanted`, in words ("extra: s3:* on *; missing: ..."),
/// or `None` when they grant the same pairs.
pub fn difference(actual: &str, wanted: &str) -> Option<String> {
    let (have, want) = (grants(actual), grants(wanted));
    let show =
        |pairs: Vec<&(String, String)>| pairs.iter().map(|(a, r)| format!("{a} on {r}")).collect::<Vec<_>>().join(", ");
    let extra: Vec<_> = have.difference(&want).collect();
    let missing: Vec<_> = want.difference(&have).collect();
    let mut parts = Vec::new();
    if !extra.is_empty() {
        parts.push(format!("extra: {}", show(extra)));
    }
    if !missing.is_empty() {
        parts.push(format!("missing: {}", show(missing)));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// What makes a document broader than the backend needs: every S3 action (`s3:*`, `*`),
/// S3 actions on every bucket (`*`, `arn:aws:s3:::*`), or an Allow written in the negative:
/// `NotAction` that does not exclude S3 (a PowerUser-style `NotAction: iam:*` allows all of
/// S3), or `NotResource` (everything but the resources named). A document that is not JSON
/// cannot be shown to be narrow, so it counts as broad.
pub fn broad_s3_grant(document: &str) -> Option<String> {
    let Ok(value) = serde_json::from_str::<Value>(document) else {
        return Some("cannot be read as a policy document".into());
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let statements = as_list(&value["Statement"]);
    let allows = statements.iter().filter(|statement| statement["Effect"] == "Allow");
    for statement in allows {
        let not_actions: Vec<String> = as_list(&statement["NotAction"]).iter().map(text).collect();
        if statement.get("NotAction").is_some() && !not_actions.iter().any(|a| excludes_all_of_s3(a)) {
            return Some(format!(
                "allows every action but {} (NotAction), all of S3 among them",
                not_actions.join(", ")
            ));
        }
        let actions: Vec<String> = as_list(&statement["Action"]).iter().map(text).collect();
        let s3_actions: Vec<&String> = actions.iter().filter(|a| is_s3_action(a)).collect();
        if let Some(action) = actions.iter().find(|a| *a == "*" || a.eq_ignore_ascii_case("s3:*")) {
            return Some(format!("allows {action}"));
        }
        if let (Some(action), Some(_)) = (s3_actions.first(), statement.get("NotResource")) {
            let except: Vec<String> = as_list(&statement["NotResource"]).iter().map(text).collect();
            return Some(format!("allows {action} on every resource but {} (NotResource)", except.join(", ")));
        }
        let resources: Vec<String> = as_list(&statement["Resource"]).iter().map(text).collect();
        let everywhere = resources.iter().find(|r| *r == "*" || r.ends_with(":s3:::*") || r.ends_with(":s3:::*/*"));
        if let (Some(action), Some(resource)) = (s3_actions.first(), everywhere) {
            return Some(format!("allows {action} on every bucket ({resource})"));
        }
    }
    None
}

/// An action pattern that may match an S3 action (`s3:GetObject`, `s3:Get*`, `*`, `s3*`).
fn is_s3_action(action: &str) -> bool {
    let lower = action.to_ascii_lowercase();
    lower == "*" || lower.starts_with("s3:") || ("s3:".starts_with(lower.trim_end_matches('*')) && lower.ends_with('*'))
}

/// A NotAction entry that takes all of S3 out of the statement (`*`, `s3:*`).
fn excludes_all_of_s3(action: &str) -> bool {
    action == "*" || action.eq_ignore_ascii_case("s3:*")
}

/// A policy field that may be one value or a list of them, as a list.
pub fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        single => vec![single.clone()],
    }
}

fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = match key.as_str() {
                        "Action" | "NotAction" | "Resource" | "NotResource" => sorted_list(value),
                        _ => normalize(value),
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn sorted_list(value: Value) -> Value {
    let mut items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    items.sort_by_key(|item| item.to_string());
    items.dedup();
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(bucket: &str) -> BucketName {
        BucketName::new(bucket).unwrap()
    }

    #[test]
    fn renders_the_guides_actions_on_the_right_resources() {
        let document: Value = serde_json::from_str(&render(&name("t3-chat-documents-john2024")).unwrap()).unwrap();
        assert_eq!(document["Version"], "2012-10-17");
        let statements = document["Statement"].as_array().unwrap();
        assert_eq!(statements[0]["Sid"], "T3ChatS3Access");
        let mut granted = Vec::new();
        for statement in statements {
            assert_eq!(statement["Effect"], "Allow");
            let resource = statement["Resource"].as_str().unwrap();
            for action in statement["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                let on_objects = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"].contains(&action);
                let expected = if on_objects {
                    "arn:aws:s3:::t3-chat-documents-john2024/*"
                } else {
                    "arn:aws:s3:::t3-chat-documents-john2024"
                };
                assert_eq!(resource, expected, "{action}");
                granted.push(action.to_string());
            }
        }
        granted.sort();
        let mut wanted: Vec<String> = ACTIONS.iter().map(|a| a.to_string()).collect();
        wanted.sort();
        assert_eq!(granted, wanted);
    }

    #[test]
    fn differences_are_named_pair_by_pair() {
        let wanted = render(&name("abc")).unwrap();
        assert_eq!(difference(&wanted, &wanted), None);
        let other = render(&name("abd")).unwrap();
        let text = difference(&other, &wanted).unwrap();
        assert!(text.contains("extra: s3:DeleteObject on arn:aws:s3:::abd/*"), "{text}");
        assert!(text.contains("missing: s3:DeleteObject on arn:aws:s3:::abc/*"), "{text}");
    }

    #[test]
    fn broad_grants_are_spotted() {
        assert_eq!(broad_s3_grant(&render(&name("abc")).unwrap()), None);
        let all = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::abc"}]}"#;
        assert_eq!(broad_s3_grant(all).as_deref(), Some("allows s3:*"));
        let everywhere = r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::*/*"}}"#;
        assert!(broad_s3_grant(everywhere).unwrap().contains("every bucket"));
        let denied = r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        assert_eq!(broad_s3_grant(denied), None);
        let power_user = r#"{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#;
        assert!(
            broad_s3_grant(power_user).unwrap().contains("NotAction"),
            "PowerUser-style NotAction allows all of S3"
        );
        let not_s3 = r#"{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}"#;
        assert_eq!(broad_s3_grant(not_s3), None, "NotAction s3:* grants nothing in S3");
        let all_but =
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}]}"#;
        assert!(broad_s3_grant(all_but).unwrap().contains("NotResource"));
        let wildcard = r#"{"Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::*/*"}}"#;
        assert!(broad_s3_grant(wildcard).unwrap().contains("every bucket"));
        let narrow = r#"{"Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","NotResource":"arn:aws:sqs:::x"}]}"#;
        assert_eq!(broad_s3_grant(narrow), None, "NotResource on a non-S3 action is not an S3 grant");
        assert!(broad_s3_grant("not json").is_some(), "an unreadable document is never narrow");
    }

    #[test]
    fn the_tls_statement_is_merged_keeping_every_other_statement() {
        let theirs = r#"{"Version":"2012-10-17","Id":"Theirs","Statement":[{"Sid":"CloudFront","Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(!has_tls_statement(Some(theirs), "b"));
        assert!(!denies_insecure_transport(Some(theirs)));
        let merged = with_tls_statement(Some(theirs), "b").unwrap();
        let value: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(value["Id"], "Theirs");
        assert_eq!(value["Statement"][0]["Sid"], "CloudFront");
        assert_eq!(value["Statement"].as_array().unwrap().len(), 2);
        assert!(has_tls_statement(Some(&merged), "b"));
        assert!(denies_insecure_transport(Some(&merged)));
        // Merging again replaces t3s3's statement instead of adding a second one.
        let again = with_tls_statement(Some(&merged), "b").unwrap();
        assert!(same_document(&again, &merged));
        // A statement with t3s3's Sid for another bucket is replaced.
        assert!(!has_tls_statement(Some(&merged), "other"));
        let moved: Value = serde_json::from_str(&with_tls_statement(Some(&merged), "other").unwrap()).unwrap();
        assert_eq!(moved["Statement"].as_array().unwrap().len(), 2);
        assert!(with_tls_statement(Some("{not json"), "b").is_err());
        let fresh: Value = serde_json::from_str(&with_tls_statement(None, "b").unwrap()).unwrap();
        assert_eq!(fresh["Version"], "2012-10-17");
        assert_eq!(fresh["Statement"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_trust_policy_is_wide_unless_it_names_one_repository_and_branch() {
        let provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
        let ours = github_trust(provider, &github_subject("acme/t3-chat", "main", None));
        assert_eq!(trust_too_wide(&ours), Vec::<String>::new());
        let value: Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(
            value["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:acme/t3-chat:ref:refs/heads/main"
        );
        let wide =
            ours.replace("StringEquals", "StringLike").replace("repo:acme/t3-chat:ref:refs/heads/main", "repo:acme/*");
        let problems = trust_too_wide(&wide);
        assert!(problems.iter().any(|p| p.contains("repo:acme/*")), "{problems:?}");
        let no_sub = r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}"#;
        assert!(trust_too_wide(no_sub)[0].contains("any GitHub repository"));
        let two = ours.replace(
            "\"repo:acme/t3-chat:ref:refs/heads/main\"",
            "[\"repo:acme/t3-chat:ref:refs/heads/main\",\"repo:acme/other:ref:refs/heads/main\"]",
        );
        assert!(trust_too_wide(&two)[0].contains("more than one"), "{two}");
    }

    #[test]
    fn every_allow_statement_of_a_trust_policy_counts() {
        let provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
        let ours: Value =
            serde_json::from_str(&github_trust(provider, "repo:acme/t3-chat:ref:refs/heads/main")).unwrap();
        let with = |extra: Value| {
            let mut document = ours.clone();
            document["Statement"].as_array_mut().unwrap().push(extra);
            trust_too_wide(&document.to_string())
        };
        let account = serde_json::json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"});
        let problems = with(account);
        assert!(problems.iter().any(|p| p.contains("999999999999")), "{problems:?}");
        let anyone = serde_json::json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"});
        assert!(with(anyone).iter().any(|p| p.contains("\"*\"")));
        let star = serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"});
        assert!(with(star).iter().any(|p| p.contains("anyone")));
        let service = serde_json::json!({"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
        assert!(with(service).iter().any(|p| p.contains("`Ec2`") && p.contains("ec2.amazonaws.com")));
        let not_principal = serde_json::json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"});
        assert!(with(not_principal).iter().any(|p| p.contains("NotPrincipal")));
        let deny = serde_json::json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"});
        assert_eq!(with(deny), Vec::<String>::new(), "a Deny narrows, it never widens");

        let pull_request = ours.to_string().replace("ref:refs/heads/main", "pull_request");
        assert_eq!(trust_too_wide(&pull_request), Vec::<String>::new());
        assert!(trust_warnings(&pull_request)[0].contains("any pull request"), "{pull_request}");
        let environment = ours.to_string().replace("ref:refs/heads/main", "environment:production");
        assert_eq!((trust_too_wide(&environment), trust_warnings(&environment)), (vec![], vec![]));
    }

    #[test]
    fn a_bad_bucket_name_never_reaches_the_policy() {
        let error = crate::bucket_name::parse("Bad_Name", "pick another").unwrap_err();
        assert_eq!(error.status, crate::exit::ExitStatus::BadInput);
        assert!(error.hint.unwrap().contains("`bad-name`"));
    }

    #[test]
    fn compares_as_json_not_text() {
        let rendered = render(&name("abc")).unwrap();
        let compact = serde_json::to_string(&serde_json::from_str::<Value>(&rendered).unwrap()).unwrap();
        assert!(same_document(&rendered, &compact));
        let reordered = rendered
            .replace("\"s3:PutObject\",\n        \"s3:GetObject\"", "\"s3:GetObject\",\n        \"s3:PutObject\"");
        assert_ne!(reordered, rendered);
        assert!(same_document(&rendered, &reordered));
        assert!(!same_document(&rendered, &render(&name("abd")).unwrap()));
        assert!(!same_document(&rendered, &rendered.replace("s3:DeleteObject", "s3:*")));
    }
}
