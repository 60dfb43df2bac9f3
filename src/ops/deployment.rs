//! Plans for an app's Deployment: restart, pause and resume, with kubectl's semantics
//! (`kubectl rollout restart|pause|resume`).

use serde_json::{Value, json};

use super::plan::{DiffLine, Kind, Operation, PatchBody, Plan, PlanError, Step, Target, Verify};
use crate::config::Protection;

const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Where the plan is for, besides the object itself.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    pub env: &'a str,
    pub context: &'a str,
    pub app: &'a str,
    pub protection: Protection,
}

/// The Deployment as a step's target, and the resourceVersion its plan is computed from.
pub(super) fn target(place: &Place<'_>, deployment: &Value) -> Result<(Target, String), PlanError> {
    let meta = |f: &str| deployment.pointer(&format!("/metadata/{f}")).and_then(Value::as_str);
    let name = meta("name").ok_or_else(|| PlanError::Invalid("the Deployment has no name".into()))?;
    let namespace = meta("namespace").unwrap_or("default");
    let rv = meta("resourceVersion")
        .filter(|rv| !rv.is_empty())
        .ok_or_else(|| PlanError::Invalid(format!("Deployment {namespace}/{name} has no resourceVersion")))?;
    let target = Target {
        env: place.env.to_owned(),
        context: place.context.to_owned(),
        namespace: namespace.to_owned(),
        kind: Kind::Deployment,
        name: name.to_owned(),
    };
    Ok((target, rv.to_owned()))
}

fn paused(deployment: &Value) -> bool {
    deployment.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false)
}

fn plan(place: &Place<'_>, operation: Operation, step: Step) -> Plan {
    Plan::for_app(operation, place, vec![step])
}

/// Replaces every pod, one by one within the rollout strategy, by stamping the pod template.
/// `now` is the stamp (RFC 3339).
pub fn restart(place: &Place<'_>, deployment: &Value, now: &str) -> Result<Plan, PlanError> {
    let (target, rv) = target(place, deployment)?;
    if paused(deployment) {
        return Err(PlanError::Refused(format!(
            "{}/{} is paused: resume it first (a paused Deployment does not roll out)",
            target.namespace, target.name
        )));
    }
    let before = deployment
        .pointer("/spec/template/metadata/annotations")
        .and_then(|a| a.get(RESTARTED_AT))
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_owned();
    let replicas = deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let strategy = strategy_words(deployment);
    let step = Step {
        app: place.app.to_owned(),
        guards: Vec::new(),
        sentence: format!(
            "{} · {}/{} · restart {replicas} pods ({strategy})",
            place.env, target.namespace, target.name
        ),
        diff: vec![DiffLine {
            field: format!("spec.template.metadata.annotations[{RESTARTED_AT}]"),
            before,
            after: now.to_owned(),
        }],
        patch: PatchBody::Strategic(
            json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}),
        ),
        verify: Verify::RolloutComplete,
        via: crate::ops::Via::Object,
        event_reason: "OpsdeckRestart",
        from_resource_version: rv,
        target,
    };
    Ok(plan(place, Operation::Restart, step))
}

fn strategy_words(deployment: &Value) -> String {
    if deployment.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
        return "Recreate: all pods stop before new ones start".to_owned();
    }
    let field = |f: &str| {
        deployment
            .pointer(&format!("/spec/strategy/rollingUpdate/{f}"))
            .map_or_else(|| "25%".to_owned(), |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    format!("rolling: maxSurge {}, maxUnavailable {}", field("maxSurge"), field("maxUnavailable"))
}

fn set_paused(place: &Place<'_>, deployment: &Value, to: bool) -> Result<Plan, PlanError> {
    let (target, rv) = target(place, deployment)?;
    if paused(deployment) == to {
        let state = if to { "already paused" } else { "not paused" };
        return Err(PlanError::Refused(format!("{}/{} is {state}", target.namespace, target.name)));
    }
    let (operation, reason) =
        if to { (Operation::Pause, "OpsdeckPause") } else { (Operation::Resume, "OpsdeckResume") };
    let step = Step {
        app: place.app.to_owned(),
        guards: Vec::new(),
        sentence: format!("{} · {}/{} · paused {} → {to}", place.env, target.namespace, target.name, !to),
        diff: vec![DiffLine {
            field: "spec.paused".into(),
            before: (!to).to_string(),
            after: to.to_string(),
        }],
        patch: PatchBody::Strategic(json!({"spec": {"paused": to}})),
        verify: Verify::Field { pointer: "/spec/paused".into(), value: json!(to) },
        via: crate::ops::Via::Object,
        event_reason: reason,
        from_resource_version: rv,
        target,
    };
    Ok(plan(place, operation, step))
}

/// Stops the Deployment from rolling out template changes until resumed.
pub fn pause(place: &Place<'_>, deployment: &Value) -> Result<Plan, PlanError> {
    set_paused(place, deployment, true)
}

pub fn resume(place: &Place<'_>, deployment: &Value) -> Result<Plan, PlanError> {
    set_paused(place, deployment, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place<'static> {
        Place { env: "production", context: "prod", app: "web", protection: Protection::Typed }
    }

    fn web(paused: bool) -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "1234"},
            "spec": {"replicas": 3, "paused": paused, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}},
        })
    }

    #[test]
    fn restart_stamps_the_template_from_the_seen_version() {
        let plan = restart(&place(), &web(false), "2026-11-21T10:00:00Z").expect("plan");
        let step = &plan.steps[0];
        assert_eq!(step.from_resource_version, "1234");
        assert_eq!(
            step.sentence,
            "production · shop/web · restart 3 pods (rolling: maxSurge 1, maxUnavailable 0)"
        );
        assert_eq!(
            step.patch.with_precondition("1234").to_value(),
            json!({"metadata": {"resourceVersion": "1234"}, "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2026-11-21T10:00:00Z"}}}}})
        );
        assert_eq!(step.diff[0].before, "<none>");
        assert_eq!(plan.typed_name(), "production/web");
    }

    #[test]
    fn restart_of_a_paused_deployment_is_refused_as_kubectl_does() {
        assert!(
            matches!(restart(&place(), &web(true), "t"), Err(PlanError::Refused(m)) if m.contains("resume it first"))
        );
    }

    #[test]
    fn pause_and_resume_only_change_what_needs_changing() {
        let plan = pause(&place(), &web(false)).expect("pause");
        assert_eq!(plan.steps[0].sentence, "production · shop/web · paused false → true");
        assert_eq!(
            plan.steps[0].verify,
            Verify::Field { pointer: "/spec/paused".into(), value: json!(true) }
        );
        assert!(
            matches!(pause(&place(), &web(true)), Err(PlanError::Refused(m)) if m.contains("already paused"))
        );
        assert!(
            matches!(resume(&place(), &web(false)), Err(PlanError::Refused(m)) if m.contains("not paused"))
        );
        assert_eq!(resume(&place(), &web(true)).expect("resume").operation, Operation::Resume);
    }

    #[test]
    fn an_object_without_a_resource_version_cannot_be_planned() {
        let mut d = web(false);
        d["metadata"]["resourceVersion"] = json!("");
        assert!(matches!(pause(&place(), &d), Err(PlanError::Invalid(_))));
    }
}
