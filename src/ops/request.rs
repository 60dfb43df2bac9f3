//! What the operator asks of a canary, before it is planned against the objects as they are.

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
