//! Watchers and the health model against the demo fleet, through the same code the console
//! and `opsdeck status` use.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use opsdeck::cluster::{ConnectTimeouts, EnvUpdate, EnvWatch, Snapshot, spawn_environment};
use opsdeck::health::Verdict;
use opsdeck_demo::{Fleet, FleetOptions, Timing};
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Demo {
    _fleet: Fleet,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    config: PathBuf,
}

async fn start() -> Demo {
    let fleet = Fleet::start(FleetOptions {
        timing: Timing { speed: 20.0, ..Timing::default() },
        ..FleetOptions::default()
    })
    .await
    .expect("fleet");
    let dir = tempfile::tempdir().expect("tempdir");
    let (kubeconfig, config) = fleet.write_files(dir.path()).expect("files");
    Demo { _fleet: fleet, dir, kubeconfig, config }
}

impl Demo {
    async fn client(&self, context: &str) -> kube::Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let options = KubeConfigOptions { context: Some(context.to_owned()), ..KubeConfigOptions::default() };
        kube::Client::try_from(
            kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.expect("config"),
        )
        .expect("client")
    }

    /// Starts the console's environment tasks for every environment of `config`.
    fn spawn(&self, config: &opsdeck::config::Config) -> mpsc::Receiver<(usize, EnvUpdate)> {
        let (tx, rx) = mpsc::channel(256);
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).map_err(|e| e.to_string());
        for (index, env) in config.environments.iter().enumerate() {
            let fleet = opsdeck::config::Fleet::resolve(config.clone());
            let watch = EnvWatch::for_env(&fleet, env.name());
            let timeouts = ConnectTimeouts { connect: Duration::from_secs(2), ..ConnectTimeouts::default() };
            spawn_environment(
                index,
                env.context().to_owned(),
                watch,
                kubeconfig.clone(),
                timeouts,
                tx.clone(),
            );
        }
        rx
    }
}

async fn next_snapshot(
    rx: &mut mpsc::Receiver<(usize, EnvUpdate)>,
    want: usize,
    check: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let waiting = async {
        while let Some((index, update)) = rx.recv().await {
            if let EnvUpdate::Health(snapshot) = update
                && index == want
                && check(&snapshot)
            {
                return snapshot;
            }
        }
        panic!("the environment task ended");
    };
    tokio::time::timeout(Duration::from_secs(20), waiting).await.expect("a snapshot in time")
}

#[tokio::test]
async fn watchers_see_the_scenario_and_follow_a_change() {
    let demo = start().await;
    let config = opsdeck::config::load(&demo.config).expect("config");
    let mut rx = demo.spawn(&config);
    let production =
        next_snapshot(&mut rx, 2, |s| !s.health.apps.is_empty() && s.health.nodes_total > 0).await;
    let apps: Vec<(&str, Option<&str>)> =
        production.health.apps.iter().map(|a| (a.app.as_str(), a.version.as_deref())).collect();
    assert_eq!(
        apps,
        [
            ("web", Some("v1.2.0")),
            ("api", Some("v1.2.0")),
            ("worker", Some("v1.2.0")),
            ("checkout", Some("v2.4.0")),
            ("payments", Some("v3.0.0")),
            ("search", Some("v4.2.0")),
        ]
    );
    let payments = &production.health.apps[4];
    assert_eq!(
        payments.controller.as_ref().map(|c| c.kind),
        Some("argo-rollouts"),
        "a Rollout is the workload, and its stable ReplicaSet's version the app's"
    );
    let web = &production.health.apps[0];
    assert_eq!(
        web.canary.as_ref().and_then(|c| c.weight),
        Some(10),
        "nginx canary weight from the live ingress"
    );
    assert_eq!(
        production.health.apps[1].canary.as_ref().and_then(|c| c.weight),
        Some(10),
        "gateway weight from the live route"
    );
    assert_eq!(production.health.nodes_total, 3);

    let deployments: Api<Deployment> = Api::namespaced(demo.client("staging").await, "shop");
    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 4}})))
        .await
        .expect("scale");
    let staging =
        next_snapshot(&mut rx, 1, |s| s.health.apps.first().is_some_and(|a| a.replicas.desired == 4)).await;
    assert_eq!(staging.health.apps[0].app, "web");
}

#[tokio::test]
async fn a_dead_cluster_is_unreachable_while_the_others_keep_updating() {
    let demo = start().await;
    // A second copy of the config where "staging" points at a port nothing listens on.
    let text = std::fs::read_to_string(&demo.kubeconfig).expect("kubeconfig");
    let staging_port =
        text.lines().filter(|l| l.contains("server: https://127.0.0.1:")).nth(1).expect("staging line");
    let dead = text.replace(staging_port, "    server: https://127.0.0.1:9");
    let dead_path = demo.dir.path().join("dead-kubeconfig");
    std::fs::write(&dead_path, dead).expect("write");
    let kubeconfig = Kubeconfig::read_from(&dead_path).map_err(|e| e.to_string());
    let config = opsdeck::config::load(&demo.config).expect("config");
    let (tx, mut rx) = mpsc::channel(256);
    for (index, env) in config.environments.iter().enumerate() {
        let timeouts = ConnectTimeouts { connect: Duration::from_secs(2), ..ConnectTimeouts::default() };
        spawn_environment(
            index,
            env.context().to_owned(),
            EnvWatch::for_env(&opsdeck::config::Fleet::resolve(config.clone()), env.name()),
            kubeconfig.clone(),
            timeouts,
            tx.clone(),
        );
    }
    let mut staging_unreachable = false;
    let mut others = [false, true, false];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !(staging_unreachable && others[0] && others[2]) {
        let Ok(Some((index, update))) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            panic!("staging unreachable: {staging_unreachable}, others synced: {others:?}");
        };
        match update {
            EnvUpdate::Unreachable { .. } if index == 1 => staging_unreachable = true,
            EnvUpdate::Health(snapshot) if index == 1 => {
                assert_eq!(snapshot.health.verdict, Verdict::Unknown, "nothing is known of a dead cluster");
                assert!(snapshot.watch_error.is_some(), "and the watch error says why");
            }
            EnvUpdate::Health(_) => others[index] = true,
            _ => {}
        }
    }
}

#[tokio::test]
async fn status_reports_the_fleet_with_stable_fields_and_exit_codes() {
    let demo = start().await;
    let run = |args: &'static [&'static str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("--config")
            .arg(&demo.config)
            .arg("--kubeconfig")
            .arg(&demo.kubeconfig)
            .args(args)
            .output()
    };
    let out = run(&["status", "--json"]).await.expect("run");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let envs = json["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 3);
    for env in envs {
        for field in ["name", "context", "reachable", "server_version", "latency_ms", "verdict", "health"] {
            assert!(env.get(field).is_some(), "{field} missing: {env}");
        }
        assert_eq!(env["reachable"], true);
    }
    let production = &envs[2];
    assert_eq!(production["health"]["apps"][1]["app"], "api");
    assert_eq!(production["verdict"], "degraded", "the api canary's warning events: {production}");
    assert_eq!(out.status.code(), Some(1), "something is degraded");

    let table = run(&["status", "--env", "production"]).await.expect("run");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("production (production): degraded") && text.contains("10% v1.3.0"), "{text}");
}

#[tokio::test]
async fn the_overview_shows_the_demo_scenario() {
    let demo = start().await;
    let config = opsdeck::config::load(&demo.config).expect("config");
    let mut rx = demo.spawn(&config);
    let mut state = opsdeck::app::State::new(
        std::sync::Arc::new(opsdeck::config::Fleet::resolve(config.clone())),
        false,
        jiff::Timestamp::now(),
    );
    let mut synced = [false; 3];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while synced.iter().any(|s| !s) {
        let Ok(Some((index, update))) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            panic!("no sync")
        };
        if matches!(&update, EnvUpdate::Health(s) if !s.health.apps.is_empty()) {
            synced[index] = true;
        }
        opsdeck::app::update(&mut state, opsdeck::app::Action::Env { index, update });
    }
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 45)).expect("terminal");
    terminal.draw(|f| opsdeck::ui::render(f, &state)).expect("draw");
    let text = terminal.backend().to_string();
    for needle in [
        "v1.4.0-dev.3",
        "v1.3.0 ⇡promotable",
        "v1.2.0 ⇣behind",
        "canary 10% v1.3.0",
        "canary ≈",
        "Warnings, last 15 minutes",
        "Unhealthy",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert_eq!(state.envs[2].snapshot.as_ref().map(|s| s.health.verdict), Some(Verdict::Degraded));
}
