//! The Slack-compatible webhook notifier: posts a JSON payload in the background with bounded
//! retries, so a slow or dead chat service never delays a write or the console.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinHandle;

/// Pauses before the second and third attempts.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(1)];

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A webhook endpoint. Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct Webhook {
    url: Uri,
    timeout: Duration,
    client: HttpClient,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &redacted(&self.url))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// `url` must be http or https; otherwise Err with a message naming it.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|e| format!("webhook URL {url:?} is not a valid URL: {e}"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(format!("webhook URL {url:?} must start with http:// or https://"));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(format!("webhook URL {url:?} has no host"));
        }
        // An explicit provider instead of rustls' process default: with both ring and aws-lc-rs
        // compiled in by some dependency, the default lookup would panic.
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("webhook TLS setup failed: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { url: uri, timeout, client })
    }

    /// Sends in the background on the current tokio runtime and returns at once: up to 3
    /// attempts, each bounded by the timeout, with 0.5 s then 1 s between them; a 2xx ends it.
    /// The final failure is logged with `tracing::warn!` and returned through the handle, so a
    /// short-lived CLI can wait a bounded time for it before exiting.
    ///
    /// Panics when called outside a tokio runtime, like `tokio::spawn`.
    pub fn notify(&self, payload: serde_json::Value) -> JoinHandle<Result<(), String>> {
        let this = self.clone();
        tokio::spawn(async move {
            let body = Bytes::from(payload.to_string());
            let mut last = String::new();
            for attempt in 0..=BACKOFF.len() {
                if let Some(pause) = attempt.checked_sub(1).and_then(|i| BACKOFF.get(i)) {
                    tokio::time::sleep(*pause).await;
                }
                match this.attempt(body.clone()).await {
                    Ok(()) => return Ok(()),
                    Err(e) => last = e,
                }
            }
            let error = format!(
                "webhook {} failed after {} attempts: {last}",
                redacted(&this.url),
                BACKOFF.len() + 1
            );
            tracing::warn!("{error}");
            Err(error)
        })
    }

    async fn attempt(&self, body: Bytes) -> Result<(), String> {
        let request = http::Request::post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
            .map_err(|e| with_sources(&e))?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("HTTP {status}")) }
    }
}

/// Scheme, host and port only: a Slack webhook's path is its secret and must not reach logs.
fn redacted(url: &Uri) -> String {
    let scheme = url.scheme_str().unwrap_or("http");
    let authority = url.authority().map_or("", |a| a.as_str());
    // Userinfo is a secret too.
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}://{host}/…")
}

/// hyper's errors say "client error (Connect)" and keep the useful part in their sources.
fn with_sources(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// Reads one HTTP/1.1 request: the head as text and the body by Content-Length.
    async fn read_request(stream: &mut TcpStream) -> (String, Vec<u8>) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed mid-head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
            })
            .expect("content-length");
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed mid-body");
            buf.extend_from_slice(&chunk[..n]);
        }
        (head, buf[head_end..head_end + length].to_vec())
    }

    async fn respond(stream: &mut TcpStream, status: &str) {
        let response = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        stream.write_all(response.as_bytes()).await.unwrap();
    }

    #[tokio::test]
    async fn posts_the_payload() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let request = read_request(&mut stream).await;
            respond(&mut stream, "200 OK").await;
            request
        });
        let hook =
            Webhook::new(&format!("http://{addr}/services/T0/B0/secret"), Duration::from_secs(2)).unwrap();
        let payload = serde_json::json!({"text": "opsdeck · alice · production · shop/web · restart · done"});
        let sent = tokio::time::timeout(Duration::from_secs(5), hook.notify(payload.clone())).await.unwrap();
        assert_eq!(sent.unwrap(), Ok(()));
        let (head, body) = server.await.unwrap();
        assert!(head.starts_with("POST /services/T0/B0/secret HTTP/1.1\r\n"), "{head}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/json\r\n"), "{head}");
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap(), payload);
    }

    #[tokio::test]
    async fn retries_after_a_server_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            for status in ["503 Service Unavailable", "200 OK"] {
                let (mut stream, _) = listener.accept().await.unwrap();
                read_request(&mut stream).await;
                respond(&mut stream, status).await;
            }
        });
        let hook = Webhook::new(&format!("http://{addr}/hook"), Duration::from_secs(2)).unwrap();
        let started = Instant::now();
        let sent =
            tokio::time::timeout(Duration::from_secs(5), hook.notify(serde_json::json!({"text": "x"})))
                .await
                .unwrap();
        assert_eq!(sent.unwrap(), Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
        tokio::time::timeout(Duration::from_secs(1), server).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_silent_server_never_delays_the_caller() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        let hook = Webhook::new(&format!("http://{addr}/hook"), Duration::from_millis(200)).unwrap();

        let started = Instant::now();
        let handle = hook.notify(serde_json::json!({"text": "x"}));
        assert!(started.elapsed() < Duration::from_millis(50), "notify blocked for {:?}", started.elapsed());

        let outcome = tokio::time::timeout(Duration::from_secs(5), handle).await.unwrap().unwrap();
        let elapsed = started.elapsed();
        let error = outcome.unwrap_err();
        assert!(error.contains("after 3 attempts") && error.contains("no answer within"), "{error}");
        assert!(!error.contains("/hook"), "the URL path is redacted: {error}");
        // Three 200 ms attempts plus 0.5 s and 1 s pauses.
        assert!(elapsed >= Duration::from_millis(2100) && elapsed < Duration::from_secs(4), "{elapsed:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        server.abort();
    }

    #[test]
    fn only_http_urls_are_accepted() {
        let error = Webhook::new("ftp://hooks.example.com/x", Duration::from_secs(1)).unwrap_err();
        assert!(error.contains("ftp://hooks.example.com/x"), "{error}");
        assert!(Webhook::new("hooks.example.com/x", Duration::from_secs(1)).is_err());
        assert!(Webhook::new("not a url", Duration::from_secs(1)).is_err());
        assert!(Webhook::new("https://hooks.example.com/services/T/B/x", Duration::from_secs(1)).is_ok());
        assert!(Webhook::new("http://127.0.0.1:9/x", Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn redaction_hides_path_and_userinfo() {
        let url: Uri = "https://user:pw@hooks.example.com:8443/services/T/B/secret".parse().unwrap();
        assert_eq!(redacted(&url), "https://hooks.example.com:8443/…");
        let hook =
            Webhook::new("https://hooks.example.com/services/T/B/secret", Duration::from_secs(1)).unwrap();
        assert!(!format!("{hook:?}").contains("secret"));
    }
}
