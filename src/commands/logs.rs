//! `opsdeck logs`: every pod of an app (or of one track) read through the API server's
//! `pods/log`, merged by time like stern, each line with its pod, container and track and
//! whether it is an error; with `--follow`, streamed until interrupted, pods picked up and
//! dropped as the watches see them. Exit 5 when unreachable, 4 when `pods/log` is forbidden.

use std::io::Write as _;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;

use super::write::{self, refused};
use crate::cli::{GlobalArgs, LogsArgs, TrackArg};
use crate::cluster::EnvWatch;
use crate::cluster::logs::{self as stream, Follower, LogEvent, ReadError, StreamState};
use crate::cluster::watch::{self, sync_once};
use crate::config::{Paths, Placement};
use crate::exit::{Exit, Failure};
use crate::health::assess::AppSpec;
use crate::logs::{LogLine, Target, merge, short_pod, targets};

/// How long the first sync of the app's pods may take.
const SYNC_TIMEOUT: Duration = Duration::from_secs(15);

struct Filter {
    track: Option<TrackArg>,
    grep: Option<regex::Regex>,
}

impl Filter {
    fn targets(&self, placement: &Placement, inventory: &crate::health::Inventory) -> Vec<Target> {
        targets(&AppSpec::of(placement), inventory)
            .into_iter()
            .filter(|t| match self.track {
                Some(TrackArg::Canary) => t.track == "canary",
                Some(TrackArg::Stable) => t.track == "stable",
                None => true,
            })
            .collect()
    }

    fn keeps(&self, line: &LogLine) -> bool {
        self.grep.as_ref().is_none_or(|re| re.is_match(&line.line))
    }
}

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
    let filter = Filter { track: args.track, grep };
    let patterns = fleet.config.logs.patterns();
    let session = engine.session(&target.env).await.map_err(|e| refused(&e))?;
    let spec = EnvWatch::for_env(fleet, &target.env).spec;
    let api: Api<Pod> = Api::namespaced(session.read.clone(), &placement.namespace);
    let unreachable = |e: String| Failure::new(Exit::Unreachable, format!("{}: {e}", target.env));
    let params = LogParams {
        tail_lines: args.tail,
        since_seconds: args.since.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        previous: args.previous,
        ..LogParams::default()
    };
    if args.follow {
        let params = LogParams {
            tail_lines: args.tail.or(args.since.is_none().then_some(stream::FOLLOW_TAIL)),
            ..params
        };
        return follow(&session.read, &spec, &placement, &filter, api, params, patterns, target.json)
            .await
            .map_err(|e| match e {
                ReadError::Forbidden(m) => Failure::new(Exit::Forbidden, format!("{}: {m}", target.env)),
                e => unreachable(e.to_string()),
            });
    }
    let tables = sync_once(&session.read, &spec, SYNC_TIMEOUT).await.map_err(unreachable)?;
    let mut streams = Vec::new();
    for pod in filter.targets(&placement, &tables.inventory()) {
        match stream::read(&api, &pod, &params, &patterns).await {
            Ok(lines) => streams.push(lines.into_iter().filter(|l| filter.keeps(l)).collect()),
            Err(ReadError::Forbidden(m)) => {
                return Err(Failure::new(Exit::Forbidden, format!("{}: {m}", target.env)));
            }
            Err(ReadError::Unreachable(m)) => return Err(unreachable(format!("{}: {m}", pod.pod))),
            // A pod without the asked-for container instance (no previous one, still starting)
            // says so and the others go on.
            Err(ReadError::Unavailable(m)) => eprintln!("{}: {m}", pod.pod),
        }
    }
    let mut out = std::io::stdout().lock();
    for line in merge(streams) {
        let _ = print(&mut out, &line, target.json);
    }
    Ok(Exit::Ok)
}

fn print(out: &mut impl std::io::Write, line: &LogLine, json: bool) -> std::io::Result<()> {
    if json {
        let text = serde_json::to_string(line).map_err(std::io::Error::other)?;
        writeln!(out, "{text}")
    } else {
        let mark = if line.error { "✗" } else { " " };
        writeln!(out, "{mark} {:<6} {:<5} {}", line.track, short_pod(&line.pod), line.line)
    }
}

/// Streams until Ctrl-C (exit 0), or until standard output is gone (`| head`).
#[allow(clippy::too_many_arguments)]
async fn follow(
    client: &kube::Client,
    spec: &crate::cluster::watch::WatchSpec,
    placement: &Placement,
    filter: &Filter,
    api: Api<Pod>,
    params: LogParams,
    patterns: crate::logs::ErrorPatterns,
    json: bool,
) -> Result<Exit, ReadError> {
    // The watches keep the pod set current from the sync on: no list after the first.
    let mut watchers = watch::start(client, spec);
    let mut tables = watch::sync(&mut watchers, SYNC_TIMEOUT).await.map_err(ReadError::Unreachable)?;
    let (tx, mut rx) = mpsc::channel(1024);
    let mut follower = Follower::new(api, params, patterns, 0, tx);
    let mut current = filter.targets(placement, &tables.inventory());
    follower.set_targets(&current);
    eprintln!("following {} pods; Ctrl-C stops", current.len());
    let mut out = std::io::stdout();
    let mut watching = true;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(Exit::Ok),
            changed = watchers.next(&mut tables), if watching => {
                if !changed {
                    watching = false;
                    continue;
                }
                let now = filter.targets(placement, &tables.inventory());
                if now != current {
                    for gone in current.iter().filter(|t| !now.iter().any(|n| n.pod == t.pod)) {
                        eprintln!("- {} {}", gone.track, gone.pod);
                    }
                    for new in now.iter().filter(|n| !current.iter().any(|t| t.pod == n.pod)) {
                        eprintln!("+ {} {}", new.track, new.pod);
                    }
                    follower.set_targets(&now);
                    current = now;
                }
            }
            Some((_, event)) = rx.recv() => match event {
                LogEvent::Line(line) => {
                    if filter.keeps(&line) && print(&mut out, &line, json).and_then(|()| out.flush()).is_err() {
                        return Ok(Exit::Ok);
                    }
                }
                LogEvent::Stream { state: StreamState::Forbidden(m), .. } => return Err(ReadError::Forbidden(m)),
                LogEvent::Stream { pod, state: StreamState::Retrying(why) } => eprintln!("{pod}: {why}; retrying"),
                LogEvent::Unavailable(why) => return Err(ReadError::Unreachable(why)),
                LogEvent::Stream { .. } | LogEvent::Previous { .. } => {}
            },
        }
    }
}
