//! The console's operations service: takes the reducer's effects, prepares and runs
//! operations off the UI thread, and reports back as events.

use std::collections::HashMap;
use std::sync::Arc;

use kube::config::Kubeconfig;
use tokio::sync::{Mutex, mpsc};

use super::{Recorder, Session, deployment_target, find, open_session, plan_deployment, preflight, run};
use crate::app::Effect;
use crate::audit::{AuditLog, Webhook};
use crate::cluster::ops;
use crate::config::Config;
use crate::ops::{Operation, Plan, PlanError};

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
}

struct Service {
    config: Config,
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
    kubeconfig: Result<Kubeconfig, String>,
    readonly: bool,
    audit: Result<AuditLog, String>,
    webhook: Option<Webhook>,
    events: mpsc::Sender<OpEvent>,
) -> mpsc::UnboundedSender<Effect> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Effect>();
    let service = Arc::new(Service {
        config,
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

impl Service {
    async fn handle(&self, effect: Effect) {
        match effect {
            Effect::Prepare { env, app, operation } => {
                let what = format!("{} {env}/{app}", operation.name());
                let event = match self.prepare(&env, &app, operation).await {
                    Ok(event) => event,
                    Err(reason) => OpEvent::Unavailable { what, reason },
                };
                let _ = self.events.send(event).await;
            }
            Effect::Execute { plan, reason } => self.execute(&plan, reason.as_deref()).await,
            Effect::LoadAudit => {
                let records = match &self.audit {
                    Ok(log) => log.read().map(|(records, _)| records).map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                let _ = self.events.send(OpEvent::Audit(records)).await;
            }
        }
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

    async fn prepare(&self, env: &str, app: &str, operation: Operation) -> Result<OpEvent, String> {
        let (environment, app_config) = find(&self.config, env, app)?;
        let session = self.session(env).await?;
        let target = deployment_target(environment, app_config);
        let object = ops::fetch(&session.read, &target).await.map_err(|e| e.to_string())?;
        let plan = plan_deployment(environment, app_config, operation, &object).map_err(|e| match e {
            PlanError::Refused(m) | PlanError::Invalid(m) => m,
        })?;
        preflight(&session, &plan).await.map_err(|e| e.to_string())?;
        Ok(OpEvent::Prepared {
            plan: Box::new(plan),
            user: session.user.clone(),
            cluster: self.cluster_of(environment.context()),
        })
    }

    async fn execute(&self, plan: &Plan, reason: Option<&str>) {
        let sentence = plan.sentence();
        let finished = |outcome: &str, message: String| OpEvent::Finished {
            sentence: sentence.clone(),
            outcome: outcome.to_owned(),
            message,
        };
        let session = match self.session(&plan.env).await {
            Ok(session) => session,
            Err(e) => {
                let _ = self.events.send(finished("unreachable", e)).await;
                return;
            }
        };
        let audit = match &self.audit {
            Ok(audit) => audit,
            Err(e) => {
                let _ = self
                    .events
                    .send(finished("failed", format!("no audit log ({e}): nothing was done")))
                    .await;
                return;
            }
        };
        let mut recorder = Recorder { audit, webhook: self.webhook.as_ref(), pending: Vec::new() };
        let events = self.events.clone();
        let report = run(&session, plan, reason, &mut recorder, |stage| {
            let _ = events.try_send(OpEvent::Progress { stage: stage.to_owned() });
        })
        .await;
        let mut message = report.message;
        if matches!(report.error, Some(ops::OpError::Conflict(_)))
            && let Ok((env, app)) = super::find(&self.config, &plan.env, &plan.app)
        {
            message = format!("{message}. {}", super::describe_now(&session, env, app, plan.operation).await);
        }
        let _ = self.events.send(finished(report.outcome.as_str(), message)).await;
    }
}
