//! The console's adapter over the engine and the record keepers: it takes the reducer's
//! effects, runs them off the UI thread, and reports back as [`OpEvent`]s.

use std::fmt::Write as _;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::app::{AutoEvent, Effect, OpEvent};
use crate::engine::{Answer, Engine, Origin, Prepared, Request};

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
}

/// Starts the service; effects sent on the returned channel are handled in the background,
/// each on its own task so a slow cluster never holds up another environment's operation.
pub fn spawn(engine: Engine, files: Files, events: mpsc::Sender<OpEvent>) -> mpsc::UnboundedSender<Effect> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Effect>();
    let service = Arc::new(Service { engine, files, events });
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
                self.send(OpEvent::ChecklistSaved { env: report.env.clone(), result }).await;
            }
            Effect::LoadAudit => {
                let records = match self.engine.audit() {
                    Ok(log) => log.read().map(|(records, _)| records).map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                self.send(OpEvent::Audit(records)).await;
            }
        }
    }

    /// Carries out a confirmed request, and says how it ended.
    async fn execute(&self, prepared: &Prepared, answer: &Answer, progress: impl FnMut(&str)) -> OpEvent {
        let sentence = prepared.plan.sentence();
        let (outcome, message) = match self.engine.execute(prepared, answer, progress).await {
            Ok(report) => {
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
        let objects = crate::cluster::checklist::gather(&session.read, model, previous)
            .await
            .map_err(|e| e.to_string())?;
        Ok((checklist, objects))
    }
}
