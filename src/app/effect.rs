//! What the reducer asks the outside world to do. The terminal loop hands effects to the
//! operations service; their results come back as actions.

use crate::ops::{Operation, Plan};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Fetch the app's object, plan the operation, authorize it and dry-run it.
    Prepare { env: String, app: String, operation: Operation },
    /// The operator confirmed: run the plan along the operation path.
    Execute { plan: Box<Plan>, reason: Option<String> },
    /// Read the audit log for the audit screen.
    LoadAudit,
}
