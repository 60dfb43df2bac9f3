//! What the automated checks read: one environment's objects, read once, and the previous
//! environment's apps for the soak check. The cluster layer fills it; the checks only read.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, LimitRange, Namespace, Node, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

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
    pub now: jiff::Timestamp,
}
