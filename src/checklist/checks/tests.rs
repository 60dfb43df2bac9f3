use serde_json::{Value, json};

use super::*;
use crate::checklist::objects::Previous;
use crate::logs::{LogLine, ReadError, Sample, Unread};

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture")
}

fn at(t: &str) -> jiff::Timestamp {
    t.parse().expect("timestamp")
}

const NOW: &str = "2026-12-01T12:00:00Z";

/// A Deployment that passes everything.
fn good(name: &str, image: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}")},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "securityContext": {"runAsNonRoot": true},
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}],
                    "containers": [{
                        "name": name,
                        "image": image,
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
                        "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                        "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                        "startupProbe": {"httpGet": {"path": "/", "port": 8080}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
        "status": {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "readyReplicas": 3},
    })
}

fn rs(deployment: &str, revision: u32, image: &str, created: &str) -> Value {
    json!({
        "metadata": {
            "name": format!("{deployment}-{revision}"), "namespace": "shop", "creationTimestamp": created,
            "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment, "uid": format!("uid-{deployment}"), "controller": true}],
        },
        "spec": {"selector": {"matchLabels": {"app": deployment}}, "template": {"spec": {"containers": [{"name": deployment, "image": image}]}}},
    })
}

fn app(name: &str, deployment: Value, canary: Option<Value>, history: Vec<Value>) -> AppObjects {
    AppObjects {
        app: name.into(),
        namespace: "shop".into(),
        deployment_name: name.into(),
        deployment: Some(from(deployment)),
        canary: canary.map(from),
        replica_sets: history.into_iter().map(from).collect(),
        logs: None,
    }
}

/// Three pods' last 10 minutes read, no line an error.
fn clean_logs() -> Sample {
    Sample { minutes: 10, pods: 3, lines: 1_234, ..Sample::default() }
}

fn log_line(pod: &str, track: &'static str, time: &str, line: &str) -> LogLine {
    LogLine {
        pod: pod.into(),
        container: "web".into(),
        track,
        time: Some(at(time)),
        line: line.into(),
        error: true,
    }
}

/// An environment where every check passes.
fn healthy() -> Objects {
    let web = app(
        "web",
        good("web", "registry/web:v1.2.0"),
        Some(good("web-canary", "registry/web:v1.3.0")),
        vec![
            rs("web", 1, "registry/web:v1.1.0", "2026-10-01T00:00:00Z"),
            rs("web", 2, "registry/web:v1.2.0", "2026-11-01T00:00:00Z"),
        ],
    );
    let staging_web = app(
        "web",
        good("web", "registry/web:v1.3.0"),
        None,
        vec![rs("web", 2, "registry/web:v1.3.0", "2026-11-29T00:00:00Z")],
    );
    let web = AppObjects { logs: Some(clean_logs()), ..web };
    Objects {
        env: "production".into(),
        apps: vec![web],
        namespaces: vec![from(
            json!({"metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}),
        )],
        pdbs: vec![from(
            json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}),
        )],
        network_policies: vec![from(
            json!({"metadata": {"name": "default-deny", "namespace": "shop"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        )],
        quotas: vec![from(json!({"metadata": {"name": "q", "namespace": "shop"}, "spec": {}}))],
        limit_ranges: vec![from(
            json!({"metadata": {"name": "l", "namespace": "shop"}, "spec": {"limits": []}}),
        )],
        hpas: vec![from(
            json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 9}}),
        )],
        nodes: vec![from(
            json!({"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        )],
        nodes_error: None,
        events: Vec::new(),
        previous: Some(Previous { env: "staging".into(), apps: vec![staging_web] }),
        previous_error: None,
        logs: crate::checklist::objects::LogWindow::default(),
        now: at(NOW),
    }
}

fn item(check: &str, params: &str) -> Item {
    let text = format!("text = \"t\"\nauto = \"{check}\"\n{params}");
    toml::from_str(&text).expect("item")
}

fn run_check(check: &str, params: &str, objects: &Objects) -> Outcome {
    run(&item(check, params), objects).expect("a known check")
}

#[test]
fn every_check_passes_on_a_healthy_environment() {
    let objects = healthy();
    for (id, _) in CHECKS {
        let outcome = run_check(id, "", &objects);
        assert_eq!(outcome.status, Status::Pass, "{id}: {:#?}", outcome.evidence);
        assert!(
            outcome.evidence.iter().all(|e| !e.object.is_empty() && !e.field.is_empty()),
            "{id} names what it read"
        );
    }
}

fn failing(check: &str, params: &str, objects: &Objects) -> Vec<Evidence> {
    let outcome = run_check(check, params, objects);
    assert_eq!(outcome.status, Status::Fail, "{check} should fail: {:#?}", outcome.evidence);
    outcome.evidence.into_iter().filter(|e| e.status == Status::Fail).collect()
}

#[test]
fn workload_checks_fail_with_the_container_and_field() {
    let mut objects = healthy();
    let mut bad = good("web", "registry/web:latest");
    let c = &mut bad["spec"]["template"]["spec"]["containers"][0];
    c["resources"] = json!({"requests": {"cpu": "100m"}});
    c.as_object_mut().expect("container").remove("livenessProbe");
    c.as_object_mut().expect("container").remove("startupProbe");
    c["securityContext"] = json!({"allowPrivilegeEscalation": true, "capabilities": {"drop": ["NET_RAW"]}});
    bad["spec"]["template"]["spec"]["securityContext"] = json!({});
    bad["spec"]["template"]["spec"].as_object_mut().expect("spec").remove("topologySpreadConstraints");
    bad["spec"]["replicas"] = json!(2);
    bad["spec"]["strategy"] = json!({"type": "Recreate"});
    objects.apps[0].deployment = Some(from(bad));

    let e = failing("image-tag-pinned", "", &objects);
    assert_eq!(e[0].object, "shop/Deployment/web/container web");
    assert_eq!(e[0].field, "spec.template.spec.containers[web].image");
    assert!(e[0].detail.contains(":latest"), "{e:?}");
    assert!(
        failing("resources-set", "", &objects)[0]
            .detail
            .contains("missing requests.memory, limits.cpu, limits.memory")
    );
    assert_eq!(failing("probes", "", &objects)[0].detail, "no livenessProbe");
    failing("startup-probe", "", &objects);
    assert!(failing("replicas-min", "params = { min = 3 }", &objects)[0].detail.starts_with("2 "));
    failing("run-as-non-root", "", &objects);
    failing("no-privilege-escalation", "", &objects);
    assert_eq!(failing("capabilities-drop-all", "", &objects)[0].detail, "[NET_RAW]");
    failing("read-only-root-fs", "", &objects);
    assert!(failing("rolling-update", "", &objects)[0].detail.starts_with("Recreate"));
    failing("spread", "", &objects);
    failing("hpa", "", &{
        let mut o = healthy();
        o.hpas.clear();
        o
    });
}

#[test]
fn a_digest_pins_an_image_and_the_canary_is_checked_too() {
    let mut objects = healthy();
    objects.apps[0].deployment = Some(from(good("web", "registry/web@sha256:abc")));
    assert_eq!(run_check("image-tag-pinned", "", &objects).status, Status::Pass);
    objects.apps[0].canary = Some(from(good("web-canary", "registry/web")));
    let e = failing("image-tag-pinned", "", &objects);
    assert_eq!(
        e[0].object, "shop/Deployment/web-canary/container web-canary",
        "what is about to be deployed is checked"
    );
}

#[test]
fn budgets_are_read_as_the_disruption_controller_reads_them() {
    let mut objects = healthy();
    let pdb = |spec: Value| from(json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": spec}));
    objects.pdbs = vec![pdb(json!({"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}))];
    assert_eq!(
        run_check("pdb", "params = { min_available = 2 }", &objects).status,
        Status::Pass,
        "3 - 1 = 2"
    );
    objects.pdbs = vec![pdb(json!({"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}))];
    assert_eq!(
        run_check("pdb", "params = { min_available = 2 }", &objects).status,
        Status::Pass,
        "50% of 3, rounded up"
    );
    objects.pdbs = vec![pdb(json!({"minAvailable": "30%", "selector": {"matchLabels": {"app": "web"}}}))];
    assert!(failing("pdb", "params = { min_available = 2 }", &objects)[0].detail.contains("keeps only 1"));
    objects.pdbs = vec![pdb(json!({"minAvailable": 2, "selector": {"matchLabels": {"app": "other"}}}))];
    assert!(failing("pdb", "", &objects)[0].detail.contains("no PodDisruptionBudget selects"));
}

#[test]
fn namespace_and_cluster_checks_name_what_is_missing() {
    let mut objects = healthy();
    objects.network_policies = vec![from(
        json!({"metadata": {"name": "allow-web", "namespace": "shop"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]}}),
    )];
    objects.quotas.clear();
    objects.limit_ranges.clear();
    objects.namespaces = vec![from(
        json!({"metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}),
    )];
    objects.nodes.push(from(
        json!({"metadata": {"name": "n2"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
    ));
    assert_eq!(failing("default-deny-netpol", "", &objects)[0].object, "Namespace/shop");
    assert_eq!(failing("resource-quota", "", &objects)[0].detail, "none");
    failing("limit-range", "", &objects);
    assert!(failing("pod-security-labels", "", &objects)[0].detail.starts_with("privileged"));
    let nodes = failing("nodes-ready", "", &objects);
    assert_eq!((nodes.len(), nodes[0].object.as_str()), (1, "Node/n2"));
    objects.nodes_error = Some("forbidden".into());
    assert!(failing("nodes-ready", "", &objects)[0].detail.contains("cannot read the nodes"));
}

#[test]
fn recent_warnings_about_the_app_fail_and_older_or_other_ones_do_not() {
    let mut objects = healthy();
    let event = |name: &str, last: &str| {
        from(json!({
            "metadata": {"name": format!("{name}.1"), "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": name, "namespace": "shop"},
            "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning", "lastTimestamp": last,
        }))
    };
    objects.events = vec![
        event("web-7d9f-abcde", "2026-12-01T11:50:00Z"),
        event("web-7d9f-old", "2026-12-01T10:00:00Z"),
        event("webhook-1", "2026-12-01T11:59:00Z"),
    ];
    let e = failing("no-recent-warnings", "params = { minutes = 30 }", &objects);
    assert!(
        e[0].detail.contains("Pod/web-7d9f-abcde BackOff")
            && !e[0].detail.contains("old")
            && !e[0].detail.contains("webhook"),
        "{e:?}"
    );
}

#[test]
fn soak_reads_the_previous_environment_across_clusters() {
    let objects = healthy();
    let outcome = run_check("soak", "params = { hours = 24 }", &objects);
    assert!(outcome.evidence[0].detail.contains("v1.3.0 healthy in staging for 60h"), "{outcome:?}");
    let short = run_check("soak", "params = { hours = 72 }", &objects);
    assert!(short.status == Status::Fail && short.evidence[0].detail.contains("only 60h"));

    let mut rc = healthy();
    rc.apps[0].canary = Some(from(good("web-canary", "registry/web:v1.3.1-rc.1")));
    assert!(failing("soak", "", &rc)[0].detail.contains("v1.3.1-rc.1 is not what staging runs (v1.3.0)"));

    let mut nothing_new = healthy();
    nothing_new.apps[0].canary = None;
    nothing_new.previous.as_mut().expect("previous").apps[0] =
        app("web", good("web", "registry/web:v1.2.0"), None, Vec::new());
    assert_eq!(
        run_check("soak", "", &nothing_new).status,
        Status::NotApplicable,
        "production already runs it"
    );

    let mut first = healthy();
    first.previous = None;
    assert_eq!(run_check("soak", "", &first).status, Status::NotApplicable, "no previous environment");
    let mut unreachable = healthy();
    unreachable.previous = None;
    unreachable.previous_error = Some("staging could not be read: timed out".into());
    assert_eq!(run_check("soak", "", &unreachable).status, Status::Fail, "unknown is not soaked");
}

#[test]
fn rollback_history_counts_revisions_and_a_missing_app_is_not_applicable() {
    let mut objects = healthy();
    assert_eq!(run_check("rollback-history", "params = { min = 2 }", &objects).status, Status::Pass);
    assert!(
        failing("rollback-history", "params = { min = 3 }", &objects)[0].detail.starts_with("2 revisions")
    );
    objects.apps[0].deployment = None;
    let outcome = run_check("replicas-min", "", &objects);
    assert_eq!(outcome.status, Status::NotApplicable);
    assert_eq!(outcome.evidence[0].detail, "not deployed in production");
}

#[test]
fn clean_pod_logs_pass_with_how_much_was_read() {
    let outcome = run_check("no-log-errors", "", &healthy());
    assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
    assert_eq!(outcome.evidence.len(), 1, "{outcome:?}");
    let e = &outcome.evidence[0];
    assert_eq!(e.object, "shop/Deployment/web, web-canary and their pods");
    assert_eq!(e.field, "pods/log");
    assert_eq!(e.detail, "0 error lines in the last 10 min across 3 pods (1,234 lines)");
}

fn erroring() -> Objects {
    let mut objects = healthy();
    let long = format!("ERROR payment declined upstream: {}", "x".repeat(400));
    let mut errors = vec![
        // Outside a 10-minute window: history, not now.
        log_line("web-7d9f6c5b4-old00", "stable", "2026-12-01T11:40:00Z", "ERROR stale"),
        log_line("web-7d9f6c5b4-x7k2p", "stable", "2026-12-01T11:59:30Z", &long),
    ];
    for s in 0..6 {
        errors.push(log_line(
            "web-canary-5c4b3a291-lmd64",
            "canary",
            &format!("2026-12-01T11:59:0{s}Z"),
            &format!(r#"10.1.0.{s} - - [01/Dec/2026:11:59:0{s} +0000] "GET /cart HTTP/1.1" 500 21"#),
        ));
    }
    objects.apps[0].logs =
        Some(Sample { minutes: 10, pods: 4, lines: 5_000, capped: 1, errors, unread: Vec::new() });
    objects
}

#[test]
fn error_lines_over_the_threshold_fail_with_the_latest_lines_as_evidence() {
    let objects = erroring();
    let e = failing("no-log-errors", "", &objects);
    assert!(
        e[0].detail.starts_with(
            "7 error lines in the last 10 min across 4 pods (5,000 lines), more than the 0 allowed; by pod: lmd64 (canary) 6, x7k2p 1"
        ) && e[0].detail.contains("1 pod reached the 2,000-line limit"),
        "the stale line is outside the window: {e:?}"
    );
    let lines = &e[1..];
    assert_eq!(lines.len(), 5, "the latest five: {e:#?}");
    assert_eq!(lines[0].object, "shop/Pod/web-canary-5c4b3a291-lmd64");
    assert_eq!(lines[0].field, "pods/log");
    assert!(
        lines[0].detail.starts_with("lmd64 (canary): 10.1.0.2 - - ["),
        "oldest of them first: {lines:#?}"
    );
    assert!(lines[3].detail.contains("11:59:05"), "{lines:#?}");
    let cut = &lines[4];
    assert_eq!(cut.object, "shop/Pod/web-7d9f6c5b4-x7k2p");
    assert!(
        cut.detail.starts_with("x7k2p: ERROR payment declined")
            && cut.detail.ends_with('…')
            && cut.detail.chars().count() < 220,
        "a long line is cut: {cut:?}"
    );

    let mut read_wider = objects.clone();
    read_wider.apps[0].logs.as_mut().expect("logs").minutes = 30;
    let wider = failing("no-log-errors", "params = { minutes = 30 }", &read_wider);
    assert!(wider[0].detail.starts_with("8 error lines in the last 30 min"), "{wider:?}");
    let unread_window = run_check("no-log-errors", "params = { minutes = 30 }", &objects);
    assert!(
        unread_window.evidence[0].detail.starts_with("7 error lines in the last 10 min"),
        "no more than was read is claimed: {unread_window:?}"
    );

    let within = run_check("no-log-errors", "params = { max_errors = 7 }", &objects);
    assert_eq!(within.status, Status::Pass, "{within:?}");
    assert!(within.evidence[0].detail.contains("within the 7 allowed"), "{within:?}");
    assert_eq!(within.evidence.len(), 1, "lines are shown only past the threshold");
}

#[test]
fn a_log_that_cannot_be_read_fails_and_one_with_nothing_yet_does_not() {
    let mut objects = healthy();
    let unread = |pod: &str, why| Unread { pod: pod.into(), why };
    objects.apps[0].logs = Some(Sample {
        unread: vec![
            unread(
                "web-7d9f6c5b4-x7k2p",
                ReadError::Forbidden("pods \"web-7d9f6c5b4-x7k2p\" is forbidden".into()),
            ),
            unread(
                "web-7d9f6c5b4-q2w3e",
                ReadError::Unreachable("web-7d9f6c5b4-q2w3e: no answer within 10s".into()),
            ),
        ],
        ..clean_logs()
    });
    let e = failing("no-log-errors", "", &objects);
    assert!(
        e[0].detail.contains("the log of 2 pods could not be read, so its errors are unknown"),
        "no errors seen is not no errors: {e:?}"
    );
    assert_eq!(e[1].object, "shop/Pod/web-7d9f6c5b4-x7k2p");
    assert!(e[1].detail.starts_with("cannot read its log: forbidden: "), "{e:?}");
    assert!(e[2].detail.contains("no answer within 10s"), "{e:?}");

    objects.apps[0].logs = Some(Sample {
        unread: vec![unread(
            "web-7d9f6c5b4-n3w00",
            ReadError::Unavailable("waiting to start: ContainerCreating".into()),
        )],
        ..clean_logs()
    });
    let outcome = run_check("no-log-errors", "", &objects);
    assert_eq!(outcome.status, Status::Pass, "a starting pod wrote no errors: {outcome:?}");
    assert_eq!(outcome.evidence[1].status, Status::NotApplicable);
    assert_eq!(outcome.evidence[1].detail, "no log to read: waiting to start: ContainerCreating");

    objects.apps[0].logs = Some(Sample {
        unread: vec![unread("*", ReadError::Forbidden("pods is forbidden".into()))],
        ..Sample::default()
    });
    failing("no-log-errors", "", &objects);
    objects.apps[0].logs = None;
    assert_eq!(run_check("no-log-errors", "", &objects).status, Status::NotApplicable, "not read");
    objects.apps[0].deployment = None;
    objects.apps[0].logs = Some(Sample::default());
    let outcome = run_check("no-log-errors", "", &objects);
    assert_eq!(outcome.evidence[0].detail, "not deployed in production", "{outcome:?}");
}

#[test]
fn the_log_window_comes_from_the_config_and_the_widest_item() {
    let config: crate::config::Config =
        toml::from_str("[logs]\nchecklist_minutes = 15\nchecklist_max_errors = 2\n").expect("config");
    let checklist = |items: &str| {
        crate::checklist::model::parse(
            "c.toml",
            &format!("name = \"c\"\n[[sections]]\ntitle = \"s\"\n{items}"),
        )
        .expect("checklist")
    };
    let two = checklist(
        "[[sections.items]]\ntext = \"a\"\nauto = \"no-log-errors\"\n[[sections.items]]\ntext = \"b\"\nauto = \"no-log-errors\"\nparams = { minutes = 45 }\n",
    );
    let window = log_window(&two, &config, 500).expect("an item reads logs");
    assert_eq!((window.minutes, window.max_errors, window.read_minutes, window.tail_lines), (15, 2, 45, 500));
    let none = checklist("[[sections.items]]\ntext = \"a\"\nauto = \"nodes-ready\"\n");
    assert_eq!(log_window(&none, &config, 500), None, "no item reads logs: none are read");

    // An item without params takes the config's defaults.
    let mut objects = erroring();
    objects.logs = window;
    objects.apps[0].logs.as_mut().expect("logs").minutes = 45;
    let outcome = run_check("no-log-errors", "", &objects);
    assert!(outcome.evidence[0].detail.starts_with("7 error lines in the last 15 min"), "{outcome:?}");
    assert!(outcome.evidence[0].detail.contains("more than the 2 allowed"), "{outcome:?}");
}
