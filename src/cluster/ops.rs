//! The cluster side of an operation: who the operator is, whether they may, a dry run, the
//! write with its precondition, the Event on the target, and waiting for "done".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Client, runtime::wait::await_condition};
use serde_json::Value;

use super::summarize;
use crate::ops::{PatchBody, ProxyCall, Step, Target, Via};

/// Every request of an operation gets an answer within this, or is reported as unanswered.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Access reviews are asked again after this long.
const REVIEW_TTL: Duration = Duration::from_secs(30);
const FIELD_MANAGER: &str = "opsdeck";

/// Why an operation did not happen, or did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The object changed since the plan (409): nothing was written.
    #[error("{0}")]
    Conflict(String),
    /// RBAC said no, or the environment is read-only: nothing was sent.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Validation or admission refused the change (dry run or write).
    #[error("{0}")]
    Invalid(String),
    /// No answer, and nothing was sent (or a read got none).
    #[error("{0}")]
    Unreachable(String),
    /// A write was sent and no answer came back: it may have been applied.
    #[error("{0}")]
    Unanswered(String),
    /// The operation does not apply to the object as it is (e.g. resume a running rollout).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

impl OpError {
    pub fn message(&self) -> &str {
        match self {
            Self::Conflict(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Invalid(m)
            | Self::Unreachable(m)
            | Self::Unanswered(m)
            | Self::Refused(m)
            | Self::Failed(m) => m,
        }
    }

    fn from_kube(error: &kube::Error, what: &str) -> Self {
        match error {
            kube::Error::Api(status) => match status.code {
                409 => Self::Conflict(format!(
                    "{what}: the object changed since the plan was made; nothing was written ({})",
                    status.message
                )),
                401 => Self::Forbidden(format!(
                    "{what}: authentication failed (401): the credentials were refused"
                )),
                403 => Self::Forbidden(format!("{what}: forbidden: {}", status.message)),
                404 => Self::NotFound(format!("{what}: not found: {}", status.message)),
                400 | 422 => Self::Invalid(format!("{what}: refused by the API server: {}", status.message)),
                _ => Self::Failed(format!("{what}: {}", summarize(error))),
            },
            _ => Self::Unreachable(format!("{what}: {}", summarize(error))),
        }
    }
}

pub(crate) async fn within<T>(
    what: &str,
    future: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, OpError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, future).await {
        Ok(result) => result.map_err(|e| OpError::from_kube(&e, what)),
        Err(_) => {
            Err(OpError::Unreachable(format!("{what}: no answer within {}s", REQUEST_TIMEOUT.as_secs())))
        }
    }
}

fn api_resource(target: &Target) -> ApiResource {
    let (group, version, plural) = target.kind.api();
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") },
        kind: target.kind.name().to_owned(),
        plural: plural.to_owned(),
    }
}

fn api(client: &Client, target: &Target) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), &target.namespace, &api_resource(target))
}

fn kube_patch(body: &PatchBody) -> Result<Patch<Value>, OpError> {
    Ok(match body {
        PatchBody::Merge(v) => Patch::Merge(v.clone()),
        PatchBody::Strategic(v) => Patch::Strategic(v.clone()),
        PatchBody::Json(ops) => {
            let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops.clone()))
                .map_err(|e| OpError::Failed(format!("the plan's JSON patch is malformed: {e}")))?;
            Patch::Json(patch)
        }
    })
}

/// The object a plan is computed from, as JSON.
pub async fn fetch(client: &Client, target: &Target) -> Result<Value, OpError> {
    let what = format!("get {} {}/{}", target.kind.name(), target.namespace, target.name);
    let object = within(&what, api(client, target).get(&target.name)).await?;
    serde_json::to_value(object).map_err(|e| OpError::Failed(format!("{what}: {e}")))
}

/// Every object of `kind` in `namespace`, as JSON.
pub async fn list(client: &Client, namespace: &str, kind: crate::ops::Kind) -> Result<Vec<Value>, OpError> {
    let target = Target {
        env: String::new(),
        context: String::new(),
        namespace: namespace.to_owned(),
        kind,
        name: String::new(),
    };
    let what = format!("list {} in {namespace}", kind.api().2);
    let list = within(&what, api(client, &target).list(&kube::api::ListParams::default())).await?;
    list.items
        .iter()
        .map(|o| serde_json::to_value(o).map_err(|e| OpError::Failed(format!("{what}: {e}"))))
        .collect()
}

/// The ReplicaSets in `namespace` that `selector` (a Deployment's matchLabels) selects, as
/// JSON: a Deployment's rollout history, once its owner references are checked.
pub async fn replica_sets(client: &Client, namespace: &str, selector: &str) -> Result<Vec<Value>, OpError> {
    use k8s_openapi::api::apps::v1::ReplicaSet;
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    let what = format!("list ReplicaSets in {namespace}");
    let list = within(&what, api.list(&kube::api::ListParams::default().labels(selector))).await?;
    list.items
        .iter()
        .map(|rs| serde_json::to_value(rs).map_err(|e| OpError::Failed(format!("{what}: {e}"))))
        .collect()
}

/// The image IDs the Deployment's running pods report (`status.containerStatuses[].imageID`):
/// what a mutable tag resolved to, to pin a promotion by digest.
pub async fn image_ids(client: &Client, namespace: &str, deployment: &Value) -> Result<Vec<String>, OpError> {
    use k8s_openapi::api::core::v1::Pod;
    let selector = deployment
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter().filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}"))).collect::<Vec<_>>().join(",")
        })
        .unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let what = format!("list pods in {namespace}");
    let pods = within(&what, api.list(&kube::api::ListParams::default().labels(&selector))).await?;
    Ok(pods
        .items
        .iter()
        .filter_map(|p| p.status.as_ref()?.container_statuses.as_ref())
        .flatten()
        .map(|c| c.image_id.clone())
        .filter(|id| !id.is_empty())
        .collect())
}

/// The Kubernetes user the kubeconfig authenticates as, as the API server says
/// (SelfSubjectReview). There is no fallback to a local name: a record that names the wrong
/// user is worse than an operation refused.
pub async fn whoami(client: &Client) -> Result<String, OpError> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = within(
        "who am I (SelfSubjectReview)",
        api.create(&PostParams::default(), &SelfSubjectReview::default()),
    )
    .await?;
    review
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| OpError::Failed("the API server's SelfSubjectReview names no user".into()))
}

/// What a refused identity lookup says: the 401 in the words an operator acts on.
pub fn refused_credentials(why: &str, context: &str) -> String {
    if why.contains("(401)") {
        format!("authentication failed (401) for context {context}: the credentials were refused")
    } else {
        format!("context {context}: {why}")
    }
}

/// The login name of whoever runs opsdeck: `$USER`, `$LOGNAME`, or the password database's
/// entry for this process's uid (cron jobs and containers often set neither variable).
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(passwd_name)
        .unwrap_or_else(|| "unknown".to_owned())
}

fn passwd_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// Review answers by (context, group, resource, namespace), with when they were given.
type Answers = HashMap<(String, String, String, String), (Instant, Result<(), String>)>;

/// Access reviews, remembered briefly so a screen full of keys does not ask every time.
#[derive(Debug, Default)]
pub struct Reviews {
    answers: Mutex<Answers>,
}

impl Reviews {
    /// Whether the operator may make the step's write — `patch` on the target or its status,
    /// `create` on the service proxy of a call through it; `Err` carries the server's reason.
    pub async fn authorize(&self, client: &Client, step: &Step) -> Result<(), OpError> {
        let target = &step.target;
        let access = match &step.via {
            Via::Object => Access::patch(target, None),
            Via::Status => Access::patch(target, Some("status")),
            Via::Proxy(call) => Access {
                verb: "create",
                group: String::new(),
                resource: "services".into(),
                subresource: Some("proxy"),
                namespace: call.namespace.clone(),
                name: call.service.clone(),
            },
        };
        let key = (
            target.context.clone(),
            format!("{} {}", access.verb, access.group),
            format!("{}/{}", access.resource, access.subresource.unwrap_or("")),
            format!(
                "{}/{}",
                access.namespace,
                if access.subresource == Some("proxy") { access.name.as_str() } else { "" }
            ),
        );
        let cached =
            self.lock().get(&key).filter(|(at, _)| at.elapsed() < REVIEW_TTL).map(|(_, a)| a.clone());
        let answer = if let Some(answer) = cached {
            answer
        } else {
            let answer = ask(client, &target.context, &access).await?;
            self.lock().insert(key, (Instant::now(), answer.clone()));
            answer
        };
        answer.map_err(OpError::Forbidden)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One access review's question.
struct Access {
    verb: &'static str,
    group: String,
    resource: String,
    subresource: Option<&'static str>,
    namespace: String,
    name: String,
}

impl Access {
    fn patch(target: &Target, subresource: Option<&'static str>) -> Self {
        let (group, _, plural) = target.kind.api();
        Self {
            verb: "patch",
            group: group.to_owned(),
            resource: plural.to_owned(),
            subresource,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        }
    }
}

async fn ask(client: &Client, context: &str, access: &Access) -> Result<Result<(), String>, OpError> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(access.verb.into()),
                group: Some(access.group.clone()),
                resource: Some(access.resource.clone()),
                subresource: access.subresource.map(str::to_owned),
                namespace: Some(access.namespace.clone()),
                name: Some(access.name.clone()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = within("access review", api.create(&PostParams::default(), &review)).await?;
    let status = answer.status.unwrap_or_default();
    if status.allowed {
        Ok(Ok(()))
    } else {
        let why = status.reason.filter(|r| !r.is_empty()).unwrap_or_else(|| "RBAC denies it".to_owned());
        let what = access
            .subresource
            .map_or_else(|| access.resource.clone(), |s| format!("{}/{s}", access.resource));
        Ok(Err(format!("not allowed to {} {what} in {context}/{}: {why}", access.verb, access.namespace)))
    }
}

/// The step as the server would apply it, nothing stored: admission and validation errors
/// surface before the operator confirms.
pub async fn dry_run(write: &Client, step: &Step) -> Result<(), OpError> {
    let patch = kube_patch(&step.patch.with_precondition(&step.from_resource_version))?;
    let params =
        PatchParams { dry_run: true, field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
    let api = api(write, &step.target);
    let name = &step.target.name;
    match &step.via {
        Via::Object => within("dry run", api.patch(name, &params, &patch)).await.map(drop),
        Via::Status => within("dry run", api.patch_status(name, &params, &patch)).await.map(drop),
        // A call through the proxy has no dry run: the access review is all that is asked.
        Via::Proxy(_) => Ok(()),
    }
}

/// The write itself, once, with the precondition. Returns the object as stored. A write that
/// got no answer is [`OpError::Unanswered`] — it may have landed — unless the connection was
/// refused before anything was sent.
pub async fn execute(write: &Client, step: &Step) -> Result<Value, OpError> {
    if let Via::Proxy(call) = &step.via {
        return call_proxy(write, step, call).await;
    }
    let patch = kube_patch(&step.patch.with_precondition(&step.from_resource_version))?;
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
    let api = api(write, &step.target);
    let name = &step.target.name;
    let sent = async {
        match step.via {
            Via::Status => api.patch_status(name, &params, &patch).await,
            _ => api.patch(name, &params, &patch).await,
        }
    };
    let object = match within("write", sent).await {
        Err(OpError::Unreachable(m)) if !refused_before_sending(&m) => {
            return Err(OpError::Unanswered(format!("{m}: the write was sent, its answer never came")));
        }
        other => other?,
    };
    serde_json::to_value(object).map_err(|e| OpError::Failed(format!("write: {e}")))
}

/// A POST through the service proxy, once, after the object it governs is read again and
/// found as the plan saw it (its resourceVersion, or failing that every guarded field); then
/// the check the call names. Returns the governed object as read.
async fn call_proxy(write: &Client, step: &Step, call: &ProxyCall) -> Result<Value, OpError> {
    let object = fetch(write, &step.target).await?;
    let rv = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or_default();
    if rv != step.from_resource_version
        && let Some(broken) = step.guards.iter().find(|g| !g.holds(&object))
    {
        return Err(OpError::Conflict(format!(
            "{} {}/{} changed since the plan: {}; nothing was sent",
            step.target.kind.name(),
            step.target.namespace,
            step.target.name,
            broken.describe_change(&object)
        )));
    }
    let what = format!("POST {}", call.url(&call.path));
    let (status, text) = match post(write, &call.url(&call.path), &call.body).await {
        Err(OpError::Unreachable(m)) if !refused_before_sending(&m) => {
            return Err(OpError::Unanswered(format!(
                "{what}: {m}: the call was sent, its answer never came"
            )));
        }
        other => other?,
    };
    if !(200..300).contains(&status) {
        return Err(match status {
            403 => OpError::Forbidden(format!("{what}: forbidden (403): {text}")),
            404 => OpError::NotFound(format!("{what}: not found (404): {}", text.trim())),
            503 => {
                OpError::Unreachable(format!("{what}: the service does not answer (503): {}", text.trim()))
            }
            _ => OpError::Failed(format!("{what}: {status}: {}", text.trim())),
        });
    }
    if let Some(check) = &call.check {
        let (found, _) = post(write, &call.url(&check.path), &call.body).await?;
        if found != check.status {
            return Err(OpError::Failed(format!(
                "{what} answered {status}, but /{} answers {found}, not {}: the gate did not take",
                check.path, check.status
            )));
        }
    }
    Ok(object)
}

/// What the call's check answers now, before anything is sent: a gate already as asked is
/// nothing to do.
pub async fn proxy_state(write: &Client, call: &ProxyCall) -> Result<Option<u16>, OpError> {
    let Some(check) = &call.check else { return Ok(None) };
    let (status, _) = post(write, &call.url(&check.path), &call.body).await?;
    Ok(Some(status))
}

/// A POST with a JSON body; the status and the text of the answer, whatever the status.
async fn post(client: &Client, url: &str, body: &str) -> Result<(u16, String), OpError> {
    use http_body_util::BodyExt as _;
    let request = http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .map_err(|e| OpError::Failed(format!("POST {url}: {e}")))?;
    let answer = async {
        let response = client.send(request).await?;
        let status = response.status().as_u16();
        let bytes =
            response.into_body().collect().await.map_err(|e| kube::Error::Service(e.into()))?.to_bytes();
        Ok::<_, kube::Error>((status, String::from_utf8_lossy(&bytes).into_owned()))
    };
    within(&format!("POST {url}"), answer).await
}

/// Whether a transport error means the request never left: the connection was refused or
/// could not be made, so the server saw nothing.
fn refused_before_sending(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "connection refused",
        "dns error",
        "failed to lookup address",
        "no route to host",
        "network is unreachable",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// A Normal Event on the target, so `kubectl describe` shows who did what and why.
pub async fn record_event(write: &Client, step: &Step, object: &Value, message: &str) -> Result<(), OpError> {
    let meta = |f: &str| object.pointer(&format!("/metadata/{f}")).and_then(Value::as_str).map(str::to_owned);
    let now = Time(jiff::Timestamp::now());
    let (group, version, _) = step.target.kind.api();
    let event = Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.opsdeck-", step.target.name)),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(if group.is_empty() {
                version.to_owned()
            } else {
                format!("{group}/{version}")
            }),
            kind: Some(step.target.kind.name().to_owned()),
            name: Some(step.target.name.clone()),
            namespace: Some(step.target.namespace.clone()),
            uid: meta("uid"),
            resource_version: meta("resourceVersion"),
            ..ObjectReference::default()
        },
        reason: Some(step.event_reason.to_owned()),
        message: Some(message.to_owned()),
        type_: Some("Normal".to_owned()),
        count: Some(1),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        source: Some(EventSource { component: Some("opsdeck".into()), ..EventSource::default() }),
        reporting_component: Some("opsdeck".into()),
        reporting_instance: Some(local_user()),
        ..Event::default()
    };
    let api: Api<Event> = Api::namespaced(write.clone(), &step.target.namespace);
    within("event", api.create(&PostParams::default(), &event)).await.map(drop)
}

/// How a verification ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Verified {
    Done(Value),
    Failed(String),
    /// The deadline passed first; the last state seen is described.
    Pending(String),
}

/// Watches the target until the step is done, has failed, or `deadline` passes.
pub async fn verify(read: &Client, step: &Step, deadline: Duration) -> Verified {
    let api = api(read, &step.target);
    let check = step.verify.clone();
    let condition = move |object: Option<&DynamicObject>| {
        object
            .and_then(|o| serde_json::to_value(o).ok())
            .is_some_and(|v| check.is_done(&v) || check.has_failed(&v).is_some())
    };
    match tokio::time::timeout(deadline, await_condition(api, &step.target.name, condition)).await {
        Ok(Ok(Some(object))) => {
            let value = serde_json::to_value(object).unwrap_or(Value::Null);
            match step.verify.has_failed(&value) {
                Some(why) if !step.verify.is_done(&value) => Verified::Failed(why),
                _ => Verified::Done(value),
            }
        }
        Ok(Ok(None)) => {
            Verified::Failed(format!("{} {} was deleted", step.target.kind.name(), step.target.name))
        }
        Ok(Err(e)) => Verified::Pending(format!("lost the watch: {e}")),
        Err(_) => Verified::Pending(format!(
            "not done after {}s: waiting for {}",
            deadline.as_secs(),
            step.verify.describe()
        )),
    }
}
