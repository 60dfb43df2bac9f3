//! One environment's watchers: a kube-runtime watcher per kind and namespace, turning objects
//! into the inventory's compact records as they arrive. No periodic re-listing: a watcher
//! lists once, then follows changes, and lists again only when the server says its
//! resourceVersion expired.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::health::from_k8s;
use crate::health::inventory::{
    ControllerInfo, DeploymentInfo, EndpointSliceInfo, EventInfo, GitOpsInfo, IngressInfo, Inventory,
    NodeInfo, PodInfo, ReplicaSetInfo, RouteInfo, ServiceInfo,
};

/// Server-side watch timeout: short, so a connection that died silently is replaced soon
/// (kube's default of 290 s would leave a dead watch unnoticed for five minutes).
const WATCH_TIMEOUT_SECS: u32 = 30;
/// A live watch shows a sign of life (an event, a bookmark, or its end at the server-side
/// timeout) at least this often; one that has not is dead, whatever its last data said.
pub const WATCH_SILENCE_LIMIT: std::time::Duration =
    std::time::Duration::from_secs(WATCH_TIMEOUT_SECS as u64 + 15);

/// What to watch in one environment.
#[derive(Debug, Clone, Default)]
pub struct WatchSpec {
    pub namespaces: Vec<String>,
    /// Narrows pods to the configured apps, e.g. `app in (web,api)`. Deployments and
    /// ReplicaSets are few and may not carry the pods' labels, so they are not narrowed.
    pub selector: Option<String>,
    pub ingresses: bool,
    pub routes: bool,
    pub services: Services,
    /// Where to watch Flux's Kustomizations and HelmReleases (optional: left out where the
    /// kinds are not installed or may not be read).
    pub flux_namespaces: Vec<String>,
    /// Where to watch Argo CD's Applications, likewise optional.
    pub argocd_namespaces: Vec<String>,
}

/// Whether an environment's Services (and their EndpointSlices) are watched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Services {
    #[default]
    Off,
    /// For the guard's "Service accessible?": left out where the credentials may not read them.
    Optional,
    /// Blue-green apps' Service selectors say which colour is live: they must be read.
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Deployment,
    ReplicaSet,
    Pod,
    Node,
    Event,
    Ingress,
    Route,
    Service,
    EndpointSlice,
    Kustomization,
    HelmRelease,
    Application,
    Rollout,
    FlaggerCanary,
}

#[derive(Debug, Clone)]
enum Item {
    Deployment(DeploymentInfo),
    ReplicaSet(ReplicaSetInfo),
    Pod(Arc<PodInfo>),
    Node(NodeInfo),
    Event(EventInfo),
    Ingress(IngressInfo),
    Route(RouteInfo),
    Service(ServiceInfo),
    EndpointSlice(EndpointSliceInfo),
    GitOps(GitOpsInfo),
    /// Boxed: a controller's record is the largest, and there are few of them.
    Controller(Box<ControllerInfo>),
}

impl Item {
    fn kind(&self) -> Kind {
        match self {
            Self::Deployment(_) => Kind::Deployment,
            Self::ReplicaSet(_) => Kind::ReplicaSet,
            Self::Pod(_) => Kind::Pod,
            Self::Node(_) => Kind::Node,
            Self::Event(_) => Kind::Event,
            Self::Ingress(_) => Kind::Ingress,
            Self::Route(_) => Kind::Route,
            Self::Service(_) => Kind::Service,
            Self::EndpointSlice(_) => Kind::EndpointSlice,
            Self::GitOps(i) => match i.kind.as_str() {
                "Kustomization" => Kind::Kustomization,
                "HelmRelease" => Kind::HelmRelease,
                _ => Kind::Application,
            },
            Self::Controller(i) => {
                if i.kind == "flagger" {
                    Kind::FlaggerCanary
                } else {
                    Kind::Rollout
                }
            }
        }
    }

    fn key(&self) -> (String, String) {
        match self {
            Self::Deployment(i) => (i.namespace.clone(), i.name.clone()),
            Self::ReplicaSet(i) => (i.namespace.clone(), i.name.clone()),
            Self::Pod(i) => (i.namespace.clone(), i.name.clone()),
            Self::Node(i) => (String::new(), i.name.clone()),
            // Events are keyed by what they are about and why, so a repeating event updates.
            Self::Event(i) => (i.namespace.clone(), format!("{}/{}/{}", i.kind, i.name, i.reason)),
            Self::Ingress(i) => (i.namespace.clone(), i.name.clone()),
            Self::Route(i) => (i.namespace.clone(), i.name.clone()),
            Self::Service(i) => (i.namespace.clone(), i.name.clone()),
            Self::EndpointSlice(i) => (i.namespace.clone(), i.name.clone()),
            Self::GitOps(i) => (i.namespace.clone(), i.name.clone()),
            Self::Controller(i) => (i.namespace.clone(), i.name.clone()),
        }
    }
}

/// Where a watcher's objects live: a kind in one namespace, or cluster-wide.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Source {
    kind: Kind,
    namespace: Option<String>,
}

#[derive(Debug)]
enum Delta {
    /// A (re)list starts: what it does not list again is gone.
    Init(Source),
    Upsert {
        item: Item,
        listing: Option<Source>,
    },
    Delete(Item),
    InitDone(Source),
    Failed(String),
    /// An optional source the credentials may not read: it is left out, not waited for.
    Retired(Source),
}

/// The live tables behind an environment's inventory.
#[derive(Debug, Default)]
pub struct Tables {
    items: HashMap<Kind, BTreeMap<(String, String), Item>>,
    relisting: HashMap<Source, HashSet<(String, String)>>,
    /// Sources that have finished their first list, and when.
    synced: HashMap<Source, std::time::Instant>,
    /// Optional sources left out because the credentials may not read them.
    retired: HashSet<Source>,
    /// The last watch error, until a watcher delivers again, and when it came.
    pub error: Option<String>,
    error_at: Option<std::time::Instant>,
}

impl Tables {
    fn apply(&mut self, delta: Delta) {
        match delta {
            Delta::Init(source) => {
                self.relisting.insert(source, HashSet::new());
            }
            Delta::Upsert { item, listing } => {
                self.error = None;
                let key = item.key();
                if let Some(seen) = listing.and_then(|s| self.relisting.get_mut(&s)) {
                    seen.insert(key.clone());
                }
                self.items.entry(item.kind()).or_default().insert(key, item);
            }
            Delta::Delete(item) => {
                if let Some(table) = self.items.get_mut(&item.kind()) {
                    table.remove(&item.key());
                }
            }
            Delta::InitDone(source) => {
                tracing::debug!(?source, "listed");
                self.synced.insert(source.clone(), std::time::Instant::now());
                let seen = self.relisting.remove(&source).unwrap_or_default();
                if let Some(table) = self.items.get_mut(&source.kind) {
                    table.retain(|key, _| {
                        source.namespace.as_ref().is_some_and(|ns| *ns != key.0) || seen.contains(key)
                    });
                }
            }
            Delta::Failed(error) => {
                self.error = Some(error);
                self.error_at = Some(std::time::Instant::now());
            }
            Delta::Retired(source) => {
                tracing::info!(?source, "not allowed to watch this optional source; left out");
                self.retired.insert(source);
            }
        }
    }

    /// A copy of everything, for the health model.
    pub fn inventory(&self) -> Inventory {
        let mut inventory = Inventory::default();
        for item in self.items.values().flat_map(BTreeMap::values) {
            match item.clone() {
                Item::Deployment(i) => inventory.deployments.push(i),
                Item::ReplicaSet(i) => inventory.replica_sets.push(i),
                Item::Pod(i) => inventory.pods.push(i),
                Item::Node(i) => inventory.nodes.push(i),
                Item::Event(i) => inventory.events.push(i),
                Item::Ingress(i) => inventory.ingresses.push(i),
                Item::Route(i) => inventory.routes.push(i),
                Item::Service(i) => inventory.services.push(i),
                Item::EndpointSlice(i) => inventory.endpoint_slices.push(i),
                Item::GitOps(i) => inventory.gitops.push(i),
                Item::Controller(mut i) => {
                    inventory.deployments.extend(i.workload.take().map(|w| *w));
                    inventory.controllers.push(*i);
                }
            }
        }
        inventory
    }
}

/// The changes from every watcher of one environment, on one channel.
pub struct Watchers {
    deltas: mpsc::Receiver<Delta>,
    tasks: Vec<JoinHandle<()>>,
    /// Each source and the API path its watch requests go to, for its pulse.
    paths: Vec<(Source, String)>,
}

impl Tables {
    /// Whether every one of `watchers`' sources has listed once.
    pub fn synced(&self, watchers: &Watchers) -> bool {
        self.synced.len() + self.retired.len() >= watchers.tasks.len()
    }

    /// The listed sources whose watch has shown no sign of life for longer than `limit`, as
    /// an operator reads them ("pods in shop"). A source still listing is not judged here.
    pub fn silent(
        &self,
        watchers: &Watchers,
        pulse: &super::Pulse,
        limit: std::time::Duration,
    ) -> Vec<String> {
        watchers
            .paths
            .iter()
            .filter(|(source, _)| !self.retired.contains(source))
            .filter_map(|(source, path)| {
                let listed = *self.synced.get(source)?;
                let last = pulse.last(path).map_or(listed, |beat| beat.max(listed));
                (last.elapsed() > limit).then(|| source.describe())
            })
            .collect()
    }

    /// Whether Services and their EndpointSlices are read here: watched, and not left out for
    /// want of permission. Without them no one can say an app has no Service.
    pub fn reads_services(&self, watchers: &Watchers) -> bool {
        let watched = watchers.paths.iter().any(|(source, _)| source.kind == Kind::Service);
        watched && !self.retired.iter().any(|s| matches!(s.kind, Kind::Service | Kind::EndpointSlice))
    }

    /// Forgets the last watch error once every watch has shown a sign of life since it came:
    /// the watchers recovered, even if nothing changed in the cluster to say so.
    pub fn recovered(&mut self, watchers: &Watchers, pulse: &super::Pulse) {
        let Some(at) = self.error_at else { return };
        let alive = watchers
            .paths
            .iter()
            .filter(|(source, _)| !self.retired.contains(source))
            .all(|(_, path)| pulse.last(path).is_some_and(|beat| beat > at));
        if alive {
            self.error = None;
            self.error_at = None;
        }
    }
}

impl Source {
    fn describe(&self) -> String {
        let kind = match self.kind {
            Kind::Deployment => "Deployments",
            Kind::ReplicaSet => "ReplicaSets",
            Kind::Pod => "pods",
            Kind::Node => "nodes",
            Kind::Event => "events",
            Kind::Ingress => "Ingresses",
            Kind::Route => "HTTPRoutes",
            Kind::Service => "Services",
            Kind::EndpointSlice => "EndpointSlices",
            Kind::Kustomization => "Flux Kustomizations",
            Kind::HelmRelease => "Flux HelmReleases",
            Kind::Application => "Argo CD Applications",
            Kind::Rollout => "Argo Rollouts",
            Kind::FlaggerCanary => "Flagger Canaries",
        };
        match &self.namespace {
            Some(ns) => format!("{kind} in {ns}"),
            None => kind.to_owned(),
        }
    }
}

/// Lists everything once through the watchers and returns the tables, or what is missing at
/// the deadline: for `opsdeck status`, which reads like the console does.
pub async fn sync_once(
    client: &Client,
    spec: &WatchSpec,
    deadline: std::time::Duration,
) -> Result<Tables, String> {
    let mut watchers = start(client, spec);
    sync(&mut watchers, deadline).await
}

/// Waits for `watchers` to have listed everything; they go on watching from there.
pub async fn sync(watchers: &mut Watchers, deadline: std::time::Duration) -> Result<Tables, String> {
    let mut tables = Tables::default();
    let result = tokio::time::timeout(deadline, async {
        while !tables.synced(watchers) {
            if !watchers.next(&mut tables).await {
                break;
            }
        }
    })
    .await;
    match result {
        Ok(()) if tables.synced(watchers) => Ok(tables),
        _ => {
            Err(tables.error.clone().unwrap_or_else(|| format!("not synced within {}s", deadline.as_secs())))
        }
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Watchers {
    /// Waits for the next change and applies it; `false` when every watcher has ended.
    pub async fn next(&mut self, tables: &mut Tables) -> bool {
        match self.deltas.recv().await {
            Some(delta) => {
                tables.apply(delta);
                true
            }
            None => false,
        }
    }
}

/// A watcher of one source. An `optional` one the credentials may not read (403) ends quietly
/// instead of holding the environment back or showing an error.
fn spawn<K>(
    api: Api<K>,
    config: watcher::Config,
    source: Source,
    to_item: fn(&K) -> Item,
    tx: mpsc::Sender<Delta>,
    optional: bool,
) -> (JoinHandle<()>, (Source, String))
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    let watched = (source.clone(), api.resource_url().to_owned());
    let task = tokio::spawn(async move {
        let mut stream = watcher(api, config).default_backoff().boxed();
        while let Some(event) = stream.next().await {
            let delta = match event {
                Ok(watcher::Event::Init) => Delta::Init(source.clone()),
                Ok(watcher::Event::InitApply(o)) => {
                    Delta::Upsert { item: to_item(&o), listing: Some(source.clone()) }
                }
                Ok(watcher::Event::InitDone) => Delta::InitDone(source.clone()),
                Ok(watcher::Event::Apply(o)) => Delta::Upsert { item: to_item(&o), listing: None },
                Ok(watcher::Event::Delete(o)) => Delta::Delete(to_item(&o)),
                // Not allowed to read it, or the kind is not installed (a CRD).
                Err(watcher::Error::InitialListFailed(kube::Error::Api(status)))
                    if optional && (status.code == 403 || status.code == 404) =>
                {
                    let _ = tx.send(Delta::Retired(source.clone())).await;
                    return;
                }
                Err(e) => {
                    tracing::warn!(?source, error = %e, "watch failed; backing off");
                    Delta::Failed(format!("watching {}: {}", source.describe(), watch_error(&e)))
                }
            };
            if tx.send(delta).await.is_err() {
                return;
            }
        }
    });
    (task, watched)
}

/// A watcher's error in one line an operator can act on, never a debug dump of a Status.
fn watch_error(error: &watcher::Error) -> String {
    match error {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => super::summarize(e),
        watcher::Error::WatchError(status) => {
            format!("{} {}: {}", status.code, status.reason, status.message)
        }
        other @ watcher::Error::NoResourceVersion => other.to_string(),
    }
}

fn dynamic(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// One optional kind (GitOps, progressive delivery) and where to watch it.
type GitOpsSource = (Kind, ApiResource, Vec<String>, fn(&DynamicObject) -> Item);

/// The optional watchers: GitOps and progressive-delivery controllers' kinds.
fn spawn_gitops(
    client: &Client,
    spec: &WatchSpec,
    config: &watcher::Config,
    tx: &mpsc::Sender<Delta>,
) -> Vec<(JoinHandle<()>, (Source, String))> {
    let mut tasks = Vec::new();
    for (kind, resource, namespaces, to_item) in gitops_sources(spec) {
        for ns in namespaces {
            let source = Source { kind, namespace: Some(ns.clone()) };
            tasks.push(spawn(
                Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &resource),
                config.clone(),
                source,
                to_item,
                tx.clone(),
                true,
            ));
        }
    }
    tasks
}

/// Argo Rollouts and Flagger in the environment's namespaces; Flux's two kinds in its
/// namespaces and the environment's own, Argo CD's Applications in its namespaces; each
/// namespace once.
fn gitops_sources(spec: &WatchSpec) -> Vec<GitOpsSource> {
    let mut flux: Vec<String> = Vec::new();
    if !spec.flux_namespaces.is_empty() {
        for ns in spec.flux_namespaces.iter().chain(&spec.namespaces) {
            if !flux.contains(ns) {
                flux.push(ns.clone());
            }
        }
    }
    vec![
        // Argo Rollouts and Flagger run releases in the apps' own namespaces.
        (
            Kind::Rollout,
            dynamic("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
            spec.namespaces.clone(),
            |o| Item::Controller(Box::new(from_k8s::argo_rollout(o))),
        ),
        (
            Kind::FlaggerCanary,
            dynamic("flagger.app", "v1beta1", "Canary", "canaries"),
            spec.namespaces.clone(),
            |o| Item::Controller(Box::new(from_k8s::flagger_canary(o))),
        ),
        (
            Kind::Kustomization,
            dynamic("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations"),
            flux.clone(),
            |o| Item::GitOps(from_k8s::flux("Kustomization", o)),
        ),
        (
            Kind::HelmRelease,
            dynamic("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases"),
            flux,
            |o| Item::GitOps(from_k8s::flux("HelmRelease", o)),
        ),
        (
            Kind::Application,
            dynamic("argoproj.io", "v1alpha1", "Application", "applications"),
            spec.argocd_namespaces.clone(),
            |o| Item::GitOps(from_k8s::argo_application(o)),
        ),
    ]
}

/// The watchers of what routes traffic in one namespace: Ingresses, HTTPRoutes, Services and
/// their EndpointSlices, as the spec asks.
fn spawn_traffic(
    client: &Client,
    ns: &str,
    spec: &WatchSpec,
    base: &watcher::Config,
    tx: &mpsc::Sender<Delta>,
) -> Vec<(JoinHandle<()>, (Source, String))> {
    let source = |kind| Source { kind, namespace: Some(ns.to_owned()) };
    let mut tasks = Vec::new();
    if spec.ingresses {
        tasks.push(spawn(
            Api::<Ingress>::namespaced(client.clone(), ns),
            base.clone(),
            source(Kind::Ingress),
            |o| Item::Ingress(from_k8s::ingress(o)),
            tx.clone(),
            false,
        ));
    }
    if spec.services != Services::Off {
        tasks.push(spawn(
            Api::<Service>::namespaced(client.clone(), ns),
            base.clone(),
            source(Kind::Service),
            |o| Item::Service(from_k8s::service(o)),
            tx.clone(),
            spec.services == Services::Optional,
        ));
        tasks.push(spawn(
            Api::<EndpointSlice>::namespaced(client.clone(), ns),
            base.clone(),
            source(Kind::EndpointSlice),
            |o| Item::EndpointSlice(from_k8s::endpoint_slice(o)),
            tx.clone(),
            true,
        ));
    }
    if spec.routes {
        let api = Api::<DynamicObject>::namespaced_with(
            client.clone(),
            ns,
            &dynamic("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes"),
        );
        tasks.push(spawn(
            api,
            base.clone(),
            source(Kind::Route),
            |o| Item::Route(from_k8s::route(o)),
            tx.clone(),
            false,
        ));
    }
    tasks
}

/// Starts every watcher the spec asks for.
pub fn start(client: &Client, spec: &WatchSpec) -> Watchers {
    let (tx, deltas) = mpsc::channel(1024);
    let base = watcher::Config::default().timeout(WATCH_TIMEOUT_SECS).page_size(100);
    let selected = spec.selector.as_ref().map_or_else(|| base.clone(), |s| base.clone().labels(s));
    let mut tasks = Vec::new();
    for ns in &spec.namespaces {
        let source = |kind| Source { kind, namespace: Some(ns.clone()) };
        let c = client.clone();
        tasks.push(spawn(
            Api::<Deployment>::namespaced(c.clone(), ns),
            base.clone(),
            source(Kind::Deployment),
            |o| Item::Deployment(from_k8s::deployment(o)),
            tx.clone(),
            false,
        ));
        tasks.push(spawn(
            Api::<ReplicaSet>::namespaced(c.clone(), ns),
            base.clone(),
            source(Kind::ReplicaSet),
            |o| Item::ReplicaSet(from_k8s::replica_set(o)),
            tx.clone(),
            false,
        ));
        tasks.push(spawn(
            Api::<Pod>::namespaced(c.clone(), ns),
            selected.clone(),
            source(Kind::Pod),
            |o| Item::Pod(Arc::new(from_k8s::pod(o))),
            tx.clone(),
            false,
        ));
        let warnings = base.clone().fields("type=Warning");
        tasks.push(spawn(
            Api::<Event>::namespaced(c.clone(), ns),
            warnings,
            source(Kind::Event),
            |o| Item::Event(from_k8s::event(o)),
            tx.clone(),
            false,
        ));
        tasks.extend(spawn_traffic(&c, ns, spec, &base, &tx));
    }
    tasks.extend(spawn_gitops(client, spec, &base, &tx));
    // A kubelet files its nodes' events in `default`, not in the apps' namespaces.
    if !spec.namespaces.iter().any(|ns| ns == "default") {
        let source = Source { kind: Kind::Event, namespace: Some("default".to_owned()) };
        tasks.push(spawn(
            Api::<Event>::namespaced(client.clone(), "default"),
            base.clone().fields("type=Warning,involvedObject.kind=Node"),
            source,
            |o| Item::Event(from_k8s::event(o)),
            tx.clone(),
            true,
        ));
    }
    let nodes = Source { kind: Kind::Node, namespace: None };
    tasks.push(spawn(
        Api::<Node>::all(client.clone()),
        base,
        nodes,
        |o| Item::Node(from_k8s::node(o)),
        tx,
        false,
    ));
    let (tasks, paths) = tasks.into_iter().unzip();
    Watchers { deltas, tasks, paths }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> Item {
        Item::Node(NodeInfo { name: name.into(), ready: true })
    }

    #[test]
    fn a_relist_forgets_what_it_no_longer_lists() {
        let mut tables = Tables::default();
        let source = Source { kind: Kind::Node, namespace: None };
        tables.apply(Delta::Init(source.clone()));
        for n in ["a", "b"] {
            tables.apply(Delta::Upsert { item: node(n), listing: Some(source.clone()) });
        }
        tables.apply(Delta::InitDone(source.clone()));
        assert_eq!(tables.inventory().nodes.len(), 2);
        // After a 410, the watcher lists again: "a" is gone now.
        tables.apply(Delta::Init(source.clone()));
        tables.apply(Delta::Upsert { item: node("b"), listing: Some(source.clone()) });
        tables.apply(Delta::InitDone(source));
        let names: Vec<String> = tables.inventory().nodes.into_iter().map(|n| n.name).collect();
        assert_eq!(names, ["b"]);
    }
}
