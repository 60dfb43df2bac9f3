//! What the reducer asks the outside world to do. The console hands effects to the operation
//! engine and the record keepers; their results come back as [`super::OpEvent`]s.

use crate::engine::{Answer, Prepared, Request};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Plan, decide and check the request with the server, for the confirmation screen.
    Prepare(Request),
    /// The operator answered the confirmation: carry it out.
    Execute { prepared: Box<Prepared>, answer: Answer },
    /// Auto mode's own step or abort: prepared like any other and carried out without a
    /// question, since the operator confirmed auto mode itself (the request says so).
    Auto(Request),
    /// Read the audit log for the audit screen.
    LoadAudit,
    /// Read what the environment's checklist checks (and the checklist itself).
    RunChecks { env: String },
    /// Save a signed checklist report as JSON and Markdown in the data dir.
    SaveChecklist { report: Box<crate::checklist::Report> },
}
