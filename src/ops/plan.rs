//! The shape of a plan: target, precondition, patch, sentence, diff and what "done" means.

use serde_json::{Value, json};

use crate::config::Protection;
use crate::health::rollout::{self, deployment_of};

/// The kinds of object opsdeck writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployment,
    Ingress,
    HttpRoute,
    /// A blue-green's Service, whose selector picks the live colour.
    Service,
    /// Flux's kustomize-controller object, suspended before a rollback it would revert.
    Kustomization,
    /// Flux's helm-controller object, likewise.
    HelmRelease,
    /// An Argo Rollouts Rollout: driven through its own fields, as `kubectl argo rollouts` does.
    Rollout,
    /// A Flagger Canary: suspended or resumed, and its loadtester gates opened or closed.
    FlaggerCanary,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Deployment => "Deployment",
            Self::Ingress => "Ingress",
            Self::HttpRoute => "HTTPRoute",
            Self::Service => "Service",
            Self::Kustomization => "Kustomization",
            Self::HelmRelease => "HelmRelease",
            Self::Rollout => "Rollout",
            Self::FlaggerCanary => "Canary",
        }
    }

    /// A progressive-delivery controller's own object, whose status its controller rewrites as
    /// it goes: a write to it is held to the fields the plan was made from (its guards), against
    /// the resourceVersion read just before, rather than to the version of minutes ago.
    pub fn is_controller_object(self) -> bool {
        matches!(self, Self::Rollout | Self::FlaggerCanary)
    }

    /// (group, version, plural) as the API and access reviews name them.
    pub fn api(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Deployment => ("apps", "v1", "deployments"),
            Self::Ingress => ("networking.k8s.io", "v1", "ingresses"),
            Self::HttpRoute => ("gateway.networking.k8s.io", "v1", "httproutes"),
            Self::Service => ("", "v1", "services"),
            Self::Kustomization => ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
            Self::HelmRelease => ("helm.toolkit.fluxcd.io", "v2", "helmreleases"),
            Self::Rollout => ("argoproj.io", "v1alpha1", "rollouts"),
            Self::FlaggerCanary => ("flagger.app", "v1beta1", "canaries"),
        }
    }
}

/// The object a step writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub env: String,
    pub context: String,
    pub namespace: String,
    pub kind: Kind,
    pub name: String,
}

/// The body of a PATCH, by content type.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchBody {
    Merge(Value),
    Strategic(Value),
    /// RFC 6902 operations.
    Json(Vec<Value>),
}

impl PatchBody {
    /// The patch with the precondition in it: the resourceVersion the plan was computed from,
    /// so the server refuses the write with 409 Conflict when the object changed since the
    /// operator saw it. A JSON patch sets it with a `replace` op rather than a `test` op: the
    /// API server answers a failed `test` with 422, indistinguishable from an invalid patch,
    /// while a stale resourceVersion in the patched object is the 409 every client knows.
    #[must_use]
    pub fn with_precondition(&self, resource_version: &str) -> Self {
        match self {
            Self::Merge(v) => Self::Merge(with_rv(v, resource_version)),
            Self::Strategic(v) => Self::Strategic(with_rv(v, resource_version)),
            Self::Json(ops) => {
                let mut all = vec![
                    json!({"op": "replace", "path": "/metadata/resourceVersion", "value": resource_version}),
                ];
                all.extend(ops.iter().cloned());
                Self::Json(all)
            }
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Self::Merge(v) | Self::Strategic(v) => v.clone(),
            Self::Json(ops) => Value::Array(ops.clone()),
        }
    }
}

fn with_rv(patch: &Value, resource_version: &str) -> Value {
    let mut patch = patch.clone();
    if let Some(root) = patch.as_object_mut() {
        let metadata = root.entry("metadata").or_insert_with(|| json!({}));
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert("resourceVersion".into(), json!(resource_version));
        }
    }
    patch
}

/// How a step's change reaches the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A PATCH of the object.
    Object,
    /// A PATCH of its status subresource: where a controller reads the operator's word from
    /// status (Argo Rollouts' `status.abort`, `status.pauseConditions`, `status.promoteFull`).
    Status,
    /// A POST through the API server's service proxy to a helper the controller consults (a
    /// Flagger loadtester's gate). The target is the object the call governs: its
    /// resourceVersion and guards are checked just before the call, as for a patch.
    Proxy(ProxyCall),
}

/// A call through `/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyCall {
    pub namespace: String,
    pub service: String,
    pub port: u16,
    /// `gate/open`, without the leading slash.
    pub path: String,
    /// The JSON body, e.g. `{"name": "search", "namespace": "shop"}`.
    pub body: String,
    /// Asked after the call, with the same body: whether it took (`gate/check`).
    pub check: Option<ProxyCheck>,
}

/// What a check after a proxy call must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyCheck {
    pub path: String,
    /// The gate open: 200; closed: 403 (flagger-loadtester's answers).
    pub status: u16,
}

impl ProxyCall {
    /// The path under the API server, as the access review and the audit name it.
    pub fn url(&self, path: &str) -> String {
        format!("/api/v1/namespaces/{}/services/{}:{}/proxy/{path}", self.namespace, self.service, self.port)
    }
}

/// One line of "what changes": a field, its value now and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// What "done" looks like for a step, checked against the object read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Verify {
    /// The Deployment observed the new generation and every replica is updated and available.
    RolloutComplete,
    /// A field (JSON pointer) reads back as this value and, for Deployments, the controller
    /// has observed the change.
    Field { pointer: String, value: Value },
    /// A field reads back as this value, and no controller needs to act on it first: a Flux
    /// object's `spec.suspend` is what stops its controller, so the controller need never
    /// observe the new generation.
    Stored { pointer: String, value: Value },
    /// A number (JSON pointer) reads back at least this: a controller that moves on by its
    /// own rules may pass the value the operator asked for before anyone reads it.
    AtLeast { pointer: String, value: i64 },
    /// The call was checked when it was made (a loadtester's `/gate/check` after `/gate/open`):
    /// `what` says what answered.
    Checked { what: String },
    /// Written is done: nobody waits (`--no-wait`).
    Written,
}

impl Verify {
    /// Whether `object` (as JSON) shows the step done.
    pub fn is_done(&self, object: &Value) -> bool {
        match self {
            Self::RolloutComplete => deployment_of(object).is_some_and(|d| rollout::settled(&d)),
            Self::Field { pointer, value } => {
                reads_as(object.pointer(pointer), value) && observed_by_controllers(object)
            }
            Self::Stored { pointer, value } => reads_as(object.pointer(pointer), value),
            Self::AtLeast { pointer, value } => {
                object.pointer(pointer).and_then(Value::as_i64).is_some_and(|n| n >= *value)
            }
            Self::Checked { .. } | Self::Written => true,
        }
    }

    /// Whether `object` shows the step can no longer finish (a stalled rollout).
    pub fn has_failed(&self, object: &Value) -> Option<String> {
        rollout::stalled(&deployment_of(object)?)
    }

    pub fn describe(&self) -> String {
        match self {
            Self::RolloutComplete => "the rollout completes (all replicas updated and available)".to_owned(),
            Self::Field { pointer, value } | Self::Stored { pointer, value } => {
                // JSON-pointer segments, unescaped: an annotation key keeps its own slash.
                let field: Vec<String> =
                    pointer.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
                format!("{} reads back {value}", field.join("."))
            }
            Self::AtLeast { pointer, value } => {
                format!("{} reaches {value}", pointer.trim_start_matches('/').replace('/', "."))
            }
            Self::Checked { what } => what.clone(),
            Self::Written => "the API server stores it (not waiting for the rollout)".to_owned(),
        }
    }
}

/// Whether a field read back is `expected`. The API server leaves out a `false` boolean
/// (`omitempty`): `spec.paused: false` written reads back as no `paused` at all.
fn reads_as(found: Option<&Value>, expected: &Value) -> bool {
    match (found, expected) {
        (Some(found), expected) => found == expected || (found.is_null() && *expected == Value::Bool(false)),
        (None, Value::Bool(false)) => true,
        (None, _) => false,
    }
}

/// Whether the controllers that report on `object` have seen its current generation, where
/// the object says: a Deployment's `status.observedGeneration`, a Gateway API route's
/// `status.parents[].conditions[].observedGeneration`. Objects that report nothing (an
/// Ingress) count as observed once the field reads back.
fn observed_by_controllers(object: &Value) -> bool {
    let generation = object.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
    if let Some(observed) = object.pointer("/status/observedGeneration").and_then(Value::as_i64) {
        return observed >= generation;
    }
    let parents = object.pointer("/status/parents").and_then(Value::as_array);
    parents.is_none_or(|parents| {
        parents.iter().all(|parent| {
            let conditions = parent.get("conditions").and_then(Value::as_array);
            conditions.is_none_or(|cs| {
                cs.iter()
                    .filter(|c| c["type"] == "Accepted")
                    .all(|c| c["observedGeneration"].as_i64().is_none_or(|g| g >= generation))
            })
        })
    })
}

/// A field a step was computed from, and the value it had: the precondition of a step that
/// runs after earlier steps of its plan (see [`Step::guards`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    /// JSON pointer into the object.
    pub pointer: String,
    /// The value when the plan was made; `Value::Null` for a field that was absent.
    pub value: Value,
}

impl Guard {
    pub fn new(pointer: impl Into<String>, value: Value) -> Self {
        Self { pointer: pointer.into(), value }
    }

    /// Whether `object` still has the value the plan saw.
    pub fn holds(&self, object: &Value) -> bool {
        reads_as(object.pointer(&self.pointer), &self.value)
            || (self.value.is_null() && object.pointer(&self.pointer).is_none())
    }

    /// What changed in the guarded field since the plan, in a line: the value itself for a
    /// scalar, the fields that differ for a pod template or any other object — never the
    /// whole object.
    pub fn describe_change(&self, object: &Value) -> String {
        let field = self.pointer.trim_start_matches('/').replace('/', ".").replace("~1", "/");
        let now = object.pointer(&self.pointer).unwrap_or(&Value::Null);
        if !(self.value.is_object() || now.is_object()) {
            return format!("{field} is now {now}, the plan was made at {}", self.value);
        }
        let changes: Vec<String> = if self.pointer.ends_with("/template") {
            super::rollback::template_diff(&self.value, now)
                .iter()
                .map(|d| format!("{}: {} → {}", d.field, d.before, d.after))
                .collect()
        } else {
            let mut paths = Vec::new();
            leaf_changes("", &self.value, now, &mut paths);
            paths
        };
        let shown = 5;
        let more = changes.len().saturating_sub(shown);
        let mut listed = changes.into_iter().take(shown).collect::<Vec<_>>().join("; ");
        if more > 0 {
            listed = format!("{listed}; and {more} more");
        }
        format!("{field} changed since the plan ({listed})")
    }
}

/// The dotted paths where `then` and `now` differ, with both values.
fn leaf_changes(path: &str, then: &Value, now: &Value, out: &mut Vec<String>) {
    match (then, now) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                leaf_changes(
                    &child,
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (a, b) if a != b => out.push(format!("{path}: {a} → {b}")),
        _ => {}
    }
}

/// One write.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The app the step belongs to (a fleet-wide plan holds steps of several).
    pub app: String,
    pub target: Target,
    /// The resourceVersion the step was computed from: the precondition.
    pub from_resource_version: String,
    /// The fields the step was computed from. The first step of a plan is written only if the
    /// object's resourceVersion is still `from_resource_version`. A later step runs after the
    /// earlier ones have been verified, which can take minutes in which a controller rewrites
    /// the object's status (and so its resourceVersion) without touching what the step reads;
    /// such a step is written if every guard still holds, against the resourceVersion read just
    /// before, and refused otherwise.
    pub guards: Vec<Guard>,
    pub patch: PatchBody,
    /// The object, its status, or a call through the service proxy.
    pub via: Via,
    /// "production · shop/web · paused false → true"
    pub sentence: String,
    pub diff: Vec<DiffLine>,
    pub verify: Verify,
    /// The Kubernetes Event reason recorded on the target, e.g. `OpsdeckRestart`.
    pub event_reason: &'static str,
}

impl Step {
    /// Whether `object`, read back after a write whose answer was lost, carries what this
    /// step wrote: its resourceVersion moved on from the plan's, and every field the patch
    /// sets holds the patched value (the server may have added defaults beside them).
    pub fn landed(&self, object: &Value) -> bool {
        let rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str);
        if rv == Some(self.from_resource_version.as_str()) {
            return false;
        }
        match &self.patch {
            // A proxy call leaves nothing on the object to recognise it by.
            _ if matches!(self.via, Via::Proxy(_)) => false,
            PatchBody::Merge(patch) | PatchBody::Strategic(patch) => carries(object, patch),
            PatchBody::Json(ops) => ops.iter().all(|op| {
                let path = op["path"].as_str().unwrap_or_default();
                match op["op"].as_str() {
                    Some("add" | "replace") => object.pointer(path).is_some_and(|v| carries(v, &op["value"])),
                    Some("remove") => object.pointer(path).is_none(),
                    _ => true,
                }
            }),
        }
    }
}

/// Whether `object` holds everything `written` sets: maps key by key (a null is a removal),
/// lists item by item, anything else equal.
fn carries(object: &Value, written: &Value) -> bool {
    match written {
        Value::Object(fields) => fields.iter().all(|(key, value)| match (value, object.get(key)) {
            (Value::Null, found) => found.is_none_or(Value::is_null),
            (value, Some(found)) => carries(found, value),
            // A written `false` the server left out (omitempty).
            (value, None) => *value == Value::Bool(false),
        }),
        Value::Array(items) => object.as_array().is_some_and(|found| {
            found.len() == items.len() && found.iter().zip(items).all(|(f, i)| carries(f, i))
        }),
        other => object == other,
    }
}

/// What the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Restart,
    Pause,
    Resume,
    CanaryStep,
    CanaryBack,
    CanarySet,
    CanaryAbort,
    CanaryPromote,
    /// Auto mode on: no write of its own; each step it takes is an operation of its own.
    CanaryAuto,
    /// A new version on the canary Deployment, then the first step once its pods are ready.
    CanaryStart,
    /// Another environment's version onto this one's stable Deployment.
    Promote,
    Rollback,
    /// Suspend the Flux object that would revert a rollback.
    SuspendGitOps,
    /// A controller's own verbs (Argo Rollouts, Flagger): see `controllers::Verb`.
    ControllerPromote,
    ControllerPromoteFull,
    ControllerAbort,
    ControllerRetry,
    ControllerPause,
    ControllerResume,
    /// A Flagger loadtester gate opened: the next step, the rollout or the promotion approved.
    GateOpen,
    GateClose,
    /// Flagger's rollback gate opened: roll back now.
    GateRollback,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::CanaryStep => "canary-step",
            Self::CanaryBack => "canary-back",
            Self::CanarySet => "canary-set",
            Self::CanaryAbort => "canary-abort",
            Self::CanaryPromote => "canary-promote",
            Self::CanaryAuto => "canary-auto",
            Self::CanaryStart => "canary-start",
            Self::Promote => "promote",
            Self::Rollback => "rollback",
            Self::SuspendGitOps => "suspend-gitops",
            Self::ControllerPromote => "controller-promote",
            Self::ControllerPromoteFull => "controller-promote-full",
            Self::ControllerAbort => "controller-abort",
            Self::ControllerRetry => "controller-retry",
            Self::ControllerPause => "controller-pause",
            Self::ControllerResume => "controller-resume",
            Self::GateOpen => "gate-open",
            Self::GateClose => "gate-close",
            Self::GateRollback => "gate-rollback",
        }
    }

    /// Whether the operation moves a canary's traffic or promotes it.
    pub fn is_canary(self) -> bool {
        matches!(
            self,
            Self::CanaryStep
                | Self::CanaryBack
                | Self::CanarySet
                | Self::CanaryAbort
                | Self::CanaryPromote
                | Self::CanaryAuto
                | Self::CanaryStart
        )
    }

    /// A controller's own verb (Argo Rollouts, Flagger).
    pub fn is_controller(self) -> bool {
        matches!(
            self,
            Self::ControllerPromote
                | Self::ControllerPromoteFull
                | Self::ControllerAbort
                | Self::ControllerRetry
                | Self::ControllerPause
                | Self::ControllerResume
                | Self::GateOpen
                | Self::GateClose
                | Self::GateRollback
        )
    }

    /// Stepping a canary up or setting a higher weight: gated by the analysis verdict.
    pub fn raises_canary(self) -> bool {
        matches!(self, Self::CanaryStep | Self::CanarySet)
    }
}

/// What a plan is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One app in one environment: steps run in order and stop at the first that does not
    /// finish, since each relies on the one before.
    App,
    /// The kill switch: every active canary everywhere. The steps are independent: one that
    /// fails (an environment unreachable) does not keep the others at their weight.
    Fleet,
}

/// The typed confirmation of the kill switch, which names no single app.
pub const FLEET_TYPED_NAME: &str = "abort-all";

/// Steps shown and confirmed together.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub operation: Operation,
    /// For [`Scope::Fleet`], `all`: each step names its own environment.
    pub env: String,
    /// For [`Scope::Fleet`], `canaries`: each step names its own app.
    pub app: String,
    /// For [`Scope::Fleet`], the strictest protection among the steps' environments.
    pub protection: Protection,
    pub steps: Vec<Step>,
    pub scope: Scope,
    /// What the operator should know before confirming (an override, a GitOps controller that
    /// will revert the change): shown on the confirmation screen and printed by the CLI.
    pub warnings: Vec<String>,
    /// What the plan does, for a plan whose steps do not say it (auto mode has none).
    pub headline: Option<String>,
}

impl Plan {
    /// A plan for one app in one environment.
    pub fn for_app(operation: Operation, place: &super::Place<'_>, steps: Vec<Step>) -> Self {
        Self {
            operation,
            env: place.env.to_owned(),
            app: place.app.to_owned(),
            protection: place.protection,
            steps,
            scope: Scope::App,
            warnings: Vec::new(),
            headline: None,
        }
    }

    /// What the typed confirmation asks for.
    pub fn typed_name(&self) -> String {
        match self.scope {
            Scope::App => format!("{}/{}", self.env, self.app),
            Scope::Fleet => FLEET_TYPED_NAME.to_owned(),
        }
    }

    pub fn sentence(&self) -> String {
        if let Some(headline) = &self.headline {
            return headline.clone();
        }
        let joint = match self.scope {
            Scope::App => "; then ",
            Scope::Fleet => "; ",
        };
        self.steps.iter().map(|s| s.sentence.as_str()).collect::<Vec<_>>().join(joint)
    }

    /// The environments the plan writes to, in the order its steps do.
    pub fn environments(&self) -> Vec<&str> {
        let mut envs: Vec<&str> = Vec::new();
        for step in &self.steps {
            if !envs.contains(&step.target.env.as_str()) {
                envs.push(&step.target.env);
            }
        }
        envs
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The operation makes no sense for the object as it is now (e.g. resume a running rollout).
    #[error("{0}")]
    Refused(String),
    /// A rollback of a paused Deployment, not asked to resume it: kubectl refuses it, since
    /// the old template would not roll out.
    #[error("{0}")]
    NeedsResume(String),
    /// The object lacks what the plan needs.
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precondition_goes_into_every_patch_type() {
        let merge = PatchBody::Merge(json!({"spec": {"paused": true}})).with_precondition("42");
        assert_eq!(
            merge.to_value(),
            json!({"spec": {"paused": true}, "metadata": {"resourceVersion": "42"}})
        );
        let json_patch =
            PatchBody::Json(vec![json!({"op": "replace", "path": "/spec/paused", "value": true})])
                .with_precondition("42");
        assert_eq!(
            json_patch.to_value()[0],
            json!({"op": "replace", "path": "/metadata/resourceVersion", "value": "42"})
        );
        assert_eq!(json_patch.to_value().as_array().map(Vec::len), Some(2));
    }

    fn step(patch: PatchBody) -> Step {
        Step {
            app: "web".into(),
            target: Target {
                env: "production".into(),
                context: "p".into(),
                namespace: "shop".into(),
                kind: Kind::Deployment,
                name: "web".into(),
            },
            from_resource_version: "7".into(),
            guards: Vec::new(),
            patch,
            via: Via::Object,
            sentence: String::new(),
            diff: Vec::new(),
            verify: Verify::Written,
            event_reason: "OpsdeckPause",
        }
    }

    #[test]
    fn a_false_the_server_leaves_out_reads_back_as_false() {
        let resumed = json!({"metadata": {"generation": 2}, "spec": {"replicas": 3}, "status": {"observedGeneration": 2}});
        let verify = Verify::Field { pointer: "/spec/paused".into(), value: json!(false) };
        assert!(verify.is_done(&resumed), "spec.paused: false is stored as no field");
        assert!(Guard::new("/spec/paused", json!(false)).holds(&resumed));
        assert!(!Guard::new("/spec/paused", json!(true)).holds(&resumed));
        let resume = step(PatchBody::Strategic(json!({"spec": {"paused": false}})));
        assert!(resume.landed(&json!({"metadata": {"resourceVersion": "9"}, "spec": {"replicas": 3}})));
    }

    #[test]
    fn a_changed_template_is_named_by_its_fields_not_dumped() {
        let then = json!({"spec": {"containers": [{"name": "web", "image": "web:v1.2.0"}]}});
        let now = json!({"metadata": {}, "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:v1.3.0"}]}}}});
        let guard = Guard::new("/spec/template", then);
        let said = guard.describe_change(&now);
        assert!(said.contains("v1.2.0") && said.contains("v1.3.0") && said.len() < 200, "{said}");
        let weight = Guard::new("/metadata/annotations/canary-weight", json!("10"));
        assert_eq!(
            weight.describe_change(&json!({"metadata": {"annotations": {"canary-weight": "40"}}})),
            "metadata.annotations.canary-weight is now \"40\", the plan was made at \"10\""
        );
    }

    #[test]
    fn a_write_read_back_has_landed_when_its_fields_hold_on_a_newer_version() {
        let pause = step(PatchBody::Strategic(json!({"spec": {"paused": true}})));
        let object = |rv: &str, paused: bool| json!({"metadata": {"resourceVersion": rv}, "spec": {"paused": paused, "replicas": 3}});
        assert!(pause.landed(&object("8", true)));
        assert!(!pause.landed(&object("7", true)), "the plan's own version: nothing was written");
        assert!(!pause.landed(&object("8", false)), "someone else's change, not ours");
        let template = json!({"spec": {"containers": [{"name": "web", "image": "web:v1.1.0"}]}});
        let rollback = step(PatchBody::Json(vec![
            json!({"op": "replace", "path": "/spec/template", "value": template}),
        ]));
        let defaulted = json!({"metadata": {"resourceVersion": "9"}, "spec": {"template": {"spec": {
            "containers": [{"name": "web", "image": "web:v1.1.0", "imagePullPolicy": "IfNotPresent"}],
            "dnsPolicy": "ClusterFirst"}}}});
        assert!(rollback.landed(&defaulted), "the server's defaults beside what was written");
        let other = json!({"metadata": {"resourceVersion": "9"}, "spec": {"template": {"spec": {
            "containers": [{"name": "web", "image": "web:v1.2.0"}]}}}});
        assert!(!rollback.landed(&other));
    }

    #[test]
    fn rollout_complete_needs_the_new_generation_observed() {
        let mut d = json!({
            "metadata": {"name": "web", "generation": 3},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2},
        });
        assert!(!Verify::RolloutComplete.is_done(&d), "status of the old generation");
        d["status"]["observedGeneration"] = json!(3);
        assert!(Verify::RolloutComplete.is_done(&d));
        d["status"]["availableReplicas"] = json!(1);
        assert!(!Verify::RolloutComplete.is_done(&d));
    }

    #[test]
    fn a_stored_field_needs_no_controller_to_observe_it() {
        let ks = json!({
            "metadata": {"name": "shop-apps", "generation": 2},
            "spec": {"suspend": true},
            "status": {"observedGeneration": 1},
        });
        let stored = Verify::Stored { pointer: "/spec/suspend".into(), value: json!(true) };
        assert!(stored.is_done(&ks), "a suspended object is not reconciled again");
        let field = Verify::Field { pointer: "/spec/suspend".into(), value: json!(true) };
        assert!(!field.is_done(&ks), "a field a controller acts on waits for it");
    }

    #[test]
    fn a_stalled_rollout_has_failed() {
        let d = json!({"metadata": {"name": "web"}, "spec": {"selector": {}, "template": {}}, "status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-1\" has timed out progressing."}]}});
        assert_eq!(
            Verify::RolloutComplete.has_failed(&d).as_deref(),
            Some("ReplicaSet \"web-1\" has timed out progressing.")
        );
    }
}
