//! A real cluster for the test tier: whatever `OPSDECK_E2E_KUBECONFIG` names (contexts
//! `local`, `staging`, `production` and their `-readonly` twins; CI starts the rig in
//! `../shared/k8s-rig/`, a developer may point it at kind or k3d). Each test makes namespaces of
//! its own in every cluster, writes an opsdeck config for them, and removes them when done.

// Test helpers fail by panicking, like the tests that call them; not every test uses each.
#![allow(clippy::panic, dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const CONTEXTS: [&str; 3] = ["local", "staging", "production"];

/// The tests of the tier share the servers; one that stops a server (the watch recovery test)
/// has them to itself, so no other test sees the outage or adds to its request counts.
static SERVERS: RwLock<()> = RwLock::new(());

enum Turn {
    /// On a cluster no other test stops (the demo fleet).
    Own,
    Shared(RwLockReadGuard<'static, ()>),
    Alone(RwLockWriteGuard<'static, ()>),
}

pub struct Real {
    _turn: Turn,
    pub kubeconfig: PathBuf,
    /// This test's namespace, the same name in every cluster.
    pub ns: String,
    pub dir: tempfile::TempDir,
    /// The opsdeck config for the three environments in `ns`.
    pub config: PathBuf,
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A Deployment of the tier: pods that pass Pod Security `restricted`, as a real staging or
/// production namespace asks.
pub fn deployment(name: &str, app: &str, track: &str, replicas: u32, image: &str) -> Value {
    let labels = json!({"app": app, "track": track});
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels, "annotations": {"kubernetes.io/change-cause": format!("release {image}")}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": app,
                        "image": image,
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
    })
}

impl Real {
    /// The cluster named by `OPSDECK_E2E_KUBECONFIG`, with namespace `opsdeck-e2e-<test>-…` made
    /// in every context and holding `objects` (applied in each cluster).
    pub fn start(test: &str, objects: &[Value]) -> Self {
        let kubeconfig = PathBuf::from(
            std::env::var("OPSDECK_E2E_KUBECONFIG")
                .expect("OPSDECK_E2E_KUBECONFIG names a kubeconfig with contexts local, staging, production"),
        );
        let turn = Turn::Shared(SERVERS.read().unwrap_or_else(PoisonError::into_inner));
        Self::start_with(turn, kubeconfig, test, objects)
    }

    /// As [`Real::start`], once every other test of the tier is done with the servers.
    pub fn start_alone(test: &str, objects: &[Value]) -> Self {
        let turn = Turn::Alone(SERVERS.write().unwrap_or_else(PoisonError::into_inner));
        let kubeconfig =
            PathBuf::from(std::env::var("OPSDECK_E2E_KUBECONFIG").expect("OPSDECK_E2E_KUBECONFIG"));
        // The tests before it deleted their namespaces without waiting; the namespace controller
        // lists every kind in a namespace it empties, which would count as this test's requests.
        for context in CONTEXTS {
            Self::eventually("the other tests' namespaces gone", Duration::from_secs(180), || {
                let out = Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&kubeconfig)
                    .args(["--context", context, "get", "namespaces", "-l", "opsdeck-e2e=true"])
                    .args(["-o", "jsonpath={.items[*].status.phase}"])
                    .output()
                    .expect("kubectl");
                out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("Terminating")
            });
        }
        Self::start_with(turn, kubeconfig, test, objects)
    }

    /// The same on the clusters `kubeconfig` names (the conformance test runs it on the demo
    /// fleet too).
    pub fn start_on(kubeconfig: PathBuf, test: &str, objects: &[Value]) -> Self {
        Self::start_with(Turn::Own, kubeconfig, test, objects)
    }

    fn start_with(turn: Turn, kubeconfig: PathBuf, test: &str, objects: &[Value]) -> Self {
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let ns = format!("opsdeck-e2e-{test}-{}", stamp % 1_000_000);
        let dir = tempfile::tempdir().expect("tempdir");
        let real = Self { _turn: turn, config: dir.path().join("opsdeck.toml"), kubeconfig, ns, dir };
        for context in CONTEXTS {
            let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": real.ns,
                "labels": {"opsdeck-e2e": "true", "pod-security.kubernetes.io/enforce": "restricted"}}});
            real.apply(context, &namespace);
            for object in objects {
                real.apply(context, object);
            }
        }
        real.write_config(&real.default_config());
        real
    }

    /// Three environments in this test's namespace; the `web` app, its canary in production.
    pub fn default_config(&self) -> String {
        let ns = &self.ns;
        let mut text = String::new();
        for (env, protection) in [("local", "none"), ("staging", "confirm"), ("production", "typed")] {
            let _ = write!(
                text,
                "[[environments]]\nname = \"{env}\"\ncontext = \"{env}\"\nnamespaces = [\"{ns}\"]\nprotection = \"{protection}\"\n[environments.metrics]\nsource = \"none\"\n\n"
            );
        }
        text.push_str(
            "[[apps]]\nname = \"web\"\ndeployment = \"web\"\n[apps.canary.environments.production]\nprovider = \"nginx-ingress\"\ningress = \"web-canary\"\ncanary_deployment = \"web-canary\"\n",
        );
        text
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.config, text).expect("config");
    }

    pub fn kubectl(&self, context: &str, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", context, "-n", &self.ns])
            .args(args)
            .output()
            .expect("kubectl is installed (.ci/run installs it)")
    }

    pub fn ok(&self, context: &str, args: &[&str]) -> String {
        let out = self.kubectl(context, args);
        assert!(out.status.success(), "kubectl {}: {}", args.join(" "), text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn apply(&self, context: &str, object: &Value) {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            // Client-side schema validation needs /openapi, which the demo fleet does not serve;
            // the server validates what it stores either way.
            .args(["--context", context, "-n", &self.ns, "apply", "--validate=false", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl");
        std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), object.to_string().as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("kubectl apply");
        assert!(out.status.success(), "apply in {context}: {}", text(&out));
    }

    /// An object as JSON.
    pub fn get(&self, context: &str, kind: &str, name: &str) -> Value {
        serde_json::from_str(&self.ok(context, &["get", kind, name, "-o", "json"])).expect("json")
    }

    /// Waits until the Deployment's rollout is complete.
    pub fn rolled_out(&self, context: &str, name: &str) {
        self.ok(context, &["rollout", "status", &format!("deployment/{name}"), "--timeout=120s"]);
    }

    /// The binary against this cluster with `config`.
    pub fn opsdeck_with(&self, config: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("--config")
            .arg(config)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .output()
            .expect("run opsdeck")
    }

    pub fn opsdeck(&self, args: &[&str]) -> Output {
        self.opsdeck_with(&self.config, args)
    }

    pub fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("data/opsdeck/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line"))
            .collect()
    }

    /// Polls `check` every half second for up to `within`.
    pub fn eventually(what: &str, within: Duration, check: impl Fn() -> bool) {
        let deadline = Instant::now() + within;
        while !check() {
            assert!(Instant::now() < deadline, "{what}: not within {within:?}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Real {
    fn drop(&mut self) {
        for context in CONTEXTS {
            let _ = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .args(["--context", context, "delete", "namespace", &self.ns, "--wait=false"])
                .output();
        }
    }
}

/// The nginx canary weight an Ingress carries.
pub fn ingress_weight(ingress: &Value) -> String {
    ingress
        .pointer("/metadata/annotations/nginx.ingress.kubernetes.io~1canary-weight")
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_owned()
}

/// The canary Ingress of the `web` app at `weight`.
pub fn canary_ingress(weight: u32) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web-canary", "annotations": {
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": weight.to_string(),
        }},
        "spec": {"rules": [{"host": "web.e2e.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web-canary", "port": {"number": 80}}}}]}}]},
    })
}
