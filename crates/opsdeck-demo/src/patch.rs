//! Applies the bodies of PATCH requests: JSON merge patch, JSON patch and Kubernetes' strategic merge patch.

use serde_json::{Map, Value};

/// The three patch formats the Kubernetes API accepts, told apart by the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Json,
    Strategic,
}

impl PatchKind {
    /// From a Content-Type header value; parameters like `; charset=utf-8` are ignored.
    #[must_use]
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        [
            ("application/merge-patch+json", Self::Merge),
            ("application/json-patch+json", Self::Json),
            ("application/strategic-merge-patch+json", Self::Strategic),
        ]
        .into_iter()
        .find(|(name, _)| media_type.eq_ignore_ascii_case(name))
        .map(|(_, kind)| kind)
    }
}

#[derive(Debug, PartialEq)]
pub enum PatchError {
    /// The body is not valid for its type (bad JSON, not an object for merge, bad op): HTTP 400.
    BadRequest(String),
    /// The patch is well-formed but does not apply (a JSON-patch `test` op failed, a path missing): HTTP 422.
    Unprocessable(String),
}

/// Applies `patch` to a copy of `target`.
///
/// # Errors
/// [`PatchError::BadRequest`] when the body is malformed for its kind, [`PatchError::Unprocessable`] when
/// a well-formed JSON patch does not apply to `target`.
pub fn apply(kind: PatchKind, target: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    match kind {
        PatchKind::Merge => {
            let patch = parse_object(patch)?;
            let mut result = target.clone();
            json_patch::merge(&mut result, &patch);
            Ok(result)
        }
        PatchKind::Json => {
            let operations: json_patch::Patch = serde_json::from_slice(patch)
                .map_err(|e| PatchError::BadRequest(format!("invalid JSON patch: {e}")))?;
            let mut result = target.clone();
            json_patch::patch(&mut result, &operations).map_err(|e| {
                let at = format!("operation {} at path {:?}", e.operation, e.path.as_str());
                PatchError::Unprocessable(match e.kind {
                    json_patch::PatchErrorKind::TestFailed => {
                        format!("test operation failed: {at}: {}", e.kind)
                    }
                    _ => format!("the patch does not apply: {at}: {}", e.kind),
                })
            })?;
            Ok(result)
        }
        PatchKind::Strategic => {
            let Value::Object(patch) = parse_object(patch)? else {
                return Err(bad("the patch must be a JSON object"));
            };
            let base = match target {
                Value::Object(map) => map.clone(),
                _ => Map::new(),
            };
            match directive(&patch)? {
                // Kubernetes would go on with an empty object and fail its validation; fail earlier.
                Some(Directive::Delete) => Err(bad("$patch: delete cannot remove the whole object")),
                Some(Directive::Replace) => merge_map(Map::new(), &patch).map(Value::Object),
                None => merge_map(base, &patch).map(Value::Object),
            }
        }
    }
}

fn parse_object(body: &[u8]) -> Result<Value, PatchError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| PatchError::BadRequest(format!("the patch is not valid JSON: {e}")))?;
    if value.is_object() { Ok(value) } else { Err(bad("the patch must be a JSON object")) }
}

fn bad(message: impl Into<String>) -> PatchError {
    PatchError::BadRequest(message.into())
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

enum Directive {
    Replace,
    Delete,
}

fn directive(map: &Map<String, Value>) -> Result<Option<Directive>, PatchError> {
    match map.get(DIRECTIVE) {
        None => Ok(None),
        Some(Value::String(s)) if s == "replace" => Ok(Some(Directive::Replace)),
        Some(Value::String(s)) if s == "delete" => Ok(Some(Directive::Delete)),
        Some(other) => Err(bad(format!("unknown $patch directive {other} in a map"))),
    }
}

/// How the strategic merge patch combines a list, which Kubernetes takes from struct tags of its API types;
/// this table covers the fields kubectl and opsdeck patch.
enum ListStrategy {
    Replace,
    Set,
    Key(&'static str),
}

fn list_strategy(field: &str, patch: &[Value]) -> ListStrategy {
    match field {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            ListStrategy::Key("name")
        }
        "hostAliases" => ListStrategy::Key("ip"),
        "ownerReferences" => ListStrategy::Key("uid"),
        // Service ports are keyed by `port`, container ports by `containerPort`; only the elements tell which.
        "ports" if patch.iter().all(|p| p.get("containerPort").is_none() && p.get("port").is_some()) => {
            ListStrategy::Key("port")
        }
        "ports" => ListStrategy::Key("containerPort"),
        "volumeMounts" => ListStrategy::Key("mountPath"),
        "volumeDevices" => ListStrategy::Key("devicePath"),
        "conditions" => ListStrategy::Key("type"),
        "topologySpreadConstraints" => ListStrategy::Key("topologyKey"),
        "finalizers" => ListStrategy::Set,
        _ => ListStrategy::Replace,
    }
}

/// A field's patched value, or `None` when the patch removes it.
fn merge_value(original: Option<Value>, patch: &Value, field: &str) -> Result<Option<Value>, PatchError> {
    match patch {
        Value::Null => Ok(None),
        Value::Object(map) => {
            let base = match (directive(map)?, original) {
                // Kubernetes leaves `{}` behind; a client asking to delete a map means the field to go.
                (Some(Directive::Delete), _) => return Ok(None),
                (None, Some(Value::Object(base))) => base,
                _ => Map::new(),
            };
            merge_map(base, map).map(|m| Some(Value::Object(m)))
        }
        Value::Array(items) => {
            let base = match original {
                Some(Value::Array(base)) => base,
                _ => Vec::new(),
            };
            merge_list(base, items, field).map(|l| Some(Value::Array(l)))
        }
        scalar => Ok(Some(scalar.clone())),
    }
}

/// Merges a patch map whose own `$patch` directive the caller has already acted on.
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let keys = retain
            .as_array()
            .and_then(|keys| keys.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
            .ok_or_else(|| bad("$retainKeys must be a list of strings"))?;
        if let Some(key) = patch.keys().find(|k| !k.starts_with('$') && !keys.contains(&k.as_str())) {
            return Err(bad(format!("the patch sets {key:?}, which is not in its $retainKeys")));
        }
        original.retain(|k, _| keys.contains(&k.as_str()));
    }
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let doomed = value.as_array().ok_or_else(|| bad(format!("{key} must be a list")))?;
            if let Some(Value::Array(list)) = original.get_mut(field) {
                list.retain(|item| !doomed.contains(item));
            }
        }
    }
    for (key, value) in patch {
        if key == DIRECTIVE
            || key == RETAIN_KEYS
            || key.starts_with(SET_ELEMENT_ORDER)
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
        {
            continue;
        }
        let current = original.remove(key);
        if let Some(merged) = merge_value(current, value, key)? {
            original.insert(key.clone(), merged);
        }
    }
    Ok(original)
}

fn merge_list(original: Vec<Value>, patch: &[Value], field: &str) -> Result<Vec<Value>, PatchError> {
    let mut replace = false;
    let mut deletions = Vec::new();
    let mut items = Vec::new();
    for item in patch {
        match item.get(DIRECTIVE) {
            None => items.push(item),
            Some(Value::String(s)) if s == "replace" => replace = true,
            Some(Value::String(s)) if s == "delete" => deletions.push(item),
            Some(other) => return Err(bad(format!("unknown $patch directive {other} in list {field}"))),
        }
    }
    let strategy = if replace { ListStrategy::Replace } else { list_strategy(field, patch) };
    match strategy {
        ListStrategy::Replace => {
            // Only nulls and `$patch` elements come back as `None`, and the latter are already gone.
            items.into_iter().map(|item| Ok(merge_value(None, item, field)?.unwrap_or(Value::Null))).collect()
        }
        ListStrategy::Set => {
            let server_order = original.clone();
            let mut merged: Vec<Value> = Vec::new();
            for item in original.into_iter().chain(items.iter().map(|&i| i.clone())) {
                if !merged.contains(&item) {
                    merged.push(item);
                }
            }
            let patch_order: Vec<Value> = items.into_iter().cloned().collect();
            Ok(interleave(merged, &patch_order, &server_order, |item| Some(item)))
        }
        ListStrategy::Key(key) => merge_keyed(original, &items, &deletions, field, key),
    }
}

fn merge_keyed(
    mut original: Vec<Value>,
    items: &[&Value],
    deletions: &[&Value],
    field: &str,
    key: &str,
) -> Result<Vec<Value>, PatchError> {
    let missing_key = |item: &Value| bad(format!("an element of {field} has no merge key {key:?}: {item}"));
    for &doomed in deletions {
        let id = doomed.get(key).ok_or_else(|| missing_key(doomed))?;
        original.retain(|o| o.get(key) != Some(id));
    }
    let server_order: Vec<Value> = original.iter().filter_map(|o| o.get(key).cloned()).collect();
    let mut patch_order = Vec::new();
    for &item in items {
        let patch =
            item.as_object().ok_or_else(|| bad(format!("the elements of {field} must be objects")))?;
        let id = patch.get(key).ok_or_else(|| missing_key(item))?;
        patch_order.push(id.clone());
        match original.iter_mut().find(|o| o.get(key) == Some(id)) {
            Some(slot) => {
                let base = match slot.take() {
                    Value::Object(base) => base,
                    _ => Map::new(),
                };
                *slot = Value::Object(merge_map(base, patch)?);
            }
            None => original.push(Value::Object(merge_map(Map::new(), patch)?)),
        }
    }
    Ok(interleave(original, &patch_order, &server_order, |o| o.get(key)))
}

/// Orders a merged list the way Kubernetes does: patched elements in patch order, each untouched server
/// element kept before them only where it preceded them on the server, so new elements come first.
fn interleave(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    id: impl Fn(&Value) -> Option<&Value>,
) -> Vec<Value> {
    let position = |order: &[Value], item: &Value| id(item).and_then(|i| order.iter().position(|o| o == i));
    let (mut patched, server_only): (Vec<Value>, Vec<Value>) =
        merged.into_iter().partition(|item| position(patch_order, item).is_some());
    patched.sort_by_key(|item| position(patch_order, item));
    let mut out = Vec::with_capacity(patched.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patched.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => {
                matches!((position(server_order, l), position(server_order, r)), (Some(a), Some(b)) if a < b)
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        out.extend(if take_left { left.next() } else { right.next() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strategic(target: &Value, patch: &Value) -> Value {
        apply(PatchKind::Strategic, target, patch.to_string().as_bytes()).unwrap()
    }

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "web", "finalizers": ["a"]},
            "spec": {"replicas": 2, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                    {"name": "sidecar", "image": "proxy:1"},
                ]},
            }},
        })
    }

    #[test]
    fn content_types() {
        assert_eq!(PatchKind::from_content_type("application/merge-patch+json"), Some(PatchKind::Merge));
        assert_eq!(
            PatchKind::from_content_type("application/json-patch+json; charset=utf-8"),
            Some(PatchKind::Json)
        );
        assert_eq!(
            PatchKind::from_content_type("application/strategic-merge-patch+json;charset=UTF-8"),
            Some(PatchKind::Strategic)
        );
        assert_eq!(PatchKind::from_content_type("application/apply-patch+yaml"), None);
        assert_eq!(PatchKind::from_content_type("application/json"), None);
    }

    #[test]
    fn merge_patch_merges_and_deletes_with_null() {
        let target = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": [1, 2]}});
        let patch = br#"{"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"x": [3]}}"#;
        let result = apply(PatchKind::Merge, &target, patch).unwrap();
        assert_eq!(result, json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"x": [3]}}));
    }

    #[test]
    fn merge_patch_rejects_non_objects_and_bad_json() {
        assert!(matches!(apply(PatchKind::Merge, &json!({}), b"[1]"), Err(PatchError::BadRequest(_))));
        assert!(matches!(apply(PatchKind::Merge, &json!({}), b"{"), Err(PatchError::BadRequest(_))));
        assert!(matches!(apply(PatchKind::Strategic, &json!({}), b"\"x\""), Err(PatchError::BadRequest(_))));
    }

    #[test]
    fn json_patch_with_passing_test() {
        let patch = br#"[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":5}]"#;
        let result = apply(PatchKind::Json, &deployment(), patch).unwrap();
        assert_eq!(result.pointer("/spec/replicas"), Some(&json!(5)));
    }

    #[test]
    fn json_patch_failures() {
        let failed = br#"[{"op":"test","path":"/spec/replicas","value":3},{"op":"remove","path":"/spec"}]"#;
        match apply(PatchKind::Json, &deployment(), failed) {
            Err(PatchError::Unprocessable(message)) => {
                assert!(message.contains("test operation"), "{message}");
            }
            other => panic!("expected 422, got {other:?}"),
        }
        let missing = br#"[{"op":"remove","path":"/spec/nope"}]"#;
        assert!(matches!(apply(PatchKind::Json, &deployment(), missing), Err(PatchError::Unprocessable(_))));
        let bad_op = br#"[{"op":"frobnicate","path":"/spec"}]"#;
        assert!(matches!(apply(PatchKind::Json, &deployment(), bad_op), Err(PatchError::BadRequest(_))));
        assert!(matches!(apply(PatchKind::Json, &deployment(), b"{}"), Err(PatchError::BadRequest(_))));
    }

    #[test]
    fn strategic_updates_one_container_and_keeps_the_other() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "proxy:2"}]}}}});
        let result = strategic(&deployment(), &patch);
        let containers = result.pointer("/spec/template/spec/containers").unwrap();
        assert_eq!(
            containers,
            &json!([
                {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "proxy:2"},
            ])
        );
    }

    #[test]
    fn strategic_adds_env_var_by_name() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "9"}]}
        ]}}}});
        let result = strategic(&deployment(), &patch);
        let env = result.pointer("/spec/template/spec/containers/0/env").unwrap();
        assert_eq!(env, &json!([{"name": "B", "value": "2"}, {"name": "A", "value": "9"}]));
        assert_eq!(result.pointer("/spec/template/spec/containers/0/image"), Some(&json!("app:1")));
        assert_eq!(result.pointer("/spec/template/spec/containers/1/name"), Some(&json!("sidecar")));
    }

    #[test]
    fn strategic_deletes_a_container() {
        let patch =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "$patch": "delete"}]}}}});
        let result = strategic(&deployment(), &patch);
        assert_eq!(
            result.pointer("/spec/template/spec/containers"),
            Some(&json!([{"name": "sidecar", "image": "proxy:1"}]))
        );
        let no_key = json!({"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}});
        let body = no_key.to_string();
        assert!(matches!(
            apply(PatchKind::Strategic, &deployment(), body.as_bytes()),
            Err(PatchError::BadRequest(_))
        ));
    }

    #[test]
    fn strategic_rollout_restart_pause_and_scale() {
        let restart: &[u8] = br#"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-21T10:00:00Z"}}}}}"#;
        let result = apply(PatchKind::Strategic, &deployment(), restart).unwrap();
        assert_eq!(
            result.pointer("/spec/template/metadata"),
            Some(&json!({
                "labels": {"app": "web"},
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-21T10:00:00Z"},
            }))
        );
        assert_eq!(result.pointer("/spec/template/spec/containers/1/image"), Some(&json!("proxy:1")));
        let paused = strategic(&result, &json!({"spec": {"paused": true}}));
        assert_eq!(paused.pointer("/spec/paused"), Some(&json!(true)));
        assert_eq!(paused.pointer("/spec/template"), result.pointer("/spec/template"));
        let scaled = strategic(&paused, &json!({"spec": {"replicas": 0}}));
        assert_eq!(scaled.pointer("/spec/replicas"), Some(&json!(0)));
    }

    #[test]
    fn strategic_strips_set_element_order_and_deletes_from_primitive_list() {
        let patch = json!({
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["b"]},
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                "containers": [{"name": "app", "image": "app:2"}],
            }}},
        });
        let result = strategic(&deployment(), &patch);
        assert_eq!(result.pointer("/metadata/finalizers"), Some(&json!(["b"])));
        let spec = result.pointer("/spec/template/spec").unwrap();
        assert_eq!(spec.as_object().unwrap().keys().collect::<Vec<_>>(), ["containers"]);
        assert_eq!(spec.pointer("/containers/0/image"), Some(&json!("app:2")));
        assert_eq!(spec.pointer("/containers/1/image"), Some(&json!("proxy:1")));
    }

    #[test]
    fn strategic_finalizers_union_and_list_replace() {
        let result = strategic(&deployment(), &json!({"metadata": {"finalizers": ["a", "b"]}}));
        assert_eq!(result.pointer("/metadata/finalizers"), Some(&json!(["a", "b"])));
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only"}]}}}});
        let result = strategic(&deployment(), &patch);
        assert_eq!(result.pointer("/spec/template/spec/containers"), Some(&json!([{"name": "only"}])));
    }

    #[test]
    fn strategic_map_directives() {
        let replace =
            json!({"spec": {"template": {"metadata": {"$patch": "replace", "labels": {"v": "2"}}}}});
        let result = strategic(&deployment(), &replace);
        assert_eq!(result.pointer("/spec/template/metadata"), Some(&json!({"labels": {"v": "2"}})));
        let delete = json!({"spec": {"template": {"metadata": {"$patch": "delete"}}}});
        assert_eq!(strategic(&deployment(), &delete).pointer("/spec/template/metadata"), None);
        let retain = json!({"spec": {"$retainKeys": ["replicas", "paused"], "paused": false}});
        assert_eq!(
            strategic(&deployment(), &retain).pointer("/spec"),
            Some(&json!({"replicas": 2, "paused": false}))
        );
        let bogus = br#"{"spec": {"$patch": "explode"}}"#;
        assert!(matches!(apply(PatchKind::Strategic, &deployment(), bogus), Err(PatchError::BadRequest(_))));
    }

    #[test]
    fn strategic_new_list_strips_directives_and_nulls() {
        let patch = json!({"spec": {"volumes": [{"name": "v", "emptyDir": {}, "x": null, "$patch": "delete"}, {"name": "w", "x": null}]}});
        assert_eq!(strategic(&json!({}), &patch), json!({"spec": {"volumes": [{"name": "w"}]}}));
    }
}
