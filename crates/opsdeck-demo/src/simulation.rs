//! Simulated traffic: each app's requests split between its stable and canary tracks by the
//! live canary object (nginx canary weight, HTTPRoute backend weights, or replica ratio), or
//! for a blue-green app all of them to the colour its Service selects; then spread over the
//! ready pods, whose metrics grow by their version's profile.

use std::collections::HashSet;

use serde_json::Value;

use super::controller::Controller;
use super::resources::{HTTP_ROUTES, INGRESSES, ROLLOUTS, SERVICES};
use super::scenario::{AppSpec, ClusterSpec, Scenario};
use super::server::{Cluster, locked};

/// The canary's share of an app's traffic, read from the object that routes it.
fn canary_share(cluster: &Cluster, ctl: &Controller, ns: &str, app: &str, provider: &str) -> f64 {
    let canary = format!("{app}-canary");
    match provider {
        "nginx-ingress" => cluster.store.get(INGRESSES, ns, &canary).map_or(0.0, |ingress| {
            let annotation = |key: &str| {
                ingress
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(key))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            if annotation("nginx.ingress.kubernetes.io/canary").as_deref() != Some("true") {
                return 0.0;
            }
            annotation("nginx.ingress.kubernetes.io/canary-weight")
                .and_then(|w| w.parse::<f64>().ok())
                .unwrap_or(0.0)
                .clamp(0.0, 100.0)
                / 100.0
        }),
        "gateway-api" => cluster.store.get(HTTP_ROUTES, ns, app).map_or(0.0, |route| {
            let refs = route
                .pointer("/spec/rules/0/backendRefs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let weight = |name: &str| {
                refs.iter()
                    .filter(|r| r.get("name").and_then(Value::as_str) == Some(name))
                    .map(|r| r.get("weight").and_then(Value::as_f64).unwrap_or(1.0))
                    .sum::<f64>()
            };
            let (stable, canary) = (weight(app), weight(&canary));
            if stable + canary > 0.0 { canary / (stable + canary) } else { 0.0 }
        }),
        _ => {
            let ready = |deployment: &str| {
                ctl.pods.values().filter(|p| p.deployment == deployment && p.ready()).count() as f64
            };
            let (stable, canary) = (ready(app), ready(&canary));
            if stable + canary > 0.0 { canary / (stable + canary) } else { 0.0 }
        }
    }
}

/// Where an app's traffic goes: each Deployment (and, for a Rollout, each version of its
/// pods) with its share.
fn shares(
    cluster: &Cluster,
    ctl: &Controller,
    ns: &str,
    app: &AppSpec,
) -> Vec<(String, Option<String>, f64)> {
    let name = app.name.as_str();
    if let Some(spec) = &app.rollout {
        // The canary Ingress the Rollout's traffic router keeps says the split.
        let weight = cluster
            .store
            .get(ROLLOUTS, ns, name)
            .and_then(|r| r.pointer("/status/canary/weights/canary/weight").and_then(Value::as_f64))
            .unwrap_or(0.0)
            .clamp(0.0, 100.0)
            / 100.0;
        let stable = app.history.last().map(|r| r.tag.clone());
        return vec![
            (name.to_owned(), stable, 1.0 - weight),
            (name.to_owned(), Some(spec.tag.clone()), weight),
        ];
    }
    if app.blue_green.is_some() {
        // The Service sends everything to the colour it selects, whatever the other one runs.
        let live = cluster
            .store
            .get(SERVICES, ns, name)
            .and_then(|svc| svc.pointer("/spec/selector/version").and_then(Value::as_str).map(str::to_owned));
        return live.map(|colour| vec![(format!("{name}-{colour}"), None, 1.0)]).unwrap_or_default();
    }
    if app.flagger.is_some() {
        // Flagger's primary serves stable; its canary Ingress sends the rest to the target.
        let share = canary_share(cluster, ctl, ns, name, "nginx-ingress");
        return vec![(format!("{name}-primary"), None, 1.0 - share), (name.to_owned(), None, share)];
    }
    let share = app.canary.as_ref().map_or(0.0, |c| canary_share(cluster, ctl, ns, name, &c.provider));
    vec![(name.to_owned(), None, 1.0 - share), (format!("{name}-canary"), None, share)]
}

/// Advances every pod's metrics by `seconds` of traffic, and forgets pods that are gone.
pub fn tick(cluster: &Cluster, ctl: &Controller, scenario: &Scenario, spec: &ClusterSpec, seconds: f64) {
    let ns = scenario.namespace.as_str();
    let mut metrics = locked(&cluster.pod_metrics);
    let alive: HashSet<String> = ctl.pods.keys().cloned().collect();
    metrics.retain(|key, _| alive.contains(key));
    for app in &spec.apps {
        let rps = scenario.rps.get(&app.name).copied().unwrap_or(0.0);
        for (deployment, version, portion) in shares(cluster, ctl, ns, app) {
            let ready: Vec<_> = ctl
                .pods
                .iter()
                .filter(|(_, p)| p.namespace == ns && p.deployment == deployment && p.ready())
                .filter(|(_, p)| version.as_ref().is_none_or(|v| *v == p.version))
                .collect();
            if ready.is_empty() {
                continue;
            }
            let per_pod = rps * portion / ready.len() as f64;
            for (key, pod) in ready {
                metrics.entry(key.clone()).or_default().advance(
                    scenario.profile(&pod.version),
                    per_pod,
                    seconds,
                );
            }
        }
    }
}
