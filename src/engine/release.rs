//! Preparing the two ends of a release: a canary started with a new version, and a promotion
//! of one environment's version into the next (the team's `promote.sh`). What they read —
//! the source environment's Deployment and pods, the target's objects — and the plans they
//! make, with the refusals an on-call engineer needs: a mutable tag that cannot be pinned, an
//! unhealthy source, a GitOps-managed target, a version already there.

use serde_json::Value;

use super::objects::{fetch_canary, fetch_stable, place, plan_suspend};
use super::request::{Request, Version};
use super::{Engine, Refusal, Session};
use crate::cluster::ops;
use crate::config::{CanaryPlace, Placement};
use crate::health::image_tag;
use crate::health::rollout::deployment_of;
use crate::health::verdict::Rollout;
use crate::ops::rollback::{self, GitOps};
use crate::ops::{Operation, Plan, release};

impl Engine {
    /// The canary started with `version`: its plan, and the version it brings (for the gates).
    pub(super) async fn plan_start(
        &self,
        session: &Session,
        placement: &Placement,
        target: &CanaryPlace,
        version: &Version,
    ) -> Result<(Plan, String), Refusal> {
        let objects = fetch_canary(session, placement, target).await?;
        let stable_image = first_image(&objects.stable)?;
        let image = match version {
            Version::Tag(tag) => release::retag(stable_image, tag),
            Version::From(env) => self.source_image(placement, env).await?.0,
        };
        let plan = self.start_with(placement, target, &objects, &image)?;
        Ok((plan, image_tag(&image)))
    }

    fn start_with(
        &self,
        placement: &Placement,
        target: &CanaryPlace,
        objects: &super::CanaryObjects,
        image: &str,
    ) -> Result<Plan, Refusal> {
        let canary = self.fleet.config.app(&placement.app).and_then(|a| a.canary.as_ref());
        let replicas = canary.map_or(1, |c| i64::from(c.replicas));
        let first = canary.and_then(|c| c.steps.get_ref().first().copied()).map_or(10, u32::from);
        Ok(release::start(&place(placement), &target.target, &objects.view(), image, replicas, first)?)
    }

    /// The image `env`'s stable Deployment of the app runs, pinned, and why it may be
    /// promoted: a healthy rollout, a version that does not move under it.
    pub(super) async fn source_image(
        &self,
        placement: &Placement,
        env: &str,
    ) -> Result<(String, Value), Refusal> {
        let source = self.fleet.placement(env, &placement.app)?.clone();
        let session = self.session(env).await?;
        let deployment = super::objects::fetch_serving(&session, &source).await?;
        let image = first_image(&deployment)?.to_owned();
        let info = deployment_of(&deployment)
            .ok_or_else(|| Refusal::Failed(format!("{env}/{}: not a Deployment", source.app)))?;
        match Rollout::of(Some(&info)) {
            Rollout::Complete if info.available == info.desired => {}
            state => {
                return Err(Refusal::Precondition(format!(
                    "{env}/{} is not healthy ({}, {}/{} available): promote what has proven itself",
                    source.app,
                    rollout_words(&state),
                    info.available,
                    info.desired
                )));
            }
        }
        let pinned = if release::is_mutable(&image) {
            let ids = ops::image_ids(&session.read, &source.namespace, &deployment).await?;
            release::pinned(&image, &ids).map_err(Refusal::Precondition)?
        } else {
            image
        };
        Ok((pinned, deployment))
    }

    /// A promotion of the app from `request.ask`'s source into `request.env`: a canary
    /// started with the source's version where the target has one, else the stable
    /// Deployment's image set and rolled out, with the change-cause saying so.
    pub(super) async fn plan_promotion(
        &self,
        session: &Session,
        placement: &Placement,
        from: &str,
        request: &Request,
    ) -> Result<(Plan, String), Refusal> {
        if from == placement.env {
            return Err(Refusal::Unknown(format!(
                "promote {} from {from} to itself: name another environment",
                placement.app
            )));
        }
        let (image, source) = self.source_image(placement, from).await?;
        let tag = image_tag(&image);
        let mut plan = if let Some(target) = &placement.canary {
            let objects = fetch_canary(session, placement, target).await?;
            if first_image(&objects.canary).ok() == Some(image.as_str())
                && first_image(&objects.stable).ok() == Some(image.as_str())
            {
                return Err(Refusal::Precondition(format!(
                    "{}/{} already runs {image}",
                    placement.env, placement.app
                )));
            }
            let mut plan = self.start_with(placement, target, &objects, &image)?;
            plan.warnings.push(format!(
                "{} has a canary: the promotion starts it with {tag}; stepping and promoting it stay yours",
                placement.env
            ));
            plan
        } else {
            let cause = format!("promote {} {tag} from {from} by {}", placement.app, session.user);
            match fetch_stable(session, placement).await {
                // An Argo Rollout as the workload: the version goes into its template, and its
                // steps bring it in.
                Err(ops::OpError::NotFound(why)) => {
                    let rollout = self.rollout_workload(session, placement, &why).await?;
                    crate::ops::controllers::argo_set_image(
                        &place(placement),
                        &rollout,
                        &image,
                        &cause,
                        Operation::Promote,
                    )?
                }
                deployment => {
                    let deployment = deployment?;
                    let mut plan = release::set_image(&place(placement), &deployment, &image, &cause)?;
                    if let Some(gitops) = rollback::gitops(&deployment) {
                        plan = self.around_gitops(session, placement, plan, &gitops, request).await?;
                    }
                    plan
                }
            }
        };
        plan.operation = Operation::Promote;
        plan.headline = Some(format!(
            "promote {} {tag} from {from} to {}: {}",
            placement.app,
            placement.env,
            plan.sentence()
        ));
        plan.warnings.insert(0, self.soak_of(from, &source, &tag).await);
        Ok((plan, tag))
    }

    /// A target that GitOps reconciles: refused unless the request says to suspend Flux first;
    /// Argo CD is turned off in Argo CD, not by opsdeck.
    async fn around_gitops(
        &self,
        session: &Session,
        placement: &Placement,
        plan: Plan,
        gitops: &GitOps,
        request: &Request,
    ) -> Result<Plan, Refusal> {
        match gitops {
            GitOps::ArgoCd { .. } => Err(Refusal::Precondition(format!(
                "{}/{} is {}",
                placement.env,
                placement.app,
                gitops.warning()
            ))),
            GitOps::Flux { .. } if !request.suspend_gitops => Err(Refusal::NeedsSuspend(format!(
                "{}/{} is {}",
                placement.env,
                placement.app,
                gitops.warning()
            ))),
            GitOps::Flux { kind, name, namespace } => {
                let mut suspend = plan_suspend(session, placement).await?;
                let mut steps = std::mem::take(&mut suspend.steps);
                steps.extend(plan.steps);
                let mut warnings = plan.warnings;
                warnings.insert(
                    0,
                    format!(
                        "Flux reconciles it ({kind} {namespace}/{name}): suspended first, in this plan, so its next sync does not put the Git version back; resume it once Git carries the new version"
                    ),
                );
                Ok(Plan { steps, warnings, ..plan })
            }
        }
    }

    /// How long the version has served in the source: since the source's ReplicaSet for it
    /// was created, as the checklist's soak check measures it.
    async fn soak_of(&self, from: &str, source: &Value, tag: &str) -> String {
        let name = source.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("?");
        let Ok(session) = self.session(from).await else {
            return format!("{tag}: its soak in {from} could not be read");
        };
        let namespace = source.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
        let selector = source
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let Ok(sets) = ops::replica_sets(&session.read, namespace, &selector).await else {
            return format!("{tag}: its soak in {from} could not be read");
        };
        let history = rollback::history(source, &sets);
        match history.iter().find(|r| r.current).and_then(|r| r.created) {
            Some(since) => {
                let served = jiff::Timestamp::now().duration_since(since).as_secs();
                format!("{tag} has run in {from} ({name}) for {}", crate::config::duration_words(served))
            }
            None => format!("{tag}: how long it has run in {from} is unknown"),
        }
    }
}

fn first_image(deployment: &Value) -> Result<&str, Refusal> {
    deployment
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .ok_or_else(|| Refusal::Invalid("the Deployment has no container image".into()))
}

fn rollout_words(state: &Rollout) -> String {
    match state {
        Rollout::Complete => "its rollout is complete".to_owned(),
        Rollout::Progressing => "its rollout is under way".to_owned(),
        Rollout::Stalled { reason } => format!("its rollout stalled: {reason}"),
        Rollout::Paused => "it is paused".to_owned(),
        Rollout::Missing => "it has no such Deployment".to_owned(),
    }
}
