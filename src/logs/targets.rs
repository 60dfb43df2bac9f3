//! Whose logs are read: the app's live pods (or one track's), each with the container
//! `kubectl logs` would read and, for a pod that keeps restarting, how its last instance ended,
//! so its previous container's last lines are shown without a key press.

use crate::health::Inventory;
use crate::health::assess::{AppSpec, app_pods};

/// One pod's log stream.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub pod: String,
    pub container: String,
    /// `stable` or `canary`.
    pub track: &'static str,
    /// The container restarted and is not ready: its previous instance's lines say why.
    pub crash: Option<Crash>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Crash {
    /// Times it restarted: a new restart is a new previous instance to read.
    pub restarts: u32,
    /// "CrashLoopBackOff", or whatever the kubelet says it waits for.
    pub waiting: Option<String>,
    /// "Error, exit code 1".
    pub last: Option<String>,
}

pub fn track(canary: bool) -> &'static str {
    if canary { "canary" } else { "stable" }
}

/// The app's live pods in `inventory`, stable and canary, sorted by track and name.
pub fn targets(spec: &AppSpec<'_>, inventory: &Inventory) -> Vec<Target> {
    let mut targets: Vec<Target> = app_pods(spec, inventory)
        .into_iter()
        .map(|(canary, pod)| Target {
            pod: pod.name.clone(),
            container: pod.container.clone(),
            track: track(canary),
            crash: (pod.restarts > 0 && !pod.ready).then(|| Crash {
                restarts: pod.restarts,
                waiting: pod.waiting_reason.clone(),
                last: pod.last_termination.clone(),
            }),
        })
        .collect();
    targets.sort();
    targets
}
