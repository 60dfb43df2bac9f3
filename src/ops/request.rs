//! What the operator asks for, before it is planned against the objects as they are.

use super::plan::Operation;

/// A canary request: a move along the plan's steps, an exact weight, an abort or a promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanaryRequest {
    /// The next step of the plan above the current weight.
    Step,
    /// The step below the current weight (0 below the first).
    Back,
    /// An exact weight, 0-100.
    Set(u32),
    /// Weight 0.
    Abort,
    /// Stable takes the canary's template; then weight 0; then the canary scales down.
    Promote,
}

impl CanaryRequest {
    pub fn operation(self) -> Operation {
        match self {
            Self::Step => Operation::CanaryStep,
            Self::Back => Operation::CanaryBack,
            Self::Set(_) => Operation::CanarySet,
            Self::Abort => Operation::CanaryAbort,
            Self::Promote => Operation::CanaryPromote,
        }
    }
}

/// Any write the console or the command line can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Restart, pause or resume an app's Deployment.
    Deployment(Operation),
    Canary(CanaryRequest),
    /// Every active canary in every environment to weight 0.
    KillSwitch,
    /// `kubectl rollout undo`, to the previous revision or the one named; an active canary is
    /// aborted first; a paused Deployment is resumed in the same write.
    Rollback {
        to_revision: Option<u64>,
    },
    /// Suspend the Flux object that would revert a rollback.
    SuspendGitOps,
}

impl Request {
    /// How the request is named in messages: `canary-step`, `kill-switch`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Deployment(operation) => operation.name(),
            Self::Canary(request) => request.operation().name(),
            Self::KillSwitch => "kill-switch",
            Self::Rollback { .. } => "rollback",
            Self::SuspendGitOps => "suspend-gitops",
        }
    }
}
