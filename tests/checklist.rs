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
