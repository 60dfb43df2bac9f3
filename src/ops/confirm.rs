//! What a confirmation needs from the operator, by the environment's protection level.

use crate::config::Protection;

/// The confirmation a plan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// No question asked.
    None,
    /// y/n.
    YesNo,
    /// Type `env/app` exactly, and give a reason.
    Typed { expected: String },
    /// Only a reason: an override of the analysis gate where protection asks no more.
    Reason,
}

impl Confirmation {
    pub fn for_plan(plan: &super::Plan) -> Self {
        match plan.protection {
            Protection::None => Self::None,
            Protection::Confirm => Self::YesNo,
            Protection::Typed => Self::Typed { expected: plan.typed_name() },
        }
    }

    /// What confirming an override needs: a reason always, beside what protection asks.
    #[must_use]
    pub fn with_override(self) -> Self {
        match self {
            Self::None | Self::YesNo | Self::Reason => Self::Reason,
            typed @ Self::Typed { .. } => typed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmError {
    WrongName { expected: String },
    NoReason,
}

impl std::fmt::Display for ConfirmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongName { expected } => write!(f, "type {expected} exactly (case matters)"),
            Self::NoReason => f.write_str("a reason is required"),
        }
    }
}

/// The typed confirmation: the name exactly as expected (case-sensitive, no trimming inside),
/// and a non-blank reason.
pub fn check_typed(expected: &str, typed: &str, reason: &str) -> Result<(), ConfirmError> {
    if typed.trim() != expected {
        return Err(ConfirmError::WrongName { expected: expected.to_owned() });
    }
    if reason.trim().is_empty() {
        return Err(ConfirmError::NoReason);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_confirmation_is_exact_and_case_sensitive() {
        assert_eq!(check_typed("production/web", "production/web", "hotfix"), Ok(()));
        assert_eq!(
            check_typed("production/web", " production/web ", "hotfix"),
            Ok(()),
            "surrounding spaces are forgiven"
        );
        for wrong in ["Production/web", "production/Web", "production/api", "production", "staging/web", ""] {
            assert!(
                matches!(check_typed("production/web", wrong, "hotfix"), Err(ConfirmError::WrongName { .. })),
                "{wrong:?}"
            );
        }
        assert_eq!(check_typed("production/web", "production/web", "   "), Err(ConfirmError::NoReason));
    }
}
