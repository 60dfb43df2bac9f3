//! `opsdeck canary status`: one app's canary in one environment — the weight, both tracks'
//! figures and the analysis verdict, measured the way the engine's gate measures it. (The
//! weight changes, promotion and the kill switch are writes like any other: see `write`.)

use std::time::Duration;

use serde::Serialize;

use super::write::{self, refused};
use crate::cli::{GlobalArgs, TargetArgs};
use crate::cluster::EnvWatch;
use crate::cluster::metrics::measure;
use crate::cluster::watch::sync_once;
use crate::config::Paths;
use crate::exit::{Exit, Failure};
use crate::health::verdict::CanaryHealth;
use crate::metrics::{Figures, Settings, Verdict};

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
    // Status only reads.
    let global = GlobalArgs { readonly: true, ..global.clone() };
    let engine = write::engine(&global, paths, true)?;
    let fleet = engine.fleet();
    fleet.canary(&args.env, &args.app).map_err(|e| Failure::usage(e.to_string()))?;
    let settings = Settings::for_env(fleet, &args.env).map_err(Failure::usage)?;
    let Some(app_settings) = settings.apps.iter().find(|a| a.app == args.app).cloned() else {
        return Err(Failure::usage(format!("unknown app {:?}", args.app)));
    };
    let session = engine.session(&args.env).await.map_err(|e| refused(&e))?;
    let watch = EnvWatch::for_env(fleet, &args.env);
    let tables = sync_once(&session.read, &watch.spec, Duration::from_secs(15))
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, format!("{}: {e}", args.env)))?;
    let inventory = tables.inventory();
    let health = watch.assess(&inventory, jiff::Timestamp::now());
    let app_health = health.apps.iter().find(|a| a.app == args.app);
    let canary_health: Option<&CanaryHealth> = app_health.and_then(|a| a.canary.as_ref());

    let source = settings.source_name();
    let serves = canary_health.and_then(|c| c.weight).is_none_or(|w| w > 0);
    let mut metrics =
        measure(&settings, &app_settings, &session.read, &inventory, serves, |m| eprintln!("{m}"))
            .await
            .map_err(|e| Failure::new(Exit::Unreachable, e))?;
    let out = CanaryStatus {
        env: args.env.clone(),
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
        out!("{text}");
    } else {
        print_text(&out);
    }
    Ok(if matches!(out.analysis, Verdict::Fail(_)) { Exit::Failed } else { Exit::Ok })
}

fn print_text(s: &CanaryStatus) {
    use crate::ui::figures::{error_rate, millis};
    let weight = s.weight.map_or_else(|| "?".to_owned(), |w| format!("{w}%"));
    let approx = if s.weight_approximate { " (approximate: replica ratio)" } else { "" };
    out!("{}/{} canary at {weight}{approx}", s.env, s.app);
    out!("  source {} · window {}s", s.source, s.window_seconds);
    out!(
        "  {:<8} {:<16} {:>9} {:>8} {:>8} {:>8} {:>8} {:>5}",
        "TRACK",
        "VERSION",
        "REQUESTS",
        "5XX",
        "P50",
        "P95",
        "P99",
        "PODS"
    );
    for (track, version, f) in
        [("stable", &s.stable_version, &s.stable), ("canary", &s.canary_version, &s.canary)]
    {
        out!(
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
    out!("  verdict: {}", s.analysis.word());
    for reason in s.analysis.reasons() {
        out!("    - {reason}");
    }
    for failure in &s.failures {
        out!("  ⚠ {failure}");
    }
}
