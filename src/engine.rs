//! The operation engine: the one path every write takes, for the console and the command line
//! alike.
//!
//! [`Engine::prepare`] makes every decision once — the plan from the objects as they are,
//! read-only, the deployment windows and the checklist gate, the gate on canary traffic, the
//! confirmation it needs, then the access review and the server's dry run — and hands back a
//! [`Prepared`]. A front end turns that into a question (a confirmation screen, or
//! `--yes`/`--reason`/`--override`) and passes the [`Answer`] to [`Engine::execute`], which
//! writes each step once with its resourceVersion precondition, verifies it, and audits and
//! announces it. The decisions themselves are pure ([`decide`]); this module does their I/O
//! through the cluster layer.

mod analysis;
mod approval;
mod checklists;
pub mod decide;
mod execute;
mod objects;
mod prepare;
mod refusal;
mod release;
mod request;
mod session;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use kube::config::Kubeconfig;

use crate::audit::{AuditLog, Webhook};
use crate::config::Fleet;
use crate::ops::Plan;

pub use analysis::{Analysis, Board};
pub use approval::{Approval, Listed};
pub use decide::{Answer, AnswerError, Decision, Traffic};
pub use execute::Report;
pub use objects::{
    CanaryObjects, RollbackObjects, deployment_target, describe_now, fetch_canary, fetch_rollback,
    plan_canary,
};
pub use refusal::Refusal;
pub use request::{Ask, Origin, Request, Version};
pub use session::{Session, Sessions};

/// A request planned, decided and checked against the server, ready for its confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub request: Request,
    pub plan: Plan,
    pub decision: Decision,
    /// Who the write will be made as: one user, or one per environment.
    pub user: String,
    /// The clusters it writes to, as the kubeconfig names them.
    pub cluster: String,
    /// What the kill switch could not include, and why; empty for one app's request.
    pub left_out: Vec<Refusal>,
    /// The two-person approval gate.
    pub approval: Approval,
    /// Another Kubernetes user at this app's controls (their console holds its Lease): the
    /// write asks for an explicit take-over, recorded.
    pub held: Option<crate::team::lease::Holder>,
}

impl Prepared {
    /// `plan` decided as the engine decides it where no window, gate or read-only stands in
    /// the way, without asking a server: for the screens' and the reducer's tests and for
    /// screenshots, which have a plan but no cluster.
    pub fn offline(request: Request, plan: Plan, traffic: Traffic) -> Result<Self, Refusal> {
        let policy = plan
            .environments()
            .into_iter()
            .map(|e| (e.to_owned(), crate::ops::policy::Decision::Go))
            .collect();
        let decision = decide::decide(&decide::Facts {
            plan: &plan,
            readonly: false,
            origin: &request.origin,
            policy,
            traffic,
        })?;
        Ok(Self {
            request,
            plan,
            decision,
            user: "demo-admin".into(),
            cluster: "offline".into(),
            left_out: Vec::new(),
            approval: Approval::NotRequired,
            held: None,
        })
    }

    /// What the operator should know before confirming: the plan's warnings, then the
    /// decision's.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> =
            self.plan.warnings.iter().chain(&self.decision.warnings).cloned().collect();
        warnings.extend(self.team_warnings());
        warnings
    }

    /// What the team's state means for this write: the approval it waits for or was given,
    /// and a colleague at the controls whom confirming takes over from.
    pub fn team_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Approval::Wanted { pending, note } = &self.approval {
            warnings.extend(note.clone());
            warnings.push(match pending {
                Some(id) => format!("{} waits for approval: request {id} is pending", self.plan.env),
                None => format!(
                    "{} requires a second Kubernetes user's approval: confirming files a request and writes nothing yet",
                    self.plan.env
                ),
            });
        }
        if let Some(holder) = &self.held {
            warnings.push(format!(
                "{} is at the controls of {}/{} ({} since {}): confirming takes over, and the record says so",
                holder.user,
                holder.env,
                holder.app,
                holder.activity,
                holder.since.strftime("%H:%M")
            ));
        }
        if let Approval::Granted { request, by } = &self.approval {
            warnings.push(format!("approved by {by} (request {request})"));
        }
        warnings
    }
}

/// Where the engine says what takes a while, for a person at a terminal.
pub type Say = Arc<dyn Fn(&str) + Send + Sync>;

/// What an engine needs.
pub struct Setup {
    pub fleet: Arc<Fleet>,
    pub kubeconfig: Result<Kubeconfig, String>,
    /// `--readonly`: every environment refuses writes.
    pub readonly: bool,
    pub audit: Result<AuditLog, String>,
    pub webhook: Option<Webhook>,
    /// Where signed checklists are kept, for the checklist gate.
    pub data_dir: PathBuf,
    pub analysis: Analysis,
    /// Told what takes a while (sampling metrics), for a person at a terminal.
    pub say: Option<Say>,
}

pub struct Engine {
    fleet: Arc<Fleet>,
    kubeconfig: Result<Kubeconfig, String>,
    readonly: bool,
    audit: Result<AuditLog, String>,
    webhook: Option<Webhook>,
    data_dir: PathBuf,
    analysis: Analysis,
    say: Option<Say>,
    /// One session per environment, opened on first use.
    sessions: tokio::sync::Mutex<HashMap<String, Session>>,
    /// Results the audit log would not take, to write again.
    unrecorded: std::sync::Mutex<Vec<crate::audit::Record>>,
}

impl Engine {
    pub fn new(setup: Setup) -> Self {
        let Setup { fleet, kubeconfig, readonly, audit, webhook, data_dir, analysis, say } = setup;
        Self {
            fleet,
            kubeconfig,
            readonly,
            audit,
            webhook,
            data_dir,
            analysis,
            say,
            sessions: tokio::sync::Mutex::new(HashMap::new()),
            unrecorded: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The configured webhook, for what is not a write (a guard's verdict).
    pub fn webhook(&self) -> Option<&Webhook> {
        self.webhook.as_ref()
    }

    /// Where opsdeck keeps its records (the audit log, checklists, guard baselines).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    pub fn audit(&self) -> Result<&AuditLog, &String> {
        self.audit.as_ref()
    }

    /// The environment's session, opened (with the server's answer to who we are) on first use.
    pub async fn session(&self, env: &str) -> Result<Session, Refusal> {
        if let Some(session) = self.sessions.lock().await.get(env) {
            return Ok(session.clone());
        }
        let model = self.fleet.env(env)?;
        let readonly = self.readonly || self.fleet.env_config(env).is_some_and(|e| e.readonly);
        let kubeconfig = self.kubeconfig.clone().map_err(Refusal::Failed)?;
        let session = Session::open(kubeconfig, env, &model.context, readonly).await?;
        self.sessions.lock().await.insert(env.to_owned(), session.clone());
        Ok(session)
    }

    /// Whether writes to `env` are refused by config or `--readonly`.
    fn readonly(&self, env: &str) -> bool {
        self.readonly || self.fleet.env_config(env).is_some_and(|e| e.readonly)
    }

    fn say(&self, text: &str) {
        if let Some(say) = &self.say {
            say(text);
        }
    }

    /// The cluster a context points at, as the kubeconfig names it (with its server).
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
}
