//! What the tree is asked about, read from the watches' inventory: the new version's pods
//! (those of the ReplicaSet the Deployment's current revision names), their probe failures,
//! and the app's Service with its EndpointSlices and what routes to it.

use super::tree::{Observed, PodSeen, ServiceSeen, Serving};
use crate::health::Inventory;
use crate::health::assess::AppSpec;
use crate::health::inventory::{PodInfo, ReplicaSetInfo, ServiceInfo, TargetPort};

/// Everything the tree asks, from the inventory and the figures the guard measured.
pub fn observed(
    spec: &AppSpec<'_>,
    inventory: &Inventory,
    now: jiff::Timestamp,
    services_watched: bool,
    figures: Option<crate::metrics::Figures>,
    baseline: Option<crate::metrics::Figures>,
) -> Observed {
    Observed {
        now,
        pods: new_pods(spec, inventory),
        service: serving(spec, inventory, services_watched),
        figures,
        baseline,
    }
}

/// The ReplicaSet of the stable Deployment's current revision: the new version's.
pub fn current_replica_set<'i>(spec: &AppSpec<'_>, inventory: &'i Inventory) -> Option<&'i ReplicaSetInfo> {
    let (stable, _) = spec.live_names(inventory);
    let deployment =
        inventory.deployments.iter().find(|d| d.namespace == spec.namespace && d.name == stable)?;
    inventory.replica_sets.iter().find(|rs| {
        rs.namespace == spec.namespace
            && rs.owner.as_deref() == Some(stable)
            && rs.revision.is_some()
            && rs.revision == deployment.revision
    })
}

fn pods_of<'i>(inventory: &'i Inventory, rs: &ReplicaSetInfo) -> impl Iterator<Item = &'i PodInfo> {
    let (namespace, name) = (rs.namespace.clone(), rs.name.clone());
    inventory
        .pods
        .iter()
        .map(AsRef::as_ref)
        .filter(move |p| p.namespace == namespace && p.owner.as_deref() == Some(&name) && !p.terminating)
}

/// The pods of the stable Deployment's current revision, with the `Unhealthy` events about
/// each (the kubelet's probe failures).
pub fn new_pods(spec: &AppSpec<'_>, inventory: &Inventory) -> Vec<PodSeen> {
    let Some(current) = current_replica_set(spec, inventory) else { return Vec::new() };
    let mut pods: Vec<PodSeen> = pods_of(inventory, current)
        .map(|p| PodSeen {
            name: p.name.clone(),
            phase: p.phase.clone(),
            ready: p.ready,
            restarts: p.restarts,
            waiting: p.waiting_reason.clone(),
            last_termination: p.last_termination.clone(),
            created: p.created,
            probe_failures: inventory
                .events
                .iter()
                .filter(|e| {
                    e.namespace == p.namespace
                        && e.kind == "Pod"
                        && e.name == p.name
                        && e.reason == "Unhealthy"
                })
                .map(|e| e.message.clone())
                .collect(),
        })
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    pods
}

fn selects(service: &ServiceInfo, pod: &PodInfo) -> bool {
    !service.selector.is_empty()
        && service.selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v.as_str()))
}

/// The app's Service as the third question reads it: a Service named after the app or its
/// Deployment, or one whose selector picks any of the app's pods, old or new — so a new
/// version whose labels no longer match is caught, not taken for an app without a Service.
/// Of several, the first with a problem, else the one named after the app. `watched`: whether
/// Services and EndpointSlices are read in this environment at all.
pub fn serving(spec: &AppSpec<'_>, inventory: &Inventory, watched: bool) -> Serving {
    if !watched {
        return Serving::NotKnown;
    }
    let (stable, _) = spec.live_names(inventory);
    let Some(current) = current_replica_set(spec, inventory) else { return Serving::NotKnown };
    let new: Vec<&PodInfo> = pods_of(inventory, current).collect();
    let old: Vec<&PodInfo> = inventory
        .replica_sets
        .iter()
        .filter(|rs| rs.namespace == spec.namespace && rs.owner.as_deref() == Some(stable))
        .flat_map(|rs| pods_of(inventory, rs))
        .collect();
    let mut candidates: Vec<&ServiceInfo> = inventory
        .services
        .iter()
        .filter(|s| s.namespace == spec.namespace)
        .filter(|s| s.name == spec.name || s.name == stable || old.iter().any(|p| selects(s, p)))
        .collect();
    if candidates.is_empty() {
        return Serving::Nothing;
    }
    // The one named after the app first.
    candidates.sort_by_key(|s| (s.name != spec.name && s.name != stable, s.name.clone()));
    let seen: Vec<ServiceSeen> =
        candidates.iter().map(|s| service_seen(s, current, &new, inventory)).collect();
    let broken = seen.iter().find(|s| s.port_mismatch.is_some() || s.selects == 0 || s.ready_endpoints == 0);
    Serving::Service(broken.unwrap_or(&seen[0]).clone())
}

fn service_seen(
    service: &ServiceInfo,
    current: &ReplicaSetInfo,
    new: &[&PodInfo],
    inventory: &Inventory,
) -> ServiceSeen {
    let slices: Vec<_> = inventory
        .endpoint_slices
        .iter()
        .filter(|e| e.namespace == service.namespace && e.service.as_deref() == Some(service.name.as_str()))
        .collect();
    let ready_endpoints = slices.iter().map(|e| e.ready).sum();
    let selects = new.iter().filter(|p| selects(service, p)).count();
    let routed_by = inventory
        .ingresses
        .iter()
        .find(|i| i.namespace == service.namespace && i.backends.contains(&service.name))
        .map(|i| format!("Ingress {}/{}", i.namespace, i.name))
        .or_else(|| {
            inventory
                .routes
                .iter()
                .find(|r| {
                    r.namespace == service.namespace && r.backends.iter().any(|(b, _)| *b == service.name)
                })
                .map(|r| format!("HTTPRoute {}/{}", r.namespace, r.name))
        });
    ServiceSeen {
        name: format!("{}/{}", service.namespace, service.name),
        ready_endpoints,
        slices: u32::try_from(slices.len()).unwrap_or(u32::MAX),
        selects: u32::try_from(selects).unwrap_or(u32::MAX),
        port_mismatch: port_mismatch(service, current),
        routed_by,
    }
}

/// Which of the Service's target ports no container of the new version declares, naming the
/// ports on both sides. A container that declares no ports may listen anywhere: a numbered
/// target is not judged against it, a named one cannot resolve.
fn port_mismatch(service: &ServiceInfo, current: &ReplicaSetInfo) -> Option<String> {
    let declared = &current.ports;
    let missing: Vec<String> = service
        .ports
        .iter()
        .filter(|p| match &p.target {
            TargetPort::Number(n) => !declared.is_empty() && !declared.iter().any(|c| c.port == *n),
            TargetPort::Name(name) => !declared.iter().any(|c| c.name.as_deref() == Some(name.as_str())),
        })
        .map(|p| format!("port {} → targetPort {}", p.port, p.target))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let has = if declared.is_empty() {
        "declares no ports".to_owned()
    } else {
        format!("declares {}", declared.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    };
    Some(format!(
        "{} matches no container port of the new version ({} {has})",
        missing.join(", "),
        current.name
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::health::inventory::{
        ContainerPort, DeploymentInfo, EndpointSliceInfo, EventInfo, PodInfo, ReplicaSetInfo, ServicePort,
    };

    fn replica_set(name: &str, revision: u64) -> ReplicaSetInfo {
        ReplicaSetInfo {
            namespace: "shop".into(),
            name: name.into(),
            owner: Some("web".into()),
            revision: Some(revision),
            desired: 1,
            ready: 1,
            available: 1,
            images: Vec::new(),
            change_cause: None,
            created: None,
            ports: Vec::new(),
        }
    }

    fn pod(name: &str, owner: &str) -> Arc<PodInfo> {
        Arc::new(PodInfo {
            namespace: "shop".into(),
            name: name.into(),
            labels: std::collections::BTreeMap::from([("app".to_owned(), "web".to_owned())]).into(),
            owner: Some(owner.into()),
            phase: "Running".into(),
            ready: false,
            restarts: 0,
            last_restart: None,
            waiting_reason: None,
            node: None,
            created: None,
            images: Vec::new(),
            terminating: false,
            container: "web".into(),
            last_termination: None,
        })
    }

    fn web(ports: Vec<ContainerPort>) -> Inventory {
        let mut inventory = two_revisions();
        inventory.replica_sets[1].ports = ports;
        inventory
    }

    fn service(name: &str, selector: &[(&str, &str)], target: TargetPort) -> ServiceInfo {
        ServiceInfo {
            namespace: "shop".into(),
            name: name.into(),
            selector: selector.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            stable: None,
            ports: vec![ServicePort { name: Some("http".into()), port: 80, target }],
        }
    }

    fn slice(service: &str, ready: u32) -> EndpointSliceInfo {
        EndpointSliceInfo {
            namespace: "shop".into(),
            name: format!("{service}-x"),
            service: Some(service.into()),
            endpoints: ready,
            ready,
        }
    }

    fn http() -> Vec<ContainerPort> {
        vec![ContainerPort { name: Some("http".into()), port: 8080 }]
    }

    #[test]
    fn the_apps_service_is_judged_by_its_ports_selector_and_endpoints() {
        let spec = AppSpec { name: "web", namespace: "shop", deployment: "web", canary: None };
        // No Service at all: a worker.
        assert_eq!(serving(&spec, &web(http()), true), Serving::Nothing);
        assert_eq!(serving(&spec, &web(http()), false), Serving::NotKnown);

        let mut inventory = web(http());
        inventory.services = vec![service("web", &[("app", "web")], TargetPort::Number(8081))];
        inventory.endpoint_slices = vec![slice("web", 1)];
        let Serving::Service(seen) = serving(&spec, &inventory, true) else { panic!("a Service") };
        assert_eq!(
            seen.port_mismatch.as_deref(),
            Some(
                "port 80 → targetPort 8081 matches no container port of the new version (web-new declares http 8080)"
            )
        );
        assert_eq!((seen.selects, seen.ready_endpoints), (1, 1));

        inventory.services = vec![service("web", &[("app", "web")], TargetPort::Name("http".into()))];
        let Serving::Service(seen) = serving(&spec, &inventory, true) else { panic!("a Service") };
        assert_eq!(seen.port_mismatch, None, "a named target resolves to the declared port");

        // The new version's labels no longer match the Service that selected the old pods.
        inventory.services =
            vec![service("web", &[("app", "web"), ("tier", "front")], TargetPort::Number(8080))];
        let mut old = (*inventory.pods[0]).clone();
        old.labels.insert("tier".into(), "front".into());
        inventory.pods[0] = Arc::new(old);
        let Serving::Service(seen) = serving(&spec, &inventory, true) else { panic!("a Service") };
        assert_eq!(seen.selects, 0, "{seen:?}");
    }

    fn two_revisions() -> Inventory {
        Inventory {
            deployments: vec![DeploymentInfo {
                namespace: "shop".into(),
                name: "web".into(),
                labels: std::collections::BTreeMap::default(),
                selector: std::collections::BTreeMap::default(),
                desired: 1,
                updated: 1,
                ready: 0,
                available: 0,
                current: 2,
                generation: 2,
                observed_generation: 2,
                paused: false,
                progress_deadline_seconds: 600,
                conditions: Vec::new(),
                images: Vec::new(),
                revision: Some(2),
                created: None,
            }],
            replica_sets: vec![replica_set("web-old", 1), replica_set("web-new", 2)],
            pods: vec![pod("web-old-a", "web-old"), pod("web-new-a", "web-new")],
            ..Inventory::default()
        }
    }

    #[test]
    fn the_new_pods_are_the_current_revisions_with_their_probe_failures() {
        let inventory = Inventory {
            events: vec![EventInfo {
                namespace: "shop".into(),
                kind: "Pod".into(),
                name: "web-new-a".into(),
                reason: "Unhealthy".into(),
                message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
                count: 3,
                last_seen: None,
            }],
            ..two_revisions()
        };
        let spec = AppSpec { name: "web", namespace: "shop", deployment: "web", canary: None };
        let pods = new_pods(&spec, &inventory);
        assert_eq!(pods.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["web-new-a"]);
        assert_eq!(
            pods[0].probe_failures,
            ["Readiness probe failed: HTTP probe failed with statuscode: 503"]
        );
    }
}
