//! The decision tree's five questions, each answered from what is observed of the new
//! version, with the evidence that answered it; the tree's verdict is the gravest answer, and
//! the branch that gave it first.

use serde::Serialize;

use crate::metrics::Figures;

/// The tree's limits. The defaults are the seed's: error rate above 1% rolls back at once,
/// response time above 2× the baseline rolls back.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// Error rate above this: "ROLLBACK IMMEDIATELY". 0.01 is 1%.
    pub max_error_rate: f64,
    /// An error rate up to this much above the baseline's is normal (0.002: 0.2 points).
    pub error_rate_tolerance: f64,
    /// p95 above this multiple of the baseline's: "ROLLBACK".
    pub max_latency_ratio: f64,
    /// p95 up to this multiple of the baseline's is normal.
    pub latency_tolerance: f64,
    /// Fewer requests than this are too few to judge the rates by.
    pub min_requests: u64,
    /// A pod still pending after this long is not starting.
    pub pending_seconds: i64,
    /// A running pod not ready after this long fails its health checks.
    pub ready_seconds: i64,
}

impl Limits {
    /// An app's configured limits.
    pub fn of(guard: &crate::config::AppGuard) -> Self {
        let secs = |d: crate::config::HumanDuration| i64::try_from(d.0.as_secs()).unwrap_or(i64::MAX);
        Self {
            max_error_rate: guard.max_error_rate,
            error_rate_tolerance: guard.error_rate_tolerance,
            max_latency_ratio: guard.max_latency_ratio,
            latency_tolerance: guard.latency_tolerance,
            min_requests: guard.min_requests,
            pending_seconds: secs(guard.pending),
            ready_seconds: secs(guard.ready),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_error_rate: 0.01,
            error_rate_tolerance: 0.002,
            max_latency_ratio: 2.0,
            latency_tolerance: 1.2,
            min_requests: 50,
            pending_seconds: 300,
            ready_seconds: 120,
        }
    }
}

/// One pod of the new version, as the watches see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSeen {
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub restarts: u32,
    /// CrashLoopBackOff, ImagePullBackOff, ErrImagePull, ContainerCreating, …
    pub waiting: Option<String>,
    /// "Error, exit code 1".
    pub last_termination: Option<String>,
    pub created: Option<jiff::Timestamp>,
    /// Probe failures (`Unhealthy` events) about it in the recent window, with their message.
    pub probe_failures: Vec<String>,
}

/// The app's Service as the tree's third question reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSeen {
    /// `shop/web`.
    pub name: String,
    /// Ready endpoints in its EndpointSlices.
    pub ready_endpoints: u32,
    /// EndpointSlices that list it: none at all means its endpoints are not known here (no
    /// EndpointSlice controller), not that it has none.
    pub slices: u32,
    /// The new version's pods its selector matches.
    pub selects: u32,
    /// Why its target port reaches no container port of the pods, naming both.
    pub port_mismatch: Option<String>,
    /// The Ingress or HTTPRoute that routes to it; `None` when nothing does (an internal app).
    pub routed_by: Option<String>,
}

/// What the tree knows of the app's Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Serving {
    /// Services are not watched here (the credentials may not read them).
    NotKnown,
    /// No Service selects the app's pods and none is named after it: it takes no traffic
    /// through one (a worker).
    Nothing,
    Service(ServiceSeen),
    /// The app's Service is there and cannot reach the new version: why.
    Broken(String),
}

/// What the tree is asked about: the new version's pods, its Service, its figures since the
/// change and the baseline's from before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub now: jiff::Timestamp,
    /// The new ReplicaSet's pods; empty before it has any.
    pub pods: Vec<PodSeen>,
    pub service: Serving,
    /// The new version's figures since the change; `None` without metrics.
    pub figures: Option<Figures>,
    /// The app's figures over a window before the change, stored when the guard started.
    pub baseline: Option<Figures>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Branch {
    PodsStarting,
    HealthChecks,
    ServiceAccessible,
    ErrorRate,
    ResponseTime,
}

impl Branch {
    /// The seed's question.
    pub fn question(self) -> &'static str {
        match self {
            Self::PodsStarting => "Pods starting successfully?",
            Self::HealthChecks => "Health checks passing?",
            Self::ServiceAccessible => "Service accessible?",
            Self::ErrorRate => "Error rate normal?",
            Self::ResponseTime => "Response time normal?",
        }
    }

    /// The branch in two words, for a row.
    pub fn short(self) -> &'static str {
        match self {
            Self::PodsStarting => "pods starting",
            Self::HealthChecks => "health checks",
            Self::ServiceAccessible => "service",
            Self::ErrorRate => "error rate",
            Self::ResponseTime => "response time",
        }
    }

    /// The branch's number in the seed's tree, from 1.
    pub fn number(self) -> usize {
        self as usize + 1
    }
}

/// One question's answer, from least to most grave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeVerdict {
    Pass,
    /// Not enough is known yet (too few requests, no baseline, no pods yet).
    Unknown,
    /// "Monitor closely, prepare rollback".
    Watch,
    Rollback,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub branch: Branch,
    pub verdict: NodeVerdict,
    /// What decided it, in words naming the objects and figures.
    pub evidence: Vec<String>,
}

/// The tree's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Watch,
    Rollback,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Watch => "watch",
            Self::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tree {
    pub verdict: Verdict,
    /// The first branch that gave the verdict (none for `ok`).
    pub decided_by: Option<Branch>,
    pub nodes: Vec<Node>,
}

impl Tree {
    /// " · " and the first evidence of the branch that decided, for a progress line.
    pub fn first_concern(&self) -> Option<String> {
        let branch = self.decided_by?;
        let node = self.nodes.iter().find(|n| n.branch == branch)?;
        node.evidence.first().map(|e| format!(" · {e}"))
    }

    /// The reason a rollback gives: the branch and its first piece of evidence.
    pub fn reason(&self) -> Option<String> {
        let branch = self.decided_by?;
        let node = self.nodes.iter().find(|n| n.branch == branch)?;
        let first = node.evidence.first().map_or("", String::as_str);
        Some(format!("guard: {} no: {first}", branch.question()))
    }
}

/// The five questions, answered.
pub fn decide(observed: &Observed, limits: &Limits) -> Tree {
    let nodes = vec![
        pods_starting(observed, limits),
        health_checks(observed, limits),
        service_accessible(observed),
        error_rate(observed, limits),
        response_time(observed, limits),
    ];
    let gravest = nodes.iter().map(|n| n.verdict).max().unwrap_or(NodeVerdict::Pass);
    let verdict = match gravest {
        NodeVerdict::Pass => Verdict::Ok,
        // What is not known yet cannot be called successful.
        NodeVerdict::Unknown | NodeVerdict::Watch => Verdict::Watch,
        NodeVerdict::Rollback => Verdict::Rollback,
    };
    let decided_by = match verdict {
        Verdict::Ok => None,
        Verdict::Watch => nodes.iter().find(|n| n.verdict >= NodeVerdict::Unknown).map(|n| n.branch),
        Verdict::Rollback => nodes.iter().find(|n| n.verdict == NodeVerdict::Rollback).map(|n| n.branch),
    };
    Tree { verdict, decided_by, nodes }
}

fn node(branch: Branch, verdict: NodeVerdict, evidence: Vec<String>) -> Node {
    Node { branch, verdict, evidence }
}

fn age(now: jiff::Timestamp, created: Option<jiff::Timestamp>) -> i64 {
    created.map_or(0, |c| now.duration_since(c).as_secs())
}

fn pods_starting(o: &Observed, limits: &Limits) -> Node {
    let branch = Branch::PodsStarting;
    if o.pods.is_empty() {
        return node(branch, NodeVerdict::Unknown, vec!["the new version has no pods yet".into()]);
    }
    let mut failing = Vec::new();
    let mut starting = Vec::new();
    for pod in &o.pods {
        let waiting = pod.waiting.as_deref();
        match waiting {
            Some(
                reason @ ("CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName"),
            ) => {
                let last =
                    pod.last_termination.as_deref().map(|l| format!(" (last: {l})")).unwrap_or_default();
                failing.push(format!("{} {reason}{last}, restarted {}×", pod.name, pod.restarts));
            }
            _ if pod.restarts > 0 && !pod.ready => {
                let last = pod.last_termination.as_deref().unwrap_or("terminated");
                failing.push(format!("{} restarted {}× ({last}) and is not ready", pod.name, pod.restarts));
            }
            _ if pod.phase == "Pending" => {
                let age = age(o.now, pod.created);
                if age > limits.pending_seconds {
                    failing.push(format!(
                        "{} pending for {age}s (limit {}s){}",
                        pod.name,
                        limits.pending_seconds,
                        waiting.map(|w| format!(": {w}")).unwrap_or_default()
                    ));
                } else {
                    starting.push(format!("{} pending for {age}s", pod.name));
                }
            }
            _ => {}
        }
    }
    if !failing.is_empty() {
        return node(branch, NodeVerdict::Rollback, failing);
    }
    if !starting.is_empty() {
        return node(branch, NodeVerdict::Unknown, starting);
    }
    node(branch, NodeVerdict::Pass, vec![format!("{} pods of the new version started", o.pods.len())])
}

fn health_checks(o: &Observed, limits: &Limits) -> Node {
    let branch = Branch::HealthChecks;
    let running: Vec<&PodSeen> = o.pods.iter().filter(|p| p.phase == "Running").collect();
    if running.is_empty() {
        return node(branch, NodeVerdict::Unknown, vec!["no pod of the new version is running yet".into()]);
    }
    let mut failing = Vec::new();
    let mut watch = Vec::new();
    for pod in running.iter().filter(|p| !p.ready) {
        let age = age(o.now, pod.created);
        let probe = pod.probe_failures.first().map(|m| format!(": {m}")).unwrap_or_default();
        if age > limits.ready_seconds {
            failing.push(format!(
                "{} not ready after {age}s (limit {}s){probe}",
                pod.name, limits.ready_seconds
            ));
        } else {
            watch.push(format!("{} not ready yet ({age}s){probe}", pod.name));
        }
    }
    for pod in running.iter().filter(|p| p.ready && !p.probe_failures.is_empty()) {
        watch.push(format!("{} is ready but failed a probe: {}", pod.name, pod.probe_failures[0]));
    }
    if !failing.is_empty() {
        return node(branch, NodeVerdict::Rollback, failing);
    }
    if !watch.is_empty() {
        return node(branch, NodeVerdict::Watch, watch);
    }
    node(
        branch,
        NodeVerdict::Pass,
        vec![format!("{} of {} pods ready, no probe failures", running.len(), o.pods.len())],
    )
}

fn service_accessible(o: &Observed) -> Node {
    let branch = Branch::ServiceAccessible;
    let service = match &o.service {
        Serving::NotKnown => {
            return node(branch, NodeVerdict::Unknown, vec!["Services are not watched here".into()]);
        }
        Serving::Nothing => {
            return node(
                branch,
                NodeVerdict::Pass,
                vec!["no Service selects the app's pods: it takes no traffic through one".into()],
            );
        }
        Serving::Broken(why) => return node(branch, NodeVerdict::Rollback, vec![why.clone()]),
        Serving::Service(s) => s,
    };
    let mut failing = Vec::new();
    let mut unknown = Vec::new();
    if let Some(mismatch) = &service.port_mismatch {
        failing.push(format!("Service {}: {mismatch}", service.name));
    }
    if service.selects == 0 && !o.pods.is_empty() {
        failing.push(format!("Service {} selects none of the new version's pods", service.name));
    }
    let ready_pods = o.pods.iter().filter(|p| p.ready).count();
    if service.slices == 0 {
        unknown.push(format!(
            "no EndpointSlice lists Service {}: its endpoints are not known here (is the EndpointSlice controller running?)",
            service.name
        ));
    } else if service.ready_endpoints == 0 && ready_pods > 0 {
        failing.push(format!(
            "Service {} has no ready endpoints though {ready_pods} pods of the new version are ready",
            service.name
        ));
    } else if service.ready_endpoints == 0 {
        unknown
            .push(format!("Service {} has no ready endpoints yet: the new pods are starting", service.name));
    }
    if !failing.is_empty() {
        return node(branch, NodeVerdict::Rollback, failing);
    }
    if !unknown.is_empty() {
        return node(branch, NodeVerdict::Unknown, unknown);
    }
    let routed = service.routed_by.as_deref().map(|r| format!(", routed by {r}")).unwrap_or_default();
    node(
        branch,
        NodeVerdict::Pass,
        vec![format!("Service {}: {} ready endpoints{routed}", service.name, service.ready_endpoints)],
    )
}

fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

/// Enough requests to judge a rate by, or why not.
fn judged<'f>(figures: Option<&'f Figures>, limits: &Limits) -> Result<&'f Figures, String> {
    let figures = figures.ok_or_else(|| "no metrics for the new version".to_owned())?;
    if figures.requests < limits.min_requests as f64 {
        return Err(format!(
            "{:.0} requests since the change, fewer than the {} to judge by",
            figures.requests, limits.min_requests
        ));
    }
    Ok(figures)
}

fn error_rate(o: &Observed, limits: &Limits) -> Node {
    let branch = Branch::ErrorRate;
    let figures = match judged(o.figures.as_ref(), limits) {
        Ok(f) => f,
        Err(why) => return node(branch, NodeVerdict::Unknown, vec![why]),
    };
    let rate = figures.error_rate.unwrap_or(0.0);
    let baseline = o.baseline.as_ref().filter(|b| b.requests > 0.0);
    // What the baseline's sample allows: its rate with three more errors (the "rule of three"
    // bound for a count seen as zero), so a few hundred requests with no error by chance do
    // not make the new version's ordinary 0.2% look abnormal.
    let normal = baseline.map_or(0.0, |b| (b.errors + 3.0) / b.requests) + limits.error_rate_tolerance;
    let against = baseline.map_or_else(
        || "no baseline".to_owned(),
        |b| {
            format!(
                "baseline {} of {:.0}, normal up to {}",
                percent(b.error_rate.unwrap_or(0.0)),
                b.requests,
                percent(normal)
            )
        },
    );
    let said = format!("{} of {:.0} requests failed ({against})", percent(rate), figures.requests);
    if rate > limits.max_error_rate {
        return node(
            branch,
            NodeVerdict::Rollback,
            vec![format!("{said}: above {}", percent(limits.max_error_rate))],
        );
    }
    if rate > normal {
        return node(
            branch,
            NodeVerdict::Watch,
            vec![format!("{said}: above normal, below {}", percent(limits.max_error_rate))],
        );
    }
    node(branch, NodeVerdict::Pass, vec![said])
}

fn response_time(o: &Observed, limits: &Limits) -> Node {
    let branch = Branch::ResponseTime;
    let figures = match judged(o.figures.as_ref(), limits) {
        Ok(f) => f,
        Err(why) => return node(branch, NodeVerdict::Unknown, vec![why]),
    };
    let Some(p95) = figures.p95 else {
        return node(branch, NodeVerdict::Unknown, vec!["no latency observed for the new version".into()]);
    };
    let ms = |s: f64| format!("{:.0} ms", s * 1000.0);
    let Some(base) = o.baseline.as_ref().and_then(|b| b.p95).filter(|b| *b > 0.0) else {
        return node(
            branch,
            NodeVerdict::Unknown,
            vec![format!("p95 {}, no baseline to compare it with", ms(p95))],
        );
    };
    let ratio = p95 / base;
    let said = format!("p95 {} is {ratio:.2}× the baseline's {}", ms(p95), ms(base));
    if ratio > limits.max_latency_ratio {
        return node(
            branch,
            NodeVerdict::Rollback,
            vec![format!("{said}: above {}×", limits.max_latency_ratio)],
        );
    }
    if ratio > limits.latency_tolerance {
        return node(
            branch,
            NodeVerdict::Watch,
            vec![format!("{said}: slower than normal, monitor and investigate")],
        );
    }
    node(branch, NodeVerdict::Pass, vec![said])
}

#[cfg(test)]
mod tests;
