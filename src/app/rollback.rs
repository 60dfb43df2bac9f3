//! What the rollback screen knows, from the environment's latest snapshot: the app's
//! revisions (its ReplicaSets), the one a rollback would preselect, and what else the plan
//! will involve (an active canary, a paused rollout, a GitOps controller).

use serde_json::json;

use crate::health::inventory::{DeploymentInfo, Inventory};
use crate::ops::rollback::{self, Choice, GitOps, Revision};

/// A rollback that was confirmed and is running or has run: the live view follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub started: jiff::Timestamp,
    pub sentence: String,
    /// The operation path's latest stage ("writing …", "waiting until …").
    pub stage: String,
    /// How it ended, once it has.
    pub outcome: Option<String>,
}

/// The running revision's recent error lines, for the rollback screen's "why".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentErrors {
    pub env: String,
    pub app: String,
    pub minutes: u32,
    /// What its pods' logs held, or why they could not be read; `None` while they are read.
    pub logs: Option<Result<crate::logs::Sample, String>>,
}

/// The app's Deployment in the snapshot.
pub fn deployment<'i>(inventory: &'i Inventory, namespace: &str, name: &str) -> Option<&'i DeploymentInfo> {
    inventory.deployments.iter().find(|d| d.namespace == namespace && d.name == name)
}

/// The Deployment's revisions as the watchers see them, newest first; the current one is the
/// revision the Deployment carries.
pub fn revisions(inventory: &Inventory, namespace: &str, name: &str) -> Vec<Revision> {
    let current = deployment(inventory, namespace, name).and_then(|d| d.revision);
    let mut out: Vec<Revision> = inventory
        .replica_sets
        .iter()
        .filter(|rs| rs.namespace == namespace && rs.owner.as_deref() == Some(name))
        .filter_map(|rs| {
            Some(Revision {
                revision: rs.revision?,
                replica_set: rs.name.clone(),
                images: rs.images.clone(),
                change_cause: rs.change_cause.clone(),
                created: rs.created,
                desired: i64::from(rs.desired),
                ready: i64::from(rs.ready),
                available: i64::from(rs.available),
                current: rs.revision.is_some() && rs.revision == current,
            })
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.revision));
    out
}

/// The revision the screen preselects, and why.
pub fn preselect(revisions: &[Revision]) -> Option<Choice> {
    rollback::last_known_good(revisions)
}

/// The GitOps controller the Deployment's labels name.
pub fn gitops(deployment: &DeploymentInfo) -> Option<GitOps> {
    rollback::gitops(&json!({"metadata": {"labels": deployment.labels}}))
}
