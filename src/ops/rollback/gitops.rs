//! Deployments reconciled from Git: a direct rollback is reverted by the next sync. Flux marks
//! what it applies with its Kustomization's or HelmRelease's name and namespace labels; Argo CD
//! with the application instance label or its tracking annotation.

use serde::Serialize;
use serde_json::{Value, json};

use crate::ops::deployment::Place;
use crate::ops::plan::{DiffLine, Guard, Kind, Operation, PatchBody, Plan, PlanError, Step, Target, Verify};

/// Who reconciles a Deployment from Git.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "controller", rename_all = "kebab-case")]
pub enum GitOps {
    /// A Flux Kustomization or HelmRelease; it can be suspended (`spec.suspend`).
    Flux { kind: &'static str, name: String, namespace: String },
    /// An Argo CD application: its auto-sync is turned off in Argo CD, not here.
    ArgoCd { application: String },
}

fn label<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.pointer(&format!("/metadata/labels/{}", key.replace('/', "~1"))).and_then(Value::as_str)
}

fn annotation<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.pointer(&format!("/metadata/annotations/{}", key.replace('/', "~1"))).and_then(Value::as_str)
}

/// The GitOps controller that owns `deployment`, if its labels or annotations name one.
pub fn gitops(deployment: &Value) -> Option<GitOps> {
    for (kind, prefix) in
        [("Kustomization", "kustomize.toolkit.fluxcd.io"), ("HelmRelease", "helm.toolkit.fluxcd.io")]
    {
        if let Some(name) = label(deployment, &format!("{prefix}/name")) {
            let namespace = label(deployment, &format!("{prefix}/namespace")).unwrap_or("flux-system");
            return Some(GitOps::Flux { kind, name: name.to_owned(), namespace: namespace.to_owned() });
        }
    }
    let argo = label(deployment, "argocd.argoproj.io/instance").map(str::to_owned).or_else(|| {
        // "<app>:<group>/<kind>:<namespace>/<name>"
        annotation(deployment, "argocd.argoproj.io/tracking-id")
            .and_then(|t| t.split(':').next())
            .map(str::to_owned)
    });
    argo.map(|application| GitOps::ArgoCd { application })
}

impl GitOps {
    /// What the operator must know before rolling back.
    pub fn warning(&self) -> String {
        match self {
            Self::Flux { kind, name, namespace } => format!(
                "managed by Flux ({kind} {namespace}/{name}): its next sync puts the Git version back; suspend it first (opsdeck can, as its own confirmed operation) and fix Git"
            ),
            Self::ArgoCd { application } => format!(
                "managed by Argo CD (application {application}): with auto-sync on, it puts the Git version back; turn auto-sync off in Argo CD and fix Git"
            ),
        }
    }

    /// The Flux object, for suspending it; `None` for Argo CD.
    pub fn flux_target(&self, place: &Place<'_>) -> Option<Target> {
        let Self::Flux { kind, name, namespace } = self else { return None };
        Some(Target {
            env: place.env.to_owned(),
            context: place.context.to_owned(),
            namespace: namespace.clone(),
            kind: if *kind == "HelmRelease" { Kind::HelmRelease } else { Kind::Kustomization },
            name: name.clone(),
        })
    }
}

/// Suspends a Flux Kustomization or HelmRelease (`spec.suspend: true`) so a direct rollback
/// holds until Git is fixed: its own operation, confirmed and audited.
pub fn suspend(place: &Place<'_>, target: Target, object: &Value) -> Result<Plan, PlanError> {
    let rv = object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|rv| !rv.is_empty())
        .ok_or_else(|| {
            PlanError::Invalid(format!("{} {} has no resourceVersion", target.kind.name(), target.name))
        })?;
    let suspended = object.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false);
    if suspended {
        return Err(PlanError::Refused(format!(
            "{} {}/{} is already suspended",
            target.kind.name(),
            target.namespace,
            target.name
        )));
    }
    let step = Step {
        app: place.app.to_owned(),
        sentence: format!(
            "{} · {}/{} · suspend Flux {} (spec.suspend false → true): it stops applying Git until resumed",
            place.env,
            target.namespace,
            target.name,
            target.kind.name()
        ),
        diff: vec![DiffLine { field: "spec.suspend".into(), before: "false".into(), after: "true".into() }],
        patch: PatchBody::Merge(json!({"spec": {"suspend": true}})),
        // Suspended is what stops Flux: its controller need never observe this generation.
        verify: Verify::Stored { pointer: "/spec/suspend".into(), value: json!(true) },
        guards: vec![Guard::new(
            "/spec/suspend",
            object.pointer("/spec/suspend").cloned().unwrap_or(Value::Null),
        )],
        via: crate::ops::Via::Object,
        event_reason: "OpsdeckSuspend",
        from_resource_version: rv.to_owned(),
        target,
    };
    Ok(Plan::for_app(Operation::SuspendGitOps, place, vec![step]))
}
