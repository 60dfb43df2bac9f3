//! The guard against the demo fleet, as a pipeline runs it (seed 004's `monitor-deployment.sh`
//! and "rollback on failure"): a release failing the error rate rolled back with the tree's
//! reason, a healthy one left alone, a crash decided at the first branch, and the planted
//! Service mistake named at the third.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use serde_json::Value;

const REGISTRY: &str = "registry.example.com/shop";

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", fleet::text(out)))
}

fn evidence(report: &Value, branch: &str) -> Vec<String> {
    let node = report["tree"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["branch"] == branch))
        .unwrap_or_else(|| panic!("no {branch} node: {report:#}"));
    node["evidence"].as_array().into_iter().flatten().filter_map(|e| e.as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn a_release_above_one_percent_errors_is_rolled_back_with_the_trees_reason() {
    let demo = fleet::start().await;
    demo.set_image("production", "web", "web", &format!("{REGISTRY}/web:v1.3.1-rc.1")).await;
    let out = demo
        .run(&[
            "guard",
            "--env",
            "production",
            "--app",
            "web",
            "--for",
            "90s",
            "--rollback",
            "--yes",
            "--reason",
            "guard",
            "--json",
        ])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", fleet::text(&out));
    let report = json(&out);
    assert_eq!(report["ended"]["outcome"], "rollback", "{report:#}");
    assert_eq!(report["tree"]["decided_by"], "error-rate");
    assert!(evidence(&report, "error-rate")[0].contains("above 1.00%"), "{report:#}");
    assert_eq!(report["rollback"]["outcome"], "done", "{report:#}");
    assert!(report["baseline"]["from"].as_str().is_some_and(|f| f.contains("revision 2")), "{report:#}");

    let web = demo.get("production", "deployments", "web").await;
    assert_eq!(fleet::first_image(&web), format!("{REGISTRY}/web:v1.2.0"), "back on the last known good");
    // The canary's Ingress to 0% first (the rollback aborts an active canary), then the
    // Deployment: an intent and a result each, all marked as the guard's.
    let records: Vec<Value> = demo.audit().into_iter().filter(|r| r["operation"] == "rollback").collect();
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["Ingress", "Ingress", "Deployment", "Deployment"], "{records:#?}");
    for record in &records {
        assert_eq!(record["automatic"], "guard", "{record:#}");
        let reason = record["reason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("guard; guard: Error rate normal? no:"), "{reason}");
    }
}

#[tokio::test]
async fn a_healthy_release_guarded_for_a_minute_ends_ok_and_changes_nothing() {
    let demo = fleet::start().await;
    demo.set_image("production", "web", "web", &format!("{REGISTRY}/web:v1.3.0")).await;
    let out = demo
        .run(&[
            "guard",
            "--env",
            "production",
            "--app",
            "web",
            "--for",
            "60s",
            "--rollback",
            "--yes",
            "--json",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", fleet::text(&out));
    let report = json(&out);
    assert_eq!(report["ended"]["outcome"], "ok", "{report:#}");
    assert_eq!(report["rollback"], Value::Null);
    assert_eq!(report["version"], "v1.3.0");
    for node in report["tree"]["nodes"].as_array().into_iter().flatten() {
        assert_eq!(node["verdict"], "pass", "{node:#}");
    }
    let web = demo.get("production", "deployments", "web").await;
    assert_eq!(fleet::first_image(&web), format!("{REGISTRY}/web:v1.3.0"));
    assert!(demo.audit().is_empty(), "nothing written");
}

#[tokio::test]
async fn a_crash_loop_is_decided_at_the_first_branch_not_after_the_period() {
    let demo = fleet::start().await;
    demo.set_image("staging", "api", "api", &format!("{REGISTRY}/api:v1.3.1-crash")).await;
    let out = demo.run(&["guard", "--env", "staging", "--app", "api", "--for", "10m", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", fleet::text(&out));
    let report = json(&out);
    assert_eq!(report["tree"]["decided_by"], "pods-starting", "{report:#}");
    assert!(evidence(&report, "pods-starting")[0].contains("CrashLoopBackOff"), "{report:#}");
    let at = |field: &Value| field.as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()).expect("a time");
    let took = at(&report["ended"]["at"]).duration_since(at(&report["started"]));
    assert!(took.as_secs() < 120, "decided {took:?} into a 10-minute guard, not at its end");
    assert_eq!(report["rollback"], Value::Null, "without --rollback nothing is written");
    assert!(demo.audit().is_empty());
}

#[tokio::test]
async fn the_planted_service_mistake_is_named_at_the_third_branch() {
    let demo = fleet::start().await;
    let out = demo.run(&["guard", "--env", "local", "--app", "api", "--for", "30s", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", fleet::text(&out));
    let report = json(&out);
    assert_eq!(report["tree"]["decided_by"], "service-accessible", "{report:#}");
    let said = evidence(&report, "service-accessible").join(" ");
    assert!(said.contains("port 80 → targetPort 8081") && said.contains("declares http 8080"), "{said}");
    // The same app's Service elsewhere is fine.
    let out = demo.run(&["guard", "--env", "staging", "--app", "api", "--for", "1s", "--json"]).await;
    let report = json(&out);
    assert_eq!(
        evidence(&report, "service-accessible"),
        ["Service shop/api: 2 ready endpoints"],
        "{report:#}"
    );
}

#[tokio::test]
async fn rollback_without_yes_is_refused_before_guarding() {
    let demo = fleet::start().await;
    let out = demo.run(&["guard", "--env", "production", "--app", "web", "--rollback"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", fleet::text(&out));
    assert!(fleet::text(&out).contains("pass --yes"), "{}", fleet::text(&out));
}

/// Runs the headless console until `done` holds, for at most `seconds`.
async fn console_until(
    console: &mut opsdeck::console::Console,
    what: &str,
    seconds: u64,
    done: impl Fn(&opsdeck::app::State) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !done(&console.state) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "{what}: not in time; notice {:?}", console.state.notice);
        let _ = tokio::time::timeout(left, console.step()).await;
    }
}

#[tokio::test]
async fn the_consoles_guard_on_an_auto_rollback_environment_rolls_back_by_itself() {
    let demo = fleet::start().await;
    let config = demo.config_with(
        "auto-rollback.toml",
        &[(
            "name = \"production\"\ncontext = \"production\"\nnamespaces = [\"shop\"]\n",
            "name = \"production\"\ncontext = \"production\"\nnamespaces = [\"shop\"]\nguard = { auto_rollback = true }\n",
        )],
    );
    let mut console = demo.console(&config);
    console_until(&mut console, "synced", 60, |s| s.envs.iter().all(|e| e.snapshot.is_some())).await;
    assert!(console.state.guards.by_app.is_empty(), "what runs when the console opens is not a new release");

    // Somebody else's release: kubectl, a pipeline, Flux.
    demo.set_image("production", "web", "web", &format!("{REGISTRY}/web:v1.3.1-rc.1")).await;
    console_until(&mut console, "a guard on the new revision", 30, |s| {
        s.guards.of("production", "web").is_some()
    })
    .await;
    let guard = console.state.guards.of("production", "web").expect("a guard");
    assert_eq!(guard.version.as_deref(), Some("v1.3.1-rc.1"));
    assert_eq!(guard.until.duration_since(guard.started).as_secs(), 3600, "an hour in production");

    console_until(&mut console, "the guard's own rollback", 120, |s| {
        s.notice.as_ref().is_some_and(|n| n.text.starts_with("guard rolled back production/web by itself"))
    })
    .await;
    let notice = console.state.notice.clone().expect("a notice");
    assert!(notice.text.contains(": done"), "{notice:?}");
    let web = demo.get("production", "deployments", "web").await;
    assert_eq!(fleet::first_image(&web), format!("{REGISTRY}/web:v1.2.0"));
    let records: Vec<Value> = demo
        .audit()
        .into_iter()
        .filter(|r| r["operation"] == "rollback" && r["kind"] == "Deployment")
        .collect();
    assert_eq!(records.len(), 2, "{records:#?}");
    for record in &records {
        assert_eq!(record["automatic"], "guard");
        assert!(
            record["reason"].as_str().is_some_and(|r| r.starts_with("guard: Error rate normal? no:")),
            "{record:#}"
        );
    }
    // The rollback's own revision is guarded too, and never rolls back by itself.
    console_until(&mut console, "a guard on the rollback", 30, |s| {
        s.guards.of("production", "web").is_some_and(|g| g.version.as_deref() == Some("v1.2.0"))
    })
    .await;
}

#[tokio::test]
async fn without_auto_rollback_the_guard_opens_the_rollback_screen_with_its_reason() {
    let demo = fleet::start().await;
    let mut console = demo.console(&demo.config);
    console_until(&mut console, "synced", 60, |s| s.envs.iter().all(|e| e.snapshot.is_some())).await;
    demo.set_image("production", "web", "web", &format!("{REGISTRY}/web:v1.3.1-rc.1")).await;
    console_until(&mut console, "the rollback screen", 120, |s| {
        matches!(s.screen, opsdeck::app::Screen::Rollback { .. })
    })
    .await;
    let opsdeck::app::Screen::Rollback { selected, .. } = console.state.screen.clone() else {
        unreachable!()
    };
    assert_eq!(selected, Some(2), "the last known good, v1.2.0, preselected");
    assert!(console.state.recent_errors.is_some(), "its logs read for the why, as R opens it");
    let notice = console.state.notice.clone().expect("the guard says why");
    assert!(
        notice.text.starts_with("guard: roll back production/web — guard: Error rate normal? no:"),
        "{notice:?}"
    );

    fleet::key(&mut console, opsdeck::app::Key::Enter);
    console_until(&mut console, "the confirmation", 30, |s| {
        matches!(s.overlay, Some(opsdeck::app::Overlay::Confirm(_)))
    })
    .await;
    let Some(opsdeck::app::Overlay::Confirm(confirm)) = &console.state.overlay else { unreachable!() };
    assert!(
        confirm.typed_reason().starts_with("guard: Error rate normal? no:"),
        "{}",
        confirm.typed_reason()
    );
    assert!(demo.audit().is_empty(), "nothing is written until the operator confirms");
}
