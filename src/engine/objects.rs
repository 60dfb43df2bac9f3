//! The objects each kind of plan is computed from, read fresh from the cluster, and the plans
//! made from them; and, after a conflict, what the objects say now.

use serde_json::Value;

use super::Session;
use crate::cluster::ops::{self, OpError};
use crate::config::{CanaryPlace, CanaryTarget, Placement};
use crate::ops::controllers::Verb;
use crate::ops::rollback::{self, Options, Revision};
use crate::ops::{CanaryRequest, Kind, Operation, Place, Plan, PlanError, Target, canary};

/// The app's Deployment in its environment.
pub fn deployment_target(placement: &Placement) -> Target {
    Target {
        env: placement.env.clone(),
        context: placement.context.clone(),
        namespace: placement.namespace.clone(),
        kind: Kind::Deployment,
        name: placement.deployment.clone(),
    }
}

/// The app's stable Deployment as it is now: the configured one, or for a blue-green the
/// colour its Service records as stable (the colours trade roles at each promotion), read
/// once either way.
pub async fn fetch_stable(session: &Session, placement: &Placement) -> Result<Value, OpError> {
    match &placement.canary {
        Some(canary) if canary.target.is_blue_green() => {
            Ok(fetch_canary(session, placement, canary).await?.stable)
        }
        _ => ops::fetch(&session.read, &deployment_target(placement)).await,
    }
}

/// The Deployment that serves the app's stable traffic, to take a version from: the stable
/// one, or where Flagger runs the app, the primary it made (its target is the canary under
/// analysis, not what has proven itself).
pub async fn fetch_serving(session: &Session, placement: &Placement) -> Result<Value, OpError> {
    let stable = fetch_stable(session, placement).await?;
    if placement.canary.is_some() {
        return Ok(stable);
    }
    let primary =
        Target { name: format!("{}-primary", placement.deployment), ..deployment_target(placement) };
    match ops::fetch(&session.read, &primary).await {
        Ok(object) if crate::ops::controllers::owner(&object).is_some_and(|o| o.starts_with("Flagger")) => {
            Ok(object)
        }
        Ok(_) | Err(OpError::NotFound(_)) => Ok(stable),
        Err(e) => Err(e),
    }
}

pub fn place(placement: &Placement) -> Place<'_> {
    Place {
        env: &placement.env,
        context: &placement.context,
        app: &placement.app,
        protection: placement.protection,
    }
}

/// A Deployment operation planned from the object as fetched; `now` stamps a restart.
pub fn plan_deployment(
    placement: &Placement,
    operation: Operation,
    object: &Value,
    now: jiff::Timestamp,
) -> Result<Plan, PlanError> {
    let place = place(placement);
    match operation {
        Operation::Restart => {
            crate::ops::restart(&place, object, &now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        Operation::Pause => crate::ops::pause(&place, object),
        Operation::Resume => crate::ops::resume(&place, object),
        other => Err(PlanError::Invalid(format!("{} is not a Deployment operation", other.name()))),
    }
}

/// The objects a canary plan is computed from, as read now.
#[derive(Debug, Clone)]
pub struct CanaryObjects {
    pub stable: Value,
    pub canary: Value,
    pub router: Option<Value>,
}

impl CanaryObjects {
    /// The canary's image tag: the version more traffic would go to.
    pub fn canary_version(&self) -> Option<String> {
        self.canary
            .pointer("/spec/template/spec/containers/0/image")
            .and_then(Value::as_str)
            .map(crate::health::image_tag)
    }

    pub fn view(&self) -> canary::Objects<'_> {
        canary::Objects { stable: &self.stable, canary: &self.canary, router: self.router.as_ref() }
    }
}

pub async fn fetch_canary(
    session: &Session,
    placement: &Placement,
    canary: &CanaryPlace,
) -> Result<CanaryObjects, OpError> {
    let stable_target = deployment_target(placement);
    let canary_target = Target { name: canary.deployment.clone(), ..stable_target.clone() };
    // The object that carries the weight first: one a controller owns is refused with whose it
    // is, before anything else is read or planned.
    let router = match canary::router_target(&place(placement), &placement.namespace, &canary.target) {
        Some(t) => {
            let object = ops::fetch(&session.read, &t).await?;
            if let Some(owner) = crate::ops::controllers::owner(&object) {
                return Err(OpError::Refused(format!(
                    "{} {}/{} is driven by {owner}; opsdeck does not write what a controller owns",
                    t.kind.name(),
                    t.namespace,
                    t.name
                )));
            }
            Some(object)
        }
        None => None,
    };
    let stable = ops::fetch(&session.read, &stable_target).await?;
    let canary_object = ops::fetch(&session.read, &canary_target).await?;
    // A blue-green's colours are read in the roles its Service gives them now; colours it
    // cannot tell apart stay as configured, and the plan says why it cannot be made.
    if let (CanaryTarget::ServiceSelector { label, .. }, Some(service)) = (&canary.target, &router)
        && let Ok(roles) = canary::blue_green_roles(service, label, &stable, &canary_object)
    {
        let (stable, canary) = roles.order(stable, canary_object);
        return Ok(CanaryObjects { stable, canary, router });
    }
    Ok(CanaryObjects { stable, canary: canary_object, router })
}

/// The plan for a canary request over the objects as read.
pub fn plan_canary(
    placement: &Placement,
    steps: &[u8],
    target: &CanaryPlace,
    objects: &CanaryObjects,
    request: CanaryRequest,
) -> Result<Plan, PlanError> {
    let place = place(placement);
    let view = objects.view();
    let steps = target.target.steps(steps);
    let current = canary::read_weight(&target.target, &view)?.percent;
    let weight = match request {
        CanaryRequest::Promote => return canary::promote(&place, &target.target, &view),
        CanaryRequest::Abort => 0,
        CanaryRequest::Set(w) => w,
        CanaryRequest::Step => canary::step_up(steps, current).ok_or_else(|| {
            PlanError::Refused(format!("the canary is at {current}%, the last step: promote it instead"))
        })?,
        CanaryRequest::Back => canary::step_down(steps, current)
            .ok_or_else(|| PlanError::Refused("the canary is at 0%: there is no step below".to_owned()))?,
    };
    if request == CanaryRequest::Abort && current == 0 {
        return Err(PlanError::Refused(format!(
            "{}/{} canary is already at 0%",
            placement.env, placement.app
        )));
    }
    canary::set_weight(&place, request.operation(), &target.target, &view, weight)
}

/// The controller object that runs the app's release, as read now: an Argo Rollout named
/// after the app's workload (or whose `workloadRef` names it), else a Flagger Canary whose
/// `targetRef` names it. `None` where neither is installed or none runs the app.
pub async fn fetch_controller(
    session: &Session,
    placement: &Placement,
) -> Result<Option<(Kind, Value)>, OpError> {
    let name = &placement.deployment;
    for (kind, pointer) in
        [(Kind::Rollout, "/spec/workloadRef/name"), (Kind::FlaggerCanary, "/spec/targetRef/name")]
    {
        let objects = match ops::list(&session.read, &placement.namespace, kind).await {
            Ok(objects) => objects,
            // Not installed here, or not ours to read: not the controller of this app.
            Err(OpError::NotFound(_) | OpError::Forbidden(_)) => continue,
            Err(e) => return Err(e),
        };
        let runs = |o: &Value| {
            let own = o.pointer("/metadata/name").and_then(Value::as_str) == Some(name.as_str());
            let named = o.pointer(pointer).and_then(Value::as_str) == Some(name.as_str());
            named || (kind == Kind::Rollout && own && o.pointer("/spec/template").is_some())
        };
        if let Some(object) = objects.into_iter().find(runs) {
            return Ok(Some((kind, object)));
        }
    }
    Ok(None)
}

/// The plan for a controller's verb over its object as read.
pub fn plan_controller(
    placement: &Placement,
    kind: Kind,
    object: &Value,
    verb: &Verb,
) -> Result<Plan, PlanError> {
    let place = place(placement);
    match kind {
        Kind::Rollout => crate::ops::controllers::argo_plan(&place, verb, object),
        _ => crate::ops::controllers::flagger_plan(&place, verb, object),
    }
}

/// What a rollback plan is computed from, as read now.
#[derive(Debug, Clone)]
pub struct RollbackObjects {
    pub deployment: Value,
    pub replica_sets: Vec<Value>,
    /// The app's canary in this environment, when it has one.
    pub canary: Option<CanaryObjects>,
}

impl RollbackObjects {
    pub fn history(&self) -> Vec<Revision> {
        rollback::history(&self.deployment, &self.replica_sets)
    }
}

/// `app=web,track=stable` from the Deployment's `spec.selector.matchLabels`.
fn selector(deployment: &Value) -> String {
    deployment
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

pub async fn fetch_rollback(session: &Session, placement: &Placement) -> Result<RollbackObjects, OpError> {
    let deployment = match fetch_stable(session, placement).await {
        // No Deployment: an Argo Rollout as the workload, whose own ReplicaSets are its history.
        Err(OpError::NotFound(why)) => match fetch_controller(session, placement).await? {
            Some((Kind::Rollout, rollout)) if rollout.pointer("/spec/template").is_some() => rollout,
            _ => return Err(OpError::NotFound(why)),
        },
        other => other?,
    };
    let replica_sets = ops::replica_sets(&session.read, &placement.namespace, &selector(&deployment)).await?;
    let canary = match &placement.canary {
        Some(c) => Some(fetch_canary(session, placement, c).await?),
        None => None,
    };
    Ok(RollbackObjects { deployment, replica_sets, canary })
}

/// The rollback: when the app's canary takes traffic, its abort comes first, in the same plan
/// on the same confirmation, so no request meets the canary while stable rolls back (and a
/// canary left at its weight would keep serving the release being rolled back).
pub fn plan_rollback(
    placement: &Placement,
    objects: &RollbackObjects,
    options: Options,
) -> Result<Plan, PlanError> {
    let place = place(placement);
    let mut plan = rollback::rollback(&place, &objects.deployment, &objects.replica_sets, options)?;
    let (Some(canary_objects), Some(target)) = (&objects.canary, &placement.canary) else {
        return Ok(plan);
    };
    let view = canary_objects.view();
    let weight = canary::read_weight(&target.target, &view)?;
    if weight.percent == 0 {
        return Ok(plan);
    }
    let abort = canary::set_weight(&place, Operation::CanaryAbort, &target.target, &view, 0)?;
    plan.warnings.insert(
        0,
        format!(
            "the canary takes {}% of traffic: it is aborted (weight 0) first, then stable rolls back",
            weight.percent
        ),
    );
    let mut steps = abort.steps;
    steps.append(&mut plan.steps);
    plan.steps = steps;
    Ok(plan)
}

/// Suspending the Flux object that manages the app's Deployment, planned from the object as
/// it is now.
pub async fn plan_suspend(session: &Session, placement: &Placement) -> Result<Plan, super::Refusal> {
    let deployment = fetch_stable(session, placement).await?;
    let place = place(placement);
    let gitops = rollback::gitops(&deployment).ok_or_else(|| {
        super::Refusal::Precondition(format!(
            "{}/{} is not managed by Flux or Argo CD",
            placement.env, placement.app
        ))
    })?;
    let target = gitops.flux_target(&place).ok_or_else(|| super::Refusal::Precondition(gitops.warning()))?;
    let object = ops::fetch(&session.read, &target).await?;
    Ok(rollback::suspend(&place, target, &object)?)
}

/// After a conflict: what the objects say now, as the plan would be made today, so the
/// operator decides again on what is true rather than on what was.
pub async fn describe_now(session: &Session, placement: &Placement, operation: Operation) -> String {
    let rv =
        |o: &Value| o.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("?").to_owned();
    if operation.is_controller() {
        return match fetch_controller(session, placement).await {
            Ok(Some((kind, object))) => {
                let text = |p: &str| {
                    object.pointer(p).map_or_else(
                        || "?".to_owned(),
                        |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                };
                let weight = if kind == Kind::Rollout {
                    text("/status/canary/weights/canary/weight")
                } else {
                    text("/status/canaryWeight")
                };
                format!(
                    "now: {} {} at {weight}% (phase {}, resourceVersion {})",
                    kind.name(),
                    placement.deployment,
                    text("/status/phase"),
                    rv(&object)
                )
            }
            Ok(None) => "now: no controller runs it".to_owned(),
            Err(e) => format!("could not read it again: {e}"),
        };
    }
    if operation.is_canary() {
        let Some(target) = &placement.canary else { return String::new() };
        return match fetch_canary(session, placement, target).await {
            Ok(objects) => match canary::read_weight(&target.target, &objects.view()) {
                Ok(weight) => {
                    let approx = if weight.approximate { "≈" } else { "" };
                    let carrier = objects.router.as_ref().map_or_else(|| rv(&objects.canary), rv);
                    format!("now: the canary is at {approx}{}% (resourceVersion {carrier})", weight.percent)
                }
                Err(e) => format!("now: {e}"),
            },
            Err(e) => format!("could not read it again: {e}"),
        };
    }
    if operation == Operation::Rollback {
        return match fetch_rollback(session, placement).await {
            Ok(objects) => {
                let current = objects
                    .history()
                    .iter()
                    .find(|r| r.current)
                    .map_or_else(|| "?".into(), |r| format!("r{} ({})", r.revision, r.tags()));
                format!("now at resourceVersion {}, running {current}", rv(&objects.deployment))
            }
            Err(e) => format!("could not read it again: {e}"),
        };
    }
    let object = match fetch_stable(session, placement).await {
        Ok(object) => object,
        Err(e) => return format!("could not read it again: {e}"),
    };
    match plan_deployment(placement, operation, &object, jiff::Timestamp::now()) {
        Ok(plan) => {
            let diff: Vec<String> = plan
                .steps
                .iter()
                .flat_map(|s| &s.diff)
                .map(|d| format!("{} is now {}", d.field, d.before))
                .collect();
            format!(
                "now at resourceVersion {}: {}; planned again it would be: {}",
                rv(&object),
                diff.join(", "),
                plan.sentence()
            )
        }
        Err(e) => format!("now at resourceVersion {}: {e}", rv(&object)),
    }
}
