//! The fleet's controllers: Deployments own ReplicaSets (one per distinct pod template, with a
//! revision number), ReplicaSets own pods, pods start, become ready or crash. Durations run on
//! a clock that can be sped up; object timestamps stay wall-clock so ages read true.

mod argo;
mod endpoints;
mod flagger;
mod pods;
pub mod rollout;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::resources::EVENTS;
use super::store::{Store, now_rfc3339, suffix};

pub use pods::PodState;

/// How long things take, in simulated time, and how fast simulated time runs.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Scheduling and image pull: Pending until then.
    pub pod_start: Duration,
    /// Running, then Ready after this much more.
    pub pod_ready: Duration,
    /// A crashing container restarts this often.
    pub crash_every: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            speed: 1.0,
            pod_start: Duration::from_secs(2),
            pod_ready: Duration::from_secs(3),
            crash_every: Duration::from_secs(15),
        }
    }
}

impl Timing {
    /// Simulated time since `since`.
    pub fn elapsed(&self, since: Instant) -> Duration {
        since.elapsed().mul_f64(self.speed.max(0.0))
    }
}

/// The controllers' memory between passes: what the objects alone do not say.
#[derive(Debug, Default)]
pub struct Controller {
    pub timing: Timing,
    /// Every pod, by `namespace/name`.
    pub pods: HashMap<String, PodState>,
    /// Per Deployment (`namespace/name`): the last observed rollout fingerprint and when it
    /// last changed, for the progress deadline.
    progress: HashMap<String, (String, Instant)>,
    seq: u64,
    /// The resourceVersion after a pass that changed nothing while every pod was Ready: until
    /// something else changes the store, the next pass would do nothing either. Passes over
    /// thousands of pods are what makes a large fleet slow to answer.
    settled_at: Option<u64>,
    /// While true, new pods start already Ready: the fleet opens in a steady state.
    pub warm: bool,
    /// Argo Rollouts' pause steps under way (`namespace/name`): since when, and for how long
    /// when the step says.
    pauses: HashMap<String, (Instant, Option<Duration>)>,
    /// Flagger's last analysis check of each Canary (`namespace/name`).
    checks: HashMap<String, Instant>,
    /// The loadtester's open gates, shared with the service proxy.
    pub gates: crate::server::Gates,
    /// Nodes pods are spread over, round-robin.
    nodes: Vec<String>,
    cluster: u8,
}

impl Controller {
    pub fn new(timing: Timing, cluster: u8) -> Self {
        Self { timing, cluster, ..Self::default() }
    }

    /// One pass over every controller.
    pub fn reconcile(&mut self, store: &Store) {
        if self.nodes.is_empty() {
            let (nodes, _) = store.list(super::resources::NODES, None, |_| true);
            self.nodes = nodes
                .iter()
                .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
        }
        let before = store.resource_version();
        if self.settled_at == Some(before) {
            return;
        }
        rollout::reconcile_deployments(self, store);
        argo::reconcile_rollouts(self, store);
        flagger::reconcile_canaries(self, store);
        pods::reconcile_replica_sets(self, store);
        pods::advance_pods(self, store);
        endpoints::reconcile_endpoint_slices(self, store);
        // Non-ready pods move with the clock (start-up, crash loops, progress deadlines), not
        // only with changes: those keep the controllers running.
        // A timed pause ends with the clock too.
        let all_ready = self.pods.values().all(|p| p.phase == pods::Phase::Ready)
            && self.pauses.values().all(|(_, limit)| limit.is_none())
            && self.checks.is_empty();
        let after = store.resource_version();
        self.settled_at = (all_ready && after == before).then_some(after);
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn name_suffix(&mut self) -> String {
        let seq = self.next_seq();
        suffix(seq + u64::from(self.cluster) * 1_000_003)
    }
}

/// The `metadata` fields of an object as strings.
pub fn meta<'a>(object: &'a Value, field: &str) -> &'a str {
    object.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or("")
}

pub fn owner_uid(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool).unwrap_or(false))
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

pub fn owner_ref(kind: &str, object: &Value) -> Value {
    json!([{
        "apiVersion": "apps/v1",
        "kind": kind,
        "name": meta(object, "name"),
        "uid": meta(object, "uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

/// Records a core/v1 Event about `object`, or bumps the count of the same one.
pub fn record_event(
    store: &Store,
    object: &Value,
    kind: &str,
    event_type: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let namespace = meta(object, "namespace");
    let name = format!("{}.{}", meta(object, "name"), reason.to_lowercase());
    let now = now_rfc3339();
    let updated = store.mutate(EVENTS, namespace, &name, |event| {
        let count = event.get("count").and_then(Value::as_i64).unwrap_or(1);
        if let Some(map) = event.as_object_mut() {
            map.insert("count".into(), json!(count + 1));
            map.insert("lastTimestamp".into(), json!(now));
            map.insert("message".into(), json!(message));
        }
    });
    if updated.is_some() {
        return;
    }
    let api_version = if kind == "Pod" { "v1" } else { "apps/v1" };
    let event = json!({
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {
            "apiVersion": api_version,
            "kind": kind,
            "name": meta(object, "name"),
            "namespace": namespace,
            "uid": meta(object, "uid"),
            "resourceVersion": meta(object, "resourceVersion"),
        },
        "reason": reason,
        "message": message,
        "type": event_type,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
    });
    let _ = store.create(EVENTS, namespace, event, false);
}
