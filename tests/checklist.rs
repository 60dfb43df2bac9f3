//! The checklist against the demo fleet: the scenario's planted failures found (and nothing
//! else failing), a walk-through signed in the console headless with waivers, and the gate it
//! opens for production canary steps — while a rollback is never held back.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use fleet::{key, press, until};

use std::collections::BTreeSet;

use fleet::text;
use opsdeck::app::Key;
use opsdeck::checklist::report::State;
use serde_json::Value;

/// (check, object) of every required automated item that failed.
fn failures(report: &Value) -> BTreeSet<(String, String)> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["required"] == true && i["state"] == "fail")
        .flat_map(|i| {
            let check = i["auto"].as_str().unwrap_or("").to_owned();
            i["evidence"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|e| e["status"] == "fail")
                .map(move |e| (check.clone(), e["object"].as_str().unwrap_or("").to_owned()))
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn the_scenarios_planted_failures_are_found_and_nothing_else_fails() {
    let demo = fleet::start().await;
    let out = demo.run(&["checklist", "--env", "production", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "a required automated item fails: {}", text(&out));
    let production: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        failures(&production),
        set(&[
            ("resources-set", "shop/Deployment/worker/container worker"),
            ("pdb", "shop/Deployment/worker"),
            ("soak", "shop/Deployment/api"),
            ("no-recent-warnings", "shop/Deployment/api and its pods"),
        ]),
        "worker's limits and budget, and the api release candidate that never ran in staging and whose canary fails its probe"
    );
    assert_eq!(
        production["targets"]["web"], "v1.3.0",
        "the canary's version is what is about to be deployed"
    );

    let out = demo.run(&["checklist", "--env", "staging", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let staging: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        failures(&staging),
        set(&[
            ("image-tag-pinned", "shop/Deployment/worker/container worker"),
            ("no-recent-warnings", "shop/Deployment/worker and its pods"),
        ]),
        "worker's :latest and the warning it raised"
    );

    let out = demo.run(&["checklist", "--env", "local"]).await;
    assert_eq!(out.status.code(), Some(2), "an unprotected environment has no checklist: {}", text(&out));
    assert!(text(&out).contains("has no checklist"), "{}", text(&out));
}

/// The production checklist's "No errors in pod logs" item, as `--json` gives it.
fn log_item(report: &Value) -> Value {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["text"] == "No errors in pod logs")
        .cloned()
        .expect("the item")
}

/// The item, from `opsdeck checklist --env production --json` run until `done` holds of it.
async fn log_item_until(
    demo: &fleet::Demo,
    config: &std::path::Path,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = demo.run_with(config, &["checklist", "--env", "production", "--json"]).await;
        let report: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        let item = log_item(&report);
        if done(&item) {
            return item;
        }
        assert!(std::time::Instant::now() < deadline, "not in time: {item:#}");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn evidence_of<'r>(item: &'r Value, object: &str) -> &'r Value {
    item["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| e["object"] == object)
        .unwrap_or_else(|| panic!("no evidence about {object}: {item:#}"))
}

#[tokio::test]
async fn no_errors_in_pod_logs_is_read_from_the_pods_with_the_lines_as_evidence() {
    let demo = fleet::start().await;
    // A fresh fleet has served nothing yet: its pods' logs fill as the simulated traffic runs.
    let api_pods = "shop/Deployment/api, api-canary and their pods";
    let item = log_item_until(&demo, &demo.config, |item| {
        evidence_of(item, api_pods)["detail"].as_str().is_some_and(|d| !d.starts_with("0 error lines"))
    })
    .await;
    assert_eq!((&item["auto"], &item["required"]), (&"no-log-errors".into(), &false.into()), "{item:#}");
    assert_eq!(item["state"], "fail", "the api canary's 500s are in its log: {item:#}");

    // The release candidate's canary serves 4% errors, the stable pods 0.2%: its pod leads.
    let api = evidence_of(&item, api_pods);
    let detail = api["detail"].as_str().unwrap_or("");
    assert_eq!(api["status"], "fail", "{api:#}");
    assert!(
        detail.contains(" in the last 10 min across ")
            && detail.contains("more than the 0 allowed; by pod: ")
            && detail.split("by pod: ").nth(1).is_some_and(|pods| pods.contains(" (canary) ")),
        "{detail}"
    );
    let lines: Vec<&Value> = item["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["object"].as_str().is_some_and(|o| o.starts_with("shop/Pod/api-")))
        .collect();
    assert!(
        (1..=5).contains(&lines.len())
            && lines.iter().all(|e| {
                e["status"] == "fail"
                    && e["field"] == "pods/log"
                    && e["detail"].as_str().is_some_and(|d| d.contains("HTTP/1.1\" 500 "))
            }),
        "the 500s themselves, a few of them: {lines:#?}"
    );
    assert_eq!(
        evidence_of(&item, "shop/Deployment/payments")["detail"],
        "not deployed in production",
        "Argo Rollouts runs payments: no Deployment's pods to read"
    );

    // With a threshold the demo's error rates stay under, the item passes and says how much
    // it read.
    let lenient = demo.dir.path().join("lenient.toml");
    let text = std::fs::read_to_string(&demo.config).expect("config");
    std::fs::write(&lenient, format!("{text}\n[logs]\nchecklist_max_errors = 1000000\n")).expect("write");
    let item = log_item_until(&demo, &lenient, |_| true).await;
    assert_eq!(item["state"], "pass", "{item:#}");
    let web = evidence_of(&item, "shop/Deployment/web, web-canary and their pods");
    let detail = web["detail"].as_str().unwrap_or("");
    assert!(
        web["status"] == "pass"
            && detail.contains("across 4 pods (")
            && detail.contains(" lines), within the 1000000 allowed")
            && !detail.contains("(0 lines)"),
        "three stable pods and the canary, read: {web:#}"
    );
}

#[tokio::test]
async fn a_signed_walk_through_opens_the_gate_and_a_rollback_never_waits_for_it() {
    let demo = fleet::start().await;
    let gated =
        demo.config_with("gated.toml", &[("# require_checklist = \"12h\"", "require_checklist = \"12h\"")]);

    let step = ["canary", "step", "--env", "production", "--app", "web", "--yes", "--reason", "stage 2"];
    let out = demo.run_with(&gated, &step).await;
    assert_eq!(out.status.code(), Some(3), "no signed checklist yet: {}", text(&out));
    assert!(text(&out).contains("requires a checklist signed within 12h for web v1.3.0"), "{}", text(&out));

    // The walk-through, through the console's reducer: acknowledge what a person checks,
    // waive what fails with a reason, sign.
    let mut console = demo.console(&gated);
    until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some() && e.user.is_some())).await;
    press(&mut console, "llC");
    until(&mut console, "the checks", |s| {
        s.walks.get("production").is_some_and(|w| w.report.checked_at.is_some())
    })
    .await;
    press(&mut console, "S");
    assert!(
        console.state.walks["production"]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("required item(s) still fail or are open")),
        "sign-off is refused while anything required blocks"
    );
    let count = console.state.walks["production"].report.items.len();
    for _ in 0..count {
        let walk = &console.state.walks["production"];
        let item = &walk.report.items[walk.cursor];
        match (item.auto.is_some(), item.state()) {
            (false, State::Open) => press(&mut console, " "),
            (true, State::Failed) => {
                press(&mut console, "w");
                press(&mut console, "accepted for this release, CHG-981");
                key(&mut console, Key::Enter);
            }
            _ => {}
        }
        press(&mut console, "j");
    }
    let walk = &console.state.walks["production"];
    assert_eq!(walk.report.summary().blocking, 0, "{:#?}", walk.report.summary());
    press(&mut console, "S");
    key(&mut console, Key::Enter);
    until(&mut console, "saved", |s| s.walks["production"].saved.is_some()).await;
    let (json, markdown) = console.state.walks["production"].saved.clone().expect("saved");
    let md = std::fs::read_to_string(&markdown).expect("markdown");
    assert!(
        md.contains("Signed by **demo-admin**") && md.contains("waived: accepted for this release, CHG-981"),
        "{md}"
    );
    assert!(
        md.contains("Versions: api v1.3.1-rc.1, checkout v2.5.0, payments v3.1.0, search v4.2.0, web v1.3.0"),
        "{md}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(json).expect("json")).expect("report");
    assert_eq!(saved["signed_by"], "demo-admin");
    drop(console);

    let out = demo.run_with(&gated, &["checklist", "--env", "production", "--last"]).await;
    assert!(text(&out).contains("Signed by **demo-admin**"), "the report can be read later: {}", text(&out));
    let out = demo.run_with(&gated, &step).await;
    assert_eq!(out.status.code(), Some(0), "the signed checklist covers web v1.3.0: {}", text(&out));

    // A rollback is never gated: not on the checklist, not on the window.
    let strict = demo.config_with(
        "strict.toml",
        &[
            ("# require_checklist = \"12h\"", "require_checklist = \"1h\"\nenforce_windows = true\nblackouts = [{ from = \"2000-01-01\", to = \"2999-12-31\", reason = \"change freeze\" }]"),
        ],
    );
    let out = demo
        .run_with(
            &strict,
            &["rollback", "--env", "production", "--app", "api", "--yes", "--reason", "errors", "--no-wait"],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = demo
        .run_with(&strict, &["restart", "--env", "production", "--app", "api", "--yes", "--reason", "x"])
        .await;
    assert_eq!(out.status.code(), Some(3), "the freeze refuses what adds risk: {}", text(&out));
    assert!(
        text(&out).contains("blackout (change freeze)") && text(&out).contains("windows are enforced"),
        "{}",
        text(&out)
    );
    let audit = demo.audit();
    let rollback = audit
        .iter()
        .find(|r| r["operation"] == "rollback" && r["phase"] == "intent")
        .expect("the rollback's intent");
    assert_eq!(rollback["emergency"], "rollback blackout (change freeze)", "recorded as an emergency");
}
