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

/// The Rollout as the fleet's Argo controller keeps it.
async fn rollout(demo: &fleet::Demo) -> Value {
    demo.get_in("production", "shop", "rollouts", "payments").await
}

fn at(rollout: &Value) -> (i64, i64, bool) {
    (
        rollout["status"]["currentStepIndex"].as_i64().unwrap_or(-1),
        rollout["status"]["canary"]["weights"]["canary"]["weight"].as_i64().unwrap_or(-1),
        rollout["status"]["abort"].as_bool().unwrap_or(false),
    )
}

/// The operations the audit log records as done, in order.
fn done(demo: &fleet::Demo) -> Vec<String> {
    demo.audit()
        .iter()
        .filter(|r| r["phase"] == "result" && r["outcome"] == "done")
        .filter_map(|r| r["operation"].as_str().map(str::to_owned))
        .collect()
}

async fn pod_names(demo: &fleet::Demo) -> Vec<String> {
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(demo.client("production").await, "shop");
    let list = pods.list(&kube::api::ListParams::default().labels("app=payments")).await.expect("pods");
    list.items.iter().filter_map(|p| p.metadata.name.clone()).collect()
}

async fn rollout_until(demo: &fleet::Demo, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let r = rollout(demo).await;
        if ok(&r) {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the Rollout never reached {what}: {}", rollout(demo).await["status"]);
}

#[tokio::test]
async fn an_argo_rollout_is_driven_through_its_own_fields_and_its_ingress_is_left_alone() {
    let demo = fleet::start().await;
    rollout_until(&demo, "its pause at step 1", |r| at(r) == (1, 20, false)).await;
    let (payments, table) = app_status(&demo, "production", "payments").await;
    assert_eq!(payments["controller"]["kind"], "argo-rollouts");
    assert_eq!(payments["version"], "v3.0.0", "the stable ReplicaSet's version, not the template's");
    assert!(table.contains("argo-rollouts 20%"), "{table}");
    let yes = ["--env", "production", "--app", "payments", "--yes", "--reason", "JIRA-4512"];
    let run = |verb: &'static [&'static str]| {
        let args: Vec<&str> = ["canary"].iter().chain(verb).chain(&yes).copied().collect();
        let demo = &demo;
        async move { demo.run(&args).await }
    };

    // The weights are the Rollout's: a step of ours does not apply, and nothing is written.
    let step = run(&["step"]).await;
    assert_eq!(step.status.code(), Some(3), "{}", text(&step));
    assert!(text(&step).contains("run by Argo Rollouts"), "{}", text(&step));
    let requests = demo.requests("production").await["byVerbAndResource"].clone();
    let patches: Vec<&String> = requests
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("patch"))
        .collect();
    assert!(patches.is_empty(), "nothing written, not even a dry run: {patches:?}");

    // Promote clears the pause: step 1 → 2, and the canary Ingress the Rollout owns follows.
    let promote = run(&["promote"]).await;
    assert_eq!(promote.status.code(), Some(0), "{}", text(&promote));
    // The weight follows once the canary's pods for 50% are ready.
    let promoted = rollout_until(&demo, "step 2 at 50%", |r| at(r).0 >= 2 && at(r).1 >= 50).await;
    assert!(at(&promoted).1 < 100, "a timed pause holds it at 50%: {:?}", at(&promoted));
    let ingress = demo.get_in("production", "shop", "ingresses", "payments-payments-canary").await;
    assert_eq!(fleet::ingress_weight(&ingress), "50");

    // Abort: status.abort on the status subresource; the weights fall to 0.
    let abort = run(&["abort"]).await;
    assert_eq!(abort.status.code(), Some(0), "{}", text(&abort));
    let aborted = rollout_until(&demo, "an abort at 0%", |r| at(r).1 == 0 && at(r).2).await;
    assert_eq!(aborted["status"]["phase"], "Degraded");
    let ingress = demo.get_in("production", "shop", "ingresses", "payments-payments-canary").await;
    assert_eq!(fleet::ingress_weight(&ingress), "0");
    let again = run(&["abort"]).await;
    assert_eq!(again.status.code(), Some(3), "already aborted: {}", text(&again));

    // Retry resumes from the first step, to the pause again.
    let retry = run(&["retry"]).await;
    assert_eq!(retry.status.code(), Some(0), "{}", text(&retry));
    rollout_until(&demo, "the first pause again", |r| at(r) == (1, 20, false)).await;

    // Restart is the Rollout's spec.restartAt: every pod replaced.
    let before: Vec<String> = pod_names(&demo).await;
    let restart = demo.run(&["restart"].iter().chain(&yes).copied().collect::<Vec<_>>()).await;
    assert_eq!(restart.status.code(), Some(0), "{}", text(&restart));
    assert!(rollout(&demo).await["spec"]["restartAt"].is_string());
    for _ in 0..100 {
        if pod_names(&demo).await.iter().all(|p| !before.contains(p)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(pod_names(&demo).await.iter().all(|p| !before.contains(p)), "every pod replaced");

    // promote --full skips the remaining steps: v3.1.0 becomes stable.
    let full = run(&["promote", "--full"]).await;
    assert_eq!(full.status.code(), Some(0), "{}", text(&full));
    rollout_until(&demo, "healthy on the new version", |r| r["status"]["phase"] == "Healthy").await;
    // canary start brings the next version through the same steps, to the first pause.
    let start = run(&["start", "--version", "v3.2.0"]).await;
    assert_eq!(start.status.code(), Some(0), "{}", text(&start));
    rollout_until(&demo, "v3.2.0 at its first pause", |r| at(r) == (1, 20, false)).await;
    let (payments, _) = app_status(&demo, "production", "payments").await;
    assert_eq!(payments["version"], "v3.1.0", "stable is what promote --full made stable");
    assert_eq!(payments["controller"]["canary_version"], "v3.2.0");

    // Undo is the Rollout's own ReplicaSets, as for a Deployment: back to v3.1.0, now stable.
    let history = demo.run(&["history", "--env", "production", "--app", "payments"]).await;
    assert!(text(&history).contains("· Rollout payments"), "{}", text(&history));
    let undo = demo.run(&["rollback"].iter().chain(&yes).copied().collect::<Vec<_>>()).await;
    assert_eq!(undo.status.code(), Some(0), "{}", text(&undo));
    let undone = rollout_until(&demo, "healthy on v3.1.0 again", |r| r["status"]["phase"] == "Healthy").await;
    assert!(
        undone["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .is_some_and(|i| i.ends_with(":v3.1.0")),
        "{undone:#}"
    );

    // A gate is Flagger's: exit 3 with the reason.
    let gate = run(&["gate", "open", "confirm-promotion"]).await;
    assert_eq!(gate.status.code(), Some(3), "{}", text(&gate));
    assert!(text(&gate).contains("gates are Flagger's"), "{}", text(&gate));

    let operations = done(&demo);
    assert_eq!(
        operations,
        [
            "controller-promote",
            "controller-abort",
            "controller-retry",
            "restart",
            "controller-promote-full",
            "canary-start",
            "rollback"
        ]
    );
}

#[tokio::test]
async fn a_traffic_write_to_an_ingress_a_rollout_owns_is_refused_naming_the_owner() {
    let demo = fleet::start().await;
    rollout_until(&demo, "its pause at step 1", |r| at(r) == (1, 20, false)).await;
    let yes = ["--env", "production", "--app", "payments", "--yes", "--reason", "JIRA-4512"];
    // A traffic write of ours to the Ingress the Rollout owns is refused, naming the owner.
    let config = demo.config_with(
        "owned-ingress",
        &[(
            "name = \"payments\"\ndeployment = \"payments\"\nlabels = { app = \"payments\" }\n",
            "name = \"payments\"\ndeployment = \"payments\"\nlabels = { app = \"payments\" }\n\n[apps.canary.environments.production]\nprovider = \"nginx-ingress\"\ningress = \"payments-payments-canary\"\ncanary_deployment = \"payments-canary\"\n",
        )],
    );
    let before = demo.get_in("production", "shop", "ingresses", "payments-payments-canary").await;
    let args: Vec<&str> = ["canary", "set", "30", "--override", "test"].iter().chain(&yes).copied().collect();
    let set = demo.run_with(&config, &args).await;
    assert_eq!(set.status.code(), Some(3), "{}", text(&set));
    assert!(text(&set).contains("driven by Argo Rollouts (Rollout shop/payments)"), "{}", text(&set));
    let after = demo.get_in("production", "shop", "ingresses", "payments-payments-canary").await;
    assert_eq!(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
}

async fn canary_until(demo: &fleet::Demo, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let c = demo.get_in("staging", "shop", "canaries", "search").await;
        if ok(&c) {
            return c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the Canary never reached {what}: {}",
        demo.get_in("staging", "shop", "canaries", "search").await["status"]
    );
}

fn phase(canary: &Value) -> (&str, i64) {
    (
        canary["status"]["phase"].as_str().unwrap_or(""),
        canary["status"]["canaryWeight"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test]
async fn a_flagger_canary_waits_at_its_promotion_gate_until_opened_and_suspend_stops_it() {
    let demo = fleet::start().await;
    canary_until(&demo, "its promotion gate", |c| phase(c) == ("WaitingPromotion", 50)).await;
    let out = demo.run(&["status", "--env", "staging", "--json"]).await;
    let status: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("json ({e}): {}", text(&out)));
    let env = &status["environments"][0];
    assert_eq!(env["gitops"][0]["kind"], "Kustomization", "{}", env["gitops"]);
    let apps = env["health"]["apps"].as_array().cloned().unwrap_or_default();
    let search = apps.iter().find(|a| a["app"] == "search").cloned().unwrap_or_default();
    assert_eq!(
        (search["controller"]["kind"].as_str(), search["version"].as_str()),
        (Some("flagger"), Some("v4.2.0"))
    );

    let yes = ["--env", "staging", "--app", "search", "--yes", "--reason", "QA signed off"];
    let run = |verb: &'static [&'static str]| {
        let args: Vec<&str> = ["canary"].iter().chain(verb).chain(&yes).copied().collect();
        let demo = &demo;
        async move { demo.run(&args).await }
    };
    // What staging has proven is the primary's version, not the one under analysis.
    let promote_on =
        ["promote", "--app", "search", "--from", "staging", "--to", "production", "--yes", "--reason", "r"];
    let early = demo.run(&promote_on).await;
    assert_eq!(early.status.code(), Some(3), "{}", text(&early));
    assert!(
        text(&early).contains("already runs registry.example.com/shop/search:v4.2.0"),
        "{}",
        text(&early)
    );

    // Flagger has no promote of its own: its gate is the control point.
    let promote = run(&["promote"]).await;
    assert_eq!(promote.status.code(), Some(3), "{}", text(&promote));
    assert!(text(&promote).contains("gates"), "{}", text(&promote));
    let unknown = run(&["gate", "open", "nope"]).await;
    assert_eq!(unknown.status.code(), Some(3), "{}", text(&unknown));

    // Suspended, it does not move on even with the gate open.
    let suspend = run(&["pause"]).await;
    assert_eq!(suspend.status.code(), Some(0), "{}", text(&suspend));
    let open = run(&["gate", "open", "confirm-promotion"]).await;
    assert_eq!(open.status.code(), Some(0), "{}", text(&open));
    assert!(text(&open).contains("/gate/check answers 200"), "{}", text(&open));
    let again = run(&["gate", "open", "confirm-promotion"]).await;
    assert_eq!(again.status.code(), Some(3), "already open: {}", text(&again));
    assert!(text(&again).contains("already"), "{}", text(&again));
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let held = demo.get_in("staging", "shop", "canaries", "search").await;
    assert_eq!(phase(&held), ("WaitingPromotion", 50), "suspended: two intervals and no move");

    // Resumed, it promotes: the primary takes v4.3.0, the weight goes back to 0.
    let resume = run(&["resume"]).await;
    assert_eq!(resume.status.code(), Some(0), "{}", text(&resume));
    canary_until(&demo, "Succeeded", |c| phase(c) == ("Succeeded", 0)).await;
    let primary = demo.get_in("staging", "shop", "deployments", "search-primary").await;
    assert!(fleet::first_image(&primary).ends_with(":v4.3.0"), "{}", fleet::first_image(&primary));
    let ingress = demo.get_in("staging", "shop", "ingresses", "search-canary").await;
    assert_eq!(fleet::ingress_weight(&ingress), "0");
    // Promoted in staging, v4.3.0 is what goes on to production.
    let onward = demo.run(&promote_on).await;
    assert_eq!(onward.status.code(), Some(0), "{}", text(&onward));
    let production = demo.get_in("production", "shop", "deployments", "search").await;
    assert!(fleet::first_image(&production).ends_with(":v4.3.0"), "{}", fleet::first_image(&production));
    let operations = done(&demo);
    assert_eq!(operations, ["controller-pause", "gate-open", "controller-resume", "promote"]);
}

#[tokio::test]
async fn a_controller_that_moved_since_the_plan_gets_nothing_written_or_sent() {
    use opsdeck::engine::{Ask, Request};
    use opsdeck::ops::controllers::Verb;
    let demo = fleet::start().await;
    rollout_until(&demo, "its pause at step 1", |r| at(r) == (1, 20, false)).await;
    let engine = demo.engine();

    // The controller rewrites its Rollout all the time: a change to what the plan was not made
    // from (a label, the status' counts) does not stand in the way.
    let pause = Request::new("production", "payments", Ask::Controller(Verb::Pause));
    let prepared = engine.prepare(pause).await.expect("a plan");
    let label = json!({"metadata": {"labels": {"team": "pay"}}});
    demo.patch_in("production", "shop", "rollouts", "payments", &label).await;
    let report = engine.execute(&prepared, &fleet::yes("race"), |_| {}).await.expect("answered");
    assert!(report.error.is_none(), "{report:?}");
    assert_eq!(rollout(&demo).await["spec"]["paused"], true);

    // Someone else aborted it between the plan and the write: nothing is written, and the
    // message says what the Rollout is now.
    let resume = Request::new("production", "payments", Ask::Controller(Verb::Resume));
    let prepared = engine.prepare(resume).await.expect("a plan");
    demo.patch_status_in("production", "shop", "rollouts", "payments", &json!({"status": {"abort": true}}))
        .await;
    let report = engine.execute(&prepared, &fleet::yes("race"), |_| {}).await.expect("answered");
    assert!(matches!(report.error, Some(opsdeck::cluster::ops::OpError::Conflict(_))), "{report:?}");
    assert!(report.message.contains("status.abort is now true"), "{}", report.message);
    assert!(report.message.contains("now: Rollout payments at"), "{}", report.message);
    assert_eq!(rollout(&demo).await["spec"]["paused"], true, "nothing was written");

    // A Flagger Canary whose phase moved on: the gate call is not sent.
    canary_until(&demo, "its promotion gate", |c| phase(c).0 == "WaitingPromotion").await;
    let open = Request::new(
        "staging",
        "search",
        Ask::Controller(Verb::Gate { name: "confirm-promotion".into(), open: true }),
    );
    let prepared = engine.prepare(open).await.expect("a plan");
    demo.patch_status_in(
        "staging",
        "shop",
        "canaries",
        "search",
        &json!({"status": {"phase": "Failed", "canaryWeight": 0}}),
    )
    .await;
    let report = engine.execute(&prepared, &fleet::yes("race"), |_| {}).await.expect("answered");
    assert!(matches!(report.error, Some(opsdeck::cluster::ops::OpError::Conflict(_))), "{report:?}");
    assert!(report.message.contains("status.phase is now \"Failed\""), "{}", report.message);
    let requests = demo.requests("staging").await;
    assert_eq!(
        requests["byVerbAndResource"]["create services/proxy"].as_u64(),
        Some(1),
        "only the check before the plan reached the loadtester: {requests}"
    );
}
