//! A synthetic environment for benchmarks: three apps and filler Deployments up to `pods`
//! pods, shaped like the demo fleet at scale.

use std::collections::BTreeMap;

use opsdeck::health::inventory::{DeploymentInfo, EventInfo, Inventory, NodeInfo, PodInfo, ReplicaSetInfo};

fn labels(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_owned(), app.to_owned()), ("track".to_owned(), "stable".to_owned())])
}

fn deployment(name: &str, replicas: i32) -> DeploymentInfo {
    DeploymentInfo {
        namespace: "shop".into(),
        name: name.into(),
        labels: labels(name),
        selector: labels(name),
        desired: replicas,
        updated: replicas,
        ready: replicas,
        available: replicas,
        current: replicas,
        generation: 2,
        observed_generation: 2,
        paused: false,
        progress_deadline_seconds: 600,
        conditions: Vec::new(),
        images: vec![format!("registry.example.com/shop/{name}:v1.2.0")],
        revision: Some(2),
        created: Some(jiff::Timestamp::UNIX_EPOCH),
    }
}

pub fn inventory(pods: usize, now: jiff::Timestamp) -> Inventory {
    let mut inventory = Inventory::default();
    let apps = ["web", "api", "worker"];
    let fillers = pods.div_ceil(500);
    let names: Vec<String> =
        apps.iter().map(|a| (*a).to_owned()).chain((0..fillers).map(|i| format!("filler-{i}"))).collect();
    for (i, name) in names.iter().enumerate() {
        let replicas = if i < apps.len() { 3 } else { 500 };
        inventory.deployments.push(deployment(name, replicas));
        inventory.replica_sets.push(ReplicaSetInfo {
            namespace: "shop".into(),
            name: format!("{name}-abc"),
            owner: Some(name.clone()),
            revision: Some(2),
            desired: replicas,
            ready: replicas,
            available: replicas,
            images: vec![format!("registry.example.com/shop/{name}:v1.2.0")],
            change_cause: Some("release".into()),
            created: Some(jiff::Timestamp::UNIX_EPOCH),
            ports: Vec::new(),
        });
    }
    for n in 0..pods {
        let name = &names[n % names.len()];
        inventory.pods.push(std::sync::Arc::new(PodInfo {
            namespace: "shop".into(),
            name: format!("{name}-abc-{n:05}"),
            labels: labels(name).into(),
            owner: Some(format!("{name}-abc")),
            phase: "Running".into(),
            ready: true,
            restarts: 0,
            last_restart: None,
            waiting_reason: None,
            node: Some(format!("node-{}", n % 20)),
            created: Some(now),
            images: vec![format!("registry.example.com/shop/{name}:v1.2.0")],
            terminating: false,
            container: name.clone(),
            last_termination: None,
        }));
    }
    inventory.nodes = (0..20).map(|i| NodeInfo { name: format!("node-{i}"), ready: true }).collect();
    inventory.events = (0..50)
        .map(|i| EventInfo {
            namespace: "shop".into(),
            kind: "Pod".into(),
            name: format!("web-abc-{i:05}"),
            reason: "BackOff".into(),
            message: "Back-off restarting failed container".into(),
            count: 3,
            last_seen: Some(now),
        })
        .collect();
    inventory
}
