//! Stamps `t3s3 --version` with the commit it was built from and the target triple, so a bug
//! report names the exact build. Outside a git checkout (a crate tarball) the commit reads
//! "unknown".

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|commit| !commit.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=T3S3_COMMIT={commit}");
    println!("cargo:rustc-env=T3S3_TARGET={}", std::env::var("TARGET").unwrap_or_default());
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
