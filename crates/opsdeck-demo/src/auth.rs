//! Who is calling, and what they may do: an admin and a read-only user, as the RBAC
//! story needs. Access reviews answer from the same rule the handlers enforce.

use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "opsdeck-demo-admin";
pub const READONLY_TOKEN: &str = "opsdeck-demo-readonly";
/// A second person who may change everything, as a release lead would, but is no
/// administrator (not in `system:masters`): the second pair of eyes two-person approval needs.
pub const LEAD_TOKEN: &str = "opsdeck-demo-lead";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Admin,
    ReadOnly,
    Lead,
}

impl User {
    pub fn from_authorization(header: Option<&str>) -> Option<Self> {
        match header?.strip_prefix("Bearer ")?.trim() {
            ADMIN_TOKEN => Some(Self::Admin),
            READONLY_TOKEN => Some(Self::ReadOnly),
            LEAD_TOKEN => Some(Self::Lead),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Admin => "demo-admin",
            Self::ReadOnly => "demo-readonly",
            Self::Lead => "demo-lead",
        }
    }

    pub fn groups(self) -> Vec<&'static str> {
        match self {
            Self::Lead => vec!["opsdeck:release-leads", "system:authenticated"],
            Self::Admin => vec!["system:masters", "system:authenticated"],
            Self::ReadOnly => vec!["opsdeck:readonly", "system:authenticated"],
        }
    }

    /// The one rule: the admin and the lead may do anything RBAC grants (admission may still
    /// refuse the lead); the read-only user may read, and ask who it is and what it may do.
    pub fn may(self, verb: &str, resource: &str) -> bool {
        match self {
            Self::Admin | Self::Lead => true,
            Self::ReadOnly => {
                matches!(verb, "get" | "list" | "watch")
                    || (verb == "create"
                        && matches!(resource, "selfsubjectaccessreviews" | "selfsubjectreviews"))
            }
        }
    }

    /// Fills a SelfSubjectAccessReview's status.
    pub fn review_access(self, mut review: Value) -> Value {
        let attrs = review.pointer("/spec/resourceAttributes").cloned().unwrap_or(Value::Null);
        let verb = attrs
            .get("verb")
            .or_else(|| review.pointer("/spec/nonResourceAttributes/verb"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let resource = attrs.get("resource").and_then(Value::as_str).unwrap_or("");
        let allowed = self.may(verb, resource);
        let mut status = json!({"allowed": allowed});
        if !allowed && let Some(map) = status.as_object_mut() {
            map.insert(
                "reason".into(),
                json!(format!("user {:?} may only read in the opsdeck demo fleet", self.name())),
            );
        }
        if let Some(map) = review.as_object_mut() {
            map.insert("status".into(), status);
        }
        review
    }

    /// Fills a SelfSubjectReview's status (`kubectl auth whoami`).
    pub fn review_self(self, mut review: Value) -> Value {
        if let Some(map) = review.as_object_mut() {
            map.insert(
                "status".into(),
                json!({"userInfo": {"username": self.name(), "groups": self.groups()}}),
            );
        }
        review
    }
}
