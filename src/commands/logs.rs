//! `opsdeck logs`: every pod of an app (or of one track) read through the API server's
//! `pods/log`, merged by time like stern, each line with its pod, container and track and
//! whether it is an error. Exit 5 when unreachable, 4 when `pods/log` is forbidden.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

use super::write::{self, refused};
use crate::cli::{GlobalArgs, LogsArgs, TrackArg};
use crate::cluster::EnvWatch;
use crate::cluster::watch::sync_once;
use crate::config::Paths;
use crate::exit::{Exit, Failure};
use crate::health::assess::{AppSpec, app_pods};
use crate::logs::{ErrorPatterns, LogLine, merge, short_pod, split_timestamp};

/// How long one pod's log may take to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn logs(global: &GlobalArgs, paths: &Paths, args: &LogsArgs) -> Result<Exit, Failure> {
    let global = GlobalArgs { readonly: true, ..global.clone() };
    let engine = write::engine(&global, paths, true)?;
    let fleet = engine.fleet();
    let target = &args.target;
    let placement = fleet.placement(&target.env, &target.app).map_err(|e| refused(&e.into()))?.clone();
    let grep = args
        .grep
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| Failure::usage(format!("--grep: {e}")))?;
    let patterns = ErrorPatterns::default();
    let session = engine.session(&target.env).await.map_err(|e| refused(&e))?;
    let watch = EnvWatch::for_env(fleet, &target.env);
    let tables = sync_once(&session.read, &watch.spec, READ_TIMEOUT)
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, format!("{}: {e}", target.env)))?;
    let inventory = tables.inventory();
    let pods: Vec<(bool, String)> = app_pods(&AppSpec::of(&placement), &inventory)
        .into_iter()
        .filter(|(canary, _)| match args.track {
            Some(TrackArg::Canary) => *canary,
            Some(TrackArg::Stable) => !*canary,
            None => true,
        })
        .map(|(canary, pod)| (canary, pod.name.clone()))
        .collect();
    let api: Api<Pod> = Api::namespaced(session.read.clone(), &placement.namespace);
    let params = LogParams {
        timestamps: true,
        tail_lines: args.tail,
        since_seconds: args.since.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        previous: args.previous,
        ..LogParams::default()
    };
    let mut streams = Vec::new();
    for (canary, pod) in &pods {
        let track = if *canary { "canary" } else { "stable" };
        // The app's container: the pod's first, as `kubectl logs` takes a pod's default one.
        let container = match tokio::time::timeout(READ_TIMEOUT, api.get(pod)).await {
            Ok(Ok(p)) => {
                p.spec.and_then(|s| s.containers.into_iter().next()).map(|c| c.name).unwrap_or_default()
            }
            _ => String::new(),
        };
        let params =
            LogParams { container: Some(container.clone()).filter(|c| !c.is_empty()), ..params.clone() };
        let text = match tokio::time::timeout(READ_TIMEOUT, api.logs(pod, &params)).await {
            Ok(Ok(text)) => text,
            Ok(Err(kube::Error::Api(status))) if status.code == 403 => {
                return Err(Failure::new(Exit::Forbidden, format!("{}: {}", target.env, status.message)));
            }
            // A pod without the asked-for container instance (no previous one, still starting)
            // says so and the others go on.
            Ok(Err(kube::Error::Api(status))) => {
                eprintln!("{pod}: {}", status.message);
                continue;
            }
            Ok(Err(e)) => return Err(Failure::new(Exit::Unreachable, format!("{}: {pod}: {e}", target.env))),
            Err(_) => {
                return Err(Failure::new(
                    Exit::Unreachable,
                    format!("{}: {pod}: no answer within {}s", target.env, READ_TIMEOUT.as_secs()),
                ));
            }
        };
        let stream = text
            .lines()
            .map(|raw| {
                let (time, line) = split_timestamp(raw);
                LogLine {
                    pod: pod.clone(),
                    container: container.clone(),
                    track,
                    time,
                    error: patterns.is_error(line),
                    line: line.to_owned(),
                }
            })
            .filter(|l| grep.as_ref().is_none_or(|re| re.is_match(&l.line)))
            .collect();
        streams.push(stream);
    }
    for line in merge(streams) {
        if target.json {
            let text = serde_json::to_string(&line).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
            out!("{text}");
        } else {
            let mark = if line.error { "✗" } else { " " };
            out!("{mark} {:<6} {:<5} {}", line.track, short_pod(&line.pod), line.line);
        }
    }
    Ok(Exit::Ok)
}
