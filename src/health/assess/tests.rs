//! One test per verdict and per reason; fixtures state only what each test is about.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::health::inventory::{ConditionInfo, IngressInfo, NodeInfo, ReplicaSetInfo, RouteInfo};

const NS: &str = "shop";

fn now() -> Timestamp {
    "2025-06-01T03:00:00Z".parse().expect("valid timestamp")
}

fn secs_ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

fn mins_ago(mins: i64) -> Timestamp {
    secs_ago(mins * 60)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// A settled Deployment selecting `app=<name>`, running `v1.3.0`.
fn deployment(name: &str, desired: i32, available: i32) -> DeploymentInfo {
    DeploymentInfo {
        namespace: NS.to_owned(),
        name: name.to_owned(),
        labels: labels(&[("app", name)]),
        selector: labels(&[("app", name)]),
        desired,
        updated: desired,
        ready: available,
        available,
        current: desired,
        generation: 2,
        observed_generation: 2,
        paused: false,
        progress_deadline_seconds: 600,
        conditions: Vec::new(),
        images: vec![format!("registry.example.com:5000/shop/{name}:v1.3.0")],
        revision: Some(2),
        created: Some(mins_ago(600)),
    }
}

/// A ready, running pod labelled `app=<app>`, an hour old.
fn pod(name: &str, app: &str) -> PodInfo {
    PodInfo {
        namespace: NS.to_owned(),
        name: name.to_owned(),
        labels: labels(&[("app", app)]).into(),
        owner: None,
        phase: "Running".to_owned(),
        ready: true,
        restarts: 0,
        last_restart: None,
        waiting_reason: None,
        node: Some("node-1".to_owned()),
        created: Some(mins_ago(60)),
        images: Vec::new(),
        terminating: false,
        container: app.to_owned(),
        last_termination: None,
    }
}

fn waiting(name: &str, app: &str, reason: &str) -> PodInfo {
    PodInfo { ready: false, waiting_reason: Some(reason.to_owned()), ..pod(name, app) }
}

fn pending(name: &str, app: &str, age_secs: i64) -> PodInfo {
    PodInfo { phase: "Pending".to_owned(), ready: false, created: Some(secs_ago(age_secs)), ..pod(name, app) }
}

fn event(kind: &str, name: &str, reason: &str, last_seen: Option<Timestamp>) -> EventInfo {
    EventInfo {
        namespace: NS.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        reason: reason.to_owned(),
        message: String::new(),
        count: 1,
        last_seen,
    }
}

fn node(name: &str, ready: bool) -> NodeInfo {
    NodeInfo { name: name.to_owned(), ready }
}

/// Three ready nodes and the given objects.
fn inventory(deployments: Vec<DeploymentInfo>, pods: Vec<PodInfo>) -> Inventory {
    let pods = pods.into_iter().map(Arc::new).collect();
    let nodes = vec![node("node-1", true), node("node-2", true), node("node-3", true)];
    Inventory { deployments, pods, nodes, ..Inventory::default() }
}

fn spec(name: &str) -> AppSpec<'_> {
    AppSpec { name, namespace: NS, deployment: name, canary: None }
}

fn assess_one(spec: &AppSpec<'_>, inventory: &Inventory) -> AppHealth {
    assess("production", std::slice::from_ref(spec), inventory, now()).apps.remove(0)
}

/// `web` with 3 ready replicas and its 3 pods.
fn healthy_web() -> Inventory {
    inventory(
        vec![deployment("web", 3, 3)],
        vec![pod("web-1", "web"), pod("web-2", "web"), pod("web-3", "web")],
    )
}

fn assert_degraded_by(app: &AppHealth, reason: &str) {
    assert_eq!(app.verdict, Verdict::Degraded, "{:?}", app.reasons);
    assert!(app.reasons.iter().any(|r| r == reason), "missing {reason:?} in {:?}", app.reasons);
}

#[test]
fn healthy_app_has_no_reasons() {
    let app = assess_one(&spec("web"), &healthy_web());
    assert_eq!(app.verdict, Verdict::Healthy);
    assert!(app.reasons.is_empty(), "{:?}", app.reasons);
    assert_eq!(app.rollout, Rollout::Complete);
    assert_eq!(app.version.as_deref(), Some("v1.3.0"));
    assert_eq!(app.replicas, Replicas { desired: 3, updated: 3, ready: 3, available: 3 });
}

#[test]
fn missing_deployment_is_down() {
    let app = assess_one(&spec("api"), &healthy_web());
    assert_eq!(app.verdict, Verdict::Down);
    assert_eq!(app.rollout, Rollout::Missing);
    assert_eq!(app.reasons, ["deployment \"api\" not found in namespace \"shop\""]);
    assert_eq!(app.version, None);
}

#[test]
fn no_available_replicas_is_down_and_listed_first() {
    let inv = inventory(vec![deployment("web", 3, 0)], vec![waiting("web-1", "web", "CrashLoopBackOff")]);
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.verdict, Verdict::Down);
    assert_eq!(app.reasons, ["0/3 replicas available", "1 pod in CrashLoopBackOff"]);
}

#[test]
fn fewer_available_than_desired_is_degraded() {
    let inv = inventory(vec![deployment("web", 3, 1)], vec![pod("web-1", "web")]);
    assert_degraded_by(&assess_one(&spec("web"), &inv), "1/3 replicas available");
}

#[test]
fn stalled_rollout_is_degraded() {
    let mut d = deployment("web", 3, 3);
    d.updated = 1;
    d.conditions.push(ConditionInfo {
        kind: "Progressing".to_owned(),
        status: "False".to_owned(),
        reason: "ProgressDeadlineExceeded".to_owned(),
        message: "ReplicaSet \"web-1\" has timed out progressing.".to_owned(),
    });
    let app = assess_one(&spec("web"), &inventory(vec![d], Vec::new()));
    assert!(matches!(app.rollout, Rollout::Stalled { .. }), "{:?}", app.rollout);
    assert_degraded_by(&app, "rollout stalled: ReplicaSet \"web-1\" has timed out progressing.");
}

#[test]
fn crash_loop_is_degraded() {
    let mut inv = healthy_web();
    Arc::make_mut(&mut inv.pods[0]).waiting_reason = Some("CrashLoopBackOff".to_owned());
    Arc::make_mut(&mut inv.pods[1]).waiting_reason = Some("CrashLoopBackOff".to_owned());
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.crash_looping, 2);
    assert_degraded_by(&app, "2 pods in CrashLoopBackOff");
}

#[test]
fn image_pull_failure_is_degraded_and_not_pending() {
    let mut inv = healthy_web();
    inv.pods.push(Arc::new(PodInfo {
        waiting_reason: Some("ImagePullBackOff".into()),
        ..pending("web-4", "web", 600)
    }));
    inv.pods.push(Arc::new(PodInfo {
        waiting_reason: Some("ErrImagePull".into()),
        ..pending("web-5", "web", 600)
    }));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!((app.image_pull_failing, app.pending), (2, 0));
    assert_degraded_by(&app, "2 pods failing to pull the image");
}

#[test]
fn pending_over_two_minutes_is_degraded() {
    let mut inv = healthy_web();
    inv.pods.push(Arc::new(pending("web-4", "web", 180)));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.pending, 1);
    assert_degraded_by(&app, "1 pod pending for over 2 minutes");
}

#[test]
fn pending_for_thirty_seconds_is_not_degraded() {
    let mut inv = healthy_web();
    inv.pods.push(Arc::new(pending("web-4", "web", 30)));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.pending, 1);
    assert_eq!(app.verdict, Verdict::Healthy, "{:?}", app.reasons);
}

#[test]
fn recent_restarts_are_degraded() {
    let mut inv = healthy_web();
    Arc::make_mut(&mut inv.pods[0]).restarts = 3;
    Arc::make_mut(&mut inv.pods[0]).last_restart = Some(mins_ago(5));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.restarts_recent, 3);
    assert_degraded_by(&app, "3 restarts in the last 15 minutes");
}

#[test]
fn old_restarts_are_history() {
    let mut inv = healthy_web();
    Arc::make_mut(&mut inv.pods[0]).restarts = 3;
    Arc::make_mut(&mut inv.pods[0]).last_restart = Some(mins_ago(16));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.restarts_recent, 0);
    assert_eq!(app.verdict, Verdict::Healthy, "{:?}", app.reasons);
}

#[test]
fn terminating_pods_are_not_counted() {
    let mut inv = healthy_web();
    inv.pods.push(Arc::new(PodInfo { terminating: true, ..waiting("web-old", "web", "CrashLoopBackOff") }));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.crash_looping, 0);
    assert_eq!(app.verdict, Verdict::Healthy, "{:?}", app.reasons);
}

#[test]
fn warning_on_own_pod_counts() {
    let mut inv = healthy_web();
    inv.events.push(event("Pod", "web-1", "BackOff", Some(mins_ago(3))));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.warnings_recent, 1);
    assert_degraded_by(&app, "1 warning event in the last 15 minutes (latest: BackOff)");
}

#[test]
fn warning_on_own_deployment_and_replica_set_counts() {
    let mut inv = healthy_web();
    inv.replica_sets.push(ReplicaSetInfo {
        namespace: NS.to_owned(),
        name: "web-7d9f".to_owned(),
        owner: Some("web".to_owned()),
        revision: Some(2),
        desired: 3,
        ready: 3,
        available: 3,
        images: Vec::new(),
        change_cause: None,
        created: Some(mins_ago(600)),
        ports: Vec::new(),
    });
    inv.events.push(event("ReplicaSet", "web-7d9f", "FailedCreate", Some(mins_ago(2))));
    inv.events.push(event("Deployment", "web", "ProgressDeadlineExceeded", Some(mins_ago(1))));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.warnings_recent, 2);
    assert_degraded_by(&app, "2 warning events in the last 15 minutes (latest: ProgressDeadlineExceeded)");
}

#[test]
fn warning_on_another_apps_pod_does_not_count() {
    let mut inv = healthy_web();
    inv.deployments.push(deployment("api", 1, 1));
    inv.pods.push(Arc::new(pod("api-1", "api")));
    inv.events.push(event("Pod", "api-1", "BackOff", Some(mins_ago(3))));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.warnings_recent, 0);
    assert_eq!(app.verdict, Verdict::Healthy, "{:?}", app.reasons);
}

#[test]
fn old_warning_does_not_count() {
    let mut inv = healthy_web();
    inv.events.push(event("Pod", "web-1", "BackOff", Some(mins_ago(20))));
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.warnings_recent, 0);
    assert_eq!(app.verdict, Verdict::Healthy, "{:?}", app.reasons);
}

#[test]
fn paused_rollout_is_noted_but_healthy() {
    let mut inv = healthy_web();
    inv.deployments[0].paused = true;
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.rollout, Rollout::Paused);
    assert_eq!(app.verdict, Verdict::Healthy);
    assert_eq!(app.reasons, ["rollout paused"]);
}

#[test]
fn progressing_rollout_is_noted_but_healthy() {
    let mut inv = healthy_web();
    inv.deployments[0].updated = 1;
    inv.deployments[0].current = 4;
    let app = assess_one(&spec("web"), &inv);
    assert_eq!(app.rollout, Rollout::Progressing);
    assert_eq!(app.verdict, Verdict::Healthy);
    assert_eq!(app.reasons, ["rolling out: 1/3 updated"]);
}

#[test]
fn unobserved_generation_is_progressing() {
    let mut inv = healthy_web();
    inv.deployments[0].generation = 3;
    assert_eq!(assess_one(&spec("web"), &inv).rollout, Rollout::Progressing);
}

/// `web` healthy plus a `web-canary` Deployment selecting `app=web, track=canary` with one pod.
fn with_canary() -> Inventory {
    let mut inv = healthy_web();
    let mut canary = deployment("web-canary", 1, 1);
    canary.selector = labels(&[("app", "web"), ("track", "canary")]);
    canary.images = vec!["registry.example.com/shop/web:v1.4.0".to_owned()];
    inv.deployments.push(canary);
    inv.pods.push(Arc::new(PodInfo {
        labels: labels(&[("app", "web"), ("track", "canary")]).into(),
        ..pod("web-c1", "web")
    }));
    inv
}

fn nginx() -> CanaryTarget {
    CanaryTarget::NginxIngress {
        ingress: "web-canary".to_owned(),
        canary_deployment: "web-canary".to_owned(),
    }
}

fn ingress(canary: bool, weight: Option<u32>) -> IngressInfo {
    IngressInfo {
        namespace: NS.to_owned(),
        name: "web-canary".to_owned(),
        canary,
        canary_weight: weight,
        backends: vec!["web-canary".to_owned()],
    }
}

fn with_target(target: &CanaryTarget) -> AppSpec<'_> {
    AppSpec { canary: Some(target), ..spec("web") }
}

fn canary_of(target: &CanaryTarget, inv: &Inventory) -> CanaryHealth {
    assess_one(&with_target(target), inv).canary.expect("canary configured")
}

#[test]
fn nginx_weight_from_canary_ingress() {
    let mut inv = with_canary();
    inv.ingresses.push(ingress(true, Some(25)));
    let canary = canary_of(&nginx(), &inv);
    assert_eq!((canary.weight, canary.approximate), (Some(25), false));
    assert_eq!(canary.version.as_deref(), Some("v1.4.0"));
    assert_eq!(canary.replicas, Replicas { desired: 1, updated: 1, ready: 1, available: 1 });
}

#[test]
fn nginx_ingress_not_marked_canary_sends_nothing() {
    let mut inv = with_canary();
    inv.ingresses.push(ingress(false, Some(25)));
    assert_eq!(canary_of(&nginx(), &inv).weight, Some(0));
}

#[test]
fn nginx_ingress_missing_has_no_weight() {
    assert_eq!(canary_of(&nginx(), &with_canary()).weight, None);
}

#[test]
fn gateway_weight_is_canary_share_of_backends() {
    let target = CanaryTarget::GatewayApi {
        route: "web".to_owned(),
        stable_service: "web".to_owned(),
        canary_service: "web-canary".to_owned(),
        canary_deployment: "web-canary".to_owned(),
    };
    let mut inv = with_canary();
    let backends = vec![("web".to_owned(), 90), ("web-canary".to_owned(), 10)];
    inv.routes.push(RouteInfo { namespace: NS.to_owned(), name: "web".to_owned(), backends });
    let canary = canary_of(&target, &inv);
    assert_eq!((canary.weight, canary.approximate), (Some(10), false));
    inv.routes.clear();
    assert_eq!(canary_of(&target, &inv).weight, None);
}

#[test]
fn replica_ratio_weight_is_approximate() {
    let target = CanaryTarget::Replicas { canary_deployment: "web-canary".to_owned() };
    let mut inv = with_canary();
    // The stable selector (app=web) also matches the canary pod: it must count once, as canary.
    inv.pods.remove(2);
    let canary = canary_of(&target, &inv);
    assert_eq!((canary.weight, canary.approximate), (Some(33), true));
    // 2 of 3 rounds up, not down.
    Arc::make_mut(&mut inv.pods[1]).labels.insert("track".to_owned(), "canary".to_owned());
    assert_eq!(canary_of(&target, &inv).weight, Some(67));
}

#[test]
fn canary_pods_count_towards_the_app() {
    let mut inv = with_canary();
    Arc::make_mut(&mut inv.pods[3]).waiting_reason = Some("CrashLoopBackOff".to_owned());
    let app = assess_one(&with_target(&nginx()), &inv);
    assert_degraded_by(&app, "1 pod in CrashLoopBackOff");
}

#[test]
fn missing_canary_deployment_is_degraded() {
    let app = assess_one(&with_target(&nginx()), &healthy_web());
    let canary = app.canary.as_ref().expect("canary configured");
    assert_eq!((canary.version.as_deref(), canary.replicas.desired), (None, 0));
    assert_degraded_by(&app, "canary deployment \"web-canary\" not found");
}

#[test]
fn canary_without_available_replicas_is_degraded() {
    let mut inv = with_canary();
    inv.deployments[1].available = 0;
    assert_degraded_by(&assess_one(&with_target(&nginx()), &inv), "canary: 0/1 replicas available");
}

#[test]
fn env_with_healthy_apps_and_nodes_is_healthy() {
    let env = assess("production", &[spec("web")], &healthy_web(), now());
    assert_eq!((env.verdict, env.nodes_ready, env.nodes_total), (Verdict::Healthy, 3, 3));
    assert!(env.reasons.is_empty(), "{:?}", env.reasons);
}

#[test]
fn env_with_all_nodes_down_is_down() {
    let mut inv = healthy_web();
    inv.nodes.iter_mut().for_each(|n| n.ready = false);
    let env = assess("production", &[spec("web")], &inv, now());
    assert_eq!(env.verdict, Verdict::Down);
    assert_eq!(env.reasons, ["0/3 nodes ready"]);
}

#[test]
fn env_with_a_node_not_ready_is_degraded() {
    let mut inv = healthy_web();
    inv.nodes[1].ready = false;
    let env = assess("production", &[spec("web")], &inv, now());
    assert_eq!((env.verdict, env.nodes_ready), (Verdict::Degraded, 2));
    assert_eq!(env.reasons, ["2/3 nodes ready"]);
}

#[test]
fn env_lists_unhealthy_apps_worst_first() {
    let mut inv = healthy_web();
    Arc::make_mut(&mut inv.pods[0]).waiting_reason = Some("CrashLoopBackOff".to_owned());
    let env = assess("production", &[spec("web"), spec("api")], &inv, now());
    assert_eq!(env.verdict, Verdict::Down);
    let api_missing = "api: deployment \"api\" not found in namespace \"shop\"";
    assert_eq!(env.reasons, [api_missing, "web: 1 pod in CrashLoopBackOff"]);
}

#[test]
fn empty_inventory_is_unknown() {
    let env = assess("production", &[spec("web")], &Inventory::default(), now());
    assert_eq!(env.verdict, Verdict::Unknown);
    assert_eq!(env.reasons, [NO_DATA]);
    assert_eq!(env.apps[0].verdict, Verdict::Unknown);
}

#[test]
fn env_warnings_are_recent_and_newest_first() {
    let mut inv = healthy_web();
    inv.events = vec![
        event("Pod", "a", "Old", Some(mins_ago(30))),
        event("Pod", "b", "Undated", None),
        event("Node", "node-2", "Newest", Some(mins_ago(1))),
        event("Pod", "c", "Older", Some(mins_ago(10))),
    ];
    let env = assess("production", &[], &inv, now());
    let reasons: Vec<&str> = env.warnings.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["Newest", "Older", "Undated"]);
}

#[test]
fn image_tag_reads_tag_digest_or_latest() {
    assert_eq!(image_tag("registry.example.com:5000/shop/web:v1.3.0"), "v1.3.0");
    assert_eq!(image_tag("registry.example.com:5000/shop/web"), "latest");
    assert_eq!(image_tag("nginx"), "latest");
    assert_eq!(image_tag("web@sha256:abc123"), "sha256:abc123");
    assert_eq!(image_tag("web:v1.3.0@sha256:abc123"), "v1.3.0");
}
