//! What the console knows of each app's canary from config: its steps, auto-mode settings,
//! analysis thresholds and, per environment, the provider and the object that carries the
//! weight. The live side (weight, versions, figures) comes from the snapshots.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{App, CanaryTarget, Config};
use crate::metrics::Thresholds;

/// Where one environment's canary weight lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `nginx-ingress`, `gateway-api`, `replicas`.
    pub name: &'static str,
    /// The weight is a pod ratio, not routed traffic.
    pub approximate: bool,
    /// "Ingress shop/web-canary", "HTTPRoute shop/api", "Deployments shop/web + shop/web-canary".
    pub carrier: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CanarySpec {
    pub steps: Vec<u8>,
    /// Auto mode: time between steps.
    pub interval: Duration,
    /// Auto mode: consecutive failed checks before it aborts.
    pub failure_threshold: u32,
    /// By environment name.
    pub providers: BTreeMap<String, Provider>,
    pub thresholds: Thresholds,
    pub window: Duration,
}

impl CanarySpec {
    /// The app's canary settings, or `None` when it has no canary anywhere.
    pub fn from_config(config: &Config, app: &App) -> Option<Self> {
        let canary = app.canary.as_ref()?;
        let providers = config
            .environments
            .iter()
            .filter_map(|env| {
                let (_, target) = canary.environments.iter().find(|(k, _)| k.get_ref() == env.name())?;
                let namespace = app
                    .namespace
                    .clone()
                    .or_else(|| env.namespaces.first().cloned())
                    .unwrap_or_else(|| "default".into());
                let provider = crate::ops::canary::provider(target);
                let carrier = match target {
                    CanaryTarget::NginxIngress { ingress, .. } => format!("Ingress {namespace}/{ingress}"),
                    CanaryTarget::GatewayApi { route, .. } => format!("HTTPRoute {namespace}/{route}"),
                    CanaryTarget::Replicas { canary_deployment } => {
                        format!(
                            "Deployments {namespace}/{} + {namespace}/{canary_deployment}",
                            app.deployment
                        )
                    }
                };
                let provider =
                    Provider { name: provider.name(), approximate: provider.approximate(), carrier };
                Some((env.name().to_owned(), provider))
            })
            .collect();
        let a = &app.analysis;
        Some(Self {
            steps: canary.steps.get_ref().clone(),
            interval: canary.interval.0,
            failure_threshold: canary.failure_threshold,
            providers,
            thresholds: Thresholds {
                max_error_rate: a.max_error_rate,
                max_latency_ratio: a.max_latency_ratio,
                max_p95_seconds: a.max_p95_ms / 1000.0,
                min_requests: a.min_requests,
            },
            window: a.window.0,
        })
    }

    /// The highest step: where auto mode stops and promotion is next.
    pub fn top(&self) -> u32 {
        self.steps.iter().copied().max().map_or(100, u32::from)
    }
}
