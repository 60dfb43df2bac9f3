//! Server-side printing for the demo fleet: turns stored objects into the `meta.k8s.io/v1` Table kubectl
//! asks for, with the columns and cell formats of a real Kubernetes 1.33 API server (`pkg/printers`), so
//! `kubectl get` output is indistinguishable from a real cluster's.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// True when an Accept header asks for a Table (contains `as=Table`).
#[must_use]
pub fn wants_table(accept: &str) -> bool {
    accept.split([',', ';']).any(|param| param.trim() == "as=Table")
}

/// A meta.k8s.io/v1 Table for `objects` of resource `plural` (e.g. "deployments", "pods"), as of `now`.
/// `list_metadata` is the list's metadata (resourceVersion, continue) copied into the Table.
/// `include_object` is "None", "Metadata" (the default, kubectl's) or "Object": each row's `object` is then
/// absent, a `PartialObjectMetadata`, or the full object.
#[must_use]
pub fn table(
    plural: &str,
    objects: &[Value],
    list_metadata: Value,
    now: Timestamp,
    include_object: &str,
) -> Value {
    let (columns, cells) = printer(plural);
    let rows: Vec<Value> =
        objects.iter().map(|o| row(o, cells(o, now), plural == "pods", include_object)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": if list_metadata.is_object() { list_metadata } else { json!({}) },
        "columnDefinitions": columns.split(',').map(column).collect::<Vec<_>>(),
        "rows": rows,
    })
}

type Cells = fn(&Value, Timestamp) -> Vec<Value>;

/// Column lists as the 1.33 printers define them: `+` marks a wide (priority 1) column, `#` an integer
/// one and `@` a date one; the rest are strings. Resources without a printer get the CRD default columns.
fn printer(plural: &str) -> (&'static str, Cells) {
    const EVENTS: &str = "Last Seen,Type,Reason,Object,+Subobject,+Source,Message,+First Seen,+Count,+Name";
    const NODES: &str = "Name,Status,Roles,Age,Version,+Internal-IP,+External-IP,+OS-Image,+Kernel-Version,+Container-Runtime";
    match plural {
        "deployments" => ("Name,Ready,Up-to-date,Available,Age,+Containers,+Images,+Selector", deployment),
        "replicasets" => ("Name,#Desired,#Current,#Ready,Age,+Containers,+Images,+Selector", replicaset),
        "pods" => ("Name,Ready,Status,Restarts,Age,+IP,+Node,+Nominated Node,+Readiness Gates", pod),
        "ingresses" => ("Name,Class,Hosts,Address,Ports,Age", ingress),
        "services" => ("Name,Type,Cluster-IP,External-IP,Port(s),Age,+Selector", service),
        "events" => (EVENTS, event),
        "nodes" => (NODES, node),
        "namespaces" => ("Name,Status,Age", namespace),
        "httproutes" => ("Name,Hostnames,@Age", httproute),
        _ => ("Name,@Age", name_age),
    }
}

fn column(spec: &str) -> Value {
    let (priority, spec) = spec.strip_prefix('+').map_or((0, spec), |rest| (1, rest));
    let (kind, name) = match spec.split_at_checked(1) {
        Some(("#", name)) => ("integer", name),
        Some(("@", name)) => ("date", name),
        _ => ("string", spec),
    };
    let format = if name == "Name" { "name" } else { "" };
    let description = match name {
        "Name" => "Name must be unique within a namespace.",
        "Age" => "CreationTimestamp is the server time when this object was created.",
        _ => "",
    };
    json!({"name": name, "type": kind, "format": format, "description": description, "priority": priority})
}

fn row(object: &Value, cells: Vec<Value>, pod: bool, include: &str) -> Value {
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(cells));
    // The pod printer marks finished pods so clients can tell them apart.
    let completed = match (pod, text(object, "/status/phase")) {
        (true, "Succeeded") => Some(("Succeeded", "The pod has completed successfully.")),
        (true, "Failed") => Some(("Failed", "The pod failed.")),
        _ => None,
    };
    if let Some((reason, message)) = completed {
        let condition = json!({"type": "Completed", "status": "True", "reason": reason, "message": message});
        row.insert("conditions".into(), json!([condition]));
    }
    let object = match include {
        "None" => None,
        "Object" => Some(object.clone()),
        _ => Some(partial(object)),
    };
    row.extend(object.map(|o| ("object".to_owned(), o)));
    Value::Object(row)
}

fn partial(object: &Value) -> Value {
    let metadata = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata})
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn items<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() { default } else { s }
}

fn time(v: &Value, pointer: &str) -> Option<Timestamp> {
    text(v, pointer).parse().ok()
}

/// kubectl's `translateTimestampSince`.
fn since(t: Option<Timestamp>, now: Timestamp) -> String {
    t.map_or_else(|| "<unknown>".into(), |t| human_duration(now.as_nanosecond() - t.as_nanosecond()))
}

fn name(o: &Value) -> Value {
    text(o, "/metadata/name").into()
}

fn age(o: &Value, now: Timestamp) -> Value {
    since(time(o, "/metadata/creationTimestamp"), now).into()
}

/// `k8s.io/apimachinery/pkg/util/duration.HumanDuration`, from nanoseconds.
fn human_duration(nanos: i128) -> String {
    let secs = nanos / 1_000_000_000;
    let (minutes, hours) = (secs / 60, secs / 3600);
    let (days, years) = (hours / 24, hours / 24 / 365);
    let two = |major: i128, unit: &str, minor: i128, minor_unit: &str| {
        if minor == 0 { format!("{major}{unit}") } else { format!("{major}{unit}{minor}{minor_unit}") }
    };
    match secs {
        // Up to a second into the future is clock skew, not an error.
        ..=-2 => "<invalid>".into(),
        -1 => "0s".into(),
        0..120 => format!("{secs}s"),
        _ if minutes < 10 => two(minutes, "m", secs % 60, "s"),
        _ if minutes < 60 * 3 => format!("{minutes}m"),
        _ if hours < 8 => two(hours, "h", minutes % 60, "m"),
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 24 * 8 => two(days, "d", hours % 24, "h"),
        _ if hours < 24 * 365 * 2 => format!("{days}d"),
        _ if hours < 24 * 365 * 8 => two(years, "y", days % 365, "d"),
        _ => format!("{years}y"),
    }
}

fn deployment(o: &Value, now: Timestamp) -> Vec<Value> {
    // The API server defaults spec.replicas to 1, so a stored object without it means one.
    let ready =
        format!("{}/{}", int(o, "/status/readyReplicas"), o["spec"]["replicas"].as_i64().unwrap_or(1));
    let (updated, available) = (int(o, "/status/updatedReplicas"), int(o, "/status/availableReplicas"));
    let mut cells = vec![name(o), ready.into(), updated.into(), available.into(), age(o, now)];
    cells.extend(template_cells(o));
    cells
}

fn replicaset(o: &Value, now: Timestamp) -> Vec<Value> {
    let desired = o["spec"]["replicas"].as_i64().unwrap_or(1);
    let (current, ready) = (int(o, "/status/replicas"), int(o, "/status/readyReplicas"));
    let mut cells = vec![name(o), desired.into(), current.into(), ready.into(), age(o, now)];
    cells.extend(template_cells(o));
    cells
}

fn template_cells(o: &Value) -> [Value; 3] {
    let containers = items(o, "/spec/template/spec/containers");
    let join = |key| containers.iter().map(|c| text(c, key)).collect::<Vec<_>>().join(",");
    [join("/name").into(), join("/image").into(), label_selector(&o["spec"]["selector"]).into()]
}

/// `metav1.LabelSelectorAsSelector(s).String()`: requirements sorted by key, set values sorted.
fn label_selector(selector: &Value) -> String {
    let mut requirements: Vec<(&str, String)> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), format!("{k}={}", v.as_str().unwrap_or(""))))
        .collect();
    for expression in items(selector, "/matchExpressions") {
        let key = text(expression, "/key");
        let mut values: Vec<&str> = items(expression, "/values").iter().filter_map(Value::as_str).collect();
        values.sort_unstable();
        let values = values.join(",");
        let requirement = match text(expression, "/operator") {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.to_owned(),
            _ => format!("!{key}"),
        };
        requirements.push((key, requirement));
    }
    requirements.sort_by_key(|&(key, _)| key);
    requirements.into_iter().map(|(_, r)| r).collect::<Vec<_>>().join(",")
}

/// A restart count with the latest time a container last terminated.
#[derive(Default, Clone, Copy)]
struct Restarts(i64, Option<Timestamp>);

impl Restarts {
    fn add(&mut self, status: &Value) {
        self.0 += int(status, "/restartCount");
        self.1 = self.1.max(time(status, "/lastState/terminated/finishedAt"));
    }
}

fn condition_true(o: &Value, kind: &str) -> bool {
    items(o, "/status/conditions").iter().any(|c| text(c, "/type") == kind && text(c, "/status") == "True")
}

fn terminated_reason(t: &Value) -> String {
    match (text(t, "/reason"), int(t, "/signal")) {
        ("", 0) => format!("ExitCode:{}", int(t, "/exitCode")),
        ("", signal) => format!("Signal:{signal}"),
        (reason, _) => reason.to_owned(),
    }
}

fn is_sidecar(o: &Value, name: &str) -> bool {
    items(o, "/spec/initContainers")
        .iter()
        .any(|c| text(c, "/name") == name && text(c, "/restartPolicy") == "Always")
}

/// Walks init containers as `printPod` does: returns ready sidecars, all restarts, sidecar restarts,
/// and whether initialization is still under way (then `reason` says how far).
fn init_containers(o: &Value, reason: &mut String) -> (i64, Restarts, Restarts, bool) {
    let (mut ready, mut all, mut sidecars) = (0, Restarts::default(), Restarts::default());
    for (i, status) in items(o, "/status/initContainerStatuses").iter().enumerate() {
        let sidecar = is_sidecar(o, text(status, "/name"));
        all.add(status);
        if sidecar {
            sidecars.add(status);
        }
        let terminated = status.pointer("/state/terminated");
        let waiting = text(status, "/state/waiting/reason");
        if terminated.is_some_and(|t| int(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && status["started"] == true {
            ready += i64::from(status["ready"] == true);
            continue;
        }
        *reason = match terminated {
            Some(t) => format!("Init:{}", terminated_reason(t)),
            None if !waiting.is_empty() && waiting != "PodInitializing" => format!("Init:{waiting}"),
            None => format!("Init:{i}/{}", items(o, "/spec/initContainers").len()),
        };
        return (ready, all, sidecars, true);
    }
    (ready, all, sidecars, false)
}

/// The app containers' part of `printPod`: last container listed with a problem names the status.
fn app_containers(o: &Value, reason: &mut String, restarts: &mut Restarts) -> i64 {
    let (mut ready, mut running) = (0, false);
    for status in items(o, "/status/containerStatuses").iter().rev() {
        restarts.add(status);
        let waiting = text(status, "/state/waiting/reason");
        if !waiting.is_empty() {
            waiting.clone_into(reason);
        } else if let Some(t) = status.pointer("/state/terminated") {
            *reason = terminated_reason(t);
        } else if status["ready"] == true && status.pointer("/state/running").is_some() {
            running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && running {
        *reason = if condition_true(o, "Ready") { "Running" } else { "NotReady" }.into();
    }
    ready
}

fn pod_status(o: &Value) -> (i64, String, Restarts) {
    let phase = text(o, "/status/phase");
    let mut reason = or(text(o, "/status/reason"), phase).to_owned();
    let gated = |c: &Value| text(c, "/type") == "PodScheduled" && text(c, "/reason") == "SchedulingGated";
    if items(o, "/status/conditions").iter().any(gated) {
        reason = "SchedulingGated".into();
    }
    let (mut ready, mut restarts, sidecars, initializing) = init_containers(o, &mut reason);
    if !initializing || condition_true(o, "Initialized") {
        restarts = sidecars;
        ready += app_containers(o, &mut reason, &mut restarts);
    }
    if !text(o, "/metadata/deletionTimestamp").is_empty() {
        if text(o, "/status/reason") == "NodeLost" {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }
    (ready, reason, restarts)
}

fn pod(o: &Value, now: Timestamp) -> Vec<Value> {
    let (ready, reason, Restarts(count, last)) = pod_status(o);
    let sidecars = items(o, "/spec/initContainers").iter().filter(|c| text(c, "/restartPolicy") == "Always");
    let total = items(o, "/spec/containers").len() + sidecars.count();
    let restarts = match last {
        Some(t) if count != 0 => format!("{count} ({} ago)", since(Some(t), now)),
        _ => count.to_string(),
    };
    let ip = or(text(o, "/status/podIPs/0/ip"), or(text(o, "/status/podIP"), "<none>"));
    let gates = items(o, "/spec/readinessGates");
    let gates = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let met = gates.iter().filter(|g| condition_true(o, text(g, "/conditionType"))).count();
        format!("{met}/{}", gates.len())
    };
    let node = or(text(o, "/spec/nodeName"), "<none>");
    let wide = [ip, node, or(text(o, "/status/nominatedNodeName"), "<none>"), &gates].map(Value::from);
    let mut cells =
        vec![name(o), format!("{ready}/{total}").into(), reason.into(), restarts.into(), age(o, now)];
    cells.extend(wide);
    cells
}

fn load_balancer(o: &Value) -> String {
    let entries = items(o, "/status/loadBalancer/ingress").iter();
    let addresses: Vec<&str> = entries.map(|i| or(text(i, "/ip"), text(i, "/hostname"))).collect();
    addresses.into_iter().filter(|a| !a.is_empty()).collect::<Vec<_>>().join(",")
}

fn ingress(o: &Value, now: Timestamp) -> Vec<Value> {
    let class = o["spec"]["ingressClassName"].as_str().unwrap_or("<none>");
    let rules = items(o, "/spec/rules");
    let (mut hosts, mut more) = (Vec::new(), false);
    // kubectl's formatHosts: at most four hosts, then a count of the rules left unlisted.
    for host in rules.iter().map(|r| text(r, "/host")) {
        if hosts.len() == 4 {
            more = true;
        } else if !host.is_empty() {
            hosts.push(host);
        }
    }
    let hosts = match (hosts.is_empty(), more) {
        (true, _) => "*".to_owned(),
        (false, true) => format!("{} + {} more...", hosts.join(","), rules.len() - 4),
        (false, false) => hosts.join(","),
    };
    let ports = if items(o, "/spec/tls").is_empty() { "80" } else { "80, 443" };
    vec![name(o), class.into(), hosts.into(), load_balancer(o).into(), ports.into(), age(o, now)]
}

fn service(o: &Value, now: Timestamp) -> Vec<Value> {
    let kind = or(text(o, "/spec/type"), "ClusterIP");
    let cluster_ip = or(text(o, "/spec/clusterIPs/0"), or(text(o, "/spec/clusterIP"), "<none>"));
    let mut externals: Vec<&str> = items(o, "/spec/externalIPs").iter().filter_map(Value::as_str).collect();
    let external = match kind {
        "ClusterIP" | "NodePort" if externals.is_empty() => "<none>".to_owned(),
        "ClusterIP" | "NodePort" => externals.join(","),
        "LoadBalancer" => {
            let balancer = load_balancer(o);
            externals.splice(0..0, balancer.split(',').filter(|a| !a.is_empty()));
            if externals.is_empty() { "<pending>".to_owned() } else { externals.join(",") }
        }
        "ExternalName" => text(o, "/spec/externalName").to_owned(),
        _ => "<unknown>".to_owned(),
    };
    let ports: Vec<String> = items(o, "/spec/ports").iter().map(service_port).collect();
    let ports = if ports.is_empty() { "<none>".to_owned() } else { ports.join(",") };
    let selector = o["spec"]["selector"].as_object().filter(|s| !s.is_empty()).map_or_else(
        || "<none>".to_owned(),
        |s| s.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(","),
    );
    vec![name(o), kind.into(), cluster_ip.into(), external.into(), ports.into(), age(o, now), selector.into()]
}

fn service_port(port: &Value) -> String {
    let protocol = or(text(port, "/protocol"), "TCP");
    match int(port, "/nodePort") {
        0 => format!("{}/{protocol}", int(port, "/port")),
        node_port => format!("{}:{node_port}/{protocol}", int(port, "/port")),
    }
}

/// The first of `pointers` that is set: core/v1 and events.k8s.io/v1 name the same fields differently.
fn either<'a>(o: &'a Value, pointers: &[&str]) -> &'a str {
    pointers.iter().map(|p| text(o, p)).find(|s| !s.is_empty()).unwrap_or("")
}

fn event(o: &Value, now: Timestamp) -> Vec<Value> {
    let parse = |pointers: &[&str]| either(o, pointers).parse::<Timestamp>().ok();
    let first = parse(&["/firstTimestamp", "/deprecatedFirstTimestamp"]).or_else(|| parse(&["/eventTime"]));
    let mut last = parse(&["/lastTimestamp", "/deprecatedLastTimestamp"]).or(first);
    let mut count = o.get("count").or_else(|| o.get("deprecatedCount")).and_then(Value::as_i64).unwrap_or(0);
    if o["series"].is_object() {
        last = parse(&["/series/lastObservedTime"]);
        count = int(o, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = either(o, &["/involvedObject/kind", "/regarding/kind"]).to_lowercase();
    let target = match either(o, &["/involvedObject/name", "/regarding/name"]) {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let component = either(o, &["/source/component", "/deprecatedSource/component", "/reportingComponent"]);
    let component = or(component, text(o, "/reportingController"));
    let source = match either(o, &["/source/host", "/deprecatedSource/host", "/reportingInstance"]) {
        "" => component.to_owned(),
        instance => format!("{component}, {instance}"),
    };
    vec![
        since(last.or_else(|| time(o, "/metadata/creationTimestamp")), now).into(),
        text(o, "/type").into(),
        text(o, "/reason").into(),
        target.into(),
        either(o, &["/involvedObject/fieldPath", "/regarding/fieldPath"]).into(),
        source.into(),
        either(o, &["/message", "/note"]).trim().into(),
        since(first, now).into(),
        count.into(),
        name(o),
    ]
}

fn node(o: &Value, now: Timestamp) -> Vec<Value> {
    let ready = items(o, "/status/conditions").iter().rfind(|c| text(c, "/type") == "Ready");
    let mut status =
        vec![ready.map_or("Unknown", |c| if text(c, "/status") == "True" { "Ready" } else { "NotReady" })];
    if o["spec"]["unschedulable"] == true {
        status.push("SchedulingDisabled");
    }
    let labels = o["metadata"]["labels"].as_object().into_iter().flatten();
    let roles: BTreeSet<&str> = labels
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) => Some(role),
            None if k == "kubernetes.io/role" => v.as_str(),
            None => None,
        })
        .filter(|role| !role.is_empty())
        .collect();
    let roles =
        if roles.is_empty() { "<none>".to_owned() } else { roles.into_iter().collect::<Vec<_>>().join(",") };
    let address = |kind: &str| {
        let found = items(o, "/status/addresses").iter().find(|a| text(a, "/type") == kind);
        found.map_or("<none>", |a| text(a, "/address"))
    };
    let info = |field: &str| or(text(&o["status"]["nodeInfo"], field), "<unknown>");
    let version = text(o, "/status/nodeInfo/kubeletVersion");
    let mut cells = vec![name(o), status.join(",").into(), roles.into(), age(o, now), version.into()];
    let infos = ["/osImage", "/kernelVersion", "/containerRuntimeVersion"].map(info);
    cells.extend(["InternalIP", "ExternalIP"].map(address).into_iter().chain(infos).map(Value::from));
    cells
}

fn namespace(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(o), text(o, "/status/phase").into(), age(o, now)]
}

fn name_age(o: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(o), age(o, now)]
}

fn httproute(o: &Value, now: Timestamp) -> Vec<Value> {
    // A CRD string column prints a list as JSON; a missing field is a null cell.
    let hostnames = o["spec"].get("hostnames").map_or(Value::Null, |h| h.to_string().into());
    vec![name(o), hostnames, age(o, now)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2025-06-01T12:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn ago(secs: i64) -> String {
        (now() - jiff::SignedDuration::from_secs(secs)).to_string()
    }

    /// A row's cells joined by `|`, integers marked `#` so a number typed as a string would show.
    fn cells(plural: &str, object: &Value) -> String {
        let t = table(plural, std::slice::from_ref(object), json!({}), now(), "None");
        let cell = |c: &Value| c.as_str().map_or_else(|| format!("#{c}"), str::to_owned);
        t["rows"][0]["cells"].as_array().unwrap().iter().map(cell).collect::<Vec<_>>().join("|")
    }

    fn headers(t: &Value) -> String {
        let columns = t["columnDefinitions"].as_array().unwrap().iter();
        let header = |c: &Value| {
            format!("{}{}", if c["priority"] == 1 { "+" } else { "" }, c["name"].as_str().unwrap())
        };
        columns.map(header).collect::<Vec<_>>().join(",")
    }

    #[test]
    fn deployment_row() {
        let d = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(330)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"},
                    {"name": "proxy", "image": "envoy:1.30"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
        });
        let t = table("deployments", std::slice::from_ref(&d), json!({"resourceVersion": "7"}), now(), "");
        assert_eq!(headers(&t), "Name,Ready,Up-to-date,Available,Age,+Containers,+Images,+Selector");
        assert_eq!(
            (&t["columnDefinitions"][0]["format"], &t["metadata"]),
            (&json!("name"), &json!({"resourceVersion": "7"}))
        );
        let want = "web|2/3|#3|#2|5m30s|web,proxy|nginx:1.27,envoy:1.30|app=web,tier in (api,web)";
        assert_eq!(cells("deployments", &d), want);
    }

    #[test]
    fn crash_looping_pod_row() {
        let p = json!({
            "metadata": {"name": "api-1", "creationTimestamp": ago(7200)},
            "spec": {"nodeName": "node-1", "containers": [{"name": "api"}]},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}], "containerStatuses": [{
                "name": "api", "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(45)}},
            }]},
        });
        let want = "api-1|0/1|CrashLoopBackOff|3 (45s ago)|120m|10.0.0.5|node-1|<none>|<none>";
        assert_eq!(cells("pods", &p), want);
    }

    #[test]
    fn pod_status_reasons() {
        let running = json!({"spec": {"containers": [{}]}, "status": {"phase": "Running", "containerStatuses":
            [{"ready": true, "restartCount": 0, "state": {"running": {}}}]}});
        assert!(cells("pods", &running).starts_with("|1/1|Running|0|"));
        let mut deleting = running.clone();
        deleting["metadata"] = json!({"deletionTimestamp": NOW});
        assert!(cells("pods", &deleting).starts_with("|1/1|Terminating|"));
        let init = json!({"spec": {"initContainers": [{}, {}], "containers": [{}]}, "status": {"phase": "Pending",
            "initContainerStatuses": [{"state": {"terminated": {"exitCode": 0}}}, {"state": {"running": {}}}]}});
        assert!(cells("pods", &init).starts_with("|0/1|Init:1/2|"));
        let t = table("pods", &[json!({"status": {"phase": "Succeeded"}})], json!(null), now(), "None");
        assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Succeeded");
        assert_eq!(t["metadata"], json!({}));
    }

    #[test]
    fn event_rows() {
        let core = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"}, "type": "Normal",
            "involvedObject": {"kind": "Deployment", "name": "web"}, "reason": "ScalingReplicaSet",
            "message": "Scaled up replica set web-abc to 3\n", "source": {"component": "deployment-controller"},
            "firstTimestamp": ago(600), "lastTimestamp": ago(120), "count": 2,
        });
        let want = "2m|Normal|ScalingReplicaSet|deployment/web||deployment-controller|\
                    Scaled up replica set web-abc to 3|10m|#2|web.1";
        assert_eq!(cells("events", &core), want);
        let new = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "api-1.2"},
            "regarding": {"kind": "Pod", "name": "api-1", "fieldPath": "spec.containers{api}"},
            "type": "Warning", "reason": "BackOff", "note": "Back-off restarting failed container",
            "eventTime": "2025-06-01T11:59:30.123456Z", "reportingController": "kubelet",
            "reportingInstance": "node-1", "series": {"count": 4, "lastObservedTime": ago(9)},
        });
        let want = "9s|Warning|BackOff|pod/api-1|spec.containers{api}|kubelet, node-1|\
                    Back-off restarting failed container|29s|#4|api-1.2";
        assert_eq!(cells("events", &new), want);
        let bare = json!({"metadata": {"creationTimestamp": ago(5)}, "involvedObject": {"kind": "Node"}});
        assert_eq!(cells("events", &bare), "5s|||node||||<unknown>|#1|");
    }

    #[test]
    fn include_object_choices() {
        let o = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}, "spec": {}});
        let object = |include| {
            table("namespaces", std::slice::from_ref(&o), json!({}), now(), include)["rows"][0]
                .get("object")
                .cloned()
        };
        let partial = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"name": "prod"}});
        assert_eq!(object("Metadata"), Some(partial));
        assert_eq!(object("Object"), Some(o.clone()));
        assert_eq!(object("None"), None);
        assert_eq!(cells("namespaces", &o), "prod||<unknown>");
    }

    #[test]
    fn human_durations() {
        let cases = "-3s <invalid>, -1.9s 0s, 0s 0s, 119s 119s, 2m 2m, 9m59s 9m59s, 10m 10m, 2h59m 179m, \
                     3h 3h, 7h59m 7h59m, 8h 8h, 47h 47h, 48h 2d, 191h 7d23h, 192h 8d, 17496h 729d, \
                     17520h 2y, 17544h 2y1d, 70080h 8y";
        for case in cases.split(", ") {
            let (input, want) = case.split_once(' ').unwrap();
            let nanos = input.parse::<jiff::SignedDuration>().unwrap().as_nanos();
            assert_eq!(human_duration(nanos), want, "{input}");
        }
        assert_eq!(since(None, now()), "<unknown>");
    }

    #[test]
    fn other_resources() {
        let cfg = json!({"metadata": {"name": "cfg", "creationTimestamp": ago(90)}});
        assert_eq!(headers(&table("configmaps", &[], json!({}), now(), "None")), "Name,Age");
        assert_eq!(cells("configmaps", &cfg), "cfg|90s");
        let route =
            json!({"metadata": {"name": "r"}, "spec": {"hostnames": ["a.example.com", "b.example.com"]}});
        assert_eq!(cells("httproutes", &route), r#"r|["a.example.com","b.example.com"]|<unknown>"#);
        let node = json!({"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true}, "status": {"conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.33.1"}, "addresses": [{"type": "InternalIP", "address": "10.1.0.2"}]}});
        let want = "n1|Ready,SchedulingDisabled|control-plane|<unknown>|v1.33.1|10.1.0.2|<none>|<unknown>|\
                    <unknown>|<unknown>";
        assert_eq!(cells("nodes", &node), want);
    }

    #[test]
    fn services_and_ingresses() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.9"],
            "ports": [{"port": 80, "nodePort": 30080}, {"port": 443, "protocol": "TCP"}], "selector": {"app": "web"}},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}});
        let want = "web|LoadBalancer|10.96.0.9|203.0.113.7|80:30080/TCP,443/TCP|<unknown>|app=web";
        assert_eq!(cells("services", &svc), want);
        let rules: Vec<Value> = ["a", "", "b", "c", "d", "e"].iter().map(|h| json!({"host": h})).collect();
        let ing = json!({"metadata": {"name": "web"}, "spec": {"ingressClassName": "nginx", "rules": rules,
            "tls": [{}]}, "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}}});
        assert_eq!(
            cells("ingresses", &ing),
            "web|nginx|a,b,c,d + 2 more...|lb.example.com|80, 443|<unknown>"
        );
        assert_eq!(cells("ingresses", &json!({"spec": {}})), "|<none>|*||80|<unknown>");
    }

    #[test]
    fn kubectl_accept_header() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;\
                       g=meta.k8s.io,application/json";
        assert!(wants_table(kubectl));
        assert!(wants_table("application/json; as=Table; v=v1; g=meta.k8s.io"));
        assert!(!wants_table("application/json"));
        assert!(!wants_table("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"));
    }
}
