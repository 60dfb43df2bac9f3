//! Building an environment's clients: concurrently, with deadlines, and without retries on
//! the client that writes.

use std::time::Duration;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::errors::summarize_kubeconfig;

/// Deadlines for talking to one cluster. kube sets none by default, so a dead cluster would
/// hang a request forever.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTimeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Duration,
    /// Whole deadline for building the client, which may run an exec credential plugin.
    pub credentials: Duration,
}

impl Default for ConnectTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(60),
            write: Duration::from_secs(10),
            credentials: Duration::from_secs(20),
        }
    }
}

/// Why an environment's clients could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The kubeconfig cannot reach this environment (bad context, no server URL): trying
    /// again changes nothing until the operator fixes it.
    Config(String),
    /// Credentials or the network failed; a later attempt may succeed.
    Transient(String),
}

/// The clients of one environment.
#[derive(Clone)]
pub struct EnvClients {
    /// Reads and watches; kube's default retry on 429/503/504 is welcome here.
    pub read: Client,
    /// Writes. No automatic retries: a write is sent once and its outcome reported, because a
    /// blindly retried PATCH may land after the operator has already decided something else.
    /// `None` for a read-only environment: with no client to send them, writes are impossible
    /// below the UI.
    pub write: Option<Client>,
    /// Metrics scrapes through the pod proxy, without retries: a pod's refused port comes back
    /// as a 503, which is an answer to report, not a hiccup to retry until the deadline.
    pub scrape: Client,
    pub default_namespace: String,
    /// Signs of life of the read client's watches.
    pub pulse: super::Pulse,
}

/// The lock on building clients for `context`.
fn building(context: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::Mutex<
        Option<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    > = std::sync::Mutex::new(None);
    let mut locks = LOCKS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.get_or_insert_with(Default::default).entry(context.to_owned()).or_default().clone()
}

/// Builds the clients for `context`. Runs on a blocking thread with a hard deadline because
/// kube runs exec credential plugins synchronously while building the client.
pub async fn connect(
    kubeconfig: Kubeconfig,
    context: &str,
    timeouts: ConnectTimeouts,
    readonly: bool,
) -> Result<EnvClients, ConnectError> {
    let options = KubeConfigOptions { context: Some(context.to_owned()), ..KubeConfigOptions::default() };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| ConnectError::Config(format!("context {context:?}: {}", summarize_kubeconfig(&e))))?;
    config.connect_timeout = Some(timeouts.connect);
    config.read_timeout = Some(timeouts.read);
    config.write_timeout = Some(timeouts.write);
    let mut write_config = config.clone();
    write_config.default_retry = false;
    let default_namespace = config.default_namespace.clone();

    let pulse = super::Pulse::default();
    let layer = super::pulse::PulseLayer(pulse.clone());
    // One client build per context at a time: each may run an exec credential plugin, and a
    // reconnect or an operation must not start a second beside one that hangs. The guard
    // goes with the build, so a build abandoned at the deadline still holds it until it ends.
    let Ok(turn) = tokio::time::timeout(timeouts.credentials, building(context).lock_owned()).await else {
        return Err(ConnectError::Transient(format!(
            "credentials: the credential plugin for {context} is still running from the last attempt"
        )));
    };
    let build = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let read = kube::client::ClientBuilder::try_from(config)?.with_layer(&layer).build();
        let scrape = Client::try_from(write_config.clone())?;
        let write = if readonly { None } else { Some(Client::try_from(write_config)?) };
        Ok::<_, kube::Error>((read, write, scrape))
    });
    match tokio::time::timeout(timeouts.credentials, build).await {
        Err(_) => Err(ConnectError::Transient(format!(
            "credentials: no answer from the kubeconfig's credential plugin within {}s",
            timeouts.credentials.as_secs()
        ))),
        Ok(Err(join)) => Err(ConnectError::Transient(format!("credentials: client setup failed: {join}"))),
        Ok(Ok(Err(e))) => {
            tracing::warn!(context, error = ?e, "client setup failed");
            Err(ConnectError::Transient(super::summarize(&e)))
        }
        Ok(Ok(Ok((read, write, scrape)))) => Ok(EnvClients { read, write, scrape, default_namespace, pulse }),
    }
}
