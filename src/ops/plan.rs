//! The shape of a plan: target, precondition, patch, sentence, diff and what "done" means.

use serde_json::{Value, json};

use crate::config::Protection;

/// The kinds of object opsdeck writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployment,
    Ingress,
    HttpRoute,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Deployment => "Deployment",
            Self::Ingress => "Ingress",
            Self::HttpRoute => "HTTPRoute",
        }
    }

    /// (group, version, plural) as the API and access reviews name them.
    pub fn api(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Deployment => ("apps", "v1", "deployments"),
            Self::Ingress => ("networking.k8s.io", "v1", "ingresses"),
            Self::HttpRoute => ("gateway.networking.k8s.io", "v1", "httproutes"),
        }
    }
}

/// The object a step writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub env: String,
    pub context: String,
    pub namespace: String,
    pub kind: Kind,
    pub name: String,
}

/// The body of a PATCH, by content type.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchBody {
    Merge(Value),
    Strategic(Value),
    /// RFC 6902 operations.
    Json(Vec<Value>),
}

impl PatchBody {
    /// The patch with the precondition in it: the resourceVersion the plan was computed from
    /// (a JSON-patch `test` op for JSON patches), so the server refuses the write with 409
    /// when the object changed since the operator saw it.
    #[must_use]
    pub fn with_precondition(&self, resource_version: &str) -> Self {
        match self {
            Self::Merge(v) => Self::Merge(with_rv(v, resource_version)),
            Self::Strategic(v) => Self::Strategic(with_rv(v, resource_version)),
            Self::Json(ops) => {
                let mut all = vec![
                    json!({"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}),
                ];
                all.extend(ops.iter().cloned());
                Self::Json(all)
            }
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Self::Merge(v) | Self::Strategic(v) => v.clone(),
            Self::Json(ops) => Value::Array(ops.clone()),
        }
    }
}

fn with_rv(patch: &Value, resource_version: &str) -> Value {
    let mut patch = patch.clone();
    if let Some(root) = patch.as_object_mut() {
        let metadata = root.entry("metadata").or_insert_with(|| json!({}));
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert("resourceVersion".into(), json!(resource_version));
        }
    }
    patch
}

/// One line of "what changes": a field, its value now and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// What "done" looks like for a step, checked against the object read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Verify {
    /// The Deployment observed the new generation and every replica is updated and available.
    RolloutComplete,
    /// A field (JSON pointer) reads back as this value and, for Deployments, the controller
    /// has observed the change.
    Field { pointer: String, value: Value },
}

impl Verify {
    /// Whether `object` (as JSON) shows the step done.
    pub fn is_done(&self, object: &Value) -> bool {
        let int = |p: &str| object.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let observed = int("/status/observedGeneration") >= int("/metadata/generation");
        match self {
            Self::RolloutComplete => {
                let replicas = object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
                observed
                    && int("/status/updatedReplicas") == replicas
                    && int("/status/availableReplicas") == replicas
                    && int("/status/replicas") == replicas
            }
            Self::Field { pointer, value } => {
                let has_status = object.get("status").is_some();
                object.pointer(pointer) == Some(value) && (!has_status || observed)
            }
        }
    }

    /// Whether `object` shows the step can no longer finish (a stalled rollout).
    pub fn has_failed(&self, object: &Value) -> Option<String> {
        let conditions = object.pointer("/status/conditions").and_then(Value::as_array)?;
        conditions
            .iter()
            .find(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
            .map(|c| c["message"].as_str().unwrap_or("progress deadline exceeded").to_owned())
    }

    pub fn describe(&self) -> String {
        match self {
            Self::RolloutComplete => "the rollout completes (all replicas updated and available)".to_owned(),
            Self::Field { pointer, value } => {
                format!("{} reads back {value}", pointer.trim_start_matches('/').replace('/', "."))
            }
        }
    }
}

/// One write.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub target: Target,
    /// The resourceVersion the step was computed from: the precondition.
    pub from_resource_version: String,
    pub patch: PatchBody,
    /// "production · shop/web · paused false → true"
    pub sentence: String,
    pub diff: Vec<DiffLine>,
    pub verify: Verify,
    /// The Kubernetes Event reason recorded on the target, e.g. `OpsdeckRestart`.
    pub event_reason: &'static str,
}

/// What the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Restart,
    Pause,
    Resume,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::Pause => "pause",
            Self::Resume => "resume",
        }
    }
}

/// Steps shown and confirmed together.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub operation: Operation,
    pub env: String,
    pub app: String,
    pub protection: Protection,
    pub steps: Vec<Step>,
}

impl Plan {
    /// What the typed confirmation asks for.
    pub fn typed_name(&self) -> String {
        format!("{}/{}", self.env, self.app)
    }

    pub fn sentence(&self) -> String {
        self.steps.iter().map(|s| s.sentence.as_str()).collect::<Vec<_>>().join("; then ")
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The operation makes no sense for the object as it is now (e.g. resume a running rollout).
    Refused(String),
    /// The object lacks what the plan needs.
    Invalid(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(m) | Self::Invalid(m) => f.write_str(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precondition_goes_into_every_patch_type() {
        let merge = PatchBody::Merge(json!({"spec": {"paused": true}})).with_precondition("42");
        assert_eq!(
            merge.to_value(),
            json!({"spec": {"paused": true}, "metadata": {"resourceVersion": "42"}})
        );
        let json_patch =
            PatchBody::Json(vec![json!({"op": "replace", "path": "/spec/paused", "value": true})])
                .with_precondition("42");
        assert_eq!(
            json_patch.to_value()[0],
            json!({"op": "test", "path": "/metadata/resourceVersion", "value": "42"})
        );
        assert_eq!(json_patch.to_value().as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn rollout_complete_needs_the_new_generation_observed() {
        let mut d = json!({
            "metadata": {"generation": 3},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2},
        });
        assert!(!Verify::RolloutComplete.is_done(&d), "status of the old generation");
        d["status"]["observedGeneration"] = json!(3);
        assert!(Verify::RolloutComplete.is_done(&d));
        d["status"]["availableReplicas"] = json!(1);
        assert!(!Verify::RolloutComplete.is_done(&d));
    }

    #[test]
    fn a_stalled_rollout_has_failed() {
        let d = json!({"status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-1\" has timed out progressing."}]}});
        assert_eq!(
            Verify::RolloutComplete.has_failed(&d).as_deref(),
            Some("ReplicaSet \"web-1\" has timed out progressing.")
        );
    }
}
