//! API errors as the Kubernetes API server reports them: a `Status` object with a reason and
//! code, worded the way kubectl users have seen a thousand times.

use serde_json::{Value, json};

use super::resources::Resource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self { code, reason, message: message.into(), details: None }
    }

    fn about(mut self, res: &Resource, name: &str) -> Self {
        self.details = Some(json!({"name": name, "group": res.group, "kind": res.plural}));
        self
    }

    pub fn not_found(res: &Resource, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{} {name:?} not found", res.qualified())).about(res, name)
    }

    pub fn already_exists(res: &Resource, name: &str) -> Self {
        Self::new(409, "AlreadyExists", format!("{} {name:?} already exists", res.qualified()))
            .about(res, name)
    }

    pub fn conflict(res: &Resource, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {name:?}: the object has been modified; please apply your changes to the latest version and try again",
                res.qualified()
            ),
        )
        .about(res, name)
    }

    pub fn invalid(res: &Resource, name: &str, why: &str) -> Self {
        Self::new(422, "Invalid", format!("{} {name:?} is invalid: {why}", res.qualified())).about(res, name)
    }

    /// Admission said no: a ValidatingAdmissionPolicy's validation with reason Forbidden.
    pub fn denied(res: &Resource, name: &str, message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message).about(res, name)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn forbidden(
        user: &str,
        verb: &str,
        res: &Resource,
        sub: Option<&str>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        // As the server words it: the subresource is part of the resource refused.
        let resource = sub.map_or_else(|| res.plural.to_owned(), |sub| format!("{}/{sub}", res.plural));
        let subject = match name {
            Some(name) => format!("{} {name:?}", res.qualified()),
            None => res.qualified(),
        };
        let place = namespace
            .map_or_else(|| " at the cluster scope".to_owned(), |ns| format!(" in the namespace {ns:?}"));
        Self::new(
            403,
            "Forbidden",
            format!(
                "{subject} is forbidden: User {user:?} cannot {verb} resource {resource:?} in API group {:?}{place}",
                res.group
            ),
        )
        .about(res, name.unwrap_or_default())
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(410, "Expired", format!("too old resource version: {requested} ({oldest})"))
    }

    pub fn method_not_allowed(what: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource: {what}"),
        )
    }

    pub fn path_not_found(path: &str) -> Self {
        Self::new(404, "NotFound", format!("the server could not find the requested resource ({path})"))
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {content_type:?})"
            ),
        )
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// The `Status` object the API server sends with the error.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(details), Some(map)) = (&self.details, status.as_object_mut()) {
            map.insert("details".into(), details.clone());
        }
        status
    }
}
