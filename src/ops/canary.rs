//! Canary plans: read the live weight from the object that carries it, and plan a new weight,
//! an abort or a promotion. Pure: the objects come in as JSON, plans go out.
//!
//! Each traffic provider is a [`TrafficProvider`]: `nginx-ingress` (the canary Ingress's
//! `canary-weight` annotation), `gateway-api` (the HTTPRoute's backendRef weights, stable and
//! canary summing to the route's total) and `replicas` (the ratio of the two Deployments'
//! replicas: approximate by nature, for clusters without a traffic router) and
//! `service-selector` (blue-green: a Service selecting one of two colours, see [`blue_green`]).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::deployment::Place;
use super::plan::{
    DiffLine, Guard, Kind, Operation, PatchBody, Plan, PlanError, Scope, Step, Target, Verify,
};
use super::request::CanaryRequest;
use crate::config::{CanaryTarget, Protection};

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const CANARY_WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";

/// The objects a canary plan reads: the two Deployments and, for a traffic router, its object.
#[derive(Debug, Clone, Copy)]
pub struct Objects<'a> {
    pub stable: &'a Value,
    pub canary: &'a Value,
    /// The canary Ingress, the HTTPRoute or the blue-green Service; `None` for the replicas
    /// provider.
    pub router: Option<&'a Value>,
}

/// The live weight, in percent of traffic to the canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight {
    pub percent: u32,
    /// True for the replicas provider: a pod ratio, not routed traffic.
    pub approximate: bool,
}

/// One way of splitting traffic between the stable and the canary Deployment.
/// Its name, and whether the weight is approximate, are the config's
/// ([`CanaryTarget::provider_name`], [`CanaryTarget::approximate`]).
pub trait TrafficProvider {
    /// The object that carries the weight besides the Deployments, for fetching it.
    fn router(&self, place: &Place<'_>, namespace: &str) -> Option<Target>;

    /// The weight the live objects carry, in percent.
    fn read_weight(&self, objects: &Objects<'_>) -> Result<u32, PlanError>;

    /// The writes that move the canary from `current` to `weight` percent, in an order that
    /// never sends traffic to pods that are not there.
    fn weight_steps(
        &self,
        place: &Place<'_>,
        objects: &Objects<'_>,
        current: u32,
        weight: u32,
    ) -> Result<Vec<Step>, PlanError>;
}

/// The provider a config entry names.
pub fn provider(target: &CanaryTarget) -> Box<dyn TrafficProvider + '_> {
    match target {
        CanaryTarget::NginxIngress { ingress, .. } => Box::new(NginxIngress { ingress }),
        CanaryTarget::GatewayApi { route, stable_service, canary_service, .. } => {
            Box::new(GatewayApi { route, stable_service, canary_service })
        }
        CanaryTarget::Replicas { .. } => Box::new(ReplicaRatio),
        CanaryTarget::ServiceSelector { service, label, scale_old_to, .. } => {
            Box::new(blue_green::ServiceSelector { service, label, scale_old_to: *scale_old_to })
        }
    }
}

pub use blue_green::order as blue_green_roles;

/// Where the router object is, for fetching it; `None` for the replicas provider.
pub fn router_target(place: &Place<'_>, namespace: &str, target: &CanaryTarget) -> Option<Target> {
    provider(target).router(place, namespace)
}

/// The weight the provider's objects carry now.
pub fn read_weight(target: &CanaryTarget, objects: &Objects<'_>) -> Result<Weight, PlanError> {
    Ok(Weight { percent: provider(target).read_weight(objects)?, approximate: target.approximate() })
}

/// The canary Ingress of `nginx-ingress`: the weight is an annotation, and an Ingress not
/// marked canary sends nothing.
struct NginxIngress<'a> {
    ingress: &'a str,
}

impl TrafficProvider for NginxIngress<'_> {
    fn router(&self, place: &Place<'_>, namespace: &str) -> Option<Target> {
        Some(place.target(namespace, Kind::Ingress, self.ingress))
    }

    fn read_weight(&self, objects: &Objects<'_>) -> Result<u32, PlanError> {
        let annotations = router(objects)?.pointer("/metadata/annotations");
        let enabled = annotations.and_then(|a| a.get(CANARY)).and_then(Value::as_str) == Some("true");
        let Some(weight) = annotations.and_then(|a| a.get(CANARY_WEIGHT)).and_then(Value::as_str) else {
            return Ok(0);
        };
        let percent = weight.trim().parse::<u32>().ok().filter(|w| *w <= 100).ok_or_else(|| {
            PlanError::Invalid(format!("Ingress {}: canary-weight {weight:?} is not 0-100", self.ingress))
        })?;
        Ok(if enabled { percent } else { 0 })
    }

    fn weight_steps(
        &self,
        place: &Place<'_>,
        objects: &Objects<'_>,
        current: u32,
        weight: u32,
    ) -> Result<Vec<Step>, PlanError> {
        let ingress = router(objects)?;
        let (target, rv) = target_of(place, Kind::Ingress, ingress)?;
        let pointer = |key: &str| format!("/metadata/annotations/{}", key.replace('/', "~1"));
        let seen = |key: &str| ingress.pointer(&pointer(key)).cloned().unwrap_or(Value::Null);
        Ok(vec![Step {
            app: place.app.to_owned(),
            sentence: format!(
                "{} · {}/{} · canary weight {current}% → {weight}%",
                place.env, target.namespace, target.name
            ),
            diff: vec![DiffLine {
                field: format!("metadata.annotations[{CANARY_WEIGHT}]"),
                before: current.to_string(),
                after: weight.to_string(),
            }],
            patch: PatchBody::Merge(json!({"metadata": {"annotations": {
                CANARY: "true",
                CANARY_WEIGHT: weight.to_string(),
            }}})),
            verify: Verify::Field { pointer: pointer(CANARY_WEIGHT), value: json!(weight.to_string()) },
            guards: vec![
                Guard::new(pointer(CANARY), seen(CANARY)),
                Guard::new(pointer(CANARY_WEIGHT), seen(CANARY_WEIGHT)),
            ],
            via: crate::ops::Via::Object,
            event_reason: "OpsdeckCanaryWeight",
            from_resource_version: rv,
            target,
        }])
    }
}

/// An HTTPRoute of `gateway-api`: the canary's share of the stable and canary backendRefs.
struct GatewayApi<'a> {
    route: &'a str,
    stable_service: &'a str,
    canary_service: &'a str,
}

/// Where a Service's backendRef sits in a route, and its weight (1 when unset).
#[derive(Debug, Clone, Copy)]
struct BackendRef {
    rule: usize,
    index: usize,
    weight: i64,
}

impl BackendRef {
    fn pointer(self, field: &str) -> String {
        format!("/spec/rules/{}/backendRefs/{}/{field}", self.rule, self.index)
    }
}

impl GatewayApi<'_> {
    /// The stable and canary backendRefs.
    fn refs(&self, route: &Value) -> Result<[BackendRef; 2], PlanError> {
        let rules =
            route.pointer("/spec/rules").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let find = |service: &str| {
            rules.iter().enumerate().find_map(|(rule, r)| {
                r.get("backendRefs")?.as_array()?.iter().enumerate().find_map(|(index, backend)| {
                    (backend.get("name").and_then(Value::as_str) == Some(service)).then(|| BackendRef {
                        rule,
                        index,
                        weight: backend.get("weight").and_then(Value::as_i64).unwrap_or(1),
                    })
                })
            })
        };
        let missing = |s: &str| {
            PlanError::Invalid(format!("HTTPRoute {} has no backendRef to Service {s}", self.route))
        };
        Ok([
            find(self.stable_service).ok_or_else(|| missing(self.stable_service))?,
            find(self.canary_service).ok_or_else(|| missing(self.canary_service))?,
        ])
    }
}

impl TrafficProvider for GatewayApi<'_> {
    fn router(&self, place: &Place<'_>, namespace: &str) -> Option<Target> {
        Some(place.target(namespace, Kind::HttpRoute, self.route))
    }

    fn read_weight(&self, objects: &Objects<'_>) -> Result<u32, PlanError> {
        let [stable, canary] = self.refs(router(objects)?)?;
        Ok(percent(canary.weight, stable.weight + canary.weight))
    }

    fn weight_steps(
        &self,
        place: &Place<'_>,
        objects: &Objects<'_>,
        current: u32,
        weight: u32,
    ) -> Result<Vec<Step>, PlanError> {
        let route = router(objects)?;
        let (target, rv) = target_of(place, Kind::HttpRoute, route)?;
        let [stable, canary] = self.refs(route)?;
        // Keep the route's own total (often 100, sometimes 1000): the weights are relative.
        let total = if stable.weight + canary.weight > 0 { stable.weight + canary.weight } else { 100 };
        let to_canary = (total * i64::from(weight) + 50) / 100;
        let to_stable = total - to_canary;
        let (s, c) = (self.stable_service, self.canary_service);
        Ok(vec![Step {
            app: place.app.to_owned(),
            sentence: format!(
                "{} · {}/{} · canary weight {current}% → {weight}% ({s} {} → {to_stable}, {c} {} → {to_canary})",
                place.env, target.namespace, target.name, stable.weight, canary.weight
            ),
            diff: vec![
                DiffLine {
                    field: format!("backendRefs[{s}].weight"),
                    before: stable.weight.to_string(),
                    after: to_stable.to_string(),
                },
                DiffLine {
                    field: format!("backendRefs[{c}].weight"),
                    before: canary.weight.to_string(),
                    after: to_canary.to_string(),
                },
            ],
            // A JSON patch by index, guarded by the precondition: the rules cannot have moved
            // under it.
            patch: PatchBody::Json(vec![
                json!({"op": "replace", "path": stable.pointer("weight"), "value": to_stable}),
                json!({"op": "replace", "path": canary.pointer("weight"), "value": to_canary}),
            ]),
            verify: Verify::Field { pointer: canary.pointer("weight"), value: json!(to_canary) },
            guards: vec![
                Guard::new(stable.pointer("name"), json!(s)),
                Guard::new(canary.pointer("name"), json!(c)),
                Guard::new(stable.pointer("weight"), json!(stable.weight)),
                Guard::new(canary.pointer("weight"), json!(canary.weight)),
            ],
            via: crate::ops::Via::Object,
            event_reason: "OpsdeckCanaryWeight",
            from_resource_version: rv,
            target,
        }])
    }
}

/// `replicas`: the canary's share of the two Deployments' replicas. Steps rescale them within
/// their current total, growing one side before shrinking the other, so the pods that serve
/// now keep serving until their replacements are ready.
struct ReplicaRatio;

impl TrafficProvider for ReplicaRatio {
    fn router(&self, _: &Place<'_>, _: &str) -> Option<Target> {
        None
    }

    fn read_weight(&self, objects: &Objects<'_>) -> Result<u32, PlanError> {
        let (stable, canary) = (replicas(objects.stable), replicas(objects.canary));
        Ok(percent(canary, stable + canary))
    }

    fn weight_steps(
        &self,
        place: &Place<'_>,
        objects: &Objects<'_>,
        _current: u32,
        weight: u32,
    ) -> Result<Vec<Step>, PlanError> {
        let total = (replicas(objects.stable) + replicas(objects.canary)).max(1);
        let mut canary = (total * i64::from(weight) + 50) / 100;
        // Any weight above 0 needs a canary pod, and any below 100 a stable one.
        if weight > 0 {
            canary = canary.max(1);
        }
        if weight < 100 && total > 1 {
            canary = canary.min(total - 1);
        }
        let stable = total - canary;
        let up = scale_step(place, objects.canary, canary, &format!("≈{weight}% of pods"))?;
        let down = scale_step(place, objects.stable, stable, "the rest")?;
        let (first, second) = if canary > replicas(objects.canary) { (up, down) } else { (down, up) };
        Ok([first, second].into_iter().filter(|s| s.diff.iter().any(|d| d.before != d.after)).collect())
    }
}

impl Place<'_> {
    fn target(&self, namespace: &str, kind: Kind, name: &str) -> Target {
        Target {
            env: self.env.to_owned(),
            context: self.context.to_owned(),
            namespace: namespace.to_owned(),
            kind,
            name: name.to_owned(),
        }
    }
}

fn router<'a>(objects: &Objects<'a>) -> Result<&'a Value, PlanError> {
    objects.router.ok_or_else(|| PlanError::Invalid("the traffic router object was not read".into()))
}

/// `part` of `total` in whole percent, rounded; 0 of nothing.
fn percent(part: i64, total: i64) -> u32 {
    if total <= 0 { 0 } else { u32::try_from((part * 100 + total / 2) / total).unwrap_or(0) }
}

fn meta<'v>(object: &'v Value, field: &str) -> Option<&'v str> {
    object.pointer(&format!("/metadata/{field}")).and_then(Value::as_str)
}

fn target_of(place: &Place<'_>, kind: Kind, object: &Value) -> Result<(Target, String), PlanError> {
    let name =
        meta(object, "name").ok_or_else(|| PlanError::Invalid(format!("the {} has no name", kind.name())))?;
    let namespace = meta(object, "namespace").unwrap_or("default");
    let rv = meta(object, "resourceVersion").filter(|rv| !rv.is_empty()).ok_or_else(|| {
        PlanError::Invalid(format!("{} {namespace}/{name} has no resourceVersion", kind.name()))
    })?;
    Ok((place.target(namespace, kind, name), rv.to_owned()))
}

fn replicas(deployment: &Value) -> i64 {
    deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

/// A step that scales a Deployment to `to` replicas.
fn scale_step(place: &Place<'_>, deployment: &Value, to: i64, why: &str) -> Result<Step, PlanError> {
    let (target, rv) = target_of(place, Kind::Deployment, deployment)?;
    let from = replicas(deployment);
    Ok(Step {
        app: place.app.to_owned(),
        sentence: format!(
            "{} · {}/{} · replicas {from} → {to} ({why})",
            place.env, target.namespace, target.name
        ),
        diff: vec![DiffLine {
            field: "spec.replicas".into(),
            before: from.to_string(),
            after: to.to_string(),
        }],
        patch: PatchBody::Merge(json!({"spec": {"replicas": to}})),
        verify: if to == 0 {
            Verify::Field { pointer: "/spec/replicas".into(), value: json!(0) }
        } else {
            Verify::RolloutComplete
        },
        guards: vec![Guard::new("/spec/replicas", json!(from))],
        via: crate::ops::Via::Object,
        event_reason: "OpsdeckCanaryScale",
        from_resource_version: rv,
        target,
    })
}

/// The next step above `current`, or `None` at the top.
pub fn step_up(steps: &[u8], current: u32) -> Option<u32> {
    steps.iter().map(|s| u32::from(*s)).find(|s| *s > current)
}

/// The step below `current` (0 below the first step), or `None` at 0.
pub fn step_down(steps: &[u8], current: u32) -> Option<u32> {
    if current == 0 {
        return None;
    }
    Some(steps.iter().rev().map(|s| u32::from(*s)).find(|s| *s < current).unwrap_or(0))
}

/// Plans the canary at `weight` percent.
pub fn set_weight(
    place: &Place<'_>,
    operation: Operation,
    target: &CanaryTarget,
    objects: &Objects<'_>,
    weight: u32,
) -> Result<Plan, PlanError> {
    if weight > 100 {
        return Err(PlanError::Invalid(format!("weight {weight} is not 0-100")));
    }
    let provider = provider(target);
    let current = provider.read_weight(objects)?;
    if current == weight {
        return Err(PlanError::Refused(format!(
            "{}/{} canary is already at {weight}%",
            place.env, place.app
        )));
    }
    if weight > 0 && target.has_router() && replicas(objects.canary) == 0 {
        return Err(PlanError::Refused(format!(
            "the canary Deployment {} has 0 replicas: traffic would go to no pods; scale it up first",
            meta(objects.canary, "name").unwrap_or("?")
        )));
    }
    let steps = provider.weight_steps(place, objects, current, weight)?;
    Ok(Plan::for_app(operation, place, steps))
}

/// The stable Deployment's pod template after promotion: the canary's, with stable's own
/// labels, so stable's selector keeps matching its pods and the canary's Service never
/// selects them.
fn promoted_template(objects: &Objects<'_>) -> Result<Value, PlanError> {
    let mut template = objects
        .canary
        .pointer("/spec/template")
        .cloned()
        .ok_or_else(|| PlanError::Invalid("the canary Deployment has no pod template".into()))?;
    if let (Some(labels), Some(Value::Object(metadata))) =
        (objects.stable.pointer("/spec/template/metadata/labels").cloned(), template.pointer_mut("/metadata"))
    {
        metadata.insert("labels".into(), labels);
    }
    Ok(template)
}

fn first_image(deployment: &Value) -> String {
    deployment
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

/// Promotion, in the order that never sends traffic to pods that are not ready: the stable
/// Deployment takes the canary's pod template and rolls out completely; then the weight goes
/// back to 0; then the canary is scaled to 0. With the replicas provider, stable also takes
/// back the canary's share of the replicas as it rolls out, before the canary scales down.
pub fn promote(place: &Place<'_>, target: &CanaryTarget, objects: &Objects<'_>) -> Result<Plan, PlanError> {
    if let CanaryTarget::ServiceSelector { service, label, scale_old_to, .. } = target {
        let provider = blue_green::ServiceSelector { service, label, scale_old_to: *scale_old_to };
        return blue_green::promote(&provider, place, objects);
    }
    let provider = provider(target);
    let current = provider.read_weight(objects)?;
    let (stable_target, stable_rv) = target_of(place, Kind::Deployment, objects.stable)?;
    let template = promoted_template(objects)?;
    let has_router = target.has_router();
    let total = replicas(objects.stable) + replicas(objects.canary);
    let stable_replicas = if has_router { replicas(objects.stable) } else { total };

    let mut steps = Vec::new();
    let same_template = objects.stable.pointer("/spec/template") == Some(&template);
    if !same_template || stable_replicas != replicas(objects.stable) {
        let (from, to) = (first_image(objects.stable), first_image(objects.canary));
        let mut diff = vec![DiffLine {
            field: "spec.template (containers[0].image)".into(),
            before: from.clone(),
            after: to.clone(),
        }];
        let mut patch = vec![json!({"op": "replace", "path": "/spec/template", "value": template})];
        let mut sentence = format!(
            "{} · {}/{} · takes the canary's pod template ({from} → {to}) and rolls out",
            place.env, stable_target.namespace, stable_target.name
        );
        if stable_replicas != replicas(objects.stable) {
            diff.push(DiffLine {
                field: "spec.replicas".into(),
                before: replicas(objects.stable).to_string(),
                after: stable_replicas.to_string(),
            });
            patch.push(json!({"op": "replace", "path": "/spec/replicas", "value": stable_replicas}));
            let _ = write!(sentence, " at {stable_replicas} replicas");
        }
        steps.push(Step {
            app: place.app.to_owned(),
            sentence,
            diff,
            patch: PatchBody::Json(patch),
            verify: Verify::RolloutComplete,
            guards: Vec::new(),
            via: crate::ops::Via::Object,
            event_reason: "OpsdeckCanaryPromote",
            from_resource_version: stable_rv,
            target: stable_target,
        });
    }
    if has_router && current != 0 {
        steps.extend(provider.weight_steps(place, objects, current, 0)?);
    }
    if replicas(objects.canary) != 0 {
        let mut scale = scale_step(place, objects.canary, 0, "promoted")?;
        scale.event_reason = "OpsdeckCanaryPromote";
        steps.push(scale);
    }
    if steps.is_empty() {
        return Err(PlanError::Refused(format!(
            "{}/{}: nothing to promote: stable already runs the canary's template, and the canary takes no traffic and has no pods",
            place.env, place.app
        )));
    }
    Ok(Plan::for_app(Operation::CanaryPromote, place, steps))
}

/// Whether `request` would send the canary more traffic than `current` percent: stepping up,
/// a higher exact weight, or promotion (all of it).
pub fn raises(request: CanaryRequest, current: u32) -> bool {
    match request {
        CanaryRequest::Step | CanaryRequest::Promote => true,
        CanaryRequest::Set(weight) => weight > current,
        CanaryRequest::Back | CanaryRequest::Abort => false,
    }
}

/// The kill switch: the abort plans of every active canary as one plan, confirmed once with
/// the strictest protection among them, each step still audited on its own.
pub fn kill_switch(aborts: Vec<Plan>) -> Option<Plan> {
    if aborts.is_empty() {
        return None;
    }
    let protection = aborts.iter().map(|p| p.protection).max().unwrap_or(Protection::Typed);
    let steps = aborts.into_iter().flat_map(|p| p.steps).collect();
    Some(Plan {
        operation: Operation::CanaryAbort,
        env: "all".into(),
        app: "canaries".into(),
        protection,
        steps,
        scope: Scope::Fleet,
        warnings: Vec::new(),
        headline: None,
    })
}

mod blue_green;
#[cfg(test)]
mod tests;
