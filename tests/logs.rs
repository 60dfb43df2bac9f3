//! `opsdeck logs` against the demo fleet: the app's pods (or one track's) through `pods/log`,
//! merged by time, error lines marked in about the proportion the pods' traffic fails.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use fleet::text;
use serde_json::Value;

fn lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a JSON line ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn a_tracks_logs_come_from_its_pods_only_with_the_errors_marked() {
    let demo = fleet::start().await;
    let args =
        ["logs", "--env", "production", "--app", "api", "--track", "canary", "--tail", "300", "--json"];
    let mut canary = Vec::new();
    for _ in 0..100 {
        let out = demo.run(&args).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        canary = lines(&out);
        if canary.len() >= 300 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(canary.len(), 300, "the tail asked for");
    assert!(
        canary.iter().all(
            |l| l["track"] == "canary" && l["pod"].as_str().is_some_and(|p| p.starts_with("api-canary-"))
        )
    );
    assert!(canary.iter().all(|l| l["container"] == "api" && l["time"].is_string()));
    let errors = canary.iter().filter(|l| l["error"] == true).count();
    // The release candidate fails about 4% of its requests; stable about 0.2%.
    assert!((6..=21).contains(&errors), "{errors} of 300 canary lines marked");
    assert!(
        canary
            .iter()
            .filter(|l| l["error"] == true)
            .all(|l| l["line"].as_str().is_some_and(|s| s.contains("\" 500 ")))
    );
    let times: Vec<&str> = canary.iter().filter_map(|l| l["time"].as_str()).collect();
    assert!(
        times
            .windows(2)
            .all(|w| w[0].parse::<jiff::Timestamp>().ok() <= w[1].parse::<jiff::Timestamp>().ok()),
        "merged by time"
    );

    let stable = lines(
        &demo
            .run(&[
                "logs",
                "--env",
                "production",
                "--app",
                "api",
                "--track",
                "stable",
                "--tail",
                "100",
                "--json",
            ])
            .await,
    );
    assert!(!stable.is_empty() && stable.iter().all(|l| l["track"] == "stable"));
    let grep = demo.run(&["logs", "--env", "production", "--app", "api", "--grep", "\" 500 "]).await;
    assert!(String::from_utf8_lossy(&grep.stdout).lines().all(|l| l.starts_with('✗')), "{}", text(&grep));
    let broken = demo.run(&["logs", "--env", "production", "--app", "api", "--grep", "(unclosed"]).await;
    assert_eq!(broken.status.code(), Some(2), "{}", text(&broken));
}

/// The stable pods of production's api, by name.
async fn stable_api_pods(demo: &fleet::Demo) -> Vec<String> {
    use k8s_openapi::api::core::v1::Pod;
    let pods: kube::Api<Pod> = kube::Api::namespaced(demo.client("production").await, "shop");
    let list =
        pods.list(&kube::api::ListParams::default().labels("app=api,track=stable")).await.expect("pods");
    list.items.into_iter().filter_map(|p| p.metadata.name).collect()
}

async fn delete_pod(demo: &fleet::Demo, name: &str) {
    use k8s_openapi::api::core::v1::Pod;
    let pods: kube::Api<Pod> = kube::Api::namespaced(demo.client("production").await, "shop");
    pods.delete(name, &kube::api::DeleteParams::default()).await.expect("delete pod");
}

#[tokio::test]
async fn a_follow_picks_up_a_new_pod_and_ends_on_ctrl_c() {
    use tokio::io::AsyncBufReadExt;
    let demo = fleet::start().await;
    let before = stable_api_pods(&demo).await;
    assert!(!before.is_empty());
    let mut child = demo
        .command_with(
            &demo.config,
            &["logs", "--env", "production", "--app", "api", "--follow", "--tail", "5", "--json"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("opsdeck logs --follow");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = std::collections::BTreeSet::new();
    let mut next = async |seen: &mut std::collections::BTreeSet<String>| {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("a line within 30s")
            .expect("read")
            .expect("the follow goes on");
        let line: Value = serde_json::from_str(&line).expect("a JSON line");
        seen.insert(line["pod"].as_str().unwrap_or_default().to_owned());
        line
    };
    // Lines keep coming after the tail: it follows.
    for _ in 0..40 {
        next(&mut seen).await;
    }
    assert!(before.iter().any(|p| seen.contains(p)), "{seen:?}");
    delete_pod(&demo, &before[0]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let line = next(&mut seen).await;
        let pod = line["pod"].as_str().unwrap_or_default();
        if line["track"] == "stable" && !before.iter().any(|p| p == pod) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no line from the new pod; pods seen {seen:?}");
    }
    let pid = child.id().expect("running").to_string();
    let interrupted = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    assert!(interrupted.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("it stops on Ctrl-C")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn the_console_shows_canary_and_stable_logs_and_follows_a_new_pod() {
    use opsdeck::app::{Key, Screen};
    let demo = fleet::start().await;
    let mut console = demo.console(&demo.config);
    fleet::until(&mut console, "production synced", |s| s.envs[2].snapshot.is_some()).await;
    // production, then api (the second row).
    fleet::press(&mut console, "llj");
    fleet::press(&mut console, "L");
    assert!(
        matches!(console.state.screen, Screen::Logs { env: 2, app: 1, .. }),
        "{:?}",
        console.state.screen
    );
    // The canary serves a tenth of the traffic: its lines come slower.
    fleet::until(&mut console, "lines of both tracks", |s| {
        s.logs.as_ref().is_some_and(|v| v.split && v.stable.len() > 20 && v.canary.len() > 5)
    })
    .await;
    let view = console.state.logs.as_ref().expect("view");
    assert!(view.canary.lines().all(|l| l.track == "canary" && l.pod.starts_with("api-canary-")));
    assert!(view.stable.lines().all(|l| l.track == "stable" && !l.pod.starts_with("api-canary-")));
    let before = stable_api_pods(&demo).await;
    delete_pod(&demo, &before[0]).await;
    fleet::until(&mut console, "a line from the pod that replaced it", |s| {
        s.logs.as_ref().is_some_and(|v| v.stable.lines().any(|l| !before.contains(&l.pod)))
    })
    .await;
    assert!(
        !console.state.logs.as_ref().expect("view").targets.iter().any(|t| t.pod == before[0]),
        "the deleted pod is dropped"
    );
    fleet::key(&mut console, Key::Esc);
    assert!(console.state.logs.is_none());
    assert_eq!(console.state.screen, Screen::Overview);
}

#[tokio::test]
async fn previous_shows_what_a_crash_looping_pod_said_before_it_died() {
    use k8s_openapi::api::core::v1::Pod;
    let demo = fleet::start().await;
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": "worker", "image": "registry.example.com/shop/worker:v9-crash"}]}}}});
    demo.patch_in("production", "shop", "deployments", "worker", &patch).await;
    let pods: kube::Api<Pod> = kube::Api::namespaced(demo.client("production").await, "shop");
    let restarted = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.restart_count > 0))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !pods
        .list(&kube::api::ListParams::default().labels("app=worker"))
        .await
        .expect("pods")
        .items
        .iter()
        .any(restarted)
    {
        assert!(std::time::Instant::now() < deadline, "no worker pod restarted");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let out = demo.run(&["logs", "--env", "production", "--app", "worker", "--previous"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with('✗') && l.contains("panic:") && l.contains("v9-crash")),
        "the crash, marked as an error:\n{}",
        text(&out)
    );
}
