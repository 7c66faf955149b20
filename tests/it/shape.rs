//! The crate's shape, checked with the tests: scripts/check-shape.py (layers as lib.rs lists
//! them, no import cycle, no command importing another, only the SDK modules sending
//! requests, no function over 80 lines) and its own tests.

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
