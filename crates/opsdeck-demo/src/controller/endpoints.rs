//! The EndpointSlice controller's part: one slice per Service with a selector, listing the
//! pods it selects with their readiness, so a reader sees what a Service reaches as it would
//! on a real cluster (opsdeck's guard asks "Service accessible?" of them).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Controller;
use crate::resources::{ENDPOINT_SLICES, SERVICES};
use crate::store::Store;

/// The label the real controller puts on a slice, naming its Service.
const SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Endpoints per slice, as the real controller's default `--max-endpoints-per-slice`.
const PER_SLICE: usize = 100;

pub fn reconcile_endpoint_slices(ctl: &Controller, store: &Store) {
    let (services, _) = store.list(SERVICES, None, |_| true);
    for service in &services {
        let Some(selector) = service.pointer("/spec/selector").and_then(Value::as_object) else { continue };
        if selector.is_empty() {
            continue;
        }
        let ns = service.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
        let name = service.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let selector: BTreeMap<&str, &str> =
            selector.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect();
        let mut pods: Vec<_> = ctl
            .pods
            .values()
            .filter(|p| p.namespace == ns && !p.pod_ip.is_empty())
            .filter(|p| selector.iter().all(|(k, v)| p.labels.get(*k).map(String::as_str) == Some(*v)))
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|p| {
                json!({
                    "addresses": [p.pod_ip],
                    "conditions": {"ready": p.ready(), "serving": p.ready(), "terminating": false},
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": p.name},
                })
            })
            .collect();
        let ports = slice_ports(service);
        let chunks: Vec<&[Value]> =
            if endpoints.is_empty() { vec![&[]] } else { endpoints.chunks(PER_SLICE).collect() };
        for (i, chunk) in chunks.iter().enumerate() {
            write_slice(store, service, &format!("{name}-{i}"), chunk, &ports);
        }
        // Slices beyond what the pods fill now go.
        let mut extra = chunks.len();
        while store.get(ENDPOINT_SLICES, ns, &format!("{name}-{extra}")).is_some() {
            let _ = store.delete(ENDPOINT_SLICES, ns, &format!("{name}-{extra}"), false);
            extra += 1;
        }
    }
}

/// One slice as it should be; written only when it differs, so a settled fleet stays settled.
fn write_slice(store: &Store, service: &Value, slice_name: &str, endpoints: &[Value], ports: &Value) {
    let ns = service.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let name = service.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let endpoints = Value::Array(endpoints.to_vec());
    match store.get(ENDPOINT_SLICES, ns, slice_name) {
        Some(current)
            if current.get("endpoints") == Some(&endpoints) && current.get("ports") == Some(ports) => {}
        Some(_) => {
            store.mutate(ENDPOINT_SLICES, ns, slice_name, |slice| {
                slice["endpoints"] = endpoints.clone();
                slice["ports"] = ports.clone();
            });
        }
        None => {
            let slice = json!({
                "metadata": {
                    "name": slice_name,
                    "labels": {SERVICE_NAME: name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                    "ownerReferences": super::owner_ref("Service", service),
                },
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            });
            let _ = store.create(ENDPOINT_SLICES, ns, slice, false);
        }
    }
}

/// The Service's ports as a slice lists them: the target port, numbered. (The demo's pods
/// name their one port `http`; a named target resolves to it.)
fn slice_ports(service: &Value) -> Value {
    let ports = service.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        ports
            .iter()
            .map(|p| {
                let target = match p.get("targetPort") {
                    Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
                    Some(Value::String(_)) => 8080,
                    _ => p.get("port").and_then(Value::as_i64).unwrap_or(0),
                };
                json!({"name": p.get("name").cloned().unwrap_or(json!("")), "port": target, "protocol": "TCP"})
            })
            .collect(),
    )
}
