//! `t3s3 policy`: the guide's least-privilege policy, and the bucket naming rules.

use crate::common::{Workspace, run};

#[test]
fn prints_only_valid_json_with_the_guides_five_actions() {
    let ws = Workspace::new();
    let out = run(ws.t3s3().args(["policy", "--bucket", "t3-chat-documents-john2024"]));
    assert_eq!(out.code, 0, "{}", out.all());
    let document = out.json();
    assert_eq!(document["Version"], "2012-10-17");
    assert_eq!(document["Statement"][0]["Sid"], "T3ChatS3Access");
    let mut pairs = Vec::new();
    for statement in document["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        for action in statement["Action"].as_array().unwrap() {
            pairs.push((action.as_str().unwrap().to_string(), statement["Resource"].as_str().unwrap().to_string()));
        }
    }
    pairs.sort();
    let bucket = "arn:aws:s3:::t3-chat-documents-john2024";
    let objects = "arn:aws:s3:::t3-chat-documents-john2024/*";
    let expected = vec![
        ("s3:DeleteObject".to_string(), objects.to_string()),
        ("s3:GetBucketLocation".to_string(), bucket.to_string()),
        ("s3:GetObject".to_string(), objects.to_string()),
        ("s3:ListBucket".to_string(), bucket.to_string()),
        ("s3:PutObject".to_string(), objects.to_string()),
    ];
    assert_eq!(pairs, expected);
}

#[test]
fn bad_bucket_names_exit_2_naming_the_rule_with_nothing_on_stdout() {
    let ws = Workspace::new();
    for (name, rule) in [
        ("ab", "3 to 63 characters"),
        ("My_Bucket", "lowercase letters"),
        ("-abc", "begin and end"),
        ("a..b", "adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--abc", "xn--"),
        ("sthree-abc", "sthree-"),
        ("amzn-s3-demo-abc", "amzn-s3-demo-"),
        ("abc-s3alias", "-s3alias"),
        ("abc--ol-s3", "--ol-s3"),
        ("abc.mrap", ".mrap"),
        ("abc--x-s3", "--x-s3"),
        ("abc--table-s3", "--table-s3"),
    ] {
        let out = run(ws.t3s3().args(["policy", "--bucket", name]));
        assert_eq!(out.code, 2, "{name}: {}", out.all());
        assert_eq!(out.stdout, "", "{name}");
        assert!(out.stderr.contains(rule), "{name}: {}", out.stderr);
        assert_eq!(out.stderr.matches("error:").count(), 1, "one message: {}", out.stderr);
    }
}

#[test]
fn colour_follows_color_and_no_color() {
    let ws = Workspace::new();
    let always = run(ws.t3s3().args(["--color", "always", "policy", "--bucket", "Bad"]));
    assert!(always.stderr.contains("\u{1b}["), "--color always colours: {:?}", always.stderr);
    // The harness sets NO_COLOR=1; auto then never colours, even where it could.
    let auto = run(ws.t3s3().args(["policy", "--bucket", "Bad"]));
    assert!(!auto.stderr.contains("\u{1b}["), "{:?}", auto.stderr);
    let never = run(ws.t3s3().args(["--color", "never", "policy", "--bucket", "Bad"]).env_remove("NO_COLOR"));
    assert!(!never.stderr.contains("\u{1b}["), "{:?}", never.stderr);
}

#[test]
fn without_bucket_the_envs_bucket_is_used() {
    let ws = Workspace::new();
    ws.write("backend/.env", "S3_BUCKET_NAME=t3-chat-documents-mine\n");
    let out = run(ws.t3s3().args(["policy", "--json"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.json()["bucket"], "t3-chat-documents-mine");
    assert!(out.stdout.contains("arn:aws:s3:::t3-chat-documents-mine/*"), "{}", out.stdout);
    let empty = Workspace::new();
    let out = run(empty.t3s3().arg("policy"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no --bucket") && out.stderr.contains("--bucket NAME"), "{}", out.stderr);
}
