//! Where a Deployment's rollout stands: the one reading the health model, the screens and the
//! operation engine's verification share.

use serde_json::Value;

use super::inventory::DeploymentInfo;
use super::verdict::Rollout;

/// Every replica updated and available at the generation the controller has observed,
/// and no pod of an older ReplicaSet left: the rollout has nothing more to do.
pub fn settled(d: &DeploymentInfo) -> bool {
    d.observed_generation >= d.generation
        && d.updated == d.desired
        && d.available == d.desired
        && d.current == d.desired
}

/// The reason a rollout can no longer finish on its own: Progressing=False with
/// ProgressDeadlineExceeded.
pub fn stalled(d: &DeploymentInfo) -> Option<String> {
    d.conditions.iter().find(|c| c.kind == "Progressing" && c.reason == "ProgressDeadlineExceeded").map(|c| {
        if c.message.is_empty() { "progress deadline exceeded".to_owned() } else { c.message.clone() }
    })
}

impl Rollout {
    /// Missing, paused, stalled past its deadline, complete, or under way.
    pub fn of(deployment: Option<&DeploymentInfo>) -> Self {
        let Some(d) = deployment else { return Self::Missing };
        if d.paused {
            return Self::Paused;
        }
        if let Some(reason) = stalled(d) {
            return Self::Stalled { reason };
        }
        if settled(d) { Self::Complete } else { Self::Progressing }
    }
}

/// A Deployment as the API returns it (JSON), reduced to the record the health model reads;
/// `None` when it is not a Deployment.
pub fn deployment_of(object: &Value) -> Option<DeploymentInfo> {
    let deployment: k8s_openapi::api::apps::v1::Deployment = serde_json::from_value(object.clone()).ok()?;
    Some(super::from_k8s::deployment(&deployment))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn web(status: &Value) -> DeploymentInfo {
        deployment_of(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "generation": 3},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": []}}},
            "status": status,
        }))
        .expect("a deployment")
    }

    #[test]
    fn complete_needs_the_new_generation_observed_and_every_replica_updated() {
        let old = web(
            &json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(Rollout::of(Some(&old)), Rollout::Progressing, "status of the old generation");
        let done = web(
            &json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(Rollout::of(Some(&done)), Rollout::Complete);
        let surging = web(
            &json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(Rollout::of(Some(&surging)), Rollout::Progressing, "an old pod is still there");
        assert_eq!(Rollout::of(None), Rollout::Missing);
    }

    #[test]
    fn a_stalled_rollout_says_why() {
        let d = web(
            &json!({"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-1\" has timed out progressing."}]}),
        );
        assert_eq!(
            Rollout::of(Some(&d)),
            Rollout::Stalled { reason: "ReplicaSet \"web-1\" has timed out progressing.".into() }
        );
    }
}
