//! One environment's connection as the engine uses it: the read client, the write client
//! (none for a read-only environment), the Kubernetes user the server says the kubeconfig
//! authenticates as, and remembered access reviews.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::config::Kubeconfig;

use super::Refusal;
use crate::cluster::ops::{self, Reviews};
use crate::cluster::{self, ConnectError, ConnectTimeouts};

/// The identity lookup is asked again this often before the operation is refused: a brief
/// outage must not put a local name in the audit log.
const IDENTITY_ATTEMPTS: u32 = 3;
const IDENTITY_RETRY: Duration = Duration::from_millis(700);

#[derive(Clone)]
pub struct Session {
    pub env: String,
    pub context: String,
    pub read: Client,
    /// `None` when the environment is read-only: with no client to send them, writes are
    /// impossible below the engine too.
    pub write: Option<Client>,
    /// The Kubernetes user, as the API server says (SelfSubjectReview).
    pub user: String,
    pub reviews: Arc<Reviews>,
    /// For a connection of its own when the session's may be stuck (reading back a write
    /// whose answer was lost).
    kubeconfig: Kubeconfig,
}

impl Session {
    /// Connects to `context` and asks the server who we are. Without an answer there is no
    /// session: every record must name the user the server knows.
    pub async fn open(
        kubeconfig: Kubeconfig,
        env: &str,
        context: &str,
        readonly: bool,
    ) -> Result<Self, Refusal> {
        let clients = cluster::connect(kubeconfig.clone(), context, ConnectTimeouts::default(), readonly)
            .await
            .map_err(|e| match e {
                ConnectError::Config(m) => Refusal::Failed(format!("{env}: {m}")),
                ConnectError::Transient(m) => Refusal::Unreachable(format!("{env}: {m}")),
            })?;
        let user = identity(&clients.read, env, context).await?;
        Ok(Self {
            env: env.to_owned(),
            context: context.to_owned(),
            read: clients.read,
            write: clients.write,
            user,
            reviews: Arc::new(Reviews::default()),
            kubeconfig,
        })
    }

    /// A read client on a connection of its own, made within `deadline`.
    pub async fn fresh_reader(&self, deadline: Duration) -> Result<Client, String> {
        let timeouts = ConnectTimeouts { read: deadline, ..ConnectTimeouts::default() };
        let connecting = cluster::connect(self.kubeconfig.clone(), &self.context, timeouts, true);
        match tokio::time::timeout(deadline, connecting).await {
            Ok(Ok(clients)) => Ok(clients.read),
            Ok(Err(ConnectError::Config(m) | ConnectError::Transient(m))) => Err(m),
            Err(_) => Err(format!("no connection within {}s", deadline.as_secs())),
        }
    }

    /// The write client, or why there is none.
    pub fn writer(&self) -> Result<&Client, Refusal> {
        self.write.as_ref().ok_or_else(|| {
            Refusal::Forbidden(format!(
                "{} is read-only (--readonly or readonly = true): opsdeck sends no writes there",
                self.env
            ))
        })
    }
}

/// The server's name for us, asked a few times before giving up.
async fn identity(client: &Client, env: &str, context: &str) -> Result<String, Refusal> {
    let mut last = None;
    for attempt in 0..IDENTITY_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(IDENTITY_RETRY).await;
        }
        match ops::whoami(client).await {
            Ok(user) => return Ok(user),
            // Refused credentials do not get better by asking again.
            Err(ops::OpError::Forbidden(why)) => {
                return Err(Refusal::Forbidden(ops::refused_credentials(&why, context)));
            }
            Err(e) => last = Some(e),
        }
    }
    let why = last.map_or_else(String::new, |e| e.to_string());
    Err(Refusal::Unreachable(format!(
        "{env}: cannot tell who you are ({why}); nothing was done, since the record must name the user the server knows"
    )))
}

/// The sessions a plan runs with, by environment name.
#[derive(Clone, Default)]
pub struct Sessions(BTreeMap<String, Session>);

impl Sessions {
    pub fn insert(&mut self, session: Session) {
        self.0.insert(session.env.clone(), session);
    }

    pub fn get(&self, env: &str) -> Option<&Session> {
        self.0.get(env)
    }
}
