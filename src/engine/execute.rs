//! Carrying out a confirmed plan: for each step an audit intent, the write once with its
//! precondition, an Event on the target, verification, an audit result, and a notification.
//! An app's plan stops at the first step that does not finish, since each relies on the one
//! before; the kill switch goes on with the others.

use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::decide::{self, Answer, AnswerError};
use super::{Engine, Prepared, Session, Sessions, objects};
use crate::audit::{AuditLog, Outcome, Phase, Record, new_id, slack_payload};
use crate::cluster::ops::{self, OpError, Verified};
use crate::ops::{Plan, Scope, Step, Verify};

/// How a run ended.
#[derive(Debug)]
pub struct Report {
    pub outcome: Outcome,
    pub message: String,
    /// What stopped it, for an exit code: the first step that did not finish.
    pub error: Option<OpError>,
    /// Notifications still in flight.
    pub notifications: Notifications,
    /// Results that could not be written to the audit log (a full disk after the intent),
    /// each saying what and why: kept by the engine and written again by
    /// [`Engine::retry_records`].
    pub unrecorded: Vec<String>,
    /// The team's copies of the records, still being written to the clusters.
    pub shared: Notifications,
    /// The approval request the plan now waits for, when it needs one: nothing was written.
    pub awaiting: Option<String>,
}

impl Report {
    fn new(outcome: Outcome, message: String, error: Option<OpError>) -> Self {
        Self {
            outcome,
            message,
            error,
            notifications: Notifications::default(),
            unrecorded: Vec::new(),
            shared: Notifications::default(),
            awaiting: None,
        }
    }
}

/// Webhook deliveries still under way, for a short-lived command to wait on briefly.
#[derive(Debug, Default)]
pub struct Notifications(Vec<JoinHandle<Result<(), String>>>);

impl Notifications {
    /// Waits at most `grace` for the deliveries; what could not be delivered, and why.
    pub async fn settle(self, grace: Duration) -> Vec<String> {
        let all = futures::future::join_all(self.0);
        match tokio::time::timeout(grace, all).await {
            Ok(results) => results
                .into_iter()
                .filter_map(|r| match r {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e),
                    Err(e) => Some(e.to_string()),
                })
                .collect(),
            Err(_) => vec![format!("no answer within {}s", grace.as_secs())],
        }
    }
}

/// How long to wait for "done" after a step is written.
fn deadline(step: &Step) -> Duration {
    match step.verify {
        Verify::RolloutComplete => Duration::from_secs(300),
        Verify::Field { .. } | Verify::Stored { .. } => Duration::from_secs(30),
        // A controller's own pace: an Argo Rollout moves on at its next reconcile.
        Verify::AtLeast { .. } => Duration::from_secs(60),
        Verify::Checked { .. } | Verify::Written => Duration::ZERO,
    }
}

fn outcome_of(error: &OpError) -> Outcome {
    match error {
        OpError::Conflict(_) | OpError::Refused(_) => Outcome::Conflict,
        OpError::Forbidden(_) => Outcome::Forbidden,
        OpError::Unreachable(_) => Outcome::Unreachable,
        OpError::Unanswered(_) => Outcome::Unknown,
        OpError::NotFound(_) | OpError::Invalid(_) | OpError::Failed(_) => Outcome::Failed,
    }
}

/// Where a run's records go.
struct Recorder<'a> {
    audit: &'a AuditLog,
    webhook: Option<&'a crate::audit::Webhook>,
    notifications: Notifications,
    /// Results the log would not take, with why.
    unrecorded: Vec<(Record, String)>,
    /// The team's namespace in each cluster, when records are shared.
    team: Option<&'a str>,
    sessions: &'a Sessions,
    shared: Notifications,
}

impl Recorder<'_> {
    /// The team's copy of `record`, written in the background to its environment's cluster:
    /// the local log is this console's journal, and a slow cluster must not hold the write.
    fn share(&mut self, record: &Record) {
        let Some(namespace) = self.team else { return };
        let Some(client) = self.sessions.get(&record.env).and_then(|s| s.write.clone()) else { return };
        let shared = crate::team::Shared::audit(record);
        let namespace = namespace.to_owned();
        self.shared.0.push(tokio::spawn(async move {
            crate::cluster::records::put(&client, &namespace, &shared).await.map_err(|e| e.to_string())
        }));
    }

    fn notify(&mut self, record: &Record) {
        if let Some(webhook) = self.webhook {
            self.notifications.0.push(webhook.notify(slack_payload(record)));
        }
    }

    /// Writes a result record, keeping it to write again if the log will not take it: the
    /// intent already says what was attempted, and the result must not vanish without a word.
    fn result(&mut self, record: Record) {
        self.notify(&record);
        self.share(&record);
        if let Err(e) = self.audit.append(&record) {
            tracing::error!(error = %e, "could not write the audit result");
            self.unrecorded.push((record, e.to_string()));
        }
    }
}

/// What an unrecorded result says to the operator.
fn unrecorded_line(audit: &AuditLog, record: &Record, why: &str) -> String {
    let outcome = record.outcome.map_or("?", crate::audit::Outcome::as_str);
    format!(
        "the result of \"{}\" ({outcome}) could not be written to {}: {why}",
        record.sentence,
        audit.path().display()
    )
}

/// One step's write, as the record of it says it.
struct Attempt<'a> {
    plan: &'a Plan,
    session: &'a Session,
    reason: Option<&'a str>,
    emergency: Option<&'a str>,
    automatic: Option<&'static str>,
    approval: &'a super::Approval,
    took_over: Option<&'a str>,
}

impl Attempt<'_> {
    fn intent(&self, step: &Step) -> Record {
        let now = jiff::Timestamp::now();
        Record {
            id: new_id(now),
            phase: Phase::Intent,
            time: now,
            user: self.session.user.clone(),
            local_user: ops::local_user(),
            env: step.target.env.clone(),
            context: self.session.context.clone(),
            namespace: step.target.namespace.clone(),
            kind: step.target.kind.name().to_owned(),
            name: step.target.name.clone(),
            app: Some(step.app.clone()),
            operation: self.plan.operation.name().to_owned(),
            sentence: step.sentence.clone(),
            reason: self.reason.map(str::to_owned),
            emergency: self.emergency.map(str::to_owned),
            automatic: self.automatic.map(str::to_owned),
            approval: self.approval.recorded(),
            approval_request: self.approval.request().map(str::to_owned),
            took_over: self.took_over.map(str::to_owned),
            origin: None,
            from_resource_version: Some(step.from_resource_version.clone()),
            patch: Some(step.patch.with_precondition(&step.from_resource_version).to_value()),
            outcome: None,
            message: None,
            to_resource_version: None,
        }
    }
}

impl Engine {
    /// Carries out `prepared` on `answer`; `Err` when the answer is not enough for it, and
    /// then nothing was done. `progress` hears each stage, for a screen or a terminal.
    pub async fn execute(
        &self,
        prepared: &Prepared,
        answer: &Answer,
        mut progress: impl FnMut(&str),
    ) -> Result<Report, AnswerError> {
        let reason = decide::check(&prepared.decision, answer)?;
        let took_over = prepared.held.as_ref().map(crate::team::lease::Holder::words);
        if let Some(holder) = &took_over
            && matches!(prepared.request.origin, super::Origin::Operator)
            && !answer.take_over
        {
            return Err(AnswerError::NotTakenOver { holder: holder.clone() });
        }
        let plan = &prepared.plan;
        let failed = |message: String, error: OpError| Report::new(outcome_of(&error), message, Some(error));
        if let super::Approval::Wanted { pending, .. } = &prepared.approval {
            return Ok(self
                .await_approval(prepared, pending.as_deref(), reason.as_deref(), &mut progress)
                .await);
        }
        // A result the log would not take before goes first, now that there may be room.
        self.retry_records();
        let mut sessions = Sessions::default();
        for env in plan.environments() {
            match self.session(env).await {
                Ok(session) => sessions.insert(session),
                // The kill switch goes on without an environment it cannot reach; its step
                // reports the environment unreachable.
                Err(e) if plan.scope == Scope::Fleet => tracing::warn!(env, error = %e, "not connected"),
                Err(e) => return Ok(failed(e.to_string(), OpError::Unreachable(e.to_string()))),
            }
        }
        let audit = match &self.audit {
            Ok(audit) => audit,
            Err(e) => {
                let message = format!("no audit log ({e}): nothing was done");
                return Ok(failed(message.clone(), OpError::Failed(message)));
            }
        };
        let team = &self.fleet.config.team;
        let mut recorder = Recorder {
            audit,
            webhook: self.webhook.as_ref(),
            notifications: Notifications::default(),
            unrecorded: Vec::new(),
            team: team.shared_records.then_some(team.namespace.as_str()),
            sessions: &sessions,
            shared: Notifications::default(),
        };
        let mut reports: Vec<(&Step, Outcome, String, Option<OpError>)> = Vec::new();
        for (index, step) in plan.steps.iter().enumerate() {
            let Some(session) = sessions.get(&step.target.env) else {
                let error = OpError::Unreachable(format!("{}: not connected", step.target.env));
                reports.push((step, outcome_of(&error), error.to_string(), Some(error)));
                continue;
            };
            let attempt = Attempt {
                plan,
                session,
                reason: reason.as_deref(),
                emergency: prepared.decision.emergency(&step.target.env),
                automatic: prepared.request.origin.automatic(),
                approval: &prepared.approval,
                took_over: took_over.as_deref(),
            };
            let (outcome, message, error) =
                run_step(&attempt, step, index > 0, &mut recorder, &mut progress).await;
            let stop = outcome != Outcome::Done && plan.scope == Scope::App;
            reports.push((step, outcome, message, error));
            if stop {
                break;
            }
        }
        let mut report = match plan.scope {
            Scope::App => reports.pop().map_or_else(
                || Report::new(Outcome::Done, "nothing to do".into(), None),
                |(_, outcome, message, error)| Report::new(outcome, message, error),
            ),
            Scope::Fleet => Report::new(
                reports.iter().map(|r| r.1).find(|o| *o != Outcome::Done).unwrap_or(Outcome::Done),
                reports
                    .iter()
                    .map(|(s, o, m, _)| format!("{}/{}: {} ({m})", s.target.env, s.app, o.as_str()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                reports.iter().find_map(|r| r.3.clone()),
            ),
        };
        report.notifications = recorder.notifications;
        report.shared = recorder.shared;
        report.unrecorded =
            recorder.unrecorded.iter().map(|(record, why)| unrecorded_line(audit, record, why)).collect();
        self.keep_unrecorded(recorder.unrecorded.into_iter().map(|(record, _)| record));
        if matches!(report.error, Some(OpError::Conflict(_))) && plan.scope == Scope::App {
            let now = self.describe_now(prepared).await;
            report.message = format!("{}. {now}", report.message);
        }
        Ok(report)
    }

    /// A plan that needs a second user's approval: its request filed (or the one already
    /// pending named), nothing written.
    async fn await_approval(
        &self,
        prepared: &Prepared,
        pending: Option<&str>,
        reason: Option<&str>,
        progress: &mut impl FnMut(&str),
    ) -> Report {
        let id = if let Some(id) = pending {
            id.to_owned()
        } else {
            progress("filing the approval request");
            match self.file_request(prepared, reason).await {
                Ok(id) => id,
                Err(e) => {
                    let message = format!("the approval request could not be filed: {e}; nothing was done");
                    return Report::new(outcome_of(&e), message, Some(e));
                }
            }
        };
        let message = format!(
            "waiting for approval: request {id} ({}); another Kubernetes user answers it with `opsdeck approve {id}` or A on the overview; nothing was written",
            prepared.plan.sentence()
        );
        let mut report = Report::new(Outcome::Pending, message.clone(), Some(OpError::Refused(message)));
        report.awaiting = Some(id);
        report
    }

    fn keep_unrecorded(&self, records: impl Iterator<Item = Record>) {
        self.unrecorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(records);
    }

    /// Writes again the results the audit log would not take; what is still unwritten, and
    /// why, in the order they happened.
    pub fn retry_records(&self) -> Vec<String> {
        let Ok(audit) = &self.audit else { return Vec::new() };
        let mut pending = self.unrecorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut left = Vec::new();
        let mut still = Vec::new();
        for record in pending.drain(..) {
            // Once one fails, the later ones wait behind it: the log keeps its order.
            if !still.is_empty() {
                still.push(record);
                continue;
            }
            if let Err(e) = audit.append(&record) {
                left.push(unrecorded_line(audit, &record, &e.to_string()));
                still.push(record);
            }
        }
        left.extend(still.iter().skip(1).map(|r| unrecorded_line(audit, r, "waiting behind the one before")));
        *pending = still;
        left
    }

    /// After a 409: what the plan would be today.
    async fn describe_now(&self, prepared: &Prepared) -> String {
        let request = &prepared.request;
        let (Ok(placement), Ok(session)) =
            (self.fleet.placement(&request.env, &request.app), self.session(&request.env).await)
        else {
            return String::new();
        };
        objects::describe_now(&session, placement, prepared.plan.operation).await
    }
}

/// The write. A controller writes its object's status every pass: a 409 from that is read
/// again and retried, each time against the fields the step was computed from (see
/// [`rebase_on`]); `Err` when such a field changed.
async fn write_rebased(
    session: &Session,
    write: &kube::Client,
    mut step: Step,
) -> Result<(Step, Result<Value, OpError>), OpError> {
    let mut written = ops::execute(write, &step).await;
    let mut retries = 0;
    while step.target.kind.is_controller_object()
        && retries < 3
        && matches!(written, Err(OpError::Conflict(_)))
    {
        retries += 1;
        step = rebase(session, &step).await?;
        written = ops::execute(write, &step).await;
    }
    Ok((step, written))
}

/// A step that runs after others of its plan, against the object as it is now: the
/// resourceVersion read just before if every field the step was computed from still has its
/// planned value (see [`Step::guards`]); a conflict naming the field otherwise.
pub(super) async fn rebase(session: &Session, step: &Step) -> Result<Step, OpError> {
    let now = ops::fetch(&session.read, &step.target).await?;
    rebase_on(step, &now)
}

/// [`rebase`] on the object as just read.
pub(super) fn rebase_on(step: &Step, now: &Value) -> Result<Step, OpError> {
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
    if let Some(broken) = step.guards.iter().find(|g| !g.holds(now)) {
        return Err(OpError::Conflict(format!(
            "{what} changed since the plan: {}; nothing more was written",
            broken.describe_change(now)
        )));
    }
    Ok(Step { from_resource_version: rv.to_owned(), ..step.clone() })
}

/// How long reading a write back may take, connection included.
const READ_BACK_DEADLINE: Duration = Duration::from_secs(10);

/// What reading back a write whose answer was lost found.
enum ReadBack {
    Landed(Value),
    NotApplied(String),
    Unknown(String),
}

/// Reads the step's object on a connection of its own (the one the write went out on may be
/// the stuck one), bounded in time, and decides whether the write landed.
async fn read_back(session: &Session, step: &Step) -> ReadBack {
    let client = match session.fresh_reader(READ_BACK_DEADLINE).await {
        Ok(client) => client,
        Err(e) => return ReadBack::Unknown(e),
    };
    match tokio::time::timeout(READ_BACK_DEADLINE, ops::fetch(&client, &step.target)).await {
        Ok(Ok(object)) if step.landed(&object) => ReadBack::Landed(object),
        Ok(Ok(object)) => {
            let rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("?");
            ReadBack::NotApplied(format!("the object is at resourceVersion {rv} without the change"))
        }
        Ok(Err(e)) => ReadBack::Unknown(e.to_string()),
        Err(_) => ReadBack::Unknown(format!("no answer within {}s", READ_BACK_DEADLINE.as_secs())),
    }
}

/// One step along the path: audit intent, write with its precondition, Event, verification,
/// audit result, notification.
async fn run_step(
    attempt: &Attempt<'_>,
    step: &Step,
    after_others: bool,
    recorder: &mut Recorder<'_>,
    progress: &mut impl FnMut(&str),
) -> (Outcome, String, Option<OpError>) {
    let failed = |error: OpError| (outcome_of(&error), error.to_string(), Some(error));
    let session = attempt.session;
    let write = match session.writer() {
        Ok(write) => write.clone(),
        Err(e) => return failed(OpError::Forbidden(e.to_string())),
    };
    let intent = attempt.intent(step);
    if let Err(e) = recorder.audit.append(&intent) {
        // Without the intent on disk there is no record of what is about to happen.
        return failed(OpError::Failed(format!(
            "cannot write the audit log {}: {e}; nothing was done",
            recorder.audit.path().display()
        )));
    }
    recorder.share(&intent);
    let conclude = |recorder: &mut Recorder<'_>, error: OpError| {
        recorder.result(intent.result(jiff::Timestamp::now(), outcome_of(&error), error.to_string(), None));
        failed(error)
    };
    let step = if after_others || step.target.kind.is_controller_object() {
        match rebase(session, step).await {
            Ok(step) => step,
            Err(error) => return conclude(recorder, error),
        }
    } else {
        step.clone()
    };
    // The operator's reason goes into what the write says of itself (a change-cause).
    let step = crate::ops::release::with_reason(&step, attempt.reason);
    progress(&format!("writing: {}", step.sentence));
    let mut notes = Vec::new();
    let (step, written) = match write_rebased(session, &write, step).await {
        Ok(done) => done,
        Err(error) => return conclude(recorder, error),
    };
    let object = match written {
        Ok(object) => object,
        Err(OpError::Unanswered(why)) => {
            progress(&format!("{why}: it may have been applied; reading it back on a new connection"));
            match read_back(session, &step).await {
                ReadBack::Landed(object) => {
                    notes.push("its answer was lost; read back, the object shows it applied".to_owned());
                    object
                }
                ReadBack::NotApplied(how) => {
                    let message = format!("{why}; read back, it was not applied ({how})");
                    let result =
                        intent.result(jiff::Timestamp::now(), Outcome::NotApplied, message.clone(), None);
                    let _ = recorder.audit.append(&result);
                    recorder.notify(&result);
                    recorder.share(&result);
                    return (Outcome::NotApplied, message.clone(), Some(OpError::Unreachable(message)));
                }
                ReadBack::Unknown(how) => {
                    let message = format!(
                        "{why}, and it could not be read back ({how}): it may have been applied — check {} {}/{}",
                        step.target.kind.name(),
                        step.target.namespace,
                        step.target.name
                    );
                    let result =
                        intent.result(jiff::Timestamp::now(), Outcome::Unknown, message.clone(), None);
                    let _ = recorder.audit.append(&result);
                    recorder.notify(&result);
                    recorder.share(&result);
                    return (Outcome::Unknown, message.clone(), Some(OpError::Unanswered(message)));
                }
            }
        }
        Err(error) => return conclude(recorder, error),
    };
    let to_rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_owned);
    let event_message = format!(
        "{} by {}{}",
        step.sentence,
        session.user,
        attempt.reason.map(|r| format!(": {r}")).unwrap_or_default()
    );
    if let Err(e) = ops::record_event(&write, &step, &object, &event_message).await {
        tracing::warn!(error = %e, "could not record the Event");
        notes.push(format!("the Event could not be recorded ({e})"));
    }
    let verified = if matches!(step.verify, Verify::Written | Verify::Checked { .. }) {
        Verified::Done(object.clone())
    } else {
        progress(&format!("written; waiting until {}", step.verify.describe()));
        ops::verify(&session.read, &step, deadline(&step)).await
    };
    let (outcome, message) = match verified {
        Verified::Done(_) => (Outcome::Done, step.verify.describe()),
        Verified::Failed(why) => (Outcome::Failed, format!("written, then failed: {why}")),
        Verified::Pending(why) => (Outcome::Pending, format!("written; still pending: {why}")),
    };
    let message = if notes.is_empty() { message } else { format!("{message}; {}", notes.join("; ")) };
    recorder.result(intent.result(jiff::Timestamp::now(), outcome, message.clone(), to_rv));
    (outcome, message, None)
}
