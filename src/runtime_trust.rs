//! Who may assume the deployed backend's role (`t3s3 runtime-role`): one platform's service,
//! or one Fly.io app's OIDC tokens; the trust policy t3s3 writes for each, and the review
//! doctor runs on a role's trust (every Allow statement counts).

use serde_json::{Value, json};

use crate::policy::as_list;

/// Where the backend runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// An EC2 instance (the role reaches it through an instance profile of the same name)
    Ec2,
    /// An ECS task (its task role)
    Ecs,
    /// A Lambda function (its execution role)
    Lambda,
    /// A Fly.io app (its OIDC tokens, exchanged with STS)
    Fly,
}

impl Platform {
    pub const ALL: [Platform; 4] = [Platform::Ec2, Platform::Ecs, Platform::Lambda, Platform::Fly];

    pub fn name(self) -> &'static str {
        match self {
            Platform::Ec2 => "ec2",
            Platform::Ecs => "ecs",
            Platform::Lambda => "lambda",
            Platform::Fly => "fly",
        }
    }

    /// The role's name when none is given.
    pub fn default_role_name(self) -> &'static str {
        match self {
            Platform::Ec2 => "T3ChatBackendEc2",
            Platform::Ecs => "T3ChatBackendEcs",
            Platform::Lambda => "T3ChatBackendLambda",
            Platform::Fly => "T3ChatBackendFly",
        }
    }

    /// The AWS service that assumes the role (none for Fly: its tokens do, through STS).
    pub fn service(self) -> Option<&'static str> {
        match self {
            Platform::Ec2 => Some("ec2.amazonaws.com"),
            Platform::Ecs => Some("ecs-tasks.amazonaws.com"),
            Platform::Lambda => Some("lambda.amazonaws.com"),
            Platform::Fly => None,
        }
    }

    /// The value of t3s3's created tag on a runtime role of this platform.
    pub fn tag_value(self) -> String {
        format!("runtime-role:{}", self.name())
    }

    /// The platform a created tag's value names, if it is a runtime role's.
    pub fn of_tag_value(value: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.tag_value() == value)
    }
}

/// Fly.io's OIDC issuer for an organization.
pub fn fly_issuer(org: &str) -> String {
    format!("oidc.fly.io/{org}")
}

/// The audience Fly's tokens carry for AWS, as t3s3 trusts it.
pub const FLY_AUDIENCE: &str = "sts.amazonaws.com";

/// One Fly.io app: its organization and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlyApp {
    pub org: String,
    pub app: String,
}

impl FlyApp {
    /// The only token subject the role trusts: any machine of that app.
    pub fn subject(&self) -> String {
        format!("{}:{}:*", self.org, self.app)
    }
}

/// The trust policy of a runtime role: exactly one statement, for one platform.
pub fn trust(platform: Platform, account: &str, provider_arn: Option<&str>, fly: Option<&FlyApp>) -> String {
    let statement = match (platform, platform.service(), fly) {
        (Platform::Ecs, Some(service), _) => json!({
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }),
        (_, Some(service), _) => json!({
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }),
        (_, None, Some(fly)) => {
            let issuer = fly_issuer(&fly.org);
            json!({
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn.unwrap_or_default()},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {format!("{issuer}:aud"): FLY_AUDIENCE},
                    "StringLike": {format!("{issuer}:sub"): fly.subject()},
                },
            })
        }
        (_, None, None) => json!({}),
    };
    json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
}

/// Why a runtime role's trust lets anything but its platform assume it: every Allow
/// statement counts. Empty when none.
pub fn too_wide(document: &str, platform: Platform, account: &str) -> Vec<String> {
    let action = if platform == Platform::Fly { "sts:AssumeRoleWithWebIdentity" } else { "sts:AssumeRole" };
    let expected = |kind: &str, value: &str| principal_is_the_platform(platform, kind, value);
    let (statements, mut problems) = crate::policy::allow_statements(document, action, expected, platform.name());
    for (name, statement) in statements {
        problems.extend(condition_problems(&statement, platform, account).into_iter().map(|p| format!("{name}: {p}")));
    }
    problems
}

fn principal_is_the_platform(platform: Platform, kind: &str, value: &str) -> bool {
    match platform.service() {
        Some(service) => kind == "Service" && value == service,
        None => kind == "Federated" && value.contains(":oidc-provider/oidc.fly.io/"),
    }
}

/// ECS: the account named by aws:SourceAccount. Fly: the STS audience and one app's subject.
fn condition_problems(statement: &Value, platform: Platform, account: &str) -> Vec<String> {
    let condition = &statement["Condition"];
    match platform {
        Platform::Ecs => {
            let source = as_list(&condition["StringEquals"]["aws:SourceAccount"]);
            if source.len() == 1 && source[0] == account {
                Vec::new()
            } else {
                vec![format!(
                    "no aws:SourceAccount condition naming {account}: another account's tasks could assume it"
                )]
            }
        }
        Platform::Fly => {
            let federated = as_list(&statement["Principal"]["Federated"]);
            let issuer = federated
                .first()
                .and_then(Value::as_str)
                .and_then(|arn| arn.split_once(":oidc-provider/"))
                .map(|(_, issuer)| issuer.to_string())
                .unwrap_or_default();
            let org = issuer.strip_prefix("oidc.fly.io/").unwrap_or_default();
            let mut problems = Vec::new();
            let audiences = as_list(&condition["StringEquals"][format!("{issuer}:aud")]);
            if audiences.len() != 1 || audiences[0] != FLY_AUDIENCE {
                problems.push(format!("the audience is not exactly {FLY_AUDIENCE}"));
            }
            let subjects: Vec<Value> = as_list(&condition["StringLike"][format!("{issuer}:sub")])
                .into_iter()
                .chain(as_list(&condition["StringEquals"][format!("{issuer}:sub")]))
                .collect();
            let one_app = |subject: &str| {
                let mut parts = subject.splitn(3, ':');
                let (o, app, machine) = (parts.next(), parts.next(), parts.next());
                o == Some(org)
                    && app.is_some_and(|a| !a.is_empty() && !a.contains(['*', '?']))
                    && machine.is_some_and(|m| m == "*" || !m.contains(['*', '?']))
            };
            match subjects.as_slice() {
                [one] if one.as_str().is_some_and(one_app) => {}
                [] => problems.push("no condition on the token's subject: every app of the organization".into()),
                many => problems.push(format!(
                    "the subject may be {}: more than one Fly.io app",
                    many.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
                )),
            }
            problems
        }
        Platform::Ec2 | Platform::Lambda => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";

    #[test]
    fn each_platform_trusts_its_own_and_nothing_else() {
        for platform in [Platform::Ec2, Platform::Ecs, Platform::Lambda] {
            let document = trust(platform, ACCOUNT, None, None);
            assert_eq!(too_wide(&document, platform, ACCOUNT), Vec::<String>::new(), "{document}");
            let value: Value = serde_json::from_str(&document).unwrap();
            assert_eq!(value["Statement"][0]["Principal"]["Service"], platform.service().unwrap());
        }
        let ecs: Value = serde_json::from_str(&trust(Platform::Ecs, ACCOUNT, None, None)).unwrap();
        assert_eq!(ecs["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"], ACCOUNT);
        let fly = FlyApp { org: "acme".into(), app: "t3-chat".into() };
        let provider = "arn:aws:iam::123456789012:oidc-provider/oidc.fly.io/acme";
        let document = trust(Platform::Fly, ACCOUNT, Some(provider), Some(&fly));
        assert_eq!(too_wide(&document, Platform::Fly, ACCOUNT), Vec::<String>::new(), "{document}");
        let value: Value = serde_json::from_str(&document).unwrap();
        assert_eq!(value["Statement"][0]["Condition"]["StringLike"]["oidc.fly.io/acme:sub"], "acme:t3-chat:*");
        assert_eq!(value["Statement"][0]["Condition"]["StringEquals"]["oidc.fly.io/acme:aud"], "sts.amazonaws.com");
    }

    #[test]
    fn anything_beyond_the_platform_is_named() {
        let mut value: Value = serde_json::from_str(&trust(Platform::Ec2, ACCOUNT, None, None)).unwrap();
        value["Statement"].as_array_mut().unwrap().push(
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}),
        );
        let problems = too_wide(&value.to_string(), Platform::Ec2, ACCOUNT);
        assert!(problems.iter().any(|p| p.contains("999999999999")), "{problems:?}");
        let lambda_on_ec2 = trust(Platform::Lambda, ACCOUNT, None, None);
        assert!(!too_wide(&lambda_on_ec2, Platform::Ec2, ACCOUNT).is_empty());
        let no_source =
            trust(Platform::Ec2, ACCOUNT, None, None).replace("ec2.amazonaws.com", "ecs-tasks.amazonaws.com");
        assert!(too_wide(&no_source, Platform::Ecs, ACCOUNT)[0].contains("aws:SourceAccount"));
        let fly = FlyApp { org: "acme".into(), app: "t3-chat".into() };
        let provider = "arn:aws:iam::123456789012:oidc-provider/oidc.fly.io/acme";
        let every_app = trust(Platform::Fly, ACCOUNT, Some(provider), Some(&fly)).replace("acme:t3-chat:*", "acme:*");
        assert!(too_wide(&every_app, Platform::Fly, ACCOUNT).iter().any(|p| p.contains("more than one Fly.io app")));
        assert_eq!(Platform::of_tag_value("runtime-role:fly"), Some(Platform::Fly));
        assert_eq!(Platform::of_tag_value("ci-role"), None);
    }
}
