//! The automated checks: pure functions over an environment's objects, each answering pass,
//! fail or not applicable, with evidence naming the object and the field it read.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use super::model::{Checklist, Item};
use super::objects::{AppObjects, LogWindow, Objects};
use crate::health::image_tag;
use crate::logs::{LogLine, ReadError, Sample, Unread, short_pod};
use crate::words::counted;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    NotApplicable,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NotApplicable => "n/a",
        }
    }
}

/// One observation behind a result: which object, which field, what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub status: Status,
    /// `shop/Deployment/web/container web`
    pub object: String,
    /// `spec.template.spec.containers[web].image`
    pub field: String,
    pub detail: String,
}

/// A check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub evidence: Vec<Evidence>,
}

impl Outcome {
    /// Fail if anything fails, pass if anything passes, not applicable otherwise.
    fn of(evidence: Vec<Evidence>) -> Self {
        let status = if evidence.iter().any(|e| e.status == Status::Fail) {
            Status::Fail
        } else if evidence.iter().any(|e| e.status == Status::Pass) {
            Status::Pass
        } else {
            Status::NotApplicable
        };
        Self { status, evidence }
    }
}

/// Every check: its id, as `auto = "…"` names it, and what it verifies.
pub const CHECKS: &[(&str, &str)] = &[
    ("image-tag-pinned", "every container image has a tag other than :latest, or a digest"),
    ("resources-set", "every container has CPU and memory requests and limits"),
    ("probes", "every container has a liveness and a readiness probe"),
    ("startup-probe", "every container has a startup probe"),
    ("replicas-min", "the Deployment runs at least `min` replicas (default 3)"),
    ("pdb", "a PodDisruptionBudget covers the app with at least `min_available` pods (default 2)"),
    ("run-as-non-root", "pods run as non-root (runAsNonRoot)"),
    ("no-privilege-escalation", "no container allows privilege escalation"),
    ("capabilities-drop-all", "every container drops ALL capabilities"),
    ("read-only-root-fs", "every container has a read-only root filesystem"),
    ("rolling-update", "RollingUpdate strategy with maxUnavailable set"),
    ("spread", "pod anti-affinity or topology spread constraints"),
    ("default-deny-netpol", "a default-deny NetworkPolicy in the namespace"),
    ("resource-quota", "a ResourceQuota in the namespace"),
    ("limit-range", "a LimitRange in the namespace"),
    ("pod-security-labels", "the namespace enforces a Pod Security level (baseline or restricted)"),
    ("hpa", "a HorizontalPodAutoscaler targets the Deployment"),
    ("no-recent-warnings", "no Warning events about the app in the last `minutes` (default 30)"),
    ("nodes-ready", "every node is Ready"),
    (
        "soak",
        "the image about to be deployed has run healthy in the previous environment for `hours` (default 24)",
    ),
    ("rollback-history", "at least `min` revisions (default 2) to roll back to"),
    (
        LOG_CHECK,
        "no more than `max_errors` error lines (default logs.checklist_max_errors, 0) in the app's pod logs over the last `minutes` (default logs.checklist_minutes, 10)",
    ),
];

/// The check that reads pod logs: the one gather reads them for.
pub const LOG_CHECK: &str = "no-log-errors";
/// Error lines shown per app: enough to see what fails, few enough to read.
const SHOWN_ERRORS: usize = 5;
/// Unreadable pods named per app; the summary counts them all.
const SHOWN_UNREAD: usize = 3;
/// Pods named in the summary's errors-by-pod.
const SHOWN_PODS: usize = 3;
/// Characters of a log line shown: an access-log line or a panic's first line fits.
const LINE_CHARS: usize = 200;

/// What a check verifies, or `None` for an unknown id.
pub fn describe(id: &str) -> Option<&'static str> {
    CHECKS.iter().find(|(k, _)| *k == id).map(|(_, d)| *d)
}

/// Runs the item's check; `None` for a manual item or an unknown id.
pub fn run(item: &Item, objects: &Objects) -> Option<Outcome> {
    let evidence = match item.auto.as_deref()? {
        "image-tag-pinned" => per_container(objects, true, |c| {
            let image = c.image.clone().unwrap_or_default();
            let pinned = image.contains("@sha256:") || image_tag(&image) != "latest";
            let why = if image.contains('@') {
                "pinned by digest"
            } else if pinned {
                "pinned by tag"
            } else {
                "mutable :latest (or no tag)"
            };
            (pinned, "image", format!("{image}: {why}"))
        }),
        "resources-set" => per_container(objects, false, |c| {
            let r = c.resources.as_ref();
            let has = |kind: &str, what: &str| {
                let map = if kind == "requests" {
                    r.and_then(|r| r.requests.as_ref())
                } else {
                    r.and_then(|r| r.limits.as_ref())
                };
                map.is_some_and(|m| m.contains_key(what))
            };
            let missing: Vec<String> =
                [("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory")]
                    .iter()
                    .filter(|(k, w)| !has(k, w))
                    .map(|(k, w)| format!("{k}.{w}"))
                    .collect();
            let detail = if missing.is_empty() {
                "requests and limits set".into()
            } else {
                format!("missing {}", missing.join(", "))
            };
            (missing.is_empty(), "resources", detail)
        }),
        "probes" => per_container(objects, false, |c| {
            let missing: Vec<&str> = [
                ("livenessProbe", c.liveness_probe.is_some()),
                ("readinessProbe", c.readiness_probe.is_some()),
            ]
            .iter()
            .filter(|(_, has)| !has)
            .map(|(n, _)| *n)
            .collect();
            let detail = if missing.is_empty() {
                "liveness and readiness probes".into()
            } else {
                format!("no {}", missing.join(", no "))
            };
            (missing.is_empty(), "livenessProbe, readinessProbe", detail)
        }),
        "startup-probe" => per_container(objects, false, |c| {
            let has = c.startup_probe.is_some();
            (
                has,
                "startupProbe",
                if has { "set".into() } else { "none (only needed for slow starters)".into() },
            )
        }),
        _ => others(item, objects)?,
    };
    Some(Outcome::of(evidence))
}

/// The checks that read a Deployment, a namespace or the cluster as a whole.
fn others(item: &Item, objects: &Objects) -> Option<Vec<Evidence>> {
    Some(match item.auto.as_deref()? {
        "replicas-min" => replicas_min(objects, item.int("min", 3)),
        "pdb" => pdb(objects, item.int("min_available", 2)),
        "run-as-non-root" => per_pod(objects, "securityContext.runAsNonRoot", |spec| {
            let pod = spec.security_context.as_ref().and_then(|s| s.run_as_non_root) == Some(true);
            let every = spec
                .containers
                .iter()
                .all(|c| c.security_context.as_ref().and_then(|s| s.run_as_non_root) == Some(true));
            (
                pod || every,
                if pod || every {
                    "true".into()
                } else {
                    "not set to true for the pod or every container".into()
                },
            )
        }),
        "no-privilege-escalation" => per_container(objects, false, |c| {
            let off = c.security_context.as_ref().and_then(|s| s.allow_privilege_escalation) == Some(false);
            (
                off,
                "securityContext.allowPrivilegeEscalation",
                if off { "false".into() } else { "not false".into() },
            )
        }),
        "capabilities-drop-all" => per_container(objects, false, |c| {
            let drop = c
                .security_context
                .as_ref()
                .and_then(|s| s.capabilities.as_ref())
                .and_then(|c| c.drop.clone())
                .unwrap_or_default();
            let all = drop.iter().any(|d| d == "ALL");
            (all, "securityContext.capabilities.drop", format!("[{}]", drop.join(", ")))
        }),
        "read-only-root-fs" => per_container(objects, false, |c| {
            let ro = c.security_context.as_ref().and_then(|s| s.read_only_root_filesystem) == Some(true);
            (ro, "securityContext.readOnlyRootFilesystem", if ro { "true".into() } else { "not true".into() })
        }),
        "rolling-update" => per_deployment(objects, "spec.strategy", |d| {
            let strategy = d.spec.as_ref().and_then(|s| s.strategy.as_ref());
            let kind = strategy.and_then(|s| s.type_.clone()).unwrap_or_else(|| "RollingUpdate".into());
            let max_unavailable =
                strategy.and_then(|s| s.rolling_update.as_ref()).and_then(|r| r.max_unavailable.as_ref());
            match (kind.as_str(), max_unavailable) {
                ("RollingUpdate", Some(m)) => {
                    (true, format!("RollingUpdate, maxUnavailable {}", int_or_string(m)))
                }
                ("RollingUpdate", None) => {
                    (false, "RollingUpdate with maxUnavailable left to the default".into())
                }
                (other, _) => (false, format!("{other}: every pod stops before new ones start")),
            }
        }),
        "spread" => per_pod(objects, "affinity.podAntiAffinity / topologySpreadConstraints", |spec| {
            let anti = spec.affinity.as_ref().and_then(|a| a.pod_anti_affinity.as_ref()).is_some();
            let spread = spec.topology_spread_constraints.as_ref().is_some_and(|t| !t.is_empty());
            let detail = match (anti, spread) {
                (true, _) => "pod anti-affinity",
                (_, true) => "topology spread constraints",
                _ => "neither: all replicas may land on one node",
            };
            (anti || spread, detail.into())
        }),
        "default-deny-netpol" | "resource-quota" | "limit-range" | "pod-security-labels" => {
            namespace_check(item.auto.as_deref()?, objects)?
        }
        "hpa" => per_deployment(objects, "HorizontalPodAutoscaler", |d| {
            let name = d.metadata.name.clone().unwrap_or_default();
            let hpa = objects.hpas.iter().find(|h| {
                h.metadata.namespace == d.metadata.namespace
                    && h.spec.as_ref().is_some_and(|s| {
                        s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == name
                    })
            });
            match hpa {
                Some(h) => (true, format!("{} scales it", h.metadata.name.clone().unwrap_or_default())),
                None => (false, "none targets it".into()),
            }
        }),
        "no-recent-warnings" => warnings(objects, item.int("minutes", 30)),
        "nodes-ready" => nodes_ready(objects),
        "soak" => soak(objects, item.int("hours", 24)),
        "rollback-history" => rollback_history(objects, item.int("min", 2)),
        LOG_CHECK => log_errors(
            objects,
            item.int("minutes", objects.logs.minutes),
            item.int("max_errors", objects.logs.max_errors),
        ),
        _ => return None,
    })
}

fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

fn object(d: &Deployment) -> String {
    format!(
        "{}/Deployment/{}",
        d.metadata.namespace.as_deref().unwrap_or("default"),
        d.metadata.name.as_deref().unwrap_or("?")
    )
}

fn pod_spec(d: &Deployment) -> Option<&PodSpec> {
    d.spec.as_ref()?.template.spec.as_ref()
}

fn missing(app: &AppObjects, env: &str) -> Evidence {
    Evidence {
        status: Status::NotApplicable,
        object: format!("{}/Deployment/{}", app.namespace, app.deployment_name),
        field: "-".into(),
        detail: format!("not deployed in {env}"),
    }
}

/// The Deployments a per-workload check reads: each app's stable one, and its canary's when
/// `with_canary` (what is about to be deployed must pass too).
fn deployments(objects: &Objects, with_canary: bool) -> Vec<Result<&Deployment, Evidence>> {
    let mut out = Vec::new();
    for app in &objects.apps {
        match &app.deployment {
            Some(d) => out.push(Ok(d)),
            None => out.push(Err(missing(app, &objects.env))),
        }
        if with_canary && let Some(c) = &app.canary {
            out.push(Ok(c));
        }
    }
    out
}

fn per_container(
    objects: &Objects,
    with_canary: bool,
    check: impl Fn(&Container) -> (bool, &'static str, String),
) -> Vec<Evidence> {
    let mut out = Vec::new();
    for d in deployments(objects, with_canary) {
        let d = match d {
            Ok(d) => d,
            Err(e) => {
                out.push(e);
                continue;
            }
        };
        for c in pod_spec(d).map(|s| s.containers.as_slice()).unwrap_or_default() {
            let (ok, field, detail) = check(c);
            out.push(Evidence {
                status: if ok { Status::Pass } else { Status::Fail },
                object: format!("{}/container {}", object(d), c.name),
                field: format!("spec.template.spec.containers[{}].{field}", c.name),
                detail,
            });
        }
    }
    out
}

fn per_pod(objects: &Objects, field: &str, check: impl Fn(&PodSpec) -> (bool, String)) -> Vec<Evidence> {
    per_deployment(objects, field, |d| match pod_spec(d) {
        Some(spec) => check(spec),
        None => (false, "no pod template".into()),
    })
    .into_iter()
    .map(|mut e| {
        if e.field != "-" {
            e.field = format!("spec.template.spec.{field}");
        }
        e
    })
    .collect()
}

fn per_deployment(
    objects: &Objects,
    field: &str,
    check: impl Fn(&Deployment) -> (bool, String),
) -> Vec<Evidence> {
    deployments(objects, false)
        .into_iter()
        .map(|d| match d {
            Ok(d) => {
                let (ok, detail) = check(d);
                Evidence {
                    status: if ok { Status::Pass } else { Status::Fail },
                    object: object(d),
                    field: field.to_owned(),
                    detail,
                }
            }
            Err(e) => e,
        })
        .collect()
}

/// The apps' namespaces, each once.
fn namespaces(objects: &Objects) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for app in &objects.apps {
        if !out.contains(&app.namespace.as_str()) {
            out.push(&app.namespace);
        }
    }
    out
}

fn per_namespace(objects: &Objects, field: &str, check: impl Fn(&str) -> (bool, String)) -> Vec<Evidence> {
    namespaces(objects)
        .into_iter()
        .map(|ns| {
            let (ok, detail) = check(ns);
            Evidence {
                status: if ok { Status::Pass } else { Status::Fail },
                object: format!("Namespace/{ns}"),
                field: field.to_owned(),
                detail,
            }
        })
        .collect()
}

fn names_in<'a>(
    metas: impl Iterator<Item = &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    ns: &str,
) -> Vec<String> {
    metas.filter(|m| m.namespace.as_deref() == Some(ns)).filter_map(|m| m.name.clone()).collect()
}

fn replicas(d: &Deployment) -> i64 {
    i64::from(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))
}

fn replicas_min(objects: &Objects, min: i64) -> Vec<Evidence> {
    per_deployment(objects, "spec.replicas", |d| {
        let n = replicas(d);
        (n >= min, format!("{n} (at least {min})"))
    })
}

/// Whether a selector's matchLabels all hold in `labels` (a selector with only expressions is
/// taken as not matching: it would need evaluating, and a PDB that covers an app by
/// expression alone is rare enough to be reported rather than guessed).
fn selects(
    selector: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    labels: &BTreeMap<String, String>,
) -> bool {
    let Some(match_labels) = selector.and_then(|s| s.match_labels.as_ref()) else { return false };
    !match_labels.is_empty() && match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// How many pods a budget keeps for `replicas`: minAvailable, or replicas minus maxUnavailable;
/// a percentage is taken of the replicas (rounded up for minAvailable, down for
/// maxUnavailable, as the disruption controller rounds).
fn kept(pdb: &k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec, replicas: i64) -> Option<i64> {
    let percent = |s: &str| s.trim_end_matches('%').parse::<i64>().ok();
    if let Some(min) = &pdb.min_available {
        return match min {
            IntOrString::Int(i) => Some(i64::from(*i)),
            IntOrString::String(s) => percent(s).map(|p| (p * replicas + 99) / 100),
        };
    }
    let max = pdb.max_unavailable.as_ref()?;
    Some(
        replicas
            - match max {
                IntOrString::Int(i) => i64::from(*i),
                IntOrString::String(s) => percent(s).map_or(replicas, |p| p * replicas / 100),
            },
    )
}

fn pdb(objects: &Objects, min_available: i64) -> Vec<Evidence> {
    per_deployment(objects, "PodDisruptionBudget", |d| {
        let labels = d
            .spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let covering = objects
            .pdbs
            .iter()
            .filter(|p| p.metadata.namespace == d.metadata.namespace)
            .find(|p| p.spec.as_ref().is_some_and(|s| selects(s.selector.as_ref(), &labels)));
        let Some(p) = covering else {
            return (false, "no PodDisruptionBudget selects its pods".into());
        };
        let name = p.metadata.name.clone().unwrap_or_default();
        match p.spec.as_ref().and_then(|s| kept(s, replicas(d))) {
            Some(k) if k >= min_available => {
                (true, format!("{name} keeps {k} of {} pods (at least {min_available})", replicas(d)))
            }
            Some(k) => (false, format!("{name} keeps only {k} pods (at least {min_available} wanted)")),
            None => (false, format!("{name} sets neither minAvailable nor maxUnavailable")),
        }
    })
}

fn warnings(objects: &Objects, minutes: i64) -> Vec<Evidence> {
    let since = objects.now - jiff::SignedDuration::from_mins(minutes);
    let mut out = Vec::new();
    for app in &objects.apps {
        let recent: Vec<String> = objects
            .events
            .iter()
            .filter(|e| e.type_.as_deref() == Some("Warning"))
            .filter(|e| e.involved_object.namespace.as_deref() == Some(app.namespace.as_str()))
            .filter(|e| {
                e.involved_object.name.as_deref().is_some_and(|n| {
                    n == app.deployment_name || n.starts_with(&format!("{}-", app.deployment_name))
                })
            })
            .filter(|e| {
                let last =
                    e.last_timestamp.as_ref().map(|t| t.0).or_else(|| e.event_time.as_ref().map(|t| t.0));
                last.is_some_and(|t| t >= since)
            })
            .map(|e| {
                format!(
                    "{}/{} {}: {}",
                    e.involved_object.kind.as_deref().unwrap_or("?"),
                    e.involved_object.name.as_deref().unwrap_or("?"),
                    e.reason.as_deref().unwrap_or("?"),
                    e.message.as_deref().unwrap_or("")
                )
            })
            .collect();
        out.push(Evidence {
            status: if recent.is_empty() { Status::Pass } else { Status::Fail },
            object: format!("{}/Deployment/{} and its pods", app.namespace, app.deployment_name),
            field: "events (type Warning)".into(),
            detail: if recent.is_empty() {
                format!("none in the last {minutes}m")
            } else {
                recent.join("; ")
            },
        });
    }
    out
}

fn nodes_ready(objects: &Objects) -> Vec<Evidence> {
    if let Some(error) = &objects.nodes_error {
        // Not knowing is not knowing they are ready.
        return vec![Evidence {
            status: Status::Fail,
            object: "Node/*".into(),
            field: "-".into(),
            detail: format!("cannot read the nodes: {error}"),
        }];
    }
    objects
        .nodes
        .iter()
        .map(|n| {
            let ready = n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                .map(|c| c.status.clone());
            Evidence {
                status: if ready.as_deref() == Some("True") { Status::Pass } else { Status::Fail },
                object: format!("Node/{}", n.metadata.name.as_deref().unwrap_or("?")),
                field: "status.conditions[Ready]".into(),
                detail: ready.unwrap_or_else(|| "unknown".into()),
            }
        })
        .collect()
}

fn first_image(d: &Deployment) -> Option<String> {
    pod_spec(d)?.containers.first()?.image.clone()
}

fn available(d: &Deployment) -> bool {
    let status = d.status.as_ref();
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    status.and_then(|s| s.available_replicas).unwrap_or(0) >= desired
        && status.and_then(|s| s.updated_replicas).unwrap_or(0) >= desired
}

/// The image about to be deployed (the canary's, or else what the previous environment runs)
/// must have run healthy there for `hours`: since its ReplicaSet in the previous environment
/// was created, with that environment's Deployment running it and fully available now.
fn soak(objects: &Objects, hours: i64) -> Vec<Evidence> {
    let Some(previous) = &objects.previous else {
        let detail = objects
            .previous_error
            .clone()
            .unwrap_or_else(|| format!("{} is the first environment of the release path", objects.env));
        let status = if objects.previous_error.is_some() { Status::Fail } else { Status::NotApplicable };
        return vec![Evidence { status, object: "-".into(), field: "-".into(), detail }];
    };
    let wanted = jiff::SignedDuration::from_hours(hours);
    objects
        .apps
        .iter()
        .map(|app| {
            let there = previous.apps.iter().find(|a| a.app == app.app);
            let there_image = there.and_then(|a| a.deployment.as_ref()).and_then(first_image);
            let here_image = app.deployment.as_ref().and_then(first_image);
            let (target, from_canary) = match app.canary.as_ref().and_then(first_image) {
                Some(image) => (Some(image), true),
                None => (there_image.clone(), false),
            };
            let object = format!("{}/Deployment/{}", app.namespace, app.deployment_name);
            let field = format!("image in {}", previous.env);
            let evidence = |status, detail: String| Evidence {
                status,
                object: object.clone(),
                field: field.clone(),
                detail,
            };
            let Some(target) = target else {
                return evidence(Status::NotApplicable, format!("{} does not run {}", previous.env, app.app));
            };
            if !from_canary && here_image.as_ref() == Some(&target) {
                return evidence(
                    Status::NotApplicable,
                    format!("nothing new to deploy: {} already runs {}", objects.env, image_tag(&target)),
                );
            }
            let tag = image_tag(&target);
            let Some(there) = there.and_then(|a| a.deployment.as_ref().map(|d| (a, d))) else {
                return evidence(Status::Fail, format!("{tag} has not run in {}", previous.env));
            };
            let (there_app, there_deployment) = there;
            if there_image.as_ref() != Some(&target) {
                return evidence(
                    Status::Fail,
                    format!(
                        "{tag} is not what {} runs ({})",
                        previous.env,
                        there_image.map_or("—".into(), |i| image_tag(&i))
                    ),
                );
            }
            if !available(there_deployment) {
                return evidence(
                    Status::Fail,
                    format!("{tag} runs in {} but not every replica is available", previous.env),
                );
            }
            let since = there_app
                .replica_sets
                .iter()
                .filter(|rs| {
                    rs.spec
                        .as_ref()
                        .and_then(|s| s.template.as_ref())
                        .and_then(|t| t.spec.as_ref())
                        .and_then(|s| s.containers.first())
                        .and_then(|c| c.image.as_ref())
                        == Some(&target)
                })
                .filter_map(|rs| rs.metadata.creation_timestamp.as_ref().map(|t| t.0))
                .min();
            match since {
                Some(since) => {
                    let ran = objects.now.duration_since(since);
                    let hours_ran = ran.as_hours();
                    if ran >= wanted {
                        evidence(
                            Status::Pass,
                            format!("{tag} healthy in {} for {hours_ran}h (at least {hours}h)", previous.env),
                        )
                    } else {
                        evidence(
                            Status::Fail,
                            format!(
                                "{tag} has run in {} for only {hours_ran}h ({hours}h wanted)",
                                previous.env
                            ),
                        )
                    }
                }
                None => evidence(
                    Status::Fail,
                    format!("no ReplicaSet in {} says since when {tag} runs", previous.env),
                ),
            }
        })
        .collect()
}

fn rollback_history(objects: &Objects, min: i64) -> Vec<Evidence> {
    objects
        .apps
        .iter()
        .map(|app| {
            let Some(d) = &app.deployment else { return missing(app, &objects.env) };
            let revisions = app
                .replica_sets
                .iter()
                .filter(|rs| {
                    rs.metadata
                        .annotations
                        .as_ref()
                        .is_some_and(|a| a.contains_key("deployment.kubernetes.io/revision"))
                })
                .count();
            let n = i64::try_from(revisions).unwrap_or(0);
            Evidence {
                status: if n >= min { Status::Pass } else { Status::Fail },
                object: object(d),
                field: "ReplicaSets (deployment.kubernetes.io/revision)".into(),
                detail: format!("{n} revisions (at least {min})"),
            }
        })
        .collect()
}

/// How the log check reads, for `checklist`: the config's defaults, and the widest window its
/// items ask for (what gather reads, at most `tail_lines` a pod); `None` when no item checks
/// logs, so none are read.
pub fn log_window(
    checklist: &Checklist,
    config: &crate::config::Config,
    tail_lines: i64,
) -> Option<LogWindow> {
    let minutes = i64::from(config.logs.checklist_minutes).max(1);
    let max_errors = i64::try_from(config.logs.checklist_max_errors).unwrap_or(i64::MAX);
    let read_minutes = checklist
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .filter(|i| i.auto.as_deref() == Some(LOG_CHECK))
        .map(|i| i.int("minutes", minutes).max(1))
        .max()?;
    Some(LogWindow { minutes, max_errors, read_minutes, tail_lines })
}

/// Each app's error lines over the last `minutes`, at most `max_errors` of them: a summary,
/// and past the threshold the latest lines themselves.
///
/// A pod whose log is forbidden or does not answer fails the item rather than leaving it not
/// applicable: the item claims the logs are clean, and not knowing is not knowing they are
/// (as with unreadable nodes). A pod with nothing to read yet (its container waits to start)
/// wrote no errors; why it waits is the health checks' to say.
fn log_errors(objects: &Objects, minutes: i64, max_errors: i64) -> Vec<Evidence> {
    objects.apps.iter().flat_map(|app| app_log_errors(objects, app, minutes, max_errors)).collect()
}

fn app_log_errors(objects: &Objects, app: &AppObjects, minutes: i64, max_errors: i64) -> Vec<Evidence> {
    let object = pods_object(app);
    let summary = |status, detail: String| Evidence {
        status,
        object: object.clone(),
        field: "pods/log".into(),
        detail,
    };
    let Some(logs) = &app.logs else {
        return vec![summary(Status::NotApplicable, "pod logs were not read".into())];
    };
    // No more than was read can be vouched for.
    let minutes = minutes.clamp(1, i64::from(logs.minutes).max(1));
    if logs.pods == 0 && logs.unread.is_empty() {
        return vec![match &app.deployment {
            Some(_) => summary(Status::NotApplicable, "no live pods to read".into()),
            None => missing(app, &objects.env),
        }];
    }
    let since = objects.now - jiff::SignedDuration::from_mins(minutes);
    // A line without a time cannot be placed outside the window: it counts.
    let errors: Vec<&LogLine> = logs.errors.iter().filter(|l| l.time.is_none_or(|t| t >= since)).collect();
    let count = i64::try_from(errors.len()).unwrap_or(i64::MAX);
    let over = count > max_errors;
    let unknown = logs.unread.iter().filter(|u| !matches!(u.why, ReadError::Unavailable(_))).count();
    let status = if over || unknown > 0 {
        Status::Fail
    } else if logs.pods == 0 {
        Status::NotApplicable
    } else {
        Status::Pass
    };
    let mut out = vec![summary(status, log_summary(objects, logs, &errors, (minutes, max_errors), unknown))];
    if over {
        out.extend(latest(&errors).into_iter().map(|l| error_line(app, l)));
    }
    out.extend(logs.unread.iter().take(SHOWN_UNREAD).map(|u| unread(app, u)));
    out
}

/// `shop/Deployment/web, web-canary and their pods`.
fn pods_object(app: &AppObjects) -> String {
    match app.canary.as_ref().and_then(|c| c.metadata.name.as_deref()) {
        Some(canary) => {
            format!("{}/Deployment/{}, {canary} and their pods", app.namespace, app.deployment_name)
        }
        None => format!("{}/Deployment/{} and its pods", app.namespace, app.deployment_name),
    }
}

/// `3 error lines in the last 10 min across 4 pods (6,828 lines), more than the 0 allowed;
/// by pod: lmd64 (canary) 2, x7k2p 1`, and what the read could not cover.
fn log_summary(
    objects: &Objects,
    logs: &Sample,
    errors: &[&LogLine],
    (minutes, max_errors): (i64, i64),
    unknown: usize,
) -> String {
    let n = errors.len();
    let threshold = if i64::try_from(n).unwrap_or(i64::MAX) > max_errors {
        format!(", more than the {max_errors} allowed")
    } else if max_errors > 0 {
        format!(", within the {max_errors} allowed")
    } else {
        String::new()
    };
    let mut parts = vec![format!(
        "{n} error {} in the last {minutes} min across {} ({} {}){threshold}",
        plural(n, "line", "lines"),
        counted(logs.pods, "pod", "pods"),
        thousands(logs.lines),
        plural(logs.lines, "line", "lines"),
    )];
    if n > 0 {
        parts.push(format!("by pod: {}", by_pod(errors)));
    }
    if logs.capped > 0 {
        parts.push(format!(
            "{} reached the {}-line limit, so the start of the window may not have been read",
            counted(logs.capped, "pod", "pods"),
            thousands(usize::try_from(objects.logs.tail_lines).unwrap_or(0)),
        ));
    }
    if unknown > 0 {
        parts.push(format!(
            "the log of {} could not be read, so its errors are unknown",
            counted(unknown, "pod", "pods")
        ));
    }
    parts.join("; ")
}

/// The pods with the most error lines first: `lmd64 (canary) 40, x7k2p 3`.
fn by_pod(errors: &[&LogLine]) -> String {
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for line in errors {
        *counts.entry((line.pod.as_str(), line.track)).or_default() += 1;
    }
    let mut counts: Vec<((&str, &str), usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut shown: Vec<String> = counts
        .iter()
        .take(SHOWN_PODS)
        .map(|((pod, track), n)| format!("{} {n}", pod_label(pod, track)))
        .collect();
    if counts.len() > SHOWN_PODS {
        shown.push(format!("{} more", counted(counts.len() - SHOWN_PODS, "pod", "pods")));
    }
    shown.join(", ")
}

/// The latest error lines, oldest of them first: what is failing now.
fn latest<'l>(errors: &[&'l LogLine]) -> Vec<&'l LogLine> {
    let mut sorted = errors.to_vec();
    // Stable: unstamped lines keep their place before stamped ones.
    sorted.sort_by_key(|l| l.time);
    sorted.split_off(sorted.len().saturating_sub(SHOWN_ERRORS))
}

fn error_line(app: &AppObjects, line: &LogLine) -> Evidence {
    Evidence {
        status: Status::Fail,
        object: format!("{}/Pod/{}", app.namespace, line.pod),
        field: "pods/log".into(),
        detail: format!("{}: {}", pod_label(&line.pod, line.track), truncate(&line.line, LINE_CHARS)),
    }
}

fn unread(app: &AppObjects, u: &Unread) -> Evidence {
    let (status, detail) = match &u.why {
        ReadError::Forbidden(m) => (Status::Fail, format!("cannot read its log: forbidden: {m}")),
        ReadError::Unreachable(m) => (Status::Fail, format!("cannot read its log: {m}")),
        ReadError::Unavailable(m) => (Status::NotApplicable, format!("no log to read: {m}")),
    };
    Evidence { status, object: format!("{}/Pod/{}", app.namespace, u.pod), field: "pods/log".into(), detail }
}

/// `x7k2p`, or `lmd64 (canary)`: short, as the log screen shows pods.
fn pod_label(pod: &str, track: &str) -> String {
    if track == "canary" { format!("{} (canary)", short_pod(pod)) } else { short_pod(pod).to_owned() }
}

/// At most `max` characters of `text`, cut with an ellipsis.
fn truncate(text: &str, max: usize) -> String {
    let text = text.trim_end();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn plural<'w>(n: usize, one: &'w str, many: &'w str) -> &'w str {
    if n == 1 { one } else { many }
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The checks of the apps' namespaces: policies, quotas, defaults and Pod Security.
fn namespace_check(id: &str, objects: &Objects) -> Option<Vec<Evidence>> {
    Some(match id {
        "default-deny-netpol" => per_namespace(objects, "NetworkPolicy", |ns| {
            let deny =
                objects.network_policies.iter().filter(|p| p.metadata.namespace.as_deref() == Some(ns)).find(
                    |p| {
                        p.spec.as_ref().is_some_and(|s| {
                            let all_pods = s.pod_selector.as_ref().is_none_or(|sel| {
                                sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
                                    && sel.match_expressions.as_ref().is_none_or(Vec::is_empty)
                            });
                            let ingress =
                                s.policy_types.as_ref().is_none_or(|t| t.iter().any(|t| t == "Ingress"));
                            all_pods && ingress && s.ingress.as_ref().is_none_or(Vec::is_empty)
                        })
                    },
                );
            match deny {
                Some(p) => (
                    true,
                    format!(
                        "{} selects every pod and allows no ingress",
                        p.metadata.name.clone().unwrap_or_default()
                    ),
                ),
                None => (false, "no policy selects every pod with no ingress rules".into()),
            }
        }),
        "resource-quota" => per_namespace(objects, "ResourceQuota", |ns| {
            let names = names_in(objects.quotas.iter().map(|q| &q.metadata), ns);
            (!names.is_empty(), if names.is_empty() { "none".into() } else { names.join(", ") })
        }),
        "limit-range" => per_namespace(objects, "LimitRange", |ns| {
            let names = names_in(objects.limit_ranges.iter().map(|l| &l.metadata), ns);
            (!names.is_empty(), if names.is_empty() { "none".into() } else { names.join(", ") })
        }),
        "pod-security-labels" => per_namespace(objects, "labels[pod-security.kubernetes.io/enforce]", |ns| {
            let level = objects
                .namespaces
                .iter()
                .find(|n| n.metadata.name.as_deref() == Some(ns))
                .and_then(|n| n.metadata.labels.as_ref())
                .and_then(|l| l.get("pod-security.kubernetes.io/enforce"))
                .cloned();
            match level.as_deref() {
                Some(l @ ("baseline" | "restricted")) => (true, l.to_owned()),
                Some(l) => (false, format!("{l}: enforces nothing")),
                None => (false, "not set".into()),
            }
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
