//! Preparing a request: read the objects, plan, gather what the decision needs, decide, and
//! ask the server whether it would accept each write (an access review and a dry run) — all
//! before anyone is asked to confirm. Nothing here writes.

use serde_json::Value;

use super::decide::{Facts, Traffic, decide};
use super::objects::{self, fetch_canary, fetch_rollback, fetch_stable, place};
use super::request::{Ask, Request};
use super::{Engine, Prepared, Refusal, Session, analysis};
use crate::cluster::ops::{self, OpError};
use crate::config::{CanaryPlace, Placement};
use crate::health::rollout::deployment_of;
use crate::health::verdict::Rollout;
use crate::ops::controllers::Verb;
use crate::ops::policy::{self, Rules};
use crate::ops::{CanaryRequest, Kind, Operation, Plan, PlanError, Step, canary};

impl Engine {
    /// Plans and decides `request` against the objects as they are now, and checks it with the
    /// server; `Err` says why it cannot be offered.
    pub async fn prepare(&self, request: Request) -> Result<Prepared, Refusal> {
        if matches!(request.ask, Ask::KillSwitch) {
            return self.prepare_kill_switch(request).await;
        }
        let placement = self.fleet.placement(&request.env, &request.app)?.clone();
        let session = self.session(&request.env).await?;
        let now = jiff::Timestamp::now();
        let mut version = None;
        let mut traffic = Traffic::NotRaised;
        let plan = match &request.ask {
            Ask::Restart | Ask::Pause | Ask::Resume => match fetch_stable(&session, &placement).await {
                // No Deployment: an Argo Rollout may be the workload, with verbs of its own.
                Err(OpError::NotFound(why)) => {
                    let verb = match request.ask {
                        Ask::Restart => Verb::Restart { at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string() },
                        Ask::Pause => Verb::Pause,
                        _ => Verb::Resume,
                    };
                    let rollout = self.rollout_workload(&session, &placement, &why).await?;
                    controller_plan_on(&placement, Kind::Rollout, &rollout, Ok(verb))?.0
                }
                object => objects::plan_deployment(&placement, request.ask.operation(), &object?, now)?,
            },
            Ask::Controller(verb) => {
                let (plan, v) = self.controller_plan(&session, &placement, Ok(verb.clone())).await?;
                version = v;
                plan
            }
            // An app with no canary of ours: its controller's abort and promotion, if one runs it.
            &Ask::Canary(canary_request) if placement.canary.is_none() => {
                let (plan, v) = self.controller_plan(&session, &placement, Err(canary_request)).await?;
                version = v;
                plan
            }
            &Ask::Canary(canary_request) => {
                let (_, target) = self.fleet.canary(&request.env, &request.app)?;
                let objects = fetch_canary(&session, &placement, target).await?;
                let plan = objects::plan_canary(
                    &placement,
                    &self.steps(&request.app),
                    target,
                    &objects,
                    canary_request,
                )?;
                version = objects.canary_version();
                traffic = self.traffic(&session, &placement, target, &objects, canary_request).await?;
                plan
            }
            Ask::AutoMode => {
                let (_, target) = self.fleet.canary(&request.env, &request.app)?;
                let objects = fetch_canary(&session, &placement, target).await?;
                version = objects.canary_version();
                self.auto_plan(&placement)
            }
            &Ask::Rollback { to_revision } => {
                let objects = fetch_rollback(&session, &placement).await?;
                let options = crate::ops::rollback::Options {
                    to_revision,
                    resume_paused: request.resume_paused,
                    no_wait: request.no_wait,
                };
                objects::plan_rollback(&placement, &objects, options)?
            }
            Ask::SuspendGitOps => objects::plan_suspend(&session, &placement).await?,
            Ask::StartCanary(version_asked) if placement.canary.is_none() => {
                let (plan, tag) = self.start_rollout(&session, &placement, version_asked).await?;
                version = Some(tag);
                plan
            }
            Ask::StartCanary(version_asked) => {
                let (_, target) = self.fleet.canary(&request.env, &request.app)?;
                let (plan, tag) = self.plan_start(&session, &placement, target, version_asked).await?;
                version = Some(tag);
                plan
            }
            Ask::Promote { from } => {
                let (plan, tag) = self.plan_promotion(&session, &placement, from, &request).await?;
                version = Some(tag);
                plan
            }
            // Returned above: the kill switch spans environments.
            Ask::KillSwitch => return self.prepare_kill_switch(request).await,
        };
        self.decided(&session, &placement, request, plan, (version, traffic), now).await
    }

    /// A plan decided, checked with the server, and met by the approval gate.
    async fn decided(
        &self,
        session: &Session,
        placement: &Placement,
        request: Request,
        plan: Plan,
        (version, traffic): (Option<String>, Traffic),
        now: jiff::Timestamp,
    ) -> Result<Prepared, Refusal> {
        let rule = self.policy(&plan, &request.env, version.as_deref(), now).await;
        let decision = decide(&Facts {
            plan: &plan,
            readonly: self.readonly(&request.env),
            origin: &request.origin,
            policy: vec![(request.env.clone(), rule)],
            traffic,
        })?;
        for step in &plan.steps {
            preflight(session, step).await?;
        }
        let approval = self.approval(session, &plan, &request.origin).await?;
        let held = self.held_by_another(session, &plan.env, &plan.app).await;
        let mut decision = decision;
        // A take-over is always asked, even where protection asks nothing.
        if held.is_some()
            && matches!(request.origin, super::Origin::Operator)
            && decision.confirmation == crate::ops::Confirmation::None
        {
            decision.confirmation = crate::ops::Confirmation::YesNo;
        }
        Ok(Prepared {
            user: session.user.clone(),
            cluster: self.cluster_of(&placement.context),
            request,
            plan,
            decision,
            left_out: Vec::new(),
            approval,
            held,
        })
    }

    /// A controller's verb, planned over its object: asked for as one (`Ok`), or as a canary
    /// request on an app with no canary of ours (`Err`), whose abort and promotion are the
    /// controller's; its weights follow the controller's steps, so a step or a weight is refused.
    async fn controller_plan(
        &self,
        session: &Session,
        placement: &Placement,
        ask: Result<Verb, CanaryRequest>,
    ) -> Result<(Plan, Option<String>), Refusal> {
        let (kind, object) = self.controller_of(session, placement).await?;
        controller_plan_on(placement, kind, &object, ask)
    }

    /// The Rollout that is the app's workload where it has no Deployment; `why` (the
    /// Deployment's 404) where no Rollout is either.
    pub(super) async fn rollout_workload(
        &self,
        session: &Session,
        placement: &Placement,
        why: &str,
    ) -> Result<Value, Refusal> {
        match objects::fetch_controller(session, placement).await? {
            Some((Kind::Rollout, rollout)) if rollout.pointer("/spec/template").is_some() => Ok(rollout),
            _ => Err(Refusal::Failed(why.to_owned())),
        }
    }

    /// `canary start` on an app whose workload is an Argo Rollout: the version into its
    /// template, and the Rollout's steps take it from there. Refused, with the reason, for an
    /// app with neither a canary of ours nor a Rollout.
    async fn start_rollout(
        &self,
        session: &Session,
        placement: &Placement,
        version: &super::request::Version,
    ) -> Result<(Plan, String), Refusal> {
        let Some((Kind::Rollout, rollout)) = objects::fetch_controller(session, placement).await? else {
            return Err(self
                .fleet
                .canary(&placement.env, &placement.app)
                .err()
                .map_or_else(|| Refusal::Failed("no canary".into()), Refusal::from));
        };
        let current =
            rollout.pointer("/spec/template/spec/containers/0/image").and_then(Value::as_str).unwrap_or("");
        let image = match version {
            super::request::Version::Tag(tag) => crate::ops::release::retag(current, tag),
            super::request::Version::From(env) => self.source_image(placement, env).await?.0,
        };
        let tag = crate::health::image_tag(&image);
        let cause = format!("canary {tag} by {}", session.user);
        let plan = crate::ops::controllers::argo_set_image(
            &objects::place(placement),
            &rollout,
            &image,
            &cause,
            Operation::CanaryStart,
        )?;
        Ok((plan, tag))
    }

    /// The controller that runs the app, or why there is none to drive.
    async fn controller_of(
        &self,
        session: &Session,
        placement: &Placement,
    ) -> Result<(Kind, Value), Refusal> {
        objects::fetch_controller(session, placement).await?.ok_or_else(|| {
            Refusal::Precondition(format!(
                "{}/{} is not run by Argo Rollouts or Flagger here: the controller verbs do not apply",
                placement.env, placement.app
            ))
        })
    }

    fn steps(&self, app: &str) -> Vec<u8> {
        self.fleet
            .config
            .app(app)
            .and_then(|a| a.canary.as_ref())
            .map(|c| c.steps.get_ref().clone())
            .unwrap_or_default()
    }

    /// The environment's windows and checklist gate on `plan`. The signed checklists are read
    /// (from this machine and the team's cluster) only when the gate applies.
    async fn policy(
        &self,
        plan: &Plan,
        env: &str,
        version: Option<&str>,
        now: jiff::Timestamp,
    ) -> policy::Decision {
        let Some(config) = self.fleet.env_config(env) else { return policy::Decision::Go };
        let gated = config.require_checklist.is_some() && policy::gated(plan.operation);
        let (reports, problem) = if gated { self.checklists(env).await } else { (Vec::new(), None) };
        match policy::decide(plan, &Rules::of(config, &reports), version, now) {
            policy::Decision::Refused(why) if problem.is_some() => {
                policy::Decision::Refused(format!("{why} ({})", problem.unwrap_or_default()))
            }
            decision => decision,
        }
    }

    /// Auto mode writes nothing itself: its plan says what it will do.
    fn auto_plan(&self, placement: &Placement) -> Plan {
        let canary = self.fleet.config.app(&placement.app).and_then(|a| a.canary.as_ref());
        let (steps, interval, threshold) = canary.map_or((Vec::new(), 0, 0), |c| {
            (c.steps.get_ref().clone(), c.interval.0.as_secs(), c.failure_threshold)
        });
        let steps: Vec<String> = steps.iter().map(|s| format!("{s}%")).collect();
        let mut plan = Plan::for_app(Operation::CanaryAuto, &place(placement), Vec::new());
        plan.headline = Some(format!(
            "{}/{} auto mode: one step every {interval}s while the verdict passes ({}), abort after {threshold} failed checks in a row",
            placement.env,
            placement.app,
            steps.join(" → ")
        ));
        plan.warnings = vec![
            "each step and an abort go through the operation path (access review, dry run, precondition, audit) without asking again".into(),
            "it stops at the last step (promotion stays yours), on any manual canary key, on the kill switch, or when the console quits".into(),
        ];
        plan
    }

    /// What gates more traffic: the canary's pods for the first step from 0%, the analysis
    /// after it.
    async fn traffic(
        &self,
        session: &Session,
        placement: &Placement,
        target: &CanaryPlace,
        objects: &objects::CanaryObjects,
        request: CanaryRequest,
    ) -> Result<Traffic, Refusal> {
        let current = canary::read_weight(&target.target, &objects.view())?.percent;
        if !canary::raises(request, current) {
            return Ok(Traffic::NotRaised);
        }
        if current == 0 && matches!(request, CanaryRequest::Step | CanaryRequest::Set(_)) {
            return Ok(Traffic::FirstStep(canary_ready(target, &objects.canary)));
        }
        let verdict =
            analysis::verdict(&self.analysis, &self.fleet, session, placement, |m| self.say(m)).await;
        Ok(Traffic::Analysis(verdict))
    }

    /// Every environment's active canaries to 0%, production first, as one plan. An
    /// environment that cannot be reached, is read-only, or refuses a step is left out and
    /// named, rather than holding up the others.
    async fn prepare_kill_switch(&self, request: Request) -> Result<Prepared, Refusal> {
        let now = jiff::Timestamp::now();
        let mut left_out = Vec::new();
        let mut aborts = Vec::new();
        let mut sessions = super::Sessions::default();
        // Promotion order runs towards production: the kill switch runs against it, so the
        // environment with the most at stake is aborted first.
        for env in self.fleet.environments.iter().rev() {
            if env.canaries().next().is_none() {
                continue;
            }
            let session = match self.session(&env.name).await {
                Ok(session) => session,
                Err(e) => {
                    left_out.push(e);
                    continue;
                }
            };
            for (placement, target) in env.canaries() {
                let planned = match fetch_canary(&session, placement, target).await {
                    Ok(objects) => {
                        objects::plan_canary(placement, &[], target, &objects, CanaryRequest::Abort)
                    }
                    Err(e) => {
                        left_out.push(e.into());
                        continue;
                    }
                };
                match planned {
                    Ok(plan) => aborts.push(plan),
                    // Already at 0: nothing to abort.
                    Err(PlanError::Refused(_)) => {}
                    Err(e) => left_out.push(Refusal::Failed(format!("{}/{}: {e}", env.name, placement.app))),
                }
            }
            sessions.insert(session);
        }
        let Some(mut plan) = canary::kill_switch(aborts) else {
            let mut message = "no canary is taking traffic: nothing to abort".to_owned();
            if !left_out.is_empty() {
                let why: Vec<String> = left_out.iter().map(ToString::to_string).collect();
                message = format!("{message} ({})", why.join("; "));
            }
            return Err(Refusal::NothingToDo { message, left_out });
        };
        let mut kept = Vec::new();
        for step in std::mem::take(&mut plan.steps) {
            let checked = match sessions.get(&step.target.env) {
                Some(_) if self.readonly(&step.target.env) => Err(Refusal::Forbidden(format!(
                    "{} is read-only (--readonly or readonly = true): opsdeck sends no writes there",
                    step.target.env
                ))),
                Some(session) => preflight(session, &step).await,
                None => Err(Refusal::Unreachable(format!("{}: not connected", step.target.env))),
            };
            match checked {
                Ok(()) => kept.push(step),
                Err(e) => {
                    plan.warnings.push(format!("{}/{} left out: {e}", step.target.env, step.app));
                    left_out.push(e);
                }
            }
        }
        plan.steps = kept;
        if plan.steps.is_empty() {
            return Err(left_out
                .first()
                .cloned()
                .unwrap_or_else(|| Refusal::Failed("nothing left to abort".into())));
        }
        let mut warnings: Vec<String> = left_out
            .iter()
            .filter(|e| !plan.warnings.iter().any(|w| w.ends_with(&e.to_string())))
            .map(ToString::to_string)
            .collect();
        warnings.append(&mut plan.warnings);
        plan.warnings = warnings;
        let mut policy = Vec::new();
        for env in plan.environments() {
            policy.push((env.to_owned(), self.policy(&plan, env, None, now).await));
        }
        let decision = decide(&Facts {
            plan: &plan,
            readonly: false,
            origin: &request.origin,
            policy,
            traffic: Traffic::NotRaised,
        })?;
        let (user, cluster) = self.users_and_clusters(&plan, &sessions);
        Ok(Prepared {
            request,
            plan,
            decision,
            user,
            cluster,
            left_out,
            approval: self.kill_switch_approval(),
            // The kill switch never asks anyone to step aside.
            held: None,
        })
    }

    /// Who a fleet-wide plan writes as, per environment, and the clusters it writes to.
    fn users_and_clusters(&self, plan: &Plan, sessions: &super::Sessions) -> (String, String) {
        let envs = plan.environments();
        let user = match envs.as_slice() {
            [one] => sessions.get(one).map_or_else(|| "?".to_owned(), |s| s.user.clone()),
            many => many
                .iter()
                .map(|e| format!("{} ({e})", sessions.get(e).map_or("?", |s| s.user.as_str())))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut contexts: Vec<&str> = plan.steps.iter().map(|s| s.target.context.as_str()).collect();
        contexts.dedup();
        let cluster = contexts.iter().map(|c| self.cluster_of(c)).collect::<Vec<_>>().join(", ");
        (user, cluster)
    }
}

/// [`Engine::controller_plan`] over the controller's object as already read.
fn controller_plan_on(
    placement: &Placement,
    kind: Kind,
    object: &Value,
    ask: Result<Verb, CanaryRequest>,
) -> Result<(Plan, Option<String>), Refusal> {
    let verb = match ask {
        Ok(verb) => verb,
        Err(CanaryRequest::Promote) => Verb::Promote,
        Err(CanaryRequest::Abort) => Verb::Abort,
        Err(other) => {
            return Err(Refusal::Precondition(format!(
                "{}/{} is run by {}: its weights follow its own steps, so {} does not apply (use promote, abort, retry, pause, resume{})",
                placement.env,
                placement.app,
                controller_name(kind),
                other.operation().name(),
                if kind == Kind::FlaggerCanary { ", gate open|close NAME" } else { "" }
            )));
        }
    };
    let plan = objects::plan_controller(placement, kind, object, &verb)?;
    Ok((plan, controller_version(object)))
}

fn controller_name(kind: Kind) -> &'static str {
    if kind == Kind::Rollout { "Argo Rollouts" } else { "Flagger" }
}

/// The version a controller brings: the image its template (a Rollout's) or its last
/// applied target (a Canary's status) names, for the checklist gate.
fn controller_version(object: &Value) -> Option<String> {
    object
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .map(crate::health::image_tag)
}

/// May the operator do this, and would the server accept it, and is the object ours to write
/// (not one Argo Rollouts or Flagger drives)? Nothing is stored; a read-only environment sends
/// nothing at all.
async fn preflight(session: &Session, step: &Step) -> Result<(), Refusal> {
    let write = session.writer()?;
    let object = ops::fetch(&session.read, &step.target).await?;
    if let Some(owner) = crate::ops::controllers::owner(&object) {
        return Err(Refusal::Precondition(format!(
            "{} {}/{} is driven by {owner}; opsdeck does not write what a controller owns",
            step.target.kind.name(),
            step.target.namespace,
            step.target.name
        )));
    }
    session.reviews.authorize(&session.read, step).await?;
    // A controller's object changes under the plan by the second: its dry run is held to the
    // plan's fields against the version just read, as its write will be.
    // The controller may write again between the read and the dry run (its status, every
    // pass): read again and retry a few times, as the write itself would be rebased.
    if step.target.kind.is_controller_object() && !matches!(step.via, crate::ops::Via::Proxy(_)) {
        let mut object = object;
        let mut attempts = 0;
        loop {
            match ops::dry_run(write, &super::execute::rebase_on(step, &object)?).await {
                Err(ops::OpError::Conflict(_)) if attempts < 3 => {
                    attempts += 1;
                    object = ops::fetch(&session.read, &step.target).await?;
                }
                result => break result?,
            }
        }
    } else {
        ops::dry_run(write, step).await?;
    }
    // A proxy call has no dry run; what its check answers now says whether it would change
    // anything (and that the service answers at all).
    if let crate::ops::Via::Proxy(call) = &step.via
        && let Some(check) = &call.check
        && ops::proxy_state(write, call).await? == Some(check.status)
    {
        return Err(Refusal::Precondition(format!(
            "the loadtester's /{} already answers {}: {} is already as asked",
            check.path,
            check.status,
            step.diff.first().map_or("the gate", |d| d.field.as_str())
        )));
    }
    Ok(())
}

/// Whether the canary's pods can take traffic now: its rollout complete with pods available.
/// The replica-ratio provider creates the canary's pods with its first step and waits for them
/// before it shrinks stable, so it waits for readiness itself.
fn canary_ready(target: &CanaryPlace, canary: &Value) -> Result<(), String> {
    if !target.target.has_router() {
        return Ok(());
    }
    let Some(d) = deployment_of(canary) else {
        return Err(format!("the canary Deployment {} could not be read", target.deployment));
    };
    match Rollout::of(Some(&d)) {
        Rollout::Complete if d.available > 0 => Ok(()),
        Rollout::Complete | Rollout::Missing => {
            Err(format!("the canary Deployment {} has no pods to serve it", target.deployment))
        }
        Rollout::Paused => Err(format!("the canary Deployment {} is paused", target.deployment)),
        Rollout::Stalled { reason } => Err(format!("the canary's rollout stalled: {reason}")),
        Rollout::Progressing => Err(format!(
            "the canary's pods are not ready ({}/{} available); step again once they are",
            d.available, d.desired
        )),
    }
}
