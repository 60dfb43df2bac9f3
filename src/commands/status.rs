//! `opsdeck status`: every environment's health, read the way the console reads it.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{kubeconfig_source, load_config};
use crate::cli::{GlobalArgs, StatusArgs};
use crate::cluster::watch::sync_once;
use crate::cluster::{self, ConnectTimeouts, EnvWatch};
use crate::config::{self, Environment, Fleet, Paths};
use crate::exit::{Exit, Failure};
use crate::health::gitops::GitOpsState;
use crate::health::{EnvHealth, Verdict};

/// Each environment gets this long to connect and list everything.
const DEADLINE: Duration = Duration::from_secs(15);

/// One environment in `--json` output. Field names are part of the command-line contract.
#[derive(Debug, Serialize)]
struct EnvStatus {
    name: String,
    context: String,
    reachable: bool,
    /// Why it could not be read, when it could not.
    error: Option<String>,
    server_version: Option<String>,
    latency_ms: Option<u128>,
    /// healthy | degraded | down | unknown (unknown when unreachable)
    verdict: Verdict,
    health: Option<EnvHealth>,
    /// The Flux and Argo CD objects reconciling the apps: what they applied, in sync or not.
    gitops: Vec<GitOpsState>,
}

async fn read_env(
    fleet: &Fleet,
    env: &Environment,
    kubeconfig: &Result<kube::config::Kubeconfig, String>,
) -> EnvStatus {
    let mut status = EnvStatus {
        name: env.name().to_owned(),
        context: env.context().to_owned(),
        reachable: false,
        error: None,
        server_version: None,
        latency_ms: None,
        verdict: Verdict::Unknown,
        health: None,
        gitops: Vec::new(),
    };
    let kubeconfig = match kubeconfig {
        Ok(k) => k.clone(),
        Err(e) => {
            status.error = Some(e.clone());
            return status;
        }
    };
    let clients = match cluster::connect(kubeconfig, env.context(), ConnectTimeouts::default(), true).await {
        Ok(c) => c,
        Err(cluster::ConnectError::Config(e) | cluster::ConnectError::Transient(e)) => {
            status.error = Some(e);
            return status;
        }
    };
    let started = Instant::now();
    match tokio::time::timeout(Duration::from_secs(5), clients.read.apiserver_version()).await {
        Ok(Ok(info)) => {
            status.reachable = true;
            status.server_version = Some(info.git_version);
            status.latency_ms = Some(started.elapsed().as_millis());
        }
        Ok(Err(e)) => {
            status.error = Some(cluster::summarize(&e));
            return status;
        }
        Err(_) => {
            status.error = Some("no answer within 5s".into());
            return status;
        }
    }
    // `/version` answers anyone: credentials the server refuses show on the first read.
    if let Err(crate::cluster::ops::OpError::Forbidden(why)) =
        crate::cluster::ops::whoami(&clients.read).await
    {
        status.error = Some(crate::cluster::ops::refused_credentials(&why, env.context()));
        return status;
    }
    let watch = EnvWatch::for_env(fleet, env.name());
    match sync_once(&clients.read, &watch.spec, DEADLINE).await {
        Ok(tables) => {
            let health = watch.assess(&tables.inventory(), jiff::Timestamp::now());
            status.verdict = health.verdict;
            status.gitops.clone_from(&health.gitops);
            status.health = Some(health);
        }
        // It answered /version, so it is there; but what it holds cannot be read in time.
        Err(e) => status.error = Some(format!("API answers but lists time out ({e})")),
    }
    status
}

fn print_table(statuses: &[EnvStatus]) {
    for s in statuses {
        let head = match (&s.health, &s.error) {
            (_, Some(error)) if !s.reachable => format!("unreachable: {error}"),
            (Some(h), _) => format!(
                "{:?} · nodes {}/{} · {} · {}ms",
                h.verdict,
                h.nodes_ready,
                h.nodes_total,
                s.server_version.as_deref().unwrap_or("?"),
                s.latency_ms.unwrap_or(0)
            )
            .to_lowercase(),
            (None, error) => format!("unknown: {}", error.as_deref().unwrap_or("no data")),
        };
        out!("{} ({}): {head}", s.name, s.context);
        let Some(health) = &s.health else { continue };
        let now = jiff::Timestamp::now();
        for g in &s.gitops {
            out!("  {}", crate::ui::gitops_row(g, now).text());
        }
        out!(
            "  {:<10} {:<16} {:<9} {:<12} {:<9} {:<16} {:<9} REASON",
            "APP",
            "VERSION",
            "READY",
            "ROLLOUT",
            "RESTARTS",
            "CANARY",
            "VERDICT"
        );
        for app in &health.apps {
            let rollout = match &app.rollout {
                crate::health::verdict::Rollout::Complete => "complete".to_owned(),
                crate::health::verdict::Rollout::Progressing => "progressing".to_owned(),
                crate::health::verdict::Rollout::Stalled { .. } => "stalled".to_owned(),
                crate::health::verdict::Rollout::Paused => "paused".to_owned(),
                crate::health::verdict::Rollout::Missing => "missing".to_owned(),
            };
            let controller = app
                .controller
                .as_ref()
                .map(|c| format!("{} {}", c.kind, c.weight.map_or("?".into(), |w| format!("{w}%"))));
            let canary = app.canary.as_ref().map_or_else(
                || controller.unwrap_or_else(|| "-".to_owned()),
                |c| {
                    format!(
                        "{}{} {}",
                        if c.approximate { "~" } else { "" },
                        c.weight.map_or("?".into(), |w| format!("{w}%")),
                        c.version.as_deref().unwrap_or("-")
                    )
                },
            );
            out!(
                "  {:<10} {:<16} {:<9} {:<12} {:<9} {:<16} {:<9} {}",
                app.app,
                app.version.as_deref().unwrap_or("-"),
                format!("{}/{}", app.replicas.available, app.replicas.desired),
                rollout,
                app.restarts_recent,
                canary,
                format!("{:?}", app.verdict).to_lowercase(),
                app.reasons.first().map_or("", String::as_str)
            );
        }
    }
}

pub async fn status(global: &GlobalArgs, paths: &Paths, args: &StatusArgs) -> Result<Exit, Failure> {
    let path = config::resolve_path(global.config.as_deref(), paths);
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global));
    let config = load_config(&path, global.config.is_some(), kubeconfig.as_ref())?;
    let envs: Vec<&Environment> = match &args.env {
        Some(name) => vec![config.environment(name).ok_or_else(|| {
            let known: Vec<&str> = config.environments.iter().map(Environment::name).collect();
            Failure::usage(format!("unknown environment {name:?} (configured: {})", known.join(", ")))
        })?],
        None => config.environments.iter().collect(),
    };
    let fleet = Fleet::resolve(config.clone());
    let statuses = futures::future::join_all(envs.iter().map(|env| read_env(&fleet, env, &kubeconfig))).await;
    if args.json {
        let out = serde_json::json!({ "environments": statuses });
        out!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
        );
    } else {
        print_table(&statuses);
    }
    // An environment whose objects could not be read is as good as unreachable: nothing is
    // known about its health.
    Ok(if statuses.iter().any(|s| !s.reachable || s.health.is_none()) {
        Exit::Unreachable
    } else if statuses.iter().all(|s| s.verdict == Verdict::Healthy) {
        Exit::Ok
    } else {
        Exit::Failed
    })
}
