//! `pods/NAME/log`: what each pod's container "wrote", made from its simulated traffic so the
//! logs and the metrics tell one story — an access-log line per request, in common log format,
//! `500` on as many of them as the pod's counters say failed, stamped across the pod's life —
//! and for a crash-looping container's `previous` instance, the crash it died of. The query
//! parameters are the API server's: `container`, `tailLines`, `sinceSeconds`, `timestamps`,
//! `previous`, and `follow`: a stream of the requests the pod serves from then on, until the
//! pod goes away or its container restarts, as the kubelet ends a follow.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::Value;
use tokio::sync::mpsc;

use super::errors::ApiError;
use super::query::Query;
use super::resources::{PODS, RESOURCES};
use super::server::{Body, Cluster, locked, text_response};

/// How often a follow looks for requests the pod served since.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
/// Lines one look sends at most: a sped-up fleet serves more than anyone reads.
const FOLLOW_BURST: u64 = 200;

/// Lines a request answers at most: a log is long, an answer need not be.
const MAX_LINES: u64 = 2_000;
const PATHS: [&str; 5] = ["/", "/cart", "/items", "/checkout", "/healthz"];

fn text<'v>(pod: &'v Value, pointer: &str) -> &'v str {
    pod.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

pub fn pod_log(
    cluster: &Arc<Cluster>,
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
        out.push_str(&render(*time, line, stamped));
    }
    if query.flag("follow") && !query.flag("previous") {
        return Ok(follow(Arc::clone(cluster), namespace, name, out, stamped));
    }
    Ok(text_response(StatusCode::OK, "text/plain", out))
}

fn render(time: jiff::Timestamp, line: &str, stamped: bool) -> String {
    if stamped { format!("{} {line}\n", time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")) } else { format!("{line}\n") }
}

fn restarts(pod: &Value) -> u64 {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map_or(0, |cs| cs.iter().filter_map(|c| c.get("restartCount").and_then(Value::as_u64)).sum())
}

/// `first`, then a line per request the pod serves, as its counters grow: a kubelet's follow.
fn follow(
    cluster: Arc<Cluster>,
    namespace: &str,
    name: &str,
    first: String,
    stamped: bool,
) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let (namespace, name) = (namespace.to_owned(), name.to_owned());
    let _ = tx.try_send(Bytes::from(first));
    tokio::spawn(async move {
        let key = format!("{namespace}/{name}");
        let counts = |cluster: &Cluster| {
            let metrics = locked(&cluster.pod_metrics).get(&key).cloned().unwrap_or_default();
            (metrics.total(), metrics.errors())
        };
        let Some(pod) = cluster.store.get(PODS, &namespace, &name) else { return };
        let restarted = restarts(&pod);
        let (mut seen, _) = counts(&cluster);
        let mut tick = tokio::time::interval(FOLLOW_EVERY);
        loop {
            tokio::select! {
                () = tx.closed() => return,
                _ = tick.tick() => {}
            }
            // The pod deleted, or its container started again: this stream is over.
            let Some(pod) = cluster.store.get(PODS, &namespace, &name) else { return };
            if pod.pointer("/metadata/deletionTimestamp").is_some() || restarts(&pod) != restarted {
                return;
            }
            let (requests, errors) = counts(&cluster);
            let now = jiff::Timestamp::now();
            let mut text = String::new();
            for k in seen.max(requests.saturating_sub(FOLLOW_BURST))..requests {
                text.push_str(&render(now, &access_line(&name, k, requests, errors, now), stamped));
            }
            seen = seen.max(requests);
            if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
                return;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
        .map(|bytes| Ok::<_, std::convert::Infallible>(Frame::data(bytes)));
    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
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
            let at = started + jiff::SignedDuration::from_secs_f64(span * (k + 1) as f64 / requests as f64);
            (at, access_line(name, k, requests, errors, at))
        })
        .collect()
}

/// The `k`-th request of `requests`, `errors` of which failed, served at `at`.
fn access_line(pod: &str, k: u64, requests: u64, errors: u64, at: jiff::Timestamp) -> String {
    // The k-th request failed when the failures so far step up at it.
    let failed = (k + 1) * errors / requests.max(1) > k * errors / requests.max(1);
    let path = PATHS[(k % PATHS.len() as u64) as usize];
    let (code, bytes) = if failed { (500, 21) } else { (200, 512 + k % 200) };
    // Each pod's own clients, so sibling pods' lines are told apart.
    let salt = pod.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let client = format!("10.{}.{}.{}", 1 + salt % 200, k % 7, 10 + k % 200);
    let date = at.strftime("%d/%b/%Y:%H:%M:%S +0000");
    format!(r#"{client} - - [{date}] "GET {path} HTTP/1.1" {code} {bytes} "-" "demo-traffic/1.0""#)
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
