//! Exit codes, chosen in one place, and the error type that carries one.

use std::fmt;

/// What the process tells its caller. CI pipelines branch on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done and every check passed.
    Success = 0,
    /// A check ran and failed (a verify step, an audit finding).
    CheckFailed = 1,
    /// Bad input or configuration: nothing was changed.
    BadInput = 2,
    /// Anything else that went wrong (a service error nobody expected).
    Unexpected = 3,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// An error the user can act on: a message naming the resource, and the next step.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    /// Bad input or configuration (exit 2).
    pub fn bad_input(message: impl Into<String>) -> Self {
        Failure { status: ExitStatus::BadInput, message: message.into(), hint: None }
    }

    /// A check that failed (exit 1).
    pub fn check_failed(message: impl Into<String>) -> Self {
        Failure { status: ExitStatus::CheckFailed, message: message.into(), hint: None }
    }

    /// An unexpected failure (exit 3) that still says what to do.
    pub fn unexpected(message: impl Into<String>) -> Self {
        Failure { status: ExitStatus::Unexpected, message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The exit status an error stands for: a [`Failure`] anywhere in the chain decides.
pub fn status_of(error: &anyhow::Error) -> ExitStatus {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Failure>())
        .map_or(ExitStatus::Unexpected, |failure| failure.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::CheckFailed.code(), 1);
        assert_eq!(ExitStatus::BadInput.code(), 2);
        assert_eq!(ExitStatus::Unexpected.code(), 3);
    }

    #[test]
    fn a_failure_wrapped_in_context_keeps_its_status() {
        let error = anyhow::Error::new(Failure::bad_input("bad")).context("while doing x");
        assert_eq!(status_of(&error), ExitStatus::BadInput);
        assert_eq!(status_of(&anyhow::anyhow!("boom")), ExitStatus::Unexpected);
    }
}
