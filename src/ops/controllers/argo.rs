//! An Argo Rollouts Rollout, driven as `kubectl argo rollouts` drives it: the operator's word
//! goes into the fields the rollouts controller reads — `spec.paused`, and on the status
//! subresource `status.pauseConditions`, `status.promoteFull` and `status.abort` — and the
//! controller does the rest (weights, ReplicaSets, analysis). Pure.

use serde_json::{Value, json};

use super::{Verb, target};
use crate::ops::Place;
use crate::ops::plan::{
    DiffLine, Guard, Kind, Operation, PatchBody, Plan, PlanError, Step, Target, Verify, Via,
};

fn flag(rollout: &Value, pointer: &str) -> bool {
    rollout.pointer(pointer).and_then(Value::as_bool).unwrap_or(false)
}

fn steps(rollout: &Value) -> i64 {
    rollout
        .pointer("/spec/strategy/canary/steps")
        .and_then(Value::as_array)
        .map_or(0, |s| i64::try_from(s.len()).unwrap_or(i64::MAX))
}

fn index(rollout: &Value) -> i64 {
    rollout.pointer("/status/currentStepIndex").and_then(Value::as_i64).unwrap_or(0)
}

fn pause_reasons(rollout: &Value) -> Vec<String> {
    rollout
        .pointer("/status/pauseConditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter().filter_map(|c| c.get("reason").and_then(Value::as_str)).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}

/// Whether a new version is under way: the pods' template is not the stable one.
fn in_progress(rollout: &Value) -> bool {
    let text = |p: &str| rollout.pointer(p).and_then(Value::as_str).unwrap_or("");
    let stable = text("/status/stableRS");
    let current = text("/status/currentPodHash");
    !stable.is_empty() && !current.is_empty() && stable != current
}

fn blue_green(rollout: &Value) -> bool {
    rollout.pointer("/spec/strategy/blueGreen").is_some()
}

struct Make<'a> {
    place: &'a Place<'a>,
    target: Target,
    rv: String,
}

impl Make<'_> {
    fn step(&self, via: Via, patch: Value, what: &str, diff: DiffLine, verify: Verify) -> Step {
        Step {
            app: self.place.app.to_owned(),
            target: self.target.clone(),
            from_resource_version: self.rv.clone(),
            guards: Vec::new(),
            patch: PatchBody::Merge(patch),
            via,
            sentence: format!(
                "{} · Rollout {}/{} · {what}",
                self.place.env, self.target.namespace, self.target.name
            ),
            diff: vec![diff],
            verify,
            event_reason: "OpsdeckRollout",
        }
    }
}

fn diff(field: &str, before: &str, after: &str) -> DiffLine {
    DiffLine { field: field.to_owned(), before: before.to_owned(), after: after.to_owned() }
}

/// The plan for `verb` on `rollout` as read now.
pub fn rollout(place: &Place<'_>, verb: &Verb, rollout: &Value) -> Result<Plan, PlanError> {
    let (target, rv) = target(place, Kind::Rollout, rollout)?;
    let what = format!("Rollout {}/{}", target.namespace, target.name);
    let make = Make { place, target, rv };
    let paused = flag(rollout, "/spec/paused");
    let aborted = flag(rollout, "/status/abort");
    let reasons = pause_reasons(rollout);
    let (at, of) = (index(rollout), steps(rollout));
    let position = if blue_green(rollout) { String::new() } else { format!(" at step {at}/{of}") };
    let mut list = Vec::new();
    let operation = match verb {
        Verb::Promote | Verb::PromoteFull => {
            let seen = Seen { what: &what, position: &position, paused, aborted, reasons: &reasons, at, of };
            promote(&make, &seen, *verb == Verb::PromoteFull, rollout, &mut list)?
        }
        Verb::Abort => {
            if aborted {
                return Err(PlanError::Refused(format!("{what} is already aborted")));
            }
            if !in_progress(rollout) {
                return Err(PlanError::Refused(format!(
                    "{what} runs its stable version: there is no update to abort"
                )));
            }
            list.push(make.step(
                Via::Status,
                json!({"status": {"abort": true}}),
                &format!("abort{position}: all traffic back to stable"),
                diff("status.abort", "false", "true"),
                Verify::Stored { pointer: "/status/abort".into(), value: json!(true) },
            ));
            Operation::ControllerAbort
        }
        Verb::Retry => {
            if !aborted {
                return Err(PlanError::Refused(format!("{what} is not aborted: there is nothing to retry")));
            }
            list.push(make.step(
                Via::Status,
                json!({"status": {"abort": false}}),
                "retry the aborted update from its first step",
                diff("status.abort", "true", "false"),
                Verify::Stored { pointer: "/status/abort".into(), value: json!(false) },
            ));
            Operation::ControllerRetry
        }
        Verb::Pause => {
            if paused {
                return Err(PlanError::Refused(format!("{what} is already paused")));
            }
            list.push(make.step(
                Via::Object,
                json!({"spec": {"paused": true}}),
                &format!("pause{position}"),
                diff("spec.paused", "false", "true"),
                Verify::Stored { pointer: "/spec/paused".into(), value: json!(true) },
            ));
            Operation::ControllerPause
        }
        Verb::Resume => {
            if !paused {
                return Err(PlanError::Refused(format!(
                    "{what} is not paused{}",
                    if reasons.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " by an operator; it waits at a pause step ({}): promote it",
                            reasons.join(", ")
                        )
                    }
                )));
            }
            list.push(unpause(&make, paused));
            Operation::ControllerResume
        }
        Verb::Gate { .. } => {
            return Err(PlanError::Refused(format!(
                "{what} is run by Argo Rollouts: gates are Flagger's (use promote, abort, retry, pause or resume)"
            )));
        }
        Verb::Restart { at } => {
            let before = rollout.pointer("/spec/restartAt").and_then(Value::as_str).unwrap_or("<none>");
            let replicas = rollout.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            list.push(make.step(
                Via::Object,
                json!({"spec": {"restartAt": at}}),
                &format!(
                    "restart: the controller replaces its {replicas} pods (every pod started before now)"
                ),
                diff("spec.restartAt", before, at),
                Verify::Stored { pointer: "/spec/restartAt".into(), value: json!(at) },
            ));
            Operation::Restart
        }
    };
    // The first step is written against the plan's resourceVersion; a second (after an unpause)
    // only needs the step index to be where the plan saw it.
    guard(&mut list, rollout);
    Ok(Plan::for_app(operation, place, list))
}

/// What the plan read of the Rollout, for the promotions.
struct Seen<'a> {
    what: &'a str,
    position: &'a str,
    paused: bool,
    aborted: bool,
    reasons: &'a [String],
    at: i64,
    of: i64,
}

/// `promote` clears the pause the Rollout waits at (unpausing it first where an operator
/// paused it); `promote --full` asks for every remaining step to be skipped.
fn promote(
    make: &Make<'_>,
    seen: &Seen<'_>,
    full: bool,
    rollout: &Value,
    list: &mut Vec<Step>,
) -> Result<Operation, PlanError> {
    let Seen { what, position, paused, aborted, reasons, at, of } = *seen;
    if aborted {
        return Err(PlanError::Refused(format!("{what} was aborted: retry it before promoting")));
    }
    if full && !in_progress(rollout) {
        return Err(PlanError::Refused(format!("{what} runs its stable version: nothing to promote")));
    }
    if !full && !paused && reasons.is_empty() {
        return Err(PlanError::Refused(format!(
            "{what} is not paused{position}: Argo Rollouts moves it on by itself (promote --full skips the remaining steps)"
        )));
    }
    if paused {
        list.push(unpause(make, paused));
    }
    if full {
        let verify = if blue_green(rollout) {
            Verify::Stored { pointer: "/status/promoteFull".into(), value: json!(true) }
        } else {
            Verify::AtLeast { pointer: "/status/currentStepIndex".into(), value: of }
        };
        list.push(make.step(
            Via::Status,
            json!({"status": {"promoteFull": true}}),
            &format!("promote --full: skip the remaining steps{position}"),
            diff("status.promoteFull", "false", "true"),
            verify,
        ));
        return Ok(Operation::ControllerPromoteFull);
    }
    if !reasons.is_empty() {
        // The controller moves past the pause step as soon as its conditions go.
        let verify = if blue_green(rollout) {
            Verify::Stored { pointer: "/status/pauseConditions".into(), value: Value::Null }
        } else {
            Verify::AtLeast { pointer: "/status/currentStepIndex".into(), value: at + 1 }
        };
        list.push(make.step(
            Via::Status,
            json!({"status": {"pauseConditions": null}}),
            &format!("promote: clear the pause ({}){position}", reasons.join(", ")),
            diff("status.pauseConditions", &reasons.join(", "), "<none>"),
            verify,
        ));
    }
    Ok(Operation::ControllerPromote)
}

/// A new version into the Rollout's template (`canary start`, a promotion from the previous
/// environment): the Rollout then runs its steps with it. A JSON patch, as a custom resource
/// takes no strategic merge: only the first container's image changes, and the change-cause
/// says why.
pub fn set_image(
    place: &Place<'_>,
    rollout: &Value,
    image: &str,
    cause: &str,
    operation: Operation,
) -> Result<Plan, PlanError> {
    let (target, rv) = target(place, Kind::Rollout, rollout)?;
    let before = rollout
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            PlanError::Invalid(format!("Rollout {}/{} has no container", target.namespace, target.name))
        })?
        .to_owned();
    if before == image {
        return Err(PlanError::Refused(format!("{}/{} already runs {image}", place.env, place.app)));
    }
    if in_progress(rollout) && !flag(rollout, "/status/abort") {
        return Err(PlanError::Refused(format!(
            "Rollout {}/{} is still rolling out its last version: promote or abort it first",
            target.namespace, target.name
        )));
    }
    let cause_path = "/metadata/annotations/kubernetes.io~1change-cause";
    let annotation = if rollout.pointer("/metadata/annotations").is_some() {
        json!({"op": "add", "path": cause_path, "value": cause})
    } else {
        json!({"op": "add", "path": "/metadata/annotations", "value": {"kubernetes.io/change-cause": cause}})
    };
    let image_path = "/spec/template/spec/containers/0/image";
    let step = Step {
        app: place.app.to_owned(),
        sentence: format!(
            "{} · Rollout {}/{} · image {before} → {image}, then the Rollout's steps",
            place.env, target.namespace, target.name
        ),
        diff: vec![
            diff("containers[0].image", &before, image),
            diff(
                "metadata.annotations[kubernetes.io/change-cause]",
                rollout.pointer(cause_path).and_then(Value::as_str).unwrap_or("<none>"),
                cause,
            ),
        ],
        patch: PatchBody::Json(vec![
            json!({"op": "replace", "path": image_path, "value": image}),
            annotation,
        ]),
        via: Via::Object,
        guards: vec![Guard::new(image_path, json!(before))],
        verify: Verify::Stored { pointer: image_path.into(), value: json!(image) },
        event_reason: "OpsdeckRollout",
        from_resource_version: rv,
        target,
    };
    Ok(Plan::for_app(operation, place, vec![step]))
}

/// The rollouts controller rewrites status as it goes; what a plan is made from is which
/// update the Rollout is in, at which step, and whether it was aborted.
fn guard(steps: &mut [Step], rollout: &Value) {
    let seen = |p: &str| Guard::new(p, rollout.pointer(p).cloned().unwrap_or(Value::Null));
    for step in steps {
        step.guards =
            ["/status/currentPodHash", "/status/currentStepIndex", "/status/abort"].map(seen).to_vec();
    }
}

fn unpause(make: &Make<'_>, paused: bool) -> Step {
    make.step(
        Via::Object,
        json!({"spec": {"paused": false}}),
        "resume (spec.paused → false)",
        diff("spec.paused", &paused.to_string(), "false"),
        Verify::Stored { pointer: "/spec/paused".into(), value: json!(false) },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protection;

    fn place() -> Place<'static> {
        Place { env: "production", context: "production", app: "payments", protection: Protection::Typed }
    }

    fn rollout(index: i64, pause: bool, abort: bool) -> Value {
        json!({
            "metadata": {"name": "payments", "namespace": "shop", "resourceVersion": "41"},
            "spec": {"strategy": {"canary": {"steps": [
                {"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "2m"}}, {"setWeight": 100},
            ]}}},
            "status": {
                "currentStepIndex": index, "abort": abort, "stableRS": "aaa", "currentPodHash": "bbb",
                "pauseConditions": if pause { json!([{"reason": "CanaryPauseStep", "startTime": "2026-12-03T10:00:00Z"}]) } else { json!(null) },
            },
        })
    }

    #[test]
    fn promote_clears_the_pause_on_the_status_subresource_and_waits_for_the_next_step() {
        let plan = super::rollout(&place(), &Verb::Promote, &rollout(1, true, false)).expect("a plan");
        assert_eq!(plan.operation, Operation::ControllerPromote);
        let [step] = plan.steps.as_slice() else { panic!("one step: {:?}", plan.steps) };
        assert_eq!(step.via, Via::Status);
        assert_eq!(step.patch, PatchBody::Merge(json!({"status": {"pauseConditions": null}})));
        assert_eq!(step.verify, Verify::AtLeast { pointer: "/status/currentStepIndex".into(), value: 2 });
        assert!(step.sentence.contains("step 1/5"), "{}", step.sentence);
        let moving = super::rollout(&place(), &Verb::Promote, &rollout(2, false, false));
        assert!(matches!(moving, Err(PlanError::Refused(m)) if m.contains("moves it on by itself")));
    }

    #[test]
    fn abort_and_retry_write_status_abort_and_refuse_what_does_not_apply() {
        let abort = super::rollout(&place(), &Verb::Abort, &rollout(1, true, false)).expect("abort");
        assert_eq!(abort.steps[0].patch, PatchBody::Merge(json!({"status": {"abort": true}})));
        assert_eq!(abort.steps[0].via, Via::Status);
        assert!(matches!(
            super::rollout(&place(), &Verb::Abort, &rollout(1, false, true)),
            Err(PlanError::Refused(_))
        ));
        let retry = super::rollout(&place(), &Verb::Retry, &rollout(0, false, true)).expect("retry");
        assert_eq!(retry.steps[0].patch, PatchBody::Merge(json!({"status": {"abort": false}})));
        assert!(matches!(
            super::rollout(&place(), &Verb::Retry, &rollout(1, true, false)),
            Err(PlanError::Refused(_))
        ));
        let promote = super::rollout(&place(), &Verb::Promote, &rollout(0, false, true));
        assert!(matches!(promote, Err(PlanError::Refused(m)) if m.contains("retry it")));
        let gate =
            super::rollout(&place(), &Verb::Gate { name: "x".into(), open: true }, &rollout(1, true, false));
        assert!(matches!(gate, Err(PlanError::Refused(m)) if m.contains("Flagger's")));
    }

    #[test]
    fn pause_and_resume_are_spec_paused_and_promote_full_waits_for_the_last_step() {
        let pause = super::rollout(&place(), &Verb::Pause, &rollout(2, false, false)).expect("pause");
        assert_eq!(
            (pause.steps[0].via.clone(), pause.steps[0].patch.clone()),
            (Via::Object, PatchBody::Merge(json!({"spec": {"paused": true}})))
        );
        let mut paused = rollout(2, false, false);
        paused["spec"]["paused"] = json!(true);
        let full = super::rollout(&place(), &Verb::PromoteFull, &paused).expect("full");
        assert_eq!(full.steps.len(), 2, "unpause, then promoteFull");
        assert_eq!(
            full.steps[1].verify,
            Verify::AtLeast { pointer: "/status/currentStepIndex".into(), value: 5 }
        );
        assert!(super::rollout(&place(), &Verb::Resume, &paused).is_ok());
        assert!(
            matches!(super::rollout(&place(), &Verb::Resume, &rollout(1, true, false)), Err(PlanError::Refused(m)) if m.contains("promote it"))
        );
    }
}
