//! Rollback against the demo fleet: history, `kubectl rollout undo`'s result through the
//! operation path, equivalence with kubectl itself, the active canary aborted first, a stale
//! precondition, a paused Deployment, and the console's rollback screen driven headless.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use fleet::{key, press, until};

use std::time::{Duration, Instant};

use fleet::{first_image, ingress_weight, route_weights, text};
use opsdeck::app::Key;
use opsdeck::app::{Overlay, Screen};
use serde_json::{Value, json};

const PROD: [&str; 4] = ["--yes", "--reason", "errors after v1.2.0", "--json"];

fn annotation(object: &Value, key: &str) -> Option<String> {
    object
        .pointer(&format!("/metadata/annotations/{}", key.replace('/', "~1")))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn revision(object: &Value) -> Option<String> {
    annotation(object, "deployment.kubernetes.io/revision")
}

#[tokio::test]
async fn history_lists_the_revisions_and_the_last_known_good() {
    let demo = fleet::start().await;
    let out = demo.run(&["history", "--env", "production", "--app", "api", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let history: Value = serde_json::from_slice(&out.stdout).expect("json");
    let revisions: Vec<(u64, bool)> = history["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| (r["revision"].as_u64().unwrap_or(0), r["current"].as_bool().unwrap_or(false)))
        .collect();
    assert_eq!(revisions, [(2, true), (1, false)]);
    assert_eq!(history["revisions"][1]["change_cause"], "release v1.1.0");
    assert_eq!(history["last_known_good"]["revision"], 1);

    let out = demo.run(&["history", "--env", "staging", "--app", "web"]).await;
    let table = text(&out);
    assert!(table.contains("← current") && table.contains("← last known good"), "{table}");
    assert!(table.contains("managed by Flux (Kustomization flux-system/shop-apps)"), "{table}");
}

#[tokio::test]
async fn rollback_aborts_the_canary_first_then_restores_the_old_template() {
    let demo = fleet::start().await;
    let old_rs = demo.get("production", "replicasets", &rs_name(&demo, "production", "web", "1").await).await;

    let mut args = vec!["rollback", "--env", "production", "--app", "web"];
    args.extend(PROD);
    let out = demo.run(&args).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(result["outcome"], "done", "it waited for the rollout: {result}");

    let web = demo.get("production", "deployments", "web").await;
    let mut expected = old_rs.pointer("/spec/template").cloned().expect("template");
    expected["metadata"]["labels"].as_object_mut().expect("labels").remove("pod-template-hash");
    assert_eq!(
        web.pointer("/spec/template"),
        Some(&expected),
        "the Deployment runs the old ReplicaSet's template"
    );
    assert_eq!(revision(&web).as_deref(), Some("3"), "revision 1 comes back as 3");
    assert_eq!(annotation(&web, "kubernetes.io/change-cause").as_deref(), Some("release v1.1.0"));
    assert_eq!(web.pointer("/status/updatedReplicas"), Some(&json!(3)), "and the rollout completed");
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "0");

    let targets: Vec<(String, String)> = demo
        .audit()
        .iter()
        .filter(|r| r["phase"] == "intent")
        .map(|r| {
            (r["kind"].as_str().unwrap_or("").to_owned(), r["operation"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert_eq!(
        targets,
        [("Ingress".to_owned(), "rollback".to_owned()), ("Deployment".to_owned(), "rollback".to_owned())],
        "the canary's traffic goes before stable rolls back, in one plan"
    );
}

/// The name of the app's ReplicaSet carrying `revision`.
async fn rs_name(demo: &fleet::Demo, context: &str, app: &str, revision: &str) -> String {
    let out = demo.run(&["history", "--env", context, "--app", app, "--json"]).await;
    let history: Value = serde_json::from_slice(&out.stdout).expect("json");
    history["revisions"]
        .as_array()
        .and_then(|rs| {
            rs.iter().find(|r| r["revision"].as_u64().map(|n| n.to_string()).as_deref() == Some(revision))
        })
        .and_then(|r| r["replica_set"].as_str())
        .unwrap_or_else(|| panic!("no revision {revision}: {history}"))
        .to_owned()
}

/// What a rollback leaves in a Deployment, for comparing two clusters: the template (with
/// what semantic equality ignores dropped) and the annotations.
fn result_of(deployment: &Value) -> (Value, Value) {
    fn prune(v: &mut Value) {
        if let Value::Object(map) = v {
            map.values_mut().for_each(prune);
            map.retain(|_, v| !(v.is_null() || v.as_object().is_some_and(serde_json::Map::is_empty)));
        }
    }
    let mut template = deployment.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    prune(&mut template);
    (template, deployment.pointer("/metadata/annotations").cloned().unwrap_or(Value::Null))
}

#[tokio::test]
#[ignore = "needs kubectl (.ci/run installs kubernetes-client and runs ignored tests)"]
async fn opsdeck_and_kubectl_roll_back_to_identical_deployments() {
    let (theirs, ours) = (fleet::start().await, fleet::start().await);
    // Not std's Command: the fleets serve on this test's runtime, which must keep running.
    let out = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&theirs.kubeconfig)
        .args(["--context", "staging", "-n", "shop", "rollout", "undo", "deploy/api", "--to-revision=1"])
        .output()
        .await
        .expect("kubectl is installed (.ci/run installs it)");
    assert!(out.status.success(), "kubectl: {}", text(&out));
    let out =
        ours.run(&["rollback", "--env", "staging", "--app", "api", "--to-revision", "1", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (a, b) = (
            theirs.get("staging", "deployments", "api").await,
            ours.get("staging", "deployments", "api").await,
        );
        if revision(&a) == revision(&b) || Instant::now() > deadline {
            assert_eq!(result_of(&a), result_of(&b), "the same template and annotations");
            assert_eq!(revision(&a).as_deref(), Some("3"));
            assert_eq!(revision(&b).as_deref(), Some("3"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_stale_rollback_writes_nothing_and_exits_3() {
    let demo = fleet::start().await;
    let engine = demo.engine();
    let request =
        opsdeck::engine::Request::new("staging", "api", opsdeck::engine::Ask::Rollback { to_revision: None });
    let prepared = engine.prepare(request).await.expect("prepared");

    // Another operator annotates the Deployment after the plan was shown.
    let theirs = json!({"metadata": {"annotations": {"incident": "INC-42"}}});
    demo.patch_behind_our_back("staging", "deployments", "api", &theirs).await;
    let before = demo.get("staging", "deployments", "api").await;

    let report = engine.execute(&prepared, &fleet::yes("drill"), |_| {}).await.expect("answered");
    let error = report.error.expect("refused");
    assert_eq!(fleet::exit_of(&error), 3, "{error}");
    let after = demo.get("staging", "deployments", "api").await;
    assert_eq!(first_image(&after), first_image(&before), "nothing was written");
    assert_eq!(revision(&after), revision(&before));
    assert!(report.message.contains("running r2"), "what is true now: {}", report.message);
}

#[tokio::test]
async fn a_paused_deployment_is_refused_and_no_wait_returns_at_once() {
    let demo = fleet::start().await;
    let out = demo.run(&["pause", "--env", "local", "--app", "api"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = demo.run(&["pause", "--env", "staging", "--app", "api", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = demo.run(&["rollback", "--env", "staging", "--app", "api", "--yes"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("is paused") && text(&out).contains("--resume"), "{}", text(&out));
    assert!(demo.audit().iter().all(|r| r["operation"] != "rollback"), "nothing was attempted");
    let out = demo.run(&["rollback", "--env", "staging", "--app", "api", "--yes", "--resume"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let api = demo.get("staging", "deployments", "api").await;
    assert_eq!(
        api.pointer("/spec/paused").and_then(Value::as_bool),
        Some(false),
        "resumed in the same write"
    );

    let out = demo.run(&["rollback", "--env", "local", "--app", "worker", "--no-wait"]).await;
    assert_eq!(out.status.code(), Some(3), "worker has one revision: {}", text(&out));
    assert!(text(&out).contains("no rollout history"), "{}", text(&out));

    let out =
        demo.run(&["rollback", "--env", "staging", "--app", "web", "--no-wait", "--yes", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(result["message"].as_str().is_some_and(|m| m.contains("not waiting")), "{result}");
    assert!(
        result["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w.as_str().is_some_and(|w| w.contains("managed by Flux")))),
        "{result}"
    );
}

#[tokio::test]
async fn the_rollback_screen_confirms_by_typed_name_and_follows_the_rollout() {
    let demo = fleet::start().await;
    let mut console = demo.console(&demo.config);
    until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some())).await;

    press(&mut console, "lljR");
    let Screen::Rollback { selected, .. } = &console.state.screen else { panic!("the rollback screen") };
    assert_eq!(*selected, Some(1), "the last known good revision is preselected");
    key(&mut console, Key::Enter);
    until(&mut console, "the confirmation", |s| matches!(s.overlay, Some(Overlay::Confirm(_)))).await;
    press(&mut console, "production/API");
    key(&mut console, Key::Tab);
    press(&mut console, "errors after v1.2.0");
    key(&mut console, Key::Enter);
    let Some(Overlay::Confirm(confirm)) = &console.state.overlay else { panic!("still confirming") };
    assert!(
        confirm.error.as_deref().is_some_and(|e| e.contains("production/api")),
        "a wrong name is refused"
    );
    assert!(demo.audit().is_empty(), "and nothing was attempted");
    for _ in 0.."API".len() {
        key(&mut console, Key::Backspace);
    }
    press(&mut console, "api");
    key(&mut console, Key::Enter);
    assert!(
        matches!(&console.state.screen, Screen::Rollback { progress: Some(_), .. }),
        "the screen follows the rollback live"
    );
    until(
        &mut console,
        "the rollback ends",
        |s| matches!(&s.screen, Screen::Rollback { progress: Some(p), .. } if p.outcome.is_some()),
    )
    .await;
    let Screen::Rollback { progress: Some(p), .. } = &console.state.screen else { unreachable!() };
    assert_eq!(p.outcome.as_deref(), Some("done"));
    assert_eq!(
        route_weights(&demo.get("production", "httproutes", "api").await),
        [100, 0],
        "the canary went first"
    );
    let api = demo.get("production", "deployments", "api").await;
    assert!(first_image(&api).ends_with(":v1.1.0") && revision(&api).as_deref() == Some("3"), "{api}");
}

#[tokio::test]
async fn a_flux_managed_deployment_can_have_its_kustomization_suspended() {
    let demo = fleet::start().await;
    let mut console = demo.console(&demo.config);
    until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some())).await;
    press(&mut console, "lRS");
    until(&mut console, "the confirmation", |s| matches!(s.overlay, Some(Overlay::Confirm(_)))).await;
    press(&mut console, "y");
    until(&mut console, "suspended", |s| matches!(s.overlay, Some(Overlay::Finished { .. }))).await;
    let Some(Overlay::Finished { outcome, .. }) = &console.state.overlay else { unreachable!() };
    assert_eq!(outcome, "done");

    let kustomization = demo.get_in("staging", "flux-system", "kustomizations", "shop-apps").await;
    assert_eq!(kustomization.pointer("/spec/suspend"), Some(&json!(true)));
    let audit = demo.audit();
    assert!(audit.iter().any(|r| r["operation"] == "suspend-gitops" && r["outcome"] == "done"), "{audit:#?}");
}

#[tokio::test]
async fn the_console_offers_to_resume_a_paused_deployment_with_its_rollback() {
    let demo = fleet::start().await;
    let out = demo.run(&["pause", "--env", "staging", "--app", "api", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut console = demo.console(&demo.config);
    until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some())).await;
    press(&mut console, "ljR");
    key(&mut console, Key::Enter);
    until(&mut console, "the choice", |s| matches!(s.overlay, Some(Overlay::Choice { .. }))).await;
    let Some(Overlay::Choice { question, .. }) = &console.state.overlay else { unreachable!() };
    assert!(question.contains("is paused") && question.contains("resume it in the same write"), "{question}");
    press(&mut console, "y");
    until(&mut console, "the confirmation", |s| matches!(s.overlay, Some(Overlay::Confirm(_)))).await;
    let Some(Overlay::Confirm(confirm)) = &console.state.overlay else { unreachable!() };
    assert!(confirm.prepared.request.resume_paused, "asked again, with the resume");
    assert!(confirm.prepared.plan.warnings.iter().any(|w| w.contains("resumes it")));
    press(&mut console, "y");
    until(&mut console, "the rollback ends", |s| {
        matches!(&s.screen, Screen::Rollback { progress: Some(p), .. } if p.outcome.is_some())
            || matches!(s.overlay, Some(Overlay::Finished { .. }))
    })
    .await;
    let api = demo.get("staging", "deployments", "api").await;
    assert_eq!(api.pointer("/spec/paused").and_then(Value::as_bool), Some(false));
}
