//! Canary requests along the operation path: which provider an app uses in an environment,
//! the objects a canary plan is computed from, and the plan for each request.

use serde_json::Value;

use super::{Session, Sessions, deployment_target, place};
use crate::cluster::ops::{self, OpError};
use crate::config::{App, CanaryTarget, Config, Environment};
use crate::ops::{CanaryRequest, Plan, PlanError, Target};

/// The apps that have a canary in `env`, with their providers.
pub fn canary_apps<'a>(config: &'a Config, env: &Environment) -> Vec<(&'a App, &'a CanaryTarget)> {
    config.apps.iter().filter_map(|a| canary_target(env, a).ok().map(|t| (a, t))).collect()
}

/// The app's canary provider in the environment, or why there is none.
pub fn canary_target<'a>(env: &Environment, app: &'a App) -> Result<&'a CanaryTarget, String> {
    app.canary
        .as_ref()
        .and_then(|c| c.environments.iter().find(|(k, _)| k.get_ref() == env.name()).map(|(_, t)| t))
        .ok_or_else(|| {
            format!(
                "{} has no canary in {} (configure [apps.canary.environments.{}])",
                app.name(),
                env.name(),
                env.name()
            )
        })
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

    pub fn view(&self) -> crate::ops::canary::Objects<'_> {
        crate::ops::canary::Objects {
            stable: &self.stable,
            canary: &self.canary,
            router: self.router.as_ref(),
        }
    }
}

pub async fn fetch_canary(
    session: &Session,
    env: &Environment,
    app: &App,
    target: &CanaryTarget,
) -> Result<CanaryObjects, OpError> {
    let stable_target = deployment_target(env, app);
    let canary_target = Target { name: target.canary_deployment().to_owned(), ..stable_target.clone() };
    let stable = ops::fetch(&session.read, &stable_target).await?;
    let canary = ops::fetch(&session.read, &canary_target).await?;
    let router = match crate::ops::canary::router_target(&place(env, app), &stable_target.namespace, target) {
        Some(t) => Some(ops::fetch(&session.read, &t).await?),
        None => None,
    };
    Ok(CanaryObjects { stable, canary, router })
}

/// The plan for a canary request over the objects as read.
pub fn plan_canary(
    env: &Environment,
    app: &App,
    target: &CanaryTarget,
    objects: &CanaryObjects,
    request: CanaryRequest,
) -> Result<Plan, PlanError> {
    use crate::ops::canary;
    let place = place(env, app);
    let view = objects.view();
    let steps = app.canary.as_ref().map(|c| c.steps.get_ref().clone()).unwrap_or_default();
    let current = canary::read_weight(target, &view)?.percent;
    let weight = match request {
        CanaryRequest::Promote => return canary::promote(&place, target, &view),
        CanaryRequest::Abort => 0,
        CanaryRequest::Set(w) => w,
        CanaryRequest::Step => canary::step_up(&steps, current).ok_or_else(|| {
            PlanError::Refused(format!("the canary is at {current}%, the last step: promote it instead"))
        })?,
        CanaryRequest::Back => canary::step_down(&steps, current)
            .ok_or_else(|| PlanError::Refused("the canary is at 0%: there is no step below".to_owned()))?,
    };
    if request == CanaryRequest::Abort && current == 0 {
        return Err(PlanError::Refused(format!("{}/{} canary is already at 0%", env.name(), app.name())));
    }
    canary::set_weight(&place, request.operation(), target, &view, weight)
}

/// The kill switch's plan: every canary above weight 0, in every environment `sessions` has,
/// to weight 0, as one plan. What could not be read or planned comes back beside it, each
/// naming its environment and app; canaries already at 0 are simply not in it.
pub async fn plan_kill_switch(config: &Config, sessions: &Sessions) -> (Option<Plan>, Vec<OpError>) {
    let mut aborts = Vec::new();
    let mut problems = Vec::new();
    // Promotion order runs towards production: the kill switch runs against it, so the
    // environment with the most at stake is aborted first.
    for env in config.environments.iter().rev() {
        let Ok(session) = sessions.get(env.name()) else { continue };
        for (app, target) in canary_apps(config, env) {
            let objects = match fetch_canary(session, env, app, target).await {
                Ok(objects) => objects,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            match plan_canary(env, app, target, &objects, CanaryRequest::Abort) {
                Ok(plan) => aborts.push(plan),
                // Already at 0: nothing to abort.
                Err(PlanError::Refused(_)) => {}
                Err(PlanError::Invalid(m)) => {
                    problems.push(OpError::Failed(format!("{}/{}: {m}", env.name(), app.name())));
                }
            }
        }
    }
    (crate::ops::canary::kill_switch(aborts), problems)
}

/// After a 409: the weight the canary's objects carry now, so the operator decides again on
/// what is true.
pub async fn describe_now(session: &Session, env: &Environment, app: &App) -> String {
    let Ok(target) = canary_target(env, app) else { return String::new() };
    match fetch_canary(session, env, app, target).await {
        Ok(objects) => match crate::ops::canary::read_weight(target, &objects.view()) {
            Ok(weight) => {
                let approx = if weight.approximate { "≈" } else { "" };
                let rv = |o: &Value| {
                    o.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("?").to_owned()
                };
                let carrier = objects.router.as_ref().map_or_else(|| rv(&objects.canary), rv);
                format!("now: the canary is at {approx}{}% (resourceVersion {carrier})", weight.percent)
            }
            Err(e) => format!("now: {e}"),
        },
        Err(e) => format!("could not read it again: {e}"),
    }
}
