//! Every decision about a write, made once, as a pure function of what the engine found:
//! read-only, the deployment windows and the checklist gate, the gate on canary traffic (the
//! canary's pods ready for the first step, the analysis for the steps after it), the
//! confirmation it needs — and, once the operator has answered, whether the answer is enough
//! and what reason goes into the record.

use std::collections::BTreeMap;

use super::Refusal;
use super::request::Origin;
use crate::metrics::Verdict;
use crate::ops::policy;
use crate::ops::{Confirmation, Plan, Scope};

/// What gates more traffic to a canary.
#[derive(Debug, Clone, PartialEq)]
pub enum Traffic {
    /// The request sends the canary no more traffic than it has (or is not a canary change).
    NotRaised,
    /// From 0%: the canary's pods must be ready before traffic reaches them, as Flagger and
    /// Argo Rollouts wait; there can be no analysis of a canary that has served nothing. `Err`
    /// says what is not ready.
    FirstStep(Result<(), String>),
    /// Above 0% (or a promotion): the analysis verdict, when there is one.
    Analysis(Option<Verdict>),
}

/// What the engine found, for the decision.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub plan: &'a Plan,
    /// The target environment is read-only (config or `--readonly`).
    pub readonly: bool,
    pub origin: &'a Origin,
    /// The windows and the checklist gate, for each environment the plan writes to.
    pub policy: Vec<(String, policy::Decision)>,
    pub traffic: Traffic,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub confirmation: Confirmation,
    /// Per environment, why its writes count as an emergency (outside a window, a blackout
    /// day): recorded with each of them.
    pub emergencies: BTreeMap<String, String>,
    /// Why a reason must be given beyond what protection asks (a change that adds risk
    /// outside a window).
    pub needs_reason: Option<String>,
    /// What an override of the analysis gate acknowledges (the verdict and its reasons).
    pub needs_override: Option<String>,
    /// What the operator should know before confirming.
    pub warnings: Vec<String>,
}

impl Decision {
    pub fn emergency(&self, env: &str) -> Option<&str> {
        self.emergencies.get(env).map(String::as_str)
    }
}

/// The analysis gate on more traffic: `None` on a pass, or what an override must
/// acknowledge.
pub fn analysis_gate(verdict: Option<&Verdict>) -> Option<String> {
    match verdict {
        Some(Verdict::Pass) => None,
        Some(v) => Some(format!("verdict {}: {}", v.word(), v.reasons().join("; "))),
        None => Some("verdict not enough data: no canary figures".to_owned()),
    }
}

/// Decides on a planned request; `Err` when it may not go ahead at all.
pub fn decide(facts: &Facts<'_>) -> Result<Decision, Refusal> {
    let plan = facts.plan;
    if facts.readonly {
        return Err(Refusal::Forbidden(format!(
            "{} is read-only (--readonly or readonly = true): opsdeck sends no writes there",
            plan.env
        )));
    }
    let mut emergencies = BTreeMap::new();
    let mut needs_reason = None;
    let mut warnings = Vec::new();
    for (env, rule) in &facts.policy {
        match rule {
            policy::Decision::Go => {}
            policy::Decision::Emergency(why) => {
                emergencies.insert(env.clone(), why.clone());
                warnings.push(format!("{why}: recorded as an emergency change"));
            }
            policy::Decision::NeedsReason(why) => {
                emergencies.insert(env.clone(), why.clone());
                warnings.push(format!("{why}: a reason is required, recorded as an emergency change"));
                needs_reason = Some(why.clone());
            }
            policy::Decision::Refused(why) => return Err(Refusal::Precondition(why.clone())),
        }
    }
    let needs_override = match &facts.traffic {
        Traffic::NotRaised | Traffic::FirstStep(Ok(())) => None,
        Traffic::FirstStep(Err(why)) => {
            return Err(Refusal::Precondition(format!("no traffic goes to the canary yet: {why}")));
        }
        Traffic::Analysis(verdict) => analysis_gate(verdict.as_ref()),
    };
    let confirmation = match facts.origin {
        Origin::Auto { .. } => {
            if let Some(why) = &needs_override {
                return Err(Refusal::Precondition(format!("auto mode never overrides the analysis: {why}")));
            }
            // The operator confirmed auto mode itself, under the same rules.
            Confirmation::None
        }
        Origin::Guard { .. } => {
            if plan.operation != crate::ops::Operation::Rollback {
                return Err(Refusal::Invalid("the guard only ever rolls back".into()));
            }
            Confirmation::None
        }
        Origin::Operator => {
            let asked = Confirmation::for_plan(plan);
            if needs_reason.is_some() || needs_override.is_some() { asked.with_override() } else { asked }
        }
    };
    if let Some(why) = &needs_override {
        warnings.push(format!(
            "this overrides the analysis ({why}): a reason is required and recorded as an override"
        ));
    }
    Ok(Decision { confirmation, emergencies, needs_reason, needs_override, warnings })
}

/// What the operator answered on the confirmation: the console's keys and fields, or the
/// command line's flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// y, Enter on a typed confirmation whose name was typed exactly, or `--yes`.
    pub confirmed: bool,
    pub reason: Option<String>,
    /// Why go ahead past the analysis gate (`--override R`, or the console's reason field).
    pub override_reason: Option<String>,
    /// Write although another user is at the app's controls (`--take-over`, or confirming a
    /// screen that says so).
    pub take_over: bool,
}

impl Answer {
    /// What auto mode answers for the operator who turned it on.
    pub fn standing(reason: &str) -> Self {
        Self { confirmed: true, reason: Some(reason.to_owned()), override_reason: None, take_over: false }
    }
}

/// What an answer lacks. The front ends say it in their own words (a flag, a field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("not confirmed: {asked:?}")]
    NotConfirmed { asked: Confirmation },
    /// `why` is the window rule that asks for it, when that is the reason.
    #[error("a reason is required")]
    NoReason { why: Option<String> },
    #[error("not raising the canary's traffic: {gate}")]
    NoOverride { gate: String },
    /// Another user is at the app's controls, and the answer does not take over.
    #[error("{holder} is at the controls")]
    NotTakenOver { holder: String },
}

fn given(text: Option<&String>) -> Option<&str> {
    text.map(|t| t.trim()).filter(|t| !t.is_empty())
}

/// Whether `answer` is enough for `decision`; the reason to record when it is.
pub fn check(decision: &Decision, answer: &Answer) -> Result<Option<String>, AnswerError> {
    if decision.confirmation != Confirmation::None && !answer.confirmed {
        return Err(AnswerError::NotConfirmed { asked: decision.confirmation.clone() });
    }
    let reason = given(answer.reason.as_ref());
    let overridden = given(answer.override_reason.as_ref());
    let wants_reason = matches!(decision.confirmation, Confirmation::Typed { .. } | Confirmation::Reason)
        || decision.needs_reason.is_some();
    if wants_reason && reason.or(overridden).is_none() {
        return Err(AnswerError::NoReason { why: decision.needs_reason.clone() });
    }
    match (&decision.needs_override, overridden) {
        (Some(gate), None) => Err(AnswerError::NoOverride { gate: gate.clone() }),
        (Some(gate), Some(why)) => {
            let mut recorded = format!("override ({gate}): {why}");
            if let Some(reason) = reason.filter(|r| *r != why) {
                recorded = format!("{recorded}; {reason}");
            }
            Ok(Some(recorded))
        }
        (None, _) => Ok(reason.map(str::to_owned)),
    }
}

/// Who a typed confirmation or a message names: the environment, or the kill switch.
pub fn subject(plan: &Plan) -> String {
    match plan.scope {
        Scope::App => plan.env.clone(),
        Scope::Fleet => "the kill switch".to_owned(),
    }
}

#[cfg(test)]
mod tests;
