//! `t3s3 ci-role`: GitHub's OIDC provider and a role that one repository's branch
//! can assume, against moto; the role's credentials then pass `t3s3 verify`; doctor and
//! destroy know the role.

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-ci";
const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

/// A project after `init`: its .env names the bucket and region.
fn initialised(server: &Server) -> Workspace {
    let ws = Workspace::new();
    ws.initialise(server, BUCKET);
    ws
}

fn ci_role(ws: &Workspace, server: &Server, extra: &[&str]) -> Run {
    run(ws.acting(server).args(["ci-role", "--json", "--repo", "acme/t3-chat"]).args(extra))
}

fn root_iam(server: &Server) -> aws_sdk_iam::Client {
    iam(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"))
}

async fn trust_of(server: &Server, role: &str) -> serde_json::Value {
    let got = root_iam(server).get_role().role_name(role).send().await.unwrap();
    let raw = got.role().unwrap().assume_role_policy_document().unwrap().to_string();
    serde_json::from_str(&t3s3::iam::decode_document(&raw)).unwrap()
}

/// The role's temporary credentials, as configure-aws-credentials gets them with the job's
/// OIDC token (moto does not check the token itself).
async fn assume_ci_role(config: &aws_config::SdkConfig) -> aws_sdk_sts::types::Credentials {
    let assumed = aws_sdk_sts::Client::new(config)
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::123456789012:role/T3ChatCI")
        .role_session_name("github-actions")
        .web_identity_token("eyJ.github-oidc-token.sig")
        .send()
        .await
        .unwrap();
    assumed.credentials().unwrap().clone()
}

/// `t3s3 verify --json` in a CI checkout: no .env, everything from the environment.
fn verify_as(credentials: &aws_sdk_sts::types::Credentials, server: &Server) -> Run {
    let ci = Workspace::new();
    run(ci
        .t3s3()
        .env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
        .env("AWS_SESSION_TOKEN", credentials.session_token())
        .env("AWS_REGION", APP_REGION)
        .env("S3_BUCKET_NAME", BUCKET)
        .env("AWS_ENDPOINT_URL", server.url())
        .args(["verify", "--json"]))
}

/// A YAML document as JSON, read by PyYAML (as GitHub's own loader would read it).
fn yaml(text: &str) -> serde_json::Value {
    let mut python = std::process::Command::new(repo().join(".venv/bin/python"))
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut python.stdin.take().unwrap(), text.as_bytes()).unwrap();
    serde_json::from_slice(&python.wait_with_output().unwrap().stdout).unwrap()
}

#[tokio::test]
async fn ci_role_looks_first_creates_once_and_trusts_one_repository_branch() {
    let server = moto(None);
    let ws = initialised(&server);

    let account = snapshot(&server).await;
    let plan = ci_role(&ws, &server, &["--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(snapshot(&server).await, account, "the dry run changed the account");
    let report = plan.json();
    assert_eq!(report["requests"]["mutating"], 0);
    assert_eq!(resource_statuses(&report)["role"], "would_create");
    assert!(root_iam(&server).get_role().role_name("T3ChatCI").send().await.is_err(), "the dry run made the role");

    let out = ci_role(&ws, &server, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    assert_eq!(report["role_arn"], "arn:aws:iam::123456789012:role/T3ChatCI");
    assert_eq!(report["role_arn"], plan.json()["role_arn"], "the dry run names the role the real run makes");
    let created = resource_statuses(&report);
    for resource in ["oidc_provider", "role", "attachment"] {
        assert_eq!(created[resource], "created", "{resource}: {report}");
    }
    let workflow = report["workflow"].as_str().unwrap();
    for line in [
        "id-token: write",
        "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2",
        "role-to-assume: arn:aws:iam::123456789012:role/T3ChatCI",
        "aws-region: ap-south-1",
        "run: t3s3 verify",
        "S3_BUCKET_NAME: t3-chat-documents-ci",
    ] {
        assert!(workflow.contains(line), "missing {line:?}:\n{workflow}");
    }
    // It is YAML GitHub can read: the job has the OIDC permission and assumes the role.
    let parsed = yaml(workflow);
    assert_eq!(parsed["permissions"]["id-token"], "write");
    let steps = parsed["jobs"]["verify"]["steps"].as_array().unwrap();
    let configure = "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502";
    let assume = steps.iter().find(|s| s["uses"] == configure).unwrap();
    assert_eq!(assume["with"]["role-to-assume"], "arn:aws:iam::123456789012:role/T3ChatCI");
    assert_eq!(steps.last().unwrap()["run"], "t3s3 verify");
    // What a reviewer's tools say of it, as of the project's own workflows: GitHub's schema,
    // and zizmor (every action pinned by commit, no token left in the checkout).
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join(".github/workflows/s3-check.yml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, workflow).unwrap();
    let schema = run(std::process::Command::new(repo().join(".venv/bin/check-jsonschema"))
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(&file));
    assert_eq!(schema.code, 0, "{}", schema.all());
    let zizmor = run(std::process::Command::new(repo().join(".venv/bin/zizmor")).args(["--offline"]).arg(&file));
    assert_eq!(zizmor.code, 0, "zizmor finds fault with the printed workflow:\n{}", zizmor.all());

    let trust = trust_of(&server, "T3ChatCI").await;
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Principal"]["Federated"], PROVIDER);
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:acme/t3-chat:ref:refs/heads/main"
    );
    assert_eq!(statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");
    assert!(!trust.to_string().contains('*'), "a wildcard in the trust policy: {trust}");
    let role = root_iam(&server).get_role().role_name("T3ChatCI").send().await.unwrap();
    assert_eq!(role.role().unwrap().max_session_duration(), Some(3600));
    let attached = root_iam(&server).list_attached_role_policies().role_name("T3ChatCI").send().await.unwrap();
    assert_eq!(attached.attached_policies()[0].policy_name(), Some("T3ChatS3Policy"));

    let again = ci_role(&ws, &server, &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(again.json()["requests"]["mutating"], 0, "a second run changes nothing: {}", again.stdout);
    assert_eq!(doctor_check(&ws, &server, "ci_role_trust")["status"], "PASS");

    for (repo, branch) in [("acme", "main"), ("acme/*", "main"), ("acme/t3-chat", "feature/*"), ("acme/t3-chat", "")] {
        let out = run(ws.acting(&server).args(["ci-role", "--repo", repo, "--branch", branch]));
        assert_eq!(out.code, 2, "{repo} {branch}: {}", out.all());
    }
}

#[tokio::test]
async fn the_roles_web_identity_credentials_pass_verify() {
    let server = moto(None);
    let ws = initialised(&server);
    assert_eq!(ci_role(&ws, &server, &[]).code, 0);

    // What aws-actions/configure-aws-credentials does with the job's OIDC token (moto does
    // not check the token itself).
    let credentials = assume_ci_role(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION)).await;
    let out = verify_as(&credentials, &server);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stdout.contains(credentials.session_token()));
}

#[tokio::test]
async fn doctor_fails_a_wide_trust_and_ci_role_narrows_it() {
    let server = moto(None);
    let ws = initialised(&server);
    assert_eq!(ci_role(&ws, &server, &[]).code, 0);
    let wide = trust_of(&server, "T3ChatCI")
        .await
        .to_string()
        .replace("StringEquals", "StringLike")
        .replace("repo:acme/t3-chat:ref:refs/heads/main", "repo:acme/*");
    root_iam(&server).update_assume_role_policy().role_name("T3ChatCI").policy_document(wide).send().await.unwrap();

    let found = doctor_check(&ws, &server, "ci_role_trust");
    assert_eq!(found["status"], "FAIL", "{found}");
    assert!(found["evidence"].as_str().unwrap().contains("repo:acme/*"), "{found}");

    let out = ci_role(&ws, &server, &[]);
    assert_eq!(resource_statuses(&out.json())["trust_policy"], "updated", "{}", out.stdout);
    assert_eq!(doctor_check(&ws, &server, "ci_role_trust")["status"], "PASS");
}

#[tokio::test]
async fn doctor_reads_every_statement_of_the_trust_and_warns_on_any_pull_request() {
    let server = moto(None);
    let ws = initialised(&server);
    assert_eq!(ci_role(&ws, &server, &[]).code, 0);
    let ours = trust_of(&server, "T3ChatCI").await;
    let with = |principal: serde_json::Value| {
        let mut trust = ours.clone();
        let extra = serde_json::json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
        trust["Statement"].as_array_mut().unwrap().push(extra);
        trust.to_string()
    };
    for (principal, named) in [
        (serde_json::json!({"AWS": "arn:aws:iam::999999999999:root"}), "999999999999"),
        (serde_json::json!({"AWS": "*"}), "\"*\""),
    ] {
        let trust = with(principal);
        root_iam(&server)
            .update_assume_role_policy()
            .role_name("T3ChatCI")
            .policy_document(trust)
            .send()
            .await
            .unwrap();
        let found = doctor_check(&ws, &server, "ci_role_trust");
        assert_eq!(found["status"], "FAIL", "{found}");
        assert!(found["evidence"].as_str().unwrap().contains(named), "{found}");
    }

    let any_pull_request = ours.to_string().replace("ref:refs/heads/main", "pull_request");
    root_iam(&server)
        .update_assume_role_policy()
        .role_name("T3ChatCI")
        .policy_document(any_pull_request)
        .send()
        .await
        .unwrap();
    let found = doctor_check(&ws, &server, "ci_role_trust");
    assert_eq!(found["status"], "WARN", "{found}");
    assert!(found["evidence"].as_str().unwrap().contains("any pull request"), "{found}");
}

#[tokio::test]
async fn destroy_removes_the_role_and_the_provider_only_when_nothing_else_trusts_it() {
    let server = moto(None);
    let ws = initialised(&server);
    assert_eq!(ci_role(&ws, &server, &[]).code, 0);
    // Another role of the account trusts the same provider: the provider stays.
    let other_trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:sub":"repo:acme/infra:ref:refs/heads/main"}}}}}}]}}"#
    );
    root_iam(&server).create_role().role_name("Infra").assume_role_policy_document(&other_trust).send().await.unwrap();

    let out = run(ws.acting(&server).args(["destroy", "--yes", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(root_iam(&server).get_role().role_name("T3ChatCI").send().await.is_err(), "the CI role is still there");
    let providers = root_iam(&server).list_open_id_connect_providers().send().await.unwrap();
    assert_eq!(providers.open_id_connect_provider_list().len(), 1, "the provider another role trusts was deleted");
    assert!(out.stdout.contains("trusted by Infra"), "{}", out.stdout);

    root_iam(&server).delete_role().role_name("Infra").send().await.unwrap();
    // The first destroy took the .env's settings: the region comes from the flag now.
    let out = run(ws.acting(&server).args(["--region", APP_REGION, "destroy", "--yes"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let providers = root_iam(&server).list_open_id_connect_providers().send().await.unwrap();
    assert!(
        providers.open_id_connect_provider_list().is_empty(),
        "t3s3's provider, trusted by nothing now, is still there"
    );
}

#[tokio::test]
async fn a_role_t3s3_did_not_create_is_refused_and_one_holding_more_is_never_adopted() {
    let server = moto(None);
    let ws = initialised(&server);
    let iam = root_iam(&server);
    let ec2_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name("T3ChatCI").assume_role_policy_document(ec2_trust).send().await.unwrap();
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name("T3ChatCI")
        .policy_name("everything")
        .policy_document(everything)
        .send()
        .await
        .unwrap();
    let admin = iam.create_policy().policy_name("AdminLike").policy_document(everything).send().await.unwrap();
    let admin_arn = admin.policy().unwrap().arn().unwrap().to_string();
    iam.attach_role_policy().role_name("T3ChatCI").policy_arn(&admin_arn).send().await.unwrap();
    let untouched = trust_of(&server, "T3ChatCI").await;

    let out = ci_role(&ws, &server, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.all().contains("t3s3 did not create it") && out.all().contains("--adopt"), "{}", out.all());
    assert_eq!(trust_of(&server, "T3ChatCI").await, untouched, "the trust was replaced");

    let out = ci_role(&ws, &server, &["--adopt"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("inline policy everything") && out.all().contains(&admin_arn), "{}", out.all());
    assert_eq!(trust_of(&server, "T3ChatCI").await, untouched, "the trust was replaced");

    let found = doctor_check(&ws, &server, "ci_role_trust");
    assert_eq!(found["status"], "FAIL", "{found}");
    assert!(found["evidence"].as_str().unwrap().contains("inline policy everything"), "{found}");

    // Emptied of everything else, it may be adopted; destroy still keeps it.
    iam.delete_role_policy().role_name("T3ChatCI").policy_name("everything").send().await.unwrap();
    iam.detach_role_policy().role_name("T3ChatCI").policy_arn(&admin_arn).send().await.unwrap();
    let out = ci_role(&ws, &server, &["--adopt"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(resource_statuses(&out.json())["trust_policy"], "updated");
    assert_eq!(doctor_check(&ws, &server, "ci_role_trust")["status"], "PASS");
    let again = ci_role(&ws, &server, &[]);
    assert_eq!(
        (again.code, again.json()["requests"]["mutating"].clone()),
        (0, serde_json::json!(0)),
        "{}",
        again.all()
    );
    let out = run(ws.acting(&server).args(["destroy", "--yes"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(iam.get_role().role_name("T3ChatCI").send().await.is_ok(), "destroy deleted a role it did not create");
}

#[tokio::test]
async fn the_workflow_installs_before_credentials_and_names_one_branch_or_environment() {
    let server = moto(None);
    let ws = initialised(&server);
    for (args, subject, branch) in [
        (vec!["--branch", "a,b"], "repo:acme/t3-chat:ref:refs/heads/a,b", "a,b"),
        (vec!["--branch", "x]"], "repo:acme/t3-chat:ref:refs/heads/x]", "x\\]"),
        (vec!["--environment", "production"], "repo:acme/t3-chat:environment:production", "main"),
    ] {
        let out = ci_role(&ws, &server, &args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.all());
        let report = out.json();
        assert_eq!(report["subject"], subject);
        let workflow = report["workflow"].as_str().unwrap();
        let parsed = yaml(workflow);
        // PyYAML reads the key `on` as YAML 1.1's boolean true.
        assert_eq!(parsed["true"]["push"]["branches"], serde_json::json!([branch]), "{workflow}");
        let steps = parsed["jobs"]["verify"]["steps"].as_array().unwrap();
        let install =
            steps.iter().position(|s| s["run"].as_str().is_some_and(|r| r.contains("cargo install"))).unwrap();
        let assume =
            steps.iter().position(|s| s["uses"].as_str().is_some_and(|u| u.contains("configure-aws"))).unwrap();
        assert!(install < assume, "t3s3 is built while the role's credentials exist:\n{workflow}");
        let command = steps[install]["run"].as_str().unwrap();
        assert!(command.contains("--rev ") || command.contains("--tag v"), "the install is not pinned: {command}");
        if args[0] == "--environment" {
            assert_eq!(parsed["jobs"]["verify"]["environment"], "production", "{workflow}");
        }
        assert!(out.all().contains("id-token: write"), "{}", out.all());
    }
    for branch in ["!main", "@{u}", "a/.b", "-x"] {
        let out = ci_role(&ws, &server, &["--branch", branch]);
        assert_eq!(out.code, 2, "{branch}: {}", out.all());
    }
}

#[tokio::test]
async fn under_iam_enforcement_the_roles_credentials_pass_verify_only_with_its_policy() {
    let server = moto(None);
    let ws = initialised(&server);
    assert_eq!(ci_role(&ws, &server, &[]).code, 0);
    let admin = create_user_with_key(&root_iam(&server), "admin").await;
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    root_iam(&server)
        .put_user_policy()
        .user_name("admin")
        .policy_name("all")
        .policy_document(everything)
        .send()
        .await
        .unwrap();
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, APP_REGION);
    // What configure-aws-credentials does with the job's token. The SDK sends this call
    // unsigned, which moto answers with HTTP 500 once it enforces, so it comes first.
    let credentials = assume_ci_role(&config).await;
    // From here on moto checks every signature and IAM policy (its reset-auth switch): the
    // role's credentials get exactly what its policies grant.
    enforce_from_now(&server);
    let verify = || verify_as(&credentials, &server);
    let statuses = |out: &Run| -> Vec<String> {
        out.json()["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_string()).collect()
    };
    let out = verify();
    // Steps 1-4 (settings, ListBucket, PutObject, GetObject) are signed in headers and checked
    // against the role's policy. moto answers any presigned URL with HTTP 500 while it
    // enforces (its S3 authorizer reads only header signatures), so step 5 cannot pass here;
    // the unenforced test above runs all seven.
    assert_eq!(statuses(&out)[..4], ["passed"; 4], "{}", out.all());
    assert!(out.stdout.contains("HTTP 500"), "{}", out.stdout);

    // Without its policy the same credentials are refused: the check above could fail.
    let policy = "arn:aws:iam::123456789012:policy/T3ChatS3Policy";
    iam(&config).detach_role_policy().role_name("T3ChatCI").policy_arn(policy).send().await.unwrap();
    let out = verify();
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(statuses(&out)[1], "failed", "{}", out.all());
    assert!(out.stdout.contains("AccessDenied"), "{}", out.stdout);
}

#[tokio::test]
async fn the_role_trusts_the_repositorys_default_branch_and_warns_of_one_that_does_not_exist() {
    let server = moto(None);
    let ws = initialised(&server);
    git(ws.path(), &["init", "-q", "-b", "master"]);
    git(ws.path(), &["commit", "-q", "--allow-empty", "-m", "first"]);
    let out = ci_role(&ws, &server, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["subject"], "repo:acme/t3-chat:ref:refs/heads/master", "a repository on master");
    assert!(out.json()["workflow"].as_str().unwrap().contains("branches: ['master']"));
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);

    let out = ci_role(&ws, &server, &["--branch", "release"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("warning: branch `release` does not exist"), "{}", out.stderr);
}
