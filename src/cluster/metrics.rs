//! Metrics I/O for one environment: each pod's `/metrics` through the API server's pod proxy
//! (the scrape backend), or PromQL instant queries (the prometheus backend). What the figures
//! mean is decided in `crate::metrics`; this only fetches.

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, stream};
use http::header::{AUTHORIZATION, USER_AGENT};
use http_body_util::{BodyExt, Empty};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jiff::Timestamp;

use crate::health::Inventory;
use crate::health::assess::{AppSpec, app_pods};
use crate::health::inventory::PodInfo;
use crate::metrics::{
    AppSettings, Auth, Backend, Figures, MAX_PODS_PER_TRACK, Memory, MetricsSnapshot, Settings, Track,
    exposition, queries,
};

/// Pods scraped at once per environment: enough to finish a round of 2 × 10 pods per app in
/// well under the interval, few enough not to crowd the API server.
const CONCURRENT_SCRAPES: usize = 8;

/// One environment's metrics: settings, what persists between rounds, and the HTTP client for
/// a Prometheus server.
pub struct Collector {
    settings: Settings,
    memory: Memory,
    http: Option<HttpClient<HttpsConnector<HttpConnector>, Empty<Bytes>>>,
}

impl Collector {
    pub fn new(settings: Settings) -> Result<Self, String> {
        let http = match settings.backend {
            Backend::Scrape => None,
            Backend::Prometheus { .. } => {
                // An explicit provider: with ring and aws-lc-rs both compiled in by some
                // dependency, rustls' process-default lookup would panic.
                let connector = HttpsConnectorBuilder::new()
                    .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
                    .map_err(|e| format!("Prometheus TLS setup failed: {e}"))?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Some(HttpClient::builder(TokioExecutor::new()).build(connector))
            }
        };
        Ok(Self { settings, memory: Memory::default(), http })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// One round over every app: scrape or query, then figures and verdicts.
    pub async fn round(&mut self, client: &kube::Client, inventory: &Inventory) -> MetricsSnapshot {
        let at = Timestamp::now();
        let source = self.settings.source_name();
        let apps = self.settings.apps.clone();
        let mut out = Vec::new();
        let mut error = None;
        for app in &apps {
            let result = match &self.settings.backend {
                Backend::Scrape => Ok(self.scrape_app(client, inventory, app, at).await),
                Backend::Prometheus { url, auth } => {
                    let (url, auth) = (url.clone(), auth.clone());
                    self.query_app(&url, &auth, app).await.map(|(stable, canary)| {
                        self.memory.conclude(app, stable, canary, crate::metrics::Scraped::default(), at)
                    })
                }
            };
            match result {
                Ok(metrics) => out.push(metrics),
                Err(e) => {
                    // The server is down or refuses: one message for the column, not one per app.
                    error = Some(e);
                    break;
                }
            }
        }
        MetricsSnapshot { source, at, apps: out, error }
    }

    async fn scrape_app(
        &mut self,
        client: &kube::Client,
        inventory: &Inventory,
        app: &AppSettings,
        at: Timestamp,
    ) -> crate::metrics::AppMetrics {
        let spec = AppSpec {
            name: &app.app,
            namespace: &app.namespace,
            deployment: &app.deployment,
            canary: app.canary.as_ref(),
        };
        let (sampled, unsampled) = sample(app, app_pods(&spec, inventory));
        // Owned from here on: the scrapes run concurrently and must not borrow the inventory.
        let targets: Vec<(Track, String, String)> = sampled
            .into_iter()
            .map(|(track, pod)| (track, pod.namespace.clone(), pod.name.clone()))
            .collect();
        let results = scrape_pods(client, targets, app.port, &app.path, self.settings.timeout).await;
        let mut failures = Vec::new();
        let mut unusable = Vec::new();
        let series = self.memory.series(app);
        for (pod, track, text) in results {
            let text = match text {
                Ok(text) => text,
                Err(e) => {
                    failures.push(format!("{}/{pod}: {e}", app.namespace));
                    continue;
                }
            };
            match exposition::parse(&text, &app.names) {
                Ok(counters) => series.record(&pod, track, at, counters),
                Err(e) => {
                    let line = format!("{}/{pod}: {e}", app.namespace);
                    if matches!(e, exposition::ParseError::Unusable { .. }) {
                        unusable.push(line.clone());
                    }
                    failures.push(line);
                }
            }
        }
        failures.sort();
        unusable.sort();
        series.prune(at);
        let stable = series.figures(Track::Stable, at);
        let canary = app.canary.as_ref().map(|_| series.figures(Track::Canary, at));
        let scraped = crate::metrics::Scraped { failures, unusable, unsampled };
        self.memory.conclude(app, stable, canary, scraped, at)
    }

    async fn query_app(
        &self,
        url: &str,
        auth: &Auth,
        app: &AppSettings,
    ) -> Result<(Figures, Option<Figures>), String> {
        let window = app.window;
        let stable = self.query_track(url, auth, app, Track::Stable, window, None).await?;
        let canary = match app.canary {
            Some(_) => Some(self.query_track(url, auth, app, Track::Canary, window, None).await?),
            None => None,
        };
        Ok((stable, canary))
    }

    /// One track's figures over `window` ending at `at` (now when `None`), from Prometheus;
    /// an error with the scrape backend, which keeps no history to ask.
    pub async fn query_window(
        &self,
        app: &AppSettings,
        track: Track,
        window: Duration,
        at: Option<Timestamp>,
    ) -> Result<Figures, String> {
        let Backend::Prometheus { url, auth } = &self.settings.backend else {
            return Err("the scrape source keeps no history to query".into());
        };
        self.query_track(url, auth, app, track, window, at).await
    }

    async fn query_track(
        &self,
        url: &str,
        auth: &Auth,
        app: &AppSettings,
        track: Track,
        window: Duration,
        at: Option<Timestamp>,
    ) -> Result<Figures, String> {
        let window = window.as_secs().max(1);
        let q = &app.queries;
        let render = |template: &str| queries::render(template, &app.app, &app.namespace, track, window);
        let promql = [&q.requests, &q.errors, &q.p50, &q.p95, &q.p99].map(|t| render(t));
        let (requests, errors, p50, p95, p99) = tokio::try_join!(
            self.instant(url, auth, &promql[0], at),
            self.instant(url, auth, &promql[1], at),
            self.instant(url, auth, &promql[2], at),
            self.instant(url, auth, &promql[3], at),
            self.instant(url, auth, &promql[4], at),
        )?;
        let requests = requests.unwrap_or(0.0);
        let errors = errors.unwrap_or(0.0);
        Ok(Figures {
            requests,
            errors,
            rps: requests / window as f64,
            error_rate: (requests > 0.0).then(|| errors / requests),
            p50,
            p95,
            p99,
            pods: 0,
            span_seconds: window as f64,
        })
    }

    /// One PromQL instant query, summed over the series it returns: `None` for an empty
    /// result or NaN (no traffic), an error for anything the server or network says is wrong.
    async fn instant(
        &self,
        url: &str,
        auth: &Auth,
        promql: &str,
        at: Option<Timestamp>,
    ) -> Result<Option<f64>, String> {
        let Some(http) = &self.http else { return Err("no HTTP client for Prometheus".into()) };
        let mut uri = format!("{url}/api/v1/query?query={}", percent_encode(promql));
        if let Some(at) = at {
            let _ = write!(uri, "&time={}", at.as_second());
        }
        let mut request =
            http::Request::get(&uri).header(USER_AGENT, concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => request = request.header(AUTHORIZATION, format!("Bearer {token}")),
            Auth::Basic { username, password } => {
                use base64::Engine as _;
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                request = request.header(AUTHORIZATION, format!("Basic {encoded}"));
            }
        }
        let request = request.body(Empty::new()).map_err(|e| format!("Prometheus URL {url:?}: {e}"))?;
        let response = tokio::time::timeout(self.settings.timeout, async {
            let response = http.request(request).await.map_err(|e| format!("Prometheus at {url}: {e}"))?;
            let status = response.status();
            let body =
                response.into_body().collect().await.map_err(|e| format!("Prometheus at {url}: {e}"))?;
            Ok::<_, String>((status, body.to_bytes()))
        })
        .await
        .map_err(|_| {
            format!("Prometheus at {url} did not answer within {}s", self.settings.timeout.as_secs())
        })??;
        parse_instant(response.0, &response.1).map_err(|e| format!("Prometheus at {url}: {e}"))
    }
}

/// Each sampling round of [`measure`] is this far apart, at most: a person is waiting.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// One app's canary figures and verdict, measured now, for a process that has no history: a
/// scrape samples until the canary has served enough requests to judge, or the analysis
/// window has passed; Prometheus already holds the window. `waiting` hears once that it
/// samples, so a person at a terminal knows why it takes a while.
pub async fn measure(
    settings: &Settings,
    app: &AppSettings,
    client: &kube::Client,
    inventory: &Inventory,
    canary_serves: bool,
    waiting: impl FnOnce(&str),
) -> Result<crate::metrics::AppMetrics, String> {
    let scrape = matches!(settings.backend, Backend::Scrape);
    let mut collector = Collector::new(settings.clone())?;
    let started = std::time::Instant::now();
    let mut waiting = Some(waiting);
    loop {
        let round = collector.round(client, inventory).await;
        if let Some(error) = round.error {
            return Err(format!("metrics: {error}"));
        }
        let Some(m) = round.apps.into_iter().find(|a| a.app == app.app) else {
            return Err(format!("the metrics round did not include {}", app.app));
        };
        // A canary that takes no traffic (at 0%, an idle blue-green colour) will not gather
        // requests by waiting: one interval of stable's figures is all there is to see.
        let enough = !canary_serves
            || m.canary.as_ref().is_some_and(|c| c.requests >= app.thresholds.min_requests as f64);
        // Unusable counters will not become usable by waiting: judge now.
        if !m.unusable.is_empty() {
            return Ok(m);
        }
        if !scrape || (enough && started.elapsed() >= SAMPLE_EVERY) || started.elapsed() >= app.window {
            return Ok(m);
        }
        if let Some(say) = waiting.take() {
            say(&format!("sampling {} pods' metrics for up to {}s…", app.app, app.window.as_secs()));
        }
        tokio::time::sleep(SAMPLE_EVERY.min(settings.interval)).await;
    }
}

/// Up to [`MAX_PODS_PER_TRACK`] running pods per track, by name so successive rounds scrape the
/// same pods, and how many were left out. A pod's track comes from its track label when it has
/// one, otherwise from the Deployment that owns it.
fn sample<'i>(app: &AppSettings, pods: Vec<(bool, &'i PodInfo)>) -> (Vec<(Track, &'i PodInfo)>, usize) {
    let mut by_track: Vec<(Track, &PodInfo)> = pods
        .into_iter()
        .filter(|(_, pod)| pod.phase == "Running")
        .map(|(canary, pod)| {
            let track = match pod.labels.get(&app.track_label) {
                Some(value) => {
                    if value == "canary" {
                        Track::Canary
                    } else {
                        Track::Stable
                    }
                }
                None if canary => Track::Canary,
                None => Track::Stable,
            };
            (track, pod)
        })
        .collect();
    by_track.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    let total = by_track.len();
    let mut taken = Vec::new();
    for track in [Track::Stable, Track::Canary] {
        taken.extend(by_track.iter().filter(|(t, _)| *t == track).take(MAX_PODS_PER_TRACK).copied());
    }
    let unsampled = total - taken.len();
    (taken, unsampled)
}

/// Each `(track, namespace, pod)`'s `/metrics`, [`CONCURRENT_SCRAPES`] at a time: the pod's
/// name, its track, and the text or why not.
pub async fn scrape_pods(
    client: &kube::Client,
    targets: Vec<(Track, String, String)>,
    port: u16,
    path: &str,
    timeout: Duration,
) -> Vec<(String, Track, Result<String, String>)> {
    stream::iter(targets)
        .map(|(track, namespace, name)| {
            let (client, path) = (client.clone(), path.to_owned());
            async move {
                let text = scrape_pod(&client, &namespace, &name, port, &path, timeout).await;
                (name, track, text)
            }
        })
        .buffer_unordered(CONCURRENT_SCRAPES)
        .collect()
        .await
}

/// One pod's `/metrics` through the API server's pod proxy.
async fn scrape_pod(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    port: u16,
    path: &str,
    timeout: Duration,
) -> Result<String, String> {
    let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    let uri = format!("/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy{path}");
    let request = http::Request::get(uri).body(Vec::new()).map_err(|e| e.to_string())?;
    match tokio::time::timeout(timeout, client.request_text(request)).await {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(super::summarize(&e)),
        Err(_) => Err(format!("no answer within {}s", timeout.as_secs())),
    }
}

/// The body of `/api/v1/query` into one number: the sum of a vector's samples or a scalar.
fn parse_instant(status: http::StatusCode, body: &[u8]) -> Result<Option<f64>, String> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])))?;
    if json["status"] != "success" {
        let error = json["error"].as_str().unwrap_or("query failed");
        return Err(format!("HTTP {status}: {error}"));
    }
    let value = |v: &serde_json::Value| v.get(1).and_then(|s| s.as_str()).and_then(|s| s.parse::<f64>().ok());
    let data = &json["data"];
    let values: Vec<f64> = match data["resultType"].as_str() {
        Some("vector") => {
            data["result"].as_array().into_iter().flatten().filter_map(|r| value(&r["value"])).collect()
        }
        Some("scalar") => value(&data["result"]).into_iter().collect(),
        other => return Err(format!("unexpected result type {other:?}")),
    };
    let sum: f64 = values.iter().sum();
    Ok((!values.is_empty() && sum.is_finite()).then_some(sum))
}

/// Query-string encoding: everything but unreserved characters as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_vector_sums_and_an_empty_or_nan_one_is_no_data() {
        let ok = http::StatusCode::OK;
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"track":"canary"},"value":[1700000000.1,"1.5"]},
            {"metric":{"track":"stable"},"value":[1700000000.1,"2"]}]}}"#;
        assert_eq!(parse_instant(ok, body), Ok(Some(3.5)));
        let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(parse_instant(ok, empty), Ok(None));
        let nan = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#;
        assert_eq!(parse_instant(ok, nan), Ok(None));
    }

    #[test]
    fn a_query_error_says_what_the_server_said() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        let err = parse_instant(http::StatusCode::BAD_REQUEST, body).expect_err("an error");
        assert!(err.contains("parse error at char 5"), "{err}");
        let html =
            parse_instant(http::StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>").expect_err("an error");
        assert!(html.contains("502") && html.contains("bad gateway"), "{html}");
    }

    #[test]
    fn promql_is_percent_encoded() {
        assert_eq!(percent_encode(r#"sum(x{a="b"})[1m]"#), "sum%28x%7Ba%3D%22b%22%7D%29%5B1m%5D");
    }
}
