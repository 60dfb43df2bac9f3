//! The two-person approval gate, as the engine meets it: whether a plan needs an approval
//! (an environment with `require_approval`, a change that adds risk), whether one was given for
//! exactly this plan, filing a request, and answering one. The records are the team's, in the
//! target environment's cluster; the decisions are `team::approval`'s.

use super::{Engine, Prepared, Refusal, Session};
use crate::cluster::ops::OpError;
use crate::cluster::records;
use crate::ops::Plan;
use crate::team::approval::{self, Answer, Request, Standing};
use crate::team::{Kind, Shared};

/// Where a plan stands with the approval gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// The environment asks for no approvals.
    NotRequired,
    /// The environment asks for them, and this change takes risk away (rollback, abort,
    /// pause, the kill switch) or is one of auto mode's steps, which was approved when turned
    /// on: recorded as needing none, with why.
    NoneNeeded(String),
    /// A second user approved exactly this plan.
    Granted { request: String, by: String },
    /// It waits for one: the request already filed for this plan, if there is one, and what
    /// the operator should know (an approval of a plan the objects no longer match).
    Wanted { pending: Option<String>, note: Option<String> },
}

impl Approval {
    /// What the audit record says of it, where the environment asks for approvals.
    pub fn recorded(&self) -> Option<String> {
        match self {
            Self::NotRequired | Self::Wanted { .. } => None,
            Self::NoneNeeded(why) => Some(format!("none needed: {why}")),
            Self::Granted { request, by } => Some(format!("approved by {by} ({request})")),
        }
    }

    pub fn request(&self) -> Option<&str> {
        match self {
            Self::Granted { request, .. } => Some(request),
            _ => None,
        }
    }
}

/// A request with every answer the cluster holds for it, and where it stands.
#[derive(Debug, Clone)]
pub struct Listed {
    pub request: Request,
    pub answers: Vec<Answer>,
    pub standing: Standing,
    /// When the server stored the request.
    pub stored: Option<jiff::Timestamp>,
}

impl Engine {
    pub(super) fn team_namespace(&self) -> &str {
        &self.fleet.config.team.namespace
    }

    /// Another Kubernetes user holding the app's Lease, live. A Lease that cannot be read is
    /// no reason to stop a write: it is only who is looking.
    pub(super) async fn held_by_another(
        &self,
        session: &Session,
        env: &str,
        app: &str,
    ) -> Option<crate::team::lease::Holder> {
        let found = crate::cluster::lease::read(&session.read, self.team_namespace(), env, app).await;
        found.ok().flatten().filter(|h| h.user != session.user)
    }

    /// The kill switch never waits for approval; where an environment asks for them, it is
    /// recorded as needing none.
    pub(super) fn kill_switch_approval(&self) -> Approval {
        if self.fleet.config.environments.iter().any(|e| e.require_approval) {
            Approval::NoneNeeded("the kill switch takes risk away".into())
        } else {
            Approval::NotRequired
        }
    }

    /// The gate on `plan`, made as `session`'s user.
    pub(super) async fn approval(
        &self,
        session: &Session,
        plan: &Plan,
        origin: &super::Origin,
    ) -> Result<Approval, Refusal> {
        let required = self.fleet.env_config(&plan.env).is_some_and(|e| e.require_approval);
        if !required {
            return Ok(Approval::NotRequired);
        }
        if !crate::ops::policy::adds_risk(plan.operation) {
            return Ok(Approval::NoneNeeded(format!("a {} takes risk away", plan.operation.name())));
        }
        if matches!(origin, super::Origin::Auto { .. }) {
            return Ok(Approval::NoneNeeded("a step of auto mode, which was approved when turned on".into()));
        }
        let listed = self.requests(session).await.map_err(|e| {
            Refusal::Unreachable(format!(
                "{} requires a second user's approval, and the team's records cannot be read: {e}",
                plan.env
            ))
        })?;
        let asked = approval::Asked {
            requester: &session.user,
            env: &plan.env,
            app: &plan.app,
            operation: plan.operation.name(),
            fingerprint: approval::fingerprint(plan),
        };
        let seen: Vec<(&Request, &Standing)> = listed.iter().map(|l| (&l.request, &l.standing)).collect();
        match approval::gate(&asked, &seen, jiff::Timestamp::now()) {
            approval::Gate::Granted { request, by } => Ok(Approval::Granted { request, by }),
            approval::Gate::Wanted { pending, note } => Ok(Approval::Wanted { pending, note }),
            approval::Gate::Denied(why) => Err(Refusal::Precondition(why)),
        }
    }

    /// Every approval request in the environment's cluster, with its answers and standing.
    pub async fn requests(&self, session: &Session) -> Result<Vec<Listed>, OpError> {
        let ns = self.team_namespace();
        let (requests, _) = records::list(&session.read, ns, Kind::Request).await?;
        let (answers, _) = records::list(&session.read, ns, Kind::Answer).await?;
        let now = jiff::Timestamp::now();
        let answers: Vec<(Answer, Option<jiff::Timestamp>)> = answers
            .into_iter()
            .filter_map(|s| {
                let mut answer: Answer = serde_json::from_value(s.payload).ok()?;
                // The server's record of who wrote it is the user annotation the policy checks.
                answer.by = s.user;
                Some((answer, s.created))
            })
            .collect();
        let mut out = Vec::new();
        for shared in requests {
            let Ok(mut request) = serde_json::from_value::<Request>(shared.payload) else { continue };
            request.requester = shared.user;
            let mut standing = approval::standing(&request, &answers, false, now);
            // An approval is for one write: an audit record made under it uses it up.
            if matches!(standing, Standing::Approved { .. }) {
                let (used, _) = records::list_about(&session.read, ns, Kind::Audit, &request.id).await?;
                if !used.is_empty() {
                    standing = Standing::Used;
                }
            }
            let mine =
                answers.iter().filter(|(a, _)| a.request == request.id).map(|(a, _)| a.clone()).collect();
            out.push(Listed { request, answers: mine, standing, stored: shared.created });
        }
        out.sort_by_key(|l| std::cmp::Reverse(l.request.requested_at));
        Ok(out)
    }

    /// Files the request `prepared` waits for; its id.
    pub(super) async fn file_request(
        &self,
        prepared: &Prepared,
        reason: Option<&str>,
    ) -> Result<String, OpError> {
        let session =
            self.session(&prepared.plan.env).await.map_err(|e| OpError::Unreachable(e.to_string()))?;
        let write = session.writer().map_err(|e| OpError::Forbidden(e.to_string()))?;
        let expiry = self.fleet.config.team.approval_expiry.0;
        // What the approver should know of the change itself; the requester's own notes about
        // waiting for approval are not for them.
        let warnings = prepared.plan.warnings.iter().chain(&prepared.decision.warnings).cloned().collect();
        let request = approval::request_for(
            &prepared.plan,
            warnings,
            &session.user,
            reason,
            jiff::Timestamp::now(),
            expiry,
        );
        let mut shared = Shared::new(
            Kind::Request,
            request.id.clone(),
            session.user.clone(),
            request.env.clone(),
            serde_json::to_value(&request).map_err(|e| OpError::Failed(e.to_string()))?,
        );
        shared.app = Some(request.app.clone());
        shared.operation = Some(request.operation.clone());
        records::put(write, self.team_namespace(), &shared).await?;
        Ok(request.id)
    }

    /// Approves or denies request `id` as this environment's user. Refused when the request
    /// is not there, is the user's own, or no longer waits.
    pub async fn answer_request(
        &self,
        env: &str,
        id: &str,
        approved: bool,
        reason: Option<&str>,
    ) -> Result<Listed, Refusal> {
        let session = self.session(env).await?;
        let listed = self.requests(&session).await?;
        let Some(found) = listed.into_iter().find(|l| l.request.id == id) else {
            return Err(Refusal::Unknown(format!("no approval request {id} in {env}")));
        };
        if found.request.requester == session.user {
            return Err(Refusal::Forbidden(format!(
                "request {id} is your own ({}): a different Kubernetes user must answer it",
                session.user
            )));
        }
        if found.standing != Standing::Pending {
            return Err(Refusal::Precondition(format!(
                "request {id} is {}: only a pending request can be answered",
                found.standing.word()
            )));
        }
        let now = jiff::Timestamp::now();
        let answer = Answer {
            id: format!("{id}-{}", crate::team::label_value(&session.user)),
            request: id.to_owned(),
            approved,
            by: session.user.clone(),
            requester: found.request.requester.clone(),
            at: now,
            reason: reason.map(str::to_owned),
        };
        let mut shared = Shared::new(
            Kind::Answer,
            answer.id.clone(),
            session.user.clone(),
            env,
            serde_json::to_value(&answer).map_err(|e| Refusal::Failed(e.to_string()))?,
        );
        shared.app = Some(found.request.app.clone());
        shared.operation = Some(found.request.operation.clone());
        shared.about = Some(id.to_owned());
        shared.requester = Some(found.request.requester.clone());
        let write = session.writer()?;
        records::put(write, self.team_namespace(), &shared).await?;
        let mut found = found;
        found.standing = if approved {
            Standing::Approved { by: answer.by.clone(), reason: answer.reason.clone() }
        } else {
            Standing::Denied { by: answer.by.clone(), reason: answer.reason.clone() }
        };
        found.answers.push(answer);
        Ok(found)
    }
}
