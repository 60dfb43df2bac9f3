//! `opsdeck canary status`: one app's canary in one environment — weight, both tracks'
//! figures and the analysis verdict — measured the way the console measures it.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{kubeconfig_source, load_config};
use crate::cli::{GlobalArgs, TargetArgs};
use crate::cluster::metrics::Collector;
use crate::cluster::watch::sync_once;
use crate::cluster::{self, ConnectTimeouts, EnvWatch};
use crate::config::{self, Paths};
use crate::exit::{Exit, Failure};
use crate::health::verdict::CanaryHealth;
use crate::metrics::{AppMetrics, Backend, Figures, Settings, Verdict};

/// Each scrape round of the command is this far apart, at most: a person is waiting.
const SCRAPE_EVERY: Duration = Duration::from_secs(5);

/// `--json` output. Field names are part of the command-line contract.
#[derive(Debug, Serialize)]
struct CanaryStatus {
    env: String,
    app: String,
    /// Percent of traffic to the canary, when the provider says.
    weight: Option<u32>,
    /// True for the replica-ratio provider.
    weight_approximate: bool,
    stable_version: Option<String>,
    canary_version: Option<String>,
    /// "scrape" or "prometheus".
    source: &'static str,
    window_seconds: u64,
    stable: Figures,
    canary: Figures,
    /// {"verdict": "pass" | "fail" | "not-enough-data", "reasons": [...]}
    analysis: Verdict,
    /// Pods whose metrics endpoint failed.
    failures: Vec<String>,
}

pub async fn status(global: &GlobalArgs, paths: &Paths, args: &TargetArgs) -> Result<Exit, Failure> {
    let path = config::resolve_path(global.config.as_deref(), paths);
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global));
    let config = load_config(&path, global.config.is_some(), kubeconfig.as_ref())?;
    let env = config
        .environment(&args.env)
        .ok_or_else(|| Failure::usage(format!("unknown environment {:?}", args.env)))?;
    let app = config.app(&args.app).ok_or_else(|| Failure::usage(format!("unknown app {:?}", args.app)))?;
    let has_canary =
        app.canary.as_ref().is_some_and(|c| c.environments.keys().any(|k| k.get_ref() == env.name()));
    if !has_canary {
        return Err(Failure::usage(format!(
            "{} has no canary configured in {} ([apps.canary.environments.{}] in the config)",
            args.app, args.env, args.env
        )));
    }
    let settings = Settings::from_config(&config, env).map_err(Failure::usage)?;
    let Some(app_settings) = settings.apps.iter().find(|a| a.app == args.app).cloned() else {
        return Err(Failure::usage(format!("unknown app {:?}", args.app)));
    };
    let kubeconfig = kubeconfig.map_err(Failure::usage)?;
    let clients = cluster::connect(kubeconfig, env.context(), ConnectTimeouts::default(), true)
        .await
        .map_err(|e| match e {
            cluster::ConnectError::Config(m) => Failure::usage(m),
            cluster::ConnectError::Transient(m) => {
                Failure::new(Exit::Unreachable, format!("{}: {m}", env.name()))
            }
        })?;
    let watch = EnvWatch::from_config(&config, env);
    let tables = sync_once(&clients.read, &watch.spec, Duration::from_secs(15))
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, format!("{}: {e}", env.name())))?;
    let inventory = tables.inventory();
    let health = watch.assess(&inventory, jiff::Timestamp::now());
    let app_health = health.apps.iter().find(|a| a.app == args.app);
    let canary_health: Option<&CanaryHealth> = app_health.and_then(|a| a.canary.as_ref());

    let scrape = matches!(settings.backend, Backend::Scrape);
    let source = settings.source_name();
    let mut collector = Collector::new(settings.clone()).map_err(Failure::usage)?;
    // A scrape has no history before this process: sample until the canary has served enough
    // requests to judge, or the analysis window has passed. Prometheus already has the window.
    let started = Instant::now();
    let mut metrics: AppMetrics = loop {
        let round = collector.round(&clients.scrape, &inventory).await;
        if let Some(error) = round.error {
            return Err(Failure::new(Exit::Unreachable, format!("metrics: {error}")));
        }
        let Some(m) = round.apps.into_iter().find(|a| a.app == args.app) else {
            return Err(Failure::new(Exit::Failed, "the metrics round did not include the app"));
        };
        let enough =
            m.canary.as_ref().is_some_and(|c| c.requests >= app_settings.thresholds.min_requests as f64);
        if !scrape
            || (enough && started.elapsed() >= SCRAPE_EVERY)
            || started.elapsed() >= app_settings.window
        {
            break m;
        }
        if started.elapsed() < SCRAPE_EVERY {
            eprintln!("sampling {} pods' metrics for up to {}s…", args.app, app_settings.window.as_secs());
        }
        tokio::time::sleep(SCRAPE_EVERY.min(settings.interval)).await;
    };
    let out = CanaryStatus {
        env: env.name().to_owned(),
        app: args.app.clone(),
        weight: canary_health.and_then(|c| c.weight),
        weight_approximate: canary_health.is_some_and(|c| c.approximate),
        stable_version: app_health.and_then(|a| a.version.clone()),
        canary_version: canary_health.and_then(|c| c.version.clone()),
        source,
        window_seconds: app_settings.window.as_secs(),
        stable: std::mem::take(&mut metrics.stable),
        canary: metrics.canary.take().unwrap_or_default(),
        analysis: metrics.verdict.take().unwrap_or(Verdict::NotEnoughData(vec!["no canary figures".into()])),
        failures: metrics.failures,
    };
    if args.json {
        let text =
            serde_json::to_string_pretty(&out).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
        println!("{text}");
    } else {
        print_text(&out);
    }
    Ok(if matches!(out.analysis, Verdict::Fail(_)) { Exit::Failed } else { Exit::Ok })
}

fn print_text(s: &CanaryStatus) {
    use crate::ui::figures::{error_rate, millis};
    let weight = s.weight.map_or_else(|| "?".to_owned(), |w| format!("{w}%"));
    let approx = if s.weight_approximate { " (approximate: replica ratio)" } else { "" };
    println!("{}/{} canary at {weight}{approx}", s.env, s.app);
    println!("  source {} · window {}s", s.source, s.window_seconds);
    println!(
        "  {:<8} {:<16} {:>9} {:>8} {:>8} {:>8} {:>8} {:>5}",
        "TRACK", "VERSION", "REQUESTS", "5XX", "P50", "P95", "P99", "PODS"
    );
    for (track, version, f) in
        [("stable", &s.stable_version, &s.stable), ("canary", &s.canary_version, &s.canary)]
    {
        println!(
            "  {:<8} {:<16} {:>9.0} {:>8} {:>8} {:>8} {:>8} {:>5}",
            track,
            version.as_deref().unwrap_or("-"),
            f.requests,
            error_rate(f),
            millis(f.p50),
            millis(f.p95),
            millis(f.p99),
            f.pods
        );
    }
    println!("  verdict: {}", s.analysis.word());
    for reason in s.analysis.reasons() {
        println!("    - {reason}");
    }
    for failure in &s.failures {
        println!("  ⚠ {failure}");
    }
}
