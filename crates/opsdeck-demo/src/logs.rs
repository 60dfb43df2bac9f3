//! `pods/NAME/log`: what each pod's container "wrote", made from its simulated traffic so the
//! logs and the metrics tell one story — an access-log line per request, in common log format,
//! `500` on as many of them as the pod's counters say failed, stamped across the pod's life —
//! and for a crash-looping container's `previous` instance, the crash it died of. The query
//! parameters are the API server's: `container`, `tailLines`, `sinceSeconds`, `timestamps`,
//! `previous`. (`follow` answers what is there now and ends.)

use std::fmt::Write as _;

use http::{Response, StatusCode};
use serde_json::Value;

use super::errors::ApiError;
use super::query::Query;
use super::resources::{PODS, RESOURCES};
use super::server::{Body, Cluster, locked, text_response};

/// Lines a request answers at most: a log is long, an answer need not be.
const MAX_LINES: u64 = 2_000;
const PATHS: [&str; 5] = ["/", "/cart", "/items", "/checkout", "/healthz"];

fn text<'v>(pod: &'v Value, pointer: &str) -> &'v str {
    pod.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

pub fn pod_log(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let pod = cluster
        .store
        .get(PODS, namespace, name)
        .ok_or_else(|| ApiError::not_found(&RESOURCES[PODS], name))?;
    let containers: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    let container = match query.get("container") {
        Some(c) if containers.contains(&c) => c.to_owned(),
        Some(c) => {
            return Err(ApiError::bad_request(format!("container {c} is not valid for pod {name}")));
        }
        None if containers.len() == 1 => containers[0].to_owned(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    let status = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(container.as_str())))
        .cloned()
        .unwrap_or(Value::Null);
    let now = jiff::Timestamp::now();
    let lines = if query.flag("previous") {
        previous(&pod, &status, &container, name)?
    } else {
        if let Some(reason) = status.pointer("/state/waiting/reason").and_then(Value::as_str)
            && status.get("restartCount").and_then(Value::as_u64).unwrap_or(0) == 0
        {
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
            )));
        }
        access_lines(cluster, &pod, namespace, name, now)
    };
    let since = query
        .get("sinceSeconds")
        .and_then(|s| s.parse::<i64>().ok())
        .map(|s| now - jiff::SignedDuration::from_secs(s));
    let kept: Vec<&(jiff::Timestamp, String)> =
        lines.iter().filter(|(t, _)| since.is_none_or(|s| *t >= s)).collect();
    let tail = query.get("tailLines").and_then(|t| t.parse::<usize>().ok()).unwrap_or(kept.len());
    let stamped = query.flag("timestamps");
    let mut out = String::new();
    for (time, line) in kept.iter().skip(kept.len().saturating_sub(tail)) {
        if stamped {
            let _ = write!(out, "{} ", time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"));
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(text_response(StatusCode::OK, "text/plain", out))
}

/// One access-log line per request the pod served, the failed ones `500`, spread evenly over
/// its life: which requests failed is fixed by the counts, so two reads agree.
fn access_lines(
    cluster: &Cluster,
    pod: &Value,
    namespace: &str,
    name: &str,
    now: jiff::Timestamp,
) -> Vec<(jiff::Timestamp, String)> {
    let metrics =
        locked(&cluster.pod_metrics).get(&format!("{namespace}/{name}")).cloned().unwrap_or_default();
    let (requests, errors) = (metrics.total(), metrics.errors());
    let started = text(pod, "/status/startTime").parse::<jiff::Timestamp>().unwrap_or(now);
    let span = now.duration_since(started).as_secs_f64().max(1.0);
    let first = requests.saturating_sub(MAX_LINES);
    (first..requests)
        .map(|k| {
            // The k-th request failed when the failures so far step up at it.
            let failed = (k + 1) * errors / requests.max(1) > k * errors / requests.max(1);
            let at = started + jiff::SignedDuration::from_secs_f64(span * (k + 1) as f64 / requests as f64);
            let path = PATHS[(k % PATHS.len() as u64) as usize];
            let (code, bytes) = if failed { (500, 21) } else { (200, 512 + k % 200) };
            let client = format!("10.1.{}.{}", k % 7, 10 + k % 200);
            let date = at.strftime("%d/%b/%Y:%H:%M:%S +0000");
            let line = format!(
                r#"{client} - - [{date}] "GET {path} HTTP/1.1" {code} {bytes} "-" "demo-traffic/1.0""#
            );
            (at, line)
        })
        .collect()
}

/// The previous instance of a container that restarted: what it said before it died.
fn previous(
    pod: &Value,
    status: &Value,
    container: &str,
    name: &str,
) -> Result<Vec<(jiff::Timestamp, String)>, ApiError> {
    let restarts = status.get("restartCount").and_then(Value::as_u64).unwrap_or(0);
    if restarts == 0 {
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    }
    let finished = text(status, "/lastState/terminated/finishedAt")
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let code = status.pointer("/lastState/terminated/exitCode").and_then(Value::as_i64).unwrap_or(1);
    let image = text(status, "/image");
    let tag = image.rsplit_once(':').map_or(image, |(_, t)| t);
    let at = |s: i64| finished - jiff::SignedDuration::from_secs(s);
    let _ = pod;
    Ok(vec![
        (at(3), format!("level=info msg=\"starting {container} {tag}\" restarts={restarts}")),
        (at(2), "level=info msg=\"connecting to the database\"".to_owned()),
        (
            at(1),
            format!(
                "panic: {container} {tag}: cannot load configuration: invalid memory address or nil pointer dereference"
            ),
        ),
        (at(0), format!("goroutine 1 [running]: exit status {code}")),
    ])
}
