//! Kubernetes objects into the inventory's compact records: everything else (managedFields,
//! specs the model does not read) is dropped here, before anything is stored.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod, PodTemplateSpec, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::DynamicObject;
use serde_json::Value;

use super::inventory::{
    ConditionInfo, ContainerPort, ControllerInfo, DeploymentInfo, EndpointSliceInfo, EventInfo, GitOpsInfo,
    IngressInfo, Labels, NodeInfo, PodInfo, ReplicaSetInfo, RouteInfo, ServiceInfo, ServicePort, TargetPort,
};

fn labels(map: Option<&BTreeMap<String, String>>) -> BTreeMap<String, String> {
    map.cloned().unwrap_or_default()
}

fn annotation(annotations: Option<&BTreeMap<String, String>>, key: &str) -> Option<String> {
    annotations.and_then(|a| a.get(key)).cloned()
}

fn images(template: Option<&PodTemplateSpec>) -> Vec<String> {
    template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect())
        .unwrap_or_default()
}

fn ports(template: Option<&PodTemplateSpec>) -> Vec<ContainerPort> {
    template
        .and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .map(|p| ContainerPort { name: p.name.clone(), port: p.container_port })
                .collect()
        })
        .unwrap_or_default()
}

fn revision(annotations: Option<&BTreeMap<String, String>>) -> Option<u64> {
    annotation(annotations, "deployment.kubernetes.io/revision").and_then(|r| r.parse().ok())
}

pub fn deployment(d: &Deployment) -> DeploymentInfo {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    DeploymentInfo {
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        name: d.metadata.name.clone().unwrap_or_default(),
        labels: labels(d.metadata.labels.as_ref()),
        selector: spec.and_then(|s| s.selector.match_labels.clone()).unwrap_or_default(),
        desired: spec.and_then(|s| s.replicas).unwrap_or(1),
        updated: status.and_then(|s| s.updated_replicas).unwrap_or(0),
        ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
        available: status.and_then(|s| s.available_replicas).unwrap_or(0),
        current: status.and_then(|s| s.replicas).unwrap_or(0),
        generation: d.metadata.generation.unwrap_or(0),
        observed_generation: status.and_then(|s| s.observed_generation).unwrap_or(0),
        paused: spec.and_then(|s| s.paused).unwrap_or(false),
        progress_deadline_seconds: spec.and_then(|s| s.progress_deadline_seconds).unwrap_or(600),
        conditions: status
            .and_then(|s| s.conditions.as_ref())
            .map(|c| {
                c.iter()
                    .map(|c| ConditionInfo {
                        kind: c.type_.clone(),
                        status: c.status.clone(),
                        reason: c.reason.clone().unwrap_or_default(),
                        message: c.message.clone().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        images: images(spec.map(|s| &s.template)),
        revision: revision(d.metadata.annotations.as_ref()),
        created: d.metadata.creation_timestamp.as_ref().map(|t| t.0),
    }
}

pub fn replica_set(rs: &ReplicaSet) -> ReplicaSetInfo {
    let owner =
        rs.metadata.owner_references.as_ref().and_then(|o| o.iter().find(|r| r.controller == Some(true)));
    ReplicaSetInfo {
        namespace: rs.metadata.namespace.clone().unwrap_or_default(),
        name: rs.metadata.name.clone().unwrap_or_default(),
        // A Rollout owns its ReplicaSets as a Deployment does.
        owner: owner.filter(|o| o.kind == "Deployment" || o.kind == "Rollout").map(|o| o.name.clone()),
        revision: revision(rs.metadata.annotations.as_ref()),
        desired: rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        ready: rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
        available: rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0),
        images: images(rs.spec.as_ref().and_then(|s| s.template.as_ref())),
        change_cause: annotation(rs.metadata.annotations.as_ref(), "kubernetes.io/change-cause"),
        created: rs.metadata.creation_timestamp.as_ref().map(|t| t.0),
        ports: ports(rs.spec.as_ref().and_then(|s| s.template.as_ref())),
    }
}

pub fn pod(p: &Pod) -> PodInfo {
    let status = p.status.as_ref();
    let containers = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    let owner =
        p.metadata.owner_references.as_ref().and_then(|o| o.iter().find(|r| r.controller == Some(true)));
    PodInfo {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        labels: p.metadata.labels.as_ref().map(Labels::from).unwrap_or_default(),
        owner: owner.filter(|o| o.kind == "ReplicaSet").map(|o| o.name.clone()),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".into()),
        ready: status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
        restarts: containers.iter().map(|c| u32::try_from(c.restart_count).unwrap_or(0)).sum(),
        last_restart: containers
            .iter()
            .filter_map(|c| c.last_state.as_ref()?.terminated.as_ref()?.finished_at.as_ref().map(|t| t.0))
            .max(),
        waiting_reason: containers.iter().find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone()),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        created: p.metadata.creation_timestamp.as_ref().map(|t| t.0),
        images: p
            .spec
            .as_ref()
            .map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect())
            .unwrap_or_default(),
        terminating: p.metadata.deletion_timestamp.is_some(),
        container: p
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        last_termination: containers.iter().find_map(|c| {
            let t = c.last_state.as_ref()?.terminated.as_ref()?;
            Some(format!("{}, exit code {}", t.reason.as_deref().unwrap_or("Terminated"), t.exit_code))
        }),
    }
}

pub fn node(n: &Node) -> NodeInfo {
    NodeInfo {
        name: n.metadata.name.clone().unwrap_or_default(),
        ready: n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
    }
}

pub fn event(e: &Event) -> EventInfo {
    let last_seen = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.series.as_ref().and_then(|s| s.last_observed_time.as_ref()).map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    EventInfo {
        namespace: e.metadata.namespace.clone().unwrap_or_default(),
        kind: e.involved_object.kind.clone().unwrap_or_default(),
        name: e.involved_object.name.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        count: e.count.and_then(|c| u32::try_from(c).ok()).unwrap_or(1),
        last_seen,
    }
}

pub fn ingress(i: &Ingress) -> IngressInfo {
    let annotations = i.metadata.annotations.as_ref();
    IngressInfo {
        namespace: i.metadata.namespace.clone().unwrap_or_default(),
        name: i.metadata.name.clone().unwrap_or_default(),
        canary: annotation(annotations, "nginx.ingress.kubernetes.io/canary").as_deref() == Some("true"),
        canary_weight: annotation(annotations, "nginx.ingress.kubernetes.io/canary-weight")
            .and_then(|w| w.trim().parse::<u32>().ok())
            .filter(|w| *w <= 100),
        backends: ingress_backends(i),
    }
}

fn ingress_backends(i: &Ingress) -> Vec<String> {
    let Some(spec) = i.spec.as_ref() else { return Vec::new() };
    let mut names: Vec<String> = spec
        .default_backend
        .iter()
        .chain(
            spec.rules
                .iter()
                .flatten()
                .filter_map(|r| r.http.as_ref())
                .flat_map(|h| h.paths.iter().map(|p| &p.backend)),
        )
        .filter_map(|b| b.service.as_ref().map(|s| s.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

pub fn endpoint_slice(s: &EndpointSlice) -> EndpointSliceInfo {
    // A missing `ready` condition means ready, as the API documents for consumers.
    let ready =
        s.endpoints.iter().filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)).count();
    EndpointSliceInfo {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
        service: s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).cloned(),
        endpoints: u32::try_from(s.endpoints.len()).unwrap_or(u32::MAX),
        ready: u32::try_from(ready).unwrap_or(u32::MAX),
    }
}

pub fn service(s: &Service) -> ServiceInfo {
    ServiceInfo {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
        selector: s.spec.as_ref().and_then(|spec| spec.selector.clone()).unwrap_or_default(),
        stable: annotation(s.metadata.annotations.as_ref(), super::colours::STABLE_ANNOTATION),
        ports: s
            .spec
            .iter()
            .flat_map(|spec| spec.ports.iter().flatten())
            .map(|p| ServicePort {
                name: p.name.clone(),
                port: p.port,
                target: match &p.target_port {
                    Some(IntOrString::Int(n)) => TargetPort::Number(*n),
                    Some(IntOrString::String(name)) => TargetPort::Name(name.clone()),
                    None => TargetPort::Number(p.port),
                },
            })
            .collect(),
    }
}

/// An HTTPRoute, read without generated types (Gateway API is not in k8s-openapi).
pub fn route(r: &DynamicObject) -> RouteInfo {
    let backends = r
        .data
        .pointer("/spec/rules/0/backendRefs")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|b| {
                    let name = b.get("name")?.as_str()?.to_owned();
                    let weight = b
                        .get("weight")
                        .and_then(Value::as_u64)
                        .map_or(1, |w| u32::try_from(w).unwrap_or(u32::MAX));
                    Some((name, weight))
                })
                .collect()
        })
        .unwrap_or_default();
    RouteInfo {
        namespace: r.metadata.namespace.clone().unwrap_or_default(),
        name: r.metadata.name.clone().unwrap_or_default(),
        backends,
    }
}

fn timestamp(value: Option<&Value>) -> Option<jiff::Timestamp> {
    value.and_then(Value::as_str).and_then(|t| t.parse().ok())
}

/// A condition of `status.conditions` by type.
fn condition<'v>(data: &'v Value, kind: &str) -> Option<&'v Value> {
    data.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

/// A Flux Kustomization or HelmRelease (`kind`), read without generated types.
pub fn flux(kind: &str, o: &DynamicObject) -> GitOpsInfo {
    let data = &o.data;
    let ready = condition(data, "Ready");
    let status = ready.and_then(|c| c.get("status")).and_then(Value::as_str);
    let text = |p: &str| data.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let revision = match kind {
        // A HelmRelease's applied chart version; older ones say it in lastAppliedRevision.
        "HelmRelease" => {
            text("/status/history/0/chartVersion").or_else(|| text("/status/lastAppliedRevision"))
        }
        _ => text("/status/lastAppliedRevision"),
    };
    GitOpsInfo {
        kind: kind.to_owned(),
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        ready: status.and_then(|s| match s {
            "True" => Some(true),
            "False" => Some(false),
            _ => None,
        }),
        revision,
        suspended: data.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false),
        message: (status != Some("True"))
            .then(|| ready.and_then(|c| c.get("message")).and_then(Value::as_str).map(str::to_owned))
            .flatten(),
        reconciled: timestamp(ready.and_then(|c| c.get("lastTransitionTime")))
            .or_else(|| timestamp(data.pointer("/status/lastHandledReconcileAt"))),
    }
}

/// An Argo CD Application: in sync and healthy, the synced revision, auto-sync on or off.
pub fn argo_application(o: &DynamicObject) -> GitOpsInfo {
    let data = &o.data;
    let text = |p: &str| data.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let sync = text("/status/sync/status");
    let health = text("/status/health/status");
    let ready = match (sync.as_deref(), health.as_deref()) {
        (None, None) => None,
        (s, h) => Some(s == Some("Synced") && h == Some("Healthy")),
    };
    let message = data
        .pointer("/status/conditions/0/message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            (ready == Some(false))
                .then(|| format!("{} · {}", sync.as_deref().unwrap_or("?"), health.as_deref().unwrap_or("?")))
        });
    GitOpsInfo {
        kind: "Application".to_owned(),
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        ready,
        revision: text("/status/sync/revision"),
        suspended: data.pointer("/spec/syncPolicy/automated").is_none(),
        message: if ready == Some(true) { None } else { message },
        reconciled: timestamp(data.pointer("/status/reconciledAt")),
    }
}

fn number(data: &Value, pointer: &str) -> Option<u32> {
    data.pointer(pointer).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok())
}

/// An Argo Rollouts Rollout. Its weight is what the traffic router was set to, or, without
/// one, the last `setWeight` at or before the current step.
pub fn argo_rollout(o: &DynamicObject) -> ControllerInfo {
    let data = &o.data;
    let name = o.metadata.name.clone().unwrap_or_default();
    let text = |p: &str| data.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let steps = data.pointer("/spec/strategy/canary/steps").and_then(Value::as_array);
    let index = number(data, "/status/currentStepIndex");
    let blue_green = data.pointer("/status/blueGreen/activeSelector").and_then(Value::as_str).map(|active| {
        let current = data.pointer("/status/currentPodHash").and_then(Value::as_str);
        let stable = data.pointer("/status/stableRS").and_then(Value::as_str);
        // All traffic follows the active Service: on the new version once it selects it.
        if Some(active) == current && current != stable { 100 } else { 0 }
    });
    let weight = number(data, "/status/canary/weights/canary/weight").or(blue_green).or_else(|| {
        let (steps, index) = (steps?, index? as usize);
        Some(
            steps
                .iter()
                .take(index + 1)
                .filter_map(|s| s.get("setWeight").and_then(Value::as_u64))
                .next_back()
                .map_or(0, |w| u32::try_from(w).unwrap_or(100)),
        )
    });
    let pause_conditions =
        data.pointer("/status/pauseConditions").and_then(Value::as_array).is_some_and(|c| !c.is_empty());
    let paused = data.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false) || pause_conditions;
    // As a workload, a Rollout is paused when an operator paused it; waiting at a pause step is
    // its controller's business, said on its own line.
    let operator_paused = data.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false);
    let workload = data.pointer("/spec/template").map(|_| Box::new(rollout_workload(o, operator_paused)));
    ControllerInfo {
        kind: "argo-rollouts",
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        target: text("/spec/workloadRef/name").unwrap_or_else(|| name.clone()),
        stable_hash: text("/status/stableRS"),
        canary_hash: text("/status/currentPodHash"),
        workload,
        steps: steps.map(|s| s.iter().map(argo_step).collect()).unwrap_or_default(),
        analysis: None,
        metrics: Vec::new(),
        webhooks: Vec::new(),
        gates: Vec::new(),
        iterations: None,
        last_transition: None,
        next: Some(argo_next(data, paused)),
        services: blue_green_services(data),
        step_weight: None,
        max_weight: None,
        canary_version: None,
        canary_ready: None,
        stable_ready: None,
        name,
        phase: text("/status/phase"),
        message: text("/status/message"),
        weight,
        step: steps.map(|s| (index.unwrap_or(0), u32::try_from(s.len()).unwrap_or(u32::MAX))),
        paused,
        aborted: data.pointer("/status/abort").and_then(Value::as_bool).unwrap_or(false),
        failed_checks: None,
    }
}

/// A Rollout's replicas, as a Deployment's: its spec and status carry the same fields (its
/// `observedGeneration` is a string).
fn rollout_workload(o: &DynamicObject, paused: bool) -> DeploymentInfo {
    let data = &o.data;
    let int = |p: &str| data.pointer(p).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok());
    let template: Option<PodTemplateSpec> =
        data.pointer("/spec/template").and_then(|t| serde_json::from_value(t.clone()).ok());
    let selector = data
        .pointer("/spec/selector/matchLabels")
        .and_then(|m| serde_json::from_value::<BTreeMap<String, String>>(m.clone()).ok())
        .unwrap_or_default();
    let generation = o.metadata.generation.unwrap_or(0);
    let observed = match data.pointer("/status/observedGeneration") {
        Some(Value::String(s)) => s.parse().unwrap_or(generation),
        Some(v) => v.as_i64().unwrap_or(0),
        None => 0,
    };
    let conditions = data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let f = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    ConditionInfo {
                        kind: f("type"),
                        status: f("status"),
                        reason: f("reason"),
                        message: f("message"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    DeploymentInfo {
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        labels: labels(o.metadata.labels.as_ref()),
        selector,
        desired: int("/spec/replicas").unwrap_or(1),
        updated: int("/status/updatedReplicas").unwrap_or(0),
        ready: int("/status/readyReplicas").unwrap_or(0),
        available: int("/status/availableReplicas").unwrap_or(0),
        current: int("/status/replicas").unwrap_or(0),
        generation,
        observed_generation: observed,
        paused,
        progress_deadline_seconds: int("/spec/progressDeadlineSeconds").unwrap_or(600),
        conditions,
        images: images(template.as_ref()),
        // The rollouts controller numbers its revisions under its own annotation.
        revision: o
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("rollout.argoproj.io/revision"))
            .and_then(|r| r.parse().ok()),
        created: o.metadata.creation_timestamp.as_ref().map(|t| t.0),
    }
}

/// One Argo canary step in words.
fn argo_step(step: &Value) -> String {
    if let Some(w) = step.get("setWeight").and_then(Value::as_u64) {
        return format!("{w}%");
    }
    match step.get("pause") {
        Some(pause) => match pause.get("duration") {
            Some(Value::String(d)) => format!("pause {d}"),
            Some(Value::Number(n)) => format!("pause {n}s"),
            _ => "pause".to_owned(),
        },
        None => step.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_else(|| "?".into()),
    }
}

/// A blue-green Rollout's Services and what each selects (`status.blueGreen`).
fn blue_green_services(data: &Value) -> Option<super::inventory::BlueGreenServices> {
    let strategy = data.pointer("/spec/strategy/blueGreen")?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    Some(super::inventory::BlueGreenServices {
        active: text(strategy.get("activeService")).unwrap_or_default(),
        active_selects: text(data.pointer("/status/blueGreen/activeSelector")),
        preview: text(strategy.get("previewService")),
        preview_selects: text(data.pointer("/status/blueGreen/previewSelector")),
    })
}

/// What the rollouts controller does next, from the step it is at.
fn argo_next(data: &Value, paused: bool) -> String {
    let abort = data.pointer("/status/abort").and_then(Value::as_bool).unwrap_or(false);
    let index = data.pointer("/status/currentStepIndex").and_then(Value::as_u64).unwrap_or(0);
    let steps = data.pointer("/spec/strategy/canary/steps").and_then(Value::as_array);
    let stable = data.pointer("/status/stableRS").and_then(Value::as_str);
    let current = data.pointer("/status/currentPodHash").and_then(Value::as_str);
    if abort {
        return "aborted: all traffic on stable; retry starts the update again from the first step".into();
    }
    if stable.is_some() && stable == current {
        return "healthy: a new template starts the steps".into();
    }
    if data.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false) {
        return "paused by an operator: resume lets it go on".into();
    }
    if data.pointer("/spec/strategy/blueGreen").is_some() {
        return if paused {
            "the new version is on the preview Service: promote switches the active Service to it".into()
        } else {
            "switching: the active Service goes to the new version once its pods are ready".into()
        };
    }
    let step = steps.and_then(|s| s.get(usize::try_from(index).unwrap_or(usize::MAX)));
    match step.and_then(|s| s.get("pause")) {
        Some(p) if p.get("duration").is_some() => "waiting out a timed pause; promote skips the wait".into(),
        Some(_) if paused => "paused until promoted: promote goes on to the next step".into(),
        _ => "moving on by its steps as the canary's pods become ready".into(),
    }
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|items| {
            items.iter().filter_map(|m| m.get("name").and_then(Value::as_str)).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}

fn flagger_analysis(data: &Value) -> String {
    let n = |p: &str| data.pointer(p).and_then(Value::as_u64);
    let interval = data.pointer("/spec/analysis/interval").and_then(Value::as_str).unwrap_or("1m");
    let mut parts = Vec::new();
    if let Some(w) = n("/spec/analysis/stepWeight") {
        parts.push(format!("stepWeight {w}"));
    }
    if let Some(w) = n("/spec/analysis/maxWeight") {
        parts.push(format!("maxWeight {w}"));
    }
    parts.push(format!("every {interval}"));
    if let Some(t) = n("/spec/analysis/threshold") {
        parts.push(format!("threshold {t}"));
    }
    parts.join(" · ")
}

/// The webhook types that wait on a loadtester gate.
const GATE_TYPES: [&str; 4] =
    ["confirm-rollout", "confirm-traffic-increase", "confirm-promotion", "rollback"];

/// A Canary's webhooks that wait on a gate, as (name, type, url): the one reading of "which
/// webhooks are gates" for the screens and the plans.
pub fn gate_hooks(canary: &Value) -> Vec<(String, String, String)> {
    let hooks = canary.pointer("/spec/analysis/webhooks").and_then(Value::as_array);
    hooks
        .into_iter()
        .flatten()
        .filter_map(|h| {
            let kind = h.get("type").and_then(Value::as_str).filter(|k| GATE_TYPES.contains(k))?;
            let url = h.get("url").and_then(Value::as_str)?;
            let name = h.get("name").and_then(Value::as_str).unwrap_or(kind);
            Some((name.to_owned(), kind.to_owned(), url.to_owned()))
        })
        .collect()
}

/// The gates an operator can open or close, as (name, type): those that ask the loadtester's
/// `/check` (`/approve` and `/halt` are fixed answers).
fn flagger_gates(data: &Value) -> Vec<(String, String)> {
    gate_hooks(data)
        .into_iter()
        .filter(|(_, _, url)| url.ends_with("/check"))
        .map(|(n, k, _)| (n, k))
        .collect()
}

/// What Flagger does next, in a line, from its phase and analysis.
pub fn flagger_next(canary: &Value) -> String {
    let text = |p: &str| canary.pointer(p).and_then(Value::as_str).unwrap_or("");
    let phase = text("/status/phase");
    let weight = canary.pointer("/status/canaryWeight").and_then(Value::as_u64).unwrap_or(0);
    let step = canary.pointer("/spec/analysis/stepWeight").and_then(Value::as_u64).unwrap_or(0);
    let max = canary.pointer("/spec/analysis/maxWeight").and_then(Value::as_u64).unwrap_or(100);
    let interval = text("/spec/analysis/interval");
    let interval = if interval.is_empty() { "1m" } else { interval };
    let gates = flagger_gates(canary);
    let has = |kind: &str| gates.iter().any(|(_, k)| k == kind);
    if canary.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false) {
        return "suspended: Flagger does nothing until the analysis is resumed".into();
    }
    match phase {
        "Progressing" if weight < max => {
            let gate = if has("confirm-traffic-increase") {
                ", once its confirm-traffic-increase gate is open"
            } else {
                ""
            };
            format!("next check in {interval}: {}% if it passes{gate}", (weight + step).min(max))
        }
        "Progressing" if has("confirm-promotion") => {
            format!("at {max}%, the last step: the confirm-promotion gate at the next check ({interval})")
        }
        "Progressing" => format!("at {max}%, the last step: promotion after the next check ({interval})"),
        "WaitingPromotion" => "waiting for its confirm-promotion gate before promoting".into(),
        "Waiting" => "waiting for its confirm-rollout gate before starting".into(),
        "Promoting" | "Finalising" => "promoting: the primary takes the canary's spec".into(),
        "Failed" => "failed: traffic is back on the primary".into(),
        "Succeeded" | "Initialized" => "idle: a new revision of the target starts the analysis".into(),
        other => format!("{other}: checks every {interval}"),
    }
}

/// A Flagger Canary.
pub fn flagger_canary(o: &DynamicObject) -> ControllerInfo {
    let data = &o.data;
    let text = |p: &str| data.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let message = data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c.get("type").and_then(Value::as_str) == Some("Promoted")))
        .and_then(|c| c.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    ControllerInfo {
        kind: "flagger",
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        target: text("/spec/targetRef/name").unwrap_or_default(),
        phase: text("/status/phase"),
        message,
        weight: number(data, "/status/canaryWeight"),
        step: None,
        paused: data.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false),
        aborted: false,
        failed_checks: number(data, "/status/failedChecks")
            .map(|failed| (failed, number(data, "/spec/analysis/threshold").unwrap_or(0))),
        stable_hash: None,
        canary_hash: None,
        workload: None,
        steps: Vec::new(),
        analysis: Some(flagger_analysis(data)),
        metrics: names(data.pointer("/spec/analysis/metrics")),
        webhooks: data
            .pointer("/spec/analysis/webhooks")
            .and_then(Value::as_array)
            .map(|hooks| {
                hooks
                    .iter()
                    .map(|h| {
                        let field = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("?");
                        if field("name") == field("type") {
                            field("name").to_owned()
                        } else {
                            format!("{} ({})", field("name"), field("type"))
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
        gates: flagger_gates(data),
        iterations: number(data, "/status/iterations"),
        last_transition: text("/status/lastTransitionTime"),
        next: Some(flagger_next(data)),
        step_weight: number(data, "/spec/analysis/stepWeight"),
        max_weight: number(data, "/spec/analysis/maxWeight"),
        canary_version: None,
        canary_ready: None,
        stable_ready: None,
        services: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("valid object")
    }

    #[test]
    fn a_crash_looping_pod_keeps_what_the_model_reads() {
        let p: Pod = from_json(serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "shop",
                "labels": {"track": "stable", "app": "web", "pod-template-hash": "abc"},
                "managedFields": [{"manager": "kubelet"}],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "1", "controller": true}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "r/web:v1"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "web", "image": "r/web:v1", "imageID": "", "ready": false, "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-21T10:00:00Z"}}}]},
        }));
        let info = pod(&p);
        assert_eq!(info.owner.as_deref(), Some("web-abc"));
        assert_eq!((info.labels.get("app"), info.labels.get("track")), (Some("web"), Some("stable")));
        assert_eq!(info.labels.get("pod-template-hash"), None, "no Deployment selects on it");
        assert_eq!((info.restarts, info.ready), (4, false));
        assert_eq!(info.waiting_reason.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(info.last_restart.map(|t| t.to_string()).as_deref(), Some("2026-11-21T10:00:00Z"));
    }

    #[test]
    fn a_services_ports_and_its_slices_readiness_are_read_as_the_api_defaults_them() {
        let s: Service = from_json(serde_json::json!({"metadata": {"name": "api", "namespace": "shop"},
            "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 80, "targetPort": 8081},
                {"name": "admin", "port": 9000, "targetPort": "admin"}, {"port": 7000}]}}));
        let ports: Vec<(i32, TargetPort)> =
            service(&s).ports.into_iter().map(|p| (p.port, p.target)).collect();
        assert_eq!(
            ports,
            [
                (80, TargetPort::Number(8081)),
                (9000, TargetPort::Name("admin".into())),
                (7000, TargetPort::Number(7000))
            ]
        );
        let slice: EndpointSlice =
            from_json(serde_json::json!({"metadata": {"name": "api-x", "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "api"}}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": false}}, {"addresses": ["10.0.0.3"]}]}));
        let info = endpoint_slice(&slice);
        assert_eq!(
            (info.service.as_deref(), info.endpoints, info.ready),
            (Some("api"), 3, 2),
            "no condition means ready"
        );
    }

    #[test]
    fn a_canary_ingress_weight_is_read_from_its_annotations() {
        let i: Ingress = from_json(
            serde_json::json!({"metadata": {"name": "web-canary", "namespace": "shop",
            "annotations": {"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "25"}},
            "spec": {"defaultBackend": {"service": {"name": "web-canary", "port": {"number": 80}}},
                "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web-canary", "port": {"number": 80}}}},
                    {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"name": "http"}}}}]}}]}}),
        );
        assert_eq!(
            ingress(&i),
            IngressInfo {
                namespace: "shop".into(),
                name: "web-canary".into(),
                canary: true,
                canary_weight: Some(25),
                backends: vec!["api".into(), "web-canary".into()],
            }
        );
        let odd: Ingress = from_json(
            serde_json::json!({"metadata": {"name": "x", "annotations": {"nginx.ingress.kubernetes.io/canary-weight": "250"}}}),
        );
        assert_eq!(ingress(&odd).canary_weight, None, "an out-of-range weight is not a weight");
    }

    #[test]
    fn what_flagger_does_next_is_said_from_its_phase_analysis_and_gates() {
        let mut c = serde_json::json!({
            "spec": {"analysis": {"interval": "30s", "stepWeight": 10, "maxWeight": 50, "webhooks": [
                {"name": "approve", "type": "confirm-promotion", "url": "http://flagger-loadtester.shop/gate/check"},
            ]}},
            "status": {"phase": "Progressing", "canaryWeight": 20},
        });
        assert_eq!(flagger_next(&c), "next check in 30s: 30% if it passes");
        c["status"]["canaryWeight"] = serde_json::json!(50);
        assert!(
            flagger_next(&c).contains("confirm-promotion gate at the next check"),
            "{}",
            flagger_next(&c)
        );
        assert_eq!(flagger_gates(&c), [("approve".to_owned(), "confirm-promotion".to_owned())]);
        c["spec"]["suspend"] = serde_json::json!(true);
        assert!(flagger_next(&c).starts_with("suspended"));
    }

    #[test]
    fn a_blue_green_rollout_names_its_services_and_is_all_or_nothing() {
        let mut rollout: DynamicObject = from_json(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "checkout", "namespace": "shop"},
            "spec": {"strategy": {"blueGreen": {"activeService": "checkout", "previewService": "checkout-preview"}}},
            "status": {"stableRS": "aaa", "currentPodHash": "bbb", "phase": "Paused",
                "pauseConditions": [{"reason": "BlueGreenPause"}],
                "blueGreen": {"activeSelector": "aaa", "previewSelector": "bbb"}},
        }));
        let info = argo_rollout(&rollout);
        let services = info.services.clone().expect("blue-green");
        assert_eq!(
            (services.active.as_str(), services.preview.as_deref()),
            ("checkout", Some("checkout-preview"))
        );
        assert_eq!(
            (services.active_selects.as_deref(), services.preview_selects.as_deref()),
            (Some("aaa"), Some("bbb"))
        );
        assert_eq!(info.weight, Some(0), "the active Service still selects stable");
        assert!(info.next.as_deref().is_some_and(|n| n.contains("promote switches the active Service")));
        rollout.data["status"]["blueGreen"]["activeSelector"] = serde_json::json!("bbb");
        assert_eq!(argo_rollout(&rollout).weight, Some(100), "switched");
    }
}
