//! The GitHub Action's install step (`scripts/action-install.sh`), run as a Linux runner runs
//! it, against a release served on loopback: the binary lands on the job's PATH only when it
//! matches the release's SHA256SUMS, and a ref with no release is built from source.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const TAG: &str = "v9.9.9";

fn asset() -> String {
    format!("t3s3-{}-unknown-linux-gnu", std::env::consts::ARCH)
}

fn runner_arch() -> &'static str {
    if std::env::consts::ARCH == "aarch64" { "ARM64" } else { "X64" }
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

/// A release folder as release.yml publishes it: the binary, a wheel and SHA256SUMS.
fn publish(root: &Path, binary: &[u8]) -> PathBuf {
    let dir = root.join(TAG);
    std::fs::create_dir_all(&dir).unwrap();
    let published = dir.join(asset());
    std::fs::write(&published, binary).unwrap();
    std::fs::write(dir.join("t3s3-9.9.9-py3-none-manylinux_2_34_x86_64.whl"), b"wheel").unwrap();
    let sums = format!(
        "{}  {}\n{}  t3s3-9.9.9-py3-none-manylinux_2_34_x86_64.whl\n",
        sha256(&published),
        asset(),
        sha256(&dir.join("t3s3-9.9.9-py3-none-manylinux_2_34_x86_64.whl"))
    );
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
    published
}

struct Runner {
    temp: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        Runner { temp: tempfile::tempdir().unwrap() }
    }

    fn github_path(&self) -> PathBuf {
        self.temp.path().join("github_path")
    }

    /// The install step with the environment action.yml gives it.
    fn install(&self, releases: &str, action_ref: &str, path_prefix: Option<&Path>) -> Run {
        self.install_version(releases, action_ref, "", path_prefix)
    }

    fn install_version(&self, releases: &str, action_ref: &str, version: &str, path_prefix: Option<&Path>) -> Run {
        let mut command = Command::new("bash");
        command
            .arg(repo().join("scripts/action-install.sh"))
            .env("T3S3_VERSION", version)
            .env("T3S3_ACTION_REF", action_ref)
            .env("T3S3_REPO", "acme/t3s3")
            .env("T3S3_SOURCE", repo())
            .env("T3S3_RELEASES", releases)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", runner_arch())
            .env("RUNNER_TEMP", self.temp.path())
            .env("GITHUB_PATH", self.github_path());
        if let Some(prefix) = path_prefix {
            let path = std::env::var("PATH").unwrap_or_default();
            command.env("PATH", format!("{}:{path}", prefix.display()));
        }
        run(&mut command)
    }

    fn added_to_path(&self) -> Vec<String> {
        std::fs::read_to_string(self.github_path()).unwrap_or_default().lines().map(str::to_string).collect()
    }
}

#[test]
fn the_release_binary_is_installed_only_when_it_matches_its_checksum() {
    let releases = tempfile::tempdir().unwrap();
    let binary = std::fs::read(env!("CARGO_BIN_EXE_t3s3")).unwrap();
    let published = publish(releases.path(), &binary);
    let server = static_files(releases.path());

    let runner = Runner::new();
    let out = runner.install(&server.url(), TAG, None);
    assert_eq!(out.code, 0, "{}", out.all());
    let path = runner.added_to_path();
    assert_eq!(path.len(), 1, "{path:?}");
    let version = run(Command::new(Path::new(&path[0]).join("t3s3")).arg("--version"));
    assert_eq!(version.code, 0, "{}", version.all());
    assert!(version.stdout.starts_with("t3s3 "), "{}", version.stdout);
    assert!(out.stdout.contains(&sha256(&published)), "{}", out.stdout);

    // A binary swapped after the sums were published is refused and not left behind.
    let mut tampered = binary.clone();
    tampered.extend_from_slice(b"\0tampered");
    std::fs::write(&published, &tampered).unwrap();
    let runner = Runner::new();
    let out = runner.install(&server.url(), TAG, None);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("does not match the release's SHA256SUMS"), "{}", out.all());
    assert!(runner.added_to_path().is_empty(), "{:?}", runner.added_to_path());
    assert!(!runner.temp.path().join("t3s3/bin/t3s3").exists());
}

#[test]
fn a_ref_without_a_release_is_built_from_the_actions_checkout() {
    let releases = tempfile::tempdir().unwrap();
    let server = static_files(releases.path());
    // cargo itself would build for minutes; a stand-in on PATH records what it was asked.
    let tools = tempfile::tempdir().unwrap();
    let record = tools.path().join("cargo-args");
    std::fs::write(tools.path().join("cargo"), format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", record.display()))
        .unwrap();
    let cargo = tools.path().join("cargo");
    let mut permissions = std::fs::metadata(&cargo).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&cargo, permissions).unwrap();

    let runner = Runner::new();
    let out = runner.install(&server.url(), "main", Some(tools.path()));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("no t3s3 release binary for main"), "{}", out.stdout);
    let args = std::fs::read_to_string(&record).expect("cargo was run");
    let root = runner.temp.path().join("t3s3");
    let expected = format!("install\n--locked\n--root\n{}\n--path\n{}\n", root.display(), repo().display());
    assert_eq!(args, expected);
    assert_eq!(runner.added_to_path(), [root.join("bin").display().to_string()]);
}

#[test]
fn a_version_that_is_not_a_plain_tag_is_refused_before_any_download() {
    let releases = tempfile::tempdir().unwrap();
    let binary = std::fs::read(env!("CARGO_BIN_EXE_t3s3")).unwrap();
    publish(releases.path(), &binary);
    // Another release, reachable by a path that climbs out of the tag's folder.
    let other = releases.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    publish(&other, &binary);
    let server = static_files(releases.path());
    for version in ["../other/v9.9.9", "v9.9.9/../../other/v9.9.9", "..", "v9.9.9;rm"] {
        let runner = Runner::new();
        let out = runner.install_version(&server.url(), TAG, version, None);
        assert_eq!(out.code, 1, "{version}: {}", out.all());
        assert!(out.all().contains("is not a release tag or commit"), "{version}: {}", out.all());
        assert!(runner.added_to_path().is_empty(), "{version}");
    }
}

#[test]
fn downloads_are_https_only_except_on_loopback() {
    let script = std::fs::read_to_string(repo().join("scripts/action-install.sh")).unwrap();
    let downloads: Vec<&str> = script.lines().filter(|l| l.contains("curl ")).collect();
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    for line in downloads {
        assert!(line.contains("--proto \"$proto\" --proto-redir \"$proto\""), "{line}");
    }
    // A release host given as plain http (not loopback) is never fetched from.
    let runner = Runner::new();
    let server = static_files(tempfile::tempdir().unwrap().path());
    let plain = server.url().replace("127.0.0.1", "localhost");
    let tools = tempfile::tempdir().unwrap();
    let cargo = tools.path().join("cargo");
    std::fs::write(&cargo, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = runner.install(&plain, TAG, Some(tools.path()));
    assert!(out.stderr.contains("Protocol \"http\" not supported") || out.stderr.contains("protocol"), "{}", out.all());
    assert!(out.stdout.contains("building from source"), "{}", out.all());
}
