//! The API handlers: authentication, authorization, then list, watch, get, create, patch,
//! update and delete over the store, with the subresources opsdeck and kubectl use.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::admission;
use super::auth::User;
use super::discovery;
use super::errors::ApiError;
use super::patch::{self, PatchKind};
use super::query::Query;
use super::resources::{self, Resource};
use super::route::{self, Route};
use super::selectors::{FieldSelector, LabelSelector};
use super::server::{Body, Cluster, error_response, ok};
use super::store::{WriteMode, ensure_object};
use super::{protobuf, proxy, table, watch};

/// Larger bodies are refused: nothing opsdeck or kubectl sends comes close.
const MAX_BODY: usize = 3 * 1024 * 1024;

pub async fn handle(cluster: Arc<Cluster>, req: Request<Incoming>) -> Response<Body> {
    let route = route::parse(req.uri().path());
    let query = Query::parse(req.uri().query());
    // The fleet's own endpoints and the public-info paths need no credentials, as on a real
    // cluster (system:public-info-viewer) and for a Prometheus server scraping the fleet.
    match &route {
        Route::DemoRequests => return ok(&requests_report(&cluster)),
        Route::DemoMetrics => return proxy::fleet_metrics(&cluster),
        Route::Version => {
            cluster.count("get version".into());
            return ok(&discovery::version(&cluster.git_version));
        }
        Route::Health => {
            cluster.count("get healthz".into());
            return super::server::text_response(StatusCode::OK, "text/plain", "ok".into());
        }
        _ => {}
    }
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(user) = User::from_authorization(authorization) else {
        return error_response(&ApiError::unauthorized());
    };
    match dispatch(&cluster, user, route, &query, req).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    }
}

fn requests_report(cluster: &Cluster) -> Value {
    let by = super::server::locked(&cluster.requests).clone();
    let total: u64 = by.values().sum();
    json!({"cluster": cluster.name, "total": total, "byVerbAndResource": by})
}

/// "patch deployments.apps", or "patch (dry run) deployments.apps": a dry run stores nothing,
/// and tests of "no write reached the server" must tell the two apart.
fn counter_key(verb: &str, resource: &str, query: &Query) -> String {
    if query.dry_run() { format!("{verb} (dry run) {resource}") } else { format!("{verb} {resource}") }
}

fn verb_for(method: &Method, collection: bool, query: &Query) -> &'static str {
    match *method {
        Method::GET if collection && query.flag("watch") => "watch",
        Method::GET if collection => "list",
        Method::GET => "get",
        Method::POST => "create",
        Method::PATCH => "patch",
        Method::PUT => "update",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

async fn dispatch(
    cluster: &Arc<Cluster>,
    user: User,
    route: Route,
    query: &Query,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let method = req.method().clone();
    let accept = header_text(&req, header::ACCEPT);
    let content_type = header_text(&req, header::CONTENT_TYPE);
    let discovery_doc = |doc: Option<Value>, path: &str| {
        cluster.count("get discovery".into());
        doc.map(|d| ok(&d)).ok_or_else(|| ApiError::path_not_found(path))
    };
    match route {
        Route::CoreVersions => discovery_doc(Some(discovery::core_versions()), "/api"),
        Route::GroupList => discovery_doc(Some(discovery::group_list()), "/apis"),
        Route::Group(group) => discovery_doc(discovery::group(&group), &group),
        Route::ResourceList { group, version } => {
            discovery_doc(discovery::resource_list(&group, &version), &format!("{group}/{version}"))
        }
        Route::Collection { resource, namespace } => {
            let verb = verb_for(&method, true, query);
            cluster.count(counter_key(verb, &resource.qualified(), query));
            authorize(user, verb, resource, None, namespace.as_deref(), None)?;
            match verb {
                "list" => list(cluster, resource, namespace.as_deref(), query, &accept),
                "watch" => watch::start(cluster, resource, namespace, query),
                "create" => {
                    let body = create_body(resource, &content_type, req).await?;
                    create(cluster, user, resource, namespace.as_deref(), body, query)
                }
                _ => Err(ApiError::method_not_allowed(method.as_str())),
            }
        }
        Route::Object { resource, namespace, name } => {
            object(cluster, user, (resource, namespace.as_deref().unwrap_or(""), &name), query, req).await
        }
        Route::Subresource { resource, namespace, name, sub } => {
            let verb = verb_for(&method, false, query);
            cluster.count(counter_key(verb, &format!("{}/{sub}", resource.qualified()), query));
            authorize(user, verb, resource, Some(&sub), namespace.as_deref(), Some(&name))?;
            if (sub.as_str(), verb) == ("log", "get") && resources::index_of(resource) == resources::PODS {
                return super::logs::pod_log(cluster, namespace.as_deref().unwrap_or(""), &name, query);
            }
            let body = if matches!(verb, "patch" | "update") { Some(read_bytes(req).await?) } else { None };
            subresource(
                cluster,
                resource,
                namespace.as_deref().unwrap_or(""),
                &name,
                &sub,
                verb,
                body,
                &content_type,
                query,
            )
        }
        Route::PodProxy { namespace, pod, port, path } => {
            cluster.count("get pods/proxy".into());
            let pods = &resources::RESOURCES[resources::PODS];
            authorize(user, "get", pods, Some("proxy"), Some(&namespace), Some(&pod))?;
            proxy::pod(cluster, &namespace, &pod, port.as_deref(), &path)
        }
        Route::ServiceProxy { namespace, service, port, path } => {
            service_proxy(cluster, user, (&namespace, &service, port.as_deref(), &path), req).await
        }
        Route::Version | Route::Health | Route::DemoRequests | Route::DemoMetrics | Route::Unknown => {
            Err(ApiError::path_not_found(req.uri().path()))
        }
    }
}

/// A request header as text; empty when absent or not text.
fn header_text(req: &Request<Incoming>, name: header::HeaderName) -> String {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// One object: get, patch, update, delete, each update and delete through admission.
async fn object(
    cluster: &Arc<Cluster>,
    user: User,
    (resource, ns, name): (&'static Resource, &str, &str),
    query: &Query,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let method = req.method().clone();
    let accept = header_text(&req, header::ACCEPT);
    let content_type = header_text(&req, header::CONTENT_TYPE);
    let name = name.to_owned();
    let verb = verb_for(&method, false, query);
    cluster.count(counter_key(verb, &resource.qualified(), query));
    authorize(user, verb, resource, None, Some(ns).filter(|n| !n.is_empty()), Some(&name))?;
    let store = &cluster.store;
    let index = resources::index_of(resource);
    match verb {
        "get" => {
            let object = store.get(index, ns, &name).ok_or_else(|| ApiError::not_found(resource, &name))?;
            Ok(respond(resource, vec![object], &accept, query, None))
        }
        "patch" => {
            let body = read_bytes(req).await?;
            if let Some(delay) = cluster.write_delay.filter(|_| !query.dry_run()) {
                tokio::time::sleep(delay).await;
            }
            let kind = PatchKind::from_content_type(&content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(&content_type))?;
            let object = store.update(index, ns, &name, WriteMode::Main, query.dry_run(), |current| {
                let next = patch::apply(kind, current, &body).map_err(patch_error)?;
                admission::admit(store, user, "UPDATE", index, ns, Some(current), Some(&next))?;
                Ok(next)
            })?;
            Ok(ok(&object))
        }
        "update" => {
            let body = read_json(req).await?;
            let object = store.update(index, ns, &name, WriteMode::Main, query.dry_run(), |current| {
                admission::admit(store, user, "UPDATE", index, ns, Some(current), Some(&body))?;
                Ok(body)
            })?;
            Ok(ok(&object))
        }
        "delete" => {
            let existing = store.get(index, ns, &name);
            admission::admit(store, user, "DELETE", index, ns, existing.as_ref(), None)?;
            Ok(ok(&store.delete(index, ns, &name, query.dry_run())?))
        }
        _ => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

/// `services/NAME:PORT/proxy/PATH`: a GET is `get`, anything else `create`, as RBAC sees it.
async fn service_proxy(
    cluster: &Cluster,
    user: User,
    (namespace, service, port, path): (&str, &str, Option<&str>, &str),
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let verb = if req.method() == Method::GET { "get" } else { "create" };
    cluster.count(format!("{verb} services/proxy"));
    let services = &resources::RESOURCES[resources::SERVICES];
    authorize(user, verb, services, Some("proxy"), Some(namespace), Some(service))?;
    let body = read_bytes(req).await?;
    proxy::service(cluster, namespace, service, port, path, &body)
}

/// A create's body: JSON, or the protobuf kubectl uses for access reviews.
async fn create_body(
    resource: &Resource,
    content_type: &str,
    req: Request<Incoming>,
) -> Result<Value, ApiError> {
    if !content_type.starts_with("application/vnd.kubernetes.protobuf") {
        return read_json(req).await;
    }
    let bytes = read_bytes(req).await?;
    if !resource.review {
        return Err(ApiError::unsupported_media_type(content_type));
    }
    protobuf::decode_review(resource.kind, &resource.api_version(), &bytes).map_err(ApiError::bad_request)
}

fn authorize(
    user: User,
    verb: &str,
    res: &Resource,
    sub: Option<&str>,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<(), ApiError> {
    if user.may(verb, res.plural) {
        Ok(())
    } else {
        Err(ApiError::forbidden(user.name(), verb, res, sub, namespace, name))
    }
}

fn patch_error(error: patch::PatchError) -> ApiError {
    match error {
        patch::PatchError::BadRequest(message) => ApiError::bad_request(message),
        patch::PatchError::Unprocessable(message) => ApiError::unprocessable(message),
    }
}

async fn read_bytes(req: Request<Incoming>) -> Result<Bytes, ApiError> {
    Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))
}

async fn read_json(req: Request<Incoming>) -> Result<Value, ApiError> {
    let bytes = read_bytes(req).await?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::bad_request("the request body must be a JSON object"))
    }
}

/// Label and field selectors from the query, parsed once.
pub struct Selectors {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Selectors {
    pub fn from_query(query: &Query) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("invalid field selector: {e}")))?;
        Ok(Self { labels, fields })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches(object.pointer("/metadata/labels")) && self.fields.matches(object)
    }
}

fn list(
    cluster: &Cluster,
    resource: &'static Resource,
    namespace: Option<&str>,
    query: &Query,
    accept: &str,
) -> Result<Response<Body>, ApiError> {
    if resource.review {
        return Err(ApiError::method_not_allowed("list"));
    }
    let selectors = Selectors::from_query(query)?;
    // Chunked lists, as the API server serves them: kube lists in pages, and a client must
    // never have to hold a whole large list in one response.
    let (list_rv, after) = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let (rv, after) = token
                .split_once(':')
                .and_then(|(rv, key)| {
                    let (ns, name) = key.split_once('/')?;
                    Some((rv.parse::<u64>().ok()?, (ns.to_owned(), name.to_owned())))
                })
                .ok_or_else(|| ApiError::bad_request(format!("invalid continue token {token:?}")))?;
            (Some(rv), Some(after))
        }
        None => (None, None),
    };
    let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let (page, rv, last) = cluster.store.list_page(
        resources::index_of(resource),
        namespace,
        |o| selectors.matches(o),
        after,
        limit.unwrap_or(usize::MAX),
    );
    // A continued list keeps the resourceVersion of its first page.
    let list_rv = list_rv.unwrap_or(rv);
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if let Some((ns, name)) = last {
        metadata["continue"] = json!(format!("{list_rv}:{ns}/{name}"));
    }
    Ok(respond(resource, page, accept, query, Some(metadata)))
}

/// A list (when `list_rv` is given) or a single object, as JSON or as a Table for kubectl.
fn respond(
    resource: &Resource,
    items: Vec<Value>,
    accept: &str,
    query: &Query,
    list_metadata: Option<Value>,
) -> Response<Body> {
    let is_list = list_metadata.is_some();
    let metadata = list_metadata.unwrap_or_else(|| json!({}));
    if table::wants_table(accept) {
        let include = query.get("includeObject").unwrap_or("Metadata");
        return ok(&table::table(resource.plural, &items, metadata, jiff::Timestamp::now(), include));
    }
    if is_list {
        ok(&json!({
            "apiVersion": resource.api_version(),
            "kind": format!("{}List", resource.kind),
            "metadata": metadata,
            "items": items,
        }))
    } else {
        items.into_iter().next().map_or_else(|| ok(&json!({})), |item| ok(&item))
    }
}

fn create(
    cluster: &Cluster,
    user: User,
    resource: &'static Resource,
    namespace: Option<&str>,
    mut body: Value,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    match resource.plural {
        "selfsubjectaccessreviews" => return Ok(json_created(&user.review_access(body))),
        "selfsubjectreviews" => return Ok(json_created(&user.review_self(body))),
        _ => {}
    }
    let ns = namespace.unwrap_or("");
    if let Some(body_ns) = body.pointer("/metadata/namespace").and_then(Value::as_str)
        && resource.namespaced
        && body_ns != ns
    {
        return Err(ApiError::bad_request(format!(
            "the namespace of the provided object ({body_ns}) does not match the namespace sent on the request ({ns})"
        )));
    }
    if resource.namespaced && ns.is_empty() {
        return Err(ApiError::method_not_allowed("create without a namespace"));
    }
    ensure_object(&mut body, "metadata").remove("resourceVersion");
    super::admission::admit(
        &cluster.store,
        user,
        "CREATE",
        resources::index_of(resource),
        ns,
        None,
        Some(&body),
    )?;
    let object = cluster.store.create(resources::index_of(resource), ns, body, query.dry_run())?;
    Ok(json_created(&object))
}

fn json_created(value: &Value) -> Response<Body> {
    super::server::json_response(StatusCode::CREATED, value)
}

#[allow(clippy::too_many_arguments)]
fn subresource(
    cluster: &Cluster,
    resource: &'static Resource,
    ns: &str,
    name: &str,
    sub: &str,
    verb: &str,
    body: Option<Bytes>,
    content_type: &str,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let index = resources::index_of(resource);
    let store = &cluster.store;
    let current = store.get(index, ns, name).ok_or_else(|| ApiError::not_found(resource, name))?;
    let body = body.unwrap_or_default();
    let apply = |current: &Value| -> Result<Value, ApiError> {
        if verb == "update" {
            serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
        } else {
            let kind = PatchKind::from_content_type(content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(content_type))?;
            patch::apply(kind, current, &body).map_err(patch_error)
        }
    };
    match (sub, verb) {
        ("status", "get") => Ok(ok(&current)),
        ("status", "patch" | "update") => {
            Ok(ok(&store.update(index, ns, name, WriteMode::Status, query.dry_run(), apply)?))
        }
        ("scale", "get") => Ok(ok(&scale_of(&current))),
        ("scale", "patch" | "update") => {
            let updated = store.update(index, ns, name, WriteMode::Main, query.dry_run(), |current| {
                let scale = apply(&scale_of(current))?;
                if let Some(sent) = scale.pointer("/metadata/resourceVersion")
                    && current.pointer("/metadata/resourceVersion") != Some(sent)
                {
                    return Err(ApiError::conflict(resource, name));
                }
                let replicas =
                    scale.pointer("/spec/replicas").and_then(Value::as_i64).filter(|r| *r >= 0).ok_or_else(
                        || ApiError::invalid(resource, name, "spec.replicas: must be a non-negative integer"),
                    )?;
                let mut next = current.clone();
                ensure_object(&mut next, "spec").insert("replicas".into(), json!(replicas));
                Ok(next)
            })?;
            Ok(ok(&scale_of(&updated)))
        }
        _ => Err(ApiError::method_not_allowed(&format!("{verb} {sub}"))),
    }
}

/// The autoscaling/v1 Scale view of a Deployment or ReplicaSet.
fn scale_of(object: &Value) -> Value {
    let selector = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(",")
        })
        .unwrap_or_default();
    let meta = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}
