//! A fault-injecting HTTPS proxy in front of one demo cluster, for tests of what opsdeck does
//! when the network or the server misbehaves: every request hangs, connections are cut,
//! only watch requests stall, one response is dropped after the request reached the server,
//! `/metrics` bodies are rewritten. It terminates TLS with a certificate of its own (its CA
//! goes into the kubeconfig it writes) and forwards to the cluster over TLS.

// Test helpers fail by panicking, like the tests that call them; not every test uses each.
#![allow(clippy::panic, dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kube::config::Kubeconfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Body = BoxBody<Bytes, hyper::Error>;
type Rewrite = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// What goes wrong, set at any time while the proxy runs.
#[derive(Default, Clone)]
#[allow(clippy::struct_excessive_bools, reason = "each is a fault of its own, switched on and off by a test")]
pub struct Faults {
    /// Every request waits forever: a hung API server.
    pub hang: bool,
    /// Every connection is closed without an answer.
    pub cut: bool,
    /// Watch requests wait forever; lists and `/version` still answer.
    pub stall_watches: bool,
    /// Reads other than watches and `/version` wait forever: the API answers, its lists hang.
    pub stall_lists: bool,
    /// The next request (not a dry run) with this method whose path contains this text is
    /// forwarded — it lands — and its response is never delivered.
    pub drop_response: Option<(String, String)>,
    /// Requests whose path contains this are answered 403 Forbidden, as RBAC would.
    pub forbid: Option<String>,
    /// Requests whose path contains this wait forever (a kubelet that never answers).
    pub stall: Option<String>,
    /// Pod `/metrics` bodies pass through this.
    pub rewrite_metrics: Option<Rewrite>,
    /// Requests seen, as `METHOD path?query`.
    pub seen: Vec<String>,
}

pub struct Proxy {
    pub addr: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    ca_pem: String,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts a proxy for the cluster at `upstream`, whose serving certificate `upstream_ca`
    /// signed.
    pub async fn start(upstream: SocketAddr, upstream_ca: &str) -> Self {
        let (acceptor, ca_pem) = tls();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let faults = Arc::new(Mutex::new(Faults::default()));
        let client = upstream_client(upstream_ca);
        let shared = Arc::clone(&faults);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, client, faults) = (acceptor.clone(), client.clone(), Arc::clone(&shared));
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |request| {
                        handle(request, upstream, client.clone(), Arc::clone(&faults))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self { addr, faults, ca_pem, task }
    }

    pub fn set(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.faults.lock().expect("faults"));
    }

    pub fn seen(&self) -> Vec<String> {
        self.faults.lock().expect("faults").seen.clone()
    }

    /// A copy of `kubeconfig` whose cluster `cluster` is reached through this proxy.
    pub fn kubeconfig(&self, kubeconfig: &Path, cluster: &str, dir: &Path) -> PathBuf {
        use base64::Engine as _;
        let mut config = Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
        let named = config.clusters.iter_mut().find(|c| c.name == cluster).expect("cluster");
        let c = named.cluster.as_mut().expect("cluster details");
        c.server = Some(format!("https://{}", self.addr));
        c.certificate_authority_data = Some(base64::engine::general_purpose::STANDARD.encode(&self.ca_pem));
        let path = dir.join(format!("kubeconfig-via-proxy-{cluster}"));
        std::fs::write(&path, serde_json::to_string(&config).expect("json")).expect("write kubeconfig");
        path
    }
}

async fn handle(
    request: Request<Incoming>,
    upstream: SocketAddr,
    client: HttpClient<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Full<Bytes>,
    >,
    faults: Arc<Mutex<Faults>>,
) -> Result<Response<Body>, std::io::Error> {
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let method = request.method().as_str().to_owned();
    let now = {
        let mut f = faults.lock().expect("faults");
        f.seen.push(format!("{method} {target}"));
        f.clone()
    };
    if now.cut {
        return Err(std::io::Error::other("cut"));
    }
    let watch = target.contains("watch=true") || target.contains("watch=1");
    let list = method == "GET" && !watch && !target.starts_with("/version");
    let stalled = now.stall.as_ref().is_some_and(|p| target.contains(p.as_str()));
    if now.hang || stalled || (now.stall_watches && watch) || (now.stall_lists && list) {
        std::future::pending::<()>().await;
    }
    if now.forbid.as_ref().is_some_and(|p| target.contains(p.as_str())) {
        let status = serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": format!("{target} is forbidden: User \"demo-admin\" cannot get resource"),
            "reason": "Forbidden", "code": 403});
        let body = Full::new(Bytes::from(status.to_string())).map_err(|never| match never {}).boxed();
        let mut response = Response::new(body);
        *response.status_mut() = hyper::StatusCode::FORBIDDEN;
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, "application/json".parse().expect("header"));
        return Ok(response);
    }
    // A dry run is not the write: it passes.
    let dropped = now
        .drop_response
        .as_ref()
        .is_some_and(|(m, p)| *m == method && target.contains(p.as_str()) && !target.contains("dryRun"));
    if dropped {
        faults.lock().expect("faults").drop_response = None;
    }
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let uri: hyper::Uri = format!("https://{upstream}{target}").parse().map_err(std::io::Error::other)?;
    let mut forward = Request::builder().method(parts.method).uri(uri);
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            forward = forward.header(name, value);
        }
    }
    let forward = forward.body(Full::new(body)).map_err(std::io::Error::other)?;
    let response = client.request(forward).await.map_err(std::io::Error::other)?;
    if dropped {
        // The write reached the server; its answer never reaches the client.
        std::future::pending::<()>().await;
    }
    let (parts, body) = response.into_parts();
    if let (Some(rewrite), true) = (&now.rewrite_metrics, target.contains("/proxy/metrics")) {
        let text = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
        let rewritten = rewrite(&String::from_utf8_lossy(&text));
        let mut parts = parts;
        parts.headers.remove(hyper::header::CONTENT_LENGTH);
        let body = Full::new(Bytes::from(rewritten)).map_err(|never| match never {}).boxed();
        return Ok(Response::from_parts(parts, body));
    }
    Ok(Response::from_parts(parts, body.boxed()))
}

fn upstream_client(
    ca_pem: &str,
) -> HttpClient<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Full<Bytes>>
{
    let mut roots = rustls::RootCertStore::empty();
    let der = rustls_pem_certs(ca_pem);
    for cert in der {
        roots.add(cert).expect("CA");
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("tls")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().build();
    HttpClient::builder(TokioExecutor::new()).build(connector)
}

fn rustls_pem_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut body = String::new();
    let mut inside = false;
    for line in pem.lines() {
        if line.starts_with("-----BEGIN CERTIFICATE") {
            inside = true;
            body.clear();
        } else if line.starts_with("-----END CERTIFICATE") {
            inside = false;
            let der = base64::engine::general_purpose::STANDARD.decode(body.as_bytes()).expect("pem");
            out.push(rustls::pki_types::CertificateDer::from(der));
        } else if inside {
            body.push_str(line.trim());
        }
    }
    out
}

/// A CA and a certificate for 127.0.0.1, made for this proxy.
fn tls() -> (tokio_rustls::TlsAcceptor, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.subject_alt_names.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let cert = params.signed_by(&key, &ca).expect("cert");
    let chain = vec![cert.der().clone(), ca.der().clone()];
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        key.serialize_der(),
    ));
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("tls")
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .expect("cert");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}
