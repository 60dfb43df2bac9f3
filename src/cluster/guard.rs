//! The guard's metrics I/O for one app: the new version's pods scraped each round into a
//! series of their own (so the previous revision's traffic never dilutes them), the previous
//! revision's pods read once for a baseline while they still run; or, with the `prometheus`
//! source, the app's figures since the change and over a window before it.

use std::time::Duration;

use jiff::Timestamp;

use super::metrics::{Collector, scrape_pods};
use crate::guard::baseline::lifetime;
use crate::guard::observe::current_replica_set;
use crate::guard::run::Baseline;
use crate::health::Inventory;
use crate::health::assess::AppSpec;
use crate::metrics::{
    AppSettings, Backend, Figures, MAX_PODS_PER_TRACK, Series, Settings, Track, exposition,
};

/// One guarded app's metrics.
pub struct Sampler {
    collector: Collector,
    app: AppSettings,
    /// The new version's pods, as the canary track.
    series: Series,
}

/// One round's figures.
#[derive(Debug, Default)]
pub struct Round {
    /// The new version's figures since the guard started.
    pub figures: Figures,
    /// The previous revision's pods' figures over their lifetime, when any still run.
    pub previous: Option<Baseline>,
    /// Pods whose endpoint failed, with why.
    pub failures: Vec<String>,
}

impl Sampler {
    pub fn new(settings: Settings, app: AppSettings, period: Duration) -> Result<Self, String> {
        Ok(Self { collector: Collector::new(settings)?, app, series: Series::new(period) })
    }

    pub fn interval(&self) -> Duration {
        self.collector.settings().interval
    }

    /// The baseline from Prometheus: the stable track over `window` before `change`. `None`
    /// with the scrape source, which keeps no history.
    pub async fn prometheus_baseline(
        &self,
        window: Duration,
        change: Timestamp,
    ) -> Option<Result<Baseline, String>> {
        if !matches!(self.collector.settings().backend, Backend::Prometheus { .. }) {
            return None;
        }
        let figures = self.collector.query_window(&self.app, Track::Stable, window, Some(change)).await;
        Some(figures.map(|figures| Baseline {
            figures,
            from: format!(
                "Prometheus, the {} before the change at {}",
                crate::config::duration_words(i64::try_from(window.as_secs()).unwrap_or(i64::MAX)),
                change.strftime("%H:%M:%S UTC")
            ),
        }))
    }

    /// One round: scrape the new version's pods (and the previous revision's), or ask
    /// Prometheus for the figures since `change`.
    pub async fn round(
        &mut self,
        client: &kube::Client,
        inventory: &Inventory,
        spec: &AppSpec<'_>,
        change: Timestamp,
    ) -> Result<Round, String> {
        let now = Timestamp::now();
        if matches!(self.collector.settings().backend, Backend::Prometheus { .. }) {
            let since = Duration::try_from(now.duration_since(change)).unwrap_or(Duration::ZERO);
            let figures = self
                .collector
                .query_window(&self.app, Track::Stable, since.max(Duration::from_secs(60)), None)
                .await?;
            return Ok(Round { figures, ..Round::default() });
        }
        let Some(current) = current_replica_set(spec, inventory) else {
            return Ok(Round::default());
        };
        let (stable, _) = spec.live_names(inventory);
        let running = |owner: &str| {
            let mut pods: Vec<String> = inventory
                .pods
                .iter()
                .filter(|p| p.namespace == spec.namespace && p.owner.as_deref() == Some(owner))
                .filter(|p| p.phase == "Running" && !p.terminating)
                .map(|p| p.name.clone())
                .collect();
            pods.sort();
            pods.truncate(MAX_PODS_PER_TRACK);
            pods
        };
        let mut targets: Vec<(Track, String)> =
            running(&current.name).into_iter().map(|p| (Track::Canary, p)).collect();
        let previous_sets: Vec<_> = inventory
            .replica_sets
            .iter()
            .filter(|rs| {
                rs.namespace == spec.namespace
                    && rs.owner.as_deref() == Some(stable)
                    && rs.name != current.name
            })
            .collect();
        let mut revisions = Vec::new();
        for rs in &previous_sets {
            let pods = running(&rs.name);
            if !pods.is_empty() {
                revisions.extend(rs.revision);
            }
            targets.extend(pods.into_iter().map(|p| (Track::Stable, p)));
        }
        let namespace = spec.namespace.to_owned();
        let targets = targets.into_iter().map(|(track, pod)| (track, namespace.clone(), pod)).collect();
        let timeout = self.collector.settings().timeout;
        let results = scrape_pods(client, targets, self.app.port, &self.app.path, timeout).await;
        let mut round = Round::default();
        let mut previous = Vec::new();
        for (pod, track, text) in results {
            let counters =
                text.and_then(|t| exposition::parse(&t, &self.app.names).map_err(|e| e.to_string()));
            match (counters, track) {
                (Ok(c), Track::Canary) => self.series.record(&pod, Track::Canary, now, c),
                (Ok(c), Track::Stable) => previous.push(c),
                (Err(e), _) => round.failures.push(format!("{namespace}/{pod}: {e}")),
            }
        }
        round.failures.sort();
        self.series.prune(now);
        round.figures = self.series.figures(Track::Canary, now);
        if !previous.is_empty() {
            revisions.sort_unstable();
            let which = match revisions.as_slice() {
                [one] => format!("revision {one}'s"),
                _ => "the previous revisions'".to_owned(),
            };
            round.previous = Some(Baseline {
                from: format!(
                    "{which} {} pods over their lifetime, read at {}",
                    previous.len(),
                    now.strftime("%H:%M:%S UTC")
                ),
                figures: lifetime(&previous),
            });
        }
        Ok(round)
    }
}
