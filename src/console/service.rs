//! The console's adapter over the engine and the record keepers: it takes the reducer's
//! effects, runs them off the UI thread, and reports back as [`OpEvent`]s.

use std::fmt::Write as _;
use std::sync::Arc;

use tokio::sync::mpsc;

use kube::api::{Api, LogParams};

use crate::app::{AutoEvent, Effect, OpEvent};
use crate::cluster::logs::{FOLLOW_TAIL, Follower, LogEvent};
use crate::engine::{Answer, Engine, Origin, Prepared, Request};
use crate::logs::Target;

mod team;

/// The files the console reads and writes besides the audit log.
#[derive(Debug, Clone)]
pub struct Files {
    /// Where signed checklists are saved, and read for the gate.
    pub data_dir: std::path::PathBuf,
    /// The config file: checklist paths in it are relative to it.
    pub config_file: std::path::PathBuf,
}

/// How often the console writes again a result the audit log would not take.
const RECORD_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

struct Service {
    engine: Engine,
    files: Files,
    events: mpsc::Sender<OpEvent>,
    logs: std::sync::Mutex<LogFollow>,
    log_events: mpsc::Sender<(u64, LogEvent)>,
    /// The Leases the console wants held, for the holder task.
    leases: tokio::sync::watch::Sender<team::Wanted>,
}

/// The log screen's follow. Effects are handled on tasks of their own, so a stop can be seen
/// before the start it follows; sessions only grow, and a closed one never starts.
#[derive(Default)]
struct LogFollow {
    /// Every follow up to this one is closed.
    closed: u64,
    /// The latest pods asked for, and of which follow.
    wanted: Option<(u64, Vec<Target>)>,
    /// The follow whose client is being set up: later pod sets only update `wanted`.
    starting: Option<u64>,
    follower: Option<(u64, Follower)>,
}

/// Starts the service; effects sent on the returned channel are handled in the background,
/// each on its own task so a slow cluster never holds up another environment's operation.
pub fn spawn(
    engine: Engine,
    files: Files,
    console: String,
    events: mpsc::Sender<OpEvent>,
    log_events: mpsc::Sender<(u64, LogEvent)>,
) -> mpsc::UnboundedSender<Effect> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Effect>();
    let logs = std::sync::Mutex::new(LogFollow::default());
    let (leases, wanted) = tokio::sync::watch::channel(team::Wanted::new());
    let service = Arc::new(Service { engine, files, events, logs, log_events, leases });
    let holder = service.clone();
    tokio::spawn(async move { holder.hold_leases(console, wanted).await });
    tokio::spawn(async move {
        // A result the audit log would not take is written again as soon as there is room.
        let mut retry = tokio::time::interval(RECORD_RETRY_EVERY);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                effect = rx.recv() => {
                    let Some(effect) = effect else { return };
                    let service = service.clone();
                    tokio::spawn(async move { service.handle(effect).await });
                }
                _ = retry.tick() => {
                    let _ = service.engine.retry_records();
                }
            }
        }
    });
    tx
}

impl Service {
    async fn send(&self, event: OpEvent) {
        let _ = self.events.send(event).await;
    }

    async fn handle(&self, effect: Effect) {
        match effect {
            Effect::Prepare(request) => {
                let event = match self.engine.prepare(request.clone()).await {
                    Ok(prepared) => OpEvent::Prepared(Box::new(prepared)),
                    Err(refusal) => OpEvent::Refused { request: Box::new(request), refusal },
                };
                self.send(event).await;
            }
            Effect::Execute { prepared, answer } => {
                let events = self.events.clone();
                let finished = self
                    .execute(&prepared, &answer, move |stage| {
                        let _ = events.try_send(OpEvent::Progress { stage: stage.to_owned() });
                    })
                    .await;
                self.send(finished).await;
            }
            Effect::Auto(request) => self.auto(request).await,
            Effect::GuardRollback(request) => self.guard_rollback(request).await,
            Effect::Notify(payload) => {
                if let Some(webhook) = self.engine.webhook() {
                    // Delivered in the background; a failure is the webhook's to log.
                    drop(webhook.notify(payload));
                }
            }
            Effect::RunChecks { env } => {
                let result = self.run_checks(&env).await.map(Box::new);
                self.send(OpEvent::Checklist { env, result }).await;
            }
            Effect::SaveChecklist { report } => {
                let mut report = *report;
                report.local_user = Some(crate::cluster::ops::local_user());
                if let Ok(session) = self.engine.session(&report.env).await {
                    report.kube_user = Some(session.user);
                }
                let result = crate::checklist::report::save(&report, &self.files.data_dir);
                // The team's copy, so the gate holds on a colleague's machine too; only once
                // it is on this one.
                let shared = match &result {
                    Ok(_) => self.engine.share_checklist(&report).await.map_err(|e| e.to_string()),
                    Err(_) => Ok(()),
                };
                self.send(OpEvent::ChecklistSaved { env: report.env.clone(), result, shared }).await;
            }
            Effect::FollowLogs { session, env, namespace, targets } => {
                self.follow_logs(session, &env, &namespace, targets).await;
            }
            Effect::RecentErrors { env, app, namespace, targets, minutes } => {
                let logs = match self.engine.session(&env).await {
                    Ok(session) => {
                        let api = Api::namespaced(session.read, &namespace);
                        let patterns = self.engine.fleet().config.logs.patterns();
                        Ok(crate::cluster::logs::sample(&api, targets, minutes, &patterns).await)
                    }
                    Err(e) => Err(e.to_string()),
                };
                self.send(OpEvent::RecentErrors { env, app, logs }).await;
            }
            Effect::StopLogs { session } => {
                let mut logs = self.logs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                logs.closed = logs.closed.max(session);
                if logs.follower.as_ref().is_some_and(|(s, _)| *s <= session) {
                    logs.follower = None;
                }
            }
            Effect::LoadAudit => self.load_audit().await,
            Effect::LoadApprovals => self.load_approvals().await,
            Effect::HoldLeases(wanted) => {
                let _ = self.leases.send(wanted);
            }
            Effect::AnswerApproval { env, id, approve, reason } => {
                self.answer_approval(&env, &id, approve, reason.as_deref()).await;
            }
        }
    }

    /// Starts follow `session`, or gives it its new pods.
    async fn follow_logs(&self, session: u64, env: &str, namespace: &str, targets: Vec<Target>) {
        {
            let mut logs = self.logs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if session <= logs.closed {
                return;
            }
            if let Some((s, follower)) = &mut logs.follower
                && *s == session
            {
                follower.set_targets(&targets);
                return;
            }
            logs.wanted = Some((session, targets));
            if logs.starting == Some(session) {
                return;
            }
            logs.starting = Some(session);
        }
        let client = self.engine.session(env).await.map(|s| s.read);
        let mut logs = self.logs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if logs.starting == Some(session) {
            logs.starting = None;
        }
        let Some(targets) = logs.wanted.take().filter(|(s, _)| *s == session && session > logs.closed) else {
            return;
        };
        match client {
            Ok(client) => {
                let params = LogParams { tail_lines: Some(FOLLOW_TAIL), ..LogParams::default() };
                let patterns = self.engine.fleet().config.logs.patterns();
                let api = Api::namespaced(client, namespace);
                let mut follower = Follower::new(api, params, patterns, session, self.log_events.clone());
                follower.set_targets(&targets.1);
                logs.follower = Some((session, follower));
            }
            Err(e) => {
                let _ = self.log_events.try_send((session, LogEvent::Unavailable(e.to_string())));
            }
        }
    }

    /// Carries out a confirmed request, and says how it ended.
    async fn execute(&self, prepared: &Prepared, answer: &Answer, progress: impl FnMut(&str)) -> OpEvent {
        let sentence = prepared.plan.sentence();
        let (outcome, message) = match self.engine.execute(prepared, answer, progress).await {
            Ok(report) => {
                if let Some(id) = &report.awaiting {
                    // The console keeps the request, and plans it again once it is approved.
                    let awaiting = OpEvent::Awaiting { id: id.clone(), request: prepared.request.clone() };
                    self.send(awaiting).await;
                }
                let mut message = report.message;
                for line in &report.unrecorded {
                    let _ = write!(message, "\n⚠ {line}: kept, and written again before the next operation");
                }
                (report.outcome.as_str().to_owned(), message)
            }
            // The confirmation screen asks for all of it; this is the engine's own check.
            Err(missing) => ("refused".to_owned(), format!("{missing}: nothing was done")),
        };
        OpEvent::Finished { sentence, outcome, message }
    }

    /// The guard's rollback on `auto_rollback`: prepared like any other and carried out on the
    /// environment's standing consent, the tree's reason recorded with it.
    async fn guard_rollback(&self, request: Request) {
        let (env, app) = (request.env.clone(), request.app.clone());
        let Origin::Guard { reason } = &request.origin else { return };
        let answer = Answer::standing(reason);
        let tell = |outcome: String, message: String| OpEvent::GuardRollback {
            env: env.clone(),
            app: app.clone(),
            outcome,
            message,
        };
        let prepared = match self.engine.prepare(request.clone()).await {
            Ok(prepared) => prepared,
            Err(refusal) => return self.send(tell("refused".into(), refusal.to_string())).await,
        };
        if let OpEvent::Finished { outcome, message, .. } = self.execute(&prepared, &answer, |_| {}).await {
            self.send(tell(outcome, message)).await;
        }
    }

    /// Auto mode's step or abort: prepared like any other and carried out on the answer the
    /// operator gave when turning auto mode on.
    async fn auto(&self, request: Request) {
        let (env, app) = (request.env.clone(), request.app.clone());
        let Origin::Auto { reason } = &request.origin else { return };
        let answer = Answer::standing(reason);
        let tell = |event: AutoEvent| OpEvent::Auto { env: env.clone(), app: app.clone(), event };
        let prepared = match self.engine.prepare(request.clone()).await {
            Ok(prepared) => prepared,
            Err(refusal) => return self.send(tell(AutoEvent::Unavailable(refusal.to_string()))).await,
        };
        let events = self.events.clone();
        let progress = {
            let (env, app) = (env.clone(), app.clone());
            move |stage: &str| {
                let event = AutoEvent::Progress(stage.to_owned());
                let _ = events.try_send(OpEvent::Auto { env: env.clone(), app: app.clone(), event });
            }
        };
        if let OpEvent::Finished { sentence, outcome, message } =
            self.execute(&prepared, &answer, progress).await
        {
            self.send(tell(AutoEvent::Finished { sentence, outcome, message })).await;
        }
    }

    /// The environment's checklist, and the objects its automated checks read: the
    /// environment's, and the previous environment's apps for the soak check.
    async fn run_checks(
        &self,
        env: &str,
    ) -> Result<(crate::checklist::Checklist, crate::checklist::Objects), String> {
        let fleet = self.engine.fleet();
        let config = fleet.env_config(env).ok_or_else(|| format!("unknown environment {env:?}"))?;
        let model = fleet.env(env).map_err(|e| e.to_string())?;
        let checklist = crate::checklist::model::for_environment(config, &self.files.config_file)?;
        let session = self.engine.session(env).await.map_err(|e| e.to_string())?;
        let previous = match fleet.previous(env) {
            Some(p) => {
                Some((p, self.engine.session(&p.name).await.map(|s| s.read).map_err(|e| e.to_string())))
            }
            None => None,
        };
        let objects =
            crate::cluster::checklist::gather(&session.read, model, previous, &checklist, &fleet.config)
                .await
                .map_err(|e| e.to_string())?;
        Ok((checklist, objects))
    }
}
