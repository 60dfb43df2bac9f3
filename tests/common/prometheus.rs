//! A throwaway Prometheus server for integration tests: Debian's `prometheus` binary,
//! scraping the demo fleet's `/demo/metrics` over HTTPS, queried over plain HTTP on loopback.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A running Prometheus; dropping it kills the process, then removes its files.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    // Declared last so the process is gone before its storage is deleted.
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus scraping `/demo/metrics` on each `(cluster, https server URL)` target
/// every second, labelling its series `cluster="<name>"`, and waits until it is ready.
/// The test that calls this is ignored unless CI, which installs Prometheus, asks for it: a
/// missing binary here is a failure, never a skip.
/// Ready means serving queries, not having data: the first scrape lands ~5-7 s later
/// (the scrape manager applies new targets on a 5 s tick), so wait for data with
/// [`query_until`].
pub async fn start_prometheus(targets: &[(&str, &str)], ca_pem: &str) -> Prometheus {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write CA");
    let static_configs: Vec<Value> = targets
        .iter()
        .map(|(cluster, server)| {
            let host_port = server
                .strip_prefix("https://")
                .unwrap_or_else(|| panic!("{cluster}: server {server} is not https://"))
                .trim_end_matches('/');
            json!({ "targets": [host_port], "labels": { "cluster": cluster } })
        })
        .collect();
    // JSON is valid YAML, so serde_json writes the config and does all the quoting.
    // The fleet's certificate names 127.0.0.1 and localhost, so no server_name is needed.
    let config = json!({
        "global": { "scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s" },
        "scrape_configs": [{
            "job_name": "opsdeck-demo",
            "scheme": "https",
            "metrics_path": "/demo/metrics",
            "tls_config": { "ca_file": ca_file },
            "static_configs": static_configs,
        }],
    });
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, config.to_string()).expect("write config");

    // Another process may take the port between this drop and Prometheus binding it;
    // that shows as an early exit with "address already in use" in the log.
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let log_path = dir.path().join("prometheus.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let spawned = Command::new("prometheus")
        .arg(format!("--config.file={}", config_file.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn();
    let child = spawned.unwrap_or_else(|e| {
        panic!("starting prometheus (Debian package `prometheus`; .ci/run installs it): {e}")
    });
    let mut prometheus = Prometheus { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = get(&prometheus.url, "/-/ready").await {
            return prometheus;
        }
        let exited = prometheus.child.try_wait().expect("poll prometheus");
        if exited.is_some() || Instant::now() > deadline {
            let why =
                exited.map_or_else(|| "not ready after 30 s".to_owned(), |s| format!("exited with {s}"));
            panic!("prometheus {why}; its log:\n{}", read_log(&log_path));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a PromQL instant query and returns Prometheus's whole JSON answer,
/// `{"status":"success","data":{"resultType":"vector","result":[...]}}` or `{"status":"error",...}`.
pub async fn query(url: &str, promql: &str) -> Value {
    let path = format!("/api/v1/query?query={}", percent_encode(promql));
    let (status, body) = get(url, &path).await.unwrap_or_else(|e| panic!("query {promql:?}: {e}"));
    serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!("query {promql:?}: HTTP {status}, not JSON ({e}): {}", String::from_utf8_lossy(&body))
    })
}

/// Repeats `promql` until it returns a non-empty result vector (scrapes have landed and a
/// `rate` window holds two samples), and returns that result array.
pub async fn query_until(url: &str, promql: &str, timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let answer = query(url, promql).await;
        assert_eq!(answer["status"], "success", "query {promql:?}: {answer}");
        if let Some(result) = answer["data"]["result"].as_array().filter(|r| !r.is_empty()) {
            return result.clone();
        }
        assert!(Instant::now() < deadline, "query {promql:?} still empty after {timeout:?}: {answer}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// An HTTP/1.0 GET: the server closes the connection after one un-chunked response,
/// so reading to EOF is the whole body. Enough for Prometheus on loopback; no TLS.
async fn get(url: &str, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let addr = url.strip_prefix("http://").expect("http:// URL");
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no response in 10 s"))??;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP response");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(bad)?;
    // "HTTP/1.0 200 OK": the code is the second word of the status line.
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(bad)?;
    Ok((status, response[split + 4..].to_vec()))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, which is always safe
/// in a query string (PromQL is full of `{`, `"`, `=`, `~`, spaces and `+`).
fn percent_encode(s: &str) -> String {
    s.bytes().fold(String::with_capacity(s.len() * 3), |mut out, b| {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()))
}
