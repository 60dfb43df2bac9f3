//! Pod logs through the API server's `pods/log`: read once (the command line, the checklist,
//! the rollback screen's "why") or followed, one stream per pod, with pods picked up and
//! dropped as the watches see them come and go. A stream that ends (a container restarted,
//! the kubelet closed it) is opened again from its last line; one that fails or does not
//! answer says so and is tried again. Nothing here blocks its caller.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::logs::{ErrorPatterns, LogLine, Sample, Target, Unread};

/// How long opening one pod's log may take before the stream is called unanswered.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of each pod's past a follow starts with.
pub const FOLLOW_TAIL: i64 = 100;
/// The previous instance's lines shown for a crash-looping pod.
pub const PREVIOUS_TAIL: i64 = 20;
/// After a stream ended or failed, the wait before it is opened again, doubling to the cap.
const REOPEN_MIN: Duration = Duration::from_secs(1);
const REOPEN_MAX: Duration = Duration::from_secs(15);

pub use crate::logs::ReadError;

/// Pods whose recent logs are read at once: a wide app is read in a few rounds of the read's
/// timeout at worst, without a request per pod at the same time.
const SAMPLE_READS: usize = 8;
/// Lines of each pod a sample reads at most.
pub const SAMPLE_TAIL: i64 = 2_000;

/// The last `minutes` of each target's log (at most [`SAMPLE_TAIL`] lines a pod), read a few
/// pods at a time: lines counted, error lines kept, pods that could not be read named.
pub async fn sample(api: &Api<Pod>, targets: Vec<Target>, minutes: u32, patterns: &ErrorPatterns) -> Sample {
    let params = LogParams {
        since_seconds: Some(i64::from(minutes).saturating_mul(60)),
        tail_lines: Some(SAMPLE_TAIL),
        ..LogParams::default()
    };
    let reads: Vec<(Target, Result<Vec<LogLine>, ReadError>)> = futures::stream::iter(targets)
        .map(|target| async {
            let read = read(api, &target, &params, patterns).await;
            (target, read)
        })
        .buffered(SAMPLE_READS)
        .collect()
        .await;
    let tail = usize::try_from(SAMPLE_TAIL).unwrap_or(usize::MAX);
    let mut sample = Sample { minutes, ..Sample::default() };
    for (target, read) in reads {
        match read {
            Ok(lines) => {
                sample.pods += 1;
                sample.lines += lines.len();
                if lines.len() >= tail {
                    sample.capped += 1;
                }
                sample.errors.extend(lines.into_iter().filter(|l| l.error));
            }
            Err(why) => sample.unread.push(Unread { pod: target.pod, why }),
        }
    }
    sample
}

fn read_error(e: kube::Error) -> ReadError {
    match e {
        kube::Error::Api(status) if status.code == 403 => ReadError::Forbidden(status.message),
        kube::Error::Api(status) => ReadError::Unavailable(status.message),
        e => ReadError::Unreachable(crate::cluster::summarize(&e)),
    }
}

fn params_for(target: &Target, params: &LogParams) -> LogParams {
    LogParams {
        container: Some(target.container.clone()).filter(|c| !c.is_empty()),
        timestamps: true,
        ..params.clone()
    }
}

/// One pod's log as it is now, each line read against `patterns`.
pub async fn read(
    api: &Api<Pod>,
    target: &Target,
    params: &LogParams,
    patterns: &ErrorPatterns,
) -> Result<Vec<LogLine>, ReadError> {
    let params = LogParams { follow: false, ..params_for(target, params) };
    match tokio::time::timeout(OPEN_TIMEOUT, api.logs(&target.pod, &params)).await {
        Ok(Ok(text)) => Ok(text.lines().map(|raw| LogLine::parse(raw, target, patterns)).collect()),
        Ok(Err(e)) => Err(read_error(e)),
        Err(_) => Err(ReadError::Unreachable(format!(
            "{}: no answer within {}s",
            target.pod,
            OPEN_TIMEOUT.as_secs()
        ))),
    }
}

/// What a follow reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    Line(LogLine),
    /// How a pod's stream is doing.
    Stream {
        pod: String,
        state: StreamState,
    },
    /// The previous container's last lines of a crash-looping pod, or why there are none.
    Previous {
        pod: String,
        lines: Result<Vec<LogLine>, String>,
    },
    /// The follow could not start at all (no client for the environment).
    Unavailable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Opening,
    Streaming,
    /// It failed or ended; it is opened again after a wait.
    Retrying(String),
    /// `pods/log` is forbidden: it is not tried again.
    Forbidden(String),
}

/// Following the logs of a set of pods. Dropping it ends every stream.
pub struct Follower {
    api: Api<Pod>,
    base: LogParams,
    patterns: ErrorPatterns,
    /// Every event goes out tagged with this, so a reader can tell a closed follow's last
    /// lines from the current one's.
    session: u64,
    tx: mpsc::Sender<(u64, LogEvent)>,
    streams: BTreeMap<String, (Target, JoinHandle<()>)>,
    /// The restart count whose previous lines were read, per pod.
    previous_read: BTreeMap<String, u32>,
}

impl Follower {
    /// `base` says how far back each stream starts (`tailLines`, `sinceSeconds`); `follow`
    /// and `timestamps` are set here.
    pub fn new(
        api: Api<Pod>,
        base: LogParams,
        patterns: ErrorPatterns,
        session: u64,
        tx: mpsc::Sender<(u64, LogEvent)>,
    ) -> Self {
        Self { api, base, patterns, session, tx, streams: BTreeMap::new(), previous_read: BTreeMap::new() }
    }

    /// Follows exactly `targets`: new pods are opened, gone ones closed, and a crash-looping
    /// pod's previous lines read once per restart.
    pub fn set_targets(&mut self, targets: &[Target]) {
        let wanted: BTreeMap<&str, &Target> = targets.iter().map(|t| (t.pod.as_str(), t)).collect();
        self.streams.retain(|pod, (target, task)| {
            let keep = wanted.get(pod.as_str()).is_some_and(|t| t.container == target.container);
            if !keep {
                task.abort();
            }
            keep
        });
        self.previous_read.retain(|pod, _| wanted.contains_key(pod.as_str()));
        for target in targets {
            if !self.streams.contains_key(&target.pod) {
                let task = tokio::spawn(stream(
                    self.api.clone(),
                    target.clone(),
                    self.base.clone(),
                    self.patterns.clone(),
                    self.session,
                    self.tx.clone(),
                ));
                self.streams.insert(target.pod.clone(), (target.clone(), task));
            }
            if let Some(crash) = &target.crash
                && self.previous_read.get(&target.pod) != Some(&crash.restarts)
            {
                self.previous_read.insert(target.pod.clone(), crash.restarts);
                tokio::spawn(previous(
                    self.api.clone(),
                    target.clone(),
                    self.patterns.clone(),
                    self.session,
                    self.tx.clone(),
                ));
            }
        }
    }

    /// The pods being followed.
    pub fn pods(&self) -> impl Iterator<Item = &str> {
        self.streams.keys().map(String::as_str)
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        for (_, task) in self.streams.values() {
            task.abort();
        }
    }
}

async fn previous(
    api: Api<Pod>,
    target: Target,
    patterns: ErrorPatterns,
    session: u64,
    tx: mpsc::Sender<(u64, LogEvent)>,
) {
    let params = LogParams { previous: true, tail_lines: Some(PREVIOUS_TAIL), ..LogParams::default() };
    let lines = read(&api, &target, &params, &patterns).await.map_err(|e| e.to_string());
    let _ = tx.send((session, LogEvent::Previous { pod: target.pod.clone(), lines })).await;
}

/// One pod's stream, for as long as the follower wants it: opened, read line by line, and
/// opened again from its last line when it ends.
async fn stream(
    api: Api<Pod>,
    target: Target,
    base: LogParams,
    patterns: ErrorPatterns,
    session: u64,
    tx: mpsc::Sender<(u64, LogEvent)>,
) {
    let state = |state| (session, LogEvent::Stream { pod: target.pod.clone(), state });
    let mut last: Option<jiff::Timestamp> = None;
    let mut wait = REOPEN_MIN;
    loop {
        if tx.send(state(StreamState::Opening)).await.is_err() {
            return;
        }
        let params = match last {
            // From the last line on; lines at or before it are the ones already sent.
            Some(at) => LogParams {
                since_seconds: Some(jiff::Timestamp::now().duration_since(at).as_secs().max(0) + 1),
                tail_lines: None,
                ..params_for(&target, &base)
            },
            None => params_for(&target, &base),
        };
        let params = LogParams { follow: true, ..params };
        let reason = match tokio::time::timeout(OPEN_TIMEOUT, api.log_stream(&target.pod, &params)).await {
            Err(_) => format!("no answer within {}s", OPEN_TIMEOUT.as_secs()),
            Ok(Err(e)) => match read_error(e) {
                ReadError::Forbidden(m) => {
                    let _ = tx.send(state(StreamState::Forbidden(m))).await;
                    return;
                }
                e => e.to_string(),
            },
            Ok(Ok(reader)) => {
                if tx.send(state(StreamState::Streaming)).await.is_err() {
                    return;
                }
                wait = REOPEN_MIN;
                let mut lines = reader.lines();
                loop {
                    match lines.next().await {
                        Some(Ok(raw)) => {
                            let line = LogLine::parse(&raw, &target, &patterns);
                            if line.time.is_some_and(|t| last.is_some_and(|l| t <= l)) {
                                continue;
                            }
                            last = line.time.or(last);
                            if tx.send((session, LogEvent::Line(line))).await.is_err() {
                                return;
                            }
                        }
                        Some(Err(e)) => break format!("stream broke: {e}"),
                        None => break "stream ended".to_owned(),
                    }
                }
            }
        };
        if tx.send(state(StreamState::Retrying(reason))).await.is_err() {
            return;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(REOPEN_MAX);
    }
}
