//! The pod proxy (`pods/NAME:PORT/proxy/metrics`) and the fleet-wide metrics endpoint: what a
//! scraper sees of each pod's simulated traffic.

use http::{Response, StatusCode};
use serde_json::Value;

use super::errors::ApiError;
use super::resources::PODS;
use super::server::{Body, Cluster, locked, text_response};
use super::traffic::PodMetrics;

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";

/// The port a pod's first container declares, the only one that "listens".
fn declared_port(pod: &Value) -> Option<i64> {
    pod.pointer("/spec/containers/0/ports/0/containerPort").and_then(Value::as_i64)
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

pub fn pod(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    port: Option<&str>,
    path: &str,
) -> Result<Response<Body>, ApiError> {
    let pods = &super::resources::RESOURCES[PODS];
    let pod = cluster.store.get(PODS, namespace, name).ok_or_else(|| ApiError::not_found(pods, name))?;
    let ip = pod.pointer("/status/podIP").and_then(Value::as_str).unwrap_or("").to_owned();
    let wanted = port.and_then(|p| p.parse::<i64>().ok()).or_else(|| declared_port(&pod));
    let running = pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running") && is_ready(&pod);
    if !running || wanted != declared_port(&pod) {
        return Err(ApiError::service_unavailable(format!(
            "error trying to reach service: dial tcp {ip}:{}: connect: connection refused",
            wanted.unwrap_or(80)
        )));
    }
    if path.trim_start_matches('/') != "metrics" {
        return Ok(text_response(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        ));
    }
    let key = format!("{namespace}/{name}");
    let metrics = locked(&cluster.pod_metrics).get(&key).cloned().unwrap_or_default();
    Ok(text_response(StatusCode::OK, TEXT_FORMAT, metrics.render(REQUESTS, DURATION, &[])))
}

/// The Service proxy: a request to a Service's port, answered by one of its ready pods. The
/// fleet's only Service with something behind it is flagger-loadtester, whose gates
/// (`/gate/open|close|check|approve|halt`, `/rollback/open|close|check`) are kept as the real
/// loadtester keeps them: in memory, by the Canary named in the body.
pub fn service(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    port: Option<&str>,
    path: &str,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let services = &super::resources::RESOURCES[super::resources::SERVICES];
    let svc = cluster
        .store
        .get(super::resources::SERVICES, namespace, name)
        .ok_or_else(|| ApiError::not_found(services, name))?;
    let declared = svc.pointer("/spec/ports/0/port").and_then(Value::as_i64);
    let wanted = port.map_or(declared, |p| p.parse::<i64>().ok());
    if wanted != declared {
        return Err(ApiError::service_unavailable(format!(
            "no endpoints available for service \"{name}:{}\"",
            port.unwrap_or("")
        )));
    }
    let selector = svc.pointer("/spec/selector").and_then(Value::as_object).cloned().unwrap_or_default();
    let (pods, _) = cluster.store.list(PODS, Some(namespace), |pod| {
        selector.iter().all(|(k, v)| pod.pointer(&format!("/metadata/labels/{k}")) == Some(v))
            && pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
            && is_ready(pod)
    });
    if pods.is_empty() {
        return Err(ApiError::service_unavailable(format!("no endpoints available for service \"{name}\"")));
    }
    let plain = |status: StatusCode, text: &str| {
        Ok(text_response(status, "text/plain; charset=utf-8", text.to_owned()))
    };
    if svc.pointer("/metadata/labels/app").and_then(Value::as_str) != Some("flagger-loadtester") {
        return plain(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let canary = |field: &str| payload.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
    let (canary_name, canary_ns) = (canary("name"), canary("namespace"));
    if canary_name.is_empty() || canary_ns.is_empty() {
        return plain(StatusCode::BAD_REQUEST, "error decoding the payload: name and namespace are required");
    }
    let (family, action) = path.split_once('/').unwrap_or((path, ""));
    let key = format!("{family}/{canary_name}.{canary_ns}");
    let mut gates = locked(&cluster.gates);
    let approved = match (family, action) {
        ("gate" | "rollback", "open") => {
            gates.insert(key);
            return plain(StatusCode::ACCEPTED, &format!("{family} opened"));
        }
        ("gate" | "rollback", "close") => {
            gates.remove(&key);
            return plain(StatusCode::ACCEPTED, &format!("{family} closed"));
        }
        ("gate" | "rollback", "check") => gates.contains(&key),
        ("gate", "approve") => true,
        ("gate", "halt") => false,
        _ => return plain(StatusCode::NOT_FOUND, "404 page not found\n"),
    };
    if approved { plain(StatusCode::OK, "Approved") } else { plain(StatusCode::FORBIDDEN, "Forbidden") }
}

/// Every pod's series on one endpoint, labelled with pod, namespace, app and track, so that a
/// real Prometheus server can scrape the whole cluster from one target.
pub fn fleet_metrics(cluster: &Cluster) -> Response<Body> {
    let (pods, _) = cluster.store.list(PODS, None, |_| true);
    let metrics = locked(&cluster.pod_metrics).clone();
    let mut samples = String::new();
    for pod in &pods {
        let meta = |path: &str| pod.pointer(path).and_then(Value::as_str).unwrap_or("");
        let (namespace, name) = (meta("/metadata/namespace"), meta("/metadata/name"));
        let Some(series) = metrics.get(&format!("{namespace}/{name}")) else { continue };
        let labels = [
            ("namespace", namespace),
            ("pod", name),
            ("app", meta("/metadata/labels/app")),
            ("track", meta("/metadata/labels/track")),
        ];
        series.render_samples(REQUESTS, DURATION, &labels, &mut samples);
    }
    // Strict parsers want each family's samples together: requests first, then durations.
    let mut out = String::new();
    PodMetrics::render_header(REQUESTS, DURATION, &mut out);
    let (requests, durations): (Vec<&str>, Vec<&str>) =
        samples.lines().partition(|l| l.starts_with(REQUESTS));
    for line in requests.into_iter().chain(durations) {
        out.push_str(line);
        out.push('\n');
    }
    text_response(StatusCode::OK, TEXT_FORMAT, out)
}
