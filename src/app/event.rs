//! What the console's services tell the state: how a request the operator made went. The
//! console owns these messages; the engine below it knows nothing of them.

use crate::engine::{Prepared, Refusal, Request};

#[derive(Debug, Clone, PartialEq)]
pub enum OpEvent {
    /// Planned, decided and checked with the server: ready for the confirmation screen.
    Prepared(Box<Prepared>),
    /// It cannot be offered, and why; `request` is what was asked, for a choice the refusal
    /// offers (roll back and resume a paused Deployment).
    Refused {
        request: Box<Request>,
        refusal: Refusal,
    },
    Progress {
        stage: String,
    },
    Finished {
        sentence: String,
        outcome: String,
        message: String,
    },
    /// The audit log's latest records (oldest first), or why it could not be read.
    Audit(Result<Vec<crate::audit::Record>, String>),
    /// The pending approval requests, or why they could not be read.
    Approvals(Result<Vec<crate::app::approvals::Pending>, String>),
    /// How answering a request went, in words.
    Answered(Result<String, String>),
    /// A confirmed operation waits for approval request `id`: the console plans `request`
    /// again once a colleague approves it.
    Awaiting {
        id: String,
        request: crate::engine::Request,
    },
    /// The checklist of an environment and the objects its checks read, or why not.
    Checklist {
        env: String,
        result: Result<Box<(crate::checklist::Checklist, crate::checklist::Objects)>, String>,
    },
    /// The running revision's recent logs, for the rollback screen.
    RecentErrors {
        env: String,
        app: String,
        logs: Result<crate::logs::Sample, String>,
    },
    /// Where a signed checklist was saved (JSON, Markdown), or why it was not; and whether the
    /// team's copy was kept in the environment's cluster (why not, when not).
    ChecklistSaved {
        env: String,
        result: Result<(std::path::PathBuf, std::path::PathBuf), String>,
        shared: Result<(), String>,
    },
    /// How the guard's own rollback ended (or why it could not be made).
    GuardRollback {
        env: String,
        app: String,
        outcome: String,
        message: String,
    },
    /// How an operation auto mode asked for is going: it has no confirmation screen to report
    /// on, so it reports to the canary it drives.
    Auto {
        env: String,
        app: String,
        event: AutoEvent,
    },
}

/// The course of one auto-mode operation.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoEvent {
    /// Could not be prepared: nothing was written.
    Unavailable(String),
    Progress(String),
    Finished {
        sentence: String,
        outcome: String,
        message: String,
    },
}
