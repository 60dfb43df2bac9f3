//! What the tree is asked about, read from the watches' inventory: the new version's pods
//! (those of the ReplicaSet the Deployment's current revision names) and their probe failures.

use super::tree::PodSeen;
use crate::health::Inventory;
use crate::health::assess::AppSpec;

/// The pods of the stable Deployment's current revision, with the `Unhealthy` events about
/// each (the kubelet's probe failures).
pub fn new_pods(spec: &AppSpec<'_>, inventory: &Inventory) -> Vec<PodSeen> {
    let (stable, _) = spec.live_names(inventory);
    let Some(deployment) =
        inventory.deployments.iter().find(|d| d.namespace == spec.namespace && d.name == stable)
    else {
        return Vec::new();
    };
    let Some(current) = inventory.replica_sets.iter().find(|rs| {
        rs.namespace == spec.namespace
            && rs.owner.as_deref() == Some(stable)
            && rs.revision.is_some()
            && rs.revision == deployment.revision
    }) else {
        return Vec::new();
    };
    let mut pods: Vec<PodSeen> = inventory
        .pods
        .iter()
        .filter(|p| {
            p.namespace == spec.namespace && p.owner.as_deref() == Some(&current.name) && !p.terminating
        })
        .map(|p| PodSeen {
            name: p.name.clone(),
            phase: p.phase.clone(),
            ready: p.ready,
            restarts: p.restarts,
            waiting: p.waiting_reason.clone(),
            last_termination: p.last_termination.clone(),
            created: p.created,
            probe_failures: inventory
                .events
                .iter()
                .filter(|e| {
                    e.namespace == p.namespace
                        && e.kind == "Pod"
                        && e.name == p.name
                        && e.reason == "Unhealthy"
                })
                .map(|e| e.message.clone())
                .collect(),
        })
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    pods
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::health::inventory::{DeploymentInfo, EventInfo, PodInfo, ReplicaSetInfo};

    fn replica_set(name: &str, revision: u64) -> ReplicaSetInfo {
        ReplicaSetInfo {
            namespace: "shop".into(),
            name: name.into(),
            owner: Some("web".into()),
            revision: Some(revision),
            desired: 1,
            ready: 1,
            available: 1,
            images: Vec::new(),
            change_cause: None,
            created: None,
        }
    }

    fn pod(name: &str, owner: &str) -> Arc<PodInfo> {
        Arc::new(PodInfo {
            namespace: "shop".into(),
            name: name.into(),
            labels: std::collections::BTreeMap::from([("app".to_owned(), "web".to_owned())]).into(),
            owner: Some(owner.into()),
            phase: "Running".into(),
            ready: false,
            restarts: 0,
            last_restart: None,
            waiting_reason: None,
            node: None,
            created: None,
            images: Vec::new(),
            terminating: false,
            container: "web".into(),
            last_termination: None,
        })
    }

    #[test]
    fn the_new_pods_are_the_current_revisions_with_their_probe_failures() {
        let inventory = Inventory {
            deployments: vec![DeploymentInfo {
                namespace: "shop".into(),
                name: "web".into(),
                labels: std::collections::BTreeMap::default(),
                selector: std::collections::BTreeMap::default(),
                desired: 1,
                updated: 1,
                ready: 0,
                available: 0,
                current: 2,
                generation: 2,
                observed_generation: 2,
                paused: false,
                progress_deadline_seconds: 600,
                conditions: Vec::new(),
                images: Vec::new(),
                revision: Some(2),
                created: None,
            }],
            replica_sets: vec![replica_set("web-old", 1), replica_set("web-new", 2)],
            pods: vec![pod("web-old-a", "web-old"), pod("web-new-a", "web-new")],
            events: vec![EventInfo {
                namespace: "shop".into(),
                kind: "Pod".into(),
                name: "web-new-a".into(),
                reason: "Unhealthy".into(),
                message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
                count: 3,
                last_seen: None,
            }],
            ..Inventory::default()
        };
        let spec = AppSpec { name: "web", namespace: "shop", deployment: "web", canary: None };
        let pods = new_pods(&spec, &inventory);
        assert_eq!(pods.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["web-new-a"]);
        assert_eq!(
            pods[0].probe_failures,
            ["Readiness probe failed: HTTP probe failed with statuscode: 503"]
        );
    }
}
