//! The console's operations service: takes the reducer's effects, prepares and runs
//! operations off the UI thread, and reports back as events.

use std::collections::HashMap;
use std::sync::Arc;

use kube::config::Kubeconfig;
use tokio::sync::{Mutex, mpsc};

use super::{
    Recorder, Session, Sessions, canary_apps, canary_target, deployment_target, fetch_canary, fetch_rollback,
    find, open_session, plan_canary, plan_deployment, plan_kill_switch, plan_rollback, plan_suspend,
    preflight, preflight_fleet, run,
};
use crate::app::Effect;
use crate::audit::{AuditLog, Webhook};
use crate::cluster::ops::{self, OpError};
use crate::config::Config;
use crate::ops::rollback::Options;
use crate::ops::{Plan, PlanError, Request};

/// What the service tells the console.
#[derive(Debug, Clone, PartialEq)]
pub enum OpEvent {
    /// Planned, authorized and dry-run: ready for the confirmation screen.
    Prepared {
        plan: Box<Plan>,
        user: String,
        cluster: String,
    },
    /// Cannot be offered, and why.
    Unavailable {
        what: String,
        reason: String,
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
    /// The checklist of an environment and the objects its checks read, or why not.
    Checklist {
        env: String,
        result: Result<Box<(crate::checklist::Checklist, crate::checklist::Objects)>, String>,
    },
    /// Where a signed checklist was saved (JSON, Markdown), or why it was not.
    ChecklistSaved {
        env: String,
        result: Result<(std::path::PathBuf, std::path::PathBuf), String>,
    },
    /// How an operation auto mode started is going: it has no confirmation screen to report
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
    /// Could not be planned or authorized: nothing was written.
    Unavailable(String),
    Progress(String),
    Finished {
        sentence: String,
        outcome: String,
        message: String,
    },
}

/// The files the service reads and writes besides the audit log.
#[derive(Debug, Clone)]
pub struct Files {
    /// Where signed checklists are saved, and read for the gate.
    pub data_dir: std::path::PathBuf,
    /// The config file: checklist paths in it are relative to it.
    pub config_file: std::path::PathBuf,
}

struct Service {
    config: Config,
    files: Files,
    kubeconfig: Result<Kubeconfig, String>,
    readonly: bool,
    audit: Result<AuditLog, String>,
    webhook: Option<Webhook>,
    /// One session per environment, opened on first use.
    sessions: Mutex<HashMap<String, Session>>,
    events: mpsc::Sender<OpEvent>,
}

/// Starts the service; effects sent on the returned channel are handled in the background.
pub fn spawn(
    config: Config,
    files: Files,
    kubeconfig: Result<Kubeconfig, String>,
    readonly: bool,
    audit: Result<AuditLog, String>,
    webhook: Option<Webhook>,
    events: mpsc::Sender<OpEvent>,
) -> mpsc::UnboundedSender<Effect> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Effect>();
    let service = Arc::new(Service {
        config,
        files,
        kubeconfig,
        readonly,
        audit,
        webhook,
        sessions: Mutex::new(HashMap::new()),
        events,
    });
    tokio::spawn(async move {
        while let Some(effect) = rx.recv().await {
            let service = service.clone();
            tokio::spawn(async move { service.handle(effect).await });
        }
    });
    tx
}

/// A plan that could not be made, as the operator reads it.
fn plan_error(error: PlanError) -> String {
    match error {
        PlanError::Refused(m) | PlanError::Invalid(m) => m,
    }
}

impl Service {
    async fn handle(&self, effect: Effect) {
        match effect {
            Effect::Prepare { env, app, request } => {
                let what = match request {
                    Request::KillSwitch => "kill switch".to_owned(),
                    _ => format!("{} {env}/{app}", request.name()),
                };
                let event = match self.prepare(&env, &app, request).await {
                    Ok((plan, sessions)) => OpEvent::Prepared {
                        user: Self::users(&sessions, &plan),
                        cluster: self.clusters(&plan),
                        plan: Box::new(plan),
                    },
                    Err(reason) => OpEvent::Unavailable { what, reason },
                };
                let _ = self.events.send(event).await;
            }
            Effect::Execute { plan, reason } => {
                let events = self.events.clone();
                let finished = self
                    .execute(&plan, reason.as_deref(), move |stage| {
                        let _ = events.try_send(OpEvent::Progress { stage: stage.to_owned() });
                    })
                    .await;
                let _ = self.events.send(finished).await;
            }
            Effect::Auto { env, app, request, reason } => self.auto(env, app, request, &reason).await,
            Effect::RunChecks { env } => {
                let result = self.run_checks(&env).await.map(Box::new);
                let _ = self.events.send(OpEvent::Checklist { env, result }).await;
            }
            Effect::SaveChecklist { report } => {
                let mut report = *report;
                report.local_user = Some(ops::local_user());
                if let Ok(session) = self.session(&report.env).await {
                    report.kube_user = Some(session.user);
                }
                let result = crate::checklist::report::save(&report, &self.files.data_dir);
                let _ = self.events.send(OpEvent::ChecklistSaved { env: report.env.clone(), result }).await;
            }
            Effect::LoadAudit => {
                let records = match &self.audit {
                    Ok(log) => log.read().map(|(records, _)| records).map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                let _ = self.events.send(OpEvent::Audit(records)).await;
            }
        }
    }

    /// Auto mode's step or abort: planned and authorized as any other, and run without a
    /// confirmation screen, since the operator confirmed auto mode itself.
    async fn auto(&self, env: String, app: String, request: Request, reason: &str) {
        let tell = |event: AutoEvent| OpEvent::Auto { env: env.clone(), app: app.clone(), event };
        let plan = match self.prepare(&env, &app, request).await {
            Ok((plan, _)) => plan,
            Err(reason) => {
                let _ = self.events.send(tell(AutoEvent::Unavailable(reason))).await;
                return;
            }
        };
        let events = self.events.clone();
        let (progress_env, progress_app) = (env.clone(), app.clone());
        let finished = self
            .execute(&plan, Some(reason), move |stage| {
                let _ = events.try_send(OpEvent::Auto {
                    env: progress_env.clone(),
                    app: progress_app.clone(),
                    event: AutoEvent::Progress(stage.to_owned()),
                });
            })
            .await;
        if let OpEvent::Finished { sentence, outcome, message } = finished {
            let _ = self.events.send(tell(AutoEvent::Finished { sentence, outcome, message })).await;
        }
    }

    /// The environment's checklist, and the objects its automated checks read: the
    /// environment's, and the previous environment's apps for the soak check.
    async fn run_checks(
        &self,
        env: &str,
    ) -> Result<(crate::checklist::Checklist, crate::checklist::Objects), String> {
        let environment =
            self.config.environment(env).ok_or_else(|| format!("unknown environment {env:?}"))?;
        let checklist = crate::checklist::model::for_environment(environment, &self.files.config_file)?;
        let session = self.session(env).await?;
        let previous = match super::previous_environment(&self.config, environment) {
            Some(p) => Some((p, self.session(p.name()).await)),
            None => None,
        };
        let objects = super::gather_checklist(&self.config, environment, &session, previous)
            .await
            .map_err(|e| e.to_string())?;
        Ok((checklist, objects))
    }

    async fn session(&self, env: &str) -> Result<Session, String> {
        if let Some(session) = self.sessions.lock().await.get(env) {
            return Ok(session.clone());
        }
        let environment =
            self.config.environment(env).ok_or_else(|| format!("unknown environment {env:?}"))?;
        let kubeconfig = self.kubeconfig.clone()?;
        let session = open_session(kubeconfig, environment, self.readonly || environment.readonly)
            .await
            .map_err(|e| e.to_string())?;
        self.sessions.lock().await.insert(env.to_owned(), session.clone());
        Ok(session)
    }

    fn cluster_of(&self, context: &str) -> String {
        let Ok(kubeconfig) = &self.kubeconfig else { return "unknown".into() };
        let cluster = kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == context)
            .and_then(|c| c.context.as_ref())
            .map(|c| c.cluster.clone());
        let Some(cluster) = cluster else { return "unknown".into() };
        let server = kubeconfig
            .clusters
            .iter()
            .find(|c| c.name == cluster)
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.server.clone());
        server.map_or(cluster.clone(), |server| format!("{cluster} ({server})"))
    }

    /// The clusters the plan writes to, as the confirmation screen names them.
    fn clusters(&self, plan: &Plan) -> String {
        let mut contexts: Vec<&str> = plan.steps.iter().map(|s| s.target.context.as_str()).collect();
        contexts.dedup();
        contexts.iter().map(|c| self.cluster_of(c)).collect::<Vec<_>>().join(", ")
    }

    /// Who the plan writes as, per environment when it spans several.
    fn users(sessions: &Sessions, plan: &Plan) -> String {
        let envs = plan.environments();
        let user = |env: &str| sessions.get(env).map_or_else(|_| "?".to_owned(), |s| s.user.clone());
        match envs.as_slice() {
            [one] => user(one),
            many => many.iter().map(|e| format!("{} ({e})", user(e))).collect::<Vec<_>>().join(", "),
        }
    }

    /// Plans the request against the objects as they are now, authorizes and dry-runs it.
    async fn prepare(&self, env: &str, app: &str, request: Request) -> Result<(Plan, Sessions), String> {
        let mut version: Option<String> = None;
        let (session, plan) = match request {
            Request::KillSwitch => return self.prepare_kill_switch().await,
            Request::Deployment(operation) => {
                let (environment, app_config) = find(&self.config, env, app)?;
                let session = self.session(env).await?;
                let object = ops::fetch(&session.read, &deployment_target(environment, app_config))
                    .await
                    .map_err(|e| e.to_string())?;
                let plan =
                    plan_deployment(environment, app_config, operation, &object).map_err(plan_error)?;
                (session, plan)
            }
            Request::Canary(canary) => {
                let (environment, app_config) = find(&self.config, env, app)?;
                let target = canary_target(environment, app_config)?;
                let session = self.session(env).await?;
                let objects = fetch_canary(&session, environment, app_config, target)
                    .await
                    .map_err(|e| e.to_string())?;
                let plan =
                    plan_canary(environment, app_config, target, &objects, canary).map_err(plan_error)?;
                version = objects.canary_version();
                (session, plan)
            }
            Request::Rollback { to_revision } => {
                let (environment, app_config) = find(&self.config, env, app)?;
                let session = self.session(env).await?;
                let objects =
                    fetch_rollback(&session, environment, app_config).await.map_err(|e| e.to_string())?;
                // The console resumes a paused Deployment in the same write, and says so.
                let options = Options { to_revision, resume_paused: true, no_wait: false };
                let plan = plan_rollback(environment, app_config, &objects, options).map_err(plan_error)?;
                (session, plan)
            }
            Request::SuspendGitOps => {
                let (environment, app_config) = find(&self.config, env, app)?;
                let session = self.session(env).await?;
                let plan = plan_suspend(&session, environment, app_config).await?;
                (session, plan)
            }
        };
        let mut plan = plan;
        self.policy(&mut plan, version.as_deref())?;
        let sessions = Sessions::from(session);
        preflight(&sessions, &plan).await.map_err(|e| e.to_string())?;
        Ok((plan, sessions))
    }

    /// The environment's rules on the plan: refused, or an emergency written onto it (the
    /// confirmation then asks for a reason where the change adds risk).
    fn policy(&self, plan: &mut Plan, version: Option<&str>) -> Result<(), String> {
        use crate::ops::policy::{Decision, Rules, decide};
        let Some(env) = self.config.environment(&plan.env) else { return Ok(()) };
        let reports = crate::checklist::report::signed(&self.files.data_dir, env.name());
        match decide(plan, &Rules::of(env, &reports), version, jiff::Timestamp::now()) {
            Decision::Go => {}
            Decision::Emergency(why) | Decision::NeedsReason(why) => plan.emergency = Some(why),
            Decision::Refused(why) => return Err(why),
        }
        Ok(())
    }

    /// Every environment with a canary, each abort authorized and dry-run on its own: an
    /// environment that cannot be reached or written is named on the confirmation screen and
    /// left out, and the others go ahead.
    async fn prepare_kill_switch(&self) -> Result<(Plan, Sessions), String> {
        let mut sessions = Sessions::default();
        let mut warnings = Vec::new();
        for env in &self.config.environments {
            if canary_apps(&self.config, env).is_empty() {
                continue;
            }
            match self.session(env.name()).await {
                Ok(session) => sessions.insert(session),
                Err(e) => warnings.push(format!("{} left out: {e}", env.name())),
            }
        }
        let (plan, problems) = plan_kill_switch(&self.config, &sessions).await;
        warnings.extend(problems.iter().map(OpError::to_string));
        let Some(plan) = plan else {
            let mut reason = "no canary is taking traffic: nothing to abort".to_owned();
            if !warnings.is_empty() {
                reason = format!("{reason} ({})", warnings.join("; "));
            }
            return Err(reason);
        };
        let mut plan = preflight_fleet(&sessions, plan).await.map_err(|e| e.to_string())?;
        warnings.append(&mut plan.warnings);
        plan.warnings = warnings;
        Ok((plan, sessions))
    }

    /// Runs a confirmed plan, and says how it ended.
    async fn execute(&self, plan: &Plan, reason: Option<&str>, progress: impl FnMut(&str)) -> OpEvent {
        let sentence = plan.sentence();
        let finished = |outcome: &str, message: String| OpEvent::Finished {
            sentence: sentence.clone(),
            outcome: outcome.to_owned(),
            message,
        };
        let mut sessions = Sessions::default();
        for env in plan.environments() {
            match self.session(env).await {
                Ok(session) => sessions.insert(session),
                // The kill switch goes on without an environment it cannot reach; its step
                // reports the environment unreachable.
                Err(e) if plan.scope == crate::ops::Scope::Fleet => {
                    tracing::warn!(env, error = %e, "not connected");
                }
                Err(e) => return finished("unreachable", e),
            }
        }
        let audit = match &self.audit {
            Ok(audit) => audit,
            Err(e) => return finished("failed", format!("no audit log ({e}): nothing was done")),
        };
        let mut recorder = Recorder { audit, webhook: self.webhook.as_ref(), pending: Vec::new() };
        let report = run(&sessions, plan, reason, &mut recorder, progress).await;
        let mut message = report.message;
        if matches!(report.error, Some(OpError::Conflict(_))) && plan.scope == crate::ops::Scope::App {
            message = format!("{message}. {}", self.describe_now(plan).await);
        }
        finished(report.outcome.as_str(), message)
    }

    /// After a 409: what the plan would be today.
    async fn describe_now(&self, plan: &Plan) -> String {
        let Ok((env, app)) = find(&self.config, &plan.env, &plan.app) else { return String::new() };
        let Ok(session) = self.session(&plan.env).await else { return String::new() };
        if plan.operation.is_canary() {
            super::canary::describe_now(&session, env, app).await
        } else if plan.operation == crate::ops::Operation::Rollback {
            super::rollback::describe_now(&session, env, app).await
        } else {
            super::describe_now(&session, env, app, plan.operation).await
        }
    }
}
