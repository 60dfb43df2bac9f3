//! Runs a plan along the one path every write takes: preflight (authorize, dry run) before the
//! confirmation; then for each step an audit intent, the write with its precondition, an
//! Event on the target, verification, an audit result, and a notification.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use serde_json::Value;

use crate::audit::{AuditLog, Outcome, Phase, Record, Webhook, new_id, slack_payload};
use crate::cluster::ops::{self, OpError, Reviews, Verified};
use crate::cluster::{self, ConnectError, ConnectTimeouts};
use crate::config::{App, Config, Environment};
use crate::ops::{Kind, Operation, Place, Plan, PlanError, Step, Target};

mod service;

pub use service::{OpEvent, spawn};

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

/// Plans a Deployment operation from the object as fetched.
pub fn plan_deployment(
    env: &Environment,
    app: &App,
    operation: Operation,
    object: &Value,
) -> Result<Plan, PlanError> {
    let place =
        Place { env: env.name(), context: env.context(), app: app.name(), protection: env.protection };
    match operation {
        Operation::Restart => {
            let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            crate::ops::restart(&place, object, &now)
        }
        Operation::Pause => crate::ops::pause(&place, object),
        Operation::Resume => crate::ops::resume(&place, object),
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
pub async fn preflight(session: &Session, plan: &Plan) -> Result<(), OpError> {
    let write = ops::writer(session.write.as_ref(), &session.env)?;
    for step in &plan.steps {
        session.reviews.authorize(&session.read, &step.target).await?;
        ops::dry_run(&write, step).await?;
    }
    Ok(())
}

/// How long to wait for "done" after a step is written.
pub fn default_deadline(step: &Step) -> Duration {
    match step.verify {
        crate::ops::Verify::RolloutComplete => Duration::from_secs(300),
        crate::ops::Verify::Field { .. } => Duration::from_secs(30),
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
        env: plan.env.clone(),
        context: session.context.clone(),
        namespace: step.target.namespace.clone(),
        kind: step.target.kind.name().to_owned(),
        name: step.target.name.clone(),
        app: Some(plan.app.clone()),
        operation: plan.operation.name().to_owned(),
        sentence: step.sentence.clone(),
        reason: reason.map(str::to_owned),
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

/// After confirmation: every step in order, stopping at the first that does not finish.
/// `progress` hears each stage, for a UI or a CLI to show.
pub async fn run(
    session: &Session,
    plan: &Plan,
    reason: Option<&str>,
    recorder: &mut Recorder<'_>,
    mut progress: impl FnMut(&str),
) -> Report {
    let write = match ops::writer(session.write.as_ref(), &session.env) {
        Ok(write) => write,
        Err(e) => return Report { outcome: Outcome::Forbidden, message: e.to_string(), error: Some(e) },
    };
    let mut last = Report { outcome: Outcome::Done, message: "nothing to do".into(), error: None };
    for step in &plan.steps {
        let intent = intent(session, plan, step, reason);
        if let Err(e) = recorder.audit.append(&intent) {
            // Without the intent on disk there is no record of what is about to happen.
            let error = OpError::Failed(format!(
                "cannot write the audit log {}: {e}; nothing was done",
                recorder.audit.path().display()
            ));
            return Report { outcome: Outcome::Failed, message: error.to_string(), error: Some(error) };
        }
        progress(&format!("writing: {}", step.sentence));
        let object = match ops::execute(&write, step).await {
            Ok(object) => object,
            Err(error) => {
                let result =
                    intent.result(jiff::Timestamp::now(), outcome_of(&error), error.to_string(), None);
                let _ = recorder.audit.append(&result);
                recorder.notify(&result);
                return Report {
                    outcome: outcome_of(&error),
                    message: error.to_string(),
                    error: Some(error),
                };
            }
        };
        let to_rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_owned);
        let event_message = format!(
            "{} by {}{}",
            step.sentence,
            session.user,
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
        let mut notes = Vec::new();
        if let Err(e) = ops::record_event(&write, step, &object, &event_message).await {
            tracing::warn!(error = %e, "could not record the Event");
            notes.push(format!("the Event could not be recorded ({e})"));
        }
        progress(&format!("written; waiting until {}", step.verify.describe()));
        let (outcome, message) = match ops::verify(&session.read, step, default_deadline(step)).await {
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
        last = Report { outcome, message, error: None };
        if outcome != Outcome::Done {
            break;
        }
    }
    last
}
