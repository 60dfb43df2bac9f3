//! Process exit codes: the command-line contract scripts rely on (see DESIGN.md).

use std::fmt;
use std::process::ExitCode;

/// What a finished command tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Ok = 0,
    /// The operation ran and failed, or a verdict failed.
    Failed = 1,
    /// Usage or configuration error; also commands not implemented yet.
    Usage = 2,
    /// A precondition failed: the object changed, or a window or checklist gate refused.
    Precondition = 3,
    /// RBAC or read-only mode forbade the write.
    Forbidden = 4,
    /// The environment could not be reached.
    Unreachable = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// An error that carries the exit code it should end the process with.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self { exit, message: message.into() }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
