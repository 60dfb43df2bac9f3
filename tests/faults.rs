//! Faults a hostile network and a careless operator bring, against the demo fleet behind a
//! fault-injecting proxy (`common/proxy.rs`): what a write and a screen claim must stay true.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;
#[path = "common/proxy.rs"]
mod proxy;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fleet::{Demo, route_weights, text};
use proxy::Proxy;
use serde_json::Value;

/// The fleet with production reached through a proxy, and a kubeconfig that goes through it.
async fn behind_proxy() -> (Demo, Proxy, PathBuf) {
    let demo = fleet::start().await;
    let upstream = demo.fleet.clusters.iter().find(|(n, _)| n == "production").expect("production").1;
    let proxy = Proxy::start(upstream, &demo.fleet.ca_pem).await;
    let kubeconfig = proxy.kubeconfig(&demo.kubeconfig, "production", demo.dir.path());
    (demo, proxy, kubeconfig)
}

async fn run_via(demo: &Demo, kubeconfig: &PathBuf, args: &[&str]) -> std::process::Output {
    let mut command = demo.command_with(&demo.config, args);
    command.arg("--kubeconfig").arg(kubeconfig);
    command.output().await.expect("run opsdeck")
}

/// Every 5xx sample of the api canary's pods replaced by `value`.
fn corrupt_5xx(value: &'static str) -> impl Fn(&str) -> String + Send + Sync {
    move |body: &str| {
        body.lines()
            .map(|line| {
                if line.starts_with("http_requests_total{") && line.contains("status=\"5") {
                    let (series, _) = line.rsplit_once(' ').unwrap_or((line, ""));
                    format!("{series} {value}")
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }
}

#[tokio::test]
async fn a_corrupted_error_counter_is_never_a_pass() {
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    for value in ["NaN", "+Inf", "-7"] {
        proxy.set(|f| f.rewrite_metrics = Some(std::sync::Arc::new(corrupt_5xx(value))));
        if value == "NaN" {
            let args = ["canary", "status", "--env", "production", "--app", "api", "--json"];
            let out = run_via(&demo, &kubeconfig, &args).await;
            let status: Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
            assert_eq!(status["analysis"]["verdict"], "not-enough-data", "{value}: {status:#}");
            let reasons = status["analysis"]["reasons"].to_string();
            assert!(
                reasons.contains("api-")
                    && reasons.contains("http_requests_total{")
                    && reasons.contains("unusable"),
                "{value}: the reason names the pod and the series: {reasons}"
            );
        }
        let out = run_via(
            &demo,
            &kubeconfig,
            &["canary", "step", "--env", "production", "--app", "api", "--yes", "--reason", "r"],
        )
        .await;
        assert_eq!(out.status.code(), Some(3), "{value}: refused without an override: {}", text(&out));
        assert!(text(&out).contains("not enough data"), "{}", text(&out));
        assert_eq!(route_weights(&demo.get("production", "httproutes", "api").await), [90, 10], "untouched");
    }
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_read_back_not_called_unreachable() {
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    proxy.set(|f| f.drop_response = Some(("PATCH".into(), "/deployments/web".into())));
    let started = Instant::now();
    let out = run_via(
        &demo,
        &kubeconfig,
        &["pause", "--env", "production", "--app", "web", "--yes", "--reason", "lost answer"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("done: ") && stdout.contains("read back"),
        "read back and found applied: {stdout}"
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("may have been applied"), "said while it was not known: {}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(40), "bounded: {:?}", started.elapsed());
    let audit = demo.audit();
    let outcome = audit.iter().rev().find(|r| r["phase"] == "result").expect("a result");
    assert_eq!(outcome["outcome"], "done", "{outcome:#}");
    assert!(outcome["message"].as_str().is_some_and(|m| m.contains("read back")), "{outcome:#}");
    let web = demo.get("production", "deployments", "web").await;
    assert_eq!(web.pointer("/spec/paused"), Some(&Value::Bool(true)));
}

#[tokio::test]
async fn a_lost_answer_that_cannot_be_read_back_is_unknown_and_says_check() {
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    proxy.set(|f| f.drop_response = Some(("PATCH".into(), "/deployments/web".into())));
    // The read-back finds the cluster hung as well.
    let hang_after_patch = async {
        loop {
            if proxy.seen().iter().any(|r| r.starts_with("PATCH") && r.contains("/deployments/web")) {
                proxy.set(|f| f.hang = true);
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let run = run_via(
        &demo,
        &kubeconfig,
        &["pause", "--env", "production", "--app", "web", "--yes", "--reason", "lost answer", "--json"],
    );
    let (out, ()) = tokio::join!(run, hang_after_patch);
    let result: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert_eq!(result["outcome"], "unknown", "{result:#}");
    assert!(result["message"].as_str().is_some_and(|m| m.contains("may have been applied")), "{result:#}");
    assert_ne!(out.status.code(), Some(0));
    let audit = demo.audit();
    let outcome = audit.iter().rev().find(|r| r["phase"] == "result").expect("a result");
    assert_eq!(outcome["outcome"], "unknown", "{outcome:#}");
}

/// Production's snapshot in the console, once it has one.
fn production(state: &opsdeck::app::State) -> Option<&opsdeck::cluster::Snapshot> {
    state.envs.iter().find(|e| e.name == "production")?.snapshot.as_deref()
}

#[tokio::test]
async fn silent_watches_turn_the_rows_stale_and_the_verdict_unknown() {
    use opsdeck::health::Verdict;
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    let mut console = demo.console_via(&demo.config, &kubeconfig);
    fleet::until(&mut console, "production synced", |s| production(s).is_some()).await;
    proxy.set(|f| f.stall_watches = true);
    let stalled = Instant::now();
    // Behind the stalled watches, worker loses two replicas.
    let scale = serde_json::json!({"spec": {"replicas": 1}});
    demo.patch_behind_our_back("production", "deployments", "worker", &scale).await;
    fleet::until(&mut console, "production marked stale", |s| {
        production(s).is_some_and(|p| p.stale.is_some())
    })
    .await;
    // The server-side timeout (30 s) ends the watches that were open, then the silence limit.
    assert!(stalled.elapsed() < Duration::from_secs(30 + 45 + 15), "within the watch timeout plus margin");
    let snapshot = production(&console.state).expect("snapshot");
    assert_eq!(snapshot.health.verdict, Verdict::Unknown, "{:?}", snapshot.health.reasons);
    let marked = snapshot.stale.as_ref().expect("stale");
    assert!(marked.why.contains("no sign of life from the watch of"), "{marked:?}");
    let worker = snapshot.health.apps.iter().find(|a| a.app == "worker").expect("worker");
    assert_eq!(worker.verdict, Verdict::Unknown);
    assert!(worker.reasons.first().is_some_and(|r| r.starts_with("data as of")), "{:?}", worker.reasons);
    let text = fleet::screen(&console.state, 160, 45);
    assert!(text.contains("stale: no sign of life") && text.contains("data as of"), "{text}");

    proxy.set(|f| f.stall_watches = false);
    fleet::until(&mut console, "production live again", |s| {
        production(s).is_some_and(|p| {
            p.stale.is_none() && p.health.apps.iter().any(|a| a.app == "worker" && a.replicas.desired == 1)
        })
    })
    .await;
}

#[tokio::test]
async fn a_hung_cluster_is_unknown_on_stale_rows_not_healthy() {
    use opsdeck::health::Verdict;
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    let mut console = demo.console_via(&demo.config, &kubeconfig);
    fleet::until(&mut console, "production synced", |s| production(s).is_some()).await;
    proxy.set(|f| f.hang = true);
    fleet::until(&mut console, "production stale", |s| production(s).is_some_and(|p| p.stale.is_some()))
        .await;
    // The probe's words, not the silent watches' ("no sign of life from the watch of"): the
    // probe noticed first, well before the server-side watch timeout. Said by cause rather than
    // by a stopwatch, which a loaded machine makes lie.
    let snapshot = production(&console.state).expect("snapshot");
    assert_eq!(snapshot.health.verdict, Verdict::Unknown);
    let why = snapshot.stale.as_ref().map(|s| s.why.clone()).unwrap_or_default();
    assert!(why.contains("does not answer"), "{why}");
}

#[tokio::test]
async fn status_says_when_the_api_answers_but_lists_time_out() {
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    proxy.set(|f| f.stall_lists = true);
    let out = run_via(&demo, &kubeconfig, &["status", "--env", "production", "--json"]).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    let env = &status["environments"][0];
    assert_eq!(env["reachable"], true, "{env:#}");
    assert!(env["error"].as_str().is_some_and(|e| e.contains("API answers but lists time out")), "{env:#}");
}

#[tokio::test]
async fn the_user_recorded_is_the_servers_even_after_a_first_outage() {
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    // The first "who am I" reaches the server and its answer is lost.
    proxy.set(|f| f.drop_response = Some(("POST".into(), "selfsubjectreviews".into())));
    let out = run_via(
        &demo,
        &kubeconfig,
        &["pause", "--env", "production", "--app", "web", "--yes", "--reason", "identity drill"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let audit = demo.audit();
    assert!(!audit.is_empty());
    assert!(audit.iter().all(|r| r["user"] == "demo-admin"), "never a local name: {audit:#?}");
}

#[tokio::test]
async fn refused_credentials_are_said_in_a_second_in_plain_words() {
    let demo = fleet::start().await;
    let text_of = std::fs::read_to_string(&demo.kubeconfig).expect("kubeconfig");
    let token = text_of.lines().find_map(|l| l.trim().strip_prefix("token: ")).expect("a token").to_owned();
    let bad = demo.dir.path().join("kubeconfig-bad-token");
    std::fs::write(&bad, text_of.replace(&token, "not-a-valid-token")).expect("write");
    let words = "authentication failed (401) for context production: the credentials were refused";

    let started = Instant::now();
    let out = run_via(&demo, &bad, &["status", "--env", "production", "--json"]).await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains(words) && !text(&out).contains("Status {"), "{}", text(&out));

    let started = Instant::now();
    let out =
        run_via(&demo, &bad, &["pause", "--env", "production", "--app", "web", "--yes", "--reason", "r"])
            .await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains(words), "{}", text(&out));

    let mut console = demo.console_via(&demo.config, &bad);
    fleet::until(&mut console, "the column says so", |s| {
        s.envs.iter().any(|e| {
            e.name == "production"
                && matches!(&e.connection, opsdeck::app::Connection::Unreachable { reason, .. } if reason == words)
        })
    })
    .await;
}

#[tokio::test]
async fn a_hanging_credential_plugin_is_stopped_at_the_deadline_and_never_outlives_opsdeck() {
    let demo = fleet::start().await;
    let dir = demo.dir.path();
    let pids = dir.join("plugin-pids");
    let plugin = dir.join("hanging-plugin");
    // A plugin that starts a child of its own and never answers.
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho $$ >> {}\nsleep 600 &\necho $! >> {}\nwait\n",
            pids.display(),
            pids.display()
        ),
    )
    .expect("plugin");
    std::process::Command::new("chmod").arg("+x").arg(&plugin).status().expect("chmod");
    let text_of = std::fs::read_to_string(&demo.kubeconfig).expect("kubeconfig");
    let token = text_of.lines().find_map(|l| l.trim().strip_prefix("token: ")).expect("a token").to_owned();
    let exec = format!(
        "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never",
        plugin.display()
    );
    let hanging = dir.join("kubeconfig-hanging-plugin");
    std::fs::write(&hanging, text_of.replacen(&format!("token: {token}"), &exec, 1)).expect("write");

    let started = Instant::now();
    let out = run_via(&demo, &hanging, &["status", "--env", "production", "--json"]).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("credential plugin"), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started_pids = std::fs::read_to_string(&pids).expect("the plugin ran");
    // A killed process whose parent has not reaped it yet (a zombie) runs nothing.
    let running = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|s| !s.lines().any(|l| l.starts_with("State:") && l.contains('Z')))
    };
    let alive: Vec<&str> = started_pids.lines().filter(|pid| running(pid)).collect();
    assert!(alive.is_empty(), "plugin processes left after opsdeck exited: {alive:?}");
    assert_eq!(started_pids.lines().count(), 2, "one plugin run (and its child): {started_pids}");
}

#[tokio::test]
async fn cut_connections_are_an_unreachable_environment_not_a_hang() {
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    proxy.set(|f| f.cut = true);
    let started = Instant::now();
    let out = run_via(&demo, &kubeconfig, &["status", "--env", "production", "--json"]).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    let out = run_via(
        &demo,
        &kubeconfig,
        &["pause", "--env", "production", "--app", "web", "--yes", "--reason", "r"],
    )
    .await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(demo.audit().is_empty(), "nothing was attempted");
}

#[tokio::test]
async fn logs_say_forbidden_and_unreachable_with_their_exit_codes_and_a_hung_stream_is_shown() {
    let (demo, proxy, kubeconfig) = behind_proxy().await;
    let args = ["logs", "--env", "production", "--app", "api", "--tail", "5"];
    let ok = run_via(&demo, &kubeconfig, &args).await;
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));

    proxy.set(|f| f.forbid = Some("/log".into()));
    let forbidden = run_via(&demo, &kubeconfig, &args).await;
    assert_eq!(forbidden.status.code(), Some(4), "{}", text(&forbidden));
    assert!(text(&forbidden).contains("forbidden"), "{}", text(&forbidden));
    let follow = ["logs", "--env", "production", "--app", "api", "--follow"];
    let forbidden = tokio::time::timeout(Duration::from_secs(60), run_via(&demo, &kubeconfig, &follow))
        .await
        .expect("a forbidden follow ends");
    assert_eq!(forbidden.status.code(), Some(4), "{}", text(&forbidden));

    // A hung kubelet: the one-shot read gives up, the console's stream says so.
    proxy.set(|f| {
        f.forbid = None;
        f.stall = Some("/log".into());
    });
    let hung = run_via(&demo, &kubeconfig, &args).await;
    assert_eq!(hung.status.code(), Some(5), "{}", text(&hung));
    assert!(text(&hung).contains("no answer"), "{}", text(&hung));
    let mut console = demo.console_via(&demo.config, &kubeconfig);
    fleet::until(&mut console, "production synced", |s| s.envs[2].snapshot.is_some()).await;
    fleet::press(&mut console, "llj");
    fleet::press(&mut console, "L");
    fleet::until(&mut console, "each stream shown as not answering", |s| {
        s.logs.as_ref().is_some_and(|v| {
            !v.targets.is_empty()
                && v.targets.iter().all(|t| {
                    matches!(
                        v.streams.get(&t.pod),
                        Some(opsdeck::cluster::logs::StreamState::Retrying(why)) if why.contains("no answer")
                    )
                })
        })
    })
    .await;
    let screen = fleet::screen(&console.state, 160, 30);
    assert!(screen.contains("⟳") && screen.contains("no answer within 10s"), "{screen}");
    // The screen still answers its keys.
    fleet::key(&mut console, opsdeck::app::Key::Esc);
    assert!(console.state.logs.is_none());
}
