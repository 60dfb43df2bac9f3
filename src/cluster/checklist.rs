//! Reads what the checklist's automated checks need from one environment, once: the apps'
//! Deployments and ReplicaSets, the namespaces' policies, budgets, quotas and autoscalers,
//! the nodes, and recent Warning events; and, when an item checks them, the apps' recent pod
//! logs.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, LimitRange, Namespace, Node, Pod, ResourceQuota, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Client;
use kube::api::{Api, ListParams};

use super::logs::SAMPLE_TAIL;
use super::ops::{OpError, REQUEST_TIMEOUT};
use crate::checklist::objects::LogWindow;
use crate::checklist::{AppObjects, Checklist, Objects, Previous};
use crate::config::{CanaryTarget, Config, EnvModel, Placement};
use crate::health::colours::{self, STABLE_ANNOTATION};
use crate::health::{AppSpec, Inventory, from_k8s};
use crate::logs::{ErrorPatterns, ReadError, Sample, Target, Unread};

async fn list<K>(client: &Client, namespace: Option<&str>, params: ListParams) -> Result<Vec<K>, OpError>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::default_namespaced(client.clone()),
    };
    let what = format!("list {} in {}", K::plural(&()), namespace.unwrap_or("the default namespace"));
    match tokio::time::timeout(REQUEST_TIMEOUT, api.list(&params)).await {
        Ok(Ok(list)) => Ok(list.items),
        Ok(Err(e)) => Err(OpError::Failed(format!("{what}: {}", super::summarize(&e)))),
        Err(_) => {
            Err(OpError::Unreachable(format!("{what}: no answer within {}s", REQUEST_TIMEOUT.as_secs())))
        }
    }
}

fn owned_by(rs: &ReplicaSet, deployment: &Deployment) -> bool {
    rs.metadata.owner_references.as_ref().is_some_and(|refs| {
        refs.iter().any(|r| r.kind == "Deployment" && Some(&r.uid) == deployment.metadata.uid.as_ref())
    })
}

/// The stable and canary Deployments' names: the config's, or for a blue-green the roles its
/// Service gives the two colours now, or for an app Flagger runs its primary (which serves)
/// and its target (the canary).
async fn live_names<'p>(
    client: &Client,
    app: &'p Placement,
    deployments: &'p [Deployment],
) -> Result<(&'p str, Option<&'p str>), OpError> {
    let canary = app.canary.as_ref().map(|c| c.deployment.as_str());
    if canary.is_none()
        && let Some(primary) = flagger_primary(&app.deployment, deployments)
    {
        return Ok((primary, Some(&app.deployment)));
    }
    let Some(CanaryTarget::ServiceSelector { service, label, canary_deployment, .. }) =
        app.canary.as_ref().map(|c| &c.target)
    else {
        return Ok((&app.deployment, canary));
    };
    let services: Vec<Service> = list(client, Some(&app.namespace), ListParams::default()).await?;
    let service = services.iter().find(|s| s.metadata.name.as_deref() == Some(service.as_str()));
    let colour = |name: &str| {
        deployments
            .iter()
            .find(|d| d.metadata.name.as_deref() == Some(name))
            .and_then(|d| d.spec.as_ref()?.selector.match_labels.as_ref()?.get(label).cloned())
    };
    let selected = service.and_then(|s| s.spec.as_ref()?.selector.as_ref()?.get(label).cloned());
    let recorded = service.and_then(|s| s.metadata.annotations.as_ref()?.get(STABLE_ANNOTATION).cloned());
    let roles = colours::roles(
        selected.as_deref(),
        recorded.as_deref(),
        colour(&app.deployment).as_deref(),
        colour(canary_deployment).as_deref(),
    );
    Ok(match roles {
        Ok(r) => {
            let (stable, canary) = r.order(app.deployment.as_str(), canary_deployment.as_str());
            (stable, Some(canary))
        }
        Err(_) => (&app.deployment, canary),
    })
}

/// The Deployment Flagger made to serve `target`'s stable traffic: `TARGET-primary`, owned by a
/// Flagger Canary.
fn flagger_primary<'d>(target: &str, deployments: &'d [Deployment]) -> Option<&'d str> {
    let primary = format!("{target}-primary");
    deployments
        .iter()
        .find(|d| d.metadata.name.as_deref() == Some(primary.as_str()))
        .filter(|d| {
            d.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "Canary" && o.api_version.starts_with("flagger.app/"))
        })
        .and_then(|d| d.metadata.name.as_deref())
}

/// The apps of one environment, with their Deployments and ReplicaSets.
pub async fn apps(client: &Client, apps: &[Placement]) -> Result<Vec<AppObjects>, OpError> {
    let mut out = Vec::new();
    for app in apps {
        let deployments: Vec<Deployment> = list(client, Some(&app.namespace), ListParams::default()).await?;
        let replica_sets: Vec<ReplicaSet> = list(client, Some(&app.namespace), ListParams::default()).await?;
        let find =
            |name: &str| deployments.iter().find(|d| d.metadata.name.as_deref() == Some(name)).cloned();
        let (stable, canary) = live_names(client, app, &deployments).await?;
        let deployment = find(stable);
        let owned = deployment
            .as_ref()
            .map(|d| replica_sets.iter().filter(|rs| owned_by(rs, d)).cloned().collect())
            .unwrap_or_default();
        out.push(AppObjects {
            app: app.app.clone(),
            namespace: app.namespace.clone(),
            deployment_name: stable.to_owned(),
            canary: canary.and_then(find),
            deployment,
            replica_sets: owned,
            logs: None,
        });
    }
    Ok(out)
}

/// Everything the checks read in one environment. The previous environment is the caller's
/// to add.
pub async fn objects(client: &Client, env: &str, wanted: &[Placement]) -> Result<Objects, OpError> {
    let mut namespaces: Vec<&str> = Vec::new();
    for app in wanted {
        if !namespaces.contains(&app.namespace.as_str()) {
            namespaces.push(&app.namespace);
        }
    }
    let mut objects = Objects {
        env: env.to_owned(),
        apps: apps(client, wanted).await?,
        now: jiff::Timestamp::now(),
        ..Objects::default()
    };
    for ns in namespaces {
        let any = ListParams::default;
        objects.pdbs.extend(list::<PodDisruptionBudget>(client, Some(ns), any()).await?);
        objects.network_policies.extend(list::<NetworkPolicy>(client, Some(ns), any()).await?);
        objects.quotas.extend(list::<ResourceQuota>(client, Some(ns), any()).await?);
        objects.limit_ranges.extend(list::<LimitRange>(client, Some(ns), any()).await?);
        objects.hpas.extend(list::<HorizontalPodAutoscaler>(client, Some(ns), any()).await?);
        objects
            .events
            .extend(list::<Event>(client, Some(ns), ListParams::default().fields("type=Warning")).await?);
        let api: Api<Namespace> = Api::all(client.clone());
        match tokio::time::timeout(REQUEST_TIMEOUT, api.get(ns)).await {
            Ok(Ok(namespace)) => objects.namespaces.push(namespace),
            Ok(Err(e)) => tracing::info!(namespace = ns, error = %e, "namespace unreadable"),
            Err(_) => return Err(OpError::Unreachable(format!("get namespace {ns}: no answer"))),
        }
    }
    let nodes: Api<Node> = Api::all(client.clone());
    match tokio::time::timeout(REQUEST_TIMEOUT, nodes.list(&ListParams::default())).await {
        Ok(Ok(list)) => objects.nodes = list.items,
        Ok(Err(e)) => objects.nodes_error = Some(super::summarize(&e)),
        Err(_) => objects.nodes_error = Some(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())),
    }
    Ok(objects)
}

/// Everything the automated checks read: `env`'s objects, and the previous environment's apps
/// for the soak check. `previous` is that environment with its read client, or why there is
/// none; a previous environment that cannot be read fails the soak check rather than the whole
/// checklist.
///
/// The apps' pod logs are read only when `checklist` has an item that checks them, over the
/// widest window its items ask for, with `config`'s error patterns.
pub async fn gather(
    client: &Client,
    env: &EnvModel,
    previous: Option<(&EnvModel, Result<Client, String>)>,
    checklist: &Checklist,
    config: &Config,
) -> Result<Objects, OpError> {
    let mut objects = objects(client, &env.name, &env.apps).await?;
    if let Some(window) = crate::checklist::checks::log_window(checklist, config, SAMPLE_TAIL) {
        let patterns = config.logs.patterns();
        for app in &mut objects.apps {
            app.logs = Some(app_logs(client, app, &window, &patterns).await);
        }
        objects.logs = window;
    }
    if let Some((previous_env, read)) = previous {
        let read = match read {
            Ok(client) => apps(&client, &previous_env.apps).await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match read {
            Ok(apps) => objects.previous = Some(Previous { env: previous_env.name.clone(), apps }),
            Err(e) => objects.previous_error = Some(format!("{} could not be read: {e}", previous_env.name)),
        }
    }
    Ok(objects)
}

/// The app's live pods' logs over the window. Nothing here fails the checklist: what cannot
/// be read is recorded for the check to report.
async fn app_logs(client: &Client, app: &AppObjects, window: &LogWindow, patterns: &ErrorPatterns) -> Sample {
    let minutes = u32::try_from(window.read_minutes).unwrap_or(u32::MAX);
    let api: Api<Pod> = Api::namespaced(client.clone(), &app.namespace);
    match log_targets(client, &api, app).await {
        Ok(targets) => super::logs::sample(&api, targets, minutes, patterns).await,
        Err(why) => Sample { minutes, unread: vec![Unread { pod: "*".into(), why }], ..Sample::default() },
    }
}

/// The app's live pods, stable and canary, told apart as the health model tells them: from
/// the namespace's pods and ReplicaSets and the Deployments gather already resolved (a
/// blue-green's colours, Flagger's primary), so the spec names them as they are now.
async fn log_targets(client: &Client, api: &Api<Pod>, app: &AppObjects) -> Result<Vec<Target>, ReadError> {
    let pods = listed("pods", tokio::time::timeout(REQUEST_TIMEOUT, api.list(&ListParams::default())).await)?;
    let replica_sets: Api<ReplicaSet> = Api::namespaced(client.clone(), &app.namespace);
    let replica_sets = listed(
        "replicasets",
        tokio::time::timeout(REQUEST_TIMEOUT, replica_sets.list(&ListParams::default())).await,
    )?;
    let inventory = Inventory {
        deployments: app.deployment.iter().chain(&app.canary).map(from_k8s::deployment).collect(),
        replica_sets: replica_sets.iter().map(from_k8s::replica_set).collect(),
        pods: pods.iter().map(|p| Arc::new(from_k8s::pod(p))).collect(),
        ..Inventory::default()
    };
    let canary = app
        .canary
        .as_ref()
        .and_then(|c| c.metadata.name.clone())
        .map(|canary_deployment| CanaryTarget::Replicas { canary_deployment });
    let spec = AppSpec {
        name: &app.app,
        namespace: &app.namespace,
        deployment: &app.deployment_name,
        canary: canary.as_ref(),
    };
    Ok(crate::logs::targets(&spec, &inventory))
}

/// A list's items, or why there are none, as the log check words it.
fn listed<K: Clone>(
    what: &str,
    answer: Result<Result<kube::api::ObjectList<K>, kube::Error>, tokio::time::error::Elapsed>,
) -> Result<Vec<K>, ReadError> {
    match answer {
        Ok(Ok(list)) => Ok(list.items),
        Ok(Err(kube::Error::Api(status))) if status.code == 403 => Err(ReadError::Forbidden(status.message)),
        Ok(Err(e)) => Err(ReadError::Unreachable(format!("cannot list {what}: {}", super::summarize(&e)))),
        Err(_) => Err(ReadError::Unreachable(format!(
            "cannot list {what}: no answer within {}s",
            REQUEST_TIMEOUT.as_secs()
        ))),
    }
}
