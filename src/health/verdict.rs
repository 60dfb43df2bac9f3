//! The health model's output: per app and per environment, a verdict with its reasons.

use serde::Serialize;

use super::inventory::EventInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Healthy,
    /// Running, but something needs attention.
    Degraded,
    /// Not serving: no available replicas, or the cluster's nodes are all down.
    Down,
    /// Not enough is known to say (no data yet, unreachable).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Rollout {
    /// The Deployment observed its generation and every replica is updated and available.
    Complete,
    Progressing,
    /// Progressing=False with ProgressDeadlineExceeded.
    Stalled {
        reason: String,
    },
    Paused,
    /// The configured Deployment does not exist in the environment.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replicas {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanaryHealth {
    /// Percent of traffic to the canary, when the provider says.
    pub weight: Option<u32>,
    /// True for the replica-ratio provider: the weight is the pod ratio, not routed traffic.
    pub approximate: bool,
    /// The canary's image tag.
    pub version: Option<String>,
    pub replicas: Replicas,
    /// When the weight last changed, as this process saw it; `None` while it has not changed
    /// since the process started watching (it has been at this weight at least that long).
    pub since: Option<jiff::Timestamp>,
    /// A blue-green's colours: the stable one and the canary one (the Service selects the
    /// canary's at 100%, the stable's at 0%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colours: Option<Colours>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Colours {
    pub stable: String,
    pub canary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppHealth {
    pub app: String,
    /// The stable Deployment's first container image tag (or digest).
    pub version: Option<String>,
    pub replicas: Replicas,
    pub rollout: Rollout,
    /// Container restarts in the recent window (pods whose last restart falls in it).
    pub restarts_recent: u32,
    pub crash_looping: u32,
    pub image_pull_failing: u32,
    pub pending: u32,
    /// Warning events about this app's objects in the recent window.
    pub warnings_recent: u32,
    pub canary: Option<CanaryHealth>,
    /// Argo Rollouts or Flagger runs this app's releases: what it says.
    pub controller: Option<super::inventory::ControllerInfo>,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvHealth {
    pub env: String,
    pub nodes_ready: u32,
    pub nodes_total: u32,
    pub apps: Vec<AppHealth>,
    /// Warning events in the recent window, newest first.
    pub warnings: Vec<EventInfo>,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    /// The Flux and Argo CD objects that reconcile the apps, and whether they are in sync
    /// (`status --json` has them beside the health, not inside it).
    #[serde(skip)]
    pub gitops: Vec<super::gitops::GitOpsState>,
}

/// Data that may no longer be true: the watches feeding it went silent, or the cluster stopped
/// answering. What the screen shows is as of `since`, and no verdict can be drawn from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stale {
    /// When the data was last known to be current.
    pub since: jiff::Timestamp,
    pub why: String,
}

impl EnvHealth {
    /// The verdicts of data that is no longer known to be current: unknown, saying why and as
    /// of when, the environment's and each app's — never the last healthy reading shown as
    /// live.
    pub fn mark_stale(&mut self, stale: &Stale) {
        let as_of = format!("data as of {}", stale.since.strftime("%H:%M:%S UTC"));
        self.verdict = Verdict::Unknown;
        self.reasons.insert(0, format!("{}: {as_of}", stale.why));
        for app in &mut self.apps {
            app.verdict = Verdict::Unknown;
            app.reasons.insert(0, as_of.clone());
        }
    }

    /// Carries each canary's "at this weight since" over from the previous reading of the
    /// environment: kept while the weight holds, stamped `now` when it changes. The health
    /// model itself has no memory; the environment task keeps the previous reading.
    pub fn carry_canary_since(&mut self, previous: Option<&Self>, now: jiff::Timestamp) {
        for app in &mut self.apps {
            let Some(canary) = &mut app.canary else { continue };
            let before = previous
                .and_then(|p| p.apps.iter().find(|a| a.app == app.app))
                .and_then(|a| a.canary.as_ref());
            canary.since = match before {
                Some(b) if b.weight == canary.weight => b.since,
                Some(_) => Some(now),
                // First seen: its weight is older than this process.
                None => None,
            };
        }
    }
}
