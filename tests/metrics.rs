//! Metrics against the demo fleet: the scrape backend through the API server's pod proxy, and
//! the prometheus backend against a real Prometheus server scraping the same fleet. Both must
//! reach the same verdicts: the `api` canary fails on its error rate, the `web` canary passes.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/prometheus.rs"]
mod prometheus;

use std::time::{Duration, Instant};

use base64::Engine as _;
use kube::config::{KubeConfigOptions, Kubeconfig};
use opsdeck::cluster::EnvWatch;
use opsdeck::cluster::metrics::Collector;
use opsdeck::cluster::watch::sync_once;
use opsdeck::config::Config;
use opsdeck::health::Inventory;
use opsdeck::metrics::{AppMetrics, Auth, Backend, Settings, Verdict};
use opsdeck_demo::{Fleet, FleetOptions, Timing};

struct Demo {
    _fleet: Fleet,
    _dir: tempfile::TempDir,
    kubeconfig: Kubeconfig,
    config: Config,
}

/// The fleet with its clock (and traffic) 20× faster: the canaries serve their minimum of
/// requests within a few seconds.
async fn start() -> Demo {
    let fleet = Fleet::start(FleetOptions {
        timing: Timing { speed: 20.0, ..Timing::default() },
        ..FleetOptions::default()
    })
    .await
    .expect("fleet");
    let dir = tempfile::tempdir().expect("tempdir");
    let (kubeconfig, config) = fleet.write_files(dir.path()).expect("files");
    let config = opsdeck::config::load(&config).expect("config");
    let kubeconfig = Kubeconfig::read_from(&kubeconfig).expect("kubeconfig");
    Demo { _fleet: fleet, _dir: dir, kubeconfig, config }
}

impl Demo {
    /// A client like the console's scrape client: no retries, so a refused port is an answer.
    async fn client(&self, context: &str) -> kube::Client {
        let options = KubeConfigOptions { context: Some(context.to_owned()), ..KubeConfigOptions::default() };
        let mut config =
            kube::Config::from_custom_kubeconfig(self.kubeconfig.clone(), &options).await.expect("config");
        config.default_retry = false;
        kube::Client::try_from(config).expect("client")
    }

    /// The environment's settings with every app's window set to `window`.
    fn settings(&self, env: &str, window: Duration) -> Settings {
        let fleet = opsdeck::config::Fleet::resolve(self.config.clone());
        let mut settings = Settings::for_env(&fleet, env).expect("settings");
        settings.interval = Duration::from_secs(1);
        for app in &mut settings.apps {
            app.window = window;
        }
        settings
    }

    async fn inventory(&self, env: &str, client: &kube::Client) -> Inventory {
        let watch = EnvWatch::for_env(&opsdeck::config::Fleet::resolve(self.config.clone()), env);
        sync_once(client, &watch.spec, Duration::from_secs(10)).await.expect("synced").inventory()
    }

    /// Server URL and CA of a context, for a Prometheus server to scrape.
    fn server(&self, context: &str) -> (String, String) {
        let cluster = self.kubeconfig.clusters.iter().find(|c| c.name == context).expect("cluster");
        let cluster = cluster.cluster.as_ref().expect("cluster details");
        let ca = cluster.certificate_authority_data.as_ref().expect("CA data");
        let pem = base64::engine::general_purpose::STANDARD.decode(ca).expect("base64 CA");
        (cluster.server.clone().expect("server"), String::from_utf8(pem).expect("PEM"))
    }
}

fn app<'m>(round: &'m [AppMetrics], name: &str) -> &'m AppMetrics {
    round.iter().find(|a| a.app == name).unwrap_or_else(|| panic!("no metrics for {name}"))
}

/// Scrape rounds a second apart until both canaries have served their minimum of requests.
async fn scrape_until_judged(demo: &Demo, env: &str) -> Vec<AppMetrics> {
    let client = demo.client(env).await;
    let inventory = demo.inventory(env, &client).await;
    let mut collector = Collector::new(demo.settings(env, Duration::from_secs(60))).expect("collector");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let round = collector.round(&client, &inventory).await;
        assert_eq!(round.error, None);
        let judged = ["api", "web"]
            .iter()
            .all(|name| !matches!(app(&round.apps, name).verdict, Some(Verdict::NotEnoughData(_)) | None));
        if judged {
            return round.apps;
        }
        assert!(Instant::now() < deadline, "canaries never judged: {:#?}", round.apps);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn assert_demo_verdicts(apps: &[AppMetrics], backend: &str) {
    let api = app(apps, "api");
    let Some(Verdict::Fail(reasons)) = &api.verdict else {
        panic!("{backend}: the api canary (4% errors) must fail: {api:#?}")
    };
    assert!(reasons.iter().any(|r| r.starts_with("error rate")), "{backend}: {reasons:?}");
    let canary = api.canary.as_ref().expect("api canary figures");
    let rate = canary.error_rate.expect("api canary error rate");
    assert!((0.02..0.07).contains(&rate), "{backend}: api canary error rate {rate}");
    let web = app(apps, "web");
    assert_eq!(web.verdict, Some(Verdict::Pass), "{backend}: the web canary must pass: {web:#?}");
    assert!(app(apps, "worker").canary.is_none(), "worker has no canary");
}

#[tokio::test]
async fn the_scrape_backend_fails_the_api_canary_and_passes_web() {
    let demo = start().await;
    let apps = scrape_until_judged(&demo, "production").await;
    assert_demo_verdicts(&apps, "scrape");
    let stable = &app(&apps, "api").stable;
    assert_eq!(stable.pods, 3, "every stable api pod scraped");
    let p95 = stable.p95.expect("stable p95");
    assert!((0.1..=0.25).contains(&p95), "stable api p95 {p95} within its bucket (true value 0.12 s)");
    assert!(app(&apps, "api").failures.is_empty(), "{:?}", app(&apps, "api").failures);
}

#[tokio::test]
async fn a_pod_whose_endpoint_fails_is_reported_not_fatal() {
    let demo = start().await;
    let client = demo.client("production").await;
    let inventory = demo.inventory("production", &client).await;
    let mut settings = demo.settings("production", Duration::from_secs(60));
    for app in settings.apps.iter_mut().filter(|a| a.app == "web") {
        app.port = 9999;
    }
    let mut collector = Collector::new(settings).expect("collector");
    let round = collector.round(&client, &inventory).await;
    let web = app(&round.apps, "web");
    assert_eq!(web.failures.len(), 4, "3 stable and 1 canary pod: {:?}", web.failures);
    assert!(web.failures[0].contains("9999"), "says which port failed: {}", web.failures[0]);
    assert!(app(&round.apps, "api").failures.is_empty(), "the other apps are scraped as usual");
}

#[tokio::test]
async fn an_unreachable_prometheus_is_a_message_not_a_hang() {
    let demo = start().await;
    let client = demo.client("production").await;
    let mut settings = demo.settings("production", Duration::from_secs(30));
    // A port nothing listens on: the connection is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    settings.backend = Backend::Prometheus { url: format!("http://127.0.0.1:{port}"), auth: Auth::None };
    let mut collector = Collector::new(settings).expect("collector");
    let started = Instant::now();
    let round = collector.round(&client, &Inventory::default()).await;
    let error = round.error.expect("an error");
    assert!(error.contains(&format!("127.0.0.1:{port}")), "names the server: {error}");
    assert!(started.elapsed() < Duration::from_secs(6), "bounded by the timeout");
}

#[tokio::test]
#[ignore = "needs prometheus (.ci/run installs Debian's prometheus and runs ignored tests)"]
async fn promql_verdicts_agree_with_the_scrape_verdicts() {
    let demo = start().await;
    let (server, ca) = demo.server("production");
    let prom = prometheus::start_prometheus(&[("production", &server)], &ca).await;
    prometheus::query_until(
        &prom.url,
        r#"sum(rate(http_requests_total{app="api",track="canary"}[10s]))"#,
        Duration::from_secs(30),
    )
    .await;
    let scraped = scrape_until_judged(&demo, "production").await;
    // Let the 10 s window fill with samples before judging on it.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let client = demo.client("production").await;
    let mut settings = demo.settings("production", Duration::from_secs(10));
    settings.backend = Backend::Prometheus { url: prom.url.clone(), auth: Auth::None };
    let mut collector = Collector::new(settings).expect("collector");
    let round = collector.round(&client, &Inventory::default()).await;
    assert_eq!(round.error, None);
    assert_demo_verdicts(&round.apps, "prometheus");
    for name in ["api", "web"] {
        assert_eq!(
            app(&round.apps, name).verdict.as_ref().map(Verdict::word),
            app(&scraped, name).verdict.as_ref().map(Verdict::word),
            "{name}: PromQL and scrape disagree"
        );
    }
}
