//! What the reducer asks the outside world to do. The terminal loop hands effects to the
//! operations service; their results come back as actions.

use crate::ops::{Plan, Request};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Fetch the objects, plan the request, authorize it and dry-run it, for the confirmation
    /// screen. `env` and `app` are empty for the kill switch.
    Prepare { env: String, app: String, request: Request },
    /// The operator confirmed: run the plan along the operation path.
    Execute { plan: Box<Plan>, reason: Option<String> },
    /// Auto mode's own step or abort: prepared like any other, then run without a
    /// confirmation screen, since the operator confirmed auto mode itself; `reason` goes into
    /// the audit record.
    Auto { env: String, app: String, request: Request, reason: String },
    /// Read the audit log for the audit screen.
    LoadAudit,
    /// Read what the environment's checklist checks (and the checklist itself).
    RunChecks { env: String },
    /// Save a signed checklist report as JSON and Markdown in the data dir.
    SaveChecklist { report: Box<crate::checklist::Report> },
}
