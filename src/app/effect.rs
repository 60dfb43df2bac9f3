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
    /// Read every environment's approval requests, for the approvals overlay.
    LoadApprovals,
    /// The Leases this console should hold now (an empty set releases them all).
    HoldLeases(std::collections::BTreeMap<crate::app::controls::Key, crate::team::lease::Activity>),
    /// Approve or deny a colleague's request.
    AnswerApproval { env: String, id: String, approve: bool, reason: Option<String> },
    /// Read what the environment's checklist checks (and the checklist itself).
    RunChecks { env: String },
    /// Save a signed checklist report as JSON and Markdown in the data dir.
    SaveChecklist { report: Box<crate::checklist::Report> },
    /// Follow exactly these pods' logs in `env` for follow `session` (started, or its pods
    /// changed); events come back as `Action::Logs`.
    FollowLogs { session: u64, env: String, namespace: String, targets: Vec<crate::logs::Target> },
    /// Read the last `minutes` of these pods' logs for the rollback screen's "why".
    RecentErrors {
        env: String,
        app: String,
        namespace: String,
        targets: Vec<crate::logs::Target>,
        minutes: u32,
    },
    /// The log screen closed: end follow `session`.
    StopLogs { session: u64 },
    /// A message for the configured webhook that is not a write's record (a guard's verdict).
    Notify(serde_json::Value),
    /// The guard's rollback, on the environment's `auto_rollback`: prepared like any other and
    /// carried out without a question (the request's origin says so).
    GuardRollback(Request),
}
