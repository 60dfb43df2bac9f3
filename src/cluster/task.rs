//! One task per environment: connect, then keep the environment's state current.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::watch::{self, Services, Tables, WatchSpec};
use super::{ConnectError, ConnectTimeouts, connect, summarize};
use crate::config::{Fleet, Placement};
use crate::health::verdict::Stale;
use crate::health::{AppSpec, EnvHealth, Inventory, assess};
use crate::metrics::{self, MetricsSnapshot};

/// How often the API server is asked for its version, as a liveness probe; watches carry the
/// data, this only notices a cluster that went silent.
const PROBE_INTERVAL: Duration = Duration::from_secs(5);
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
#[derive(Debug, Clone, PartialEq)]
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
    /// Every opsdeck Lease in the team's namespace, after a change.
    Leases(Vec<crate::team::lease::Holder>),
    /// A team record as stored (the ones already there first).
    Record(Box<crate::team::Shared>),
    /// The Kubernetes user the context authenticates as, and whether the server enforces the
    /// team records' admission policy (`None`: it could not be told).
    Identity {
        user: String,
        enforced: Option<bool>,
    },
    /// What the watchers see now, and the health model's reading of it.
    Health(Arc<Snapshot>),
    /// The latest metrics round: figures per app and track, and canary verdicts.
    Metrics(Arc<MetricsSnapshot>),
    /// The environment's metric settings cannot be used (say why once, instead of figures).
    MetricsUnavailable {
        reason: String,
    },
}

/// One environment's state as of one moment, for the app to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub inventory: Inventory,
    pub health: EnvHealth,
    /// The last watch error, if the watchers are failing.
    pub watch_error: Option<String>,
    /// Set when the data may no longer be true (silent watches, an unanswering cluster); the
    /// health's verdicts are then unknown.
    pub stale: Option<Stale>,
    /// Services and EndpointSlices are read here: an app with none has none.
    pub reads_services: bool,
}

/// What an environment task watches and assesses.
#[derive(Debug, Clone, Default)]
pub struct EnvWatch {
    pub env: String,
    pub spec: WatchSpec,
    pub apps: Vec<Placement>,
    /// Where the apps' request metrics come from; `None` when nothing asks for them.
    pub metrics: Option<Result<metrics::Settings, String>>,
    /// The team's namespace, whose Leases (and records, when shared) are watched.
    pub team: Option<Team>,
}

/// What of the team's namespace an environment's task watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Team {
    pub namespace: String,
    pub records: bool,
}

impl EnvWatch {
    /// The health model over what this environment's watchers saw.
    pub fn assess(&self, inventory: &Inventory, now: jiff::Timestamp) -> EnvHealth {
        let apps: Vec<AppSpec<'_>> = self.apps.iter().map(AppSpec::of).collect();
        assess(&self.env, &apps, inventory, now)
    }

    /// What to watch for `env`: its namespaces, the apps' pods by label, and the canary
    /// objects its providers use. An environment the fleet does not have watches nothing.
    pub fn for_env(fleet: &Fleet, env: &str) -> Self {
        let Ok(model) = fleet.env(env) else { return Self { env: env.to_owned(), ..Self::default() } };
        let apps = model.apps.clone();
        let uses =
            |provider: &str| apps.iter().any(|a| a.canary.as_ref().is_some_and(|c| c.provider == provider));
        let spec = WatchSpec {
            namespaces: model.namespaces.clone(),
            selector: pod_selector(&apps),
            ingresses: uses("nginx-ingress"),
            routes: uses("gateway-api"),
            // Few objects, and what the guard's third question reads.
            services: if uses("service-selector") {
                Services::Required
            } else if apps.is_empty() {
                Services::Off
            } else {
                Services::Optional
            },
            flux_namespaces: fleet
                .env_config(env)
                .map(|e| e.gitops.flux_namespaces.clone())
                .unwrap_or_default(),
            argocd_namespaces: fleet
                .env_config(env)
                .map(|e| e.gitops.argocd_namespaces.clone())
                .unwrap_or_default(),
        };
        let metrics = (!apps.is_empty()).then(|| metrics::Settings::for_env(fleet, env));
        let config = &fleet.config.team;
        let team = Some(Team { namespace: config.namespace.clone(), records: config.shared_records });
        Self { env: env.to_owned(), spec, apps, metrics, team }
    }
}

/// The team namespace's watches: its Leases, and its records when they are shared.
fn spawn_team(
    index: usize,
    team: Team,
    client: kube::Client,
    tx: mpsc::Sender<(usize, EnvUpdate)>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let leases = {
            let tx = tx.clone();
            let client = client.clone();
            let namespace = team.namespace.clone();
            async move {
                super::lease::watch(&client, &namespace, async move |holders| {
                    tx.send((index, EnvUpdate::Leases(holders))).await.is_ok()
                })
                .await;
            }
        };
        let records = async move {
            if team.records {
                super::records::watch(&client, &team.namespace, async move |record| {
                    tx.send((index, EnvUpdate::Record(Box::new(record)))).await.is_ok()
                })
                .await;
            }
        };
        futures::join!(leases, records);
    })
}

/// `key in (v1,v1-primary,v2,v2-primary)` when every app is selected by one label with the
/// same key (by default `app = <name>`); otherwise no narrowing. The `-primary` values are the
/// pods of a primary Flagger made: it labels them `app: <name>-primary`, and they serve the
/// app's stable traffic.
fn pod_selector(apps: &[Placement]) -> Option<String> {
    let mut key = None;
    let mut values = Vec::new();
    for app in apps {
        let [(k, v)] = app.labels.iter().collect::<Vec<_>>()[..] else { return None };
        if key.get_or_insert_with(|| k.clone()) != k {
            return None;
        }
        values.push(v.clone());
        // A label value holds at most 63 characters: a longer one Flagger could not have made.
        if v.len() + "-primary".len() <= 63 {
            values.push(format!("{v}-primary"));
        }
    }
    key.map(|k| format!("{k} in ({})", values.join(",")))
}

/// Changes arriving within this long of each other make one snapshot.
const COALESCE: Duration = Duration::from_millis(200);
/// How long an environment may spend on its first lists before it is shown as partial.
const SYNC_GRACE: Duration = Duration::from_secs(10);

fn snapshot(
    watch: &EnvWatch,
    tables: &Tables,
    reads_services: bool,
    previous: Option<&Snapshot>,
    stale: Option<Stale>,
) -> Snapshot {
    let inventory = tables.inventory();
    let now = jiff::Timestamp::now();
    let mut health = watch.assess(&inventory, now);
    health.carry_canary_since(previous.map(|p| &p.health), now);
    if let Some(stale) = &stale {
        health.mark_stale(stale);
    }
    Snapshot { inventory, health, watch_error: tables.error.clone(), stale, reads_services }
}

/// Asks the API server for its version: the liveness probe.
async fn probe(client: &kube::Client, context: &str) -> EnvUpdate {
    let started = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
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
    }
}

/// Who the server says we are; `Err(Some(why))` when it refuses our credentials, `Err(None)`
/// when it did not say (ask again later).
/// Who we are, and whether the server enforces the team records' admission policy (`None`
/// when that cannot be told in time).
async fn identify(client: &kube::Client, context: &str) -> Result<(String, Option<bool>), Option<String>> {
    match super::ops::whoami(client).await {
        Ok(user) => {
            let policy = super::records::policy_installed(client);
            let enforced = tokio::time::timeout(PROBE_TIMEOUT, policy).await.ok().and_then(Result::ok);
            Ok((user, enforced))
        }
        Err(super::ops::OpError::Forbidden(why)) => Err(Some(super::ops::refused_credentials(&why, context))),
        Err(_) => Err(None),
    }
}

/// Why what the environment's column shows may no longer be true, if it may not.
fn doubt_of(refused: Option<&str>, answering: bool, silent: &[String]) -> Option<String> {
    if let Some(why) = refused {
        Some(why.to_owned())
    } else if !answering {
        Some("the API server does not answer".to_owned())
    } else if !silent.is_empty() {
        Some(format!(
            "no sign of life from the watch of {} for over {}s",
            silent.join(", "),
            watch::WATCH_SILENCE_LIMIT.as_secs()
        ))
    } else {
        None
    }
}

/// Connects, retrying with backoff while the failure may pass; `None` when it will not (the
/// kubeconfig cannot reach the context) or the console has gone.
async fn connect_until_up(
    index: usize,
    kubeconfig: &Kubeconfig,
    context: &str,
    timeouts: ConnectTimeouts,
    tx: &mpsc::Sender<(usize, EnvUpdate)>,
) -> Option<super::EnvClients> {
    let send = |update| async move { tx.send((index, update)).await.is_ok() };
    let mut backoff = RETRY_MIN;
    loop {
        if !send(EnvUpdate::Connecting).await {
            return None;
        }
        // The console's own task only reads; writes go through the operation engine.
        match connect(kubeconfig.clone(), context, timeouts, true).await {
            Ok(clients) => return Some(clients),
            Err(ConnectError::Config(reason)) => {
                send(EnvUpdate::Misconfigured { reason }).await;
                return None;
            }
            Err(ConnectError::Transient(reason)) => {
                tracing::warn!(context, reason, "connect failed");
                if !send(EnvUpdate::Unreachable { reason, at: jiff::Timestamp::now() }).await {
                    return None;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Starts the task for environment `index`. `kubeconfig` is `Err` when it could not be read;
/// the environment then reports why instead of connecting.
pub fn spawn_environment(
    index: usize,
    context: String,
    watch: EnvWatch,
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
        let Some(clients) = connect_until_up(index, &kubeconfig, &context, timeouts, &tx).await else {
            return;
        };
        // Who we are, as the server says; asked again each probe until it answers.
        let mut identified = false;
        // Why the server refuses our credentials, while it does.
        let mut refused: Option<String> = None;
        let mut interval = tokio::time::interval(PROBE_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (snapshots, latest) = tokio::sync::watch::channel(None);
        // Aborted with this task: a metrics loop must not outlive its environment.
        let _metrics = AbortOnDrop(spawn_metrics(index, &watch, clients.scrape.clone(), latest, tx.clone()));
        // Who is at the controls, and what colleagues did: on this task's own client.
        let _team =
            AbortOnDrop(watch.team.clone().map(|t| spawn_team(index, t, clients.read.clone(), tx.clone())));
        let mut watchers = watch::start(&clients.read, &watch.spec);
        let mut tables = Tables::default();
        let mut flush: Option<tokio::time::Instant> = None;
        // Until every watcher has finished its first list, a snapshot would show a partial
        // environment (3 of 5,000 pods) as if it were the truth: hold it back, unless listing
        // takes so long that saying so is better than showing nothing.
        let listing_since = tokio::time::Instant::now();
        let mut shown = false;
        // Why what is shown may no longer be true, and since when it was last known to be.
        let mut doubt: Option<String> = None;
        let mut fresh_at = jiff::Timestamp::now();
        loop {
            let deadline = flush.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = interval.tick() => {
                    if !identified {
                        // Bounded like the probe, so a hung server is noticed within one tick.
                        let asked = tokio::time::timeout(PROBE_TIMEOUT, identify(&clients.read, &context));
                        match asked.await.unwrap_or(Err(None)) {
                            Ok((user, enforced)) => {
                                identified = true;
                                refused = None;
                                if !send(EnvUpdate::Identity { user, enforced }).await {
                                    return;
                                }
                            }
                            Err(why) => refused = why,
                        }
                    }
                    let mut probed = probe(&clients.read, &context).await;
                    // `/version` answers anyone; a 401 on who we are means every read is
                    // refused, and the column must say so rather than read "up".
                    if let (Some(why), EnvUpdate::Reachable { .. }) = (&refused, &probed) {
                        probed = EnvUpdate::Unreachable { reason: why.clone(), at: jiff::Timestamp::now() };
                    }
                    let answering = matches!(probed, EnvUpdate::Reachable { .. });
                    if !send(probed).await {
                        return;
                    }
                    let silent = tables.silent(&watchers, &clients.pulse, watch::WATCH_SILENCE_LIMIT);
                    let now_doubt = doubt_of(refused.as_deref(), answering, &silent);
                    let had_error = tables.error.is_some();
                    tables.recovered(&watchers, &clients.pulse);
                    if shown && (now_doubt != doubt || had_error != tables.error.is_some()) {
                        flush.get_or_insert_with(tokio::time::Instant::now);
                    }
                    doubt = now_doubt;
                    if !shown && listing_since.elapsed() >= SYNC_GRACE {
                        flush.get_or_insert_with(tokio::time::Instant::now);
                    }
                }
                alive = watchers.next(&mut tables) => {
                    if !alive {
                        return;
                    }
                    flush.get_or_insert_with(|| tokio::time::Instant::now() + COALESCE);
                }
                () = tokio::time::sleep_until(deadline), if flush.is_some() => {
                    flush = None;
                    let synced = tables.synced(&watchers);
                    if !synced && tables.error.is_none() && listing_since.elapsed() < SYNC_GRACE {
                        continue;
                    }
                    shown = true;
                    let previous = snapshots.borrow().clone();
                    let stale = doubt.clone().map(|why| Stale { since: fresh_at, why });
                    if stale.is_none() {
                        fresh_at = jiff::Timestamp::now();
                    }
                    let reads = tables.reads_services(&watchers);
                    let mut snapshot = snapshot(&watch, &tables, reads, previous.as_deref(), stale);
                    if !synced && snapshot.watch_error.is_none() {
                        snapshot.watch_error =
                            Some(format!("still listing after {}s: figures are partial", SYNC_GRACE.as_secs()));
                    }
                    let snapshot = Arc::new(snapshot);
                    snapshots.send_replace(Some(Arc::clone(&snapshot)));
                    if !send(EnvUpdate::Health(snapshot)).await {
                        return;
                    }
                }
            }
        }
    })
}

struct AbortOnDrop(Option<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// The metrics loop of one environment, beside its watchers: every interval, one round over
/// the latest snapshot's pods (scrape) or the Prometheus server. Scrapes take time; running
/// them here keeps them off both the watch loop and the UI.
fn spawn_metrics(
    index: usize,
    watch: &EnvWatch,
    client: kube::Client,
    mut latest: tokio::sync::watch::Receiver<Option<Arc<Snapshot>>>,
    tx: mpsc::Sender<(usize, EnvUpdate)>,
) -> Option<JoinHandle<()>> {
    let settings = match watch.metrics.clone()? {
        Ok(settings) => settings,
        Err(reason) => {
            let _ = tx.try_send((index, EnvUpdate::MetricsUnavailable { reason }));
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut collector = match super::metrics::Collector::new(settings) {
            Ok(c) => c,
            Err(reason) => {
                let _ = tx.send((index, EnvUpdate::MetricsUnavailable { reason })).await;
                return;
            }
        };
        let mut interval = tokio::time::interval(collector.settings().interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first round waits for the first snapshot: the scrape needs to know the pods.
        if latest.wait_for(Option::is_some).await.is_err() {
            return;
        }
        loop {
            interval.tick().await;
            let Some(snapshot) = latest.borrow().clone() else { continue };
            let round = collector.round(&client, &snapshot.inventory).await;
            if tx.send((index, EnvUpdate::Metrics(Arc::new(round)))).await.is_err() {
                return;
            }
        }
    }))
}
