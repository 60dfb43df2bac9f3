//! One cluster's objects: resourceVersions, generations, a bounded log of changes for watches
//! that resume, and a broadcast for watches that are live.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::errors::ApiError;
use super::resources::{RESOURCES, Resource};

/// Changes kept for watches resuming from an older resourceVersion; older ones get 410 Gone.
pub const LOG_CAPACITY: usize = 10_000;
const BROADCAST_CAPACITY: usize = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// A change to one object, as watchers see it.
#[derive(Debug)]
pub struct WatchEvent {
    pub rv: u64,
    pub kind: EventType,
    pub resource: usize,
    pub namespace: String,
    pub object: Value,
}

/// How a replace treats the parts of an object a subresource owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The object itself: status changes are ignored where a status subresource exists.
    Main,
    /// The status subresource: only status changes.
    Status,
    /// The fleet's own controllers: everything changes.
    Internal,
}

/// A watch's start: the logged changes after its version, and the live feed.
pub type WatchStart = (Vec<Arc<WatchEvent>>, broadcast::Receiver<Arc<WatchEvent>>);

/// The result of a write: the stored (or, for a dry run, the would-be) object.
pub type WriteResult = Result<Value, ApiError>;

#[derive(Debug)]
struct Inner {
    rv: u64,
    uid_seq: u64,
    /// Per resource (index into RESOURCES): (namespace, name) → object.
    tables: Vec<BTreeMap<(String, String), Value>>,
    log: VecDeque<Arc<WatchEvent>>,
    /// Watches may resume from any resourceVersion at or above this one.
    oldest_resumable: u64,
}

#[derive(Debug)]
pub struct Store {
    /// Distinguishes uids between the fleet's clusters.
    cluster: u8,
    log_capacity: usize,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<WatchEvent>>,
}

pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn meta(object: &Value, field: &str) -> Option<String> {
    object.pointer(&format!("/metadata/{field}")).and_then(Value::as_str).map(str::to_owned)
}

impl Store {
    pub fn new(cluster: u8, log_capacity: usize) -> Arc<Self> {
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        Arc::new(Self {
            cluster,
            log_capacity: log_capacity.max(1),
            inner: Mutex::new(Inner {
                rv: 1000,
                uid_seq: 0,
                tables: RESOURCES.iter().map(|_| BTreeMap::new()).collect(),
                log: VecDeque::new(),
                oldest_resumable: 1000,
            }),
            tx,
        })
    }

    /// The store's resourceVersion: it moves on every change to any object.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every write is one insert), so
        // a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Objects of `resource` (in `namespace`, or all) that pass `filter`, and the list's RV.
    pub fn list(
        &self,
        resource: usize,
        namespace: Option<&str>,
        filter: impl Fn(&Value) -> bool,
    ) -> (Vec<Value>, u64) {
        let (items, rv, _) = self.list_page(resource, namespace, filter, None, usize::MAX);
        (items, rv)
    }

    /// Up to `limit` matching objects whose key comes after `after`, the store's
    /// resourceVersion, and the key of the last one when more may follow. Like the API server's
    /// continue token, the position is a key, not an offset: a page costs what it holds, not
    /// what precedes it.
    pub fn list_page(
        &self,
        resource: usize,
        namespace: Option<&str>,
        filter: impl Fn(&Value) -> bool,
        after: Option<(String, String)>,
        limit: usize,
    ) -> (Vec<Value>, u64, Option<(String, String)>) {
        use std::ops::Bound;
        let inner = self.lock();
        let table = &inner.tables[resource];
        let start = match (after, namespace) {
            (Some(key), _) => Bound::Excluded(key),
            (None, Some(ns)) => Bound::Included((ns.to_owned(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let mut items = Vec::new();
        let mut last = None;
        for ((ns, name), object) in table.range((start, Bound::Unbounded)) {
            if namespace.is_some_and(|wanted| wanted != ns) {
                break;
            }
            if !filter(object) {
                continue;
            }
            if items.len() == limit {
                return (items, inner.rv, last);
            }
            items.push(object.clone());
            last = Some((ns.clone(), name.clone()));
        }
        (items, inner.rv, None)
    }

    /// The (namespace, name) of every object of `resource`, without copying the objects.
    pub fn keys(&self, resource: usize) -> Vec<(String, String)> {
        self.lock().tables[resource].keys().cloned().collect()
    }

    pub fn get(&self, resource: usize, namespace: &str, name: &str) -> Option<Value> {
        self.lock().tables[resource].get(&(namespace.to_owned(), name.to_owned())).cloned()
    }

    /// Stores a new object, filling the metadata the server owns.
    pub fn create(&self, resource: usize, namespace: &str, mut object: Value, dry_run: bool) -> WriteResult {
        let res = &RESOURCES[resource];
        let mut inner = self.lock();
        inner.uid_seq += 1;
        let seq = inner.uid_seq;
        let name = match meta(&object, "name").filter(|n| !n.is_empty()) {
            Some(name) => name,
            None => match meta(&object, "generateName") {
                Some(prefix) => format!("{prefix}{}", suffix(seq)),
                None => {
                    return Err(ApiError::invalid(
                        res,
                        "",
                        "metadata.name: Required value: name or generateName is required",
                    ));
                }
            },
        };
        let key = (namespace.to_owned(), name.clone());
        if inner.tables[resource].contains_key(&key) {
            return Err(ApiError::already_exists(res, &name));
        }
        let rv = inner.rv + 1;
        let object_meta = ensure_object(&mut object, "metadata");
        object_meta.insert("name".into(), json!(name));
        if res.namespaced {
            object_meta.insert("namespace".into(), json!(namespace));
        }
        object_meta.insert("uid".into(), json!(format!("{:08x}-0000-4000-8000-{seq:012x}", self.cluster)));
        object_meta.entry("creationTimestamp").or_insert_with(|| json!(now_rfc3339()));
        object_meta.insert("resourceVersion".into(), json!(rv.to_string()));
        if object.get("spec").is_some() {
            ensure_object(&mut object, "metadata").insert("generation".into(), json!(1));
        }
        super::defaults::apply(resource, &mut object);
        let object = with_type_meta(res, object);
        if dry_run {
            return Ok(object);
        }
        inner.rv = rv;
        inner.tables[resource].insert(key, object.clone());
        self.publish(&mut inner, EventType::Added, resource, namespace, &object);
        Ok(object)
    }

    /// Replaces an object with what `change` makes of the current one, under one lock so no
    /// other write lands in between. A `metadata.resourceVersion` in the result that differs
    /// from the stored one is a stale write: 409 Conflict, nothing stored.
    pub fn update(
        &self,
        resource: usize,
        namespace: &str,
        name: &str,
        mode: WriteMode,
        dry_run: bool,
        change: impl FnOnce(&Value) -> WriteResult,
    ) -> WriteResult {
        let res = &RESOURCES[resource];
        let mut inner = self.lock();
        let key = (namespace.to_owned(), name.to_owned());
        let Some(current) = inner.tables[resource].get(&key) else {
            return Err(ApiError::not_found(res, name));
        };
        let mut next = change(current)?;
        let current_rv = meta(current, "resourceVersion");
        if let Some(sent) = meta(&next, "resourceVersion").filter(|rv| !rv.is_empty())
            && Some(&sent) != current_rv.as_ref()
        {
            return Err(ApiError::conflict(res, name));
        }
        if meta(&next, "name").is_some_and(|n| n != name) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta(&next, "name").unwrap_or_default()
            )));
        }
        merge_owned_parts(res, mode, current, &mut next);
        super::defaults::apply(resource, &mut next);
        if next == *current {
            return Ok(current.clone());
        }
        let rv = inner.rv + 1;
        let generation = current.pointer("/metadata/generation").and_then(Value::as_i64);
        let spec_changed = current.get("spec") != next.get("spec");
        let next_meta = ensure_object(&mut next, "metadata");
        next_meta.insert("resourceVersion".into(), json!(rv.to_string()));
        if let Some(generation) = generation {
            next_meta
                .insert("generation".into(), json!(if spec_changed { generation + 1 } else { generation }));
        }
        let next = with_type_meta(res, next);
        if dry_run {
            return Ok(next);
        }
        inner.rv = rv;
        inner.tables[resource].insert(key, next.clone());
        self.publish(&mut inner, EventType::Modified, resource, namespace, &next);
        Ok(next)
    }

    /// The fleet's own write: `change` edits the object in place; nothing is written when it
    /// changes nothing. Returns the object as stored, or `None` when it does not exist.
    pub fn mutate(
        &self,
        resource: usize,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        self.update(resource, namespace, name, WriteMode::Internal, false, |current| {
            let mut next = current.clone();
            change(&mut next);
            Ok(next)
        })
        .ok()
    }

    pub fn delete(&self, resource: usize, namespace: &str, name: &str, dry_run: bool) -> WriteResult {
        let res = &RESOURCES[resource];
        let mut inner = self.lock();
        let key = (namespace.to_owned(), name.to_owned());
        let Some(current) = inner.tables[resource].get(&key).cloned() else {
            return Err(ApiError::not_found(res, name));
        };
        if dry_run {
            return Ok(current);
        }
        inner.tables[resource].remove(&key);
        inner.rv += 1;
        let mut gone = current;
        let rv = inner.rv;
        ensure_object(&mut gone, "metadata").insert("resourceVersion".into(), json!(rv.to_string()));
        self.publish(&mut inner, EventType::Deleted, resource, namespace, &gone);
        Ok(gone)
    }

    fn publish(&self, inner: &mut Inner, kind: EventType, resource: usize, namespace: &str, object: &Value) {
        let event = Arc::new(WatchEvent {
            rv: inner.rv,
            kind,
            resource,
            namespace: namespace.to_owned(),
            object: object.clone(),
        });
        inner.log.push_back(event.clone());
        while inner.log.len() > self.log_capacity {
            if let Some(old) = inner.log.pop_front() {
                inner.oldest_resumable = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(event);
    }

    /// Starts a watch from `rv`: the logged changes after it, and a receiver for the rest, taken
    /// under one lock so nothing falls between the two. `Err(oldest)` when `rv` is compacted.
    pub fn watch_from(&self, rv: u64) -> Result<WatchStart, u64> {
        let inner = self.lock();
        if rv < inner.oldest_resumable {
            return Err(inner.oldest_resumable);
        }
        let backlog = inner.log.iter().filter(|e| e.rv > rv).cloned().collect();
        Ok((backlog, self.tx.subscribe()))
    }
}

/// Copies over the parts of the object the write may not change.
fn merge_owned_parts(res: &Resource, mode: WriteMode, current: &Value, next: &mut Value) {
    let has_status = res.subresources.contains(&"status");
    match mode {
        WriteMode::Main if has_status => match current.get("status") {
            Some(status) => {
                ensure_root(next).insert("status".into(), status.clone());
            }
            None => {
                ensure_root(next).remove("status");
            }
        },
        WriteMode::Internal | WriteMode::Main => {}
        WriteMode::Status => {
            let status = next.get("status").cloned();
            *next = current.clone();
            if let Some(status) = status {
                ensure_root(next).insert("status".into(), status);
            }
        }
    }
    // Identity and history are the server's.
    for field in ["uid", "creationTimestamp", "namespace", "name", "generation"] {
        match current.pointer(&format!("/metadata/{field}")) {
            Some(value) => {
                ensure_object(next, "metadata").insert(field.into(), value.clone());
            }
            None => {
                ensure_object(next, "metadata").remove(field);
            }
        }
    }
    if let Some(rv) = current.pointer("/metadata/resourceVersion") {
        ensure_object(next, "metadata").insert("resourceVersion".into(), rv.clone());
    }
}

fn ensure_root(value: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !value.is_object() {
        *value = json!({});
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// The object at `field` of `value`, created (or replaced, if not an object) as needed.
pub fn ensure_object<'a>(value: &'a mut Value, field: &str) -> &'a mut serde_json::Map<String, Value> {
    object_in(ensure_root(value), field)
}

/// The same, one level down: the object at `field` of `map`.
pub fn object_in<'a>(
    map: &'a mut serde_json::Map<String, Value>,
    field: &str,
) -> &'a mut serde_json::Map<String, Value> {
    let slot = map.entry(field.to_owned()).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// The API server stores typed objects, so a null it was sent never comes back.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn with_type_meta(res: &Resource, mut object: Value) -> Value {
    strip_nulls(&mut object);
    let root = ensure_root(&mut object);
    root.insert("apiVersion".into(), json!(res.api_version()));
    root.insert("kind".into(), json!(res.kind));
    object
}

/// Five lowercase alphanumerics, the shape of Kubernetes' generated name suffixes.
pub fn suffix(seq: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    // Multiplying by an odd constant spreads consecutive numbers over the whole space.
    let mut n = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}
