//! What the watchers keep of each object: only the fields the health model reads. Full pods
//! cost tens of kilobytes each; these cost a few hundred bytes.

use std::collections::BTreeMap;

use serde::Serialize;

/// A condition as the health model needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionInfo {
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentInfo {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// spec.selector.matchLabels
    pub selector: BTreeMap<String, String>,
    /// spec.replicas (default 1)
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// status.replicas: every pod of every ReplicaSet, old ones included
    pub current: i32,
    pub generation: i64,
    pub observed_generation: i64,
    pub paused: bool,
    pub progress_deadline_seconds: i32,
    pub conditions: Vec<ConditionInfo>,
    /// The pod template's container images, in order.
    pub images: Vec<String>,
    /// deployment.kubernetes.io/revision
    pub revision: Option<u64>,
    pub created: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaSetInfo {
    pub namespace: String,
    pub name: String,
    /// The owning Deployment's name.
    pub owner: Option<String>,
    pub revision: Option<u64>,
    pub desired: i32,
    pub ready: i32,
    pub available: i32,
    pub images: Vec<String>,
    /// kubernetes.io/change-cause
    pub change_cause: Option<String>,
    pub created: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The owning ReplicaSet's name.
    pub owner: Option<String>,
    /// status.phase
    pub phase: String,
    /// The Ready condition is True.
    pub ready: bool,
    /// Sum of the containers' restartCount.
    pub restarts: u32,
    /// The latest lastState.terminated.finishedAt among containers.
    pub last_restart: Option<jiff::Timestamp>,
    /// The first waiting container's reason (CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
    /// ContainerCreating, …).
    pub waiting_reason: Option<String>,
    pub node: Option<String>,
    pub created: Option<jiff::Timestamp>,
    pub images: Vec<String>,
    /// metadata.deletionTimestamp is set.
    pub terminating: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    pub name: String,
    pub ready: bool,
}

/// A Warning event (only Warnings are watched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventInfo {
    pub namespace: String,
    /// involvedObject / regarding kind and name
    pub kind: String,
    pub name: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    pub last_seen: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngressInfo {
    pub namespace: String,
    pub name: String,
    /// nginx.ingress.kubernetes.io/canary == "true"
    pub canary: bool,
    /// nginx.ingress.kubernetes.io/canary-weight, when it parses as 0..=100
    pub canary_weight: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteInfo {
    pub namespace: String,
    pub name: String,
    /// The first rule's backendRefs: (service name, weight; 1 when unset).
    pub backends: Vec<(String, u32)>,
}

/// One environment as its watchers last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub deployments: Vec<DeploymentInfo>,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub pods: Vec<PodInfo>,
    pub nodes: Vec<NodeInfo>,
    pub events: Vec<EventInfo>,
    pub ingresses: Vec<IngressInfo>,
    pub routes: Vec<RouteInfo>,
}
