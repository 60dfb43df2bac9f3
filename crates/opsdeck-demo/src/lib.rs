//! The demo fleet: three simulated Kubernetes clusters on loopback.
//!
//! Each cluster is an HTTP server speaking the Kubernetes REST API for the kinds opsdeck and
//! kubectl use, over an in-memory store with a small Deployment → ReplicaSet → Pod controller
//! and simulated traffic. It exists so that newcomers and tests exercise the same kube client
//! path as real clusters. It is a simulation, says so in every file it writes, and is never
//! used for a real environment.

mod admission;
mod api;
mod auth;
mod controller;
mod defaults;
mod discovery;
mod errors;
mod files;
mod logs;
mod patch;
mod protobuf;
mod proxy;
mod query;
mod resources;
mod route;
mod scenario;
pub mod selectors;
mod server;
mod simulation;
mod store;
mod table;
mod tls;
pub mod traffic;
mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

pub use auth::{ADMIN_TOKEN, LEAD_TOKEN, READONLY_TOKEN};
pub use controller::Timing;

use controller::Controller;
use scenario::Scenario;
use server::Cluster;

/// How often the controllers run, and how often traffic is added to pod metrics.
const CONTROLLER_TICK: Duration = Duration::from_millis(200);
const TRAFFIC_EVERY_TICKS: u32 = 5;

#[derive(Debug, Clone, Default)]
pub struct FleetOptions {
    /// Grow every cluster to at least this many pods (benchmarks).
    pub pods: Option<usize>,
    pub timing: Timing,
    /// Changes each cluster keeps for resuming watches (default 10,000); tests shrink it to
    /// make a resourceVersion expire.
    pub watch_log: Option<usize>,
    /// Hold every PATCH this long before applying it: a slow API server, for tests of what a
    /// client does while a write is in flight.
    pub write_delay: Option<Duration>,
}

/// A running fleet. Dropping it stops every server and controller.
pub struct Fleet {
    pub clusters: Vec<(String, SocketAddr)>,
    /// The fleet's own CA (PEM), which signed every cluster's serving certificate.
    pub ca_pem: String,
    stop: signal::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Fleet {
    /// Starts every cluster of the scenario and returns once each answers on its port.
    pub async fn start(options: FleetOptions) -> Result<Self, String> {
        let scenario = Scenario::embedded()?;
        let tls = tls::generate()?;
        let (stop, stop_rx) = signal::channel(false);
        let mut clusters = Vec::new();
        let mut tasks = Vec::new();
        for (index, spec) in scenario.clusters.iter().enumerate() {
            let index_u8 = u8::try_from(index).unwrap_or(u8::MAX);
            let mut cluster = Cluster::new(
                &spec.name,
                &spec.kubernetes,
                index_u8,
                options.watch_log.unwrap_or(store::LOG_CAPACITY),
            );
            if let Some(cluster) = Arc::get_mut(&mut cluster) {
                cluster.write_delay = options.write_delay;
            }
            scenario::populate(&cluster.store, &scenario, spec, options.pods);
            let mut controller = Controller::new(options.timing, index_u8);
            controller.gates = cluster.gates.clone();
            // Settle before serving: the fleet opens with every rollout complete.
            controller.warm = true;
            for _ in 0..4 {
                controller.reconcile(&cluster.store);
            }
            controller.warm = false;
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| format!("cannot listen on loopback: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            tasks.push(tokio::spawn(server::serve(
                listener,
                tls.acceptor.clone(),
                cluster.clone(),
                stop_rx.clone(),
            )));
            tasks.push(tokio::spawn(run_cluster(
                cluster,
                controller,
                scenario.clone(),
                index,
                stop_rx.clone(),
            )));
            clusters.push((spec.name.clone(), addr));
        }
        for (name, addr) in &clusters {
            wait_until_answering(*addr)
                .await
                .map_err(|e| format!("demo cluster {name} on {addr} does not answer: {e}"))?;
        }
        Ok(Self { clusters, ca_pem: tls.ca_pem, stop, tasks })
    }

    /// Writes `kubeconfig` and `opsdeck.toml` into `dir` and returns their paths.
    pub fn write_files(&self, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let kubeconfig = dir.join("kubeconfig");
        let config = dir.join("opsdeck.toml");
        std::fs::write(&kubeconfig, files::kubeconfig(&self.clusters, &self.ca_pem))
            .map_err(|e| format!("cannot write {}: {e}", kubeconfig.display()))?;
        std::fs::write(&config, files::opsdeck_config())
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        Ok((kubeconfig, config))
    }

    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn run_cluster(
    cluster: Arc<Cluster>,
    mut controller: Controller,
    scenario: Scenario,
    index: usize,
    mut stop: signal::Receiver<bool>,
) {
    let Some(spec) = scenario.clusters.get(index).cloned() else { return };
    let mut ticker = tokio::time::interval(CONTROLLER_TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u32;
    let mut last_traffic = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        controller.reconcile(&cluster.store);
        ticks += 1;
        if ticks.is_multiple_of(TRAFFIC_EVERY_TICKS) {
            // Traffic runs on the simulated clock too: a fast fleet gives a canary analysis
            // its minimum of requests in seconds, not minutes.
            let seconds = last_traffic.elapsed().as_secs_f64() * controller.timing.speed.max(0.0);
            last_traffic = std::time::Instant::now();
            simulation::tick(&cluster, &controller, &scenario, &spec, seconds);
        }
    }
}

/// The server is up when it accepts a connection: the listener is bound before the accept
/// loop runs, so a connection proves the loop is serving.
async fn wait_until_answering(addr: SocketAddr) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..50 {
        match TcpStream::connect(addr).await.map(drop).map_err(|e| e.to_string()) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last)
}
