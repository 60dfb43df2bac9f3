//! The Deployment controller: one ReplicaSet per distinct pod template, revisions numbered as
//! Kubernetes numbers them (a reused template's ReplicaSet takes the next number, which is how
//! `kubectl rollout undo` moves a revision forward), rolling updates within maxSurge and
//! maxUnavailable, and a status that tells the truth.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{Controller, meta, owner_ref, owner_uid, record_event};
use crate::resources::{DEPLOYMENTS, REPLICA_SETS};
use crate::store::{Store, ensure_object, now_rfc3339};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
const HASH_LABEL: &str = "pod-template-hash";
/// Deployment annotations that are not copied onto its ReplicaSets (as the real controller).
const NOT_COPIED: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// The template without the hash label, compared semantically: two templates are the same
/// revision when these match. Like apimachinery's semantic equality, a null, an empty map and
/// an empty list all mean "unset" (kubectl's rollback sends `creationTimestamp: null`).
pub fn template_key(template: &Value) -> String {
    let mut t = template.clone();
    if let Some(labels) = t.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(HASH_LABEL);
    }
    prune_unset(&mut t);
    serde_json::to_string(&t).unwrap_or_default()
}

fn prune_unset(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                prune_unset(v);
            }
            map.retain(|_, v| !is_unset(v));
        }
        Value::Array(items) => items.iter_mut().for_each(prune_unset),
        _ => {}
    }
}

fn is_unset(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

pub fn template_hash(key: &str) -> String {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    super::suffix(hasher.finish())
        .chars()
        .chain(super::suffix(hasher.finish() >> 17).chars())
        .take(10)
        .collect()
}

pub fn revision(object: &Value) -> u64 {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// maxSurge/maxUnavailable: an integer or a percentage of `replicas`.
fn resolve(value: Option<&Value>, replicas: i64, default_percent: i64, round_up: bool) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) if s.ends_with('%') => {
            let percent = s.trim_end_matches('%').parse::<i64>().unwrap_or(default_percent);
            let scaled = replicas * percent;
            if round_up { (scaled + 99) / 100 } else { scaled / 100 }
        }
        _ => {
            let scaled = replicas * default_percent;
            if round_up { (scaled + 99) / 100 } else { scaled / 100 }
        }
    }
}

pub fn reconcile_deployments(ctl: &mut Controller, store: &Store) {
    let (deployments, _) = store.list(DEPLOYMENTS, None, |_| true);
    let (all_rs, _) = store.list(REPLICA_SETS, None, |_| true);
    for deployment in &deployments {
        let owned: Vec<&Value> =
            all_rs.iter().filter(|rs| owner_uid(rs) == Some(meta(deployment, "uid"))).collect();
        reconcile(ctl, store, deployment, &owned);
    }
}

fn reconcile(ctl: &mut Controller, store: &Store, deployment: &Value, owned: &[&Value]) {
    let namespace = meta(deployment, "namespace");
    let name = meta(deployment, "name");
    let replicas = deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let paused = deployment.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false);
    let template = deployment.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let key = template_key(&template);
    let max_revision = owned.iter().map(|rs| revision(rs)).max().unwrap_or(0);

    let mut new_rs = owned
        .iter()
        .find(|rs| template_key(rs.pointer("/spec/template").unwrap_or(&Value::Null)) == key)
        .map(|rs| (*rs).clone());
    if new_rs.is_none() && !paused {
        new_rs = create_replica_set(store, deployment, &template, &key, max_revision + 1);
    }
    let Some(mut new_rs) = new_rs else {
        write_status(ctl, store, deployment, None, owned, replicas);
        return;
    };
    // The ReplicaSet of the template in force carries the newest revision and the
    // Deployment's annotations (change-cause among them).
    let new_name = meta(&new_rs, "name").to_owned();
    let wanted_revision =
        if revision(&new_rs) < max_revision && !paused { max_revision + 1 } else { revision(&new_rs).max(1) };
    if let Some(updated) = store.mutate(REPLICA_SETS, namespace, &new_name, |rs| {
        let old = revision(rs);
        let annotations = ensure_object(rs, "metadata").entry("annotations").or_insert_with(|| json!({}));
        if let (Some(target), Some(source)) = (
            annotations.as_object_mut(),
            deployment.pointer("/metadata/annotations").and_then(Value::as_object),
        ) {
            for (k, v) in source.iter().filter(|(k, _)| !NOT_COPIED.contains(&k.as_str())) {
                target.insert(k.clone(), v.clone());
            }
            if old != wanted_revision {
                target.insert(REVISION.into(), json!(wanted_revision.to_string()));
                if old > 0 {
                    target.insert("deployment.kubernetes.io/revision-history".into(), json!(old.to_string()));
                }
            }
        }
    }) {
        new_rs = updated;
    }
    let revision_text = revision(&new_rs).to_string();
    store.mutate(DEPLOYMENTS, namespace, name, |d| {
        if let Some(annotations) =
            ensure_object(d, "metadata").entry("annotations").or_insert_with(|| json!({})).as_object_mut()
        {
            annotations.insert(REVISION.into(), json!(revision_text));
        }
    });

    let old: Vec<&Value> = owned.iter().filter(|rs| meta(rs, "name") != new_name).copied().collect();
    if !paused {
        scale(store, deployment, &new_rs, &old, replicas);
    }
    let (refreshed, _) =
        store.list(REPLICA_SETS, Some(namespace), |rs| owner_uid(rs) == Some(meta(deployment, "uid")));
    let refs: Vec<&Value> = refreshed.iter().collect();
    let new_now = refreshed.iter().find(|rs| meta(rs, "name") == new_name).cloned();
    write_status(ctl, store, deployment, new_now.as_ref(), &refs, replicas);
}

fn create_replica_set(
    store: &Store,
    deployment: &Value,
    template: &Value,
    key: &str,
    revision: u64,
) -> Option<Value> {
    let rs = replica_set_for(deployment, template, key, revision);
    store.create(REPLICA_SETS, meta(deployment, "namespace"), rs, false).ok()
}

/// The ReplicaSet a Deployment owns for `template`, as the controller would create it.
pub fn replica_set_for(deployment: &Value, template: &Value, key: &str, revision: u64) -> Value {
    let hash = template_hash(key);
    let mut template = template.clone();
    let labels = ensure_object(&mut template, "metadata").entry("labels").or_insert_with(|| json!({}));
    if let Some(labels) = labels.as_object_mut() {
        labels.insert(HASH_LABEL.into(), json!(hash));
    }
    let mut match_labels: Map<String, Value> = deployment
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    match_labels.insert(HASH_LABEL.into(), json!(hash));
    let mut annotations: Map<String, Value> = deployment
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    let replicas = deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    annotations.insert("deployment.kubernetes.io/desired-replicas".into(), json!(replicas.to_string()));
    json!({
        "metadata": {
            "name": format!("{}-{hash}", meta(deployment, "name")),
            "labels": template.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({})),
            "annotations": annotations,
            "ownerReferences": owner_ref("Deployment", deployment),
        },
        "spec": {"replicas": 0, "selector": {"matchLabels": match_labels}, "template": template},
        "status": {"replicas": 0, "observedGeneration": 1},
    })
}

fn set_replicas(store: &Store, deployment: &Value, rs: &Value, to: i64) {
    let from = int(rs, "/spec/replicas");
    if from == to {
        return;
    }
    let name = meta(rs, "name");
    store.mutate(REPLICA_SETS, meta(rs, "namespace"), name, |rs| {
        ensure_object(rs, "spec").insert("replicas".into(), json!(to));
    });
    let direction = if to > from { "up" } else { "down" };
    let message = format!("Scaled {direction} replica set {name} from {from} to {to}");
    record_event(
        store,
        deployment,
        "Deployment",
        "Normal",
        "ScalingReplicaSet",
        &message,
        "deployment-controller",
    );
}

fn scale(store: &Store, deployment: &Value, new_rs: &Value, old: &[&Value], replicas: i64) {
    let recreate = deployment.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
    if recreate {
        let old_pods: i64 = old.iter().map(|rs| int(rs, "/status/replicas")).sum();
        for rs in old {
            set_replicas(store, deployment, rs, 0);
        }
        if old_pods == 0 {
            set_replicas(store, deployment, new_rs, replicas);
        }
        return;
    }
    let rolling = deployment.pointer("/spec/strategy/rollingUpdate");
    let surge = resolve(rolling.and_then(|r| r.get("maxSurge")), replicas, 25, true);
    let mut unavailable = resolve(rolling.and_then(|r| r.get("maxUnavailable")), replicas, 25, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    let new_spec = int(new_rs, "/spec/replicas");
    let total: i64 = new_spec + old.iter().map(|rs| int(rs, "/spec/replicas")).sum::<i64>();
    let target = if new_spec < replicas {
        new_spec + (replicas + surge - total).clamp(0, replicas - new_spec)
    } else {
        replicas
    };
    set_replicas(store, deployment, new_rs, target);

    let available: i64 = int(new_rs, "/status/availableReplicas")
        + old.iter().map(|rs| int(rs, "/status/availableReplicas")).sum::<i64>();
    let mut budget = (available - (replicas - unavailable)).max(0);
    let mut by_age: Vec<&&Value> = old.iter().collect();
    by_age.sort_by_key(|rs| revision(rs));
    for rs in by_age {
        let spec = int(rs, "/spec/replicas");
        if spec == 0 {
            continue;
        }
        // Old pods that are not available can go at once: removing them costs no capacity.
        let unhealthy = (spec - int(rs, "/status/availableReplicas")).max(0);
        let healthy = (spec - unhealthy).min(budget);
        budget -= healthy;
        set_replicas(store, deployment, rs, spec - unhealthy - healthy);
    }
}

fn condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    previous: Option<&Value>,
) -> Value {
    // lastTransitionTime only moves when the status does.
    let transition = previous
        .filter(|p| p.get("status").and_then(Value::as_str) == Some(status))
        .and_then(|p| p.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now));
    let update = previous
        .filter(|p| {
            p.get("reason").and_then(Value::as_str) == Some(reason)
                && p.get("status").and_then(Value::as_str) == Some(status)
        })
        .and_then(|p| p.get("lastUpdateTime").cloned())
        .unwrap_or_else(|| json!(now));
    json!({"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": transition, "lastUpdateTime": update})
}

/// When the rollout last moved (any ReplicaSet's desired, current or available count), for the
/// progress deadline.
fn progress_since(ctl: &mut Controller, key: String, owned: &[&Value]) -> Instant {
    let fingerprint = owned
        .iter()
        .map(|rs| {
            let n = |p: &str| int(rs, p);
            format!(
                "{}:{}:{}:{}",
                meta(rs, "name"),
                n("/spec/replicas"),
                n("/status/replicas"),
                n("/status/availableReplicas")
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    match ctl.progress.get(&key) {
        Some((previous, at)) if *previous == fingerprint => *at,
        _ => {
            let now = Instant::now();
            ctl.progress.insert(key, (fingerprint, now));
            now
        }
    }
}

fn write_status(
    ctl: &mut Controller,
    store: &Store,
    deployment: &Value,
    new_rs: Option<&Value>,
    owned: &[&Value],
    replicas: i64,
) {
    let namespace = meta(deployment, "namespace");
    let name = meta(deployment, "name");
    let key = format!("{namespace}/{name}");
    let sum = |p: &str| owned.iter().map(|rs| int(rs, p)).sum::<i64>();
    let (total, ready, available) =
        (sum("/status/replicas"), sum("/status/readyReplicas"), sum("/status/availableReplicas"));
    let updated = new_rs.map_or(0, |rs| int(rs, "/status/replicas"));
    let updated_available = new_rs.map_or(0, |rs| int(rs, "/status/availableReplicas"));
    let rolling = deployment.pointer("/spec/strategy/rollingUpdate");
    let max_unavailable = resolve(rolling.and_then(|r| r.get("maxUnavailable")), replicas, 25, false);
    let paused = deployment.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false);
    let deadline = deployment.pointer("/spec/progressDeadlineSeconds").and_then(Value::as_u64).unwrap_or(600);
    let rs_name = new_rs.map_or("", |rs| meta(rs, "name"));

    let since = progress_since(ctl, key, owned);
    let previous = |kind: &str| {
        deployment
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind)))
            .cloned()
    };
    let now = now_rfc3339();
    let complete =
        updated == replicas && total == replicas && available == replicas && updated_available == replicas;
    let (status, reason, message) = if paused {
        ("Unknown", "DeploymentPaused", "Deployment is paused".to_owned())
    } else if complete {
        ("True", "NewReplicaSetAvailable", format!("ReplicaSet {rs_name:?} has successfully progressed."))
    } else if ctl.timing.elapsed(since).as_secs() > deadline {
        ("False", "ProgressDeadlineExceeded", format!("ReplicaSet {rs_name:?} has timed out progressing."))
    } else {
        ("True", "ReplicaSetUpdated", format!("ReplicaSet {rs_name:?} is progressing."))
    };
    let progressing =
        condition("Progressing", status, reason, &message, &now, previous("Progressing").as_ref());
    let (status, reason, message) = if available >= replicas - max_unavailable {
        ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    } else {
        ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
    };
    let available_condition =
        condition("Available", status, reason, message, &now, previous("Available").as_ref());
    let mut status = json!({
        "observedGeneration": deployment.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "conditions": [available_condition, progressing],
    });
    if replicas - available > 0
        && let Some(map) = status.as_object_mut()
    {
        map.insert("unavailableReplicas".into(), json!(replicas - available));
    }
    // Kubernetes omits zero counts; kubectl and kube read absence as zero.
    if let Some(map) = status.as_object_mut() {
        map.retain(|_, v| v.as_i64() != Some(0));
    }
    store.mutate(DEPLOYMENTS, namespace, name, |d| {
        if let Some(map) = d.as_object_mut() {
            map.insert("status".into(), status);
        }
    });
}
