//! The integration tests, one binary (one link of the AWS SDK, not one per area): a module per
//! area, the real `t3s3` binary against real servers on 127.0.0.1 (tests/it/common).
//! `shells` and `windows` need system tools and are built only with their features
//! (scripts/test.sh turns them on when the tools are here, and names them as skipped when not).

mod common;

mod action;
mod adversarial;
mod backend;
mod budgets;
mod ci_role;
mod dotenv_corpus;
mod faults;
mod guard;
mod hardening;
mod init;
mod live;
mod policy;
mod reach;
mod readme;
mod replay;
mod runtime_role;
mod security;
mod shape;
#[cfg(feature = "shell-tests")]
mod shells;
mod untrusted;
mod verify;
#[cfg(feature = "wine-tests")]
mod windows;
