//! The guide's billing alert (AWS Budgets, which moto implements) and `t3s3 ls`, against moto
//! on loopback; the denied case under moto's IAM enforcement.

use crate::common::*;

const BUCKET: &str = "t3-chat-documents-budget";

fn init(ws: &Workspace, server: &Server, extra: &[&str]) -> Run {
    run(ws
        .acting(server)
        .args(["--region", APP_REGION, "init", "--bucket", BUCKET, "--create-user", "--no-verify", "--json"])
        .args(extra))
}

fn budgets_client(server: &Server) -> aws_sdk_budgets::Client {
    aws_sdk_budgets::Client::new(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, "us-east-1"))
}

async fn budgets_of(server: &Server) -> Vec<(String, String, usize)> {
    let client = budgets_client(server);
    let listed = client.describe_budgets().account_id("123456789012").send().await.unwrap();
    let mut found = Vec::new();
    for budget in listed.budgets() {
        let name = budget.budget_name().to_string();
        let notes = client
            .describe_notifications_for_budget()
            .account_id("123456789012")
            .budget_name(&name)
            .send()
            .await
            .unwrap();
        let limit = budget.budget_limit().map(|s| s.amount().to_string()).unwrap_or_default();
        found.push((name, limit, notes.notifications().len()));
    }
    found
}

#[tokio::test]
async fn init_sets_one_budget_with_both_alerts_doctor_sees_it_and_destroy_removes_it() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write("backend/.env", "DEBUG=1\n");

    let plan = init(&ws, &server, &["--dry-run", "--budget-email", "dev@example.com"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(resource_statuses(&plan.json())["budget"], "would_create");
    assert!(budgets_of(&server).await.is_empty(), "the dry run made a budget");
    assert_eq!(snapshot(&server).await, "", "the dry run made something");

    let out = init(&ws, &server, &["--budget-email", "dev@example.com"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(resource_statuses(&out.json())["budget"], "created");
    let found = budgets_of(&server).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "t3s3-monthly-cost");
    assert_eq!(found[0].1.parse::<f64>().unwrap(), 5.0);
    assert_eq!(found[0].2, 2, "actual 80% and forecast 100%");

    let again = init(&ws, &server, &["--budget-email", "dev@example.com"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(resource_statuses(&again.json())["budget"], "unchanged");
    assert_eq!(again.json()["requests"]["mutating"], 0, "{}", again.stdout);
    assert_eq!(budgets_of(&server).await.len(), 1, "a second budget");

    // A lost alert is added back; nothing else changes.
    let forecast = aws_sdk_budgets::types::Notification::builder()
        .notification_type(aws_sdk_budgets::types::NotificationType::Forecasted)
        .comparison_operator(aws_sdk_budgets::types::ComparisonOperator::GreaterThan)
        .threshold(100.0)
        .threshold_type(aws_sdk_budgets::types::ThresholdType::Percentage)
        .build()
        .unwrap();
    let client = budgets_client(&server);
    let request = client.delete_notification().account_id("123456789012").budget_name("t3s3-monthly-cost");
    request.notification(forecast).send().await.unwrap();
    assert_eq!(budgets_of(&server).await[0].2, 1);
    let mended = init(&ws, &server, &["--budget-email", "dev@example.com"]);
    assert_eq!(mended.code, 0, "{}", mended.all());
    assert_eq!(resource_statuses(&mended.json())["budget"], "updated", "{}", mended.stdout);
    assert_eq!(budgets_of(&server).await[0].2, 2, "the forecast alert is back");

    let alert = doctor_check(&ws, &server, "billing_alert");
    assert_eq!(alert["status"], "PASS", "{alert}");
    assert!(alert["evidence"].as_str().unwrap().contains("t3s3-monthly-cost"), "{alert}");

    let out = run(ws.acting(&server).args(["destroy", "--yes", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(budgets_of(&server).await.is_empty(), "destroy left the budget");
    assert_eq!(init(&ws, &server, &[]).code, 0, "set up again, without a budget");
    let alert = doctor_check(&ws, &server, "billing_alert");
    assert_eq!(alert["status"], "WARN", "{alert}");
    let advised = format!("`t3s3 --endpoint-url {} init --budget-email", server.url());
    assert!(alert["fix"].as_str().unwrap().contains(&advised), "{alert}");
}

#[tokio::test]
async fn destroy_keeps_a_budget_t3s3_did_not_make_and_bad_budget_input_changes_nothing() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write("backend/.env", "DEBUG=1\n");
    // Each refused by t3s3's own check (`=-3`, not `-3`, which clap would take for a flag).
    for (args, said) in [
        (&["--budget-email", "not-an-address"][..], "--budget-email `not-an-address` is not an e-mail address"),
        (&["--budget-email", "a@b.co", "--budget-usd=-3"], "--budget-usd -3 is not a positive amount"),
        (&["--budget-email", "a@b.co", "--budget-usd", "0"], "--budget-usd 0 is not a positive amount"),
        (&["--budget-email", "a@b.co", "--budget-usd", "NaN"], "--budget-usd NaN is not a positive amount"),
        (&["--budget-email", "a@b.co", "--budget-usd", "inf"], "--budget-usd inf is not a positive amount"),
    ] {
        let out = init(&ws, &server, args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.all().contains(said), "{args:?} must say {said:?}: {}", out.all());
    }
    let client = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    assert!(client.list_buckets().send().await.unwrap().buckets().is_empty(), "bad input changed something");

    let limit = aws_sdk_budgets::types::Spend::builder().amount("100").unit("USD").build().unwrap();
    let theirs = aws_sdk_budgets::types::Budget::builder()
        .budget_name("team-budget")
        .budget_limit(limit)
        .time_unit(aws_sdk_budgets::types::TimeUnit::Monthly)
        .budget_type(aws_sdk_budgets::types::BudgetType::Cost)
        .build()
        .unwrap();
    budgets_client(&server).create_budget().account_id("123456789012").budget(theirs).send().await.unwrap();
    assert_eq!(init(&ws, &server, &[]).code, 0);
    // A cost budget without notifications warns nobody.
    assert_eq!(doctor_check(&ws, &server, "billing_alert")["status"], "WARN");
    let out = run(ws.acting(&server).args(["destroy", "--yes"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(budgets_of(&server).await.len(), 1, "destroy removed a budget it did not make");
}

#[tokio::test]
async fn credentials_that_may_not_use_budgets_get_a_warning_and_init_goes_on() {
    let (server, admin) = enforcing_moto().await;
    let config = sdk_config(&server.url(), &admin.id, &admin.secret, "us-east-1");
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"budgets:*","Resource":"*"}]}"#;
    iam(&config)
        .put_user_policy()
        .user_name("admin")
        .policy_name("no-budgets")
        .policy_document(deny)
        .send()
        .await
        .unwrap();
    // moto (not AWS) rejects the signature of an IAM form body holding spaces once it
    // enforces signatures: the policy init would create is made first, compact.
    let ws = Workspace::new();
    let document: serde_json::Value =
        serde_json::from_str(&run(ws.t3s3().args(["policy", "--bucket", BUCKET])).stdout).unwrap();
    iam(&config)
        .create_policy()
        .policy_name("T3ChatS3Policy")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    ws.write("backend/.env", "DEBUG=1\n");
    let out = run(ws
        .t3s3()
        .env("AWS_ACCESS_KEY_ID", &admin.id)
        .env("AWS_SECRET_ACCESS_KEY", &admin.secret)
        .args(["--endpoint-url", &server.url(), "--region", APP_REGION, "init", "--bucket", BUCKET])
        .args(["--create-user", "--no-verify", "--json", "--budget-email", "dev@example.com"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("billing alert not set") && warnings.contains("budgets:ViewBudget"), "{report}");
    assert!(!resource_statuses(&report).contains_key("budget"), "{report}");
    assert!(ws.read("backend/.env").contains("S3_BUCKET_NAME=t3-chat-documents-budget"));

    let doctor = run(ws.t3s3().env("AWS_ACCESS_KEY_ID", &admin.id).env("AWS_SECRET_ACCESS_KEY", &admin.secret).args([
        "--endpoint-url",
        &server.url(),
        "doctor",
        "--json",
    ]));
    let alert =
        doctor.json()["checks"].as_array().unwrap().iter().find(|c| c["id"] == "billing_alert").unwrap().clone();
    assert_eq!(alert["status"], "SKIPPED", "{alert}");
    assert!(alert["evidence"].as_str().unwrap().contains("may not read budgets"), "{alert}");
}

#[tokio::test]
async fn ls_lists_more_than_a_page_sorted_with_totals_and_a_summary_by_prefix() {
    let server = moto(None);
    let ws = Workspace::new();
    ws.write("backend/.env", "DEBUG=1\n");
    assert_eq!(init(&ws, &server, &[]).code, 0);
    let client = s3(&sdk_config(&server.url(), ROOT_KEY_ID, ROOT_SECRET, APP_REGION));
    // 1,005 objects: more than ListObjectsV2's page of 1,000.
    for i in 0..1005u32 {
        let (key, body) = if i % 5 == 0 {
            (format!("readme-{i:04}.txt"), vec![b'r'; 10])
        } else {
            (format!("users/{}/doc-{i:04}.pdf", i % 7), vec![b'%'; 100])
        };
        client.put_object().bucket(BUCKET).key(key).body(body.into()).send().await.unwrap();
    }

    let out = run(ws.t3s3().args(["ls", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let report = out.json();
    let keys: Vec<String> =
        report["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap().to_string()).collect();
    assert_eq!(keys.len(), 1005);
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted by key");
    assert_eq!(report["total_objects"], 1005);
    assert_eq!(report["total_bytes"], 201 * 10 + 804 * 100);
    assert!(report["objects"][0]["last_modified"].is_string() && report["objects"][0]["size"] == 10);

    let out = run(ws.t3s3().args(["ls", "users/3/"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.lines().filter(|l| l.contains("users/3/doc-")).count() > 100, "{}", out.stdout);
    assert!(!out.stdout.contains("readme-"), "{}", out.stdout);
    assert!(!out.stdout.contains("%%%%"), "contents were printed");

    let out = run(ws.t3s3().args(["ls", "--summary", "--json"]));
    let prefixes = out.json()["prefixes"].clone();
    let users = prefixes.as_array().unwrap().iter().find(|p| p["prefix"] == "users/").unwrap().clone();
    assert_eq!((users["objects"].as_u64(), users["bytes"].as_u64()), (Some(804), Some(80_400)), "{prefixes}");
    let text = run(ws.t3s3().args(["ls", "--summary"]));
    assert!(text.stdout.contains("1005 objects,"), "{}", text.stdout);

    // Without the settings there is nothing to list with: bad input, no request.
    let empty = Workspace::new();
    let out = run(empty.t3s3().arg("ls"));
    assert_eq!(out.code, 2, "{}", out.all());
}

#[test]
fn budget_alone_points_at_budget_email() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().args(["init", "--budget", "5"]));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--budget-email ADDRESS"), "{}", out.stderr);
}
