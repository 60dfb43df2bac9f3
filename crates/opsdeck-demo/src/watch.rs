//! Watch streams: newline-delimited events from a resourceVersion on, with bookmarks, a
//! server-side timeout, and 410 Gone for a version that has been compacted away.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::api::Selectors;
use super::errors::ApiError;
use super::query::Query;
use super::resources::{self, Resource};
use super::server::{Body, Cluster};
use super::store::EventType;

/// Without `timeoutSeconds`, a watch ends after this long, like the API server's default range.
const DEFAULT_TIMEOUT_SECS: u64 = 1800;
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

fn line(kind: &str, object: &Value) -> Bytes {
    let mut out = format!("{{\"type\":\"{kind}\",\"object\":").into_bytes();
    out.extend(serde_json::to_vec(object).unwrap_or_else(|_| b"{}".to_vec()));
    out.extend(b"}\n");
    Bytes::from(out)
}

fn bookmark(resource: &Resource, rv: u64, initial_events_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_events_end && let Some(map) = metadata.as_object_mut() {
        map.insert("annotations".into(), json!({"k8s.io/initial-events-end": "true"}));
    }
    line(
        "BOOKMARK",
        &json!({"kind": resource.kind, "apiVersion": resource.api_version(), "metadata": metadata}),
    )
}

pub fn start(
    cluster: &Arc<Cluster>,
    resource: &'static Resource,
    namespace: Option<String>,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let selectors = Selectors::from_query(query)?;
    let index = resources::index_of(resource);
    let bookmarks = query.flag("allowWatchBookmarks");
    let initial_events = query.flag("sendInitialEvents");
    let timeout = query.get("timeoutSeconds").and_then(|t| t.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_SECS);
    let store = cluster.store.clone();
    let matches = move |ns: &str, object: &Value| {
        namespace.as_deref().is_none_or(|n| n == ns) && selectors.matches(object)
    };

    // "0" and no version mean "start from now, with the current objects first".
    let requested = query.get("resourceVersion").filter(|rv| !rv.is_empty() && *rv != "0");
    let (initial, start_rv) = match requested {
        None => {
            let (items, rv) = store.list(index, None, |o| {
                matches(o.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(""), o)
            });
            (items, rv)
        }
        Some(rv) => {
            let rv = rv
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?;
            (Vec::new(), rv)
        }
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    match store.watch_from(start_rv) {
        Err(oldest) => {
            // The API server answers a compacted version inside the stream, as an ERROR event.
            let gone = ApiError::expired(start_rv, oldest).status();
            let _ = tx.try_send(line("ERROR", &gone));
        }
        Ok((backlog, mut live)) => {
            tokio::spawn(async move {
                let send = |bytes: Bytes| tx.send(bytes);
                let mut last_rv = start_rv;
                for object in &initial {
                    if send(line(EventType::Added.as_str(), object)).await.is_err() {
                        return;
                    }
                }
                if initial_events && bookmarks && send(bookmark(resource, start_rv, true)).await.is_err() {
                    return;
                }
                for event in backlog {
                    last_rv = event.rv;
                    if event.resource == index
                        && matches(&event.namespace, &event.object)
                        && send(line(event.kind.as_str(), &event.object)).await.is_err()
                    {
                        return;
                    }
                }
                let deadline = tokio::time::sleep(Duration::from_secs(timeout));
                tokio::pin!(deadline);
                let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
                ticker.tick().await;
                loop {
                    tokio::select! {
                        () = &mut deadline => break,
                        () = tx.closed() => break,
                        _ = ticker.tick(), if bookmarks => {
                            if send(bookmark(resource, last_rv, false)).await.is_err() {
                                break;
                            }
                        }
                        received = live.recv() => match received {
                            Ok(event) => {
                                if event.rv <= last_rv {
                                    continue;
                                }
                                last_rv = event.rv;
                                if event.resource == index
                                    && matches(&event.namespace, &event.object)
                                    && send(line(event.kind.as_str(), &event.object)).await.is_err()
                                {
                                    break;
                                }
                            }
                            // A watcher too slow to keep up is closed; it resumes from its last version.
                            Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => break,
                        },
                    }
                }
            });
        }
    }
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
        .map(|bytes| Ok::<_, std::convert::Infallible>(Frame::data(bytes)));
    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
