//! `t3s3 runtime-role`: no key in production. A role only the backend's platform can assume,
//! holding exactly the least-privilege policy, against moto; doctor and destroy know it; the
//! role's temporary credentials pass `verify` with a .env that holds no key.

use crate::common::*;
use serde_json::json;

const BUCKET: &str = "t3-chat-documents-rt";
const ACCOUNT: &str = "123456789012";
const POLICY: &str = "arn:aws:iam::123456789012:policy/T3ChatS3Policy";

fn initialised(server: &Server) -> Workspace {
    let ws = Workspace::new();
    ws.initialise(server, BUCKET);
    ws
}

fn runtime_role(ws: &Workspace, server: &Server, args: &[&str]) -> Run {
    run(ws.acting(server).args(["runtime-role", "--json"]).args(args))
}

fn root_iam(server: &Server) -> aws_sdk_iam::Client {
    iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"))
}

async fn trust_of(server: &Server, role: &str) -> serde_json::Value {
    let got = root_iam(server).get_role().role_name(role).send().await.unwrap();
    let raw = got.role().unwrap().assume_role_policy_document().unwrap().to_string();
    serde_json::from_str(&t3s3::iam::decode_document(&raw)).unwrap()
}

/// The role's managed policies (ARNs) and inline policies (names).
async fn held_by(server: &Server, role: &str) -> (Vec<String>, Vec<String>) {
    let iam = root_iam(server);
    let attached = iam.list_attached_role_policies().role_name(role).send().await.unwrap();
    let inline = iam.list_role_policies().role_name(role).send().await.unwrap();
    (
        attached.attached_policies().iter().map(|p| p.policy_arn().unwrap().to_string()).collect(),
        inline.policy_names().to_vec(),
    )
}

fn service_trust(service: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
}

#[tokio::test]
async fn each_platform_gets_one_role_trusted_by_it_alone_holding_only_the_policy() {
    let server = moto(None);
    let ws = initialised(&server);
    let ecs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]});
    let fly = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.fly.io/acme"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"oidc.fly.io/acme:aud": "sts.amazonaws.com"},
                      "StringLike": {"oidc.fly.io/acme:sub": "acme:t3-chat:*"}}}]});
    let cases = [
        (
            &["--platform", "ec2"][..],
            "T3ChatBackendEc2",
            service_trust("ec2.amazonaws.com"),
            "aws ec2 associate-iam-instance-profile --instance-id INSTANCE_ID --iam-instance-profile Name=T3ChatBackendEc2",
        ),
        (
            &["--platform", "ecs"],
            "T3ChatBackendEcs",
            ecs,
            "\"taskRoleArn\": \"arn:aws:iam::123456789012:role/T3ChatBackendEcs\"",
        ),
        (
            &["--platform", "lambda"],
            "T3ChatBackendLambda",
            service_trust("lambda.amazonaws.com"),
            "aws lambda update-function-configuration --function-name FUNCTION --role arn:aws:iam::123456789012:role/T3ChatBackendLambda",
        ),
        (
            &["--platform", "fly", "--fly-org", "acme", "--fly-app", "t3-chat"],
            "T3ChatBackendFly",
            fly,
            "fly secrets set AWS_ROLE_ARN=arn:aws:iam::123456789012:role/T3ChatBackendFly --app t3-chat",
        ),
    ];
    for (args, role, trust, next) in cases {
        let account = snapshot(&server).await;
        let plan = runtime_role(&ws, &server, &[args, &["--dry-run"]].concat());
        assert_eq!(plan.code, 0, "{args:?}: {}", plan.all());
        assert_eq!(snapshot(&server).await, account, "{args:?}: the dry run changed the account");
        assert_eq!(plan.json()["requests"]["mutating"], 0, "{args:?}");
        assert_eq!(resource_statuses(&plan.json())["role"], "would_create", "{args:?}");
        assert!(root_iam(&server).get_role().role_name(role).send().await.is_err(), "the dry run made {role}");

        let out = runtime_role(&ws, &server, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.all());
        let report = out.json();
        assert_eq!(report["role_arn"], format!("arn:aws:iam::{ACCOUNT}:role/{role}"));
        assert_eq!(trust_of(&server, role).await, trust, "{role}");
        assert_eq!(report["trust_policy"], trust);
        assert_eq!(held_by(&server, role).await, (vec![POLICY.to_string()], vec![]), "{role} holds exactly the policy");
        let steps = report["next_steps"].as_array().unwrap();
        assert!(steps.iter().any(|s| s.as_str().unwrap().contains(next)), "{role}: {steps:?}");
        let text = run(ws.acting(&server).args(["runtime-role"]).args(args));
        assert!(
            !text.stdout.contains("SECRET") || text.stdout.contains("no AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY")
        );

        let again = runtime_role(&ws, &server, args);
        assert_eq!(again.code, 0, "{}", again.all());
        assert_eq!(
            again.json()["requests"]["mutating"],
            0,
            "a second run of {role} changed something: {}",
            again.stdout
        );
    }
    // EC2 reaches its role through an instance profile of the same name.
    let profile =
        root_iam(&server).get_instance_profile().instance_profile_name("T3ChatBackendEc2").send().await.unwrap();
    let roles: Vec<&str> = profile.instance_profile().unwrap().roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(roles, ["T3ChatBackendEc2"]);
    // Fly.io's provider, with the STS audience.
    let provider = root_iam(&server)
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn("arn:aws:iam::123456789012:oidc-provider/oidc.fly.io/acme")
        .send()
        .await
        .unwrap();
    assert_eq!(provider.client_id_list(), ["sts.amazonaws.com"]);

    // Bad input changes nothing.
    for (args, says) in [
        (&["--platform", "fly"][..], "--fly-org ORG and --fly-app APP"),
        (&["--platform", "ec2", "--fly-app", "x"], "for --platform fly"),
        (&["--platform", "fly", "--fly-org", "Acme!", "--fly-app", "x"], "not a Fly.io name"),
        (&["--platform", "ec2", "--role-name", "bad role"], "not an IAM role name"),
    ] {
        let out = run(ws.acting(&server).args(["runtime-role"]).args(args));
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

#[tokio::test]
async fn a_role_t3s3_did_not_make_is_refused_and_doctor_fails_a_widened_one() {
    let server = moto(None);
    let ws = initialised(&server);
    // Before any runtime role: the backend's only credentials are the long-lived key.
    let credentials = doctor_check(&ws, &server, "runtime_credentials");
    assert_eq!(credentials["status"], "WARN", "{credentials}");
    assert_eq!(doctor_check(&ws, &server, "runtime_role_trust")["status"], "SKIPPED");

    let iam = root_iam(&server);
    let foreign = service_trust("ec2.amazonaws.com").to_string();
    iam.create_role().role_name("T3ChatBackendEc2").assume_role_policy_document(&foreign).send().await.unwrap();
    let out = runtime_role(&ws, &server, &["--platform", "ec2"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("t3s3 did not create it"), "{}", out.all());
    assert_eq!(held_by(&server, "T3ChatBackendEc2").await, (vec![], vec![]), "the foreign role was changed");

    assert_eq!(runtime_role(&ws, &server, &["--platform", "lambda"]).code, 0);
    assert_eq!(doctor_check(&ws, &server, "runtime_role_trust")["status"], "PASS");
    assert_eq!(doctor_check(&ws, &server, "runtime_credentials")["status"], "PASS");
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name("T3ChatBackendLambda")
        .policy_name("everything")
        .policy_document(everything)
        .send()
        .await
        .unwrap();
    let check = doctor_check(&ws, &server, "runtime_role_trust");
    assert_eq!(check["status"], "FAIL", "{check}");
    assert!(check["evidence"].as_str().unwrap().contains("inline policy everything"), "{check}");
    let out = runtime_role(&ws, &server, &["--platform", "lambda"]);
    assert_eq!(out.code, 1, "a role holding more is never converged: {}", out.all());
    iam.delete_role_policy().role_name("T3ChatBackendLambda").policy_name("everything").send().await.unwrap();

    let mut wide = trust_of(&server, "T3ChatBackendLambda").await;
    wide["Statement"].as_array_mut().unwrap().push(json!({"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}));
    iam.update_assume_role_policy()
        .role_name("T3ChatBackendLambda")
        .policy_document(wide.to_string())
        .send()
        .await
        .unwrap();
    let check = doctor_check(&ws, &server, "runtime_role_trust");
    assert_eq!(check["status"], "FAIL", "{check}");
    assert!(check["evidence"].as_str().unwrap().contains("999999999999"), "{check}");
    // runtime-role narrows it again.
    let out = runtime_role(&ws, &server, &["--platform", "lambda"]);
    assert_eq!(resource_statuses(&out.json())["trust_policy"], "updated", "{}", out.stdout);
    assert_eq!(doctor_check(&ws, &server, "runtime_role_trust")["status"], "PASS");
}

#[tokio::test]
async fn the_roles_credentials_pass_verify_with_a_env_that_holds_no_key() {
    // Set up unenforced (moto, not AWS, rejects t3s3's policy body under enforcement), then
    // every request from here on is checked against IAM.
    let server = moto(None);
    let ws = initialised(&server);
    assert_eq!(runtime_role(&ws, &server, &["--platform", "ecs"]).code, 0);
    // The task's credentials, as ECS hands them over (moto's AssumeRole does not check the
    // trust; the trust document itself is checked in the test above).
    let config = sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION);
    let assumed = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/T3ChatBackendEcs")
        .role_session_name("ecs-task")
        .send()
        .await
        .unwrap();
    let credentials = assumed.credentials().unwrap();

    // The production server's .env: region and bucket, no key.
    let production = Workspace::new();
    production.write(
        ".env",
        &format!("AWS_REGION={APP_REGION}\nS3_BUCKET_NAME={BUCKET}\nAWS_ENDPOINT_URL={}\n", server.url()),
    );
    let out = run(production
        .t3s3()
        .env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
        .env("AWS_SESSION_TOKEN", credentials.session_token())
        .args(["verify", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["credentials"], "AWS_ACCESS_KEY_ID (environment)");
    assert!(!out.stdout.contains(credentials.secret_access_key()));
    assert!(!out.stdout.contains(credentials.session_token()));

    // The same credentials from the machine (a profile here; instance metadata, the ECS
    // container or a web identity token on a server): the default chain, and its source named.
    production.write(
        "no-aws-credentials",
        &format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            credentials.access_key_id(),
            credentials.secret_access_key(),
            credentials.session_token()
        ),
    );
    let out = run(production.t3s3().args(["verify", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["credentials"], "the default credential chain: profile (~/.aws, AWS_PROFILE)");
    assert!(!out.stdout.contains(credentials.secret_access_key()));
    let text = run(production.t3s3().arg("verify"));
    assert!(text.stdout.contains("Credentials: profile (~/.aws, AWS_PROFILE), key ASIA"), "{}", text.stdout);
    std::fs::remove_file(production.path().join("no-aws-credentials")).unwrap();

    // No source answers (no key anywhere, no profile, no role): said, with the way to give
    // the server its role.
    let out = run(production.t3s3().arg("verify"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("no source of the default credential chain answered"), "{}", out.stdout);
    assert!(out.stdout.contains("t3s3 runtime-role --platform"), "{}", out.stdout);
    // Under IAM enforcement (moto then fails presigned URLs signed with a session token, so
    // verify ran before) the role may do exactly what the policy says, and nothing else.
    enforce_from_now(&server);
    let role_s3 = s3(&sdk_config_with_token(&server.url(), credentials, APP_REGION));
    let put = role_s3.put_object().bucket(BUCKET).key("users/1/a.pdf").body(b"%PDF".to_vec().into()).send().await;
    assert!(put.is_ok(), "the role may not write the bucket: {put:?}");
    assert!(role_s3.list_buckets().send().await.is_err(), "the role holds more than the bucket's policy");
}

fn sdk_config_with_token(endpoint: &str, c: &aws_sdk_sts::types::Credentials, region: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_s3::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "test",
    );
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(credentials))
        .build()
}

#[tokio::test]
async fn destroy_removes_the_runtime_roles_t3s3_made_and_keeps_the_rest() {
    let server = moto(None);
    let ws = initialised(&server);
    for args in [&["--platform", "ec2"][..], &["--platform", "fly", "--fly-org", "acme", "--fly-app", "t3-chat"]] {
        assert_eq!(runtime_role(&ws, &server, args).code, 0);
    }
    let iam = root_iam(&server);
    let foreign = service_trust("lambda.amazonaws.com").to_string();
    iam.create_role().role_name("T3ChatBackendLambda").assume_role_policy_document(&foreign).send().await.unwrap();

    let account = snapshot(&server).await;
    let plan = run(ws.acting(&server).args(["destroy", "--dry-run", "--json"]));
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(snapshot(&server).await, account, "the dry run changed the account");
    let out = run(ws.acting(&server).args(["destroy", "--yes", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    for role in ["T3ChatBackendEc2", "T3ChatBackendFly"] {
        assert!(iam.get_role().role_name(role).send().await.is_err(), "{role} is still there");
    }
    assert!(iam.get_instance_profile().instance_profile_name("T3ChatBackendEc2").send().await.is_err());
    let providers = iam.list_open_id_connect_providers().send().await.unwrap();
    assert!(providers.open_id_connect_provider_list().is_empty(), "the Fly provider is still there");
    assert!(
        iam.get_role().role_name("T3ChatBackendLambda").send().await.is_ok(),
        "a role t3s3 did not make was deleted"
    );
}
