//! The rules a write meets before anyone is asked to confirm it: deployment windows and
//! blackouts, and the signed-checklist gate. Changes that add risk outside a window need an
//! emergency reason (or are refused where windows are enforced); changes that take risk away —
//! a rollback, an abort, a pause — are never blocked, only recorded as emergencies. Pure.

use std::time::Duration;

use super::plan::{Operation, Plan};
use crate::checklist::Report;
use crate::config::{Blackout, Window};
use crate::windows::{self, WindowStatus};

/// What a change does to risk.
pub fn adds_risk(operation: Operation) -> bool {
    match operation {
        Operation::Restart
        | Operation::Resume
        | Operation::CanaryStep
        | Operation::CanarySet
        | Operation::CanaryPromote
        | Operation::CanaryAuto
        | Operation::CanaryStart
        | Operation::Promote
        | Operation::ControllerPromote
        | Operation::ControllerPromoteFull
        | Operation::ControllerRetry
        | Operation::ControllerResume
        | Operation::GateOpen => true,
        Operation::Pause
        | Operation::CanaryBack
        | Operation::CanaryAbort
        | Operation::Rollback
        | Operation::SuspendGitOps
        | Operation::ControllerAbort
        | Operation::ControllerPause
        | Operation::GateClose
        | Operation::GateRollback => false,
    }
}

/// The gate on signed checklists applies to these: more canary traffic and promotions.
pub fn gated(operation: Operation) -> bool {
    matches!(
        operation,
        Operation::CanaryStep
            | Operation::CanarySet
            | Operation::CanaryPromote
            | Operation::CanaryAuto
            | Operation::CanaryStart
            | Operation::Promote
            | Operation::ControllerPromote
            | Operation::ControllerPromoteFull
            | Operation::GateOpen
    )
}

/// One environment's rules.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub windows: &'a [Window],
    pub blackouts: &'a [Blackout],
    pub enforce_windows: bool,
    pub require_checklist: Option<Duration>,
    /// The environment's signed checklists, newest first.
    pub reports: &'a [Report],
    /// The sign-off block's roles: a checklist counts once that many distinct users signed it.
    pub signoffs: &'a [String],
}

impl<'a> Rules<'a> {
    pub fn of(env: &'a crate::config::Environment, reports: &'a [Report]) -> Self {
        Self {
            windows: &env.windows,
            blackouts: &env.blackouts,
            enforce_windows: env.enforce_windows,
            require_checklist: env.require_checklist.map(|d| d.0),
            reports,
            signoffs: &env.signoffs,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Within the rules.
    Go,
    /// Allowed, and recorded as an emergency: a change that takes risk away, outside a window.
    Emergency(String),
    /// Allowed with a reason, recorded as an emergency: a change that adds risk outside a window.
    NeedsReason(String),
    Refused(String),
}

fn outside(status: &WindowStatus) -> String {
    match status {
        WindowStatus::Blackout { reason } => format!("blackout ({reason})"),
        _ => "outside deployment windows".into(),
    }
}

/// Judges `plan` at `now`. `version` is the canary version a gated change would send traffic
/// to.
pub fn decide(plan: &Plan, rules: &Rules<'_>, version: Option<&str>, now: jiff::Timestamp) -> Decision {
    if adds_risk(plan.operation)
        && gated(plan.operation)
        && let Some(max_age) = rules.require_checklist
    {
        let version = version.unwrap_or("?");
        if let Err(why) = crate::checklist::report::gate(
            rules.reports,
            rules.signoffs,
            (&plan.env, &plan.app, version),
            max_age,
            now,
        ) {
            return Decision::Refused(why);
        }
    }
    let status = windows::status(rules.windows, rules.blackouts, now);
    if status.allows_changes() {
        return Decision::Go;
    }
    let when = outside(&status);
    match (adds_risk(plan.operation), rules.enforce_windows) {
        (false, _) => Decision::Emergency(format!("{} {when}", plan.operation.name())),
        (true, true) => Decision::Refused(format!(
            "{} is {when} and windows are enforced there: only rollbacks, aborts and pauses go ahead",
            plan.env
        )),
        (true, false) => Decision::NeedsReason(format!("{} {when}", plan.operation.name())),
    }
}

#[cfg(test)]
mod tests;
