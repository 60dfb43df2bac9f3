//! Runs a plan along the one path every write takes: preflight (authorize, dry run) before the
//! confirmation; then for each step an audit intent, the write with its precondition, an
//! Event on the target, verification, an audit result, and a notification.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use serde_json::Value;

use crate::audit::{AuditLog, Outcome, Phase, Record, Webhook, new_id, slack_payload};
use crate::cluster::ops::{self, OpError, Reviews, Verified};
use crate::cluster::{self, ConnectError, ConnectTimeouts};
use crate::config::{App, Config, Environment};
use crate::ops::{Kind, Operation, Place, Plan, PlanError, Scope, Step, Target};

mod canary;
mod checklist;
mod rollback;
mod service;

pub use crate::ops::{CanaryRequest, Request};
pub use canary::{
    CanaryObjects, canary_apps, canary_target, describe_now as describe_canary_now, fetch_canary,
    plan_canary, plan_kill_switch,
};
pub use checklist::{checklist_apps, gather as gather_checklist, previous_environment};
pub use rollback::{
    RollbackObjects, describe_now as describe_rollback_now, fetch_rollback, plan_rollback, plan_suspend,
};
pub use service::{AutoEvent, Files, OpEvent, spawn};

/// One environment, as the operation path needs it.
#[derive(Clone)]
pub struct Session {
    pub env: String,
    pub context: String,
    pub read: Client,
    /// `None` when the environment is read-only.
    pub write: Option<Client>,
    /// The Kubernetes user, recorded with every operation.
    pub user: String,
    pub reviews: Arc<Reviews>,
}

/// The sessions a plan runs with, by environment name: one for an app's plan, one per
/// environment for the kill switch.
#[derive(Clone, Default)]
pub struct Sessions(BTreeMap<String, Session>);

impl Sessions {
    pub fn insert(&mut self, session: Session) {
        self.0.insert(session.env.clone(), session);
    }

    /// The session of the step's environment.
    pub fn get(&self, env: &str) -> Result<&Session, OpError> {
        self.0.get(env).ok_or_else(|| OpError::Unreachable(format!("{env}: not connected")))
    }
}

impl From<Session> for Sessions {
    fn from(session: Session) -> Self {
        let mut sessions = Self::default();
        sessions.insert(session);
        sessions
    }
}

/// Connects to an environment for operations; `readonly` leaves it without a write client.
pub async fn open_session(
    kubeconfig: kube::config::Kubeconfig,
    env: &Environment,
    readonly: bool,
) -> Result<Session, OpError> {
    let clients = cluster::connect(kubeconfig, env.context(), ConnectTimeouts::default(), readonly)
        .await
        .map_err(|e| match e {
            ConnectError::Config(m) => OpError::Failed(m),
            ConnectError::Transient(m) => OpError::Unreachable(format!("{}: {m}", env.name())),
        })?;
    let user = ops::whoami(&clients.read).await;
    Ok(Session {
        env: env.name().to_owned(),
        context: env.context().to_owned(),
        read: clients.read,
        write: clients.write,
        user,
        reviews: Arc::new(Reviews::default()),
    })
}

/// The environment and app a command names, or what is configured instead.
pub fn find<'a>(config: &'a Config, env: &str, app: &str) -> Result<(&'a Environment, &'a App), String> {
    let environment = config.environment(env).ok_or_else(|| {
        let known: Vec<&str> = config.environments.iter().map(Environment::name).collect();
        format!("unknown environment {env:?} (configured: {})", known.join(", "))
    })?;
    let app_config = config.app(app).ok_or_else(|| {
        let known: Vec<&str> = config.apps.iter().map(App::name).collect();
        format!("unknown app {app:?} (configured: {})", known.join(", "))
    })?;
    Ok((environment, app_config))
}

/// The app's Deployment in the environment.
pub fn deployment_target(env: &Environment, app: &App) -> Target {
    let namespace =
        app.namespace.clone().or_else(|| env.namespaces.first().cloned()).unwrap_or_else(|| "default".into());
    Target {
        env: env.name().to_owned(),
        context: env.context().to_owned(),
        namespace,
        kind: Kind::Deployment,
        name: app.deployment.clone(),
    }
}

/// Where a plan for `app` in `env` is for.
pub(crate) fn place<'a>(env: &'a Environment, app: &'a App) -> Place<'a> {
    Place { env: env.name(), context: env.context(), app: app.name(), protection: env.protection }
}

/// Plans a Deployment operation from the object as fetched.
pub fn plan_deployment(
    env: &Environment,
    app: &App,
    operation: Operation,
    object: &Value,
) -> Result<Plan, PlanError> {
    let place = place(env, app);
    match operation {
        Operation::Restart => {
            let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            crate::ops::restart(&place, object, &now)
        }
        Operation::Pause => crate::ops::pause(&place, object),
        Operation::Resume => crate::ops::resume(&place, object),
        other => Err(PlanError::Invalid(format!("{} is not a Deployment operation", other.name()))),
    }
}

/// After a conflict: what the object says now, as the plan it would make today, so the
/// operator decides again on what is true rather than on what was.
pub async fn describe_now(session: &Session, env: &Environment, app: &App, operation: Operation) -> String {
    let object = match ops::fetch(&session.read, &deployment_target(env, app)).await {
        Ok(object) => object,
        Err(e) => return format!("could not read it again: {e}"),
    };
    let rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("?");
    match plan_deployment(env, app, operation, &object) {
        Ok(plan) => {
            let diff: Vec<String> = plan
                .steps
                .iter()
                .flat_map(|s| &s.diff)
                .map(|d| format!("{} is now {}", d.field, d.before))
                .collect();
            format!(
                "now at resourceVersion {rv}: {}; planned again it would be: {}",
                diff.join(", "),
                plan.sentence()
            )
        }
        Err(PlanError::Refused(m) | PlanError::Invalid(m)) => format!("now at resourceVersion {rv}: {m}"),
    }
}

/// Before the confirmation screen: may the operator do this, and would the server accept it?
/// Nothing is written; a read-only environment sends nothing at all.
pub async fn preflight(sessions: &Sessions, plan: &Plan) -> Result<(), OpError> {
    for step in &plan.steps {
        preflight_step(sessions, step).await?;
    }
    Ok(())
}

/// The preflight of one step.
pub async fn preflight_step(sessions: &Sessions, step: &Step) -> Result<(), OpError> {
    let session = sessions.get(&step.target.env)?;
    let write = ops::writer(session.write.as_ref(), &session.env)?;
    session.reviews.authorize(&session.read, &step.target).await?;
    ops::dry_run(&write, step).await
}

/// The kill switch keeps what it can do: steps whose preflight fails leave the plan, each
/// with a warning saying why, so one forbidden or unreachable environment does not keep
/// every other canary at its weight. `None` when no step is left.
pub async fn preflight_fleet(sessions: &Sessions, mut plan: Plan) -> Result<Plan, OpError> {
    let mut kept = Vec::new();
    let mut first_error = None;
    for step in std::mem::take(&mut plan.steps) {
        match preflight_step(sessions, &step).await {
            Ok(()) => kept.push(step),
            Err(e) => {
                plan.warnings.push(format!("{}/{} left out: {e}", step.target.env, step.app));
                first_error.get_or_insert(e);
            }
        }
    }
    plan.steps = kept;
    match (plan.steps.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(plan),
    }
}

/// How long to wait for "done" after a step is written.
pub fn default_deadline(step: &Step) -> Duration {
    match step.verify {
        crate::ops::Verify::RolloutComplete => Duration::from_secs(300),
        crate::ops::Verify::Field { .. } => Duration::from_secs(30),
        crate::ops::Verify::Written => Duration::ZERO,
    }
}

/// What became of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub outcome: Outcome,
    pub message: String,
    /// The error that stopped it, for the exit code.
    pub error: Option<OpError>,
}

/// Where the run's records and notifications go.
pub struct Recorder<'a> {
    pub audit: &'a AuditLog,
    pub webhook: Option<&'a Webhook>,
    /// Notifications still in flight, for a short-lived CLI to wait on briefly.
    pub pending: Vec<tokio::task::JoinHandle<Result<(), String>>>,
}

impl Recorder<'_> {
    fn notify(&mut self, record: &Record) {
        if let Some(webhook) = self.webhook {
            self.pending.push(webhook.notify(slack_payload(record)));
        }
    }
}

fn intent(session: &Session, plan: &Plan, step: &Step, reason: Option<&str>) -> Record {
    let now = jiff::Timestamp::now();
    Record {
        id: new_id(now),
        phase: Phase::Intent,
        time: now,
        user: session.user.clone(),
        local_user: ops::local_user(),
        env: step.target.env.clone(),
        context: session.context.clone(),
        namespace: step.target.namespace.clone(),
        kind: step.target.kind.name().to_owned(),
        name: step.target.name.clone(),
        app: Some(step.app.clone()),
        operation: plan.operation.name().to_owned(),
        sentence: step.sentence.clone(),
        reason: reason.map(str::to_owned),
        emergency: plan.emergency.clone(),
        from_resource_version: Some(step.from_resource_version.clone()),
        patch: Some(step.patch.with_precondition(&step.from_resource_version).to_value()),
        outcome: None,
        message: None,
        to_resource_version: None,
    }
}

fn outcome_of(error: &OpError) -> Outcome {
    match error {
        OpError::Conflict(_) | OpError::Refused(_) => Outcome::Conflict,
        OpError::Forbidden(_) => Outcome::Forbidden,
        OpError::Unreachable(_) => Outcome::Unreachable,
        OpError::NotFound(_) | OpError::Invalid(_) | OpError::Failed(_) => Outcome::Failed,
    }
}

/// A step that runs after others of its plan, against the object as it is now: the
/// resourceVersion read just before if every field the step was computed from still has its
/// planned value (see [`Step::guards`]); a conflict naming the field otherwise.
async fn rebase(session: &Session, step: &Step) -> Result<Step, OpError> {
    let now = ops::fetch(&session.read, &step.target).await?;
    let rv = now.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
    if rv == step.from_resource_version {
        return Ok(step.clone());
    }
    let what = format!("{} {}/{}", step.target.kind.name(), step.target.namespace, step.target.name);
    if step.guards.is_empty() {
        return Err(OpError::Conflict(format!(
            "{what} changed while the earlier steps ran (resourceVersion {} → {rv}); nothing more was written",
            step.from_resource_version
        )));
    }
    if let Some(broken) = step.guards.iter().find(|g| !g.holds(&now)) {
        let field = broken.pointer.trim_start_matches('/').replace('/', ".").replace("~1", "/");
        let is = now.pointer(&broken.pointer).unwrap_or(&Value::Null);
        return Err(OpError::Conflict(format!(
            "{what} changed while the earlier steps ran: {field} is now {is}, the plan was made at {}; nothing more was written",
            broken.value
        )));
    }
    Ok(Step { from_resource_version: rv.to_owned(), ..step.clone() })
}

/// The outcome that sums up several: the first that is not done.
fn worst(outcomes: &[Outcome]) -> Outcome {
    outcomes.iter().copied().find(|o| *o != Outcome::Done).unwrap_or(Outcome::Done)
}

/// After confirmation: every step in order. An app's plan stops at the first step that does
/// not finish; the kill switch goes on with the others. `progress` hears each stage, for a UI
/// or a CLI to show.
pub async fn run(
    sessions: &Sessions,
    plan: &Plan,
    reason: Option<&str>,
    recorder: &mut Recorder<'_>,
    mut progress: impl FnMut(&str),
) -> Report {
    let mut reports = Vec::new();
    for (index, step) in plan.steps.iter().enumerate() {
        let report = run_step(sessions, plan, step, index > 0, reason, recorder, &mut progress).await;
        let stop = report.outcome != Outcome::Done && plan.scope == Scope::App;
        reports.push((step, report));
        if stop {
            break;
        }
    }
    match plan.scope {
        Scope::App => reports.pop().map_or_else(
            || Report { outcome: Outcome::Done, message: "nothing to do".into(), error: None },
            |(_, r)| r,
        ),
        Scope::Fleet => {
            let outcomes: Vec<Outcome> = reports.iter().map(|(_, r)| r.outcome).collect();
            let message = reports
                .iter()
                .map(|(s, r)| format!("{}/{}: {} ({})", s.target.env, s.app, r.outcome.as_str(), r.message))
                .collect::<Vec<_>>()
                .join("\n");
            let error = reports.iter().find_map(|(_, r)| r.error.clone());
            Report { outcome: worst(&outcomes), message, error }
        }
    }
}

/// One step along the path: audit intent, write with its precondition, Event, verification,
/// audit result, notification.
async fn run_step(
    sessions: &Sessions,
    plan: &Plan,
    step: &Step,
    after_others: bool,
    reason: Option<&str>,
    recorder: &mut Recorder<'_>,
    progress: &mut impl FnMut(&str),
) -> Report {
    let failed = |error: OpError| Report {
        outcome: outcome_of(&error),
        message: error.to_string(),
        error: Some(error),
    };
    let session = match sessions.get(&step.target.env) {
        Ok(session) => session,
        Err(e) => return failed(e),
    };
    let write = match ops::writer(session.write.as_ref(), &session.env) {
        Ok(write) => write,
        Err(e) => return failed(e),
    };
    let intent = intent(session, plan, step, reason);
    if let Err(e) = recorder.audit.append(&intent) {
        // Without the intent on disk there is no record of what is about to happen.
        return failed(OpError::Failed(format!(
            "cannot write the audit log {}: {e}; nothing was done",
            recorder.audit.path().display()
        )));
    }
    let conclude = |recorder: &mut Recorder<'_>, error: OpError| {
        let result = intent.result(jiff::Timestamp::now(), outcome_of(&error), error.to_string(), None);
        let _ = recorder.audit.append(&result);
        recorder.notify(&result);
        failed(error)
    };
    let step = if after_others {
        match rebase(session, step).await {
            Ok(step) => step,
            Err(error) => return conclude(recorder, error),
        }
    } else {
        step.clone()
    };
    progress(&format!("writing: {}", step.sentence));
    let object = match ops::execute(&write, &step).await {
        Ok(object) => object,
        Err(error) => return conclude(recorder, error),
    };
    let to_rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_owned);
    let event_message = format!(
        "{} by {}{}",
        step.sentence,
        session.user,
        reason.map(|r| format!(": {r}")).unwrap_or_default()
    );
    let mut notes = Vec::new();
    if let Err(e) = ops::record_event(&write, &step, &object, &event_message).await {
        tracing::warn!(error = %e, "could not record the Event");
        notes.push(format!("the Event could not be recorded ({e})"));
    }
    let verified = if step.verify == crate::ops::Verify::Written {
        Verified::Done(object.clone())
    } else {
        progress(&format!("written; waiting until {}", step.verify.describe()));
        ops::verify(&session.read, &step, default_deadline(&step)).await
    };
    let (outcome, message) = match verified {
        Verified::Done(_) => (Outcome::Done, step.verify.describe()),
        Verified::Failed(why) => (Outcome::Failed, format!("written, then failed: {why}")),
        Verified::Pending(why) => (Outcome::Pending, format!("written; still pending: {why}")),
    };
    let message = if notes.is_empty() { message } else { format!("{message}; {}", notes.join("; ")) };
    let result = intent.result(jiff::Timestamp::now(), outcome, message.clone(), to_rv);
    if let Err(e) = recorder.audit.append(&result) {
        tracing::error!(error = %e, "could not write the audit result");
    }
    recorder.notify(&result);
    Report { outcome, message, error: None }
}
