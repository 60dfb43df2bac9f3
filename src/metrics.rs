//! Request metrics per app and track, and the canary-versus-stable verdict.
//!
//! Pure: the exposition parser ([`exposition`]), windowed rates and quantiles from successive
//! scrapes ([`window`]), the verdict ([`analysis`]) and the PromQL templates ([`queries`]). The
//! scrape and Prometheus I/O lives in the cluster layer (`cluster::metrics`).

pub mod analysis;
pub mod exposition;
pub mod queries;
pub mod window;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

pub use analysis::{Thresholds, Verdict, analyze};
pub use exposition::{Counters, Names};
pub use queries::Queries;
pub use window::{Figures, History, Point, Series, Track};

use crate::config::{CanaryTarget, Fleet, MetricsBackend};

/// Points kept per track for the sparklines: at the default 15 s interval, the last 15 minutes.
pub const HISTORY_POINTS: usize = 60;

/// At most this many pods per app and track are scraped each round: error rate and quantiles
/// from a sample are sound, and scraping 5,000 pods every 15 s through the API server is not.
pub const MAX_PODS_PER_TRACK: usize = 10;

/// How one environment reads its metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Scrape,
    Prometheus { url: String, auth: Auth },
}

/// Credentials for the Prometheus server, resolved from the environment variables config names.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(String),
    Basic { username: String, password: String },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Bearer(_) => "Bearer(<redacted>)",
            Self::Basic { .. } => "Basic(<redacted>)",
        })
    }
}

/// One app's metric settings in one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSettings {
    pub app: String,
    pub namespace: String,
    pub deployment: String,
    /// This environment's canary for the app: which pods are the canary's.
    pub canary: Option<CanaryTarget>,
    pub names: Names,
    pub port: u16,
    pub path: String,
    pub track_label: String,
    pub queries: Queries,
    pub thresholds: Thresholds,
    pub window: Duration,
}

/// One environment's metric settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub backend: Backend,
    pub interval: Duration,
    pub timeout: Duration,
    pub apps: Vec<AppSettings>,
}

impl Settings {
    /// The settings for `env`, or why they cannot be used (a Prometheus URL or credential
    /// variable missing): shown in the column instead of figures, never a panic.
    pub fn for_env(fleet: &Fleet, env: &str) -> Result<Self, String> {
        let (Some(config), Ok(model)) = (fleet.env_config(env), fleet.env(env)) else {
            return Err(format!("unknown environment {env:?}"));
        };
        let m = &config.metrics;
        let backend = match m.source {
            MetricsBackend::None => return Err("off for this environment (source = \"none\")".to_owned()),
            MetricsBackend::Scrape => Backend::Scrape,
            MetricsBackend::Prometheus => {
                let url =
                    m.url.as_ref().map(|u| u.get_ref().trim_end_matches('/').to_owned()).ok_or_else(
                        || format!("environment {env}: metrics source \"prometheus\" needs a url"),
                    )?;
                let var = |name: &str| {
                    std::env::var(name)
                        .map_err(|_| format!("metrics credentials: environment variable {name} is not set"))
                };
                let auth = match (&m.token_env, &m.username, &m.password_env) {
                    (Some(token), _, _) => Auth::Bearer(var(token)?),
                    (None, Some(user), Some(password)) => {
                        Auth::Basic { username: user.clone(), password: var(password)? }
                    }
                    _ => Auth::None,
                };
                Backend::Prometheus { url, auth }
            }
        };
        let apps = model
            .apps
            .iter()
            .filter_map(|placement| {
                let a = fleet.config.app(&placement.app)?;
                let metrics = &a.metrics;
                Some(AppSettings {
                    app: placement.app.clone(),
                    namespace: placement.namespace.clone(),
                    deployment: placement.deployment.clone(),
                    canary: placement.canary.as_ref().map(|c| c.target.clone()),
                    names: Names { requests: metrics.requests.clone(), duration: metrics.duration.clone() },
                    port: metrics.port,
                    path: metrics.path.clone(),
                    track_label: metrics.track_label.clone(),
                    queries: Queries::new(
                        &metrics.requests,
                        &metrics.duration,
                        &metrics.track_label,
                        &metrics.queries,
                    ),
                    thresholds: Thresholds::of(&a.analysis),
                    window: a.analysis.window.0,
                })
            })
            .collect();
        Ok(Self { backend, interval: m.interval.0, timeout: m.timeout.0, apps })
    }

    pub fn source_name(&self) -> &'static str {
        match self.backend {
            Backend::Scrape => "scrape",
            Backend::Prometheus { .. } => "prometheus",
        }
    }
}

/// One app's figures in one environment, as of one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppMetrics {
    pub app: String,
    pub stable: Figures,
    /// Present when the app has a canary in this environment.
    pub canary: Option<Figures>,
    /// Canary versus stable; present with a canary.
    pub verdict: Option<Verdict>,
    pub stable_history: History,
    pub canary_history: History,
    /// Pods whose endpoint failed this round, with why: reported, not fatal.
    pub failures: Vec<String>,
    /// Of those, the pods whose counters were unusable: the verdict cannot be trusted.
    pub unusable: Vec<String>,
    /// Pods in the app that were not scraped this round (over [`MAX_PODS_PER_TRACK`]).
    pub unsampled: usize,
}

/// What a scrape round could not use, besides the figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scraped {
    /// Pods whose endpoint failed or whose exposition could not be read, with why.
    pub failures: Vec<String>,
    /// Of those, the pods whose counters held values no counter can (NaN, infinite, negative).
    pub unusable: Vec<String>,
    /// Pods in the app that were not scraped this round (over [`MAX_PODS_PER_TRACK`]).
    pub unsampled: usize,
}

/// An environment's metrics as of one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    pub source: &'static str,
    pub at: jiff::Timestamp,
    pub apps: Vec<AppMetrics>,
    /// Why this round produced nothing (Prometheus unreachable, bad settings).
    pub error: Option<String>,
}

impl MetricsSnapshot {
    pub fn app(&self, name: &str) -> Option<&AppMetrics> {
        self.apps.iter().find(|a| a.app == name)
    }
}

/// What persists between rounds for one environment: the scrape series and the sparkline
/// histories. Pure: the I/O hands it figures or scrapes, it hands back [`AppMetrics`].
#[derive(Debug, Default)]
pub struct Memory {
    series: BTreeMap<String, Series>,
    histories: BTreeMap<(String, Track), History>,
}

impl Memory {
    /// The scrape series of `app`, created with the app's window on first use.
    pub fn series(&mut self, app: &AppSettings) -> &mut Series {
        self.series.entry(app.app.clone()).or_insert_with(|| Series::new(app.window))
    }

    /// The round's figures into the app's metrics: the verdict when there is a canary, and
    /// one more point on each track's sparkline. A pod whose counters were unusable makes
    /// the verdict "not enough data" naming it: the figures without it are not the truth.
    /// A verdict short of data says which pods could not be read, if any.
    pub fn conclude(
        &mut self,
        app: &AppSettings,
        stable: Figures,
        canary: Option<Figures>,
        scraped: Scraped,
        at: jiff::Timestamp,
    ) -> AppMetrics {
        let Scraped { failures, unusable, unsampled } = scraped;
        let verdict = canary.as_ref().map(|c| {
            if !unusable.is_empty() {
                return Verdict::NotEnoughData(
                    unusable.iter().map(|u| format!("unusable metrics: {u}")).collect(),
                );
            }
            match analyze(c, &stable, &app.thresholds) {
                Verdict::NotEnoughData(mut reasons) if !failures.is_empty() => {
                    reasons.extend(failures.iter().map(|f| format!("not read: {f}")));
                    Verdict::NotEnoughData(reasons)
                }
                verdict => verdict,
            }
        });
        let mut push = |track: Track, figures: &Figures| {
            let history = self
                .histories
                .entry((app.app.clone(), track))
                .or_insert_with(|| History::new(HISTORY_POINTS));
            history.push(Point { at, error_rate: figures.error_rate, p95: figures.p95, rps: figures.rps });
            history.clone()
        };
        let stable_history = push(Track::Stable, &stable);
        let canary_history = canary.as_ref().map(|c| push(Track::Canary, c)).unwrap_or_default();
        AppMetrics {
            app: app.app.clone(),
            stable,
            canary,
            verdict,
            stable_history,
            canary_history,
            failures,
            unusable,
            unsampled,
        }
    }
}
