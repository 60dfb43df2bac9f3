//! `opsdeck canary …`: one app's canary in one environment — `status` (weight, both tracks'
//! figures and the analysis verdict, measured the way the console measures it), the weight
//! changes and promotion along the operation path, and the kill switch.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::operate::{
    Options, apply_policy, confirm_non_interactively, execute, op_failure, plan_failure, show,
};
use super::{kubeconfig_source, load_config};
use crate::cli::{AbortArgs, GlobalArgs, TargetArgs, WriteArgs};
use crate::cluster::metrics::Collector;
use crate::cluster::ops::OpError;
use crate::cluster::watch::sync_once;
use crate::cluster::{self, ConnectTimeouts, EnvWatch};
use crate::config::{self, Paths};
use crate::exit::{Exit, Failure};
use crate::health::Inventory;
use crate::health::verdict::CanaryHealth;
use crate::metrics::{AppMetrics, AppSettings, Backend, Figures, Settings, Verdict};
use crate::ops::canary;
use crate::runner::{self, CanaryRequest};

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

    let source = settings.source_name();
    let mut metrics = measure(&settings, &app_settings, &clients.scrape, &inventory).await?;
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

/// The app's canary figures and verdict, measured now. A scrape has no history before this
/// process: it samples until the canary has served enough requests to judge, or the analysis
/// window has passed. Prometheus already holds the window.
async fn measure(
    settings: &Settings,
    app: &AppSettings,
    client: &kube::Client,
    inventory: &Inventory,
) -> Result<AppMetrics, Failure> {
    let scrape = matches!(settings.backend, Backend::Scrape);
    let mut collector = Collector::new(settings.clone()).map_err(Failure::usage)?;
    let started = Instant::now();
    let mut said = false;
    loop {
        let round = collector.round(client, inventory).await;
        if let Some(error) = round.error {
            return Err(Failure::new(Exit::Unreachable, format!("metrics: {error}")));
        }
        let Some(m) = round.apps.into_iter().find(|a| a.app == app.app) else {
            return Err(Failure::new(Exit::Failed, "the metrics round did not include the app"));
        };
        let enough = m.canary.as_ref().is_some_and(|c| c.requests >= app.thresholds.min_requests as f64);
        if !scrape || (enough && started.elapsed() >= SCRAPE_EVERY) || started.elapsed() >= app.window {
            return Ok(m);
        }
        if !said {
            eprintln!("sampling {} pods' metrics for up to {}s…", app.app, app.window.as_secs());
            said = true;
        }
        tokio::time::sleep(SCRAPE_EVERY.min(settings.interval)).await;
    }
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

/// `opsdeck canary step|back|set|abort|promote`: one plan along the operation path. More
/// traffic (a step up, a higher weight, a promotion) is gated on the analysis: a verdict other
/// than pass needs `--override R`, which is recorded with the verdict it overrode.
pub async fn change(
    global: &GlobalArgs,
    paths: &Paths,
    request: CanaryRequest,
    args: &WriteArgs,
    overridden: Option<&str>,
) -> Result<Exit, Failure> {
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global)).map_err(Failure::usage)?;
    let path = config::resolve_path(global.config.as_deref(), paths);
    let config = load_config(&path, global.config.is_some(), Ok(&kubeconfig))?;
    let (env, app) = runner::find(&config, &args.target.env, &args.target.app).map_err(Failure::usage)?;
    let target = runner::canary_target(env, app).map_err(Failure::usage)?;
    let readonly = global.readonly || env.readonly;
    let session = runner::open_session(kubeconfig, env, readonly).await.map_err(|e| op_failure(&e))?;
    let objects = runner::fetch_canary(&session, env, app, target).await.map_err(|e| op_failure(&e))?;
    let current = canary::read_weight(target, &objects.view()).map_err(plan_failure)?.percent;
    let mut plan = runner::plan_canary(env, app, target, &objects, request).map_err(plan_failure)?;
    let version = objects.canary_version();
    apply_policy(paths, env, &mut plan, version.as_deref(), args.reason.as_deref())?;
    let sessions = runner::Sessions::from(session.clone());

    show(&plan, args.target.json);
    runner::preflight(&sessions, &plan).await.map_err(|e| op_failure(&e))?;
    // Refuse a missing --yes before spending seconds on measuring the canary.
    confirm_non_interactively(&plan, args.yes, args.reason.as_deref())?;
    let given = args.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let mut reason = given.map(str::to_owned);
    if canary::raises(request, current) {
        let verdict = verdict_now(&config, env, app, &session).await?;
        if let Some(why) = canary::gate(request, current, Some(&verdict)) {
            let Some(overridden) = overridden.map(str::trim).filter(|r| !r.is_empty()) else {
                return Err(Failure::new(
                    Exit::Precondition,
                    format!(
                        "not raising the canary's traffic: {why}. Pass --override R to go ahead anyway; it is recorded"
                    ),
                ));
            };
            if !args.target.json {
                eprintln!("⚠ overriding the analysis ({why})");
            }
            let mut recorded = canary::override_reason(&why, overridden);
            if let Some(given) = given.filter(|g| *g != overridden) {
                recorded = format!("{recorded}; {given}");
            }
            reason = Some(recorded);
        }
    }
    let options = Options { yes: args.yes, reason: reason.as_deref(), json: args.target.json };
    execute(&config, paths, &sessions, &plan, options, async || {
        runner::describe_canary_now(&session, env, app).await
    })
    .await
}

/// The canary's verdict as measured now, for the gate on more traffic.
async fn verdict_now(
    config: &config::Config,
    env: &config::Environment,
    app: &config::App,
    session: &runner::Session,
) -> Result<Verdict, Failure> {
    let settings = match Settings::from_config(config, env) {
        Ok(settings) => settings,
        // No metrics to judge by: the gate sees no data, and an override can still go ahead.
        Err(e) => return Ok(Verdict::NotEnoughData(vec![format!("no metrics ({e})")])),
    };
    let Some(app_settings) = settings.apps.iter().find(|a| a.app == app.name()).cloned() else {
        return Err(Failure::usage(format!("unknown app {:?}", app.name())));
    };
    let watch = EnvWatch::from_config(config, env);
    let tables = sync_once(&session.read, &watch.spec, Duration::from_secs(15))
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, format!("{}: {e}", env.name())))?;
    let metrics = measure(&settings, &app_settings, &session.read, &tables.inventory()).await?;
    Ok(metrics.verdict.unwrap_or_else(|| Verdict::NotEnoughData(vec!["no canary figures".into()])))
}

/// `opsdeck canary abort --all`: the kill switch. Every environment's active canaries (weight
/// above 0) go to weight 0 as one plan: one confirmation (the strictest protection among them
/// decides what it needs), each abort audited on its own, and an environment that cannot be
/// reached or written left out with a warning rather than holding up the others.
pub async fn abort_all(global: &GlobalArgs, paths: &Paths, args: &AbortArgs) -> Result<Exit, Failure> {
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global)).map_err(Failure::usage)?;
    let path = config::resolve_path(global.config.as_deref(), paths);
    let config = load_config(&path, global.config.is_some(), Ok(&kubeconfig))?;
    let mut sessions = runner::Sessions::default();
    let mut problems = Vec::new();
    for env in &config.environments {
        if runner::canary_apps(&config, env).is_empty() {
            continue;
        }
        match runner::open_session(kubeconfig.clone(), env, global.readonly || env.readonly).await {
            Ok(session) => sessions.insert(session),
            Err(e) => problems.push(OpError::Unreachable(format!("{}: {e}", env.name()))),
        }
    }
    let (plan, unread) = runner::plan_kill_switch(&config, &sessions).await;
    problems.extend(unread);
    let worst = |problems: &[OpError]| problems.first().map_or(Exit::Ok, OpError::exit);
    let Some(plan) = plan else {
        for problem in &problems {
            eprintln!("⚠ {problem}");
        }
        println!("no canary is taking traffic: nothing to abort");
        return Ok(worst(&problems));
    };
    let mut plan = runner::preflight_fleet(&sessions, plan).await.map_err(|e| op_failure(&e))?;
    let mut warnings: Vec<String> = problems.iter().map(OpError::to_string).collect();
    warnings.append(&mut plan.warnings);
    plan.warnings = warnings;
    show(&plan, args.json);
    confirm_non_interactively(&plan, args.yes, args.reason.as_deref())?;
    let options = Options { yes: args.yes, reason: args.reason.as_deref(), json: args.json };
    let exit = execute(&config, paths, &sessions, &plan, options, async || String::new()).await?;
    // Every reachable canary was aborted; one left out still makes the switch incomplete.
    Ok(if exit == Exit::Ok { worst(&problems) } else { exit })
}
