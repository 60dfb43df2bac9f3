//! The console driven headless against the demo fleet: the same state, reducer, cluster tasks
//! and operations service the terminal runs, fed key presses, watched through the state and
//! the fleet's objects.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use fleet::{key, press, until};

use std::path::Path;

use fleet::{ingress_weight, route_weights};
use opsdeck::app::Key;
use opsdeck::app::{Overlay, State};
use opsdeck::console::Console;

fn console(demo: &fleet::Demo, config: &Path) -> Console {
    demo.console(config)
}

fn judged(state: &State, env: usize, app: &str) -> bool {
    let round = state.envs[env].metrics.as_ref().and_then(|m| m.as_ref().ok());
    round.and_then(|r| r.app(app)).is_some_and(|m| m.verdict.is_some()) && state.envs[env].snapshot.is_some()
}

/// The api canary with auto mode's interval and threshold made short.
fn quick_auto(demo: &fleet::Demo, app_route: &str) -> std::path::PathBuf {
    let table = format!("[apps.canary.environments.production]\nprovider = \"{app_route}\"");
    let quick = format!("[apps.canary]\ninterval = \"3s\"\nfailure_threshold = 2\n\n{table}");
    demo.config_with("quick-auto.toml", &[(&table, &quick)])
}

/// Opens production's canary screen for the app in row `row`, and turns auto mode on through
/// its typed confirmation.
async fn auto_on(console: &mut Console, row: usize, app: &str) {
    press(console, "ll");
    for _ in 0..row {
        press(console, "j");
    }
    press(console, "cA");
    until(console, "auto mode asks first", |s| matches!(s.overlay, Some(Overlay::Confirm(_)))).await;
    press(console, &format!("production/{app}"));
    key(console, Key::Tab);
    press(console, "release 1.3.1 soak");
    key(console, Key::Enter);
    assert_eq!(console.state.autos.len(), 1, "auto mode on: {:?}", console.state.notice);
}

#[tokio::test]
async fn auto_mode_aborts_the_failing_api_canary_and_records_why() {
    let demo = fleet::start().await;
    let mut console = console(&demo, &quick_auto(&demo, "gateway-api"));
    until(&mut console, "the api canary judged", |s| judged(s, 2, "api")).await;
    auto_on(&mut console, 1, "api").await;

    until(&mut console, "auto mode ends", |s| s.autos.is_empty()).await;
    let notice = console.state.notice.clone().expect("a notice");
    assert!(
        notice.error
            && notice.text.contains("auto mode aborted production/api after 2 failed checks: error rate"),
        "{notice:?}"
    );
    assert_eq!(
        route_weights(&demo.get("production", "httproutes", "api").await),
        [100, 0],
        "aborted, not stepped"
    );
    let audit = demo.audit();
    let abort = audit
        .iter()
        .find(|r| r["phase"] == "result" && r["operation"] == "canary-abort")
        .unwrap_or_else(|| panic!("an audited abort: {audit:#?}"));
    assert_eq!(abort["outcome"], "done");
    let reason = abort["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("auto mode: 2 consecutive failed checks: error rate")
            && reason.contains("release 1.3.1 soak"),
        "{reason}"
    );
    assert!(!audit.iter().any(|r| r["operation"] == "canary-step"), "it never stepped a failing canary up");
}

#[tokio::test]
async fn auto_mode_steps_a_passing_canary_and_a_manual_key_takes_over() {
    let demo = fleet::start().await;
    let mut console = console(&demo, &quick_auto(&demo, "nginx-ingress"));
    until(&mut console, "the web canary judged", |s| judged(s, 2, "web")).await;
    auto_on(&mut console, 0, "web").await;

    until(&mut console, "the first automatic step", |s| {
        s.notice.as_ref().is_some_and(|n| n.text.starts_with("auto mode: production"))
    })
    .await;
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "25");
    assert_eq!(console.state.autos.len(), 1, "still on: the next step waits for its interval");

    // Stepping back by hand ends auto mode before anything else happens.
    press(&mut console, "b");
    assert!(console.state.autos.is_empty());
    assert!(console.state.notice.as_ref().is_some_and(|n| n.text.contains("a manual action takes over")));
    let audit = demo.audit();
    let step =
        audit.iter().find(|r| r["phase"] == "intent" && r["operation"] == "canary-step").expect("a step");
    assert!(step["reason"].as_str().is_some_and(|r| r.starts_with("auto mode: verdict pass at")), "{step}");
}
