//! Exit codes, chosen in one place ([`status_of`]), and the errors that carry what decides them.

use std::fmt;

use crate::aws_error::{AwsError, ErrorCode, ErrorKind};
use crate::change::Change;

/// What the process tells its caller. CI pipelines branch on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done and every check passed.
    Success = 0,
    /// A check ran and failed (a verify step, an audit finding).
    CheckFailed = 1,
    /// Bad input or configuration: nothing was changed.
    BadInput = 2,
    /// Something nobody planned for went wrong before anything was changed.
    Unexpected = 3,
    /// A failure after something was changed: the summary lists the changes, and running
    /// the same command again converges.
    FailedAfterChanges = 4,
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

/// Context around an error that struck after the command had changed something: what it
/// changed, so the summary can say so, and exit 2 is never claimed.
#[derive(Debug)]
pub struct AfterChanges {
    pub changes: Vec<Change>,
}

impl fmt::Display for AfterChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let changes: Vec<&str> = self.changes.iter().map(|c| c.what.as_str()).collect();
        write!(f, "stopped after changing {}", changes.join(", "))
    }
}

impl std::error::Error for AfterChanges {}

/// Wraps `error` with the changes made before it, when there were any.
pub fn after_changes(error: anyhow::Error, changes: Vec<Change>) -> anyhow::Error {
    if changes.is_empty() { error } else { error.context(AfterChanges { changes }) }
}

/// The changes an error says were made before it struck.
pub fn changes_of(error: &anyhow::Error) -> Option<&[Change]> {
    // A context, so anyhow's own downcast (which looks through context layers) finds it.
    error.downcast_ref::<AfterChanges>().map(|a| a.changes.as_slice())
}

/// The exit status an error stands for. A change before the failure decides first (4);
/// then a [`Failure`] anywhere in the chain; then the kind of AWS error.
pub fn status_of(error: &anyhow::Error) -> ExitStatus {
    if changes_of(error).is_some() {
        return ExitStatus::FailedAfterChanges;
    }
    if let Some(failure) = error.chain().find_map(|cause| cause.downcast_ref::<Failure>()) {
        return failure.status;
    }
    match error.chain().find_map(|cause| cause.downcast_ref::<AwsError>()) {
        Some(aws) => status_of_aws(&aws.kind),
        None => ExitStatus::Unexpected,
    }
}

/// An AWS failure before any change: the user's configuration (credentials, permissions,
/// region, endpoint) is bad input; anything else is unexpected.
pub fn status_of_aws(kind: &ErrorKind) -> ExitStatus {
    match kind {
        ErrorKind::Unreachable(_) | ErrorKind::NoCredentials(_) | ErrorKind::NoRegion => ExitStatus::BadInput,
        ErrorKind::Service(code) if *code == ErrorCode::AccessDenied || code.is_rejected_credentials() => {
            ExitStatus::BadInput
        }
        ErrorKind::Service(_) | ErrorKind::Timeout | ErrorKind::Unreadable(_) | ErrorKind::Other(_) => {
            ExitStatus::Unexpected
        }
    }
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
        assert_eq!(ExitStatus::FailedAfterChanges.code(), 4);
    }

    #[test]
    fn a_failure_wrapped_in_context_keeps_its_status() {
        let error = anyhow::Error::new(Failure::bad_input("bad")).context("while doing x");
        assert_eq!(status_of(&error), ExitStatus::BadInput);
        assert_eq!(status_of(&anyhow::anyhow!("boom")), ExitStatus::Unexpected);
    }

    #[test]
    fn aws_errors_map_to_exit_codes() {
        let table = [
            (ErrorKind::Service(ErrorCode::AccessDenied), ExitStatus::BadInput),
            (ErrorKind::Service(ErrorCode::InvalidClientTokenId), ExitStatus::BadInput),
            (ErrorKind::Service(ErrorCode::SignatureDoesNotMatch), ExitStatus::BadInput),
            (ErrorKind::Unreachable("refused".into()), ExitStatus::BadInput),
            (ErrorKind::NoCredentials(String::new()), ExitStatus::BadInput),
            (ErrorKind::NoRegion, ExitStatus::BadInput),
            (ErrorKind::Timeout, ExitStatus::Unexpected),
            (ErrorKind::Service(ErrorCode::InternalError), ExitStatus::Unexpected),
            (ErrorKind::Unreadable("junk".into()), ExitStatus::Unexpected),
        ];
        for (kind, status) in table {
            let error = anyhow::Error::new(AwsError::new("s3:CreateBucket", "bucket `b`", kind.clone()));
            assert_eq!(status_of(&error), status, "{kind:?}");
        }
    }

    #[test]
    fn any_failure_after_a_change_is_never_exit_2() {
        use crate::change::Kind;
        let denied = AwsError::new("s3:PutEncryptionConfiguration", "b", ErrorKind::Service(ErrorCode::AccessDenied));
        let error =
            after_changes(anyhow::Error::new(denied), vec![Change::created(Kind::Bucket, "bucket `b` created")]);
        assert_eq!(status_of(&error), ExitStatus::FailedAfterChanges);
        let bad = after_changes(Failure::bad_input("x").into(), vec![Change::created(Kind::AccessKey, "key created")]);
        assert_eq!(status_of(&bad), ExitStatus::FailedAfterChanges);
        let nothing = after_changes(Failure::bad_input("x").into(), Vec::new());
        assert_eq!(status_of(&nothing), ExitStatus::BadInput);
    }
}
