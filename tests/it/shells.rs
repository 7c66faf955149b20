//! Completions read by the shells themselves: fish completes from its script, zsh parses its
//! own. Built only with `--features shell-tests` (scripts/test.sh turns it on when zsh and
//! fish are here, and names it as skipped when they are not).

use std::process::Command;

use crate::common::*;

/// fish completes from the script as a user's shell would (`complete -C`), and zsh parses its
/// script; each command is offered only its own options.
#[test]
fn fish_completes_each_command_with_its_own_options_and_zsh_reads_its_script() {
    let ws = Workspace::new();
    let fish_script = ws.write("t3s3.fish", &run(ws.t3s3().args(["completions", "fish"])).stdout);
    let complete = |line: &str| {
        let probe = format!("source {}; complete -C '{line}'", fish_script.display());
        let out = Command::new("fish")
            .args(["--no-config", "-c", &probe])
            .output()
            .expect("fish (scripts/install-system-tools.sh installs it)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().map(|l| l.split('\t').next().unwrap_or_default().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(complete("t3s3 ver"), ["verify"]);
    assert_eq!(complete("t3s3 policy --"), ["--bucket", "--color", "--env-file", "--help", "--json"]);
    let verify = complete("t3s3 verify --");
    assert!(verify.contains(&"--backend".to_string()) && verify.contains(&"--endpoint-url".to_string()), "{verify:?}");
    assert!(!verify.contains(&"--profile".to_string()), "{verify:?}");
    assert!(complete("t3s3 --").contains(&"--profile".to_string()));

    let zsh_script = ws.write("_t3s3", &run(ws.t3s3().args(["completions", "zsh"])).stdout);
    let zsh = Command::new("zsh")
        .arg("-n")
        .arg(&zsh_script)
        .output()
        .expect("zsh (scripts/install-system-tools.sh installs it)");
    assert!(zsh.status.success(), "{}", String::from_utf8_lossy(&zsh.stderr));
    assert!(std::fs::read_to_string(&zsh_script).unwrap().starts_with("#compdef t3s3"));
}
