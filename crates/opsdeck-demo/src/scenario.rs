//! The demo scenario (`assets/demo/scenario.toml`) and the objects it becomes in each cluster.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::controller::rollout;
use super::defaults;
use super::resources::{
    APPLICATIONS, CANARIES, DEPLOYMENTS, EVENTS, HPAS, HTTP_ROUTES, INGRESSES, KUSTOMIZATIONS, LIMIT_RANGES,
    NAMESPACES, NETWORK_POLICIES, NODES, PDBS, REPLICA_SETS, RESOURCE_QUOTAS, ROLLOUTS, SERVICES,
};
use super::store::Store;
use super::traffic::Profile;

pub const SCENARIO: &str = include_str!("../../../assets/demo/scenario.toml");
/// Where Flux's objects live.
const FLUX_NAMESPACE: &str = "flux-system";
/// Where Argo CD's Applications live.
const ARGOCD_NAMESPACE: &str = "argocd";
/// The commit the demo's GitOps controllers last applied.
const GIT_SHA: &str = "3f1c9a2e7b4d5c6f8a9b0c1d2e3f4a5b6c7d8e9f";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub namespace: String,
    pub registry: String,
    pub rps: BTreeMap<String, f64>,
    pub profiles: BTreeMap<String, ProfileSpec>,
    pub clusters: Vec<ClusterSpec>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    pub error_rate: f64,
    pub p50: f64,
    pub p95: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
// The scenario file's shape: each bool is one yes/no fact about a cluster, read from TOML.
#[allow(clippy::struct_excessive_bools)]
pub struct ClusterSpec {
    pub name: String,
    pub kubernetes: String,
    pub nodes: usize,
    pub pod_security: String,
    #[serde(default)]
    pub default_deny: bool,
    #[serde(default)]
    pub quota: bool,
    #[serde(default)]
    pub pdb: Vec<String>,
    #[serde(default)]
    pub hpa: Vec<String>,
    #[serde(default)]
    pub spread: bool,
    pub apps: Vec<AppSpec>,
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// The admission policy for opsdeck's records is installed (`opsdeck cluster-setup`).
    #[serde(default)]
    pub records_policy: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub name: String,
    pub replicas: i64,
    /// Oldest first; the last entry is what runs.
    pub history: Vec<Release>,
    pub canary: Option<CanarySpec>,
    #[serde(default = "yes")]
    pub limits: bool,
    /// Reconciled by this Flux Kustomization (in `flux-system`): labels on the Deployment,
    /// and the Kustomization object itself.
    pub flux: Option<String>,
    /// Reconciled by this Argo CD application: the instance label on the Deployment.
    pub argo: Option<String>,
    /// Blue-green instead of one stable Deployment: `NAME-blue` runs `history`, `NAME-green`
    /// the spec's tag, and the Service `NAME` selects the live colour.
    pub blue_green: Option<BlueGreenSpec>,
    /// Run by Argo Rollouts instead of a Deployment: a Rollout `NAME` whose stable ReplicaSet
    /// runs `history` and whose template brings this new version through its canary steps.
    pub rollout: Option<RolloutSpec>,
    /// Run by Flagger: a Canary targeting the Deployment `NAME` (this new version), with the
    /// primary `NAME-primary` serving `history`, the analysis part-way through.
    pub flagger: Option<FlaggerSpec>,
    /// A mistake planted on purpose: the app's Service sends to this port, which its pods do
    /// not declare (they listen on `http` 8080).
    pub service_target_port: Option<u16>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlaggerSpec {
    /// The version under analysis.
    pub tag: String,
    /// The canary weight the analysis has reached.
    pub weight: u8,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutSpec {
    /// The version the canary steps bring.
    pub tag: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueGreenSpec {
    /// The green Deployment's tag.
    pub green: String,
    /// `blue` or `green`: the colour the Service selects.
    pub live: String,
    /// The live colour was promoted by opsdeck: the Service records it as stable.
    #[serde(default)]
    pub promoted: bool,
    /// When green's release shipped.
    pub age_hours: u64,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub tag: String,
    pub cause: String,
    pub age_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanarySpec {
    pub provider: String,
    pub tag: String,
    pub replicas: i64,
    #[serde(default)]
    pub weight: u8,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// `kind/name`, e.g. `deployment/api-canary`.
    pub object: String,
    pub reason: String,
    pub message: String,
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

impl Scenario {
    pub fn embedded() -> Result<Self, String> {
        toml::from_str(SCENARIO).map_err(|e| format!("assets/demo/scenario.toml: {e}"))
    }

    pub fn profile(&self, tag: &str) -> Profile {
        let spec = self.profiles.get(tag).or_else(|| self.profiles.get("default"));
        spec.map_or(Profile { error_rate: 0.0, p50: 0.04, p95: 0.12 }, |p| Profile {
            error_rate: p.error_rate,
            p50: p.p50,
            p95: p.p95,
        })
    }
}

fn ago(hours: u64) -> String {
    let then = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(i64::try_from(hours).unwrap_or(0));
    then.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Fills a fresh cluster's store with the scenario's objects. `filler_pods` adds a `bulk`
/// namespace so the cluster holds at least that many pods in all.
pub fn populate(store: &Store, scenario: &Scenario, cluster: &ClusterSpec, filler_pods: Option<usize>) {
    let ns = scenario.namespace.as_str();
    let flux = cluster.apps.iter().any(|a| a.flux.is_some());
    // `opsdeck`: where the team's records and Leases live.
    let mut namespaces = vec!["default", "kube-system", ns, "opsdeck"];
    if flux {
        namespaces.push(FLUX_NAMESPACE);
    }
    if cluster.apps.iter().any(|a| a.argo.is_some()) {
        namespaces.push(ARGOCD_NAMESPACE);
    }
    for name in namespaces {
        let mut labels = json!({"kubernetes.io/metadata.name": name});
        if name == ns {
            labels["pod-security.kubernetes.io/enforce"] = json!(cluster.pod_security);
        }
        let object = json!({"metadata": {"name": name, "labels": labels}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let _ = store.create(NAMESPACES, "", object, false);
    }
    for i in 1..=cluster.nodes {
        let _ = store.create(NODES, "", node(cluster, i), false);
    }
    if cluster.records_policy {
        crate::admission::install(store);
    }
    for app in &cluster.apps {
        add_app(store, scenario, cluster, app);
    }
    if cluster.default_deny {
        let policy = json!({"metadata": {"name": "default-deny"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}});
        let _ = store.create(NETWORK_POLICIES, ns, policy, false);
    }
    if cluster.quota {
        let quota = json!({
            "metadata": {"name": "shop-quota"},
            "spec": {"hard": {"requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "16", "limits.memory": "32Gi", "pods": "60"}},
        });
        let _ = store.create(RESOURCE_QUOTAS, ns, quota, false);
        let limits = json!({
            "metadata": {"name": "shop-limits"},
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]},
        });
        let _ = store.create(LIMIT_RANGES, ns, limits, false);
    }
    for app in &cluster.pdb {
        // Flagger's primary serves an app it runs: the budget protects its pods.
        let flagger = cluster.apps.iter().any(|a| a.name == *app && a.flagger.is_some());
        let selects = if flagger { format!("{app}-primary") } else { app.clone() };
        let pdb = json!({"metadata": {"name": app}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": selects}}}});
        let _ = store.create(PDBS, ns, pdb, false);
    }
    for app in &cluster.hpa {
        let hpa = json!({
            "metadata": {"name": app},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": 3,
                "maxReplicas": 10,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
            },
        });
        let _ = store.create(HPAS, ns, hpa, false);
    }
    for event in &cluster.events {
        add_event(store, ns, event);
    }
    if let Some(total) = filler_pods {
        add_filler(store, cluster, total);
    }
}

fn node(cluster: &ClusterSpec, i: usize) -> Value {
    json!({
        "metadata": {
            "name": format!("{}-node-{i}", cluster.name),
            "labels": {"kubernetes.io/hostname": format!("{}-node-{i}", cluster.name), "node-role.kubernetes.io/worker": ""},
            "creationTimestamp": ago(24 * 60),
        },
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
            "nodeInfo": {"kubeletVersion": cluster.kubernetes, "osImage": "opsdeck demo (simulated)", "containerRuntimeVersion": "simulated://1.0"},
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "2000"},
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "2000"},
        },
    })
}

fn container(scenario: &Scenario, app: &str, tag: &str, limits: bool) -> Value {
    let mut resources = json!({"requests": {"cpu": "100m", "memory": "128Mi"}});
    if limits {
        resources["limits"] = json!({"cpu": "500m", "memory": "256Mi"});
    }
    // The server's defaults (probe periods, pull policy, …) come from `defaults` on every write.
    let probe = json!({"httpGet": {"path": "/healthz", "port": 8080}});
    json!({
        "name": app,
        "image": format!("{}/{app}:{tag}", scenario.registry),
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": [{"name": "APP_ENV", "value": "demo"}],
        "resources": resources,
        "readinessProbe": probe,
        "livenessProbe": probe,
        "securityContext": {
            "runAsNonRoot": true,
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]},
        },
    })
}

fn template(
    scenario: &Scenario,
    cluster: &ClusterSpec,
    app: &str,
    track: &str,
    tag: &str,
    limits: bool,
) -> Value {
    let mut spec = json!({
        "containers": [container(scenario, app, tag, limits)],
        // What Pod Security `restricted` asks of every pod, as a real staging namespace checks.
        "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
    });
    if cluster.spread {
        spec["topologySpreadConstraints"] = json!([{
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app": app}},
        }]);
    }
    let mut template = json!({"metadata": {"labels": {"app": app, "track": track}}, "spec": spec});
    defaults::pod_template(&mut template);
    template
}

fn deployment(
    name: &str,
    app: &str,
    track: &str,
    replicas: i64,
    template: &Value,
    cause: &str,
    age_hours: u64,
) -> Value {
    json!({
        "metadata": {
            "name": name,
            "labels": {"app": app, "track": track},
            "annotations": {"kubernetes.io/change-cause": cause},
            "creationTimestamp": ago(age_hours),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app, "track": track}},
            "template": template,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        },
    })
}

/// The two colours of a blue-green app and the Service that selects one: the guide's
/// `my-app-blue`, `my-app-green` and `my-app` (seed 004).
fn add_blue_green(
    store: &Store,
    scenario: &Scenario,
    cluster: &ClusterSpec,
    app: &AppSpec,
    spec: &BlueGreenSpec,
) {
    let ns = scenario.namespace.as_str();
    let name = app.name.as_str();
    if app.history.is_empty() {
        return;
    }
    let first_age = app.history.first().map_or(0, |r| r.age_hours);
    let colours = [
        ("blue", app.history.clone(), first_age),
        (
            "green",
            vec![Release {
                tag: spec.green.clone(),
                cause: format!("release {}", spec.green),
                age_hours: spec.age_hours,
            }],
            spec.age_hours,
        ),
    ];
    for (colour, history, age) in colours {
        let coloured = |mut t: Value| {
            t["metadata"]["labels"] = json!({"app": name, "version": colour});
            t
        };
        let Some(current) = history.last() else { continue };
        let running = coloured(template(scenario, cluster, name, colour, &current.tag, app.limits));
        let deployment_name = format!("{name}-{colour}");
        let mut d = deployment(&deployment_name, name, colour, app.replicas, &running, &current.cause, age);
        d["metadata"]["labels"] = json!({"app": name, "version": colour});
        d["spec"]["selector"]["matchLabels"] = json!({"app": name, "version": colour});
        if let Ok(created) = store.create(DEPLOYMENTS, ns, d, false) {
            for (i, release) in history.iter().enumerate() {
                let t = coloured(template(scenario, cluster, name, colour, &release.tag, app.limits));
                let mut rs = rollout::replica_set_for(&created, &t, &rollout::template_key(&t), i as u64 + 1);
                rs["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(release.cause);
                rs["metadata"]["creationTimestamp"] = json!(ago(release.age_hours));
                let _ = store.create(REPLICA_SETS, ns, rs, false);
            }
        }
    }
    let mut annotations = json!({});
    if spec.promoted {
        annotations["opsdeck.io/stable"] = json!(spec.live);
    }
    let svc = json!({
        "metadata": {"name": name, "labels": {"app": name}, "annotations": annotations},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": name, "version": spec.live},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    });
    let _ = store.create(SERVICES, ns, svc, false);
}

/// The Flux Kustomization or Argo CD Application that reconciles `app`, and their labels on
/// its Deployment.
fn add_gitops(store: &Store, ns: &str, app: &AppSpec, stable: &mut Value) {
    if let Some(kustomization) = &app.flux {
        stable["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] = json!(kustomization);
        stable["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/namespace"] = json!(FLUX_NAMESPACE);
        // What kustomize-controller reports once it has applied a commit.
        let revision = format!("main@sha1:{GIT_SHA}");
        let object = json!({
            "metadata": {"name": kustomization},
            "spec": {"interval": "5m", "path": "./deploy/shop", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "shop"}, "suspend": false},
            "status": {
                "observedGeneration": 1,
                "lastAppliedRevision": revision,
                "lastAttemptedRevision": revision,
                "lastHandledReconcileAt": ago(0),
                "conditions": [{
                    "type": "Ready",
                    "status": "True",
                    "reason": "ReconciliationSucceeded",
                    "message": format!("Applied revision: {revision}"),
                    "lastTransitionTime": ago(1),
                }],
            },
        });
        let _ = store.create(KUSTOMIZATIONS, FLUX_NAMESPACE, object, false);
    }
    if let Some(application) = &app.argo {
        stable["metadata"]["labels"]["argocd.argoproj.io/instance"] = json!(application);
        // What the application controller reports for an app in sync.
        let object = json!({
            "metadata": {"name": application},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://git.example.com/shop/deploy.git", "path": "apps/worker", "targetRevision": "main"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": ns},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
            },
            "status": {
                "sync": {"status": "Synced", "revision": GIT_SHA},
                "health": {"status": "Healthy"},
                "reconciledAt": ago(0),
            },
        });
        let _ = store.create(APPLICATIONS, ARGOCD_NAMESPACE, object, false);
    }
}

fn add_app(store: &Store, scenario: &Scenario, cluster: &ClusterSpec, app: &AppSpec) {
    let ns = scenario.namespace.as_str();
    let name = app.name.as_str();
    if let Some(spec) = &app.blue_green {
        add_blue_green(store, scenario, cluster, app, spec);
        return;
    }
    if let Some(spec) = &app.rollout {
        add_rollout(store, scenario, cluster, app, spec);
        return;
    }
    if let Some(spec) = &app.flagger {
        add_flagger(store, scenario, cluster, app, spec);
        return;
    }
    let Some(current) = app.history.last() else { return };
    let first_age = app.history.first().map_or(0, |r| r.age_hours);
    let running = template(scenario, cluster, name, "stable", &current.tag, app.limits);
    let mut stable = deployment(name, name, "stable", app.replicas, &running, &current.cause, first_age);
    add_gitops(store, ns, app, &mut stable);
    if let Ok(created) = store.create(DEPLOYMENTS, ns, stable, false) {
        // Every release, the running one included, has its ReplicaSet from the day it shipped.
        for (i, release) in app.history.iter().enumerate() {
            let t = template(scenario, cluster, name, "stable", &release.tag, app.limits);
            let mut rs = rollout::replica_set_for(&created, &t, &rollout::template_key(&t), i as u64 + 1);
            rs["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(release.cause);
            rs["metadata"]["creationTimestamp"] = json!(ago(release.age_hours));
            let _ = store.create(REPLICA_SETS, ns, rs, false);
        }
    }
    service(store, ns, name, "stable", name);
    if let Some(port) = app.service_target_port {
        store.mutate(SERVICES, ns, name, |svc| svc["spec"]["ports"][0]["targetPort"] = json!(port));
    }
    let Some(canary) = &app.canary else { return };
    let canary_name = format!("{name}-canary");
    let t = template(scenario, cluster, name, "canary", &canary.tag, app.limits);
    let cause = format!("canary {}", canary.tag);
    let _ = store.create(
        DEPLOYMENTS,
        ns,
        deployment(&canary_name, name, "canary", canary.replicas, &t, &cause, 1),
        false,
    );
    service(store, ns, &canary_name, "canary", name);
    match canary.provider.as_str() {
        "nginx-ingress" => {
            let _ = store.create(INGRESSES, ns, ingress(name, name, None), false);
            let _ = store.create(INGRESSES, ns, ingress(&canary_name, name, Some(canary.weight)), false);
        }
        "gateway-api" => {
            let weight = i64::from(canary.weight);
            let route = json!({
                "metadata": {"name": name},
                "spec": {
                    "parentRefs": [{"name": "shop-gateway"}],
                    "hostnames": [format!("{name}.shop.example.com")],
                    "rules": [{"backendRefs": [
                        {"name": name, "port": 80, "weight": 100 - weight},
                        {"name": canary_name, "port": 80, "weight": weight},
                    ]}],
                },
            });
            let _ = store.create(HTTP_ROUTES, ns, route, false);
        }
        _ => {}
    }
}

/// An Argo Rollout with the guide's canary steps, its stable ReplicaSets from the day each
/// release shipped, the stable and canary Services and the stable Ingress its nginx traffic
/// router splits; the fleet's Argo controller takes it from there (to the pause at step 1).
fn add_rollout(store: &Store, scenario: &Scenario, cluster: &ClusterSpec, app: &AppSpec, spec: &RolloutSpec) {
    let ns = scenario.namespace.as_str();
    let name = app.name.as_str();
    let Some(current) = app.history.last() else { return };
    let unlabelled = |tag: &str| {
        let mut t = template(scenario, cluster, name, "stable", tag, app.limits);
        t["metadata"]["labels"] = json!({"app": name});
        t
    };
    let canary_service = format!("{name}-canary");
    let object = json!({
        "metadata": {
            "name": name,
            "labels": {"app": name},
            "annotations": {"kubernetes.io/change-cause": format!("release {}", spec.tag)},
            "creationTimestamp": ago(app.history.first().map_or(0, |r| r.age_hours)),
            "generation": 2,
        },
        "spec": {
            "replicas": app.replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": unlabelled(&spec.tag),
            "strategy": {"canary": {
                "canaryService": canary_service,
                "stableService": name,
                "trafficRouting": {"nginx": {"stableIngress": name}},
                "steps": [
                    {"setWeight": 20},
                    {"pause": {}},
                    {"setWeight": 50},
                    {"pause": {"duration": "2m"}},
                    {"setWeight": 100},
                ],
            }},
        },
    });
    let Ok(created) = store.create(ROLLOUTS, ns, object, false) else { return };
    let mut stable_hash = String::new();
    for (i, release) in app.history.iter().enumerate() {
        let t = unlabelled(&release.tag);
        let key = rollout::template_key(&t);
        let mut rs = rollout::replica_set_for(&created, &t, &key, i as u64 + 1);
        rs["metadata"]["ownerReferences"][0]["apiVersion"] = json!("argoproj.io/v1alpha1");
        rs["metadata"]["ownerReferences"][0]["kind"] = json!("Rollout");
        rs["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(release.cause);
        rs["metadata"]["annotations"]["rollout.argoproj.io/revision"] = json!((i + 1).to_string());
        rs["metadata"]["creationTimestamp"] = json!(ago(release.age_hours));
        if release.tag == current.tag {
            rs["spec"]["replicas"] = json!(app.replicas);
            stable_hash = rollout::template_hash(&key);
        }
        let _ = store.create(REPLICA_SETS, ns, rs, false);
    }
    store.mutate(ROLLOUTS, ns, name, |r| {
        r["status"] = json!({"stableRS": stable_hash, "currentStepIndex": 0, "phase": "Progressing"});
    });
    for service_name in [name, canary_service.as_str()] {
        let svc = json!({
            "metadata": {"name": service_name, "labels": {"app": name}},
            "spec": {"type": "ClusterIP", "selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
        });
        let _ = store.create(SERVICES, ns, svc, false);
    }
    let _ = store.create(INGRESSES, ns, ingress(name, name, None), false);
}

/// The guide's Flagger Canary for `name`: nginx, stepWeight 10 to maxWeight 50, a
/// `confirm-promotion` gate and a load test on the flagger-loadtester.
fn flagger_canary(name: &str, ns: &str) -> Value {
    let loadtester = "http://flagger-loadtester.shop";
    json!({
        "metadata": {"name": name},
        "spec": {
            "provider": "nginx",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "ingressRef": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": name},
            "service": {"port": 80, "targetPort": 8080},
            "analysis": {
                "interval": "30s",
                "threshold": 5,
                "maxWeight": 50,
                "stepWeight": 10,
                "metrics": [
                    {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
                    {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"},
                ],
                "webhooks": [
                    {"name": "confirm-promotion", "type": "confirm-promotion", "url": format!("{loadtester}/gate/check")},
                    {"name": "load-test", "type": "rollout", "url": format!("{loadtester}/"), "timeout": "5s",
                     "metadata": {"cmd": format!("hey -z 1m -q 10 -c 2 http://{name}-canary.{ns}/")}},
                ],
            },
        },
    })
}

/// A Flagger Canary as Flagger leaves it mid-analysis: the primary serving the last release,
/// the target running the new version, the canary Ingress it owns at the weight reached, a
/// `confirm-promotion` gate on the flagger-loadtester, and the loadtester itself.
fn add_flagger(store: &Store, scenario: &Scenario, cluster: &ClusterSpec, app: &AppSpec, spec: &FlaggerSpec) {
    let ns = scenario.namespace.as_str();
    let name = app.name.as_str();
    let Some(current) = app.history.last() else { return };
    let primary = format!("{name}-primary");
    let labelled = |tag: &str, app_label: &str| {
        let mut t = template(scenario, cluster, name, "stable", tag, app.limits);
        t["metadata"]["labels"] = json!({"app": app_label});
        t
    };
    let mut target = deployment(
        name,
        name,
        "stable",
        app.replicas,
        &labelled(&spec.tag, name),
        &format!("release {}", spec.tag),
        1,
    );
    target["metadata"]["labels"] = json!({"app": name});
    target["spec"]["selector"]["matchLabels"] = json!({"app": name});
    let _ = store.create(DEPLOYMENTS, ns, target, false);
    let first_age = app.history.first().map_or(0, |r| r.age_hours);
    let mut stable = deployment(
        &primary,
        name,
        "stable",
        app.replicas,
        &labelled(&current.tag, &primary),
        &current.cause,
        first_age,
    );
    stable["metadata"]["labels"] = json!({"app": primary});
    stable["spec"]["selector"]["matchLabels"] = json!({"app": primary});
    if let Ok(created) = store.create(DEPLOYMENTS, ns, stable, false) {
        for (i, release) in app.history.iter().enumerate() {
            let t = labelled(&release.tag, &primary);
            let mut rs = rollout::replica_set_for(&created, &t, &rollout::template_key(&t), i as u64 + 1);
            rs["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(release.cause);
            rs["metadata"]["creationTimestamp"] = json!(ago(release.age_hours));
            let _ = store.create(REPLICA_SETS, ns, rs, false);
        }
    }
    // The revision Flagger last promoted: the target as it was when it ran the last release.
    let applied = rollout::template_hash(&rollout::template_key(&labelled(&current.tag, name)));
    let canary = flagger_canary(name, ns);
    if store.create(CANARIES, ns, canary, false).is_ok() {
        store.mutate(CANARIES, ns, name, |c| {
            c["status"] = json!({
                "phase": "Progressing",
                "canaryWeight": spec.weight,
                "iterations": spec.weight / 10,
                "failedChecks": 0,
                "lastAppliedSpec": applied,
                "lastTransitionTime": ago(0),
                "conditions": [{"type": "Promoted", "status": "Unknown", "reason": "Progressing",
                    "message": "New revision detected, progressing canary analysis."}],
            });
        });
    }
    let owner = store.get(CANARIES, ns, name).map(|c| {
        json!([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "name": name,
            "uid": c.pointer("/metadata/uid").cloned().unwrap_or(Value::Null), "controller": true, "blockOwnerDeletion": true}])
    });
    // Flagger owns what it made: the primary, its Services, the canary Ingress.
    if let Some(owner) = &owner {
        store.mutate(DEPLOYMENTS, ns, &primary, |d| d["metadata"]["ownerReferences"] = owner.clone());
    }
    for (service_name, selects) in [
        (name.to_owned(), primary.clone()),
        (primary.clone(), primary.clone()),
        (format!("{name}-canary"), name.to_owned()),
    ] {
        let svc = json!({
            "metadata": {"name": service_name, "labels": {"app": name}, "ownerReferences": owner.clone()},
            "spec": {"type": "ClusterIP", "selector": {"app": selects}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
        });
        let _ = store.create(SERVICES, ns, svc, false);
    }
    let _ = store.create(INGRESSES, ns, ingress(name, name, None), false);
    let mut canary_ingress = ingress(&format!("{name}-canary"), name, Some(spec.weight));
    canary_ingress["metadata"]["ownerReferences"] = owner.unwrap_or(Value::Null);
    let _ = store.create(INGRESSES, ns, canary_ingress, false);
    add_loadtester(store, scenario, cluster, first_age);
}

/// The flagger-loadtester the Canary's webhooks call, behind its Service.
fn add_loadtester(store: &Store, scenario: &Scenario, cluster: &ClusterSpec, first_age: u64) {
    let ns = scenario.namespace.as_str();
    let mut tester = template(scenario, cluster, "flagger-loadtester", "stable", "0.31.0", true);
    tester["metadata"]["labels"] = json!({"app": "flagger-loadtester"});
    tester["spec"]["containers"][0]["image"] = json!("ghcr.io/fluxcd/flagger-loadtester:0.31.0");
    let mut d = deployment(
        "flagger-loadtester",
        "flagger-loadtester",
        "stable",
        1,
        &tester,
        "flagger-loadtester 0.31.0",
        first_age,
    );
    d["metadata"]["labels"] = json!({"app": "flagger-loadtester"});
    d["spec"]["selector"]["matchLabels"] = json!({"app": "flagger-loadtester"});
    let _ = store.create(DEPLOYMENTS, ns, d, false);
    let svc = json!({
        "metadata": {"name": "flagger-loadtester", "labels": {"app": "flagger-loadtester"}},
        "spec": {"type": "ClusterIP", "selector": {"app": "flagger-loadtester"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    });
    let _ = store.create(SERVICES, ns, svc, false);
}

fn service(store: &Store, ns: &str, name: &str, track: &str, app: &str) {
    let svc = json!({
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "None",
            "selector": {"app": app, "track": track},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    });
    let _ = store.create(SERVICES, ns, svc, false);
}

fn ingress(name: &str, app: &str, canary_weight: Option<u8>) -> Value {
    let mut annotations = json!({});
    if let Some(weight) = canary_weight {
        annotations = json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": weight.to_string(),
        });
    }
    json!({
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{
                "host": format!("{app}.shop.example.com"),
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": {"number": 80}}}}]},
            }],
        },
    })
}

fn add_event(store: &Store, ns: &str, spec: &EventSpec) {
    let Some((kind, name)) = spec.object.split_once('/') else { return };
    // A kubelet files its node's events in `default`, not in the namespace of the pods.
    let (resource, kind_name, api_version, namespace, filed_in) = match kind {
        "node" => (NODES, "Node", "v1", "", "default"),
        _ => (DEPLOYMENTS, "Deployment", "apps/v1", ns, ns),
    };
    let uid = store
        .get(resource, namespace, name)
        .and_then(|o| o.pointer("/metadata/uid").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let now = ago(0);
    let event = json!({
        "metadata": {"name": format!("{name}.{}", spec.reason.to_lowercase())},
        "involvedObject": {"apiVersion": api_version, "kind": kind_name, "name": name, "namespace": namespace, "uid": uid},
        "reason": spec.reason,
        "message": spec.message,
        "type": "Warning",
        "count": spec.count,
        "firstTimestamp": ago(1),
        "lastTimestamp": now,
        "source": {"component": "opsdeck-demo"},
        "reportingComponent": "opsdeck-demo",
        "reportingInstance": "",
    });
    let _ = store.create(EVENTS, filed_in, event, false);
}

/// Scales the cluster's stable Deployments up so the cluster holds at least `total` pods: the
/// extra replicas are shared out across the apps, so a console watching them holds them all.
fn add_filler(store: &Store, cluster: &ClusterSpec, total: usize) {
    let existing: i64 = cluster
        .apps
        .iter()
        .map(|a| {
            // Flagger's target runs beside its primary, and the loadtester beside both.
            let second = a
                .canary
                .as_ref()
                .map(|c| c.replicas)
                .or(a.blue_green.as_ref().map(|_| a.replicas))
                .or(a.flagger.as_ref().map(|_| a.replicas + 1));
            a.replicas + second.unwrap_or(0)
        })
        .sum();
    let missing = i64::try_from(total).unwrap_or(i64::MAX) - existing;
    let count = i64::try_from(cluster.apps.len()).unwrap_or(1).max(1);
    if missing <= 0 {
        return;
    }
    for (i, app) in cluster.apps.iter().enumerate() {
        let share = missing / count + i64::from(i64::try_from(i).unwrap_or(0) < missing % count);
        let replicas = app.replicas + share;
        // A blue-green app grows its live colour, the one the Service sends traffic to.
        let name =
            app.blue_green.as_ref().map_or_else(|| app.name.clone(), |b| format!("{}-{}", app.name, b.live));
        if app.rollout.is_some() {
            store.mutate(ROLLOUTS, "shop", &name, |r| r["spec"]["replicas"] = json!(replicas));
            continue;
        }
        // Flagger's primary serves the stable traffic.
        let name = if app.flagger.is_some() { format!("{name}-primary") } else { name };
        store.mutate(DEPLOYMENTS, "shop", &name, |d| {
            d["spec"]["replicas"] = json!(replicas);
        });
    }
}
