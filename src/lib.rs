//! t3s3: set up, verify and audit the S3 bucket, IAM policy and `.env` of a T3 Chat backend.
//!
//! Layers, top to bottom; a module uses only modules of its own layer or below:
//!
//! 1. `run` (parse, dispatch, print the error, exit code) and `commands` (one file per
//!    subcommand: arguments -> options -> operation -> report -> exit status). No command
//!    imports another.
//! 2. `ops`: the work (`selftest`, `converge`, `audit`, `teardown`, `rotate`). Each returns
//!    a report that implements `ui::Render`. No operation calls the SDK.
//! 3. `bucket`, `iam`, `sts`, `budgets`: the only modules that send requests (the SDK's, and
//!    `bucket::fetch_presigned`'s plain GET of a presigned URL, as a browser would send it); each failed call becomes one
//!    `aws_error::AwsError`. `diagnose` explains those errors.
//! 4. `aws` (the one place clients are built), `backend` (the backend's Python), `settings`, `envfile`, `fsio` (atomic writes, the lock, private files), `git`, `policy`,
//!    `bucket_name`, `project` (`[tool.t3s3]` in pyproject.toml), `runtime_trust` (who may assume the deployed backend's role), `guard` (the commit guard's scanner), `prompt`, `cli`, `ui` (the printer; it knows no command).
//! 5. `exit` (`Failure`, `ExitStatus`, the changes an error happened after: every layer
//!    fails through it), `change` (what a run changed, typed), `aws_error`, `keys`, `mask`
//!    (the secrets t3s3 knows, hidden in any text), `region`, `suggest`, `blocking`,
//!    `dotenv` (python-dotenv's grammar), `guide` (the seven steps, one table for the
//!    self-test and the backend driver), `join`: plain types and functions, no crate imports
//!    besides each other.
//!
//! `scripts/check-shape.py` reads this list and fails a module that imports one above its
//! layer; `tests/it/shape.rs` runs it with the tests.

pub mod aws;
pub mod aws_error;
pub mod backend;
pub mod blocking;
pub mod bucket;
pub mod bucket_name;
pub mod budgets;
pub mod change;
pub mod cli;
pub mod commands;
pub mod diagnose;
pub mod dotenv;
pub mod envfile;
pub mod exit;
pub mod fsio;
pub mod git;
pub mod guard;
pub mod guide;
pub mod iam;
pub mod join;
pub mod keys;
pub mod mask;
pub mod ops;
pub mod policy;
pub mod project;
pub mod prompt;
pub mod region;
pub mod run;
pub mod runtime_trust;
pub mod settings;
pub mod sts;
pub mod suggest;
pub mod ui;
