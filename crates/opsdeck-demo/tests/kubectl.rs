//! kubectl against the demo fleet: the fleet must behave as a real cluster does for the
//! commands an operator reaches for. Ignored where kubectl is missing; CI installs it and runs
//! the ignored tests.

use std::path::Path;
use std::process::Command;

use opsdeck_demo::{Fleet, FleetOptions, Timing};

/// Runs kubectl against the production cluster's `shop` namespace; returns (success, stdout+stderr).
fn kubectl(kubeconfig: &Path, context: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", context, "-n", "shop"])
        .args(args)
        .output()
        .expect("kubectl is installed (.ci/run installs it)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn ok(kubeconfig: &Path, args: &[&str]) -> String {
    let (success, text) = kubectl(kubeconfig, "production", args);
    assert!(success, "kubectl {} failed:\n{text}", args.join(" "));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs kubectl (.ci/run installs kubernetes-client and runs ignored tests)"]
async fn kubectl_works_against_the_demo_fleet() {
    let options =
        FleetOptions { timing: Timing { speed: 20.0, ..Timing::default() }, ..FleetOptions::default() };
    let fleet = Fleet::start(options).await.expect("fleet");
    let dir = tempfile::tempdir().expect("tempdir");
    let (kc, _) = fleet.write_files(dir.path()).expect("files");
    // kubectl blocks; the fleet's servers go on answering on the runtime's other worker.
    tokio::task::block_in_place(|| check(&kc));
    fleet.stop();
}

fn check(kc: &Path) {
    let kc = kc.to_path_buf();

    let listing = ok(&kc, &["get", "deploy,rs,pods,ingress"]);
    for needle in [
        "deployment.apps/web-canary",
        "READY",
        "UP-TO-DATE",
        "replicaset.apps/web-",
        "pod/api-canary-",
        "Running",
        "ingress.networking.k8s.io/web-canary",
    ] {
        assert!(listing.contains(needle), "{needle:?} missing from kubectl get:\n{listing}");
    }

    let described = ok(&kc, &["describe", "deploy/web"]);
    for needle in [
        "Replicas:",
        "3 desired | 3 updated | 3 total | 3 available",
        "NewReplicaSet:",
        "registry.example.com/shop/web:v1.2.0",
    ] {
        assert!(described.contains(needle), "{needle:?} missing from kubectl describe:\n{described}");
    }

    let history = ok(&kc, &["rollout", "history", "deploy/web"]);
    assert!(
        history.contains("release v1.1.0") && history.contains("release v1.2.0 (JIRA-4301)"),
        "{history}"
    );

    let patched = ok(
        &kc,
        &[
            "patch",
            "ingress",
            "web-canary",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"annotations":{"nginx.ingress.kubernetes.io/canary-weight":"25"}}}"#,
        ],
    );
    assert!(patched.contains("patched"), "{patched}");
    let weight = ok(
        &kc,
        &[
            "get",
            "ingress",
            "web-canary",
            "-o",
            r"jsonpath={.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}",
        ],
    );
    assert_eq!(weight.trim(), "25");

    let undo = ok(&kc, &["rollout", "undo", "deploy/api"]);
    assert!(undo.contains("rolled back"), "{undo}");
    let status = ok(&kc, &["rollout", "status", "deploy/api", "--timeout=60s"]);
    assert!(status.contains("successfully rolled out"), "{status}");
    let history = ok(&kc, &["rollout", "history", "deploy/api"]);
    let revisions: Vec<&str> = history
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.parse::<u32>().is_ok())
        .collect();
    assert_eq!(revisions, ["2", "3"], "undo renumbers revision 1 as 3, as Kubernetes does:\n{history}");

    let pod =
        ok(&kc, &["get", "pods", "-l", "app=web,track=canary", "-o", "jsonpath={.items[0].metadata.name}"]);
    let metrics = ok(
        &kc,
        &["get", "--raw", &format!("/api/v1/namespaces/shop/pods/{}:8080/proxy/metrics", pod.trim())],
    );
    assert!(
        metrics.contains("http_requests_total{status=\"200\"}")
            && metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );

    let (allowed, whoami) = kubectl(&kc, "production-readonly", &["auth", "can-i", "patch", "deployments"]);
    assert!(!allowed && whoami.trim().starts_with("no"), "{whoami}");
    let (success, refused) =
        kubectl(&kc, "production-readonly", &["patch", "deploy", "web", "-p", r#"{"spec":{"paused":true}}"#]);
    assert!(!success && refused.contains("Forbidden") && refused.contains("demo-readonly"), "{refused}");

    check_logs(&kc, pod.trim());
}

/// `kubectl logs`, `-f --tail` and `--previous`: the fleet's pods log their traffic, stream it,
/// and a crash-looping one says why its last container died.
fn check_logs(kc: &Path, pod: &str) {
    let tail = ok(kc, &["logs", pod, "--tail=3"]);
    assert_eq!(tail.lines().count(), 3, "{tail}");
    assert!(tail.lines().all(|l| l.contains("\"GET /") && l.contains("HTTP/1.1\"")), "{tail}");
    let labelled = ok(kc, &["logs", "-l", "app=api", "--tail=2", "--prefix"]);
    assert!(labelled.lines().any(|l| l.starts_with("[pod/api-")), "{labelled}");

    // A follow goes on past its tail: more lines than asked for arrive before it is stopped.
    let mut follow = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(["--context", "production", "-n", "shop", "logs", "-f", "--tail=2", pod])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl logs -f");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(follow.stdout.take().expect("stdout")));
    let streamed = (&mut lines).take(6).filter_map(Result::ok).count();
    let _ = follow.kill();
    let _ = follow.wait();
    assert_eq!(streamed, 6, "kubectl logs -f streams past its tail");

    ok(kc, &["set", "image", "deploy/worker", "worker=registry.example.com/shop/worker:v9-crash"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let crashed = loop {
        let restarts = ok(
            kc,
            &[
                "get",
                "pods",
                "-l",
                "app=worker",
                "-o",
                "jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].restartCount}{\"\\n\"}{end}",
            ],
        );
        if let Some(name) = restarts
            .lines()
            .find_map(|l| l.split_once(' ').filter(|(_, n)| *n != "0").map(|(p, _)| p.to_owned()))
        {
            break name;
        }
        assert!(std::time::Instant::now() < deadline, "no worker pod restarted:\n{restarts}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    let previous = ok(kc, &["logs", &crashed, "--previous"]);
    assert!(previous.contains("panic:") && previous.contains("v9-crash"), "{previous}");
}
