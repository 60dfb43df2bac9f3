//! The demo fleet for integration tests: three simulated clusters on loopback, the kubeconfig
//! and opsdeck config `opsdeck demo` writes for them, the real binary run against them, and a
//! kube client to look at what they hold afterwards.

// Test helpers fail by panicking, like the tests that call them; not every test file uses
// every helper.
#![allow(clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::ApiResource;
use kube::{Client, Config};
use opsdeck_demo::{Fleet, FleetOptions, Timing};
use serde_json::Value;

pub struct Demo {
    pub fleet: Fleet,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    /// The opsdeck config the fleet wrote: every environment, app and canary of the scenario.
    pub config: PathBuf,
}

/// The fleet with its clock 20× faster: rollouts finish and canaries serve their minimum of
/// requests within seconds.
pub async fn start() -> Demo {
    start_with(FleetOptions::default()).await
}

pub async fn start_with(options: FleetOptions) -> Demo {
    let fleet = Fleet::start(FleetOptions { timing: Timing { speed: 20.0, ..Timing::default() }, ..options })
        .await
        .expect("fleet");
    let dir = tempfile::tempdir().expect("tempdir");
    let (kubeconfig, config) = fleet.write_files(dir.path()).expect("files");
    Demo { fleet, dir, kubeconfig, config }
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

impl Demo {
    pub fn data_home(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A config with one environment called `env` on `context` and the `web` app, with `extra`
    /// appended.
    pub fn one_environment(&self, env: &str, context: &str, protection: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{env}-{context}.toml"));
        let text = format!(
            "[[environments]]\nname = \"{env}\"\ncontext = \"{context}\"\nnamespaces = [\"shop\"]\nprotection = \"{protection}\"\n\n[[apps]]\nname = \"web\"\ndeployment = \"web\"\n{extra}"
        );
        std::fs::write(&path, text).expect("config");
        path
    }

    /// The fleet's config with each `(from, to)` replaced, written beside it.
    pub fn config_with(&self, name: &str, edits: &[(&str, &str)]) -> PathBuf {
        let mut text = std::fs::read_to_string(&self.config).expect("config");
        for (from, to) in edits {
            assert!(text.contains(from), "the demo config has no {from:?}");
            text = text.replacen(from, to, 1);
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write config");
        path
    }

    pub fn command_with(&self, config: &Path, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"));
        command
            .arg("--config")
            .arg(config)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("XDG_DATA_HOME", self.data_home())
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .kill_on_drop(true);
        command
    }

    /// The binary with the fleet's own config.
    pub async fn run(&self, args: &[&str]) -> Output {
        self.command_with(&self.config, args).output().await.expect("run opsdeck")
    }

    pub async fn run_with(&self, config: &Path, args: &[&str]) -> Output {
        self.command_with(config, args).output().await.expect("run opsdeck")
    }

    /// The binary as a second operator: another machine's data dir (audit log, checklists),
    /// with `config`.
    pub async fn run_as(&self, operator: &str, config: &Path, args: &[&str]) -> Output {
        let mut command = self.command_with(config, args);
        command
            .env("XDG_DATA_HOME", self.dir.path().join(format!("data-{operator}")))
            .env("XDG_STATE_HOME", self.dir.path().join(format!("state-{operator}")));
        command.output().await.expect("run opsdeck")
    }

    /// The fleet's config with `text` appended (a table of its own, such as `[team]`).
    pub fn config_plus(&self, name: &str, base: &Path, text: &str) -> PathBuf {
        let mut all = std::fs::read_to_string(base).expect("config");
        all.push_str(text);
        let path = self.dir.path().join(name);
        std::fs::write(&path, all).expect("write config");
        path
    }

    pub async fn client(&self, context: &str) -> Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let options = KubeConfigOptions { context: Some(context.to_owned()), ..KubeConfigOptions::default() };
        Client::try_from(Config::from_custom_kubeconfig(kubeconfig, &options).await.expect("config"))
            .expect("client")
    }

    /// An object in the `shop` namespace, as JSON: `kind` is a plural (`deployments`,
    /// `replicasets`, `ingresses`, `httproutes`, `kustomizations`, `services`).
    pub async fn get(&self, context: &str, kind: &str, name: &str) -> Value {
        self.get_in(context, "shop", kind, name).await
    }

    pub async fn get_in(&self, context: &str, namespace: &str, kind: &str, name: &str) -> Value {
        let api = self.api(context, namespace, kind).await;
        serde_json::to_value(api.get(name).await.unwrap_or_else(|e| panic!("get {kind}/{name}: {e}")))
            .expect("json")
    }

    /// A merge patch made by somebody else (another operator, a script, kubectl).
    pub async fn patch_behind_our_back(&self, context: &str, kind: &str, name: &str, patch: &Value) {
        self.patch_in(context, "shop", kind, name, patch).await;
    }

    /// A controller reporting on its object: a merge patch of the status subresource.
    pub async fn patch_status_in(
        &self,
        context: &str,
        namespace: &str,
        kind: &str,
        name: &str,
        patch: &Value,
    ) {
        let api = self.api(context, namespace, kind).await;
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .expect("the controller's write");
    }

    /// An object someone else creates (a controller's, an operator's `kubectl apply`).
    pub async fn create_in(&self, context: &str, namespace: &str, kind: &str, object: &Value) {
        let api = self.api(context, namespace, kind).await;
        let object: DynamicObject = serde_json::from_value(object.clone()).expect("an object");
        api.create(&kube::api::PostParams::default(), &object).await.expect("created");
    }

    /// The same, in another namespace (Flux's, Argo CD's).
    /// `kubectl set image deployment/NAME CONTAINER=IMAGE`, by somebody else.
    pub async fn set_image(&self, context: &str, deployment: &str, container: &str, image: &str) {
        let api = self.api(context, "shop", "deployments").await;
        let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}});
        api.patch(deployment, &PatchParams::default(), &Patch::Strategic(patch)).await.expect("set image");
    }

    pub async fn patch_in(&self, context: &str, namespace: &str, kind: &str, name: &str, patch: &Value) {
        let api = self.api(context, namespace, kind).await;
        api.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await.expect("someone else's write");
    }

    async fn api(&self, context: &str, namespace: &str, kind: &str) -> Api<DynamicObject> {
        let (group, version, k) = match kind {
            "deployments" => ("apps", "v1", "Deployment"),
            "ingresses" => ("networking.k8s.io", "v1", "Ingress"),
            "httproutes" => ("gateway.networking.k8s.io", "v1", "HTTPRoute"),
            "replicasets" => ("apps", "v1", "ReplicaSet"),
            "kustomizations" => ("kustomize.toolkit.fluxcd.io", "v1", "Kustomization"),
            "services" => ("", "v1", "Service"),
            "applications" => ("argoproj.io", "v1alpha1", "Application"),
            "rollouts" => ("argoproj.io", "v1alpha1", "Rollout"),
            "canaries" => ("flagger.app", "v1beta1", "Canary"),
            other => panic!("no API for {other}"),
        };
        let resource = ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: if group.is_empty() { version.into() } else { format!("{group}/{version}") },
            kind: k.into(),
            plural: kind.into(),
        };
        Api::namespaced_with(self.client(context).await, namespace, &resource)
    }

    /// The console, headless, on the fleet with `config`: the real state, reducer, cluster tasks
    /// and operations service, with the audit log and checklists where the binary keeps them.
    pub fn console(&self, config: &Path) -> opsdeck::console::Console {
        self.console_via(config, &self.kubeconfig)
    }

    /// The console reaching the clusters through `kubeconfig` (a proxy's, say).
    pub fn console_via(&self, config: &Path, kubeconfig: &Path) -> opsdeck::console::Console {
        let fleet = opsdeck::config::Fleet::resolve(opsdeck::config::load(config).expect("config"));
        let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
        let data_dir = self.data_home().join("opsdeck");
        let audit = opsdeck::audit::AuditLog::open(&data_dir).expect("audit");
        opsdeck::console::Console::start(opsdeck::console::Setup {
            fleet: std::sync::Arc::new(fleet),
            files: opsdeck::console::Files { data_dir, config_file: config.to_path_buf() },
            kubeconfig: Ok(kubeconfig),
            readonly: false,
            audit: Ok(audit),
            webhook: None,
            demo: true,
        })
    }

    /// The operation engine as the command line builds it, on the fleet's own config, with the
    /// audit log where the binary keeps it: for tests that arrange a race between prepare and
    /// execute.
    pub fn engine(&self) -> opsdeck::engine::Engine {
        self.engine_with(&self.config)
    }

    pub fn engine_with(&self, config: &Path) -> opsdeck::engine::Engine {
        let fleet = opsdeck::config::Fleet::resolve(opsdeck::config::load(config).expect("config"));
        let data_dir = self.data_home().join("opsdeck");
        opsdeck::engine::Engine::new(opsdeck::engine::Setup {
            fleet: std::sync::Arc::new(fleet),
            kubeconfig: Ok(Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig")),
            readonly: false,
            audit: opsdeck::audit::AuditLog::open(&data_dir).map_err(|e| e.to_string()),
            webhook: None,
            data_dir,
            analysis: opsdeck::engine::Analysis::Measure,
            say: None,
        })
    }

    pub fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.data_home().join("opsdeck/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line"))
            .collect()
    }

    pub async fn requests(&self, context: &str) -> Value {
        let request = http::Request::get("/demo/requests").body(Vec::new()).expect("request");
        self.client(context).await.request(request).await.expect("counter")
    }
}

/// Walks an environment's checklist in the headless console as a person would — `keys` reach
/// and open it (`llC` for production) — acknowledging what a person checks and waiving what
/// fails with a reason, then signs it; where the report was saved (JSON, Markdown).
pub async fn walk_and_sign(
    console: &mut opsdeck::console::Console,
    keys: &str,
    env: &str,
) -> (PathBuf, PathBuf) {
    use opsdeck::app::Key;
    use opsdeck::checklist::report::State;
    until(console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some() && e.user.is_some())).await;
    press(console, keys);
    until(console, "the checks", |s| s.walks.get(env).is_some_and(|w| w.report.checked_at.is_some())).await;
    let count = console.state.walks[env].report.items.len();
    for _ in 0..count {
        let walk = &console.state.walks[env];
        let item = &walk.report.items[walk.cursor];
        match (item.auto.is_some(), item.state()) {
            (false, State::Open) => press(console, " "),
            (true, State::Failed) => {
                press(console, "w");
                press(console, "accepted for this release, CHG-981");
                key(console, Key::Enter);
            }
            _ => {}
        }
        press(console, "j");
    }
    assert_eq!(console.state.walks[env].report.summary().blocking, 0, "nothing blocks the signature");
    press(console, "S");
    key(console, Key::Enter);
    until(console, "saved", |s| s.walks[env].saved.is_some()).await;
    console.state.walks[env].saved.clone().expect("saved")
}

/// The nginx canary weight an Ingress carries.
pub fn ingress_weight(ingress: &Value) -> String {
    ingress
        .pointer("/metadata/annotations/nginx.ingress.kubernetes.io~1canary-weight")
        .and_then(Value::as_str)
        .unwrap_or("<none>")
        .to_owned()
}

/// An HTTPRoute's first rule's backend weights, in order.
pub fn route_weights(route: &Value) -> Vec<i64> {
    route
        .pointer("/spec/rules/0/backendRefs")
        .and_then(Value::as_array)
        .map(|refs| refs.iter().map(|r| r["weight"].as_i64().unwrap_or(1)).collect())
        .unwrap_or_default()
}

pub fn replicas(deployment: &Value) -> i64 {
    deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

pub fn first_image(deployment: &Value) -> String {
    deployment
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// Keys typed into the headless console, one per character.
pub fn press(console: &mut opsdeck::console::Console, keys: &str) {
    for c in keys.chars() {
        key(console, opsdeck::app::Key::Char(c));
    }
}

pub fn key(console: &mut opsdeck::console::Console, key: opsdeck::app::Key) {
    console.apply(opsdeck::app::Action::Key(opsdeck::app::KeyPress::plain(key)));
}

/// Runs the headless console until `done` holds, for at most a minute and a half.
pub async fn until(
    console: &mut opsdeck::console::Console,
    what: &str,
    done: impl Fn(&opsdeck::app::State) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !done(&console.state) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "{what}: not in time; notice {:?}", console.state.notice);
        let _ = tokio::time::timeout(left, console.step()).await;
    }
}

/// What an operator at a terminal answers: yes, with a reason.
pub fn yes(reason: &str) -> opsdeck::engine::Answer {
    opsdeck::engine::Answer {
        confirmed: true,
        reason: Some(reason.to_owned()),
        ..opsdeck::engine::Answer::default()
    }
}

/// The exit code the command line gives an operation error.
pub fn exit_of(error: &opsdeck::cluster::ops::OpError) -> u8 {
    opsdeck::commands::write::op_exit(error) as u8
}

/// The console's frame as text, drawn with the real renderer.
pub fn screen(state: &opsdeck::app::State, width: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| opsdeck::ui::render(frame, state)).expect("draw");
    terminal.backend().to_string()
}

/// Every version of the objects of these kinds (`(group, kind, plural)`, version v1) in `shop`
/// that the fleet stores while a test runs, keyed `Kind/name`, by the cluster's
/// resourceVersion (one counter for all objects): replayed in order, they are every state the
/// cluster was in.
pub fn record_versions(
    client: &Client,
    kinds: &[(&'static str, &'static str, &'static str)],
) -> std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<u64, (String, Value)>>> {
    use futures::StreamExt;
    use kube::runtime::watcher;
    let log = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    for &(group, kind, plural) in kinds {
        let resource = ApiResource {
            group: group.into(),
            version: "v1".into(),
            api_version: if group.is_empty() { "v1".into() } else { format!("{group}/v1") },
            kind: kind.into(),
            plural: plural.into(),
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "shop", &resource);
        let log = log.clone();
        tokio::spawn(async move {
            let mut events = std::pin::pin!(watcher(api, watcher::Config::default()));
            while let Some(Ok(event)) = events.next().await {
                let (watcher::Event::Apply(o) | watcher::Event::InitApply(o)) = event else { continue };
                let v = serde_json::to_value(&o).expect("json");
                let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_owned();
                let rv = v
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                log.lock().expect("log").insert(rv, (format!("{kind}/{name}"), v));
            }
        });
    }
    log
}
