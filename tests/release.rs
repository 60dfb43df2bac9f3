//! Both ends of a release against the demo fleet: a canary started with a new version, and a
//! promotion between environments, a blue-green switch, switch back and promotion, with the
//! refusals that keep a bad one out.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use std::collections::BTreeMap;

use fleet::{first_image, route_weights, text};
use serde_json::Value;

const YES: [&str; 3] = ["--yes", "--reason", "release 1.3"];

fn args<'a>(head: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(rest).chain(YES.iter()).copied().collect()
}

fn change_cause(deployment: &Value) -> String {
    deployment
        .pointer("/metadata/annotations/kubernetes.io~1change-cause")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_canary_started_from_staging_runs_its_exact_image_and_takes_traffic_once_ready() {
    let demo = fleet::start().await;
    let out = demo
        .run(&args(&["canary", "start"], &["--env", "production", "--app", "api", "--from", "staging"]))
        .await;
    assert_eq!(out.status.code(), Some(3), "a canary taking 10% is not replaced: {}", text(&out));
    assert!(text(&out).contains("already takes 10%"), "{}", text(&out));
    let out = demo.run(&args(&["canary", "abort"], &["--env", "production", "--app", "api"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let staging = first_image(&demo.get("staging", "deployments", "api").await);
    let out = demo
        .run(&args(&["canary", "start"], &["--env", "production", "--app", "api", "--from", "staging"]))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let canary = demo.get("production", "deployments", "api-canary").await;
    assert_eq!(first_image(&canary), staging, "exactly what staging runs");
    assert_eq!(canary["status"]["readyReplicas"], canary["spec"]["replicas"], "ready before the traffic");
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [90, 10], "the first step");
    let audit = demo.audit();
    let intents: Vec<&str> =
        audit.iter().filter(|r| r["phase"] == "intent").filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(
        intents[intents.len() - 2..],
        ["Deployment", "HTTPRoute"],
        "the canary's rollout, then the traffic"
    );
}

#[tokio::test]
async fn a_mutable_tag_is_never_promoted() {
    let demo = fleet::start().await;
    let before = demo.get("production", "deployments", "worker").await;
    let out =
        demo.run(&args(&["promote"], &["--app", "worker", "--from", "staging", "--to", "production"])).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains(":latest is a mutable tag"), "{}", text(&out));
    let after = demo.get("production", "deployments", "worker").await;
    assert_eq!(before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"], "untouched");
    assert!(demo.audit().is_empty());
}

#[tokio::test]
async fn a_promotion_sets_the_image_follows_the_rollout_and_says_why() {
    let demo = fleet::start().await;
    let local = first_image(&demo.get("local", "deployments", "worker").await);
    let out = demo.run(&args(&["promote"], &["--app", "worker", "--from", "local", "--to", "staging"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let worker = demo.get("staging", "deployments", "worker").await;
    assert_eq!(first_image(&worker), local);
    assert_eq!(
        worker["status"]["updatedReplicas"], worker["spec"]["replicas"],
        "rolled out before it said done"
    );
    let tag = local.rsplit(':').next().unwrap_or_default();
    assert_eq!(change_cause(&worker), format!("promote worker {tag} from local by demo-admin: release 1.3"));
    let again =
        demo.run(&args(&["promote"], &["--app", "worker", "--from", "local", "--to", "staging"])).await;
    assert_eq!(again.status.code(), Some(3), "already there: {}", text(&again));
    assert!(text(&again).contains("already runs"), "{}", text(&again));
}

#[tokio::test]
async fn a_target_flux_reconciles_needs_an_explicit_choice() {
    let demo = fleet::start().await;
    let before = demo.get("staging", "deployments", "web").await;
    let out = demo.run(&args(&["promote"], &["--app", "web", "--from", "local", "--to", "staging"])).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("managed by Flux"), "{}", text(&out));
    let untouched = demo.get("staging", "deployments", "web").await;
    assert_eq!(before["metadata"]["resourceVersion"], untouched["metadata"]["resourceVersion"]);
    let kustomization = demo.get_in("staging", "flux-system", "kustomizations", "shop-apps").await;
    assert_ne!(kustomization["spec"]["suspend"], true, "nothing suspended either");

    let out = demo
        .run(&args(&["promote"], &["--app", "web", "--from", "local", "--to", "staging", "--suspend-gitops"]))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let kustomization = demo.get_in("staging", "flux-system", "kustomizations", "shop-apps").await;
    assert_eq!(kustomization["spec"]["suspend"], true, "suspended first");
    let local = first_image(&demo.get("local", "deployments", "web").await);
    assert_eq!(first_image(&demo.get("staging", "deployments", "web").await), local);
}

/// The colour a blue-green Service selects, and the one it records as stable.
fn selector_and_stable(service: &Value) -> (String, String) {
    let read = |p: &str| service.pointer(p).and_then(Value::as_str).unwrap_or("<none>").to_owned();
    (read("/spec/selector/version"), read("/metadata/annotations/opsdeck.io~1stable"))
}

/// Ready pods still wanted: a pod being scaled away is about to stop serving.
fn serving(deployment: &Value) -> i64 {
    let ready = deployment.pointer("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0);
    ready.min(fleet::replicas(deployment))
}

const BLUE_GREEN: [&str; 6] = ["--env", "production", "--app", "checkout", "--yes", "--reason"];

async fn blue_green(demo: &fleet::Demo, verb: &str, rest: &[&str]) -> std::process::Output {
    let mut all = vec!["canary", verb];
    all.extend_from_slice(&BLUE_GREEN);
    all.push("release 2.5");
    all.extend_from_slice(rest);
    demo.run(&all).await
}

#[tokio::test]
async fn blue_green_switches_switches_back_and_promotes_never_selecting_a_colour_without_ready_pods() {
    let demo = fleet::start().await;
    let log = fleet::record_versions(
        &demo.client("production").await,
        &[("apps", "Deployment", "deployments"), ("", "Service", "services")],
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let service = || demo.get("production", "services", "checkout");
    assert_eq!(selector_and_stable(&service().await), ("blue".into(), "<none>".into()));

    // A weight between the two colours is no blue-green; nothing is written.
    let before = service().await;
    let out = blue_green(&demo, "set", &["50"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("0 and 100"), "{}", text(&out));
    assert_eq!(service().await["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);

    // The switch: everything to green, blue recorded as the stable colour to come back to.
    let out = blue_green(&demo, "step", &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(selector_and_stable(&service().await), ("green".into(), "blue".into()));
    let status = demo.run(&["canary", "status", "--env", "production", "--app", "checkout", "--json"]).await;
    let status: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(status["weight"], 100, "{status}");

    // Abort: the instant switch back the guide promises.
    let out = blue_green(&demo, "abort", &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(selector_and_stable(&service().await).0, "blue");

    // Switch again, then promote: green is the stable colour, blue keeps its pods.
    let out = blue_green(&demo, "step", &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = blue_green(&demo, "promote", &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(selector_and_stable(&service().await), ("green".into(), "green".into()));
    let blue = demo.get("production", "deployments", "checkout-blue").await;
    assert_eq!(fleet::replicas(&blue), 3, "kept for an instant switch back");
    let status = demo.run(&["canary", "status", "--env", "production", "--app", "checkout", "--json"]).await;
    let status: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(status["weight"], 0, "the idle colour is now blue: {status}");

    // A colour whose rollout is not finished is never switched to.
    demo.patch_behind_our_back(
        "production",
        "deployments",
        "checkout-blue",
        &serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "registry.example.com/shop/checkout:v2.6.0-crash"}]}}}}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = service().await;
    let out = blue_green(&demo, "step", &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("only once every pod of it is ready"), "{}", text(&out));
    assert_eq!(service().await["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);

    // Replay every stored state in order: the Service never selects a colour with no ready pod.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = log.lock().expect("log").clone();
    let mut now: BTreeMap<String, Value> = BTreeMap::new();
    let mut switches = Vec::new();
    for (rv, (key, object)) in &log {
        now.insert(key.clone(), object.clone());
        let Some(service) = now.get("Service/checkout") else { continue };
        let (colour, _) = selector_and_stable(service);
        if switches.last() != Some(&colour) {
            switches.push(colour.clone());
        }
        let Some(live) = now.get(&format!("Deployment/checkout-{colour}")) else { continue };
        assert!(serving(live) > 0, "at resourceVersion {rv} the Service selected {colour} with no ready pod");
    }
    assert_eq!(switches, ["blue", "green", "blue", "green"], "each switch was seen");
}
