//! The crate's shape, checked with the tests: scripts/check-shape.py (layers as lib.rs lists
//! them, no import cycle, no command importing another, only the SDK modules sending
//! requests, no function over 80 lines) and its own tests; the backend driver's functions,
//! tested and linted with ruff (both from the test venv).

use std::process::Command;

use crate::common::*;

fn python(script: &str, args: &[&str]) -> Run {
    run(Command::new("python3").arg(repo().join("scripts").join(script)).args(args))
}

#[test]
fn the_crate_keeps_its_layers_and_shape() {
    let out = python("check-shape.py", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn the_shape_gate_passes_its_own_tests() {
    let out = python("test_check_shape.py", &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("\nOK"), "{}", out.all());
}

/// The test venv's tool `name` (setup-test-env.sh installs it from the lock).
fn venv_tool(name: &str) -> std::path::PathBuf {
    let tool = repo().join(".venv/bin").join(name);
    assert!(tool.is_file(), "{} is missing: run scripts/setup-test-env.sh", tool.display());
    tool
}

#[test]
fn the_backend_driver_passes_its_unit_tests() {
    let out = run(Command::new(venv_tool("python")).arg(repo().join("scripts/test_backend_driver.py")));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("\nOK"), "{}", out.all());
}

#[test]
fn the_backend_driver_is_linted_and_formatted_with_ruff() {
    let files = [repo().join("src/backend_driver.py"), repo().join("scripts/test_backend_driver.py")];
    let check = run(Command::new(venv_tool("ruff")).current_dir(repo()).args(["check", "--no-cache"]).args(&files));
    assert_eq!(check.code, 0, "{}", check.all());
    let format =
        run(Command::new(venv_tool("ruff")).current_dir(repo()).args(["format", "--check", "--no-cache"]).args(&files));
    assert_eq!(format.code, 0, "{}", format.all());
}
