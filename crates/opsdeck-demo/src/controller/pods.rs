//! The ReplicaSet controller and the kubelet's part: pods created and deleted to match a
//! ReplicaSet, then Pending, Running, Ready — or crash-looping when the image tag says
//! `crash`, or stuck pulling when it says `pullfail`.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Value, json};

use super::{Controller, meta, owner_ref, owner_uid, record_event};
use crate::resources::{PODS, REPLICA_SETS};
use crate::store::{Store, now_rfc3339};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    /// Running, not ready yet.
    Starting,
    Ready,
    /// Restarted this many times so far.
    Crashing(u32),
    PullFailing,
}

/// What the controllers remember of a pod.
#[derive(Debug, Clone)]
pub struct PodState {
    pub namespace: String,
    pub name: String,
    pub owner_uid: String,
    /// The Deployment that owns the pod's ReplicaSet, by name.
    pub deployment: String,
    /// The first container's image tag.
    pub version: String,
    pub created: Instant,
    pub phase: Phase,
    /// The pod's labels, for the Services that select it.
    pub labels: std::collections::BTreeMap<String, String>,
    images: Vec<(String, String)>,
    pub pod_ip: String,
    host_ip: String,
    created_at: String,
}

impl PodState {
    pub fn ready(&self) -> bool {
        self.phase == Phase::Ready
    }
}

fn tag(image: &str) -> &str {
    let after_slash = image.rsplit('/').next().unwrap_or(image);
    match after_slash.split_once('@') {
        Some((_, digest)) => digest,
        None => after_slash.split_once(':').map_or("latest", |(_, tag)| tag),
    }
}

/// The Deployment name behind a ReplicaSet: its controller owner's name.
fn deployment_of(rs: &Value) -> String {
    rs.pointer("/metadata/ownerReferences/0/name").and_then(Value::as_str).unwrap_or("").to_owned()
}

fn state_from(ctl: &mut Controller, pod: &Value, rs: Option<&Value>) -> PodState {
    let seq = ctl.next_seq();
    let images: Vec<(String, String)> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("app").to_owned(),
                        c["image"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let node_index = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .and_then(|n| ctl.nodes.iter().position(|x| x == n))
        .unwrap_or(0);
    PodState {
        namespace: meta(pod, "namespace").to_owned(),
        name: meta(pod, "name").to_owned(),
        owner_uid: owner_uid(pod).unwrap_or("").to_owned(),
        deployment: rs.map(deployment_of).unwrap_or_default(),
        version: images.first().map(|(_, i)| tag(i).to_owned()).unwrap_or_default(),
        created: if ctl.warm {
            let head_start =
                (ctl.timing.pod_start + ctl.timing.pod_ready).div_f64(ctl.timing.speed.max(0.001));
            Instant::now().checked_sub(head_start).unwrap_or_else(Instant::now)
        } else {
            Instant::now()
        },
        phase: Phase::Pending,
        labels: pod
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|l| l.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default(),
        images,
        pod_ip: format!("10.{}.{}.{}", 40 + ctl.cluster, (seq / 250) % 250, seq % 250 + 1),
        host_ip: format!("172.18.{}.{}", ctl.cluster, node_index + 2),
        created_at: meta(pod, "creationTimestamp").to_owned(),
    }
}

pub fn reconcile_replica_sets(ctl: &mut Controller, store: &Store) {
    let (replica_sets, _) = store.list(REPLICA_SETS, None, |_| true);
    // Pods deleted through the API leave; pods created through it are adopted.
    let present: HashSet<String> = store.keys(PODS).into_iter().map(|(ns, n)| format!("{ns}/{n}")).collect();
    ctl.pods.retain(|key, _| present.contains(key));
    for key in present.iter().filter(|k| !ctl.pods.contains_key(*k)).cloned().collect::<Vec<_>>() {
        let Some((ns, name)) = key.split_once('/') else { continue };
        if let Some(pod) = store.get(PODS, ns, name) {
            let owner = owner_uid(&pod).map(str::to_owned);
            let rs = replica_sets.iter().find(|rs| Some(meta(rs, "uid")) == owner.as_deref());
            let state = state_from(ctl, &pod, rs);
            ctl.pods.insert(key, state);
        }
    }
    for rs in &replica_sets {
        let uid = meta(rs, "uid");
        let desired = rs.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0).max(0) as usize;
        let mut mine: Vec<(String, bool, Instant)> = ctl
            .pods
            .iter()
            .filter(|(_, p)| p.owner_uid == uid)
            .map(|(k, p)| (k.clone(), p.ready(), p.created))
            .collect();
        if mine.len() < desired {
            for _ in mine.len()..desired {
                create_pod(ctl, store, rs);
            }
        } else if mine.len() > desired {
            // Not-ready pods go first, then the youngest, as the ReplicaSet controller chooses.
            mine.sort_by_key(|(_, ready, created)| (*ready, std::cmp::Reverse(*created)));
            for (key, _, _) in mine.iter().take(mine.len() - desired) {
                if let Some((ns, name)) = key.split_once('/') {
                    let _ = store.delete(PODS, ns, name, false);
                }
                ctl.pods.remove(key);
            }
        }
        let owned: Vec<&PodState> = ctl.pods.values().filter(|p| p.owner_uid == uid).collect();
        let ready = owned.iter().filter(|p| p.ready()).count();
        let status = json!({
            "replicas": owned.len(),
            "fullyLabeledReplicas": owned.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        });
        let mut status = status;
        if let Some(map) = status.as_object_mut() {
            map.retain(|k, v| k == "replicas" || v.as_i64() != Some(0));
        }
        if rs.get("status") != Some(&status) {
            store.mutate(REPLICA_SETS, meta(rs, "namespace"), meta(rs, "name"), |rs| {
                if let Some(map) = rs.as_object_mut() {
                    map.insert("status".into(), status);
                }
            });
        }
    }
}

fn create_pod(ctl: &mut Controller, store: &Store, rs: &Value) {
    let template = rs.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    let node = if ctl.nodes.is_empty() {
        String::new()
    } else {
        ctl.nodes[(ctl.seq as usize) % ctl.nodes.len()].clone()
    };
    if let Some(map) = spec.as_object_mut() {
        map.insert("nodeName".into(), json!(node));
        map.entry("restartPolicy").or_insert(json!("Always"));
        map.entry("schedulerName").or_insert(json!("default-scheduler"));
        map.entry("terminationGracePeriodSeconds").or_insert(json!(30));
    }
    let rs_name = meta(rs, "name");
    let name = format!("{rs_name}-{}", ctl.name_suffix());
    let pod = json!({
        "metadata": {
            "name": name,
            "generateName": format!("{rs_name}-"),
            "labels": template.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({})),
            "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or_else(|| json!({})),
            "ownerReferences": owner_ref("ReplicaSet", rs),
        },
        "spec": spec,
    });
    let Ok(created) = store.create(PODS, meta(rs, "namespace"), pod, false) else { return };
    let mut state = state_from(ctl, &created, Some(rs));
    let status = pod_status(&state, None);
    store.mutate(PODS, &state.namespace, &state.name, |pod| {
        if let Some(map) = pod.as_object_mut() {
            map.insert("status".into(), status);
        }
    });
    state.phase = Phase::Pending;
    ctl.pods.insert(format!("{}/{}", state.namespace, state.name), state);
}

fn next_phase(ctl: &Controller, pod: &PodState) -> Phase {
    let timing = ctl.timing;
    let elapsed = timing.elapsed(pod.created);
    if elapsed < timing.pod_start {
        return Phase::Pending;
    }
    let images = || pod.images.iter().map(|(_, image)| tag(image));
    if images().any(|t| t.contains("pullfail")) {
        return Phase::PullFailing;
    }
    if images().any(|t| t.contains("crash")) {
        let since = elapsed.saturating_sub(timing.pod_start).as_secs_f64();
        let every = timing.crash_every.as_secs_f64().max(0.001);
        return Phase::Crashing(1 + (since / every) as u32);
    }
    if elapsed < timing.pod_start + timing.pod_ready { Phase::Starting } else { Phase::Ready }
}

pub fn advance_pods(ctl: &mut Controller, store: &Store) {
    let changes: Vec<(String, Phase)> = ctl
        .pods
        .iter()
        .filter_map(|(key, pod)| {
            let next = next_phase(ctl, pod);
            (next != pod.phase).then(|| (key.clone(), next))
        })
        .collect();
    for (key, phase) in changes {
        let Some(state) = ctl.pods.get_mut(&key) else { continue };
        state.phase = phase;
        let state = state.clone();
        let status = pod_status(&state, Some(&now_rfc3339()));
        let Some(pod) = store.mutate(PODS, &state.namespace, &state.name, |pod| {
            if let Some(map) = pod.as_object_mut() {
                map.insert("status".into(), status);
            }
        }) else {
            continue;
        };
        let container = state.images.first().map_or("app", |(n, _)| n.as_str());
        match phase {
            Phase::Crashing(_) => {
                let message = format!(
                    "Back-off restarting failed container {container} in pod {}_{}({})",
                    state.name,
                    state.namespace,
                    meta(&pod, "uid")
                );
                record_event(store, &pod, "Pod", "Warning", "BackOff", &message, "kubelet");
            }
            Phase::PullFailing => {
                let image = state.images.first().map_or("", |(_, i)| i.as_str());
                let message = format!(
                    "Failed to pull image {image:?}: rpc error: code = NotFound desc = failed to pull and unpack image {image:?}: not found"
                );
                record_event(store, &pod, "Pod", "Warning", "Failed", &message, "kubelet");
            }
            _ => {}
        }
    }
}

fn condition(kind: &str, ok: bool, at: &str) -> Value {
    json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": at})
}

/// The pod's status for its phase. `now` stamps the moment of a crash.
fn pod_status(pod: &PodState, now: Option<&str>) -> Value {
    let at = pod.created_at.as_str();
    let running = !matches!(pod.phase, Phase::Pending | Phase::PullFailing);
    let ready = pod.phase == Phase::Ready;
    let containers: Vec<Value> = pod
        .images
        .iter()
        .map(|(name, image)| {
            let (state, last, restarts) = match pod.phase {
                Phase::Pending => (json!({"waiting": {"reason": "ContainerCreating"}}), json!({}), 0),
                Phase::PullFailing => (
                    json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image {image:?}")}}),
                    json!({}),
                    0,
                ),
                Phase::Crashing(n) => (
                    json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 40s restarting failed container={name} pod={}", pod.name)}}),
                    json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": at, "finishedAt": now.unwrap_or(at)}}),
                    n,
                ),
                Phase::Starting | Phase::Ready => (json!({"running": {"startedAt": at}}), json!({}), 0),
            };
            json!({
                "name": name,
                "image": image,
                "imageID": "",
                "ready": ready,
                "started": matches!(pod.phase, Phase::Starting | Phase::Ready),
                "restartCount": restarts,
                "state": state,
                "lastState": last,
            })
        })
        .collect();
    let mut status = json!({
        "phase": if running { "Running" } else { "Pending" },
        "conditions": [
            condition("PodScheduled", true, at),
            condition("Initialized", true, at),
            condition("ContainersReady", ready, at),
            condition("Ready", ready, at),
        ],
        "hostIP": pod.host_ip,
        "startTime": at,
        "containerStatuses": containers,
        "qosClass": "Burstable",
    });
    if running && let Some(map) = status.as_object_mut() {
        map.insert("podIP".into(), json!(pod.pod_ip));
        map.insert("podIPs".into(), json!([{"ip": pod.pod_ip}]));
    }
    status
}
