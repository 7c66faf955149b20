//! One module per subcommand; each runs library code and hands its report to [`crate::report`].

pub mod doctor;
pub mod init;
pub mod policy;
pub mod verify;
