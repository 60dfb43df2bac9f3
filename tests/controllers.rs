//! Releases run by Argo Rollouts or Flagger, against the demo fleet: an app whose Deployment a
//! Flagger Canary targets, or a Rollout's workloadRef names, is shown as theirs in
//! `opsdeck status`, with what the controller reports.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use fleet::text;
use serde_json::{Value, json};

async fn app_status(demo: &fleet::Demo, env: &str, app: &str) -> (Value, String) {
    let out = demo.run(&["status", "--env", env, "--json"]).await;
    let status: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("json ({e}): {}", text(&out)));
    let apps = status["environments"][0]["health"]["apps"].as_array().cloned().unwrap_or_default();
    let found = apps.into_iter().find(|a| a["app"] == app).unwrap_or_else(|| panic!("{app} in {status}"));
    let table = demo.run(&["status", "--env", env]).await;
    (found, String::from_utf8_lossy(&table.stdout).into_owned())
}

#[tokio::test]
async fn an_app_flagger_or_argo_rollouts_runs_says_so_with_what_they_report() {
    let demo = fleet::start().await;
    let (worker, _) = app_status(&demo, "staging", "worker").await;
    assert_eq!(worker["controller"], Value::Null, "nobody runs it yet");

    demo.create_in(
        "staging",
        "shop",
        "canaries",
        &json!({
            "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
            "metadata": {"name": "worker", "namespace": "shop"},
            "spec": {
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"},
                "analysis": {"interval": "1m", "threshold": 5, "stepWeight": 10, "maxWeight": 50},
                "suspend": false,
            },
            "status": {"phase": "Progressing", "canaryWeight": 20, "failedChecks": 1, "iterations": 2},
        }),
    )
    .await;
    let (worker, table) = app_status(&demo, "staging", "worker").await;
    let flagger = &worker["controller"];
    assert_eq!((flagger["kind"].as_str(), flagger["name"].as_str()), (Some("flagger"), Some("worker")));
    assert_eq!((flagger["phase"].as_str(), flagger["weight"].as_u64()), (Some("Progressing"), Some(20)));
    assert_eq!(flagger["failed_checks"], json!([1, 5]));
    assert!(table.contains("flagger 20%"), "{table}");

    demo.create_in(
        "local",
        "shop",
        "rollouts",
        &json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {
                "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
                "strategy": {"canary": {"steps": [
                    {"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "2m"}}, {"setWeight": 100},
                ]}},
            },
            "status": {"phase": "Paused", "currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]},
        }),
    )
    .await;
    let (api, table) = app_status(&demo, "local", "api").await;
    let argo = &api["controller"];
    assert_eq!(argo["kind"], "argo-rollouts");
    assert_eq!(argo["step"], json!([1, 5]), "at the pause after the first step");
    assert_eq!(argo["weight"], 20, "the last setWeight reached");
    assert_eq!(argo["paused"], true);
    assert!(table.contains("argo-rollouts 20%"), "{table}");
}
