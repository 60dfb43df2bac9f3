//! What the watchers keep of each object: only the fields the health model reads. Full pods
//! cost tens of kilobytes each; these cost a few hundred bytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

/// A pod's labels, without `pod-template-hash` (no Deployment selects on it): a short sorted
/// list rather than a map, because a map's node costs half a kilobyte per pod, and an
/// environment holds thousands of pods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(into = "BTreeMap<String, String>")]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| self.0[i].1.as_str())
    }

    pub fn insert(&mut self, key: String, value: String) {
        match self.0.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }
}

impl From<&BTreeMap<String, String>> for Labels {
    fn from(map: &BTreeMap<String, String>) -> Self {
        let mut pairs: Vec<(String, String)> = map
            .iter()
            .filter(|(k, _)| k.as_str() != "pod-template-hash")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.shrink_to_fit();
        Self(pairs)
    }
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self::from(&map)
    }
}

impl From<Labels> for BTreeMap<String, String> {
    fn from(labels: Labels) -> Self {
        labels.0.into_iter().collect()
    }
}

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
    /// The ports its pod template's containers declare.
    pub ports: Vec<ContainerPort>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
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
    /// The first container's name: the one `kubectl logs` reads without `-c`.
    pub container: String,
    /// How the last instance of a restarted container ended: "Error, exit code 1".
    pub last_termination: Option<String>,
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
    /// The Services its rules and default backend send to.
    pub backends: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteInfo {
    pub namespace: String,
    pub name: String,
    /// The first rule's backendRefs: (service name, weight; 1 when unset).
    pub backends: Vec<(String, u32)>,
}

/// A Service, as far as a blue-green switch and the guard's "Service accessible?" need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    pub selector: BTreeMap<String, String>,
    /// The colour opsdeck recorded as stable (`opsdeck.io/stable`).
    pub stable: Option<String>,
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: i32,
    /// Where it sends: `targetPort`, or `port` when that is unset, as the API server defaults it.
    pub target: TargetPort,
}

/// A Service's `targetPort`: a number, or the name of a container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TargetPort {
    Number(i32),
    Name(String),
}

impl std::fmt::Display for TargetPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Name(name) => write!(f, "{name:?}"),
        }
    }
}

/// A port a pod template's container declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: i32,
}

impl std::fmt::Display for ContainerPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} {}", self.port),
            None => write!(f, "{}", self.port),
        }
    }
}

/// An EndpointSlice, counted: which Service it serves and how many of its endpoints are ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointSliceInfo {
    pub namespace: String,
    pub name: String,
    /// `kubernetes.io/service-name`.
    pub service: Option<String>,
    pub endpoints: u32,
    pub ready: u32,
}

/// A Flux Kustomization or HelmRelease, or an Argo CD Application: what it last applied and
/// whether it is in sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitOpsInfo {
    /// `Kustomization`, `HelmRelease` or `Application`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Flux: the Ready condition; Argo CD: synced and healthy. `None` before the controller
    /// has said.
    pub ready: Option<bool>,
    /// The applied revision: `main@sha1:…` for a Kustomization, the chart version for a
    /// HelmRelease, the Git SHA for an Application.
    pub revision: Option<String>,
    /// Flux's `spec.suspend`; for Argo CD, auto-sync turned off.
    pub suspended: bool,
    /// Why it is not ready, in the controller's words.
    pub message: Option<String>,
    /// When it last reconciled, as far as its status says.
    pub reconciled: Option<jiff::Timestamp>,
}

/// An Argo Rollouts `Rollout` or a Flagger `Canary`: a controller that runs an app's release
/// itself, and how far it has got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControllerInfo {
    /// `argo-rollouts` or `flagger`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// The Deployment it drives: Flagger's `targetRef`, a Rollout's `workloadRef`; a Rollout
    /// without one is its own workload, under its own name.
    pub target: String,
    /// The controller's phase (`Paused`, `Progressing`, `WaitingPromotion`, …).
    pub phase: Option<String>,
    pub message: Option<String>,
    /// The canary's share of traffic now, as the controller reports it.
    pub weight: Option<u32>,
    /// Argo: the current step index and the number of steps.
    pub step: Option<(u32, u32)>,
    /// Argo: paused (`spec.paused` or pause conditions); Flagger: `spec.suspend`.
    pub paused: bool,
    /// Argo: `status.abort`.
    pub aborted: bool,
    /// Flagger: failed checks and the analysis' threshold.
    pub failed_checks: Option<(u32, u32)>,
    /// Argo: each step in words (`20%`, `pause`, `pause 2m`).
    pub steps: Vec<String>,
    /// Flagger: the analysis in words (`stepWeight 10 · maxWeight 50 · every 30s · threshold 5`),
    /// its metrics, and its webhooks as `name (type)`.
    pub analysis: Option<String>,
    pub metrics: Vec<String>,
    pub webhooks: Vec<String>,
    /// Flagger: the loadtester gates its webhooks wait on, as (name, type).
    pub gates: Vec<(String, String)>,
    /// Flagger: checks run at this weight, and when the phase last changed.
    pub iterations: Option<u32>,
    pub last_transition: Option<String>,
    /// What the controller does next, in a line.
    pub next: Option<String>,
    /// Flagger: the analysis' `stepWeight` and `maxWeight`.
    pub step_weight: Option<u32>,
    pub max_weight: Option<u32>,
    /// The version the controller brings in, and its pods ready of desired (set by the health
    /// model from the canary's ReplicaSet or, for Flagger, its target Deployment).
    pub canary_version: Option<String>,
    pub canary_ready: Option<(i32, i32)>,
    /// Argo: the stable ReplicaSet's pods ready of desired.
    pub stable_ready: Option<(i32, i32)>,
    /// Argo blue-green: the active and preview Services, each with the pod-template hash it
    /// selects now.
    pub services: Option<BlueGreenServices>,
    /// Argo: the pod-template hashes of the stable ReplicaSet and of the template's.
    pub stable_hash: Option<String>,
    pub canary_hash: Option<String>,
    /// A Rollout with a template of its own is the app's workload: its replicas and
    /// conditions as a Deployment's, for the health model.
    #[serde(skip)]
    pub workload: Option<Box<DeploymentInfo>>,
}

/// A blue-green Rollout's two Services: `active` takes the traffic, `preview` shows the new
/// version until promotion switches `active` to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlueGreenServices {
    pub active: String,
    pub active_selects: Option<String>,
    pub preview: Option<String>,
    pub preview_selects: Option<String>,
}

impl ControllerInfo {
    /// The loadtester gate Flagger waits at now, by its phase: the promotion's when it waits to
    /// promote or has reached its last step, the rollout's before it starts, else the step's.
    pub fn waited_gate(&self) -> Option<&(String, String)> {
        let kind = match self.phase.as_deref() {
            Some("WaitingPromotion") => "confirm-promotion",
            Some("Waiting") => "confirm-rollout",
            _ => {
                let step = self.gates.iter().find(|(_, k)| k == "confirm-traffic-increase");
                if step.is_some() {
                    return step;
                }
                "confirm-promotion"
            }
        };
        self.gates.iter().find(|(_, k)| k == kind)
    }
}

/// One environment as its watchers last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub deployments: Vec<DeploymentInfo>,
    pub replica_sets: Vec<ReplicaSetInfo>,
    /// Shared with the watch tables: the bulk of an environment, so never copied per snapshot.
    pub pods: Vec<Arc<PodInfo>>,
    pub nodes: Vec<NodeInfo>,
    pub events: Vec<EventInfo>,
    pub ingresses: Vec<IngressInfo>,
    pub routes: Vec<RouteInfo>,
    pub services: Vec<ServiceInfo>,
    pub endpoint_slices: Vec<EndpointSliceInfo>,
    /// Flux and Argo CD objects, where the credentials may read them.
    pub gitops: Vec<GitOpsInfo>,
    /// Argo Rollouts and Flagger objects, where they are installed.
    pub controllers: Vec<ControllerInfo>,
}
