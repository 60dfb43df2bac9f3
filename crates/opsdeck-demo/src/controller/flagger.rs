//! Flagger, as it runs a Canary with the nginx provider: it copies the target Deployment to
//! `TARGET-primary`, which serves stable traffic, and scales the target to zero. A new revision
//! of the target scales it up again and starts the analysis: every `interval` a check, and
//! the canary Ingress it owns
//! (`TARGET-canary`) gains `stepWeight` up to `maxWeight` while its pods stay ready;
//! `threshold` failed checks roll it back. At `maxWeight` a `confirm-promotion` webhook holds it in `WaitingPromotion` until the
//! loadtester's gate is open; then the primary takes the target's template, the weight goes
//! back to 0 and the target to zero replicas. `spec.suspend` stops all of it where it is; an
//! open `rollback` gate rolls back at the next check.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::rollout::{template_hash, template_key};
use super::{Controller, meta, record_event};
use crate::resources::{CANARIES, DEPLOYMENTS, INGRESSES};
use crate::server::locked;
use crate::store::{Store, now_rfc3339};

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn interval(canary: &Value) -> Duration {
    let text = canary.pointer("/spec/analysis/interval").and_then(Value::as_str).unwrap_or("1m");
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().unwrap_or(60);
    Duration::from_secs(match unit {
        "m" => n * 60,
        "h" => n * 3600,
        _ => n,
    })
}

/// Whether the loadtester has `family` (`gate`, `rollback`) open for this Canary.
fn open(ctl: &Controller, family: &str, canary: &Value) -> bool {
    let key = format!("{family}/{}.{}", meta(canary, "name"), meta(canary, "namespace"));
    locked(&ctl.gates).contains(&key)
}

/// The webhook of `kind` asks the loadtester's `/gate/check` (or `/rollback/check`): `None`
/// without one, else whether it lets Flagger on.
fn gate(ctl: &Controller, canary: &Value, kind: &str) -> Option<bool> {
    let hooks = canary.pointer("/spec/analysis/webhooks").and_then(Value::as_array)?;
    let hook = hooks.iter().find(|h| h.get("type").and_then(Value::as_str) == Some(kind))?;
    let url = hook.get("url").and_then(Value::as_str).unwrap_or("");
    Some(if url.ends_with("/approve") {
        true
    } else if url.ends_with("/halt") {
        false
    } else {
        open(ctl, if kind == "rollback" { "rollback" } else { "gate" }, canary)
    })
}

fn scale(store: &Store, ns: &str, name: &str, to: i64) {
    if store.get(DEPLOYMENTS, ns, name).is_some_and(|d| int(&d, "/spec/replicas") != to) {
        store.mutate(DEPLOYMENTS, ns, name, |d| d["spec"]["replicas"] = json!(to));
    }
}

fn set_weight(store: &Store, ns: &str, target: &str, weight: i64) {
    let name = format!("{target}-canary");
    let weight = weight.to_string();
    let now = store.get(INGRESSES, ns, &name);
    let current = now.as_ref().and_then(|i| {
        i.pointer("/metadata/annotations/nginx.ingress.kubernetes.io~1canary-weight").and_then(Value::as_str)
    });
    if now.is_some() && current != Some(weight.as_str()) {
        store.mutate(INGRESSES, ns, &name, |i| {
            i["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] = json!(weight);
        });
    }
}

fn ready(deployment: Option<&Value>) -> bool {
    deployment.is_some_and(|d| {
        let want = int(d, "/spec/replicas");
        // As `kubectl rollout status` has it: every pod updated and ready, the old ones gone.
        int(d, "/status/readyReplicas") >= want
            && int(d, "/status/updatedReplicas") >= want
            && int(d, "/status/replicas") == want
            && int(d, "/status/observedGeneration") >= int(d, "/metadata/generation")
    })
}

pub fn reconcile_canaries(ctl: &mut Controller, store: &Store) {
    let (canaries, _) = store.list(CANARIES, None, |_| true);
    for canary in &canaries {
        reconcile(ctl, store, canary);
    }
}

fn reconcile(ctl: &mut Controller, store: &Store, canary: &Value) {
    let ns = meta(canary, "namespace");
    let key = format!("{ns}/{}", meta(canary, "name"));
    let Some(target_name) = canary.pointer("/spec/targetRef/name").and_then(Value::as_str) else { return };
    let primary_name = format!("{target_name}-primary");
    let (Some(target), Some(primary)) =
        (store.get(DEPLOYMENTS, ns, target_name), store.get(DEPLOYMENTS, ns, &primary_name))
    else {
        return;
    };
    if canary.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false) {
        ctl.checks.remove(&key);
        return;
    }
    let status = canary.get("status").cloned().unwrap_or_else(|| json!({}));
    let phase = status.get("phase").and_then(Value::as_str).unwrap_or("Initialized").to_owned();
    let revision = template_hash(&template_key(target.pointer("/spec/template").unwrap_or(&Value::Null)));
    let applied = status.get("lastAppliedSpec").and_then(Value::as_str).unwrap_or("").to_owned();
    let replicas = int(&primary, "/spec/replicas").max(1);
    let mut next = status.clone();
    let say = |reason: &str, message: &str, warning: bool| {
        let kind = if warning { "Warning" } else { "Normal" };
        record_event(store, canary, "Canary", kind, reason, message, "flagger");
    };
    match phase.as_str() {
        "Initialized" | "Succeeded" | "Failed" if revision == applied => {
            ctl.checks.remove(&key);
            scale(store, ns, target_name, 0);
        }
        "Initialized" | "Succeeded" | "Failed" => {
            say("Synced", &format!("New revision detected! Scaling up {target_name}.{ns}"), false);
            scale(store, ns, target_name, replicas);
            next["phase"] = json!("Progressing");
            next["canaryWeight"] = json!(0);
            next["iterations"] = json!(0);
            next["failedChecks"] = json!(0);
            ctl.checks.insert(key.clone(), Instant::now());
        }
        _ => {
            let last = *ctl.checks.entry(key.clone()).or_insert_with(Instant::now);
            if ctl.timing.elapsed(last) < interval(canary) {
                return;
            }
            ctl.checks.insert(key.clone(), Instant::now());
            check(ctl, store, canary, &mut next, &phase, &target, &primary, &revision);
        }
    }
    if next != status {
        next["lastTransitionTime"] = json!(now_rfc3339());
        let phase = next["phase"].clone();
        next["conditions"] = json!([{
            "type": "Promoted",
            "status": if phase == "Failed" { "False" } else { "Unknown" },
            "reason": phase,
            "message": match phase.as_str().unwrap_or("") {
                "Succeeded" => "Canary analysis completed successfully, promotion finished.".to_owned(),
                "Failed" => "Canary analysis failed, Deployment scaled to zero.".to_owned(),
                "WaitingPromotion" => "Waiting for approval.".to_owned(),
                "Promoting" | "Finalising" => "Canary analysis completed, starting primary rolling update.".to_owned(),
                _ => "New revision detected, progressing canary analysis.".to_owned(),
            },
        }]);
        store.mutate(CANARIES, ns, meta(canary, "name"), |c| c["status"] = next.clone());
    }
}

/// One analysis check, and what Flagger does after it.
#[allow(clippy::too_many_arguments)]
fn check(
    ctl: &Controller,
    store: &Store,
    canary: &Value,
    next: &mut Value,
    phase: &str,
    target: &Value,
    primary: &Value,
    revision: &str,
) {
    let ns = meta(canary, "namespace");
    let target_name = meta(target, "name");
    let say = |reason: &str, message: &str, warning: bool| {
        let kind = if warning { "Warning" } else { "Normal" };
        record_event(store, canary, "Canary", kind, reason, message, "flagger");
    };
    let weight = int(canary, "/status/canaryWeight");
    let step = int(canary, "/spec/analysis/stepWeight").max(1);
    let max = int(canary, "/spec/analysis/maxWeight").clamp(1, 100);
    let threshold = int(canary, "/spec/analysis/threshold").max(1);
    let rollback = |next: &mut Value, why: &str| {
        say("Synced", &format!("Rolling back {target_name}.{ns} {why}"), true);
        set_weight(store, ns, target_name, 0);
        scale(store, ns, target_name, 0);
        next["phase"] = json!("Failed");
        next["canaryWeight"] = json!(0);
        next["lastAppliedSpec"] = json!(revision);
    };
    match phase {
        "Promoting" => {
            // The primary takes the target's template; finalising once it has rolled out.
            let template = target.pointer("/spec/template").cloned().unwrap_or(Value::Null);
            store.mutate(DEPLOYMENTS, ns, meta(primary, "name"), |p| {
                let mut template = template.clone();
                template["metadata"]["labels"]["app"] = json!(meta(primary, "name"));
                p["spec"]["template"] = template;
            });
            say(
                "Synced",
                &format!("Copying {target_name}.{ns} template spec to {}.{ns}", meta(primary, "name")),
                false,
            );
            next["phase"] = json!("Finalising");
        }
        "Finalising" if ready(Some(primary)) => {
            set_weight(store, ns, target_name, 0);
            scale(store, ns, target_name, 0);
            say("Synced", "Promotion completed! Scaling down", false);
            next["phase"] = json!("Succeeded");
            next["canaryWeight"] = json!(0);
            next["lastAppliedSpec"] = json!(revision);
        }
        "Finalising" => {}
        _ if gate(ctl, canary, "rollback") == Some(true) => rollback(next, "manual rollback"),
        "WaitingPromotion" => {
            if gate(ctl, canary, "confirm-promotion").unwrap_or(true) {
                say("Synced", "Confirm-promotion check passed", false);
                next["phase"] = json!("Promoting");
            }
        }
        _ => {
            // The analysis: a canary whose pods are not all ready (a crash-looping version) fails
            // its checks.
            if !ready(Some(target)) {
                let failed = int(canary, "/status/failedChecks") + 1;
                next["failedChecks"] = json!(failed);
                say(
                    "Synced",
                    &format!("Halt advancement {target_name}.{ns} request-success-rate below threshold"),
                    true,
                );
                if failed >= threshold {
                    rollback(next, &format!("failed checks threshold reached {failed}"));
                }
                return;
            }
            next["iterations"] = json!(int(canary, "/status/iterations") + 1);
            if weight < max {
                if gate(ctl, canary, "confirm-traffic-increase") == Some(false) {
                    say("Synced", "Halt advancement: waiting for the confirm-traffic-increase gate", false);
                    return;
                }
                let to = (weight + step).min(max);
                set_weight(store, ns, target_name, to);
                say("Synced", &format!("Advance {target_name}.{ns} canary weight {to}"), false);
                next["canaryWeight"] = json!(to);
            } else if gate(ctl, canary, "confirm-promotion") == Some(false) {
                say("Synced", "Halt advancement: waiting for approval (confirm-promotion)", false);
                next["phase"] = json!("WaitingPromotion");
            } else {
                next["phase"] = json!("Promoting");
            }
        }
    }
}
