//! The .env corpus. For every file t3s3 accepts, t3s3 and python-dotenv (the
//! backend's loader, pinned in the test venv) read the same keys and values, and a merge of
//! the four S3 settings leaves every other value, and every other line, as it was. Files t3s3
//! refuses are refused as bad input (exit 2) naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use t3s3::envfile::EnvFile;
use t3s3::exit::{ExitStatus, status_of};

const MANAGED: [&str; 5] =
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "S3_BUCKET_NAME", "AWS_ENDPOINT_URL"];

/// The shapes: (name, bytes). None of them refers to a managed key with `${...}`.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let huge = format!("BIG={}\nAFTER=1\n", "x".repeat(100_000));
    let text: Vec<(&str, String)> = vec![
        ("plain", "A=1\nB=two\n".into()),
        ("no final newline", "A=1\nB=2".into()),
        ("crlf", "A=1\r\nB=2\r\n".into()),
        ("lone cr", "A=1\rB=2\r".into()),
        ("export", "export A=1\nexport  B=2\n".into()),
        ("export without space", "exportA=1\n".into()),
        ("double quotes", "A=\"with spaces\"\n".into()),
        ("single quotes", "A='with spaces'\n".into()),
        ("double-quote escapes", "A=\"l1\\nl2\\t\\\"q\\\" \\\\ \\x\"\n".into()),
        ("single-quote escapes", "A='it\\'s \\\\ \\n'\n".into()),
        ("multi-line double", "NOTE=\"first line\nAWS_REGION=us-east-1\nlast line\"\nDEBUG=1\n".into()),
        ("multi-line single", "KEY='-----BEGIN-----\nabc\n-----END-----'\nNEXT=1\n".into()),
        ("multi-line crlf inside quotes", "A=\"one\r\ntwo\"\r\nB=3\r\n".into()),
        ("inline comment", "A=value # comment\nB=v\t# tab comment\n".into()),
        ("hash without space", "A=x#y\nB=#z\n".into()),
        ("empty via comment", "A= # nothing\n".into()),
        ("empty value", "A=\nB=''\nC=\"\"\n".into()),
        ("no equals", "LONELY\nA=1\n".into()),
        ("spaces around equals", "A = 1\nB\t=\t2\n".into()),
        ("leading white space", "   A=1\n\tB=2\n".into()),
        ("comments and blanks", "# top\n\n  # indented\nA=1\n\n\n".into()),
        ("bom then comment", "\u{feff}# settings\nDEBUG=1\n".into()),
        ("bom then key", "\u{feff}A=1\n".into()),
        ("duplicates", "A=1\nA=2\nB=x\nB=x\n".into()),
        ("unterminated double", "DEBUG=\"1\nA=2\n".into()),
        ("unterminated single", "A='x\nB=2\n".into()),
        ("text after quote", "A=\"x\" y\nB=2\n".into()),
        ("quote then comment", "A=\"x\" # c\nB='y'   # d\n".into()),
        ("quoted key", "'odd key'=v\nA=1\n".into()),
        ("unicode", "NAME=Zoë 🚀\nCITY=\"Мумбаи\"\n".into()),
        ("trailing spaces", "A=1   \nB='2 '  \n".into()),
        ("interpolation", "A=1\nB=${A}-${NOPE:-dflt}-${NONE}\nC='${A}'\nD=\"${A}\"\nE=${A:x}\n".into()),
        ("dollar without braces", "A=1\nB=$A\n".into()),
        ("equals in value", "URL=postgres://u:p@h:5432/db?x=1&y=2\n".into()),
        ("nul byte", "A=a\0b\nB=2\n".into()),
        ("huge line", huge),
        ("only white space", "  \n\t\n".into()),
        ("empty file", String::new()),
        ("dots and dashes in keys", "my.key-1=v\n".into()),
        ("form feed", "A=1\u{0c}\nB=2\n".into()),
        ("no-break space", "A=\u{a0}x\nB=y\u{a0}# c\n".into()),
        ("file separator is white space", "A=x\u{1c}#c\n".into()),
        ("stray quote at end", "A=abc\"\nB=2\n".into()),
        ("typographic quotes", "A=“x”\n".into()),
        ("managed keys present", "DEBUG=1\nexport AWS_REGION=us-east-1\nS3_BUCKET_NAME=old-bucket\nTAIL=x\n".into()),
        ("managed key multi-line", "S3_BUCKET_NAME=\"a\nb\"\nAFTER=1\n".into()),
        ("managed key twice", "AWS_REGION=us-east-1\nX=1\nAWS_REGION=eu-west-1\n".into()),
        ("managed key in a comment", "# AWS_REGION=us-east-1\nA=1\n".into()),
        ("crlf with managed keys", "DEBUG=1\r\nAWS_REGION=us-east-1\r\n".into()),
        ("section header present", "A=1\n\n# AWS S3 Configuration\nAWS_REGION=x\n".into()),
    ];
    text.into_iter().map(|(name, text)| (name, text.into_bytes())).collect()
}

/// What python-dotenv's `dotenv_values` reads from each file, with an empty environment.
fn python_dotenv(paths: &[PathBuf]) -> Vec<Result<BTreeMap<String, Option<String>>, String>> {
    let script = r#"
import json, sys
from dotenv import dotenv_values
for path in sys.argv[1:]:
    try:
        print(json.dumps({"ok": dict(dotenv_values(path, encoding="utf-8"))}))
    except Exception as error:
        print(json.dumps({"error": type(error).__name__}))
"#;
    let python = crate::common::repo().join(".venv/bin/python");
    let output =
        Command::new(python).env_clear().arg("-c").arg(script).args(paths).output().expect("run python-dotenv");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            match value.get("ok") {
                Some(ok) => Ok(serde_json::from_value(ok.clone()).unwrap()),
                None => Err(value["error"].as_str().unwrap().to_string()),
            }
        })
        .collect()
}

fn t3s3_reads(path: &Path) -> BTreeMap<String, Option<String>> {
    EnvFile::read(path).expect("accepted").dotenv_values(&BTreeMap::new())
}

const UPDATES: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("AWS_REGION", "ap-south-1"),
    ("S3_BUCKET_NAME", "t3-chat-documents-corpus"),
];

/// The file's text without the statements that set a managed key.
fn without_managed(path: &Path) -> String {
    let mut env = EnvFile::read(path).unwrap();
    env.remove(&MANAGED);
    env.contents()
}

#[test]
fn t3s3_reads_every_accepted_file_as_python_dotenv_does_and_merges_keep_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = corpus();
    assert!(corpus.len() >= 40, "{} shapes", corpus.len());
    let mut originals = Vec::new();
    let mut merged = Vec::new();
    for (index, (_, bytes)) in corpus.iter().enumerate() {
        let original = dir.path().join(format!("case{index:02}.env"));
        std::fs::write(&original, bytes).unwrap();
        let target = dir.path().join(format!("merged{index:02}.env"));
        let mut env = EnvFile::read(&original).unwrap();
        env.merge(&UPDATES);
        std::fs::write(&target, env.contents()).unwrap();
        originals.push(original);
        merged.push(target);
    }
    let python_original = python_dotenv(&originals);
    let python_merged = python_dotenv(&merged);
    for (index, (name, _)) in corpus.iter().enumerate() {
        let python = python_original[index].as_ref().unwrap_or_else(|e| panic!("{name}: python-dotenv failed: {e}"));
        assert_eq!(&t3s3_reads(&originals[index]), python, "{name}: t3s3 and python-dotenv disagree");

        // After the merge: the four settings are the new values, everything else as before.
        let mut expected = python.clone();
        for (key, value) in UPDATES {
            expected.insert(key.to_string(), Some(value.to_string()));
        }
        let after = python_merged[index].as_ref().unwrap();
        assert_eq!(after, &expected, "{name}: the merge changed what python-dotenv reads");
        assert_eq!(&t3s3_reads(&merged[index]), after, "{name}: t3s3 misreads its own merge");

        // Every line that is not a managed setting survives byte for byte, in order.
        let before = without_managed(&originals[index]);
        let kept = without_managed(&merged[index]);
        let before = if before.is_empty() || before.ends_with(['\n', '\r']) { before } else { format!("{before}\n") };
        assert!(kept.starts_with(&before), "{name}: other lines changed:\n{before:?}\n{kept:?}");
        let added = &kept[before.len()..];
        assert!(
            added.split(['\n', '\r']).all(|line| line.is_empty() || line == "# AWS S3 Configuration"),
            "{name}: unexpected additions {added:?}"
        );
    }
}

#[test]
fn a_multi_line_value_is_never_rewritten_from_inside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "NOTE=\"first line\nAWS_REGION=us-east-1\nlast line\"\nDEBUG=1\n").unwrap();
    let mut env = EnvFile::read(&path).unwrap();
    let outcome = env.merge(&[("AWS_REGION", "ap-south-1")]);
    assert_eq!(outcome.added, ["AWS_REGION"], "the line inside the quotes is not a setting");
    assert_eq!(
        env.contents(),
        "NOTE=\"first line\nAWS_REGION=us-east-1\nlast line\"\nDEBUG=1\n\n# AWS S3 Configuration\nAWS_REGION=ap-south-1\n"
    );
    assert!(env.lint().is_empty(), "no spurious findings for a multi-line value: {:?}", env.lint());
}

fn refused(path: &Path) -> String {
    let error = EnvFile::read(path).expect_err("refused");
    assert_eq!(status_of(&error), ExitStatus::BadInput, "{error:#}");
    format!("{error:#}")
}

#[test]
fn unreadable_files_are_bad_input_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.env");
    std::fs::write(&bad, b"A=1\nB=caf\xe9\nC=3\n").unwrap();
    let message = refused(&bad);
    assert!(message.contains("bad.env line 2 is not UTF-8"), "{message}");

    assert!(refused(dir.path()).contains("is a folder"));

    let dangling = dir.path().join("dangling.env");
    std::os::unix::fs::symlink(dir.path().join("nowhere.env"), &dangling).unwrap();
    assert!(refused(&dangling).contains("does not exist"));

    let locked = dir.path().join("locked.env");
    std::fs::write(&locked, "A=1\n").unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        // Root reads a mode-000 file: a file whose read fails for anyone stands in for it
        // (/proc/self/mem at offset 0 answers EIO).
        std::fs::remove_file(&locked).unwrap();
        std::os::unix::fs::symlink("/proc/self/mem", &locked).unwrap();
        assert!(std::fs::read(&locked).is_err(), "no file here fails to read");
    }
    let message = refused(&locked);
    assert!(message.contains("cannot read") && message.contains("locked.env"), "{message}");
}

#[test]
fn a_symlinked_env_is_written_through_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    let target = dir.path().join("shared/real.env");
    std::fs::write(&target, "A=1\n").unwrap();
    let link = dir.path().join(".env");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut env = EnvFile::read(&link).unwrap();
    env.merge(&[("AWS_REGION", "ap-south-1")]);
    env.write().unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is kept");
    assert!(std::fs::read_to_string(&target).unwrap().contains("AWS_REGION=ap-south-1"));
    assert_eq!(std::fs::read_dir(dir.path().join("shared")).unwrap().count(), 1, "no temp file left beside the target");
}
