//! Stamps `t3s3 --version` with the commit it was built from and the target triple, so a bug
//! report names the exact build, and `ci-role`'s printed workflow can pin the install to it.
//! Outside a git checkout (a crate tarball) the commit reads "unknown".
//!
//! Cargo reruns this script only when a watched path changes, and treats a watched path that
//! does not exist as changed on every build. So only files that exist are watched: `.git/HEAD`
//! (a checkout of another branch) and the file holding the current branch's commit (the loose
//! ref, else `packed-refs`). A fresh clone has no `packed-refs` until git writes one.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok().filter(|output| output.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let full = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=T3S3_COMMIT={commit}");
    println!("cargo:rustc-env=T3S3_COMMIT_FULL={full}");
    println!("cargo:rustc-env=T3S3_TARGET={}", std::env::var("TARGET").unwrap_or_default());
    // Windows gives a program's main thread 1 MiB of stack (Linux and macOS: 8 MiB); the
    // commands' futures are driven on it, and a debug build overflowed it under Wine. The
    // same 8 MiB everywhere.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        match std::env::var("CARGO_CFG_TARGET_ENV").as_deref() {
            Ok("msvc") => println!("cargo:rustc-link-arg-bins=/STACK:8388608"),
            _ => println!("cargo:rustc-link-arg-bins=-Wl,--stack,8388608"),
        }
    }
    // The git folder as git itself sees it (a worktree's is elsewhere).
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]) else { return };
    let git_dir = Path::new(&git_dir);
    let head = git_dir.join("HEAD");
    if !head.is_file() {
        return;
    }
    println!("cargo:rerun-if-changed={}", head.display());
    let branch =
        std::fs::read_to_string(&head).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()));
    if let Some(branch) = branch {
        let loose = git_dir.join(&branch);
        let packed = git_dir.join("packed-refs");
        for path in [loose, packed] {
            if path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}
