//! What the console knows of each app's canary from config: its steps, auto-mode settings,
//! analysis thresholds and, per environment, where it lives (the fleet model's placement).
//! The live side (weight, versions, figures) comes from the snapshots.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{CanaryPlace, Fleet};
use crate::metrics::Thresholds;

#[derive(Debug, Clone, PartialEq)]
pub struct CanarySpec {
    pub steps: Vec<u8>,
    /// Auto mode: time between steps.
    pub interval: Duration,
    /// Auto mode: consecutive failed checks before it aborts.
    pub failure_threshold: u32,
    /// By environment name.
    pub providers: BTreeMap<String, CanaryPlace>,
    pub thresholds: Thresholds,
    pub window: Duration,
}

impl CanarySpec {
    /// The app's canary settings, or `None` when it has no canary anywhere.
    pub fn of(fleet: &Fleet, app: &str) -> Option<Self> {
        let config = fleet.config.app(app)?;
        let canary = config.canary.as_ref()?;
        let providers: BTreeMap<String, CanaryPlace> = fleet
            .environments
            .iter()
            .filter_map(|env| {
                let place = env.apps.iter().find(|p| p.app == app)?.canary.clone()?;
                Some((env.name.clone(), place))
            })
            .collect();
        // A blue-green has one step, the switch, wherever it is blue-green.
        let steps: Vec<u8> = match providers.values().next() {
            Some(first) if providers.values().all(|p| p.target.is_blue_green()) => {
                first.target.steps(canary.steps.get_ref()).to_vec()
            }
            _ => canary.steps.get_ref().clone(),
        };
        Some(Self {
            steps,
            interval: canary.interval.0,
            failure_threshold: canary.failure_threshold,
            providers,
            thresholds: Thresholds::of(&config.analysis),
            window: config.analysis.window.0,
        })
    }

    /// The highest step: where auto mode stops and promotion is next.
    pub fn top(&self) -> u32 {
        self.steps.iter().copied().max().map_or(100, u32::from)
    }
}
