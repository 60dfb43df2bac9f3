//! The operation path end to end: the real binary against the demo fleet, and the engine
//! directly where a race has to be arranged.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams};
use opsdeck_demo::FleetOptions;
use serde_json::{Value, json};

use fleet::{Demo, text};

async fn start(options: FleetOptions) -> Demo {
    fleet::start_with(options).await
}

fn writes(report: &Value) -> Vec<String> {
    report["byVerbAndResource"]
        .as_object()
        .expect("counts")
        .keys()
        .filter(|k| {
            let verb = k.split(' ').next().unwrap_or("");
            let stored = !k.contains("(dry run)");
            stored
                && (matches!(verb, "patch" | "update" | "delete")
                    || (verb == "create" && !k.contains("review")))
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn read_only_sends_no_write_at_all() {
    let demo = start(FleetOptions::default()).await;
    let config = demo.one_environment("staging", "staging", "none", "");
    let out =
        demo.run_with(&config, &["--readonly", "pause", "--env", "staging", "--app", "web", "--yes"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("read-only"), "{}", text(&out));
    let report = demo.requests("staging").await;
    assert!(writes(&report).is_empty(), "no write reached the server: {report}");
    assert!(demo.audit().is_empty(), "nothing was attempted, nothing recorded");
}

#[tokio::test]
async fn a_forbidden_write_is_refused_before_confirmation() {
    let demo = start(FleetOptions::default()).await;
    let config = demo.one_environment("production", "production-readonly", "typed", "");
    // No --yes: a forbidden action must be refused for what it is, not for the missing --yes.
    let out = demo.run_with(&config, &["pause", "--env", "production", "--app", "web"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("not allowed to patch deployments"), "{}", text(&out));
    assert!(writes(&demo.requests("production").await).is_empty());
    assert!(demo.audit().is_empty());
}

#[tokio::test]
async fn protected_environments_refuse_without_yes_and_reason() {
    let demo = start(FleetOptions::default()).await;
    let typed = demo.one_environment("production", "production", "typed", "");
    let out = demo.run_with(&typed, &["pause", "--env", "production", "--app", "web"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("typed confirmation of production/web"), "{}", text(&out));
    let out = demo.run_with(&typed, &["pause", "--env", "production", "--app", "web", "--yes"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--reason"), "{}", text(&out));
    let confirm = demo.one_environment("staging", "staging", "confirm", "");
    let out = demo.run_with(&confirm, &["pause", "--env", "staging", "--app", "web"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        writes(&demo.requests("production").await).is_empty()
            && writes(&demo.requests("staging").await).is_empty()
    );
    let deployments: Api<Deployment> = Api::namespaced(demo.client("production").await, "shop");
    assert_ne!(deployments.get("web").await.expect("web").spec.and_then(|s| s.paused), Some(true));
}

#[tokio::test]
async fn pause_resume_and_restart_are_recorded_everywhere() {
    let demo = start(FleetOptions::default()).await;
    let config = demo.one_environment("production", "production", "typed", "");
    let out = demo
        .run_with(
            &config,
            &[
                "pause",
                "--env",
                "production",
                "--app",
                "web",
                "--yes",
                "--reason",
                "freeze for incident 42",
                "--json",
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(result["outcome"], "done");
    assert_eq!(result["user"], "demo-admin");

    let deployments: Api<Deployment> = Api::namespaced(demo.client("production").await, "shop");
    assert_eq!(deployments.get("web").await.expect("web").spec.and_then(|s| s.paused), Some(true));
    let events: Api<Event> = Api::namespaced(demo.client("production").await, "shop");
    let ours = events
        .list(&ListParams::default().fields("involvedObject.name=web,reason=OpsdeckPause"))
        .await
        .expect("events");
    let message = ours.items.first().and_then(|e| e.message.clone()).expect("an OpsdeckPause event on web");
    assert!(message.contains("demo-admin") && message.contains("freeze for incident 42"), "{message}");

    let out = demo
        .run_with(&config, &["restart", "--env", "production", "--app", "web", "--yes", "--reason", "x"])
        .await;
    assert_eq!(out.status.code(), Some(3), "a paused Deployment does not restart: {}", text(&out));
    let out = demo
        .run_with(
            &config,
            &["resume", "--env", "production", "--app", "web", "--yes", "--reason", "incident over"],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = demo
        .run_with(
            &config,
            &[
                "restart",
                "--env",
                "production",
                "--app",
                "web",
                "--yes",
                "--reason",
                "pick up rotated secret",
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("done"), "{}", text(&out));

    let audit = demo.audit();
    let phases: Vec<(String, String)> = audit
        .iter()
        .map(|r| {
            (r["operation"].as_str().unwrap_or("").to_owned(), r["phase"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    let expected = [
        ("pause", "intent"),
        ("pause", "result"),
        ("resume", "intent"),
        ("resume", "result"),
        ("restart", "intent"),
        ("restart", "result"),
    ];
    assert_eq!(phases, expected.map(|(o, p)| (o.to_owned(), p.to_owned())));
    assert!(audit.iter().filter(|r| r["phase"] == "result").all(|r| r["outcome"] == "done"), "{audit:#?}");

    let out = demo.run_with(&config, &["audit", "--markdown"]).await;
    let markdown = text(&out);
    assert!(
        markdown.contains("| Time (UTC) |")
            && markdown.contains("freeze for incident 42")
            && markdown.contains("pick up rotated secret"),
        "{markdown}"
    );
}

#[tokio::test]
async fn a_stale_resource_version_writes_nothing_and_exits_3() {
    let demo = start(FleetOptions::default()).await;
    let config_path = demo.one_environment("staging", "staging", "confirm", "");
    let engine = demo.engine_with(&config_path);
    let request = opsdeck::engine::Request::new("staging", "web", opsdeck::engine::Ask::Pause);
    let prepared = engine.prepare(request).await.expect("prepared");

    // Someone else changes the Deployment after the plan was made.
    let deployments: Api<Deployment> = Api::namespaced(demo.client("staging").await, "shop");
    let other = json!({"metadata": {"annotations": {"someone": "else"}}});
    deployments.patch("web", &PatchParams::default(), &Patch::Merge(&other)).await.expect("other write");

    let report = engine.execute(&prepared, &fleet::yes("test"), |_| {}).await.expect("answered");
    let error = report.error.expect("refused");
    assert_eq!(fleet::exit_of(&error), 3, "{error}");
    assert!(error.to_string().contains("changed since the plan"), "{error}");
    let now = &report.message;
    assert!(now.contains("spec.paused is now false") && now.contains("paused false → true"), "{now}");
    assert_ne!(
        deployments.get("web").await.expect("web").spec.and_then(|s| s.paused),
        Some(true),
        "nothing was written"
    );
    let last = demo.audit().pop().expect("a record");
    assert_eq!(last["outcome"], "conflict");
}

#[tokio::test]
async fn the_intent_survives_a_kill_between_intent_and_result() {
    let demo =
        start(FleetOptions { write_delay: Some(Duration::from_secs(30)), ..FleetOptions::default() }).await;
    let config = demo.one_environment("local", "local", "none", "");
    let mut child =
        demo.command_with(&config, &["pause", "--env", "local", "--app", "web"]).spawn().expect("spawn");
    for _ in 0..200 {
        if demo.audit().iter().any(|r| r["phase"] == "intent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().await.expect("kill -9 while the write is in flight");
    let audit = demo.audit();
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0]["phase"], "intent");
    assert_eq!(audit[0]["sentence"], "local · shop/web · paused false → true");
    let out = demo.run_with(&config, &["audit"]).await;
    assert!(text(&out).contains("no result recorded"), "{}", text(&out));
}

/// A loopback HTTP server that records request bodies; `answer` false accepts and never replies.
async fn hook_server(answer: bool) -> (String, tokio::sync::mpsc::Receiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut got = Vec::new();
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            let _ = tx.send(body.to_owned()).await;
                            if answer {
                                let _ =
                                    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                            } else {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                            }
                            break;
                        }
                    }
                }
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn the_webhook_is_told_and_a_silent_one_delays_nothing() {
    let demo = start(FleetOptions::default()).await;
    let (url, mut bodies) = hook_server(true).await;
    let config =
        demo.one_environment("local", "local", "none", &format!("\n[notifications]\nwebhook = \"{url}\"\n"));
    let out =
        demo.run_with(&config, &["pause", "--env", "local", "--app", "web", "--reason", "hook test"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let body = tokio::time::timeout(Duration::from_secs(5), bodies.recv())
        .await
        .expect("a notification")
        .expect("body");
    let payload: Value = serde_json::from_str(&body).expect("json");
    assert!(
        payload["text"]
            .as_str()
            .is_some_and(|t| t.contains("paused false → true") && t.contains("hook test")),
        "{payload}"
    );

    let (silent, mut seen) = hook_server(false).await;
    let config = demo.one_environment(
        "local",
        "local",
        "none",
        &format!("\n[notifications]\nwebhook = \"{silent}\"\n"),
    );
    let out = demo.run_with(&config, &["resume", "--env", "local", "--app", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "a silent webhook does not fail the operation: {}", text(&out));
    assert!(seen.try_recv().is_ok(), "the webhook was called");
    let audit = demo.audit();
    assert_eq!(
        audit.last().map(|r| r["outcome"].clone()),
        Some(json!("done")),
        "the result was recorded regardless"
    );
}

/// Runs `pause` on local/web with every PATCH held a while, and once its intent is on disk
/// makes the audit log unwritable (a directory where the file was) — a disk that filled up
/// between the intent and the result. `restore_after` puts the file back that much later.
async fn pause_with_log_gone(restore_after: Option<Duration>) -> (std::process::Output, Vec<Value>) {
    let demo =
        start(FleetOptions { write_delay: Some(Duration::from_secs(2)), ..FleetOptions::default() }).await;
    let log = demo.data_home().join("opsdeck/audit.jsonl");
    let aside = demo.data_home().join("opsdeck/audit.jsonl.aside");
    let child = demo.command_with(&demo.config, &["pause", "--env", "local", "--app", "web"]).output();
    let swap = async {
        while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("\"intent\"")) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        std::fs::rename(&log, &aside).expect("move the log aside");
        std::fs::create_dir(&log).expect("a directory where the log was");
        if let Some(after) = restore_after {
            tokio::time::sleep(after).await;
            std::fs::remove_dir(&log).expect("remove the directory");
            std::fs::rename(&aside, &log).expect("the log is back");
        }
    };
    let (out, ()) = tokio::join!(child, swap);
    let out = out.expect("run opsdeck");
    if restore_after.is_none() {
        std::fs::remove_dir(&log).expect("remove the directory");
        std::fs::rename(&aside, &log).expect("the log is back");
    }
    (out, demo.audit())
}

#[tokio::test]
async fn a_result_that_cannot_be_recorded_is_said_loudly_and_fails() {
    let (out, audit) = pause_with_log_gone(None).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not be written to")
            && stderr.contains("the intent record says what was attempted"),
        "{stderr}"
    );
    assert_eq!(audit.len(), 1, "the intent alone: {audit:#?}");
}

#[tokio::test]
async fn a_result_that_could_not_be_recorded_is_written_once_there_is_room() {
    let (out, audit) = pause_with_log_gone(Some(Duration::from_millis(2500))).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let phases: Vec<&str> = audit.iter().filter_map(|r| r["phase"].as_str()).collect();
    assert_eq!(phases, ["intent", "result"], "{audit:#?}");
    assert_eq!(audit[1]["outcome"], "done");
}
