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
