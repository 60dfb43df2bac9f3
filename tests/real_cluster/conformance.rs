//! The demo fleet against a real API server: the same objects applied to both, then one set of
//! reads compared field by field — the records opsdeck makes of what it reads
//! (`health::from_k8s`), the defaults a server fills in, where node events are filed, the
//! errors kubectl shows, and opsdeck's own `status --json`. Names a server generates (hashes,
//! pod suffixes), times and node names differ by nature and are compared by presence.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::api::networking::v1::Ingress;
use opsdeck::health::from_k8s;
use serde_json::{Value, json};

use super::fleet;
use super::real::{self, Real, canary_ingress, deployment, text};

const STABLE: &str = "registry.example.com/e2e/web:v1.0.0";
const CANARY: &str = "registry.example.com/e2e/web:v1.1.0";

fn objects() -> Vec<Value> {
    let service = |name: &str, track: &str, headless: bool| {
        let mut spec = json!({"selector": {"app": "web", "track": track}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]});
        if headless {
            spec["clusterIP"] = json!("None");
        }
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"app": "web"}}, "spec": spec})
    };
    vec![
        deployment("web", "web", "stable", 3, STABLE),
        deployment("web-canary", "web", "canary", 1, CANARY),
        service("web", "stable", false),
        service("web-canary", "canary", true),
        canary_ingress(10),
    ]
}

fn list<T: serde::de::DeserializeOwned>(side: &Real, context: &str, args: &[&str]) -> Vec<T> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let items: Value = serde_json::from_str(&side.ok(context, &all)).expect("a list");
    serde_json::from_value(items["items"].clone()).expect("items")
}

fn record<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("serialisable")
}

/// What opsdeck reads of the `web` app in one context, with every generated name replaced by
/// a placeholder, and times and nodes by whether they are there.
fn reading(side: &Real, context: &str) -> Value {
    let stable: Deployment =
        serde_json::from_value(side.get(context, "deployment", "web")).expect("deployment");
    let mut sets: Vec<ReplicaSet> = list(side, context, &["replicasets", "-l", "app=web"]);
    sets.sort_by_key(|rs| rs.metadata.labels.as_ref().and_then(|l| l.get("track").cloned()));
    let pods: Vec<Pod> = list(side, context, &["pods", "-l", "app=web"]);
    let ingress: Ingress =
        serde_json::from_value(side.get(context, "ingress", "web-canary")).expect("ingress");
    let mut names: Vec<(String, String)> = Vec::new();
    let mut pod_records: Vec<Value> = pods.iter().map(|p| record(&from_k8s::pod(p))).collect();
    for (i, p) in pods.iter().enumerate() {
        names.push((p.metadata.name.clone().unwrap_or_default(), format!("<pod {i}>")));
    }
    for rs in &sets {
        let name = rs.metadata.name.clone().unwrap_or_default();
        let owner = name.rsplit_once('-').map_or(name.as_str(), |(o, _)| o).to_owned();
        names.push((name, format!("{owner}-<hash>")));
    }
    names.push((side.ns.clone(), "<ns>".into()));
    // The longest first: a pod's name starts with its ReplicaSet's.
    names.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    let mut reading = json!({
        "deployment": record(&from_k8s::deployment(&stable)),
        "replica_sets": sets.iter().map(|rs| record(&from_k8s::replica_set(rs))).collect::<Vec<_>>(),
        "ingress": record(&from_k8s::ingress(&ingress)),
    });
    normalize(&mut reading, &names);
    for pod in &mut pod_records {
        normalize(pod, &names);
        // Which pod is which differs; what each says must not.
        pod["name"] = json!("<pod>");
    }
    pod_records.sort_by_key(Value::to_string);
    reading["pods"] = Value::Array(pod_records);
    reading
}

/// `names` replaced by their placeholders (`names` longest first), times and nodes by presence.
fn normalize(value: &mut Value, names: &[(String, String)]) {
    match value {
        Value::String(s) => {
            for (from, to) in names {
                if !from.is_empty() {
                    *s = s.replace(from.as_str(), to);
                }
            }
        }
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if matches!(key.as_str(), "created" | "last_restart" | "last_seen" | "node") {
                    *v = json!(!v.is_null());
                } else {
                    normalize(v, names);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalize(v, names)),
        _ => {}
    }
}

/// The fields a server fills in that the issue found missing, read raw.
fn defaults(side: &Real, context: &str) -> Value {
    let d = side.get(context, "deployment", "web");
    let pods: Vec<Value> = serde_json::from_str::<Value>(
        &side.ok(context, &["get", "pods", "-l", "app=web,track=stable", "-o", "json"]),
    )
    .expect("pods")["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let pick = |object: &Value, pointers: &[&str]| -> Value {
        pointers
            .iter()
            .map(|p| ((*p).to_owned(), object.pointer(p).cloned().unwrap_or(Value::Null)))
            .collect()
    };
    let template = [
        "/spec/template/spec/dnsPolicy",
        "/spec/template/spec/restartPolicy",
        "/spec/template/spec/schedulerName",
        "/spec/template/spec/terminationGracePeriodSeconds",
        "/spec/template/spec/containers/0/imagePullPolicy",
        "/spec/template/spec/containers/0/terminationMessagePath",
        "/spec/template/spec/containers/0/terminationMessagePolicy",
    ];
    let mut deployment_fields =
        vec!["/spec/revisionHistoryLimit", "/spec/progressDeadlineSeconds", "/spec/strategy"];
    deployment_fields.extend(template);
    let pod_fields = [
        "/spec/dnsPolicy",
        "/spec/restartPolicy",
        "/spec/schedulerName",
        "/spec/terminationGracePeriodSeconds",
        "/spec/enableServiceLinks",
        "/spec/containers/0/imagePullPolicy",
        "/spec/containers/0/terminationMessagePolicy",
    ];
    let service = |name: &str, ip: bool| {
        let s = side.get(context, "service", name);
        let mut fields = pick(
            &s,
            &[
                "/spec/type",
                "/spec/ipFamilies",
                "/spec/ipFamilyPolicy",
                "/spec/internalTrafficPolicy",
                "/spec/sessionAffinity",
                "/spec/ports",
            ],
        );
        // An allocated address differs; that there is one must not.
        let allocated =
            s.pointer("/spec/clusterIP").and_then(Value::as_str).map(|a| if ip { "<allocated>" } else { a });
        fields["/spec/clusterIP"] = json!(allocated);
        fields["/spec/clusterIPs"] =
            json!(s.pointer("/spec/clusterIPs").and_then(Value::as_array).map(Vec::len));
        fields
    };
    json!({
        "deployment": pick(&d, &deployment_fields),
        "replica_sets": list::<Value>(side, context, &["replicasets", "-l", "app=web"]).iter().map(|rs| pick(rs, &template)).collect::<Vec<_>>(),
        "pod": pods.first().map(|p| pick(p, &pod_fields)),
        "service": service("web", true),
        "headless_service": service("web-canary", false),
    })
}

/// kubectl's words for a missing object, a stale write and a forbidden verb.
fn errors(side: &Real, context: &str) -> Vec<String> {
    let mut current = side.get(context, "deployment", "web");
    current["metadata"]["resourceVersion"] = json!("1");
    let stale = std::env::temp_dir().join(format!("{}-{context}-stale.json", side.ns));
    std::fs::write(&stale, current.to_string()).expect("write");
    let answers = [
        side.kubectl(context, &["get", "deployment", "nope"]),
        side.kubectl(context, &["replace", "--validate=false", "-f", &stale.to_string_lossy()]),
        side.kubectl(&format!("{context}-readonly"), &["scale", "deployment", "web", "--replicas", "4"]),
    ];
    let _ = std::fs::remove_file(&stale);
    answers
        .iter()
        .map(|out| {
            assert!(!out.status.success(), "{}", text(out));
            let said = String::from_utf8_lossy(&out.stderr)
                .replace(&side.ns, "<ns>")
                .replace(&*stale.to_string_lossy(), "<file>");
            // Who is refused is each cluster's own user; what is refused must match.
            match (said.find("User \""), said.find("\" cannot")) {
                (Some(a), Some(b)) if a < b => format!("{}User <user>{}", &said[..a], &said[b + 1..]),
                _ => said,
            }
            .trim()
            .to_owned()
        })
        .collect()
}

/// opsdeck's own reading of the three environments, without what differs by nature.
fn status(side: &Real) -> Value {
    let out = side.opsdeck(&["status", "--json"]);
    let status: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}", text(&out)));
    let mut apps: Vec<Value> = status["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .map(|e| json!({"env": e["name"], "reachable": e["reachable"], "apps": e["health"]["apps"]}))
        .collect();
    let names = [(side.ns.clone(), "<ns>".to_owned())];
    for app in &mut apps {
        normalize(app, &names);
    }
    Value::Array(apps)
}

/// Every difference between the two, one line each, so a failure names them all.
fn differences(path: &str, real: &Value, demo: &Value, out: &mut Vec<String>) {
    match (real, demo) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let (x, y) = (a.get(key).unwrap_or(&Value::Null), b.get(key).unwrap_or(&Value::Null));
                differences(&format!("{path}.{key}"), x, y, out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if real != demo => out.push(format!("{path}: real {real} · demo {demo}")),
        _ => {}
    }
}

#[test]
#[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
fn the_demo_fleet_answers_as_the_real_server_does() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let demo = runtime.block_on(fleet::start());
    let objects = objects();
    let real = Real::start("conformance", &objects);
    let simulated = Real::start_on(PathBuf::from(&demo.kubeconfig), "conformance", &objects);
    for side in [&real, &simulated] {
        for context in real::CONTEXTS {
            side.rolled_out(context, "web");
            side.rolled_out(context, "web-canary");
        }
    }
    // The controllers write status a moment after the rollout is complete; let both settle.
    std::thread::sleep(Duration::from_secs(3));
    let mut found = Vec::new();
    for context in real::CONTEXTS {
        differences(
            &format!("{context}: reading"),
            &reading(&real, context),
            &reading(&simulated, context),
            &mut found,
        );
        differences(
            &format!("{context}: defaults"),
            &defaults(&real, context),
            &defaults(&simulated, context),
            &mut found,
        );
        let (said, demo_said) = (errors(&real, context), errors(&simulated, context));
        for (a, b) in said.iter().zip(&demo_said) {
            if a != b {
                found.push(format!("{context}: kubectl says\n    real: {a}\n    demo: {b}"));
            }
        }
    }
    differences("status", &status(&real), &status(&simulated), &mut found);
    assert!(found.is_empty(), "the demo fleet differs from the real server:\n  {}", found.join("\n  "));
}

/// A kubelet files its node's events in `default`; the demo's story has some, and so does any
/// real cluster that has had a node trouble.
#[test]
#[ignore = "needs a real cluster: OPSDECK_E2E_KUBECONFIG"]
fn node_events_are_filed_in_default() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let demo = runtime.block_on(fleet::start());
    let real = Real::start("node-events", &[]);
    let simulated = Real::start_on(PathBuf::from(&demo.kubeconfig), "node-events", &[]);
    for (side, name) in [(&real, "real"), (&simulated, "demo")] {
        let mut seen = 0;
        for context in real::CONTEXTS {
            let events: Vec<Event> =
                list(side, context, &["events", "-A", "--field-selector", "involvedObject.kind=Node"]);
            for e in &events {
                let record = from_k8s::event(e);
                assert_eq!(record.namespace, "default", "{name} {context}: {record:?}");
                seen += 1;
            }
        }
        if name == "demo" {
            assert!(seen > 0, "the demo's story has node events");
        }
    }
}
