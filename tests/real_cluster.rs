//! The real-cluster tier: opsdeck against real Kubernetes API servers, named by
//! `OPSDECK_E2E_KUBECONFIG` (contexts `local`, `staging`, `production` and their `-readonly`
//! twins). CI runs it against the rig in `../shared/k8s-rig/` (three v1.28.7 control planes with
//! kwok); on a developer's machine it runs against kind or k3d the same way. Without the
//! variable every test here is listed as ignored, with the reason.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "real_cluster/conformance.rs"]
mod conformance;
#[path = "common/fleet.rs"]
mod fleet;
#[path = "common/real.rs"]
mod real;
#[path = "common/tty.rs"]
mod tty;

mod tier {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};

    use super::real::{self, Real, canary_ingress, deployment, ingress_weight, text};

    const STABLE: &str = "registry.example.com/e2e/web:v1.0.0";
    const CANARY: &str = "registry.example.com/e2e/web:v1.1.0";

    /// The `web` app: stable, its canary, and the canary Ingress at 10%.
    fn web() -> Vec<Value> {
        vec![
            deployment("web", "web", "stable", 3, STABLE),
            deployment("web-canary", "web", "canary", 1, CANARY),
            canary_ingress(10),
        ]
    }

    fn json_of(out: &std::process::Output) -> Value {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}", text(out)))
    }

    fn engine(real: &Real, config: &Path) -> opsdeck::engine::Engine {
        let fleet = opsdeck::config::Fleet::resolve(opsdeck::config::load(config).expect("config"));
        let data_dir = real.dir.path().join("data/opsdeck");
        opsdeck::engine::Engine::new(opsdeck::engine::Setup {
            fleet: Arc::new(fleet),
            kubeconfig: kube::config::Kubeconfig::read_from(&real.kubeconfig).map_err(|e| e.to_string()),
            readonly: false,
            audit: opsdeck::audit::AuditLog::open(&data_dir).map_err(|e| e.to_string()),
            webhook: None,
            data_dir,
            analysis: opsdeck::engine::Analysis::Measure,
            say: None,
        })
    }

    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn status_reads_every_environment() {
        let real = Real::start("status", &web());
        for context in real::CONTEXTS {
            real.rolled_out(context, "web");
        }
        let out = real.opsdeck(&["status", "--json"]);
        let status = json_of(&out);
        let envs = status["environments"].as_array().expect("environments");
        assert_eq!(envs.len(), 3, "{status:#}");
        for env in envs {
            assert_eq!(env["reachable"], true, "{env:#}");
            assert!(env["server_version"].as_str().is_some_and(|v| v.starts_with("v1.")), "{env:#}");
            let web = env["health"]["apps"]
                .as_array()
                .and_then(|a| a.iter().find(|a| a["app"] == "web"))
                .expect("web");
            assert_eq!(web["version"], "v1.0.0", "{web:#}");
            assert_eq!(web["replicas"]["available"], 3, "{web:#}");
            assert_eq!(web["rollout"]["state"], "complete", "{web:#}");
        }
        let production = &envs[2];
        assert_eq!(production["health"]["apps"][0]["canary"]["weight"], 10, "{production:#}");
    }

    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn a_canary_step_carries_its_precondition() {
        let real = Real::start("canary", &web());
        real.rolled_out("production", "web-canary");
        // No metrics on the rig: the analysis has no data, and more traffic needs an override.
        let out = real.opsdeck(&[
            "canary",
            "step",
            "--env",
            "production",
            "--app",
            "web",
            "--yes",
            "--reason",
            "e2e",
            "--override",
            "no request metrics on this cluster",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(ingress_weight(&real.get("production", "ingress", "web-canary")), "25");

        // Prepared, then the Ingress changes behind opsdeck's back: the server answers 409.
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let engine = engine(&real, &real.config);
            let ask = opsdeck::engine::Ask::Canary(opsdeck::ops::CanaryRequest::Set(50));
            let prepared = engine
                .prepare(opsdeck::engine::Request::new("production", "web", ask))
                .await
                .expect("prepared");
            real.ok(
                "production",
                &[
                    "annotate",
                    "--overwrite",
                    "ingress",
                    "web-canary",
                    "nginx.ingress.kubernetes.io/canary-weight=40",
                ],
            );
            let answer = opsdeck::engine::Answer {
                confirmed: true,
                reason: Some("e2e".into()),
                override_reason: Some("no metrics".into()),
                take_over: false,
            };
            let report = engine.execute(&prepared, &answer, |_| {}).await.expect("answered");
            let error = report.error.expect("a conflict");
            assert_eq!(opsdeck::commands::write::op_exit(&error) as u8, 3, "{error}");
            assert!(report.message.contains("the canary is at 40%"), "what is true now: {}", report.message);
        });
        assert_eq!(ingress_weight(&real.get("production", "ingress", "web-canary")), "40", "theirs stands");
    }

    /// Two identical Deployments with three revisions each, in `local`.
    fn twins(real: &Real) {
        for name in ["web-a", "web-b"] {
            for (i, tag) in ["v1.0.0", "v1.1.0", "v1.2.0"].iter().enumerate() {
                let mut d =
                    deployment(name, name, "stable", 2, &format!("registry.example.com/e2e/web:{tag}"));
                d["metadata"]["annotations"]["kubernetes.io/change-cause"] =
                    json!(format!("release {tag} ({i})"));
                real.apply("local", &d);
                real.rolled_out("local", name);
            }
        }
    }

    /// What a rollback leaves: the pod template and the annotations, with the twin's own name
    /// taken out.
    fn rolled_back(d: &Value) -> (Value, Value) {
        let name = d["metadata"]["name"].as_str().expect("name").to_owned();
        let normalize =
            |v: &Value| serde_json::from_str::<Value>(&v.to_string().replace(&name, "NAME")).expect("json");
        let mut annotations = d["metadata"]["annotations"].clone();
        if let Some(map) = annotations.as_object_mut() {
            map.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
        (normalize(&d["spec"]["template"]), normalize(&annotations))
    }

    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn a_rollback_is_what_kubectl_rollout_undo_does() {
        let real = Real::start("rollback", &[]);
        twins(&real);
        let config = real.dir.path().join("local.toml");
        std::fs::write(
            &config,
            format!(
                "[[environments]]\nname = \"local\"\ncontext = \"local\"\nnamespaces = [\"{}\"]\nprotection = \"none\"\n[environments.metrics]\nsource = \"none\"\n\n[[apps]]\nname = \"b\"\ndeployment = \"web-b\"\nlabels = {{ app = \"web-b\" }}\n",
                real.ns
            ),
        )
        .expect("config");
        real.ok("local", &["rollout", "undo", "deployment/web-a", "--to-revision=1"]);
        let out =
            real.opsdeck_with(&config, &["rollback", "--env", "local", "--app", "b", "--to-revision", "1"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        real.rolled_out("local", "web-a");
        let (a, b) = (real.get("local", "deployment", "web-a"), real.get("local", "deployment", "web-b"));
        assert_eq!(rolled_back(&a), rolled_back(&b), "the same template and annotations");
        let revision = |d: &Value| d["metadata"]["annotations"]["deployment.kubernetes.io/revision"].clone();
        assert_eq!(revision(&a), json!("4"), "{a:#}");
        assert_eq!(revision(&b), json!("4"), "Kubernetes renumbered both the same: {b:#}");
        assert!(
            b["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .is_some_and(|i| i.ends_with(":v1.0.0"))
        );
    }

    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn restart_pause_and_resume_are_written_and_verified() {
        let real = Real::start("operate", &web());
        real.rolled_out("staging", "web");
        let write = |verb: &str| {
            real.opsdeck(&[verb, "--env", "staging", "--app", "web", "--yes", "--reason", "e2e"])
        };
        let out = write("restart");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let web = real.get("staging", "deployment", "web");
        assert!(
            web.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt").is_some(),
            "{web:#}"
        );
        let out = write("pause");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(real.get("staging", "deployment", "web")["spec"]["paused"], true);
        let out = write("resume");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_ne!(real.get("staging", "deployment", "web")["spec"]["paused"], true);
        let results: Vec<Value> = real.audit().into_iter().filter(|r| r["phase"] == "result").collect();
        assert_eq!(results.len(), 3, "{results:#?}");
        assert!(
            results.iter().all(|r| r["outcome"] == "done" && r["user"] == "staging-admin"),
            "{results:#?}"
        );
    }

    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn read_only_and_forbidden_verbs_send_no_write() {
        let real = Real::start("forbidden", &web());
        let viewer = real.dir.path().join("viewer.toml");
        std::fs::write(
            &viewer,
            real.default_config().replace("context = \"production\"", "context = \"production-readonly\""),
        )
        .expect("config");
        // The access review says no before anything is asked.
        let out = real.opsdeck_with(&viewer, &["pause", "--env", "production", "--app", "web"]);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out));
        assert!(text(&out).contains("not allowed to patch deployments"), "{}", text(&out));
        // --readonly: no write client at all.
        let out = real.opsdeck(&["--readonly", "pause", "--env", "staging", "--app", "web", "--yes"]);
        assert_eq!(out.status.code(), Some(4), "{}", text(&out));
        assert!(text(&out).contains("read-only"), "{}", text(&out));
        assert!(real.audit().is_empty(), "nothing was attempted");
        // And the server's own 403, for a write the review was not asked about.
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let refused = runtime.block_on(async {
            let kubeconfig = kube::config::Kubeconfig::read_from(&real.kubeconfig).expect("kubeconfig");
            let clients = opsdeck::cluster::connect(
                kubeconfig,
                "production-readonly",
                opsdeck::cluster::ConnectTimeouts::default(),
                false,
            )
            .await
            .expect("clients");
            let target = opsdeck::ops::Target {
                env: "production".into(),
                context: "production-readonly".into(),
                namespace: real.ns.clone(),
                kind: opsdeck::ops::Kind::Deployment,
                name: "web".into(),
            };
            let object =
                opsdeck::cluster::ops::fetch(&clients.read, &target).await.expect("the viewer may read");
            let place = opsdeck::ops::Place {
                env: "production",
                context: "production-readonly",
                app: "web",
                protection: opsdeck::config::Protection::Typed,
            };
            let plan = opsdeck::ops::pause(&place, &object).expect("plan");
            let write = clients.write.expect("a write client");
            opsdeck::cluster::ops::execute(&write, &plan.steps[0]).await.expect_err("forbidden")
        });
        assert!(matches!(refused, opsdeck::cluster::ops::OpError::Forbidden(_)), "{refused}");
        assert_eq!(opsdeck::commands::write::op_exit(&refused) as u8, 4);
        assert_ne!(real.get("production", "deployment", "web")["spec"]["paused"], true);
    }

    /// The admission API version the cluster serves for ValidatingAdmissionPolicy.
    fn admission_version(real: &Real) -> &'static str {
        let versions = real.ok("staging", &["api-versions"]);
        if versions.lines().any(|v| v == "admissionregistration.k8s.io/v1") && !versions.contains("v1beta1") {
            "admissionregistration.k8s.io/v1"
        } else if versions.lines().any(|v| v == "admissionregistration.k8s.io/v1beta1") {
            "admissionregistration.k8s.io/v1beta1"
        } else {
            "admissionregistration.k8s.io/v1"
        }
    }

    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn a_dry_run_refused_by_admission_is_shown_before_anything_is_written() {
        let real = Real::start("admission", &web());
        real.rolled_out("staging", "web");
        // Pod Security admission enforces on pods, not templates; a policy the way a platform
        // team freezes a namespace refuses the template change on the Deployment itself.
        let version = admission_version(&real);
        let policy = format!("opsdeck-e2e-freeze-{}", real.ns);
        let ns = real.ns.clone();
        let cluster_objects = [
            json!({"apiVersion": version, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": policy},
                "spec": {"failurePolicy": "Fail",
                    "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments"]}]},
                    "validations": [{"expression": "object.spec.template == oldObject.spec.template", "message": "change freeze: pod templates are frozen in this namespace"}]}}),
            json!({"apiVersion": version, "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": policy},
                "spec": {"policyName": policy, "validationActions": ["Deny"],
                    "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}}),
        ];
        for object in &cluster_objects {
            real.apply("staging", object);
        }
        // The policy takes a moment to be enforced.
        Real::eventually("the freeze enforced", Duration::from_secs(30), || {
            let out = real.kubectl(
                "staging",
                &[
                    "patch",
                    "deployment",
                    "web",
                    "--dry-run=server",
                    "-p",
                    r#"{"spec":{"template":{"metadata":{"annotations":{"probe":"1"}}}}}"#,
                ],
            );
            !out.status.success()
        });
        let out = real.opsdeck(&["restart", "--env", "staging", "--app", "web", "--yes", "--reason", "e2e"]);
        for object in &cluster_objects {
            let kind = object["kind"].as_str().unwrap_or_default();
            let _ = real.kubectl("staging", &["delete", kind, &policy]);
        }
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("change freeze"), "the server's reason: {}", text(&out));
        assert!(real.audit().is_empty(), "refused before any record of an attempt");
        let web = real.get("staging", "deployment", "web");
        assert!(
            web.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt").is_none()
        );
    }

    /// A request counter of the API server, summed over its series matching `labels`.
    fn requests(real: &Real, context: &str, labels: &[&str]) -> f64 {
        let metrics = real.ok(context, &["get", "--raw", "/metrics"]);
        metrics
            .lines()
            .filter(|l| l.starts_with("apiserver_request_total{") && labels.iter().all(|m| l.contains(m)))
            .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
            .sum()
    }

    #[test]
    #[ignore = "needs a real cluster and a way to restart one API server: OPSDECK_E2E_KUBECONFIG, OPSDECK_E2E_BOUNCE"]
    fn watches_recover_after_the_api_server_restarts_without_a_list_storm() {
        let bounce = std::env::var("OPSDECK_E2E_BOUNCE")
            .expect("OPSDECK_E2E_BOUNCE: a command that stops production's API server and starts it again");
        let real = Real::start_alone("recovery", &web());
        real.rolled_out("production", "web");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let fleet = opsdeck::config::Fleet::resolve(opsdeck::config::load(&real.config).expect("config"));
            let data_dir = real.dir.path().join("data/opsdeck");
            let mut console = opsdeck::console::Console::start(opsdeck::console::Setup {
                fleet: Arc::new(fleet),
                files: opsdeck::console::Files {
                    data_dir: data_dir.clone(),
                    config_file: real.config.clone(),
                },
                kubeconfig: kube::config::Kubeconfig::read_from(&real.kubeconfig).map_err(|e| e.to_string()),
                readonly: false,
                audit: opsdeck::audit::AuditLog::open(&data_dir).map_err(|e| e.to_string()),
                webhook: None,
                demo: false,
            });
            let production =
                |s: &opsdeck::app::State| s.envs.iter().find(|e| e.name == "production").cloned();
            until(&mut console, "production synced", |s| production(s).is_some_and(|e| e.snapshot.is_some()))
                .await;
            let bounced = tokio::process::Command::new("sh").arg("-c").arg(&bounce).spawn().expect("bounce");
            until(&mut console, "production unreachable", |s| {
                production(s)
                    .is_some_and(|e| matches!(e.connection, opsdeck::app::Connection::Unreachable { .. }))
            })
            .await;
            let status = bounced.wait_with_output().await.expect("bounce ran");
            assert!(status.status.success(), "{bounce}: {}", text(&status));
            until(&mut console, "production answers again", |s| {
                production(s)
                    .is_some_and(|e| matches!(e.connection, opsdeck::app::Connection::Reachable { .. }))
            })
            .await;
            // A change after the restart shows without restarting opsdeck: the watches resumed.
            real.ok("production", &["scale", "deployment", "web", "--replicas=2"]);
            until(&mut console, "the change after the restart", |s| {
                production(s).and_then(|e| e.snapshot.clone()).is_some_and(|snap| {
                    snap.stale.is_none()
                        && snap.health.apps.iter().any(|a| a.app == "web" && a.replicas.desired == 2)
                })
            })
            .await;
        });
        // Since the restart: the garbage collector's one cluster-wide list, and opsdeck's in its
        // namespace (the namespace controller's, for the other tests' namespaces, are over by
        // the time this test starts).
        let lists = requests(&real, "production", &["verb=\"LIST\"", "resource=\"ingresses\""]);
        let series = real.ok("production", &["get", "--raw", "/metrics"]);
        let series: Vec<&str> = series
            .lines()
            .filter(|l| l.starts_with("apiserver_request_total{") && l.contains("resource=\"ingresses\""))
            .collect();
        assert!(
            lists <= 3.0,
            "{lists} lists of Ingresses since the restart: a list storm\n{}",
            series.join("\n")
        );
    }

    async fn until(
        console: &mut opsdeck::console::Console,
        what: &str,
        done: impl Fn(&opsdeck::app::State) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !done(&console.state) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{what}: not in time; notice {:?}", console.state.notice);
            let _ = tokio::time::timeout(left.min(Duration::from_secs(1)), console.step()).await;
        }
    }

    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn an_operator_steps_a_canary_from_the_console_in_a_terminal() {
        use super::tty::{ENTER, TAB, Tty};
        let real = Real::start("console", &web());
        for context in real::CONTEXTS {
            real.rolled_out(context, "web");
        }
        let mut command = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        command.arg("--config");
        command.arg(&real.config);
        command.arg("--kubeconfig");
        command.arg(&real.kubeconfig);
        command.env("XDG_DATA_HOME", real.dir.path().join("data"));
        command.env("XDG_STATE_HOME", real.dir.path().join("state"));
        command.env("TERM", "xterm-256color");
        let mut tty = Tty::spawn(command, 45, 160);
        tty.until("three columns with their data", Duration::from_secs(60), |s| {
            s.contains("production") && s.contains("v1.28") && s.matches("v1.0.0").count() >= 3
        });
        tty.send("ll");
        tty.send("c");
        tty.wait_for("Canary production/web");
        tty.send("s");
        tty.wait_for("Type production/web to confirm");
        tty.typed("production/web");
        tty.send(TAB);
        tty.typed("e2e on real servers, no metrics here");
        tty.send(ENTER);
        tty.until("the step done", Duration::from_secs(60), |s| s.contains("done"));
        assert_eq!(ingress_weight(&real.get("production", "ingress", "web-canary")), "25");
        tty.send("\x1b");
        tty.send("\x1b");
        tty.send("q");
        assert_eq!(tty.exit_code(Duration::from_secs(10)), 0);
    }

    /// Argo Rollouts' CRD as the chart installs it, reduced to what the API server needs to
    /// serve the kind and its status subresource.
    fn rollout_crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "rollouts.argoproj.io"},
            "spec": {
                "group": "argoproj.io",
                "names": {"kind": "Rollout", "listKind": "RolloutList", "plural": "rollouts", "singular": "rollout", "shortNames": ["ro"]},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1alpha1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                    "subresources": {"status": {}},
                }],
            },
        })
    }

    /// The guard on a real control plane: the real EndpointSlice controller's slices answer
    /// "Service accessible?", kwok's crash loop answers "Pods starting?", and the guard's
    /// rollback is a real rollout back.
    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn the_guard_passes_a_healthy_release_and_rolls_back_a_crash() {
        let mut web = deployment("web", "web", "stable", 2, STABLE);
        web["spec"]["template"]["spec"]["containers"][0]["ports"] =
            json!([{"name": "http", "containerPort": 8080}]);
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web", "track": "stable"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}});
        // The rig runs no EndpointSlice controller (its pod IPs are loopback addresses, which the
        // API server refuses in endpoints): the slice is written as the controller would, with
        // addresses nothing dials, and the real API server stores and serves it.
        let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-e2e", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.1.1"], "conditions": {"ready": true}},
                {"addresses": ["10.244.1.2"], "conditions": {"ready": true}}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]});
        let real = Real::start("guard", &[web, service, slice]);
        real.rolled_out("local", "web");
        let guard = |period: &str| {
            real.opsdeck(&[
                "guard",
                "--env",
                "local",
                "--app",
                "web",
                "--for",
                period,
                "--rollback",
                "--yes",
                "--reason",
                "e2e",
                "--json",
            ])
        };

        real.ok("local", &["set", "image", "deployment/web", "web=registry.example.com/e2e/web:v1.1.0"]);
        let out = guard("40s");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let report = json_of(&out);
        let service = report["tree"]["nodes"][2].clone();
        assert_eq!(service["verdict"], "pass", "{report:#}");
        assert_eq!(
            service["evidence"][0],
            "Service {ns}/web: 2 ready endpoints".replace("{ns}", &real.ns),
            "{report:#}"
        );
        assert_eq!(report["metrics"], "off for this environment (source = \"none\")", "{report:#}");

        real.ok(
            "local",
            &["set", "image", "deployment/web", "web=registry.example.com/e2e/web:v1.2.0-crash"],
        );
        let out = guard("10m");
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let report = json_of(&out);
        assert_eq!(report["tree"]["decided_by"], "pods-starting", "{report:#}");
        assert_eq!(report["rollback"]["outcome"], "done", "{report:#}");
        let image =
            real.get("local", "deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
                .clone();
        assert_eq!(image, "registry.example.com/e2e/web:v1.1.0", "back on the release that passed");
        let automatic: Vec<Value> = real.audit().into_iter().filter(|r| r["automatic"] == "guard").collect();
        assert_eq!(automatic.len(), 2, "the rollback's intent and result: {automatic:#?}");
    }

    /// No rollouts controller runs on the rig: what this checks is that opsdeck's writes reach a
    /// real API server where they should — the status subresource for the operator's word,
    /// the object for `spec.paused` — with their preconditions, and read back as stored.
    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn an_argo_rollout_is_written_through_its_status_subresource() {
        let real = Real::start("argo", &[]);
        real.apply("staging", &rollout_crd());
        real.ok(
            "staging",
            &["wait", "--for=condition=established", "crd/rollouts.argoproj.io", "--timeout=60s"],
        );
        let template = deployment("pay", "pay", "stable", 2, STABLE)["spec"].clone();
        let rollout = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "pay"},
            "spec": {
                "replicas": 2, "selector": template["selector"], "template": template["template"],
                "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 100}]}},
            },
        });
        real.apply("staging", &rollout);
        let status = json!({"status": {"stableRS": "aaa", "currentPodHash": "bbb", "currentStepIndex": 1, "phase": "Paused",
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-12-03T10:00:00Z"}],
            "canary": {"weights": {"canary": {"weight": 20}}}}});
        real.ok(
            "staging",
            &[
                "patch",
                "rollouts.argoproj.io",
                "pay",
                "--subresource=status",
                "--type=merge",
                "-p",
                &status.to_string(),
            ],
        );
        real.write_config(&format!(
            "[[environments]]\nname = \"staging\"\ncontext = \"staging\"\nnamespaces = [\"{}\"]\nprotection = \"confirm\"\n[environments.metrics]\nsource = \"none\"\n\n[[apps]]\nname = \"pay\"\ndeployment = \"pay\"\n",
            real.ns
        ));
        let status = json_of(&real.opsdeck(&["status", "--env", "staging", "--json"]));
        let pay = &status["environments"][0]["health"]["apps"][0];
        assert_eq!(
            (pay["controller"]["kind"].as_str(), pay["controller"]["weight"].as_u64()),
            (Some("argo-rollouts"), Some(20)),
            "{pay:#}"
        );
        let run = |verb: &str| {
            real.opsdeck(&["canary", verb, "--env", "staging", "--app", "pay", "--yes", "--reason", "e2e"])
        };
        let step = run("step");
        assert_eq!(step.status.code(), Some(3), "{}", text(&step));

        let abort = run("abort");
        assert_eq!(abort.status.code(), Some(0), "{}", text(&abort));
        let stored = real.get("staging", "rollouts.argoproj.io", "pay");
        assert_eq!(stored["status"]["abort"], true, "{stored:#}");
        assert_eq!(stored["status"]["currentStepIndex"], 1, "the rest of status as it was");
        let retry = run("retry");
        assert_eq!(retry.status.code(), Some(0), "{}", text(&retry));
        assert_ne!(real.get("staging", "rollouts.argoproj.io", "pay")["status"]["abort"], true);
        let pause = run("pause");
        assert_eq!(pause.status.code(), Some(0), "{}", text(&pause));
        assert_eq!(real.get("staging", "rollouts.argoproj.io", "pay")["spec"]["paused"], true);

        let outcomes: Vec<(String, String)> = real
            .audit()
            .iter()
            .filter(|r| r["phase"] == "result")
            .map(|r| {
                (
                    r["operation"].as_str().unwrap_or("").to_owned(),
                    r["outcome"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let done = |op: &str| (op.to_owned(), "done".to_owned());
        assert_eq!(outcomes, [done("controller-abort"), done("controller-retry"), done("controller-pause")]);
    }
    /// The team's records on a real API server: `cluster-setup` installs the admission policy
    /// (v1beta1 on 1.28), opsdeck's own records land as immutable ConfigMaps, and the server
    /// itself refuses a record claiming another writer, an edit of a record, and an approval by
    /// the request's own requester.
    #[test]
    #[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
    fn the_server_holds_the_teams_records_to_their_writers() {
        let real = Real::start("team", &web());
        let team = format!("{}-team", real.ns);
        real.write_config(&format!("{}\n[team]\nnamespace = \"{team}\"\n", real.default_config()));
        let setup = real.opsdeck(&["cluster-setup", "--env", "production", "--yes"]);
        assert_eq!(setup.status.code(), Some(0), "{}", text(&setup));
        assert!(
            text(&setup).contains("applied ValidatingAdmissionPolicy opsdeck-records"),
            "{}",
            text(&setup)
        );
        let in_team = |args: &[&str]| {
            std::process::Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&real.kubeconfig)
                .args(["--context", "production", "-n", &team])
                .args(args)
                .output()
                .expect("kubectl")
        };
        real.rolled_out("production", "web");
        let restart =
            real.opsdeck(&["restart", "--env", "production", "--app", "web", "--yes", "--reason", "e2e"]);
        assert_eq!(restart.status.code(), Some(0), "{}", text(&restart));
        let user = real.audit()[0]["user"].as_str().expect("the server's name for us").to_owned();
        Real::eventually("both records in the cluster", Duration::from_secs(30), || {
            let out = in_team(&["get", "configmaps", "-l", "opsdeck.dev/record=audit", "-o", "json"]);
            let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            let items = list["items"].as_array().cloned().unwrap_or_default();
            items.len() == 2 && items.iter().all(|i| i["immutable"] == true)
        });

        let record = |name: &str, kind: &str, user: &str, requester: Option<&str>| {
            let mut annotations = json!({"opsdeck.dev/user": user});
            if let Some(r) = requester {
                annotations["opsdeck.dev/requester"] = json!(r);
            }
            json!({"apiVersion": "v1", "kind": "ConfigMap", "immutable": true,
                "metadata": {"name": name, "namespace": team, "annotations": annotations,
                    "labels": {"app.kubernetes.io/managed-by": "opsdeck", "opsdeck.dev/record": kind}},
                "data": {"record.json": "{}"}})
        };
        let create = |object: &Value| {
            let path = real.dir.path().join("record.json");
            std::fs::write(&path, object.to_string()).expect("write");
            in_team(&["create", "-f", path.to_str().expect("path")])
        };
        // The policy takes a moment to be in force after it is created.
        Real::eventually("a forged writer refused by the server", Duration::from_secs(30), || {
            let out = create(&record("opsdeck-audit-forged", "audit", "mallory", None));
            !out.status.success() && text(&out).contains("must name")
        });
        let own = create(&record("opsdeck-request-e2e", "request", &user, None));
        assert!(own.status.success(), "a record naming its writer is admitted: {}", text(&own));
        let self_approval = create(&record("opsdeck-approval-e2e", "approval", &user, Some(&user)));
        assert!(
            text(&self_approval).contains("cannot be answered by the user who made it"),
            "{}",
            text(&self_approval)
        );
        let edit = in_team(&[
            "patch",
            "configmap",
            "opsdeck-request-e2e",
            "--type=merge",
            "-p",
            r#"{"data":{"record.json":"{\"x\":1}"}}"#,
        ]);
        assert!(!edit.status.success(), "a record is never edited: {}", text(&edit));
        assert!(
            text(&edit).contains("immutable") || text(&edit).contains("only by an administrator"),
            "{}",
            text(&edit)
        );
        let approvals = real.opsdeck(&["approvals", "--env", "production", "--all", "--json"]);
        assert_eq!(approvals.status.code(), Some(0), "{}", text(&approvals));
        // Labelled like the tier's own, so a test that measures the servers alone waits for the
        // namespace controller to be done with it.
        let _ = in_team(&["label", "namespace", &team, "opsdeck-e2e=true"]);
        let _ = in_team(&["delete", "namespace", &team, "--wait=false"]);
    }
}
