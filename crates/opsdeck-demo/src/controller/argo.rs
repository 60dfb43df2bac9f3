//! Argo Rollouts, as its controller runs a canary Rollout: the Rollout owns a ReplicaSet per
//! pod template; the stable one keeps every replica while the canary's grows with each
//! `setWeight`, the canary Ingress it owns (`ROLLOUT-STABLEINGRESS-canary`) carries the weight,
//! a `pause: {}` waits for `kubectl argo rollouts promote` (the pause conditions cleared), a
//! timed pause ends by itself, `status.abort` sends every request back to stable, and after
//! the last step the canary becomes stable. What the controller reads and writes are the
//! fields `kubectl argo rollouts` and opsdeck write: `spec.paused`, `status.pauseConditions`,
//! `status.controllerPause`, `status.promoteFull`, `status.abort`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::rollout::{replica_set_for, template_key};
use super::{Controller, meta, owner_uid, record_event};
use crate::resources::{INGRESSES, PODS, REPLICA_SETS, ROLLOUTS};
use crate::store::{Store, now_rfc3339};

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn flag(object: &Value, pointer: &str) -> bool {
    object.pointer(pointer).and_then(Value::as_bool).unwrap_or(false)
}

/// "2m", "30s", "1h", or a bare number of seconds.
fn duration(value: &Value) -> Option<Duration> {
    if let Some(n) = value.as_u64() {
        return Some(Duration::from_secs(n));
    }
    let text = value.as_str()?;
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().ok()?;
    Some(Duration::from_secs(match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return None,
    }))
}

pub fn reconcile_rollouts(ctl: &mut Controller, store: &Store) {
    let (rollouts, _) = store.list(ROLLOUTS, None, |_| true);
    for rollout in &rollouts {
        reconcile(ctl, store, rollout);
    }
}

/// The Rollout's owner reference, as its ReplicaSets and canary Ingress carry it.
fn owner(rollout: &Value) -> Value {
    json!([{
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": meta(rollout, "name"),
        "uid": meta(rollout, "uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

/// The ReplicaSet for the Rollout's template, created if missing; its hash.
fn current_rs(store: &Store, rollout: &Value, owned: &[Value]) -> Option<(String, Value)> {
    let template = rollout.pointer("/spec/template")?;
    let key = template_key(template);
    let name = meta(rollout, "name");
    if let Some(rs) =
        owned.iter().find(|rs| rs.pointer("/spec/template").map(template_key).as_ref() == Some(&key))
    {
        return Some((meta(rs, "name").trim_start_matches(&format!("{name}-")).to_owned(), rs.clone()));
    }
    let revision = owned.iter().map(super::rollout::revision).max().unwrap_or(0) + 1;
    let mut rs = replica_set_for(rollout, template, &key, revision);
    rs["metadata"]["ownerReferences"] = owner(rollout);
    rs["metadata"]["annotations"]["rollout.argoproj.io/revision"] = json!(revision.to_string());
    let created = store.create(REPLICA_SETS, meta(rollout, "namespace"), rs, false).ok()?;
    Some((meta(&created, "name").trim_start_matches(&format!("{name}-")).to_owned(), created))
}

fn set_replicas(store: &Store, rollout: &Value, rs: &Value, to: i64) {
    let from = int(rs, "/spec/replicas");
    if from == to {
        return;
    }
    let name = meta(rs, "name");
    store.mutate(REPLICA_SETS, meta(rs, "namespace"), name, |rs| rs["spec"]["replicas"] = json!(to));
    let direction = if to > from { "up" } else { "down" };
    let message = format!(
        "Scaled {direction} ReplicaSet {name} (revision {}) from {from} to {to}",
        super::rollout::revision(rs)
    );
    record_event(store, rollout, "Rollout", "Normal", "ScalingReplicaSet", &message, "rollouts-controller");
}

/// The canary Ingress the nginx traffic router keeps, at `weight`.
fn set_weight(store: &Store, rollout: &Value, weight: i64) {
    let Some(stable) =
        rollout.pointer("/spec/strategy/canary/trafficRouting/nginx/stableIngress").and_then(Value::as_str)
    else {
        return;
    };
    let ns = meta(rollout, "namespace");
    let name = format!("{}-{stable}-canary", meta(rollout, "name"));
    let weight = weight.to_string();
    let annotate = |ingress: &mut Value| {
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"] = json!("true");
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] = json!(weight);
    };
    match store.get(INGRESSES, ns, &name) {
        Some(ingress)
            if ingress
                .pointer("/metadata/annotations/nginx.ingress.kubernetes.io~1canary-weight")
                .and_then(Value::as_str)
                == Some(weight.as_str()) => {}
        Some(_) => {
            store.mutate(INGRESSES, ns, &name, annotate);
        }
        None => {
            let Some(mut ingress) = store.get(INGRESSES, ns, stable) else { return };
            ingress = json!({"metadata": {"name": name, "ownerReferences": owner(rollout), "annotations": {}}, "spec": ingress["spec"].clone()});
            let canary_service =
                rollout.pointer("/spec/strategy/canary/canaryService").and_then(Value::as_str).unwrap_or("");
            if let Some(paths) = ingress.pointer_mut("/spec/rules/0/http/paths/0/backend/service/name") {
                *paths = json!(canary_service);
            }
            annotate(&mut ingress);
            let _ = store.create(INGRESSES, ns, ingress, false);
        }
    }
}

/// A new template: its update starts again from the first step, nothing carried over.
fn fresh_update(status: &mut Value, hash: &str) {
    if status.get("currentPodHash").and_then(Value::as_str).is_none_or(|seen| seen == hash) {
        return;
    }
    for (field, value) in [
        ("currentStepIndex", json!(0)),
        ("abort", json!(false)),
        ("promoteFull", json!(false)),
        ("controllerPause", json!(false)),
        ("pauseConditions", Value::Null),
    ] {
        status[field] = value;
    }
}

/// The revision the rollouts controller gives a ReplicaSet, and so the Rollout that runs it.
fn revision_of(rs: &Value) -> u64 {
    super::rollout::revision(rs).max(
        rs.pointer("/metadata/annotations/rollout.argoproj.io~1revision")
            .and_then(Value::as_str)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0),
    )
}

/// `spec.restartAt` newer than the last restart: every pod of the Rollout goes, and its
/// ReplicaSets bring new ones up.
fn restart(store: &Store, rollout: &Value, status: &Value, owned: &[Value]) {
    let Some(at) = rollout.pointer("/spec/restartAt").and_then(Value::as_str) else { return };
    if status.get("restartedAt").and_then(Value::as_str).is_some_and(|done| done >= at) {
        return;
    }
    let uids: Vec<&str> = owned.iter().map(|rs| meta(rs, "uid")).collect();
    let ns = meta(rollout, "namespace");
    let (pods, _) = store.list(PODS, Some(ns), |pod| owner_uid(pod).is_some_and(|uid| uids.contains(&uid)));
    for pod in &pods {
        let _ = store.delete(PODS, ns, meta(pod, "name"), false);
    }
    let message = format!("Rollout restarted: {} pods replaced", pods.len());
    record_event(store, rollout, "Rollout", "Normal", "RolloutRestarted", &message, "rollouts-controller");
}

/// Where the steps have got to, and what the Rollout's status says of it.
struct Progress {
    index: i64,
    /// The canary's share of traffic, as the router is set.
    weight: i64,
    /// The weight the canary's ReplicaSet is sized for: ahead of `weight` while its new pods
    /// come up.
    scale: i64,
    pause: Option<&'static str>,
    phase: &'static str,
    message: String,
}

fn ready(rs: &Value) -> bool {
    int(rs, "/status/readyReplicas") >= int(rs, "/spec/replicas")
}

fn reconcile(ctl: &mut Controller, store: &Store, rollout: &Value) {
    let ns = meta(rollout, "namespace");
    let name = meta(rollout, "name");
    let uid = meta(rollout, "uid");
    let (owned, _) = store.list(REPLICA_SETS, Some(ns), |rs| owner_uid(rs) == Some(uid));
    let Some((hash, canary_rs)) = current_rs(store, rollout, &owned) else { return };
    let replicas = rollout.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let steps =
        rollout.pointer("/spec/strategy/canary/steps").and_then(Value::as_array).cloned().unwrap_or_default();
    let count = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let mut status = rollout.get("status").cloned().unwrap_or_else(|| json!({}));
    fresh_update(&mut status, &hash);
    let stable_hash = status.get("stableRS").and_then(Value::as_str).unwrap_or(&hash).to_owned();
    let stable_rs = owned
        .iter()
        .find(|rs| meta(rs, "name") == format!("{name}-{stable_hash}"))
        .cloned()
        .unwrap_or_else(|| canary_rs.clone());
    let aborted = flag(&status, "/abort");
    let paused = flag(rollout, "/spec/paused");
    restart(store, rollout, &status, &owned);
    let key = format!("{ns}/{name}");
    let progress = if hash == stable_hash {
        Progress { index: count, weight: 0, scale: 0, pause: None, phase: "Healthy", message: String::new() }
    } else if aborted {
        Progress {
            index: 0,
            weight: 0,
            scale: 0,
            pause: None,
            phase: "Degraded",
            message: format!(
                "RolloutAborted: Rollout aborted update to revision {}",
                super::rollout::revision(&canary_rs)
            ),
        }
    } else {
        advance(ctl, &key, &status, &steps, &canary_rs, replicas, paused)
    };
    // Scale: the canary by its weight (all of it once promoted), stable always in full.
    let promoted = hash != stable_hash && progress.index >= count && !aborted;
    let canary_replicas = if hash == stable_hash || aborted {
        0
    } else if promoted {
        replicas
    } else {
        (progress.scale * replicas + 99) / 100
    };
    if hash != stable_hash {
        set_replicas(store, rollout, &canary_rs, canary_replicas);
        set_replicas(store, rollout, &stable_rs, replicas);
    }
    let mut stable_now = stable_hash.clone();
    if promoted && ready(&store.get(REPLICA_SETS, ns, meta(&canary_rs, "name")).unwrap_or_default()) {
        // The canary is the new stable: the old ReplicaSets go.
        stable_now.clone_from(&hash);
        for rs in owned.iter().filter(|rs| meta(rs, "name") != meta(&canary_rs, "name")) {
            set_replicas(store, rollout, rs, 0);
        }
        set_replicas(store, rollout, &canary_rs, replicas);
        record_event(
            store,
            rollout,
            "Rollout",
            "Normal",
            "RolloutCompleted",
            &format!("Rollout completed update to revision {}", super::rollout::revision(&canary_rs)),
            "rollouts-controller",
        );
    }
    let healthy = stable_now == hash;
    let weight = if healthy {
        0
    } else if promoted {
        100
    } else {
        progress.weight
    };
    set_weight(store, rollout, weight);
    let names = (hash.as_str(), stable_now.as_str(), meta(&canary_rs, "name"));
    let mut next = status_of(store, rollout, &status, &progress, names, (weight, count));
    // The store keeps no nulls: compared with them, every pass would be a write.
    if let Some(fields) = next.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    let stored = rollout.get("status").cloned().unwrap_or_else(|| json!({}));
    let revision = revision_of(&canary_rs);
    let annotated = rollout
        .pointer("/metadata/annotations/rollout.argoproj.io~1revision")
        .and_then(Value::as_str)
        .and_then(|r| r.parse::<u64>().ok());
    if stored != next || annotated != Some(revision) {
        store.mutate(ROLLOUTS, ns, name, |r| {
            r["status"] = next.clone();
            r["metadata"]["annotations"]["rollout.argoproj.io/revision"] = json!(revision.to_string());
        });
    }
    if progress.pause.is_none() {
        ctl.pauses.remove(&key);
    }
}

/// The Rollout's status after this pass: replicas summed over its ReplicaSets, the hashes,
/// the step, the weights, and what is left of the operator's fields.
fn status_of(
    store: &Store,
    rollout: &Value,
    status: &Value,
    progress: &Progress,
    (hash, stable_now, canary_rs): (&str, &str, &str),
    (weight, count): (i64, i64),
) -> Value {
    let uid = meta(rollout, "uid");
    let healthy = stable_now == hash;
    let (owned, _) =
        store.list(REPLICA_SETS, Some(meta(rollout, "namespace")), |rs| owner_uid(rs) == Some(uid));
    let sum = |pointer: &str| owned.iter().map(|rs| int(rs, pointer)).sum::<i64>();
    let canary_now = owned.iter().find(|rs| meta(rs, "name") == canary_rs);
    let pause_conditions = match progress.pause {
        Some(reason) if !healthy => {
            let since = status
                .pointer("/pauseConditions/0/startTime")
                .cloned()
                .unwrap_or_else(|| json!(now_rfc3339()));
            json!([{"reason": reason, "startTime": since}])
        }
        _ => Value::Null,
    };
    let (phase, message) =
        if healthy { ("Healthy", String::new()) } else { (progress.phase, progress.message.clone()) };
    json!({
        "observedGeneration": rollout.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1).to_string(),
        "replicas": sum("/status/replicas"),
        "updatedReplicas": canary_now.map_or(0, |rs| int(rs, "/status/replicas")),
        "readyReplicas": sum("/status/readyReplicas"),
        "availableReplicas": sum("/status/availableReplicas"),
        "currentPodHash": hash,
        "stableRS": stable_now,
        "currentStepIndex": if healthy { count } else { progress.index },
        "currentStepHash": hash,
        "phase": phase,
        "message": message,
        "abort": flag(status, "/abort") && !healthy,
        "controllerPause": progress.pause.is_some() && !healthy,
        "pauseConditions": pause_conditions,
        "promoteFull": flag(status, "/promoteFull") && !healthy,
        "restartedAt": rollout.pointer("/spec/restartAt").cloned().unwrap_or(Value::Null),
        "canary": {"weights": {
            "canary": {"weight": weight, "podTemplateHash": hash},
            "stable": {"weight": 100 - weight, "podTemplateHash": stable_now},
        }},
    })
}

/// Walks the steps from the current index as far as they go this pass.
#[allow(clippy::too_many_arguments)]
fn advance(
    ctl: &mut Controller,
    key: &str,
    status: &Value,
    steps: &[Value],
    canary_rs: &Value,
    replicas: i64,
    paused: bool,
) -> Progress {
    let count = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let mut index = status.get("currentStepIndex").and_then(Value::as_i64).unwrap_or(0).clamp(0, count);
    let weight_at = |index: i64| {
        steps
            .iter()
            .take(usize::try_from(index + 1).unwrap_or(0))
            .filter_map(|s| s.get("setWeight").and_then(Value::as_i64))
            .next_back()
            .unwrap_or(0)
    };
    if flag(status, "/promoteFull") {
        return Progress {
            index: count,
            weight: 100,
            scale: 100,
            pause: None,
            phase: "Progressing",
            message: "more replicas need to be updated".into(),
        };
    }
    if paused {
        return Progress {
            index,
            weight: weight_at(index),
            scale: weight_at(index),
            pause: None,
            phase: "Paused",
            message: "manually paused".into(),
        };
    }
    let conditions = status.get("pauseConditions").and_then(Value::as_array).is_some_and(|c| !c.is_empty());
    // An operator's promote clears the conditions the controller set: that pause step is done,
    // and only that one.
    let mut released = flag(status, "/controllerPause") && !conditions;
    while index < count {
        let step = &steps[usize::try_from(index).unwrap_or(0)];
        if let Some(pause) = step.get("pause") {
            if released {
                released = false;
                ctl.pauses.remove(key);
                index += 1;
                continue;
            }
            let limit = pause.get("duration").and_then(duration);
            let (started, _) = *ctl.pauses.entry(key.to_owned()).or_insert_with(|| (Instant::now(), limit));
            if limit.is_some_and(|limit| ctl.timing.elapsed(started) >= limit) {
                ctl.pauses.remove(key);
                index += 1;
                continue;
            }
            return Progress {
                index,
                weight: weight_at(index),
                scale: weight_at(index),
                pause: Some("CanaryPauseStep"),
                phase: "Paused",
                message: "CanaryPauseStep".into(),
            };
        }
        if let Some(weight) = step.get("setWeight").and_then(Value::as_i64) {
            // The canary's pods for this weight come up first; the traffic router moves only
            // once they are ready, so the weight stays where it was until then.
            let wanted = (weight * replicas + 99) / 100;
            if int(canary_rs, "/spec/replicas") < wanted || int(canary_rs, "/status/readyReplicas") < wanted {
                return Progress {
                    index,
                    scale: weight,
                    weight: weight_at(index - 1),
                    pause: None,
                    phase: "Progressing",
                    message: "more replicas need to be updated".into(),
                };
            }
        }
        index += 1;
    }
    Progress {
        index: count,
        weight: 100,
        scale: 100,
        pause: None,
        phase: "Progressing",
        message: "waiting for the canary to become stable".into(),
    }
}
