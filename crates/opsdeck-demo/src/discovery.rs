//! Discovery documents: how kubectl and kube learn what the fleet serves.

use serde_json::{Value, json};

use super::resources::{RESOURCES, groups};

pub fn version(git_version: &str) -> Value {
    let minor = git_version.split('.').nth(1).unwrap_or("33");
    json!({
        "major": "1",
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "opsdeck-demo",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    })
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

pub fn group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(|(g, v)| group_doc(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(name: &str) -> Option<Value> {
    groups().into_iter().find(|(g, _)| *g == name).map(|(g, v)| {
        let mut doc = group_doc(g, v);
        if let Some(map) = doc.as_object_mut() {
            map.insert("kind".into(), json!("APIGroup"));
            map.insert("apiVersion".into(), json!("v1"));
        }
        doc
    })
}

pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut list = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group && r.version == version) {
        list.push(json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs(),
            "shortNames": r.short_names,
        }));
        for sub in r.subresources {
            let (kind, verbs) = match *sub {
                "scale" => ("Scale", vec!["get", "patch", "update"]),
                "proxy" => ("PodProxyOptions", vec!["create", "delete", "get", "patch", "update"]),
                _ => (r.kind, vec!["get", "patch", "update"]),
            };
            let mut entry = json!({"name": format!("{}/{sub}", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": kind, "verbs": verbs});
            if *sub == "scale"
                && let Some(map) = entry.as_object_mut()
            {
                map.insert("group".into(), json!("autoscaling"));
                map.insert("version".into(), json!("v1"));
            }
            list.push(entry);
        }
    }
    if list.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list}),
    )
}
