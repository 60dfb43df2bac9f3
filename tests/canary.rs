//! Canary control against the demo fleet: each traffic provider read and written through the
//! real binary, the analysis gate, abort, promotion (with what traffic met on the way), the kill
//! switch, and a weight changed behind opsdeck's back.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use std::collections::BTreeMap;

use fleet::{first_image, ingress_weight, replicas, route_weights, text, until};
use serde_json::{Value, json};

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("json ({e}): {}", text(out)))
}

const PROD: [&str; 6] = ["--env", "production", "--yes", "--reason", "release 1.3", "--json"];

fn args<'a>(command: &[&'a str], app: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["canary"];
    all.extend_from_slice(command);
    all.extend_from_slice(&["--app", app]);
    all.extend_from_slice(rest);
    all
}

#[tokio::test]
async fn each_provider_reads_and_writes_its_weight() {
    let demo = fleet::start().await;

    // nginx-ingress: the web canary passes its analysis, so stepping up needs no override.
    let out = demo.run(&args(&["step"], "web", &PROD)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json_out(&out)["outcome"], "done");
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "25");
    let status = demo.run(&["canary", "status", "--env", "production", "--app", "web", "--json"]).await;
    assert_eq!(json_out(&status)["weight"], 25, "status reads back what was written");

    // gateway-api: backing off is never gated.
    let out = demo.run(&args(&["back"], "api", &PROD)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [100, 0]);

    // replicas: local runs 2 stable and 1 canary pod (≈33%); the next step is 50%.
    let out = demo.run(&["canary", "step", "--env", "local", "--app", "web", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(replicas(&demo.get("local", "deployments", "web-canary").await), 2);
    assert_eq!(replicas(&demo.get("local", "deployments", "web").await), 1);
    let status = demo.run(&["canary", "status", "--env", "local", "--app", "web", "--json"]).await;
    let status = json_out(&status);
    assert_eq!(status["weight_approximate"], true, "a pod ratio says so");
    assert!(status["weight"].as_u64().is_some_and(|w| (50..=67).contains(&w)), "{status}");

    let audit = demo.audit();
    let results: Vec<(&str, &str, &str)> = audit
        .iter()
        .filter(|r| r["phase"] == "result")
        .map(|r| {
            (
                r["env"].as_str().unwrap_or(""),
                r["operation"].as_str().unwrap_or(""),
                r["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("production", "canary-step", "done"),
            ("production", "canary-back", "done"),
            ("local", "canary-step", "done"),
            ("local", "canary-step", "done"),
        ],
        "the replica ratio is two writes, canary up before stable down"
    );
}

#[tokio::test]
async fn more_traffic_to_a_failing_canary_needs_an_override() {
    let demo = fleet::start().await;
    // The api canary returns about 4% errors.
    let out = demo.run(&args(&["step"], "api", &PROD)).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("verdict fail") && text(&out).contains("--override"), "{}", text(&out));
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [90, 10], "untouched");
    assert!(demo.audit().is_empty(), "nothing was attempted");

    let mut with_override = args(&["set", "25"], "api", &PROD);
    with_override.extend(["--override", "load test against the canary only"]);
    let out = demo.run(&with_override).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [75, 25]);
    let audit = demo.audit();
    let reason = audit[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("override (verdict fail: error rate")
            && reason.contains("load test against the canary only")
            && reason.contains("release 1.3"),
        "the record says what was overridden, and why: {reason}"
    );
}

#[tokio::test]
async fn abort_sends_nothing_to_the_canary_and_keeps_its_pods() {
    let demo = fleet::start().await;
    let out = demo.run(&args(&["abort"], "api", &PROD)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [100, 0]);
    assert_eq!(
        replicas(&demo.get("production", "deployments", "api-canary").await),
        1,
        "kept, to investigate"
    );
    let again = demo.run(&args(&["abort"], "api", &PROD)).await;
    assert_eq!(again.status.code(), Some(3), "already at 0%: {}", text(&again));

    // The replica ratio: stable takes every pod back before the canary goes.
    let out = demo.run(&["canary", "abort", "--env", "local", "--app", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(replicas(&demo.get("local", "deployments", "web").await), 3);
    assert_eq!(replicas(&demo.get("local", "deployments", "web-canary").await), 0);
}

/// One object as the invariant needs it.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    weight: Option<u32>,
    /// A Deployment's pods that are ready and still wanted: a pod being scaled away is about
    /// to stop serving whatever its readiness says.
    serving: Option<i64>,
}

impl Seen {
    fn of(v: &Value) -> Self {
        let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        Seen {
            weight: (name == "web-canary" && v["kind"] == "Ingress")
                .then(|| fleet::ingress_weight(v).parse().unwrap_or(0)),
            serving: (v["kind"] == "Deployment").then(|| {
                let ready = v.pointer("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0);
                ready.min(fleet::replicas(v))
            }),
        }
    }
}

#[tokio::test]
async fn promotion_never_sends_traffic_to_pods_that_are_not_ready() {
    let demo = fleet::start().await;
    let log = fleet::record_versions(
        &demo.client("production").await,
        &[("apps", "Deployment", "deployments"), ("networking.k8s.io", "Ingress", "ingresses")],
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let canary_image = first_image(&demo.get("production", "deployments", "web-canary").await);

    let out = demo.run(&args(&["promote"], "web", &PROD)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let stable = demo.get("production", "deployments", "web").await;
    assert_eq!(first_image(&stable), canary_image, "stable runs the canary's template");
    assert_eq!(
        stable.pointer("/spec/template/metadata/labels/track"),
        Some(&json!("stable")),
        "with its own labels"
    );
    assert_eq!(stable.pointer("/status/updatedReplicas"), Some(&json!(3)), "rolled out completely");
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "0");
    assert_eq!(replicas(&demo.get("production", "deployments", "web-canary").await), 0);

    // Replay every stored state in order: whoever gets traffic has ready pods.
    let log = log.lock().expect("log").clone();
    let mut now: BTreeMap<String, Seen> = BTreeMap::new();
    let mut states = 0;
    for (rv, (key, object)) in &log {
        now.insert(key.clone(), Seen::of(object));
        let weight = now.get("Ingress/web-canary").and_then(|s| s.weight);
        let (Some(weight), Some(stable), Some(canary)) = (
            weight,
            now.get("Deployment/web").and_then(|s| s.serving),
            now.get("Deployment/web-canary").and_then(|s| s.serving),
        ) else {
            continue;
        };
        states += 1;
        assert!(
            weight == 0 || canary > 0,
            "at resourceVersion {rv} {weight}% went to a canary with no ready pod"
        );
        assert!(weight == 100 || stable > 0, "at resourceVersion {rv} stable had no ready pod");
    }
    assert!(states > 5, "the promotion was watched through ({states} states): {log:?}");
}

#[tokio::test]
async fn a_weight_changed_behind_our_back_is_not_overwritten() {
    let demo = fleet::start().await;
    let engine = demo.engine();
    let request = opsdeck::ops::CanaryRequest::Set(25);
    let prepared = engine.prepare(canary_request("production", "web", request)).await.expect("prepared");

    // Another operator moves the weight after the plan was shown.
    let theirs = json!({"metadata": {"annotations": {"nginx.ingress.kubernetes.io/canary-weight": "50"}}});
    demo.patch_behind_our_back("production", "ingresses", "web-canary", &theirs).await;

    let report = engine.execute(&prepared, &fleet::yes("stage 2"), |_| {}).await.expect("answered");
    let error = report.error.expect("refused");
    assert_eq!(fleet::exit_of(&error), 3, "{error}");
    assert_eq!(
        ingress_weight(&demo.get("production", "ingresses", "web-canary").await),
        "50",
        "theirs stands"
    );
    let now = &report.message;
    assert!(now.contains("the canary is at 50%"), "the operator is told what is true now: {now}");
}

#[tokio::test]
async fn the_kill_switch_aborts_every_active_canary_everywhere() {
    let demo = fleet::start().await;
    let out = demo.run(&["canary", "abort", "--all"]).await;
    assert_eq!(out.status.code(), Some(2), "production is protected: {}", text(&out));
    assert!(text(&out).contains("typed confirmation of abort-all"), "{}", text(&out));

    let out = demo.run(&["--readonly", "canary", "abort", "--all", "--yes", "--reason", "drill"]).await;
    assert_eq!(out.status.code(), Some(4), "read-only refuses every step: {}", text(&out));
    assert!(demo.audit().is_empty());

    let out = demo.run(&["canary", "abort", "--all", "--yes", "--reason", "error spike, incident 77"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "0");
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [100, 0]);
    assert_eq!(replicas(&demo.get("local", "deployments", "web-canary").await), 0);

    let audit = demo.audit();
    let done: Vec<(String, String)> = audit
        .iter()
        .filter(|r| r["phase"] == "result" && r["outcome"] == "done")
        .map(|r| (r["env"].as_str().unwrap_or("").to_owned(), r["app"].as_str().unwrap_or("").to_owned()))
        .collect();
    let first_two: Vec<(&str, &str)> = done.iter().take(2).map(|(e, a)| (e.as_str(), a.as_str())).collect();
    assert_eq!(first_two, [("production", "web"), ("production", "api")], "production first: {done:?}");
    assert!(done.iter().any(|(e, a)| e == "local" && a == "web"), "{done:?}");
    assert!(
        audit.iter().all(|r| r["reason"] == "error spike, incident 77" && r["operation"] == "canary-abort")
    );

    let out = demo.run(&["canary", "abort", "--all", "--yes", "--reason", "again"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing to abort"), "{}", text(&out));
}

fn canary_request(env: &str, app: &str, request: opsdeck::ops::CanaryRequest) -> opsdeck::engine::Request {
    opsdeck::engine::Request::new(env, app, opsdeck::engine::Ask::Canary(request))
}

/// An answer that goes ahead whatever the analysis says: these tests are about what happens
/// between the plan and the write.
fn past_the_gate(reason: &str) -> opsdeck::engine::Answer {
    opsdeck::engine::Answer { override_reason: Some(reason.to_owned()), ..fleet::yes(reason) }
}

#[tokio::test]
async fn later_steps_go_ahead_on_unchanged_fields_and_stop_on_changed_ones() {
    use opsdeck::ops::CanaryRequest;
    let demo = fleet::start().await;
    let promote = async |demo: &fleet::Demo| {
        let engine = demo.engine();
        let prepared = engine
            .prepare(canary_request("production", "web", CanaryRequest::Promote))
            .await
            .expect("prepared");
        (engine, prepared)
    };

    // Someone annotates the canary Deployment while the promotion is planned: its
    // resourceVersion moves, its replicas (what the last step reads) do not.
    let (engine, prepared) = promote(&demo).await;
    let label = json!({"metadata": {"annotations": {"owner": "team-web"}}});
    demo.patch_behind_our_back("production", "deployments", "web-canary", &label).await;
    let report = engine.execute(&prepared, &past_the_gate("promote"), |_| {}).await.expect("answered");
    assert_eq!(report.error, None, "{}", report.message);
    assert_eq!(replicas(&demo.get("production", "deployments", "web-canary").await), 0, "the last step ran");

    // A fresh fleet; this time the weight itself changes while stable rolls out.
    let demo = fleet::start().await;
    let (engine, prepared) = promote(&demo).await;
    let weight = json!({"metadata": {"annotations": {"nginx.ingress.kubernetes.io/canary-weight": "40"}}});
    demo.patch_behind_our_back("production", "ingresses", "web-canary", &weight).await;
    let report = engine.execute(&prepared, &past_the_gate("promote"), |_| {}).await.expect("answered");
    let error = report.error.expect("stopped");
    assert_eq!(fleet::exit_of(&error), 3, "{error}");
    assert!(
        error.to_string().contains("canary-weight is now \"40\""),
        "the refusal names the field that moved: {error}"
    );
    assert_eq!(
        ingress_weight(&demo.get("production", "ingresses", "web-canary").await),
        "40",
        "theirs stands"
    );
    assert_eq!(
        replicas(&demo.get("production", "deployments", "web-canary").await),
        1,
        "nothing after it ran"
    );
}

#[tokio::test]
async fn after_an_abort_the_first_step_waits_for_ready_pods_not_for_metrics() {
    let demo = fleet::start().await;
    // The api canary fails its analysis: raising it from 10% needs an override.
    let out = demo.run(&args(&["abort"], "api", &PROD)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [100, 0]);
    // From 0% there is nothing to analyse; its pods are ready, so the first step goes ahead.
    let out = demo.run(&args(&["step"], "api", &PROD)).await;
    assert_eq!(out.status.code(), Some(0), "no --override needed: {}", text(&out));
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [90, 10]);
    // The next step is judged on the analysis again.
    let out = demo.run(&args(&["step"], "api", &PROD)).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("--override"), "{}", text(&out));
}

#[tokio::test]
async fn a_first_step_to_pods_that_are_not_ready_is_refused() {
    let demo = fleet::start().await;
    let out = demo.run(&args(&["abort"], "web", &PROD)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A new canary release whose pods never pull.
    let broken = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "registry.example.com/shop/web:v1.3.1-pullfail"}]}}}});
    demo.patch_behind_our_back("production", "deployments", "web-canary", &broken).await;
    let out = demo.run(&args(&["step"], "web", &PROD)).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("pods are not ready"), "{}", text(&out));
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "0");
}

#[tokio::test]
async fn the_kill_switch_from_the_console_aborts_every_active_canary() {
    let demo = fleet::start().await;
    let mut console = demo.console(&demo.config);
    until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some())).await;
    fleet::press(&mut console, "X");
    until(&mut console, "the confirmation", |s| matches!(s.overlay, Some(opsdeck::app::Overlay::Confirm(_))))
        .await;
    fleet::press(&mut console, "abort-all");
    fleet::key(&mut console, opsdeck::app::Key::Tab);
    fleet::press(&mut console, "drill from the console");
    fleet::key(&mut console, opsdeck::app::Key::Enter);
    until(&mut console, "the kill switch ends", |s| {
        matches!(s.overlay, Some(opsdeck::app::Overlay::Finished { .. }))
    })
    .await;
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "0");
    assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [100, 0]);
    assert_eq!(replicas(&demo.get("local", "deployments", "web-canary").await), 0);
    let audit = demo.audit();
    assert!(
        audit
            .iter()
            .filter(|r| r["phase"] == "result")
            .all(|r| r["outcome"] == "done" && r["reason"] == "drill from the console"),
        "{audit:#?}"
    );
}

#[tokio::test]
async fn a_traffic_object_a_controller_owns_is_never_written() {
    let demo = fleet::start().await;
    // Flagger creates the canary Ingress and marks it as its Canary's.
    demo.patch_behind_our_back(
        "production",
        "ingresses",
        "web-canary",
        &json!({"metadata": {"ownerReferences": [{
            "apiVersion": "flagger.app/v1beta1", "kind": "Canary", "name": "web",
            "uid": "0c8f3a6e-5d2b-4c1a-9e7f-1b2c3d4e5f60", "controller": true, "blockOwnerDeletion": true,
        }]}}),
    )
    .await;
    let before = demo.get("production", "ingresses", "web-canary").await;
    let out = demo.run(&args(&["abort"], "web", &PROD)).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("driven by Flagger (Canary shop/web)"), "{}", text(&out));
    let after = demo.get("production", "ingresses", "web-canary").await;
    assert_eq!(before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"], "untouched");
    assert!(
        demo.audit().iter().all(|r| r["phase"] != "intent"),
        "nothing was even attempted: {:?}",
        demo.audit()
    );
}
