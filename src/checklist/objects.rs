//! What the automated checks read: one environment's objects, read once, and the previous
//! environment's apps for the soak check. The cluster layer fills it; the checks only read.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, LimitRange, Namespace, Node, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::logs::Sample;

/// One configured app in the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppObjects {
    pub app: String,
    pub namespace: String,
    /// The stable Deployment's name, as configured.
    pub deployment_name: String,
    /// `None` when the Deployment does not exist here.
    pub deployment: Option<Deployment>,
    /// The canary Deployment, when the app has a canary here: its image is what is about to be
    /// deployed.
    pub canary: Option<Deployment>,
    /// The Deployment's ReplicaSets: its rollout history.
    pub replica_sets: Vec<ReplicaSet>,
    /// Its live pods' recent logs, stable and canary; `None` when they were not read (no item
    /// asks for them, or this is the previous environment).
    pub logs: Option<Sample>,
}

/// How the log check reads: its defaults, as the config gives them, and how far back gather
/// reads the apps' logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogWindow {
    /// `logs.checklist_minutes`: an item's `minutes` when it sets none.
    pub minutes: i64,
    /// `logs.checklist_max_errors`: an item's `max_errors` when it sets none.
    pub max_errors: i64,
    /// The widest window any item asks for: what gather reads (each sample says what it read).
    pub read_minutes: i64,
    /// Lines read per pod at most.
    pub tail_lines: i64,
}

impl Default for LogWindow {
    fn default() -> Self {
        Self { minutes: 10, max_errors: 0, read_minutes: 10, tail_lines: 2_000 }
    }
}

/// The environment before this one in promotion order (staging for production).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Previous {
    pub env: String,
    pub apps: Vec<AppObjects>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Objects {
    pub env: String,
    pub apps: Vec<AppObjects>,
    /// The namespaces the apps live in.
    pub namespaces: Vec<Namespace>,
    pub pdbs: Vec<PodDisruptionBudget>,
    pub network_policies: Vec<NetworkPolicy>,
    pub quotas: Vec<ResourceQuota>,
    pub limit_ranges: Vec<LimitRange>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    pub nodes: Vec<Node>,
    /// Why the nodes could not be read (a namespaced user may not list them).
    pub nodes_error: Option<String>,
    /// Warning events in the apps' namespaces.
    pub events: Vec<Event>,
    /// `None` for the first environment of the release path, or when it could not be read
    /// (`previous_error` says why).
    pub previous: Option<Previous>,
    pub previous_error: Option<String>,
    /// How the apps' logs are read (see `AppObjects::logs`).
    pub logs: LogWindow,
    pub now: jiff::Timestamp,
}
