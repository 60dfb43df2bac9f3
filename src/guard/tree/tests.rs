use super::*;

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_000_000).expect("time")
}

fn ago(seconds: i64) -> jiff::Timestamp {
    now() - jiff::SignedDuration::from_secs(seconds)
}

fn pod(name: &str) -> PodSeen {
    PodSeen {
        name: name.into(),
        phase: "Running".into(),
        ready: true,
        restarts: 0,
        waiting: None,
        last_termination: None,
        created: Some(ago(600)),
        probe_failures: Vec::new(),
    }
}

fn figures(requests: f64, error_rate: f64, p95_ms: f64) -> Figures {
    Figures {
        requests,
        errors: requests * error_rate,
        rps: requests / 60.0,
        error_rate: Some(error_rate),
        p50: Some(p95_ms / 2000.0),
        p95: Some(p95_ms / 1000.0),
        p99: Some(p95_ms / 500.0),
        pods: 3,
        span_seconds: 60.0,
    }
}

fn service() -> ServiceSeen {
    ServiceSeen {
        name: "shop/web".into(),
        ready_endpoints: 3,
        slices: 1,
        selects: 3,
        port_mismatch: None,
        routed_by: Some("Ingress shop/web".into()),
    }
}

/// A healthy new version: three ready pods, its Service serving, figures like the baseline's.
fn healthy() -> Observed {
    Observed {
        now: now(),
        pods: vec![pod("web-new-a"), pod("web-new-b"), pod("web-new-c")],
        service: Serving::Service(service()),
        figures: Some(figures(1_000.0, 0.002, 160.0)),
        baseline: Some(figures(5_000.0, 0.002, 150.0)),
    }
}

fn at(tree: &Tree, branch: Branch) -> &Node {
    tree.nodes.iter().find(|n| n.branch == branch).expect("every branch is answered")
}

#[test]
fn a_healthy_release_passes_every_branch() {
    let tree = decide(&healthy(), &Limits::default());
    assert_eq!(tree.verdict, Verdict::Ok, "{tree:#?}");
    assert_eq!(tree.decided_by, None);
    assert!(tree.nodes.iter().all(|n| n.verdict == NodeVerdict::Pass && !n.evidence.is_empty()));
    assert_eq!(
        tree.nodes.iter().map(|n| n.branch).collect::<Vec<_>>(),
        [
            Branch::PodsStarting,
            Branch::HealthChecks,
            Branch::ServiceAccessible,
            Branch::ErrorRate,
            Branch::ResponseTime
        ]
    );
}

#[test]
fn a_crash_loop_or_a_failing_pull_rolls_back_at_the_first_branch() {
    let mut o = healthy();
    o.pods[1] = PodSeen {
        ready: false,
        restarts: 3,
        waiting: Some("CrashLoopBackOff".into()),
        last_termination: Some("Error, exit code 1".into()),
        ..pod("web-new-b")
    };
    o.pods[2] = PodSeen {
        phase: "Pending".into(),
        ready: false,
        waiting: Some("ImagePullBackOff".into()),
        ..pod("web-new-c")
    };
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.verdict, Verdict::Rollback);
    assert_eq!(tree.decided_by, Some(Branch::PodsStarting));
    let evidence = &at(&tree, Branch::PodsStarting).evidence;
    assert!(evidence[0].contains("web-new-b CrashLoopBackOff (last: Error, exit code 1)"), "{evidence:?}");
    assert!(evidence[1].contains("web-new-c ImagePullBackOff"), "{evidence:?}");
    assert_eq!(
        tree.reason().as_deref(),
        Some(
            "guard: Pods starting successfully? no: web-new-b CrashLoopBackOff (last: Error, exit code 1), restarted 3×"
        )
    );
}

#[test]
fn a_pod_pending_past_the_limit_rolls_back_and_one_just_created_is_not_judged_yet() {
    let mut o = healthy();
    o.pods[0] = PodSeen { phase: "Pending".into(), ready: false, created: Some(ago(30)), ..pod("web-new-a") };
    let tree = decide(&o, &Limits::default());
    assert_eq!(at(&tree, Branch::PodsStarting).verdict, NodeVerdict::Unknown);
    assert_eq!(tree.verdict, Verdict::Watch);
    o.pods[0].created = Some(ago(400));
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.decided_by, Some(Branch::PodsStarting));
    assert!(at(&tree, Branch::PodsStarting).evidence[0].contains("pending for 400s (limit 300s)"));
}

#[test]
fn readiness_and_probe_failures_answer_the_health_checks() {
    let mut o = healthy();
    o.pods[0] = PodSeen {
        ready: false,
        created: Some(ago(60)),
        probe_failures: vec!["Readiness probe failed: HTTP probe failed with statuscode: 503".into()],
        ..pod("web-new-a")
    };
    let tree = decide(&o, &Limits::default());
    assert_eq!(at(&tree, Branch::HealthChecks).verdict, NodeVerdict::Watch, "within its grace");
    o.pods[0].created = Some(ago(200));
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.decided_by, Some(Branch::HealthChecks));
    assert!(
        at(&tree, Branch::HealthChecks).evidence[0]
            .contains("not ready after 200s (limit 120s): Readiness probe failed")
    );
}

#[test]
fn a_service_whose_target_port_matches_no_container_rolls_back_naming_the_ports() {
    let mut o = healthy();
    o.service = Serving::Service(ServiceSeen {
        port_mismatch: Some("targetPort 8081 matches no container port of its pods (web: 8080 http)".into()),
        ready_endpoints: 0,
        ..service()
    });
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.decided_by, Some(Branch::ServiceAccessible));
    let evidence = &at(&tree, Branch::ServiceAccessible).evidence;
    assert!(evidence[0].contains("targetPort 8081") && evidence[0].contains("8080"), "{evidence:?}");
    assert!(
        evidence.iter().any(|e| e.contains("no ready endpoints though 3 pods of the new version are ready"))
    );
    // Without any EndpointSlice for it, its endpoints are not known: not judged, not failed.
    o.service = Serving::Service(ServiceSeen { slices: 0, ready_endpoints: 0, ..service() });
    let tree = decide(&o, &Limits::default());
    assert_eq!(at(&tree, Branch::ServiceAccessible).verdict, NodeVerdict::Unknown, "{tree:#?}");
}

#[test]
fn error_rate_above_one_percent_rolls_back_and_above_normal_watches() {
    let mut o = healthy();
    o.figures = Some(figures(1_000.0, 0.04, 160.0));
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.decided_by, Some(Branch::ErrorRate));
    assert!(
        at(&tree, Branch::ErrorRate).evidence[0].contains(
            "4.00% of 1000 requests failed (baseline 0.20% of 5000, normal up to 0.46%): above 1.00%"
        )
    );
    // A small baseline that saw no error by chance does not make an ordinary 0.2% abnormal.
    o.figures = Some(figures(40_000.0, 0.002, 160.0));
    o.baseline = Some(figures(374.0, 0.0, 150.0));
    assert_eq!(at(&decide(&o, &Limits::default()), Branch::ErrorRate).verdict, NodeVerdict::Pass);
    o.baseline = Some(figures(5_000.0, 0.002, 150.0));
    o.figures = Some(figures(1_000.0, 0.008, 160.0));
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.verdict, Verdict::Watch);
    assert_eq!(at(&tree, Branch::ErrorRate).verdict, NodeVerdict::Watch);
    o.figures = Some(figures(20.0, 0.5, 160.0));
    let tree = decide(&o, &Limits::default());
    assert_eq!(
        at(&tree, Branch::ErrorRate).verdict,
        NodeVerdict::Unknown,
        "20 requests are too few to judge"
    );
}

#[test]
fn response_time_above_twice_the_baseline_rolls_back_and_slower_watches() {
    let mut o = healthy();
    o.figures = Some(figures(1_000.0, 0.002, 320.0));
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.decided_by, Some(Branch::ResponseTime));
    assert!(
        at(&tree, Branch::ResponseTime).evidence[0]
            .contains("p95 320 ms is 2.13× the baseline's 150 ms: above 2×")
    );
    o.figures = Some(figures(1_000.0, 0.002, 200.0));
    assert_eq!(at(&decide(&o, &Limits::default()), Branch::ResponseTime).verdict, NodeVerdict::Watch);
    o.baseline = None;
    let tree = decide(&o, &Limits::default());
    assert_eq!(at(&tree, Branch::ResponseTime).verdict, NodeVerdict::Unknown, "no baseline: not judged");
    assert_eq!(tree.verdict, Verdict::Watch, "what is not known is not called successful");
}

#[test]
fn the_first_branch_that_says_roll_back_decides() {
    let mut o = healthy();
    o.figures = Some(figures(1_000.0, 0.04, 900.0));
    o.service = Serving::Broken("Service shop/web selects none of the app's pods".into());
    let tree = decide(&o, &Limits::default());
    assert_eq!(tree.verdict, Verdict::Rollback);
    assert_eq!(tree.decided_by, Some(Branch::ServiceAccessible));
    assert_eq!(at(&tree, Branch::ErrorRate).verdict, NodeVerdict::Rollback, "every branch keeps its answer");
}
