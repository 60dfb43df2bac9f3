//! `service-selector`: blue-green as the deployment guide does it (seed 004): "Maintain two
//! identical environments, switch traffic between them" with `kubectl patch service my-app -p
//! '{"spec":{"selector":{"version":"green"}}}'`, and "if problems, switch back to blue
//! immediately". The objects come in ordered by role: `stable` is the colour the Service
//! records as stable, `canary` the other one ([`order`] says which is which). The weight is
//! 100 when the Service selects the canary colour, else 0.
//!
//! Each switch also writes the stable colour into the Service (`opsdeck.io/stable`): once
//! the Service selects the new colour, the selector alone could not say whether that was a
//! step to be aborted or a promotion already made.

use serde_json::{Value, json};

use super::{Objects, TrafficProvider, replicas, router, scale_step, target_of};
use crate::health::colours::{self, Roles, STABLE_ANNOTATION};
use crate::ops::deployment::Place;
use crate::ops::plan::{DiffLine, Guard, Kind, Operation, PatchBody, Plan, PlanError, Step, Target, Verify};

pub(super) struct ServiceSelector<'a> {
    pub service: &'a str,
    pub label: &'a str,
    pub scale_old_to: Option<u32>,
}

/// The Deployment's colour: its selector's value at the label, as the health model reads it.
fn colour<'v>(deployment: &'v Value, label: &str) -> Option<&'v str> {
    deployment.pointer("/spec/selector/matchLabels").and_then(|m| m.get(label)).and_then(Value::as_str)
}

fn selected<'v>(service: &'v Value, label: &str) -> Option<&'v str> {
    service.pointer("/spec/selector").and_then(|m| m.get(label)).and_then(Value::as_str)
}

fn recorded(service: &Value) -> Option<&str> {
    service.pointer("/metadata/annotations").and_then(|a| a.get(STABLE_ANNOTATION)).and_then(Value::as_str)
}

fn name(deployment: &Value) -> &str {
    deployment.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("?")
}

fn image_tag(deployment: &Value) -> String {
    deployment
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .map_or_else(|| "?".to_owned(), crate::health::image_tag)
}

/// The roles of the config's `deployment` (`first`) and `canary_deployment` (`second`) as the
/// Service says: swapped when `second` is the stable colour now.
pub fn order(service: &Value, label: &str, first: &Value, second: &Value) -> Result<Roles, PlanError> {
    colours::roles(selected(service, label), recorded(service), colour(first, label), colour(second, label))
        .map_err(|why| PlanError::Invalid(format!("blue-green: {why}")))
}

/// Every pod of the Deployment's current template is ready: what a colour must be before the
/// Service sends it everything.
fn all_ready(deployment: &Value) -> Result<(), String> {
    let field = |p: &str| deployment.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let want = replicas(deployment);
    let (ready, updated) = (field("/status/readyReplicas"), field("/status/updatedReplicas"));
    let observed = field("/status/observedGeneration") >= field("/metadata/generation");
    if want > 0 && observed && ready >= want && updated >= want {
        return Ok(());
    }
    Err(format!(
        "{}: {ready}/{want} pods ready{}: the Service switches to a colour only once every pod of it is ready",
        name(deployment),
        if observed && updated >= want { "" } else { ", rollout not finished" },
    ))
}

impl ServiceSelector<'_> {
    fn roles(&self, objects: &Objects<'_>) -> Result<Roles, PlanError> {
        let roles = order(router(objects)?, self.label, objects.stable, objects.canary)?;
        if roles.swapped {
            return Err(PlanError::Invalid("blue-green: the colours were read in the wrong roles".into()));
        }
        Ok(roles)
    }

    /// The one write of a switch: the selector to `to`'s colour, and the stable colour
    /// recorded as `stable`.
    fn switch(
        &self,
        place: &Place<'_>,
        objects: &Objects<'_>,
        to: &Value,
        stable: &Value,
        why: &str,
    ) -> Result<Step, PlanError> {
        let service = router(objects)?;
        let (target, rv) = target_of(place, Kind::Service, service)?;
        let label = self.label;
        let from_colour = selected(service, label).unwrap_or("?").to_owned();
        let to_colour = colour(to, label).unwrap_or("?").to_owned();
        let stable_colour = colour(stable, label).unwrap_or("?").to_owned();
        let recorded_now = recorded(service).map(str::to_owned);
        let mut diff = Vec::new();
        if from_colour != to_colour {
            diff.push(DiffLine {
                field: format!("spec.selector[{label}]"),
                before: from_colour.clone(),
                after: to_colour.clone(),
            });
        }
        if recorded_now.as_deref() != Some(stable_colour.as_str()) {
            diff.push(DiffLine {
                field: format!("metadata.annotations[{STABLE_ANNOTATION}]"),
                before: recorded_now.clone().unwrap_or_else(|| "<none>".into()),
                after: stable_colour.clone(),
            });
        }
        let annotation_pointer = format!("/metadata/annotations/{}", STABLE_ANNOTATION.replace('/', "~1"));
        let selector_pointer = format!("/spec/selector/{}", label.replace('~', "~0").replace('/', "~1"));
        Ok(Step {
            app: place.app.to_owned(),
            sentence: format!(
                "{} · {}/{} · selector {label}={from_colour} → {to_colour} ({why}: {} {})",
                place.env,
                target.namespace,
                target.name,
                name(to),
                image_tag(to)
            ),
            diff,
            patch: PatchBody::Merge(json!({
                "metadata": {"annotations": {STABLE_ANNOTATION: stable_colour}},
                "spec": {"selector": {label: to_colour}},
            })),
            verify: Verify::Field { pointer: selector_pointer.clone(), value: json!(to_colour) },
            guards: vec![
                Guard::new(selector_pointer, json!(from_colour)),
                Guard::new(annotation_pointer, recorded_now.map_or(Value::Null, Value::String)),
            ],
            via: crate::ops::Via::Object,
            event_reason: "OpsdeckBlueGreenSwitch",
            from_resource_version: rv,
            target,
        })
    }
}

impl TrafficProvider for ServiceSelector<'_> {
    fn router(&self, place: &Place<'_>, namespace: &str) -> Option<Target> {
        Some(place.target(namespace, Kind::Service, self.service))
    }

    fn read_weight(&self, objects: &Objects<'_>) -> Result<u32, PlanError> {
        Ok(self.roles(objects)?.weight)
    }

    fn weight_steps(
        &self,
        place: &Place<'_>,
        objects: &Objects<'_>,
        current: u32,
        weight: u32,
    ) -> Result<Vec<Step>, PlanError> {
        let (to, why) = match weight {
            100 => {
                all_ready(objects.canary).map_err(PlanError::Refused)?;
                (objects.canary, "all traffic to the new colour")
            }
            0 => {
                // Switching back is the instant rollback: the stable colour needs pods that
                // serve, not a finished rollout.
                if objects.stable.pointer("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0) == 0 {
                    return Err(PlanError::Refused(format!(
                        "{} has no ready pods: switching back would send all traffic to none",
                        name(objects.stable)
                    )));
                }
                (objects.stable, "all traffic back to the stable colour")
            }
            other => {
                return Err(PlanError::Refused(format!(
                    "blue-green moves all traffic at once: its weights are 0 and 100, not {other} (currently {current})"
                )));
            }
        };
        Ok(vec![self.switch(place, objects, to, objects.stable, why)?])
    }
}

/// Promotion: the new colour serves everything and becomes the recorded stable colour; the
/// old colour keeps its pods for an instant switch back, or is scaled to `scale_old_to`
/// once the Service no longer selects it.
pub(super) fn promote(
    provider: &ServiceSelector<'_>,
    place: &Place<'_>,
    objects: &Objects<'_>,
) -> Result<Plan, PlanError> {
    let roles = provider.roles(objects)?;
    if roles.weight == 0 {
        all_ready(objects.canary).map_err(PlanError::Refused)?;
    }
    let mut switch =
        provider.switch(place, objects, objects.canary, objects.canary, "promoted, the new stable colour")?;
    switch.event_reason = "OpsdeckCanaryPromote";
    let mut steps = vec![switch];
    if let Some(keep) = provider.scale_old_to.map(i64::from)
        && replicas(objects.stable) != keep
    {
        let mut scale = scale_step(place, objects.stable, keep, "the old colour, no longer selected")?;
        scale.event_reason = "OpsdeckCanaryPromote";
        steps.push(scale);
    }
    Ok(Plan::for_app(Operation::CanaryPromote, place, steps))
}
