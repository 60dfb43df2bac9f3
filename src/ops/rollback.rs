//! Rollback, with the semantics of `kubectl rollout undo [--to-revision N]`: a Deployment's
//! revisions are its ReplicaSets ordered by `deployment.kubernetes.io/revision`; the chosen
//! one's pod template, without `pod-template-hash`, replaces the Deployment's, and the
//! Deployment's annotations become the ReplicaSet's, except the ones kubectl keeps from the
//! Deployment. Pure: objects come in as JSON, the history, the choice and the plan go out.

mod diff;
mod gitops;

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::deployment::Place;
use super::plan::{Guard, Operation, PatchBody, Plan, PlanError, Step, Verify};
use crate::health::image_tag;

pub use diff::template_diff;
pub use gitops::{GitOps, gitops, suspend};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const HASH_LABEL: &str = "pod-template-hash";
/// Deployment annotations kubectl's rollback keeps from the Deployment rather than taking them
/// from the ReplicaSet (kubectl's `annotationsToSkip`).
const KEPT_FROM_DEPLOYMENT: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];
/// A revision must have been the Deployment's template this long to count as known good.
pub const KNOWN_GOOD_AFTER: Duration = Duration::from_secs(10 * 60);

/// One revision of a Deployment: one of its ReplicaSets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub revision: u64,
    pub replica_set: String,
    /// Container images, in order.
    pub images: Vec<String>,
    pub change_cause: Option<String>,
    pub created: Option<jiff::Timestamp>,
    pub desired: i64,
    pub ready: i64,
    pub available: i64,
    /// Its template is the Deployment's now.
    pub current: bool,
}

impl Revision {
    /// The image tags, for a line on screen: `v1.2.0` or `v1.2.0, sidecar-3`.
    pub fn tags(&self) -> String {
        if self.images.is_empty() {
            return "—".into();
        }
        self.images.iter().map(|i| image_tag(i)).collect::<Vec<_>>().join(", ")
    }
}

fn text<'v>(object: &'v Value, pointer: &str) -> Option<&'v str> {
    object.pointer(pointer).and_then(Value::as_str)
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Argo Rollouts numbers its ReplicaSets under its own annotation.
const ROLLOUT_REVISION: &str = "rollout.argoproj.io/revision";
const ROLLOUT_HASH_LABEL: &str = "rollouts-pod-template-hash";

fn revision_of(rs: &Value) -> Option<u64> {
    [REVISION, ROLLOUT_REVISION]
        .iter()
        .find_map(|key| text(rs, &format!("/metadata/annotations/{}", key.replace('/', "~1"))))?
        .parse()
        .ok()
}

fn is_rollout(object: &Value) -> bool {
    text(object, "/kind") == Some("Rollout")
}

fn images(template: Option<&Value>) -> Vec<String> {
    template
        .and_then(|t| t.pointer("/spec/containers"))
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c["image"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Whether a ReplicaSet is the Deployment's (or the Rollout's): controlled by it, as kubectl's
/// history decides.
fn owned_by(rs: &Value, deployment: &Value) -> bool {
    let uid = text(deployment, "/metadata/uid");
    let kind = if is_rollout(deployment) { "Rollout" } else { "Deployment" };
    rs.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|refs| {
        refs.iter().any(|r| {
            r["kind"] == kind
                && r["controller"].as_bool() != Some(false)
                && match (uid, r["uid"].as_str()) {
                    (Some(uid), Some(theirs)) => uid == theirs,
                    _ => r["name"].as_str() == text(deployment, "/metadata/name"),
                }
        })
    })
}

/// Drops what semantic equality ignores: nulls, empty maps and lists (kubectl's undo sends
/// `creationTimestamp: null`), and the hash label.
fn normalized(template: &Value) -> Value {
    fn prune(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.values_mut().for_each(prune);
                map.retain(|_, v| !is_unset(v));
            }
            Value::Array(items) => items.iter_mut().for_each(prune),
            _ => {}
        }
    }
    fn is_unset(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        }
    }
    let mut t = template.clone();
    if let Some(labels) = t.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(HASH_LABEL);
        labels.remove(ROLLOUT_HASH_LABEL);
    }
    prune(&mut t);
    t
}

/// Two pod templates are the same revision when they are equal but for the hash label.
pub fn same_template(a: &Value, b: &Value) -> bool {
    normalized(a) == normalized(b)
}

/// The Deployment's revisions, newest first.
pub fn history(deployment: &Value, replica_sets: &[Value]) -> Vec<Revision> {
    let current_template = deployment.pointer("/spec/template").unwrap_or(&Value::Null);
    let mut revisions: Vec<Revision> = replica_sets
        .iter()
        .filter(|rs| owned_by(rs, deployment))
        .filter_map(|rs| {
            let template = rs.pointer("/spec/template");
            Some(Revision {
                revision: revision_of(rs)?,
                replica_set: text(rs, "/metadata/name").unwrap_or("?").to_owned(),
                images: images(template),
                change_cause: text(rs, &format!("/metadata/annotations/{}", CHANGE_CAUSE.replace('/', "~1")))
                    .map(str::to_owned),
                created: text(rs, "/metadata/creationTimestamp").and_then(|t| t.parse().ok()),
                desired: int(rs, "/spec/replicas"),
                ready: int(rs, "/status/readyReplicas"),
                available: int(rs, "/status/availableReplicas"),
                current: template.is_some_and(|t| same_template(t, current_template)),
            })
        })
        .collect();
    revisions.sort_by_key(|r| std::cmp::Reverse(r.revision));
    revisions
}

/// The revision a rollback goes to when none is named, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub revision: u64,
    pub why: String,
}

/// kubectl's "previous": the highest revision below the newest.
pub fn previous(history: &[Revision]) -> Option<&Revision> {
    history.get(1)
}

/// The last known good revision: the newest revision older than the current one that ran
/// other images and was the Deployment's template for at least [`KNOWN_GOOD_AFTER`] (from
/// its ReplicaSet's creation to the next revision's) — a release that soaked, not one that
/// was replaced minutes after it went out. Without one, kubectl's previous revision.
pub fn last_known_good(history: &[Revision]) -> Option<Choice> {
    let current = history.iter().find(|r| r.current).or_else(|| history.first())?;
    let older: Vec<&Revision> = history.iter().filter(|r| r.revision < current.revision).collect();
    // Newest first; each one's successor in time is the revision created just after it.
    let mut by_creation: Vec<&Revision> = history.iter().collect();
    by_creation.sort_by_key(|r| r.created);
    let replaced_at =
        |r: &Revision| by_creation.iter().filter(|o| o.created > r.created).filter_map(|o| o.created).min();
    let soaked = older.iter().find(|r| {
        let served = match (r.created, replaced_at(r)) {
            (Some(from), Some(to)) => to.duration_since(from),
            _ => return false,
        };
        r.images != current.images
            && served >= jiff::SignedDuration::try_from(KNOWN_GOOD_AFTER).unwrap_or_default()
    });
    if let Some(r) = soaked {
        let served = match (r.created, replaced_at(r)) {
            (Some(from), Some(to)) => crate::config::duration_words(to.duration_since(from).as_secs()),
            _ => "?".into(),
        };
        return Some(Choice {
            revision: r.revision,
            why: format!(
                "the newest older revision with other images that served at least {}m before it was replaced ({served})",
                KNOWN_GOOD_AFTER.as_secs() / 60
            ),
        });
    }
    let previous = older.first()?;
    Some(Choice {
        revision: previous.revision,
        why: "the previous revision, as kubectl rollout undo takes it (no older revision served long enough to count as known good)".into(),
    })
}

/// What a rollback may do besides what kubectl does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Roll to this revision rather than the previous one.
    pub to_revision: Option<u64>,
    /// A paused Deployment is resumed in the same write, so the old template actually rolls
    /// out; without it a paused Deployment is refused, as kubectl refuses it.
    pub resume_paused: bool,
    /// Written is done: do not wait for the rollout.
    pub no_wait: bool,
}

/// The Deployment's annotations after the rollback, as kubectl computes them: the ones it
/// keeps from the Deployment, then every other one of the ReplicaSet's.
fn annotations(deployment: &Value, rs: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(current) = deployment.pointer("/metadata/annotations").and_then(Value::as_object) {
        for key in KEPT_FROM_DEPLOYMENT {
            if let Some(v) = current.get(key) {
                out.insert(key.to_owned(), v.clone());
            }
        }
    }
    if let Some(theirs) = rs.pointer("/metadata/annotations").and_then(Value::as_object) {
        for (k, v) in theirs.iter().filter(|(k, _)| !KEPT_FROM_DEPLOYMENT.contains(&k.as_str())) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The revision a rollback goes to — the one named, or the previous — and its ReplicaSet.
fn chosen<'r>(
    who: &str,
    revisions: &'r [Revision],
    replica_sets: &'r [Value],
    to_revision: Option<u64>,
) -> Result<(&'r Revision, &'r Value), PlanError> {
    let wanted = match to_revision {
        Some(n) => revisions.iter().find(|r| r.revision == n).ok_or_else(|| {
            let known: Vec<String> = revisions.iter().rev().map(|r| r.revision.to_string()).collect();
            PlanError::Refused(format!(
                "{who} has no revision {n} (its revisions: {})",
                if known.is_empty() { "none".into() } else { known.join(", ") }
            ))
        })?,
        None => previous(revisions)
            .ok_or_else(|| PlanError::Refused(format!("{who} has no rollout history to go back to")))?,
    };
    let rs = replica_sets
        .iter()
        .find(|rs| text(rs, "/metadata/name") == Some(wanted.replica_set.as_str()))
        .ok_or_else(|| {
        PlanError::Invalid(format!("ReplicaSet {} vanished while planning", wanted.replica_set))
    })?;
    Ok((wanted, rs))
}

/// Plans `kubectl rollout undo [--to-revision N]` on `deployment`, whose ReplicaSets (any in
/// its namespace; the ones it does not own are ignored) are `replica_sets`.
pub fn rollback(
    place: &Place<'_>,
    deployment: &Value,
    replica_sets: &[Value],
    options: Options,
) -> Result<Plan, PlanError> {
    if is_rollout(deployment) {
        return rollout_undo(place, deployment, replica_sets, options);
    }
    let (target, rv) = super::deployment::target(place, deployment)?;
    let who = format!("{}/{}", target.namespace, target.name);
    let paused = deployment.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false);
    if paused && !options.resume_paused {
        return Err(PlanError::NeedsResume(format!(
            "{who} is paused: kubectl refuses to roll back a paused Deployment, since the old template would not roll out; roll back and resume it in the same write (--resume, or the console's choice), or resume it first"
        )));
    }
    let revisions = history(deployment, replica_sets);
    let (wanted, rs) = chosen(&who, &revisions, replica_sets, options.to_revision)?;
    let mut template = rs.pointer("/spec/template").cloned().ok_or_else(|| {
        PlanError::Invalid(format!("ReplicaSet {} has no pod template", wanted.replica_set))
    })?;
    if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(HASH_LABEL);
    }
    let current = deployment.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    if same_template(&template, &current) {
        return Err(PlanError::Refused(format!(
            "nothing to roll back: {who}'s template already matches revision {} (kubectl would skip it)",
            wanted.revision
        )));
    }
    let newest = revisions.first().map_or(0, |r| r.revision);
    let from = revisions
        .iter()
        .find(|r| r.current)
        .map_or_else(|| "?".into(), |r| format!("r{} ({})", r.revision, r.tags()));
    let mut diff = template_diff(&current, &template);
    let mut patch = vec![
        json!({"op": "replace", "path": "/spec/template", "value": template}),
        json!({"op": "replace", "path": "/metadata/annotations", "value": annotations(deployment, rs)}),
    ];
    if paused {
        patch.push(json!({"op": "replace", "path": "/spec/paused", "value": false}));
        diff.push(super::DiffLine {
            field: "spec.paused".into(),
            before: "true".into(),
            after: "false".into(),
        });
    }
    let step = Step {
        app: place.app.to_owned(),
        sentence: format!(
            "{} · {who} · roll back from {from} to r{} ({})",
            place.env,
            wanted.revision,
            wanted.tags()
        ),
        diff,
        patch: PatchBody::Json(patch),
        verify: if options.no_wait { Verify::Written } else { Verify::RolloutComplete },
        guards: vec![Guard::new("/spec/template", current), Guard::new("/spec/paused", json!(paused))],
        via: crate::ops::Via::Object,
        event_reason: "OpsdeckRollback",
        from_resource_version: rv,
        target,
    };
    let mut plan = Plan::for_app(Operation::Rollback, place, vec![step]);
    plan.warnings.push(format!(
        "Kubernetes renumbers the revision it rolls back to: r{} comes back as r{}",
        wanted.revision,
        newest + 1
    ));
    if paused {
        plan.warnings.push(format!(
            "{who} is paused: this write resumes it (spec.paused false) so revision r{} rolls out",
            wanted.revision
        ));
    }
    if let Some(g) = gitops(deployment) {
        plan.warnings.push(g.warning());
    }
    Ok(plan)
}

/// `kubectl argo rollouts undo [--to-revision N]`: the chosen ReplicaSet's pod template,
/// without its hash label, into the Rollout's — a JSON patch, as a custom resource takes no
/// strategic merge — with its change-cause, and the Rollout's steps bring it in (straight away
/// where it goes back to its stable ReplicaSet).
fn rollout_undo(
    place: &Place<'_>,
    rollout: &Value,
    replica_sets: &[Value],
    options: Options,
) -> Result<Plan, PlanError> {
    let name = text(rollout, "/metadata/name").unwrap_or("?");
    let namespace = text(rollout, "/metadata/namespace").unwrap_or("default");
    let who = format!("Rollout {namespace}/{name}");
    let rv = text(rollout, "/metadata/resourceVersion")
        .filter(|rv| !rv.is_empty())
        .ok_or_else(|| PlanError::Invalid(format!("{who} has no resourceVersion")))?;
    let revisions = history(rollout, replica_sets);
    let (wanted, rs) = chosen(&who, &revisions, replica_sets, options.to_revision)?;
    let template = normalized(rs.pointer("/spec/template").unwrap_or(&Value::Null));
    let current = rollout.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    if same_template(&template, &current) {
        return Err(PlanError::Refused(format!(
            "nothing to roll back: {who}'s template already matches revision {}",
            wanted.revision
        )));
    }
    let from = revisions
        .iter()
        .find(|r| r.current)
        .map_or_else(|| "?".into(), |r| format!("r{} ({})", r.revision, r.tags()));
    let image = template.pointer("/spec/containers/0/image").cloned().unwrap_or(Value::Null);
    let mut diff = template_diff(&current, &template);
    let mut patch = vec![json!({"op": "replace", "path": "/spec/template", "value": template})];
    // The change-cause goes back with the template, as kubectl's undo of a Deployment has it.
    let cause = |o: &Value| text(o, "/metadata/annotations/kubernetes.io~1change-cause").map(str::to_owned);
    if let Some(old) = cause(rs).filter(|old| cause(rollout).as_ref() != Some(old)) {
        let op = if rollout.pointer("/metadata/annotations").is_some() {
            json!({"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause", "value": old})
        } else {
            json!({"op": "add", "path": "/metadata/annotations", "value": {CHANGE_CAUSE: old}})
        };
        patch.push(op);
        diff.push(super::DiffLine {
            field: format!("metadata.annotations[{CHANGE_CAUSE}]"),
            before: cause(rollout).unwrap_or_else(|| "<none>".into()),
            after: old,
        });
    }
    let target = super::Target {
        env: place.env.to_owned(),
        context: place.context.to_owned(),
        namespace: namespace.to_owned(),
        kind: super::Kind::Rollout,
        name: name.to_owned(),
    };
    let step = Step {
        app: place.app.to_owned(),
        sentence: format!(
            "{} · {who} · undo: roll back from {from} to r{} ({}), then the Rollout's steps",
            place.env,
            wanted.revision,
            wanted.tags()
        ),
        diff,
        patch: PatchBody::Json(patch),
        verify: Verify::Stored { pointer: "/spec/template/spec/containers/0/image".into(), value: image },
        guards: vec![Guard::new("/spec/template", current)],
        via: crate::ops::Via::Object,
        event_reason: "OpsdeckRollback",
        from_resource_version: rv.to_owned(),
        target,
    };
    let mut plan = Plan::for_app(Operation::Rollback, place, vec![step]);
    plan.warnings.push(
        "Argo Rollouts runs the old template through its steps unless it is the stable ReplicaSet's; abort sends all traffic back to stable at once".to_owned(),
    );
    if let Some(g) = gitops(rollout) {
        plan.warnings.push(g.warning());
    }
    Ok(plan)
}

#[cfg(test)]
mod tests;
