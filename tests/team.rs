//! The team's records against the demo fleet, with two operators on two machines (separate data
//! dirs): demo-admin through context `production`, demo-lead through `production-lead`. A's
//! operations show in B's audit; with `require_approval`, A's canary step waits for B's
//! approval, A cannot approve it alone (opsdeck refuses, and so does the server's admission
//! policy), a changed object makes a new plan, an expired request cannot be approved, and a
//! record cannot be edited or deleted by anyone but an administrator.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use std::path::PathBuf;

use fleet::{Demo, ingress_weight, text};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const STEP: [&str; 10] =
    ["canary", "step", "--env", "production", "--app", "web", "--yes", "--reason", "stage 2", "--json"];

/// A's and B's configs: production requires approval; B reaches it as demo-lead.
fn operators(demo: &Demo, extra: &str) -> (PathBuf, PathBuf) {
    let approval = "context = \"production\"\nrequire_approval = true\n";
    let a = demo.config_with("a.toml", &[("context = \"production\"\n", approval)]);
    let b = demo.config_with(
        "b.toml",
        &[("context = \"production\"\n", "context = \"production-lead\"\nrequire_approval = true\n")],
    );
    if extra.is_empty() {
        return (a, b);
    }
    (demo.config_plus("a-plus.toml", &a, extra), demo.config_plus("b-plus.toml", &b, extra))
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// Asks for the step as A: exit 3 and the request's id, nothing written.
async fn request_step(demo: &Demo, a: &std::path::Path) -> String {
    let out = demo.run_as("a", a, &STEP).await;
    assert_eq!(out.status.code(), Some(3), "waits for approval: {}", text(&out));
    let report = json_of(&out);
    assert_eq!(report["outcome"], "pending", "{report:#}");
    let id =
        report["awaiting_approval"].as_str().unwrap_or_else(|| panic!("a request id: {report:#}")).to_owned();
    assert!(
        report["message"].as_str().unwrap_or_default().contains(&format!("opsdeck approve {id}")),
        "{report:#}"
    );
    id
}

async fn records(demo: &Demo, context: &str) -> Api<ConfigMap> {
    Api::namespaced(demo.client(context).await, "opsdeck")
}

#[tokio::test]
async fn a_step_waits_for_a_second_users_approval_and_shows_in_the_colleagues_audit() {
    let demo = fleet::start().await;
    let (a, b) = operators(&demo, "");
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "10");

    let id = request_step(&demo, &a).await;
    assert_eq!(
        ingress_weight(&demo.get("production", "ingresses", "web-canary").await),
        "10",
        "nothing written"
    );
    let again = request_step(&demo, &a).await;
    assert_eq!(again, id, "asking again names the pending request, not a second one");

    // A cannot approve A's own request: opsdeck says so, and the server refuses a forged one.
    let out = demo.run_as("a", &a, &["approve", &id, "--env", "production"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("is your own (demo-admin)"), "{}", text(&out));
    let forged = json!({
        "metadata": {
            "name": format!("opsdeck-approval-{id}-forged"),
            "labels": {"app.kubernetes.io/managed-by": "opsdeck", "opsdeck.dev/record": "approval", "opsdeck.dev/for": id},
            "annotations": {"opsdeck.dev/user": "demo-admin", "opsdeck.dev/requester": "demo-admin"},
        },
        "immutable": true,
        "data": {"record.json": json!({"id": "forged", "request": id, "approved": true, "by": "demo-admin", "requester": "demo-admin", "at": "2026-12-04T10:00:00Z"}).to_string()},
    });
    let forged: ConfigMap = serde_json::from_value(forged).expect("configmap");
    let refused = records(&demo, "production").await.create(&PostParams::default(), &forged).await;
    let message = format!("{refused:?}");
    assert!(
        message.contains("cannot be answered by the user who made it") && message.contains("403"),
        "{message}"
    );

    // B sees the exact plan, and approves.
    let out = demo.run_as("b", &b, &["approvals", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pending = json_of(&out);
    let request = pending
        .as_array()
        .and_then(|p| p.iter().find(|r| r["id"] == id.as_str()))
        .unwrap_or_else(|| panic!("{pending:#}"));
    assert_eq!(request["requester"], "demo-admin");
    assert_eq!(request["enforced_by_server"], true);
    let diff = request["steps"][0]["diff"].to_string();
    assert!(diff.contains("10 → 25"), "the approver reads the diff: {request:#}");
    let out = demo.run_as("b", &b, &["approve", &id, "--reason", "looks good"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("enforced by the server"), "{}", text(&out));

    // A's step now goes ahead, once.
    let out = demo.run_as("a", &a, &STEP).await;
    assert_eq!(out.status.code(), Some(0), "approved: {}", text(&out));
    assert_eq!(json_of(&out)["approval"], format!("approved by demo-lead ({id})"));
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "25");
    let next = request_step(&demo, &a).await;
    assert_ne!(next, id, "the next step is a plan of its own, with a request of its own");

    // B's audit, on B's machine, shows A's step with A's user, read from the cluster.
    let out = demo.run_as("b", &b, &["audit", "--json", "--env", "production"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let audit = json_of(&out);
    let step = audit
        .as_array()
        .and_then(|r| r.iter().find(|r| r["operation"] == "canary-step" && r["phase"] == "result"))
        .unwrap_or_else(|| panic!("A's step in B's audit: {audit:#}"));
    assert_eq!((step["user"].as_str(), step["origin"].as_str()), (Some("demo-admin"), Some("cluster")));
    assert_eq!(step["outcome"], "done");
    let out = demo.run_as("a", &a, &["audit", "--json", "--env", "production"]).await;
    let mine = json_of(&out);
    assert!(
        mine.as_array()
            .into_iter()
            .flatten()
            .any(|r| r["operation"] == "canary-step" && r["origin"] == "local+cluster"),
        "A's own records are in both: {mine:#}"
    );

    // A record is the team's: not edited, and deleted only by an administrator.
    let api = records(&demo, "production-lead").await;
    let listed = api.list(&ListParams::default().labels("opsdeck.dev/record=audit")).await.expect("list");
    let name = listed.items[0].metadata.name.clone().expect("name");
    let deleted = api.delete(&name, &DeleteParams::default()).await;
    assert!(format!("{deleted:?}").contains("only by an administrator"), "{deleted:?}");
    let admin = records(&demo, "production").await;
    let edited = admin
        .patch(&name, &PatchParams::default(), &Patch::Merge(json!({"data": {"record.json": "{}"}})))
        .await;
    assert!(format!("{edited:?}").contains("field is immutable"), "{edited:?}");
}

#[tokio::test]
async fn a_changed_ingress_makes_a_new_plan_and_an_expired_request_cannot_be_approved() {
    let demo = fleet::start().await;
    let (a, b) = operators(&demo, "\n[team]\napproval_expiry = \"3s\"\n");
    let expired = request_step(&demo, &a).await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let out = demo.run_as("b", &b, &["approve", &expired]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("is expired"), "{}", text(&out));

    let id = request_step(&demo, &a).await;
    assert_ne!(id, expired, "an expired request is not reused");
    // Somebody moves the canary while the request waits; B approves what A asked for.
    demo.patch_behind_our_back(
        "production",
        "ingresses",
        "web-canary",
        &json!({"metadata": {"annotations": {"nginx.ingress.kubernetes.io/canary-weight": "30"}}}),
    )
    .await;
    let out = demo.run_as("b", &b, &["approve", &id]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = demo.run_as("a", &a, &STEP).await;
    assert_eq!(out.status.code(), Some(3), "a new plan needs a new approval: {}", text(&out));
    let report = json_of(&out);
    assert_ne!(report["awaiting_approval"], id.as_str(), "{report:#}");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains(&format!("request {id} was approved for")), "{report:#}");
    assert_eq!(
        ingress_weight(&demo.get("production", "ingresses", "web-canary").await),
        "30",
        "no stale write"
    );
}

#[tokio::test]
async fn a_checklist_signed_on_one_machine_opens_the_gate_on_another_once_every_role_has_signed() {
    let demo = fleet::start().await;
    let gate = "context = \"production\"\nrequire_checklist = \"12h\"\nsignoffs = [\"deployment-engineer\", \"devops-lead\"]\n";
    let a = demo.config_with("a.toml", &[("context = \"production\"\n", gate)]);
    let b = demo.config_with(
        "b.toml",
        &[(
            "context = \"production\"\n",
            "context = \"production-lead\"\nrequire_checklist = \"12h\"\nsignoffs = [\"deployment-engineer\", \"devops-lead\"]\n",
        )],
    );
    let step = ["canary", "step", "--env", "production", "--app", "web", "--yes", "--reason", "stage 2"];

    // A walks and signs in the console, on A's machine.
    let mut console = demo.console(&a);
    fleet::walk_and_sign(&mut console, "llC", "production").await;
    let notice = console.state.notice.clone().map(|n| n.text).unwrap_or_default();
    assert!(notice.contains("kept in production's cluster for the team"), "{notice}");
    let walk = fleet::screen(&console.state, 200, 50);
    assert!(walk.contains("sign-off 1 of 2: devops-lead still to sign"), "{walk}");
    drop(console);

    // On B's machine there is no local report: the gate reads the team's, and wants B too.
    let out = demo.run_as("b", &b, &step).await;
    assert_eq!(out.status.code(), Some(3), "one signature of two: {}", text(&out));
    assert!(
        text(&out).contains("lacks signatures (deployment-engineer demo-admin, devops-lead —)"),
        "{}",
        text(&out)
    );
    let out = demo.run_as("a", &a, &["checklist", "--env", "production", "--cosign"]).await;
    assert_eq!(out.status.code(), Some(3), "A cannot sign twice: {}", text(&out));
    assert!(text(&out).contains("demo-admin has already signed"), "{}", text(&out));
    let out = demo.run_as("b", &b, &["checklist", "--env", "production", "--cosign"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("✓ devops-lead: demo-lead"), "{}", text(&out));

    let out = demo.run_as("b", &b, &step).await;
    assert_eq!(out.status.code(), Some(0), "signed by both, whoever's machine: {}", text(&out));
    let out = demo.run_as("b", &b, &["checklist", "--env", "production", "--last"]).await;
    assert!(
        text(&out).contains("Signed by **demo-admin**") && text(&out).contains("Sign-off (2 of 2 signed)"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn a_colleagues_console_approves_with_a_and_says_whether_the_server_enforces_it() {
    let demo = fleet::start().await;
    let (a, b) = operators(&demo, "");
    let id = request_step(&demo, &a).await;

    let mut console = demo.console(&b);
    fleet::until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some() && e.user.is_some()))
        .await;
    let overview = fleet::screen(&console.state, 160, 45);
    assert!(overview.contains("approvals ✓ enforced by the server"), "{overview}");
    fleet::press(&mut console, "A");
    fleet::until(
        &mut console,
        "the requests",
        |s| matches!(&s.overlay, Some(opsdeck::app::Overlay::Approvals(a)) if a.items.is_some()),
    )
    .await;
    let shown = fleet::screen(&console.state, 160, 45);
    assert!(shown.contains(&id) && shown.contains("10 → 25") && shown.contains("by demo-admin"), "{shown}");
    fleet::press(&mut console, "y");
    fleet::until(&mut console, "approved", |s| {
        s.notice.as_ref().is_some_and(|n| n.text.starts_with("approved"))
    })
    .await;
    drop(console);

    let out = demo.run_as("a", &a, &STEP).await;
    assert_eq!(out.status.code(), Some(0), "approved from B's console: {}", text(&out));
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "25");
}

#[tokio::test]
async fn a_colleague_at_the_controls_is_shown_and_a_write_asks_to_take_over() {
    let demo = fleet::start().await;
    let b = demo.config_with("b.toml", &[("context = \"production\"\n", "context = \"production-lead\"\n")]);
    let step = ["canary", "step", "--env", "production", "--app", "web", "--yes", "--reason", "stage 2"];

    // B opens production/web's canary screen: B's console holds its Lease.
    let mut lead = demo.console(&b);
    fleet::until(&mut lead, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some() && e.user.is_some()))
        .await;
    fleet::press(&mut lead, "llc");
    let leases = records(&demo, "production").await;
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(leases.into_client(), "opsdeck");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while leases.get_opt("opsdeck-lease-production-web").await.expect("read").is_none() {
        assert!(std::time::Instant::now() < deadline, "B's console took no Lease");
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), lead.step()).await;
    }

    // A's console shows who is there.
    let mut console = demo.console(&demo.config);
    fleet::until(&mut console, "B at the controls", |s| {
        s.controls.other("production", "web", jiff::Timestamp::now()).is_some()
    })
    .await;
    let overview = fleet::screen(&console.state, 160, 45);
    assert!(overview.contains("☛ demo-lead · canary screen · since"), "{overview}");
    // A's console asks for the take-over in the confirmation itself.
    fleet::press(&mut console, "llp");
    fleet::until(&mut console, "the confirmation", |s| {
        matches!(s.overlay, Some(opsdeck::app::Overlay::Confirm(_)))
    })
    .await;
    let confirm = fleet::screen(&console.state, 160, 45);
    assert!(
        confirm.contains("demo-lead is at the controls of production/web (canary screen since"),
        "{confirm}"
    );
    let Some(opsdeck::app::Overlay::Confirm(c)) = &console.state.overlay else { unreachable!() };
    assert!(c.answer().take_over, "confirming this screen is the explicit take-over");
    fleet::key(&mut console, opsdeck::app::Key::Esc);

    // A's write asks for a take-over, and records it.
    let out = demo.run_as("a", &demo.config, &step).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("demo-lead · canary screen") && text(&out).contains("--take-over"),
        "{}",
        text(&out)
    );
    assert_eq!(
        ingress_weight(&demo.get("production", "ingresses", "web-canary").await),
        "10",
        "nothing written"
    );
    let out = demo.run_as("a", &demo.config, &[&step[..], &["--take-over"]].concat()).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let audit = demo.run_as("a", &demo.config, &["audit", "--json", "--local"]).await;
    let intent = json_of(&audit)
        .as_array()
        .and_then(|r| r.iter().find(|r| r["operation"] == "canary-step" && r["phase"] == "intent").cloned())
        .expect("the step's intent");
    assert!(
        intent["took_over"].as_str().is_some_and(|t| t.starts_with("demo-lead · canary screen")),
        "{intent:#}"
    );

    // B leaves the screen: the Lease goes, and A's console stops showing it.
    fleet::key(&mut lead, opsdeck::app::Key::Esc);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while console.state.controls.other("production", "web", jiff::Timestamp::now()).is_some() {
        assert!(std::time::Instant::now() < deadline, "the Lease was not released");
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), lead.step()).await;
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), console.step()).await;
    }
}

/// Confirms the typed confirmation on screen for production/web with `reason`, and waits for
/// the result.
async fn confirm_typed(console: &mut opsdeck::console::Console, reason: &str) -> (String, String) {
    use opsdeck::app::Overlay;
    fleet::until(console, "the confirmation", |s| matches!(s.overlay, Some(Overlay::Confirm(_)))).await;
    fleet::press(console, "production/web");
    fleet::key(console, opsdeck::app::Key::Tab);
    fleet::press(console, reason);
    fleet::key(console, opsdeck::app::Key::Enter);
    fleet::until(console, "the result", |s| matches!(s.overlay, Some(Overlay::Finished { .. }))).await;
    let Some(Overlay::Finished { outcome, message, .. }) = &console.state.overlay else { unreachable!() };
    (outcome.clone(), message.clone())
}

#[tokio::test]
async fn the_requesters_console_plans_again_on_approval_and_hears_a_colleagues_write() {
    let demo = fleet::start().await;
    let (a, b) = operators(&demo, "");
    let mut console = demo.console(&a);
    fleet::until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some() && e.user.is_some()))
        .await;
    fleet::press(&mut console, "llc");
    fleet::press(&mut console, "s");
    let (outcome, message) = confirm_typed(&mut console, "stage 2").await;
    assert_eq!(outcome, "pending", "{message}");
    let id = console.state.awaiting.keys().next().cloned().unwrap_or_else(|| panic!("kept: {message}"));
    assert!(message.contains(&id), "{message}");

    let out = demo.run_as("b", &b, &["approve", &id]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The console hears the approval and plans again: a confirmation of the fresh plan.
    fleet::until(&mut console, "planned again", |s| {
        matches!(&s.overlay, Some(opsdeck::app::Overlay::Confirm(c))
            if matches!(c.prepared.approval, opsdeck::engine::Approval::Granted { .. }))
    })
    .await;
    let (outcome, message) = confirm_typed(&mut console, "stage 2").await;
    assert_eq!(outcome, "done", "{message}");
    assert_eq!(ingress_weight(&demo.get("production", "ingresses", "web-canary").await), "25");

    // B pauses web while A's canary screen holds it: a take-over, and A's console hears it.
    let pause = ["pause", "--env", "production", "--app", "web", "--yes", "--reason", "hold", "--take-over"];
    let out = demo.run_as("b", &b, &pause).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    fleet::until(&mut console, "the colleague's write", |s| {
        s.notice.as_ref().is_some_and(|n| {
            n.text.starts_with("demo-lead: production · shop/web · paused false → true · done")
        })
    })
    .await;
}

#[tokio::test]
async fn where_the_policy_is_not_installed_every_approval_says_so() {
    let demo = fleet::start().await;
    let a = demo.config_with(
        "a.toml",
        &[("context = \"staging\"\n", "context = \"staging\"\nrequire_approval = true\n")],
    );
    let out = demo.run_as("a", &a, &["restart", "--env", "staging", "--app", "web", "--yes", "--json"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let id = json_of(&out)["awaiting_approval"].as_str().expect("a request").to_owned();
    let out = demo.run_as("a", &a, &["approvals"]).await;
    assert!(text(&out).contains(&id) && text(&out).contains("NOT enforced by the server"), "{}", text(&out));

    let mut console = demo.console(&a);
    fleet::until(&mut console, "the policy looked for", |s| s.envs.iter().all(|e| e.user.is_some())).await;
    fleet::until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some())).await;
    let shown = fleet::screen(&console.state, 160, 45);
    assert!(shown.contains("approvals not enforced by the server: staging"), "the header says so: {shown}");
    assert!(shown.contains("approvals NOT enforced by the server"), "and the column: {shown}");
}
