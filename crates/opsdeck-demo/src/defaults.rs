//! The defaults a real API server fills in on every write (its `SetDefaults_*` functions for
//! core/v1 and apps/v1, as of Kubernetes 1.28), so what a client reads back from the demo fleet
//! is what it would read back from a cluster. The real-cluster tier's conformance test compares
//! the two field by field.

use serde_json::{Map, Value, json};

use super::resources::{DEPLOYMENTS, PODS, REPLICA_SETS, SERVICES};
use super::store::{ensure_object, object_in};

/// Fills in the server's defaults on `object`, an object of `RESOURCES[resource]`.
pub fn apply(resource: usize, object: &mut Value) {
    match resource {
        DEPLOYMENTS => deployment(object),
        REPLICA_SETS => {
            set(spec(object), "replicas", json!(1));
            if let Some(template) = object.pointer_mut("/spec/template") {
                pod_template(template);
            }
        }
        PODS => {
            if let Some(spec) = object.get_mut("spec") {
                pod_spec(spec);
                // Only a pod gets these; a template in a Deployment or ReplicaSet does not.
                if let Some(spec) = spec.as_object_mut() {
                    set(spec, "enableServiceLinks", json!(true));
                    set(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
                    set(spec, "priority", json!(0));
                }
            }
        }
        SERVICES => service(object),
        _ => {}
    }
}

/// A pod template's defaults: the scenario applies them before it hashes a template, so a
/// ReplicaSet's hash is the one the fleet's own controller computes for it later.
pub fn pod_template(template: &mut Value) {
    if let Some(spec) = template.get_mut("spec") {
        pod_spec(spec);
    }
}

fn deployment(object: &mut Value) {
    let spec = spec(object);
    set(spec, "replicas", json!(1));
    set(spec, "revisionHistoryLimit", json!(10));
    set(spec, "progressDeadlineSeconds", json!(600));
    let strategy = object_in(spec, "strategy");
    set(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let rolling = object_in(strategy, "rollingUpdate");
        set(rolling, "maxUnavailable", json!("25%"));
        set(rolling, "maxSurge", json!("25%"));
    }
    if let Some(template) = object.pointer_mut("/spec/template") {
        pod_template(template);
    }
}

fn pod_spec(spec: &mut Value) {
    let Some(spec) = spec.as_object_mut() else { return };
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "schedulerName", json!("default-scheduler"));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    object_in(spec, "securityContext");
    for list in ["initContainers", "containers"] {
        if let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) {
            containers.iter_mut().filter_map(Value::as_object_mut).for_each(container);
        }
    }
}

fn container(c: &mut Map<String, Value>) {
    set(c, "terminationMessagePath", json!("/dev/termination-log"));
    set(c, "terminationMessagePolicy", json!("File"));
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    set(c, "imagePullPolicy", json!(pull_policy(image)));
    object_in(c, "resources");
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set(port, "protocol", json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(probe) = c.get_mut(probe).and_then(Value::as_object_mut) else { continue };
        set(probe, "timeoutSeconds", json!(1));
        set(probe, "periodSeconds", json!(10));
        set(probe, "successThreshold", json!(1));
        set(probe, "failureThreshold", json!(3));
        if let Some(get) = probe.get_mut("httpGet").and_then(Value::as_object_mut) {
            set(get, "scheme", json!("HTTP"));
        }
    }
}

/// `Always` for `:latest` or no tag, `IfNotPresent` otherwise (a digest counts as pinned).
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn service(object: &mut Value) {
    let key = format!(
        "{}/{}",
        object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default(),
        object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
    );
    let spec = spec(object);
    set(spec, "type", json!("ClusterIP"));
    set(spec, "sessionAffinity", json!("None"));
    let kind = spec.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set(port, "protocol", json!("TCP"));
            if let Some(number) = port.get("port").cloned() {
                set(port, "targetPort", number);
            }
        }
    }
    if kind == "ExternalName" {
        return;
    }
    if spec.get("clusterIP").is_none_or(|ip| ip.as_str().is_none_or(str::is_empty)) {
        spec.insert("clusterIP".into(), json!(cluster_ip(&key)));
    }
    if let Some(ip) = spec.get("clusterIP").cloned() {
        set(spec, "clusterIPs", json!([ip]));
    }
    // One address family on the fleet, as on a single-stack cluster.
    set(spec, "ipFamilies", json!(["IPv4"]));
    set(spec, "ipFamilyPolicy", json!("SingleStack"));
    set(spec, "internalTrafficPolicy", json!("Cluster"));
}

/// An address in the service range (10.96.0.0/16, as on the rig), the same for the same
/// Service every time; nothing dials it.
fn cluster_ip(key: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    let n = hasher.finish();
    format!("10.96.{}.{}", (n >> 8) % 256, n % 254 + 1)
}

fn spec(object: &mut Value) -> &mut Map<String, Value> {
    ensure_object(object, "spec")
}

/// Sets `field` unless the client did: a default never overrides what was sent.
fn set(map: &mut Map<String, Value>, field: &str, value: Value) {
    if map.get(field).is_none_or(Value::is_null) {
        map.insert(field.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_reads_back_with_the_servers_defaults_and_keeps_what_was_sent() {
        let mut d = json!({"spec": {"replicas": 3, "strategy": {"rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {"containers": [{"name": "web", "image": "r/web:1.0",
                "ports": [{"containerPort": 8080}], "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}}]}}}});
        apply(DEPLOYMENTS, &mut d);
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}})
        );
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert!(pod.get("enableServiceLinks").is_none(), "only pods get it");
        let c = &pod["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTP");
        assert_eq!(c["readinessProbe"]["failureThreshold"], 3);
        let again = d.clone();
        apply(DEPLOYMENTS, &mut d);
        assert_eq!(d, again, "defaulting twice changes nothing");
    }

    #[test]
    fn a_recreate_strategy_gets_no_rolling_update() {
        let mut d = json!({"spec": {"strategy": {"type": "Recreate"}}});
        apply(DEPLOYMENTS, &mut d);
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("r/web"), "Always");
        assert_eq!(pull_policy("r/web:latest"), "Always");
        assert_eq!(pull_policy("registry:5000/web"), "Always");
        assert_eq!(pull_policy("registry:5000/web:1.2"), "IfNotPresent");
        assert_eq!(pull_policy("r/web@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn a_service_gets_its_families_and_ports_their_targets() {
        let mut s =
            json!({"spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
        apply(SERVICES, &mut s);
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(s["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(s["spec"]["ipFamilyPolicy"], "SingleStack");
        assert_eq!(s["spec"]["ports"][0], json!({"port": 80, "protocol": "TCP", "targetPort": 80}));
        let mut allocated =
            json!({"metadata": {"namespace": "shop", "name": "web"}, "spec": {"ports": [{"port": 80}]}});
        apply(SERVICES, &mut allocated);
        let ip = allocated["spec"]["clusterIP"].as_str().expect("an address").to_owned();
        assert!(ip.starts_with("10.96."), "{ip}");
        assert_eq!(allocated["spec"]["clusterIPs"], json!([ip]));
        let mut external = json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        apply(SERVICES, &mut external);
        assert!(external["spec"].get("ipFamilies").is_none());
    }
}
