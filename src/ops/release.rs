//! The two ends of a release, as plans: starting a canary with a new version, and setting a
//! stable Deployment's image (a promotion into an environment without a canary, as `kubectl
//! set image` and `rollout status` do). Pure: objects come in as JSON, plans go out.

use serde_json::{Value, json};

use super::canary::{Objects, TrafficProvider, provider, read_weight};
use super::deployment::Place;
use super::plan::{DiffLine, Guard, Kind, Operation, PatchBody, Plan, PlanError, Step, Target, Verify};
use crate::config::CanaryTarget;

const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// The image with its tag replaced: `registry/shop/web:v1.2.0` with `v1.3.0` is
/// `registry/shop/web:v1.3.0`; a digest-pinned image loses its digest.
pub fn retag(image: &str, tag: &str) -> String {
    let name = image.split_once('@').map_or(image, |(name, _)| name);
    // A registry host may carry a port ("registry:5000/web"): only the last segment has a tag.
    let (path, last) = name.rsplit_once('/').map_or(("", name), |(p, l)| (p, l));
    let repo = last.split_once(':').map_or(last, |(repo, _)| repo);
    if path.is_empty() { format!("{repo}:{tag}") } else { format!("{path}/{repo}:{tag}") }
}

/// Whether an image reference names no fixed version: `:latest`, or no tag and no digest.
pub fn is_mutable(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => tag.is_empty() || tag == "latest",
        None => true,
    }
}

/// An image fixed to what it is: itself when it names a version, else the digest its running
/// pods report (`docker-pullable://repo@sha256:…` or `repo@sha256:…` in `imageID`), or why it
/// cannot be pinned.
pub fn pinned(image: &str, image_ids: &[String]) -> Result<String, String> {
    if !is_mutable(image) {
        return Ok(image.to_owned());
    }
    let name = image.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map_or(image, |(n, _)| n);
    let digest = image_ids
        .iter()
        .find_map(|id| id.rsplit_once('@').map(|(_, d)| d.to_owned()).filter(|d| d.starts_with("sha256:")));
    match digest {
        Some(digest) => Ok(format!("{name}@{digest}")),
        None => Err(format!(
            "{image} is a mutable tag and its pods report no digest to pin it by: promote a pinned version (a tag or a digest)"
        )),
    }
}

fn first_image(deployment: &Value) -> Option<&str> {
    deployment.pointer("/spec/template/spec/containers/0/image").and_then(Value::as_str)
}

fn replicas(deployment: &Value) -> i64 {
    deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

fn target_of(place: &Place<'_>, deployment: &Value) -> Result<(Target, String), PlanError> {
    super::deployment::target(place, deployment)
}

/// Starts a canary with `image`: the canary Deployment takes the stable Deployment's pod
/// template (keeping its own labels, so its selector and Service keep matching) with the new
/// image, at `replicas`, and only once its rollout is complete — every pod ready — does the
/// traffic go to `first_step`. A canary that takes traffic now is refused: stepping or
/// aborting it is the operator's call, not a side effect of starting another.
///
/// A blue-green starts the idle colour at the live colour's size ("two identical
/// environments") and stops there: the guide tests green before it switches (seed 004), so
/// the switch stays the operator's one step.
pub fn start(
    place: &Place<'_>,
    target: &CanaryTarget,
    objects: &Objects<'_>,
    image: &str,
    replicas_wanted: i64,
    first_step: u32,
) -> Result<Plan, PlanError> {
    let current = read_weight(target, objects)?.percent;
    if current > 0 {
        return Err(PlanError::Refused(format!(
            "{}/{} canary already takes {current}% of traffic: abort or promote it before starting another",
            place.env, place.app
        )));
    }
    let (canary_target, canary_rv) = target_of(place, objects.canary)?;
    let mut template = objects
        .stable
        .pointer("/spec/template")
        .cloned()
        .ok_or_else(|| PlanError::Invalid("the stable Deployment has no pod template".into()))?;
    if let (Some(labels), Some(Value::Object(metadata))) =
        (objects.canary.pointer("/spec/template/metadata/labels").cloned(), template.pointer_mut("/metadata"))
    {
        metadata.insert("labels".into(), labels);
    }
    let container = template
        .pointer_mut("/spec/containers/0/image")
        .ok_or_else(|| PlanError::Invalid("the stable Deployment's template has no container".into()))?;
    *container = json!(image);
    // The replica-ratio provider's traffic is the canary's replicas: they come with the step.
    let replicas_now = replicas(objects.canary);
    let to = if target.is_blue_green() {
        replicas(objects.stable).max(1)
    } else if target.has_router() {
        replicas_wanted.max(1)
    } else {
        replicas_now
    };
    let before = first_image(objects.canary).unwrap_or("—").to_owned();
    let mut diff = vec![DiffLine {
        field: "spec.template (containers[0].image)".into(),
        before: before.clone(),
        after: image.to_owned(),
    }];
    let mut patch = vec![json!({"op": "replace", "path": "/spec/template", "value": template})];
    if to != replicas_now {
        diff.push(DiffLine {
            field: "spec.replicas".into(),
            before: replicas_now.to_string(),
            after: to.to_string(),
        });
        patch.push(json!({"op": "replace", "path": "/spec/replicas", "value": to}));
    }
    let mut steps = vec![Step {
        app: place.app.to_owned(),
        sentence: format!(
            "{} · {}/{} · takes stable's template with {image} ({to} replicas) and rolls out",
            place.env, canary_target.namespace, canary_target.name
        ),
        diff,
        patch: PatchBody::Json(patch),
        verify: Verify::RolloutComplete,
        guards: Vec::new(),
        via: crate::ops::Via::Object,
        event_reason: "OpsdeckCanaryStart",
        from_resource_version: canary_rv,
        target: canary_target,
    }];
    if target.is_blue_green() {
        let mut plan = Plan::for_app(Operation::CanaryStart, place, steps);
        plan.warnings.push(
            "blue-green: the Service keeps selecting the live colour; once you have tried the new one, the switch is the one step (+)".into(),
        );
        return Ok(plan);
    }
    let provider: Box<dyn TrafficProvider + '_> = provider(target);
    let mut weight = provider.weight_steps(place, objects, 0, first_step)?;
    steps.append(&mut weight);
    Ok(Plan::for_app(Operation::CanaryStart, place, steps))
}

/// Sets the stable Deployment's first container to `image`, with the change-cause saying
/// why, and waits for the rollout: a promotion into an environment without a canary.
pub fn set_image(
    place: &Place<'_>,
    deployment: &Value,
    image: &str,
    change_cause: &str,
) -> Result<Plan, PlanError> {
    let (target, rv) = target_of(place, deployment)?;
    let before = first_image(deployment).ok_or_else(|| {
        PlanError::Invalid(format!("Deployment {}/{} has no container", target.namespace, target.name))
    })?;
    if before == image {
        return Err(PlanError::Refused(format!(
            "{}/{} already runs {image}: nothing to promote",
            place.env, place.app
        )));
    }
    let container = deployment
        .pointer("/spec/template/spec/containers/0/name")
        .and_then(Value::as_str)
        .unwrap_or(place.app)
        .to_owned();
    let cause_before = deployment
        .pointer(&format!("/metadata/annotations/{}", CHANGE_CAUSE.replace('/', "~1")))
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_owned();
    let step = Step {
        app: place.app.to_owned(),
        sentence: format!(
            "{} · {}/{} · image {before} → {image}, then the rollout",
            place.env, target.namespace, target.name
        ),
        diff: vec![
            DiffLine {
                field: format!("containers[{container}].image"),
                before: before.to_owned(),
                after: image.to_owned(),
            },
            DiffLine {
                field: format!("metadata.annotations[{CHANGE_CAUSE}]"),
                before: cause_before,
                after: change_cause.to_owned(),
            },
        ],
        // Containers merge by name: only this one's image changes.
        patch: PatchBody::Strategic(json!({
            "metadata": {"annotations": {CHANGE_CAUSE: change_cause}},
            "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}},
        })),
        verify: Verify::RolloutComplete,
        guards: vec![Guard::new("/spec/template/spec/containers/0/image", json!(before))],
        via: crate::ops::Via::Object,
        event_reason: "OpsdeckPromote",
        from_resource_version: rv,
        target,
    };
    Ok(Plan::for_app(Operation::Promote, place, vec![step]))
}

/// The step as written once the operator's reason is known: a promotion's change-cause says
/// why (`promote api v1.3.0 from staging by alice: release 1.3`), as `kubectl annotate` would
/// have it. Steps without a change-cause are returned as they are.
pub fn with_reason(step: &Step, reason: Option<&str>) -> Step {
    let mut step = step.clone();
    let (Some(reason), PatchBody::Strategic(patch)) = (reason, &mut step.patch) else { return step };
    if let Some(Value::String(cause)) =
        patch.pointer_mut(&format!("/metadata/annotations/{}", CHANGE_CAUSE.replace('/', "~1")))
    {
        *cause = format!("{cause}: {reason}");
        for line in &mut step.diff {
            if line.field.contains(CHANGE_CAUSE) {
                line.after.clone_from(cause);
            }
        }
    }
    step
}

/// The target of a write to a Deployment by name, beside the plan's own.
pub fn deployment_named(place: &Place<'_>, namespace: &str, name: &str) -> Target {
    Target {
        env: place.env.to_owned(),
        context: place.context.to_owned(),
        namespace: namespace.to_owned(),
        kind: Kind::Deployment,
        name: name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protection;

    fn place() -> Place<'static> {
        Place { env: "production", context: "p", app: "api", protection: Protection::Typed }
    }

    fn deployment(name: &str, image: &str, replicas: i64, track: &str) -> Value {
        json!({
            "metadata": {"name": name, "namespace": "shop", "resourceVersion": "7", "annotations": {}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "api", "track": track}},
                "template": {"metadata": {"labels": {"app": "api", "track": track}},
                    "spec": {"containers": [{"name": "api", "image": image, "env": [{"name": "MODE", "value": "live"}]}]}}},
        })
    }

    fn ingress(weight: &str) -> Value {
        json!({"metadata": {"name": "api-canary", "namespace": "shop", "resourceVersion": "41", "annotations": {
            "nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": weight}}})
    }

    fn nginx() -> CanaryTarget {
        CanaryTarget::NginxIngress { ingress: "api-canary".into(), canary_deployment: "api-canary".into() }
    }

    #[test]
    fn tags_are_replaced_and_mutable_ones_are_pinned_by_digest() {
        assert_eq!(
            retag("registry.example.com:5000/shop/api:v1.2.0", "v1.3.0"),
            "registry.example.com:5000/shop/api:v1.3.0"
        );
        assert_eq!(retag("api@sha256:abc", "v2"), "api:v2");
        assert!(
            is_mutable("shop/worker:latest") && is_mutable("shop/worker") && !is_mutable("shop/worker:v1")
        );
        assert!(!is_mutable("registry:5000/shop/worker@sha256:1"));
        let ids = vec!["docker-pullable://registry/shop/worker@sha256:feed".to_owned()];
        assert_eq!(
            pinned("registry/shop/worker:latest", &ids),
            Ok("registry/shop/worker@sha256:feed".into())
        );
        assert!(pinned("registry/shop/worker:latest", &[]).is_err_and(|e| e.contains("mutable tag")));
        assert_eq!(pinned("registry/shop/worker:v1.2.0", &[]), Ok("registry/shop/worker:v1.2.0".into()));
    }

    #[test]
    fn a_canary_starts_from_stables_template_and_takes_traffic_only_after_its_rollout() {
        let stable = deployment("api", "shop/api:v1.2.0", 3, "stable");
        let canary = deployment("api-canary", "shop/api:v1.1.9", 0, "canary");
        let router = ingress("0");
        let objects = Objects { stable: &stable, canary: &canary, router: Some(&router) };
        let plan = start(&place(), &nginx(), &objects, "shop/api:v1.3.0", 1, 10).expect("plan");
        assert_eq!(plan.operation, Operation::CanaryStart);
        assert_eq!(plan.steps.len(), 2, "the canary rolls out, then the traffic");
        let rollout = &plan.steps[0];
        assert_eq!(rollout.target.name, "api-canary");
        assert_eq!(rollout.verify, Verify::RolloutComplete, "every pod ready before the traffic");
        let PatchBody::Json(ops) = &rollout.patch else { panic!("a JSON patch") };
        let template = &ops[0]["value"];
        assert_eq!(template["metadata"]["labels"]["track"], "canary", "the canary keeps its own labels");
        assert_eq!(template["spec"]["containers"][0]["image"], "shop/api:v1.3.0");
        assert_eq!(
            template["spec"]["containers"][0]["env"][0]["value"], "live",
            "stable's template otherwise"
        );
        assert_eq!(ops[1], json!({"op": "replace", "path": "/spec/replicas", "value": 1}));
        assert_eq!(plan.steps[1].target.kind, Kind::Ingress);
        assert!(plan.steps[1].sentence.contains("0% → 10%"), "{}", plan.steps[1].sentence);

        let live = ingress("10");
        let busy = Objects { stable: &stable, canary: &canary, router: Some(&live) };
        assert!(matches!(start(&place(), &nginx(), &busy, "shop/api:v1.3.0", 1, 10),
            Err(PlanError::Refused(m)) if m.contains("already takes 10%")));
    }

    #[test]
    fn set_image_changes_one_container_and_says_why() {
        let stable = deployment("api", "shop/api:v1.2.0", 3, "stable");
        let plan =
            set_image(&place(), &stable, "shop/api:v1.3.0", "promote api v1.3.0 from staging by alice")
                .expect("plan");
        let step = &plan.steps[0];
        assert_eq!(step.verify, Verify::RolloutComplete);
        assert_eq!(
            step.patch.to_value()["spec"]["template"]["spec"]["containers"],
            json!([{"name": "api", "image": "shop/api:v1.3.0"}])
        );
        assert_eq!(
            step.patch.to_value()["metadata"]["annotations"][CHANGE_CAUSE],
            "promote api v1.3.0 from staging by alice"
        );
        assert!(
            matches!(set_image(&place(), &stable, "shop/api:v1.2.0", "x"), Err(PlanError::Refused(m)) if m.contains("already runs"))
        );
        let written = with_reason(step, Some("release 1.3"));
        assert_eq!(
            written.patch.to_value()["metadata"]["annotations"][CHANGE_CAUSE],
            "promote api v1.3.0 from staging by alice: release 1.3"
        );
    }
}
