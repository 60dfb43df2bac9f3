//! One shared record as a ConfigMap: `immutable: true`, labels to find it by (kind, env, app,
//! operation, version, what it answers), the user it claims to be written by in an annotation
//! the admission policy compares with the requesting user, and the record as JSON.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "opsdeck");
pub const RECORD_LABEL: &str = "opsdeck.dev/record";
const ENV_LABEL: &str = "opsdeck.dev/env";
const APP_LABEL: &str = "opsdeck.dev/app";
const OPERATION_LABEL: &str = "opsdeck.dev/operation";
const VERSION_LABEL: &str = "opsdeck.dev/version";
/// The request an answer answers, the run a signature signs, the approval a write used.
const FOR_LABEL: &str = "opsdeck.dev/for";
/// The Kubernetes user the record says wrote it; the policy holds it to the requesting user.
pub const USER_ANNOTATION: &str = "opsdeck.dev/user";
/// On an approval: who asked for it, so the policy can refuse the requester's own approval.
pub const REQUESTER_ANNOTATION: &str = "opsdeck.dev/requester";
pub const DATA_KEY: &str = "record.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An audit record, intent or result.
    Audit,
    /// A signed checklist run.
    Checklist,
    /// A further signature on a checklist run.
    Signoff,
    /// A request for a second user's approval.
    Request,
    /// An approval or a denial of a request.
    Answer,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Self::Audit => "audit",
            Self::Checklist => "checklist",
            Self::Signoff => "signoff",
            Self::Request => "request",
            Self::Answer => "approval",
        }
    }

    fn of_word(word: &str) -> Option<Self> {
        [Self::Audit, Self::Checklist, Self::Signoff, Self::Request, Self::Answer]
            .into_iter()
            .find(|k| k.word() == word)
    }

    /// The label selector that lists this kind of record.
    pub fn selector(self) -> String {
        format!("{}={},{RECORD_LABEL}={}", MANAGED_BY.0, MANAGED_BY.1, self.word())
    }
}

/// A record as the cluster keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    pub kind: Kind,
    /// Unique per record: the object's name is made from it.
    pub id: String,
    /// The Kubernetes user who wrote it.
    pub user: String,
    pub env: String,
    pub app: Option<String>,
    pub operation: Option<String>,
    pub version: Option<String>,
    /// What it answers or signs: a request id, a checklist run.
    pub about: Option<String>,
    /// On an answer: who made the request.
    pub requester: Option<String>,
    pub payload: Value,
    /// Set by the API server when it stored the record: the one clock every console agrees on.
    pub created: Option<jiff::Timestamp>,
}

impl Shared {
    pub fn new(
        kind: Kind,
        id: impl Into<String>,
        user: impl Into<String>,
        env: impl Into<String>,
        payload: Value,
    ) -> Self {
        Self {
            kind,
            id: id.into(),
            user: user.into(),
            env: env.into(),
            app: None,
            operation: None,
            version: None,
            about: None,
            requester: None,
            payload,
            created: None,
        }
    }

    /// The team's copy of an audit record; intent and result are two records.
    pub fn audit(record: &crate::audit::Record) -> Self {
        let phase = match record.phase {
            crate::audit::Phase::Intent => "intent",
            crate::audit::Phase::Result => "result",
        };
        let payload = serde_json::to_value(record).unwrap_or(Value::Null);
        let mut shared = Self::new(
            Kind::Audit,
            format!("{}-{phase}", record.id),
            record.user.clone(),
            record.env.clone(),
            payload,
        );
        shared.app.clone_from(&record.app);
        shared.operation = Some(record.operation.clone());
        shared.about.clone_from(&record.approval_request);
        shared
    }

    pub fn name(&self) -> String {
        object_name(self.kind, &self.id)
    }

    pub fn to_config_map(&self, namespace: &str) -> ConfigMap {
        let mut labels = BTreeMap::from([
            (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
            (RECORD_LABEL.to_owned(), self.kind.word().to_owned()),
            (ENV_LABEL.to_owned(), label_value(&self.env)),
        ]);
        for (key, value) in [
            (APP_LABEL, &self.app),
            (OPERATION_LABEL, &self.operation),
            (VERSION_LABEL, &self.version),
            (FOR_LABEL, &self.about),
        ] {
            if let Some(value) = value {
                labels.insert(key.to_owned(), label_value(value));
            }
        }
        let mut annotations = BTreeMap::from([(USER_ANNOTATION.to_owned(), self.user.clone())]);
        if let Some(requester) = &self.requester {
            annotations.insert(REQUESTER_ANNOTATION.to_owned(), requester.clone());
        }
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(self.name()),
                namespace: Some(namespace.to_owned()),
                labels: Some(labels),
                annotations: Some(annotations),
                ..ObjectMeta::default()
            },
            immutable: Some(true),
            data: Some(BTreeMap::from([(DATA_KEY.to_owned(), self.payload.to_string())])),
            ..ConfigMap::default()
        }
    }

    /// The record a ConfigMap holds; `Err` says why it is not one of ours, or not whole.
    pub fn from_config_map(object: &ConfigMap) -> Result<Self, String> {
        let meta = &object.metadata;
        let name = meta.name.clone().unwrap_or_default();
        let labels = meta.labels.clone().unwrap_or_default();
        let label = |key: &str| labels.get(key).cloned();
        if label(MANAGED_BY.0).as_deref() != Some(MANAGED_BY.1) {
            return Err(format!("{name}: not an opsdeck record"));
        }
        let kind = label(RECORD_LABEL)
            .as_deref()
            .and_then(Kind::of_word)
            .ok_or_else(|| format!("{name}: no record kind"))?;
        let annotations = meta.annotations.clone().unwrap_or_default();
        let user =
            annotations.get(USER_ANNOTATION).cloned().ok_or_else(|| format!("{name}: names no user"))?;
        let text = object
            .data
            .as_ref()
            .and_then(|d| d.get(DATA_KEY))
            .ok_or_else(|| format!("{name}: no {DATA_KEY}"))?;
        let payload: Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        let id = payload.get("id").and_then(Value::as_str).map_or_else(
            || name.trim_start_matches(&format!("opsdeck-{}-", kind.word())).to_owned(),
            str::to_owned,
        );
        Ok(Self {
            kind,
            id,
            user,
            env: label(ENV_LABEL).unwrap_or_default(),
            app: label(APP_LABEL),
            operation: label(OPERATION_LABEL),
            version: label(VERSION_LABEL),
            about: label(FOR_LABEL),
            requester: annotations.get(REQUESTER_ANNOTATION).cloned(),
            payload,
            created: meta.creation_timestamp.as_ref().map(|t| t.0),
        })
    }
}

/// A label value Kubernetes accepts: at most 63 characters of `[A-Za-z0-9._-]`, beginning and
/// ending with a letter or digit. The exact value is in the record itself; the label only finds it.
pub fn label_value(text: &str) -> String {
    let mapped: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let cut: String = mapped.chars().take(63).collect();
    cut.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned()
}

/// `opsdeck-<kind>-<id>`, lowercased into a DNS subdomain name.
pub fn object_name(kind: Kind, id: &str) -> String {
    let id: String = id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .collect();
    let name = format!("opsdeck-{}-{id}", kind.word());
    name.chars().take(253).collect::<String>().trim_end_matches(['-', '.']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_goes_into_an_immutable_labelled_config_map_and_comes_back_whole() {
        let mut shared = Shared::new(
            Kind::Audit,
            "20261204T101400Z-1f2e-000003-intent",
            "alice@example.com",
            "production",
            serde_json::json!({"id": "20261204T101400Z-1f2e-000003-intent", "sentence": "web 25% → 50%"}),
        );
        shared.app = Some("web".into());
        shared.operation = Some("canary-step".into());
        shared.version = Some("v1.3.0+build/7".into());
        let map = shared.to_config_map("opsdeck");
        assert_eq!(map.immutable, Some(true));
        assert_eq!(map.metadata.name.as_deref(), Some("opsdeck-audit-20261204t101400z-1f2e-000003-intent"));
        let labels = map.metadata.labels.clone().unwrap();
        assert_eq!(labels["opsdeck.dev/version"], "v1.3.0_build_7", "a label value Kubernetes accepts");
        assert_eq!(map.metadata.annotations.clone().unwrap()[USER_ANNOTATION], "alice@example.com");
        let back = Shared::from_config_map(&map).unwrap();
        assert_eq!(back.version.as_deref(), Some("v1.3.0_build_7"));
        assert_eq!(
            (back.kind, back.user.as_str(), back.payload.clone()),
            (Kind::Audit, "alice@example.com", shared.payload)
        );
    }

    #[test]
    fn a_config_map_that_is_not_ours_or_not_whole_is_refused() {
        let mut map = Shared::new(Kind::Request, "r-1", "bob", "production", serde_json::json!({}))
            .to_config_map("opsdeck");
        map.data = Some(BTreeMap::from([(DATA_KEY.to_owned(), "{not json".to_owned())]));
        assert!(Shared::from_config_map(&map).unwrap_err().contains("opsdeck-request-r-1"));
        map.metadata.labels = None;
        assert!(Shared::from_config_map(&map).unwrap_err().contains("not an opsdeck record"));
    }

    #[test]
    fn label_values_keep_to_what_the_server_accepts() {
        assert_eq!(label_value("system:serviceaccount:ci:deployer"), "system_serviceaccount_ci_deployer");
        assert_eq!(label_value(&"x".repeat(80)).len(), 63);
        assert_eq!(label_value("-a-"), "a");
    }
}
