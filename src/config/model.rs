//! The shape of `opsdeck.toml`. Every table denies unknown fields so a typo is an error,
//! not a setting silently ignored. `config/opsdeck.example.toml` documents each field.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::HumanDuration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The release path, in promotion order (e.g. local, staging, production).
    #[serde(default)]
    pub environments: Vec<Environment>,
    #[serde(default)]
    pub apps: Vec<App>,
    #[serde(default)]
    pub notifications: Notifications,
    #[serde(default)]
    pub logs: Logs,
    #[serde(default)]
    pub team: Team,
}

/// Where the team's records live in each environment's cluster, and how long an approval
/// request waits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Namespace of the shared records (audit, signed checklists, approvals) and Leases.
    #[serde(default = "default_team_namespace")]
    pub namespace: String,
    /// Keep records in the clusters too; off, every record stays on this machine only.
    #[serde(default = "yes")]
    pub shared_records: bool,
    /// An approval request nobody answered lapses after this long.
    #[serde(default = "default_approval_expiry")]
    pub approval_expiry: HumanDuration,
}

fn default_team_namespace() -> String {
    "opsdeck".to_owned()
}

fn default_approval_expiry() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(30 * 60))
}

fn yes() -> bool {
    true
}

impl Default for Team {
    fn default() -> Self {
        Self {
            namespace: default_team_namespace(),
            shared_records: true,
            approval_expiry: default_approval_expiry(),
        }
    }
}

/// How much ceremony a write to an environment needs.
// Ordered by ceremony, so the strictest of several environments is their maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protection {
    /// Writes go ahead without a question.
    None,
    /// A y/n confirmation.
    #[default]
    Confirm,
    /// The operator types `env/app` and a reason.
    Typed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub name: Spanned<String>,
    /// The kubeconfig context that reaches this environment's cluster.
    pub context: Spanned<String>,
    #[serde(default = "default_namespaces")]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub protection: Protection,
    #[serde(default)]
    pub readonly: bool,
    /// Column colour: a name (red, green, yellow, blue, magenta, cyan, gray, white) or `#rrggbb`.
    pub color: Option<Spanned<String>>,
    /// When deployments are expected; outside them a write needs an emergency reason.
    #[serde(default)]
    pub windows: Vec<Window>,
    /// Dates when no deployment should happen at all.
    #[serde(default)]
    pub blackouts: Vec<Blackout>,
    /// Outside a window (or on a blackout day) refuse writes that add risk, rather than
    /// asking for an emergency reason. Rollbacks, aborts and pauses are always allowed.
    #[serde(default)]
    pub enforce_windows: bool,
    /// Canary steps and promotions here need a checklist signed for the version within this
    /// long (e.g. `12h`).
    pub require_checklist: Option<HumanDuration>,
    /// Checklist file for this environment (relative paths are relative to the config file).
    pub checklist: Option<PathBuf>,
    #[serde(default)]
    pub metrics: EnvMetrics,
    #[serde(default)]
    pub gitops: EnvGitOps,
    #[serde(default)]
    pub guard: EnvGuard,
    /// A change that adds risk here waits for a second Kubernetes user's approval (seed 004:
    /// "Approval: Required (Platform Team)").
    #[serde(default)]
    pub require_approval: bool,
    /// The roles that sign the checklist here, each by a distinct Kubernetes user (seed 003's
    /// sign-off block); empty, one signature is enough.
    #[serde(default)]
    pub signoffs: Vec<String>,
}

/// How releases are guarded in an environment (seed 004: "Monitor for 1 hour post-deployment").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvGuard {
    /// How long a release is watched; default 1 hour in an environment named `production…`,
    /// 15 minutes elsewhere.
    pub period: Option<HumanDuration>,
    /// The baseline's window before the change, with the `prometheus` metrics source.
    pub baseline: Option<HumanDuration>,
    /// On `rollback`, the console rolls back itself through the operation engine (audited
    /// as automatic), instead of opening the rollback screen for the operator.
    #[serde(default)]
    pub auto_rollback: bool,
}

impl Environment {
    /// The guard's period here.
    pub fn guard_period(&self) -> std::time::Duration {
        self.guard.period.map_or_else(
            || {
                let hour = self.name.get_ref().starts_with("production");
                std::time::Duration::from_secs(if hour { 3600 } else { 900 })
            },
            |p| p.0,
        )
    }

    pub fn guard_baseline(&self) -> std::time::Duration {
        self.guard.baseline.map_or(std::time::Duration::from_secs(1800), |b| b.0)
    }
}

/// Where the environment's GitOps objects live: Flux's Kustomizations and HelmReleases are
/// also looked for in the environment's own namespaces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvGitOps {
    #[serde(default = "default_flux_namespaces")]
    pub flux_namespaces: Vec<String>,
    #[serde(default = "default_argocd_namespaces")]
    pub argocd_namespaces: Vec<String>,
}

impl Default for EnvGitOps {
    fn default() -> Self {
        Self { flux_namespaces: default_flux_namespaces(), argocd_namespaces: default_argocd_namespaces() }
    }
}

fn default_flux_namespaces() -> Vec<String> {
    vec!["flux-system".to_owned()]
}

fn default_argocd_namespaces() -> Vec<String> {
    vec!["argocd".to_owned()]
}

fn default_namespaces() -> Vec<String> {
    vec!["default".to_owned()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A recurring deployment window, e.g. Monday to Thursday 10:00-16:00.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub days: Vec<Weekday>,
    /// `HH:MM`, inclusive.
    pub start: Spanned<String>,
    /// `HH:MM`, exclusive.
    pub end: Spanned<String>,
    /// Offset from UTC the times are written in, `+01:00` or `-05:00`; default `+00:00`.
    #[serde(default = "default_offset")]
    pub utc_offset: Spanned<String>,
    /// A named time zone the times are written in (`Europe/Paris`), daylight saving time and
    /// all; instead of `utc_offset`.
    pub time_zone: Option<Spanned<String>>,
}

fn default_offset() -> Spanned<String> {
    Spanned::new(0..0, "+00:00".to_owned())
}

/// A run of days with no deployments (holidays, campaigns, quarter end).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blackout {
    /// First day, `YYYY-MM-DD`.
    pub from: Spanned<String>,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub to: Spanned<String>,
    pub reason: String,
}

/// Where an environment's request metrics come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvMetrics {
    #[serde(default)]
    pub source: MetricsBackend,
    /// Prometheus server URL, for `source = "prometheus"`.
    pub url: Option<Spanned<String>>,
    /// Environment variable holding a bearer token for the Prometheus server.
    pub token_env: Option<String>,
    /// Basic-auth user for the Prometheus server; the password comes from `password_env`.
    pub username: Option<String>,
    pub password_env: Option<String>,
    /// How often to scrape or query.
    #[serde(default = "default_scrape_interval")]
    pub interval: HumanDuration,
    /// Deadline for one scrape or query.
    #[serde(default = "default_metrics_timeout")]
    pub timeout: HumanDuration,
}

impl Default for EnvMetrics {
    fn default() -> Self {
        Self {
            source: MetricsBackend::default(),
            url: None,
            token_env: None,
            username: None,
            password_env: None,
            interval: default_scrape_interval(),
            timeout: default_metrics_timeout(),
        }
    }
}

fn default_scrape_interval() -> HumanDuration {
    HumanDuration::secs(15)
}

fn default_metrics_timeout() -> HumanDuration {
    HumanDuration::secs(5)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsBackend {
    /// Each pod's `/metrics`, read through the API server's pod proxy.
    #[default]
    Scrape,
    /// `PromQL` instant queries against a Prometheus server.
    Prometheus,
    /// No request metrics for this environment.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub name: Spanned<String>,
    /// The (stable) Deployment's name.
    pub deployment: String,
    /// Namespace; default: the environment's first namespace.
    pub namespace: Option<String>,
    /// Labels that select the app's pods; default `app = <name>`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub canary: Option<Canary>,
    #[serde(default)]
    pub analysis: Analysis,
    #[serde(default)]
    pub metrics: AppMetrics,
    #[serde(default)]
    pub guard: AppGuard,
}

/// The guard's limits for one app; the defaults are the seed's decision tree ("Is it > 1%?",
/// "Is it > 2x baseline?").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppGuard {
    #[serde(default = "default_max_error_rate")]
    pub max_error_rate: f64,
    /// An error rate this much above the baseline's (0.002: 0.2 points) is "not normal":
    /// monitor closely, prepare rollback.
    #[serde(default = "default_error_rate_tolerance")]
    pub error_rate_tolerance: f64,
    #[serde(default = "default_max_latency_ratio")]
    pub max_latency_ratio: f64,
    /// p95 above this multiple of the baseline's is "not normal": monitor, investigate.
    #[serde(default = "default_latency_tolerance")]
    pub latency_tolerance: f64,
    #[serde(default = "default_min_requests")]
    pub min_requests: u64,
    /// A pod of the new version pending longer than this is not starting.
    #[serde(default = "default_pending")]
    pub pending: HumanDuration,
    /// A running pod not ready after this long fails its health checks.
    #[serde(default = "default_ready")]
    pub ready: HumanDuration,
}

impl Default for AppGuard {
    fn default() -> Self {
        Self {
            max_error_rate: default_max_error_rate(),
            error_rate_tolerance: default_error_rate_tolerance(),
            max_latency_ratio: default_max_latency_ratio(),
            latency_tolerance: default_latency_tolerance(),
            min_requests: default_min_requests(),
            pending: default_pending(),
            ready: default_ready(),
        }
    }
}

fn default_error_rate_tolerance() -> f64 {
    0.002
}
fn default_latency_tolerance() -> f64 {
    1.2
}
fn default_pending() -> HumanDuration {
    HumanDuration::secs(300)
}
fn default_ready() -> HumanDuration {
    HumanDuration::secs(120)
}

/// How an app's canary is stepped, and which object carries its weight in each environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canary {
    /// Weights to move through, in percent.
    #[serde(default = "default_steps")]
    pub steps: Spanned<Vec<u8>>,
    /// Auto mode: time between steps while the verdict passes.
    #[serde(default = "default_step_interval")]
    pub interval: HumanDuration,
    /// Auto mode: consecutive failed checks before it aborts.
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
    /// Replicas a started canary runs with (where a router carries the weight).
    #[serde(default = "default_canary_replicas")]
    pub replicas: u32,
    /// Per environment name: the traffic provider and its objects.
    #[serde(default)]
    pub environments: BTreeMap<Spanned<String>, CanaryTarget>,
}

fn default_steps() -> Spanned<Vec<u8>> {
    Spanned::new(0..0, vec![10, 25, 50, 100])
}

fn default_step_interval() -> HumanDuration {
    HumanDuration::secs(120)
}

fn default_failure_threshold() -> u32 {
    3
}

fn default_canary_replicas() -> u32 {
    1
}

/// The object that splits traffic between stable and canary.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "provider", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CanaryTarget {
    /// A canary Ingress with `nginx.ingress.kubernetes.io/canary-weight`.
    NginxIngress { ingress: String, canary_deployment: String },
    /// An `HTTPRoute` whose `backendRefs` weigh stable against canary.
    GatewayApi { route: String, stable_service: String, canary_service: String, canary_deployment: String },
    /// Replica ratio between the stable and canary Deployments (approximate weight).
    Replicas { canary_deployment: String },
    /// Blue-green: a Service whose selector picks one of two colour Deployments (the app's
    /// `deployment` and `canary_deployment`), told apart by the pod label `label`. Which one
    /// is stable is read from the Service, so the colours trade roles at each promotion.
    ServiceSelector {
        service: String,
        canary_deployment: String,
        #[serde(default = "default_colour_label")]
        label: String,
        /// Replicas the old colour keeps after a promotion; default: all of them, for an
        /// instant switch back, until the operator scales it down.
        scale_old_to: Option<u32>,
    },
}

fn default_colour_label() -> String {
    "version".to_owned()
}

impl CanaryTarget {
    /// The canary Deployment's name, whatever the provider.
    pub fn canary_deployment(&self) -> &str {
        match self {
            Self::NginxIngress { canary_deployment, .. }
            | Self::GatewayApi { canary_deployment, .. }
            | Self::Replicas { canary_deployment }
            | Self::ServiceSelector { canary_deployment, .. } => canary_deployment,
        }
    }

    /// The provider's name as config and the screen say it.
    pub fn provider_name(&self) -> &'static str {
        match self {
            Self::NginxIngress { .. } => "nginx-ingress",
            Self::GatewayApi { .. } => "gateway-api",
            Self::Replicas { .. } => "replicas",
            Self::ServiceSelector { .. } => "service-selector",
        }
    }

    /// Whether the weight is a pod ratio rather than routed traffic.
    pub fn approximate(&self) -> bool {
        matches!(self, Self::Replicas { .. })
    }

    /// Whether a router object carries the weight (and so the canary's pods exist before
    /// traffic is sent to them), rather than the replica counts themselves.
    pub fn has_router(&self) -> bool {
        !self.approximate()
    }

    /// Whether traffic moves all at once between two colours (weights 0 and 100 only).
    pub fn is_blue_green(&self) -> bool {
        matches!(self, Self::ServiceSelector { .. })
    }

    /// The weights a canary steps through here: the configured steps, or the one switch of a
    /// blue-green.
    pub fn steps<'s>(&self, configured: &'s [u8]) -> &'s [u8] {
        if self.is_blue_green() { &[100] } else { configured }
    }
}

/// Canary-versus-stable thresholds; the defaults are the seeds' rollback decision tree.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    /// Canary error rate (5xx / all) above this fails; 0.01 is 1%.
    #[serde(default = "default_max_error_rate")]
    pub max_error_rate: f64,
    /// Canary p95 above this multiple of stable's fails.
    #[serde(default = "default_max_latency_ratio")]
    pub max_latency_ratio: f64,
    /// Canary p95 above this many milliseconds fails, whatever stable does.
    #[serde(default = "default_max_p95_ms")]
    pub max_p95_ms: f64,
    /// Fewer canary requests than this in the window is "not enough data".
    #[serde(default = "default_min_requests")]
    pub min_requests: u64,
    /// The window rates and quantiles are computed over.
    #[serde(default = "default_window")]
    pub window: HumanDuration,
}

impl Default for Analysis {
    fn default() -> Self {
        Self {
            max_error_rate: default_max_error_rate(),
            max_latency_ratio: default_max_latency_ratio(),
            max_p95_ms: default_max_p95_ms(),
            min_requests: default_min_requests(),
            window: default_window(),
        }
    }
}

fn default_max_error_rate() -> f64 {
    0.01
}
fn default_max_latency_ratio() -> f64 {
    2.0
}
fn default_max_p95_ms() -> f64 {
    500.0
}
fn default_min_requests() -> u64 {
    50
}
fn default_window() -> HumanDuration {
    HumanDuration::secs(120)
}

/// Which series carry an app's traffic, and how pods are told apart by track.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppMetrics {
    /// Counter of requests with a `status` label.
    #[serde(default = "default_requests_metric")]
    pub requests: String,
    /// Histogram of request durations in seconds (without `_bucket`).
    #[serde(default = "default_duration_metric")]
    pub duration: String,
    /// Pod port serving `/metrics`, for the scrape backend.
    #[serde(default = "default_metrics_port")]
    pub port: u16,
    #[serde(default = "default_metrics_path")]
    pub path: String,
    /// Pod label that says `stable` or `canary`.
    #[serde(default = "default_track_label")]
    pub track_label: String,
    /// `PromQL` templates for the prometheus backend; `{app}`, `{namespace}`, `{track}` and
    /// `{window}` are filled in.
    #[serde(default)]
    pub queries: BTreeMap<String, String>,
}

impl Default for AppMetrics {
    fn default() -> Self {
        Self {
            requests: default_requests_metric(),
            duration: default_duration_metric(),
            port: default_metrics_port(),
            path: default_metrics_path(),
            track_label: default_track_label(),
            queries: BTreeMap::new(),
        }
    }
}

fn default_requests_metric() -> String {
    "http_requests_total".to_owned()
}
fn default_duration_metric() -> String {
    "http_request_duration_seconds".to_owned()
}
fn default_metrics_port() -> u16 {
    8080
}
fn default_metrics_path() -> String {
    "/metrics".to_owned()
}
fn default_track_label() -> String {
    "track".to_owned()
}

/// Where operations are announced.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// Slack-compatible incoming webhook URL.
    pub webhook: Option<Spanned<String>>,
    /// Environment variable holding the webhook URL (keeps the secret out of the file).
    pub webhook_env: Option<String>,
}

/// How pod logs are read and judged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    /// Regular expressions marking a line as an error, besides the defaults (levels ERROR and
    /// FATAL, a panic, an HTTP 5xx in an access-log line).
    #[serde(default)]
    pub error_patterns: Vec<Spanned<String>>,
    /// Lines kept per track on the log screen; older ones are let go.
    #[serde(default = "default_buffer_lines")]
    pub buffer_lines: usize,
    /// The checklist's "No errors in pod logs" reads this many minutes back...
    #[serde(default = "default_checklist_minutes")]
    pub checklist_minutes: u32,
    /// ...and passes with at most this many error lines per app.
    #[serde(default)]
    pub checklist_max_errors: usize,
}

fn default_buffer_lines() -> usize {
    crate::logs::buffer::DEFAULT_CAPACITY
}

fn default_checklist_minutes() -> u32 {
    10
}

impl Default for Logs {
    fn default() -> Self {
        Self {
            error_patterns: Vec::new(),
            buffer_lines: default_buffer_lines(),
            checklist_minutes: default_checklist_minutes(),
            checklist_max_errors: 0,
        }
    }
}

impl Logs {
    /// The error patterns: the defaults and the configured ones (validated at load).
    pub fn patterns(&self) -> crate::logs::ErrorPatterns {
        let extra: Vec<String> = self.error_patterns.iter().map(|p| p.get_ref().clone()).collect();
        crate::logs::ErrorPatterns::new(&extra).unwrap_or_default()
    }
}

impl Config {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name.get_ref() == name)
    }

    pub fn app(&self, name: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.name.get_ref() == name)
    }
}

impl Environment {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }

    pub fn context(&self) -> &str {
        self.context.get_ref()
    }
}

impl App {
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }
}
