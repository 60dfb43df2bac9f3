//! GitOps sync state against the demo fleet: what `opsdeck status` says of the Flux
//! Kustomization and the Argo CD Application that reconcile the apps, and how it follows them.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use fleet::text;
use serde_json::{Value, json};

async fn gitops_of(demo: &fleet::Demo, env: &str) -> (Vec<Value>, String) {
    let out = demo.run(&["status", "--env", env, "--json"]).await;
    let status: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("json ({e}): {}", text(&out)));
    let gitops = status["environments"][0]["gitops"].as_array().cloned().unwrap_or_default();
    let table = demo.run(&["status", "--env", env]).await;
    (gitops, String::from_utf8_lossy(&table.stdout).into_owned())
}

#[tokio::test]
async fn each_environment_says_what_reconciles_its_apps_and_whether_it_is_in_sync() {
    let demo = fleet::start().await;

    let (staging, table) = gitops_of(&demo, "staging").await;
    assert_eq!(staging.len(), 1, "{staging:#?}");
    let flux = &staging[0];
    assert_eq!((flux["kind"].as_str(), flux["name"].as_str()), (Some("Kustomization"), Some("shop-apps")));
    assert_eq!((flux["namespace"].as_str(), flux["ready"].as_bool()), (Some("flux-system"), Some(true)));
    assert_eq!(flux["revision"], "main@sha1:3f1c9a2e7b4d5c6f8a9b0c1d2e3f4a5b6c7d8e9f");
    assert_eq!(flux["apps"], json!(["web"]), "only web is Flux's");
    assert!(table.contains("gitops ✓ Kustomization shop-apps main@3f1c9a2"), "{table}");

    let (production, table) = gitops_of(&demo, "production").await;
    let argo = &production[0];
    assert_eq!((argo["kind"].as_str(), argo["name"].as_str()), (Some("Application"), Some("shop-worker")));
    assert_eq!((argo["ready"].as_bool(), argo["suspended"].as_bool()), (Some(true), Some(false)));
    assert_eq!(argo["apps"], json!(["worker"]));
    assert!(table.contains("gitops ✓ Application shop-worker 3f1c9a2"), "{table}");

    let (local, _) = gitops_of(&demo, "local").await;
    assert!(local.is_empty(), "nothing reconciles local: {local:#?}");

    // Someone suspends Flux, and a sync fails in Argo CD: both say so.
    demo.patch_in(
        "staging",
        "flux-system",
        "kustomizations",
        "shop-apps",
        &json!({"spec": {"suspend": true}}),
    )
    .await;
    demo.patch_status_in(
        "production",
        "argocd",
        "applications",
        "shop-worker",
        &json!({"status": {"sync": {"status": "OutOfSync"}, "conditions": [{"type": "SyncError", "message": "one or more objects failed to apply"}]}}),
    )
    .await;
    let (staging, table) = gitops_of(&demo, "staging").await;
    assert_eq!(staging[0]["suspended"], true);
    assert!(table.contains("suspended"), "{table}");
    let (production, table) = gitops_of(&demo, "production").await;
    assert_eq!(production[0]["ready"], false);
    assert_eq!(production[0]["message"], "one or more objects failed to apply");
    assert!(table.contains("gitops ✖ Application shop-worker"), "{table}");
}
