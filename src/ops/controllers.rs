//! Objects a progressive-delivery controller owns. Argo Rollouts and Flagger create and drive
//! the canary's Ingress, Services, HTTPRoute and primary Deployment, and mark each with an
//! ownerReference to their Rollout or Canary. A write of ours to one of them would be undone
//! by the controller on its next reconcile, or worse, fight it mid-analysis; so opsdeck
//! refuses it and says whose control points to use instead.

mod argo;
mod flagger;

use serde_json::Value;

pub use argo::{rollout as argo_plan, set_image as argo_set_image};
pub use flagger::{Gate, canary as flagger_plan, gates};

use super::Place;
use super::plan::{Kind, PlanError, Target};

/// What an operator asks of a controller, in its own terms: `kubectl argo rollouts` verbs for
/// a Rollout, suspend/resume and the loadtester's gates for a Flagger Canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// Argo: clear the pause (the current pause step, or `spec.paused`).
    Promote,
    /// Argo: skip the remaining steps (`status.promoteFull`).
    PromoteFull,
    /// Argo: `status.abort: true`: traffic back to stable.
    Abort,
    /// Argo: `status.abort: false`, after an abort.
    Retry,
    /// Argo: `spec.paused: true`; Flagger: `spec.suspend: true`.
    Pause,
    /// Argo: `spec.paused: false`; Flagger: `spec.suspend: false`.
    Resume,
    /// Flagger: open or close a loadtester gate named by its webhook.
    Gate { name: String, open: bool },
    /// Argo: `spec.restartAt` (RFC 3339): the controller replaces every pod older than it.
    Restart { at: String },
}

impl Verb {
    /// How the command line names it.
    pub fn word(&self) -> String {
        match self {
            Self::Promote => "promote".into(),
            Self::PromoteFull => "promote --full".into(),
            Self::Abort => "abort".into(),
            Self::Retry => "retry".into(),
            Self::Pause => "pause".into(),
            Self::Resume => "resume".into(),
            Self::Gate { name, open } => format!("gate {} {name}", if *open { "open" } else { "close" }),
            Self::Restart { .. } => "restart".into(),
        }
    }
}

/// The controller object a step targets, and the resourceVersion the plan is computed from.
fn target(place: &Place<'_>, kind: Kind, object: &Value) -> Result<(Target, String), PlanError> {
    let meta = |f: &str| object.pointer(&format!("/metadata/{f}")).and_then(Value::as_str);
    let name = meta("name").ok_or_else(|| PlanError::Invalid(format!("the {} has no name", kind.name())))?;
    let namespace = meta("namespace").unwrap_or("default");
    let rv = meta("resourceVersion").filter(|rv| !rv.is_empty()).ok_or_else(|| {
        PlanError::Invalid(format!("{} {namespace}/{name} has no resourceVersion", kind.name()))
    })?;
    let target = Target {
        env: place.env.to_owned(),
        context: place.context.to_owned(),
        namespace: namespace.to_owned(),
        kind,
        name: name.to_owned(),
    };
    Ok((target, rv.to_owned()))
}

/// The controller that owns `object`, in words for a refusal, if an ownerReference names one.
pub fn owner(object: &Value) -> Option<String> {
    let refs = object.pointer("/metadata/ownerReferences")?.as_array()?;
    refs.iter().find_map(|r| {
        let api = r.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
        let namespace = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
        match (api.split('/').next().unwrap_or(""), kind) {
            ("argoproj.io", "Rollout") => Some(format!(
                "Argo Rollouts (Rollout {namespace}/{name}): drive it with the Rollout's own verbs (promote, abort, retry, pause)"
            )),
            ("flagger.app", "Canary") => Some(format!(
                "Flagger (Canary {namespace}/{name}): drive it through Flagger (suspend the Canary, or its loadtester gates)"
            )),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rollouts_and_canaries_own_what_they_reference_and_nothing_else_does() {
        let owned = |api: &str, kind: &str| {
            json!({"metadata": {"namespace": "shop", "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x"},
                {"apiVersion": api, "kind": kind, "name": "search", "controller": true},
            ]}})
        };
        let flagger = owner(&owned("flagger.app/v1beta1", "Canary")).expect("Flagger's");
        assert!(flagger.starts_with("Flagger (Canary shop/search)"), "{flagger}");
        let argo = owner(&owned("argoproj.io/v1alpha1", "Rollout")).expect("Argo's");
        assert!(argo.starts_with("Argo Rollouts (Rollout shop/search)"), "{argo}");
        assert_eq!(
            owner(&owned("argoproj.io/v1alpha1", "Application")),
            None,
            "Argo CD is not a traffic controller"
        );
        assert_eq!(owner(&json!({"metadata": {"name": "web"}})), None);
    }
}
