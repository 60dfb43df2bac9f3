//! Rollback along the operation path: the objects it is planned from (the Deployment, its
//! ReplicaSets, an active canary), the plan — the canary aborted first, in the same plan — and
//! suspending the Flux object that would revert it.

use serde_json::Value;

use super::{Session, canary_target, deployment_target, fetch_canary, place};
use crate::cluster::ops::{self, OpError};
use crate::config::{App, Environment};
use crate::ops::rollback::{self, Options, Revision};
use crate::ops::{Operation, Plan, PlanError, canary};

/// What a rollback plan is computed from, as read now.
#[derive(Debug, Clone)]
pub struct RollbackObjects {
    pub deployment: Value,
    pub replica_sets: Vec<Value>,
    /// The app's canary in this environment, when it has one.
    pub canary: Option<super::CanaryObjects>,
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

pub async fn fetch_rollback(
    session: &Session,
    env: &Environment,
    app: &App,
) -> Result<RollbackObjects, OpError> {
    let target = deployment_target(env, app);
    let deployment = ops::fetch(&session.read, &target).await?;
    let replica_sets = ops::replica_sets(&session.read, &target.namespace, &selector(&deployment)).await?;
    let canary = match canary_target(env, app) {
        Ok(t) => Some(fetch_canary(session, env, app, t).await?),
        Err(_) => None,
    };
    Ok(RollbackObjects { deployment, replica_sets, canary })
}

/// The rollback of `app` in `env`: when its canary takes traffic, the canary's abort comes
/// first, in the same plan on the same confirmation, so no request meets the canary while
/// stable rolls back (and a canary left at its weight would keep serving the release being
/// rolled back).
pub fn plan_rollback(
    env: &Environment,
    app: &App,
    objects: &RollbackObjects,
    options: Options,
) -> Result<Plan, PlanError> {
    let place = place(env, app);
    let mut plan = rollback::rollback(&place, &objects.deployment, &objects.replica_sets, options)?;
    let (Some(canary_objects), Ok(target)) = (&objects.canary, canary_target(env, app)) else {
        return Ok(plan);
    };
    let view = canary_objects.view();
    let weight = canary::read_weight(target, &view)?;
    if weight.percent == 0 {
        return Ok(plan);
    }
    let abort = canary::set_weight(&place, Operation::CanaryAbort, target, &view, 0)?;
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
pub async fn plan_suspend(session: &Session, env: &Environment, app: &App) -> Result<Plan, String> {
    let deployment =
        ops::fetch(&session.read, &deployment_target(env, app)).await.map_err(|e| e.to_string())?;
    let place = place(env, app);
    let gitops = rollback::gitops(&deployment)
        .ok_or_else(|| format!("{}/{} is not managed by Flux or Argo CD", env.name(), app.name()))?;
    let target = gitops.flux_target(&place).ok_or_else(|| gitops.warning())?;
    let object = ops::fetch(&session.read, &target).await.map_err(|e| e.to_string())?;
    rollback::suspend(&place, target, &object).map_err(|e| e.to_string())
}

/// After a 409: what the Deployment is now, so the operator decides again on what is true.
pub async fn describe_now(session: &Session, env: &Environment, app: &App) -> String {
    match fetch_rollback(session, env, app).await {
        Ok(objects) => {
            let history = objects.history();
            let current = history
                .iter()
                .find(|r| r.current)
                .map_or_else(|| "?".into(), |r| format!("r{} ({})", r.revision, r.tags()));
            let rv = objects
                .deployment
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("?");
            format!("now at resourceVersion {rv}, running {current}")
        }
        Err(e) => format!("could not read it again: {e}"),
    }
}
