//! One simulated cluster's HTTP server on loopback: accepts connections and hands each
//! request to the API handlers.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::errors::ApiError;
use super::store::Store;
use super::traffic::PodMetrics;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Everything one simulated cluster holds.
pub struct Cluster {
    pub name: String,
    pub git_version: String,
    pub store: Arc<Store>,
    /// Each pod's request metrics, by `namespace/name`.
    pub pod_metrics: Mutex<HashMap<String, PodMetrics>>,
    /// Requests served, by `verb resource`.
    pub requests: Mutex<BTreeMap<String, u64>>,
    /// A slow API server: every PATCH waits this long.
    pub write_delay: Option<std::time::Duration>,
    /// The flagger-loadtester's open gates (`gate/NAME.NAMESPACE`, `rollback/NAME.NAMESPACE`):
    /// opened and closed through the service proxy, read by the fleet's Flagger.
    pub gates: Gates,
}

/// Open loadtester gates, shared by the proxy that opens them and the Flagger that reads them.
pub type Gates = Arc<Mutex<std::collections::BTreeSet<String>>>;

pub fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Cluster {
    pub fn new(name: &str, git_version: &str, index: u8, log_capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            git_version: git_version.to_owned(),
            store: Store::new(index, log_capacity),
            pod_metrics: Mutex::new(HashMap::new()),
            requests: Mutex::new(BTreeMap::new()),
            write_delay: None,
            gates: Gates::default(),
        })
    }

    pub fn count(&self, key: String) {
        *locked(&self.requests).entry(key).or_insert(0) += 1;
    }
}

/// Accepts TLS connections until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: TlsAcceptor,
    cluster: Arc<Cluster>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let cluster = cluster.clone();
        let mut stop = stop.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            // A client that never finishes its handshake must not hold a task forever.
            let Ok(Ok(stream)) =
                tokio::time::timeout(std::time::Duration::from_secs(10), tls.accept(stream)).await
            else {
                return;
            };
            let service = service_fn(move |req| {
                let cluster = cluster.clone();
                async move { Ok::<_, Infallible>(super::api::handle(cluster, req).await) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.changed() => {}
            }
        });
    }
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

pub fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn ok(value: &Value) -> Response<Body> {
    json_response(StatusCode::OK, value)
}

pub fn error_response(error: &ApiError) -> Response<Body> {
    json_response(
        StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &error.status(),
    )
}

pub fn text_response(status: StatusCode, content_type: &'static str, text: String) -> Response<Body> {
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
