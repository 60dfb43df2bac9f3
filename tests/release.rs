//! Both ends of a release against the demo fleet: a canary started with a new version, and a
//! promotion between environments, with the refusals that keep a bad one out.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

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
