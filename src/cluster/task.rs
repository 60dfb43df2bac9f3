//! One task per environment: connect, then keep the environment's state current.

use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{ConnectError, ConnectTimeouts, connect, summarize};

/// How often the API server is asked for its version, as a liveness probe; watches carry the
/// data, this only notices a cluster that went silent.
const PROBE_INTERVAL: Duration = Duration::from_secs(10);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnect backoff after a failed client setup, doubling up to the cap.
const RETRY_MIN: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// What the API server said about itself, and how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub version: String,
    pub latency: Duration,
}

/// A change in an environment's connection, sent to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvUpdate {
    Connecting,
    /// The API server answered at `at`.
    Reachable {
        server: ServerInfo,
        at: jiff::Timestamp,
    },
    /// The last attempt failed; the task keeps trying.
    Unreachable {
        reason: String,
        at: jiff::Timestamp,
    },
    /// The kubeconfig cannot reach this environment at all (no kubeconfig, broken context);
    /// nothing will change until the operator fixes it.
    Misconfigured {
        reason: String,
    },
    /// The Kubernetes user the context authenticates as.
    Identity {
        user: String,
    },
}

/// Starts the task for environment `index`. `kubeconfig` is `Err` when it could not be read;
/// the environment then reports why instead of connecting.
pub fn spawn_environment(
    index: usize,
    context: String,
    kubeconfig: Result<Kubeconfig, String>,
    timeouts: ConnectTimeouts,
    tx: mpsc::Sender<(usize, EnvUpdate)>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let send = |update| {
            let tx = tx.clone();
            async move { tx.send((index, update)).await.is_ok() }
        };
        let kubeconfig = match kubeconfig {
            Ok(k) => k,
            Err(reason) => {
                send(EnvUpdate::Misconfigured { reason }).await;
                return;
            }
        };
        let mut backoff = RETRY_MIN;
        let clients = loop {
            if !send(EnvUpdate::Connecting).await {
                return;
            }
            // The console's own task only reads; writes go through the operation path.
            match connect(kubeconfig.clone(), &context, timeouts, true).await {
                Ok(clients) => break clients,
                Err(ConnectError::Config(reason)) => {
                    send(EnvUpdate::Misconfigured { reason }).await;
                    return;
                }
                Err(ConnectError::Transient(reason)) => {
                    tracing::warn!(context, reason, "connect failed");
                    if !send(EnvUpdate::Unreachable { reason, at: jiff::Timestamp::now() }).await {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RETRY_MAX);
                }
            }
        };
        let user = super::ops::whoami(&clients.read).await;
        if !send(EnvUpdate::Identity { user }).await {
            return;
        }
        let mut interval = tokio::time::interval(PROBE_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let started = Instant::now();
            let update = match tokio::time::timeout(PROBE_TIMEOUT, clients.read.apiserver_version()).await {
                Ok(Ok(info)) => EnvUpdate::Reachable {
                    server: ServerInfo { version: info.git_version, latency: started.elapsed() },
                    at: jiff::Timestamp::now(),
                },
                Ok(Err(e)) => {
                    tracing::warn!(context, error = ?e, "probe failed");
                    EnvUpdate::Unreachable { reason: summarize(&e), at: jiff::Timestamp::now() }
                }
                Err(_) => EnvUpdate::Unreachable {
                    reason: format!("no answer within {}s", PROBE_TIMEOUT.as_secs()),
                    at: jiff::Timestamp::now(),
                },
            };
            if !send(update).await {
                return;
            }
        }
    })
}
