//! What the API server's admission does to the objects opsdeck's team records use: an
//! immutable ConfigMap's data cannot change, and — where the shipped `opsdeck-records`
//! ValidatingAdmissionPolicy and its binding are installed — the policy's three rules, evaluated
//! here in Rust as the real server evaluates their CEL: a record names the user who writes it;
//! only `system:masters` changes or deletes one; nobody answers their own approval request.

use serde_json::Value;

use super::auth::User;
use super::errors::ApiError;
use super::resources::{CONFIG_MAPS, RESOURCES, VALIDATING_BINDINGS, VALIDATING_POLICIES};
use super::store::Store;

const POLICY: &str = "opsdeck-records";
const MANIFEST: &str = include_str!("../../../config/kubernetes/opsdeck-records.json");

/// Installs the policy and its binding, as `opsdeck cluster-setup` would.
pub fn install(store: &Store) {
    let list: Value = serde_json::from_str(MANIFEST).unwrap_or_default();
    for item in list["items"].as_array().into_iter().flatten() {
        let index = match item["kind"].as_str() {
            Some("ValidatingAdmissionPolicy") => VALIDATING_POLICIES,
            Some("ValidatingAdmissionPolicyBinding") => VALIDATING_BINDINGS,
            _ => continue,
        };
        let _ = store.create(index, "", item.clone(), false);
    }
}

/// The namespace the installed binding applies the policy in, if both are installed.
fn enforced_in(store: &Store) -> Option<String> {
    store.get(VALIDATING_POLICIES, "", POLICY)?;
    let binding = store.get(VALIDATING_BINDINGS, "", POLICY)?;
    binding
        .pointer("/spec/matchResources/namespaceSelector/matchLabels/kubernetes.io~1metadata.name")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn text<'a>(object: Option<&'a Value>, pointer: &str) -> Option<&'a str> {
    object.and_then(|o| o.pointer(pointer)).and_then(Value::as_str)
}

/// Whether `operation` (CREATE, UPDATE, DELETE) of a ConfigMap by `user` is admitted;
/// `old` and `new` as the server sees them.
pub fn admit(
    store: &Store,
    user: User,
    operation: &str,
    resource: usize,
    namespace: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), ApiError> {
    if resource != CONFIG_MAPS {
        return Ok(());
    }
    let res = &RESOURCES[CONFIG_MAPS];
    let name = text(new.or(old), "/metadata/name").unwrap_or_default().to_owned();
    if operation == "UPDATE"
        && old.and_then(|o| o.get("immutable")).and_then(Value::as_bool) == Some(true)
        && (old.and_then(|o| o.get("data")) != new.and_then(|n| n.get("data"))
            || new.and_then(|n| n.get("immutable")).and_then(Value::as_bool) != Some(true))
    {
        return Err(ApiError::invalid(
            res,
            &name,
            "data: Forbidden: field is immutable when `immutable` is set",
        ));
    }
    let ours =
        |o: Option<&Value>| text(o, "/metadata/labels/app.kubernetes.io~1managed-by") == Some("opsdeck");
    if !(ours(old) || ours(new)) || enforced_in(store).as_deref() != Some(namespace) {
        return Ok(());
    }
    let denied = |message: &str| {
        Err(ApiError::denied(
            res,
            &name,
            format!(
                "configmaps {name:?} is forbidden: ValidatingAdmissionPolicy '{POLICY}' with binding '{POLICY}' denied request: {message}"
            ),
        ))
    };
    let username = user.name();
    if operation == "CREATE" {
        if text(new, "/metadata/annotations/opsdeck.dev~1user") != Some(username) {
            return denied(
                "an opsdeck record must name, in its opsdeck.dev/user annotation, the Kubernetes user who writes it",
            );
        }
        if text(new, "/metadata/labels/opsdeck.dev~1record") == Some("approval")
            && text(new, "/metadata/annotations/opsdeck.dev~1requester").is_none_or(|r| r == username)
        {
            return denied("an approval request cannot be answered by the user who made it");
        }
        return Ok(());
    }
    // The cluster's own controllers (the namespace controller emptying a namespace being
    // deleted) are administrators too; the fleet runs none that act as a user.
    if !user.groups().contains(&"system:masters") {
        return denied(
            "opsdeck records are changed or deleted only by an administrator (system:masters) or the cluster's own controllers (deleting their namespace)",
        );
    }
    Ok(())
}
