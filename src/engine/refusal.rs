//! Why the engine would not prepare or carry out a request. Each kind is something a caller
//! decides on: the command line maps it to an exit code, the console to a notice or a choice.

use crate::cluster::ops::OpError;
use crate::config::Lookup;
use crate::ops::PlanError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The request names what the config does not have.
    #[error("{0}")]
    Unknown(String),
    /// Read-only, or RBAC says no: nothing was sent.
    #[error("{0}")]
    Forbidden(String),
    /// The environment did not answer.
    #[error("{0}")]
    Unreachable(String),
    /// The object as it is, an enforced window, the checklist gate, or the canary's pods rule
    /// it out: nothing was written.
    #[error("{0}")]
    Precondition(String),
    /// A paused Deployment: its rollback needs the request to say it may resume it.
    #[error("{0}")]
    NeedsResume(String),
    /// A Deployment Flux reconciles: the write needs the request to say it may suspend the
    /// Flux object first, or the next sync would revert it.
    #[error("{0}")]
    NeedsSuspend(String),
    /// Nothing to do (no canary takes traffic for the kill switch); `left_out` are the
    /// environments that could not even be looked at.
    #[error("{message}")]
    NothingToDo { message: String, left_out: Vec<Refusal> },
    /// Validation or admission refused it (the dry run), or the objects lack what a plan needs.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Failed(String),
}

impl From<Lookup> for Refusal {
    fn from(lookup: Lookup) -> Self {
        Self::Unknown(lookup.to_string())
    }
}

impl From<PlanError> for Refusal {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::Refused(m) => Self::Precondition(m),
            PlanError::NeedsResume(m) => Self::NeedsResume(m),
            PlanError::Invalid(m) => Self::Invalid(m),
        }
    }
}

impl From<OpError> for Refusal {
    fn from(error: OpError) -> Self {
        match error {
            OpError::Conflict(m) | OpError::Refused(m) => Self::Precondition(m),
            OpError::Forbidden(m) => Self::Forbidden(m),
            OpError::Unreachable(m) | OpError::Unanswered(m) => Self::Unreachable(m),
            OpError::Invalid(m) => Self::Invalid(m),
            OpError::NotFound(m) | OpError::Failed(m) => Self::Failed(m),
        }
    }
}
