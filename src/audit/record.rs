//! The audit record schema: one JSON object per line of `audit.jsonl`, an intent before each write
//! and a result after it, tied together by an operation id.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Whether a record was written before the cluster write (intent) or after it (result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Intent,
    Result,
}

/// How a write ended, as seen by opsdeck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Done,
    Failed,
    Pending,
    Conflict,
    Forbidden,
    Unreachable,
    Cancelled,
    /// The write was sent and its answer lost; reading the object back found it not applied.
    #[serde(rename = "not-applied")]
    NotApplied,
    /// The write was sent, its answer lost, and the object could not be read back: it may
    /// have been applied.
    Unknown,
}

impl Outcome {
    /// The same lowercase word the record serialises to.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Pending => "pending",
            Self::Conflict => "conflict",
            Self::Forbidden => "forbidden",
            Self::Unreachable => "unreachable",
            Self::Cancelled => "cancelled",
            Self::NotApplied => "not-applied",
            Self::Unknown => "unknown",
        }
    }
}

/// One line of the audit log. Field names are the on-disk format: renaming one breaks old logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// One operation's id, shared by its intent and result.
    pub id: String,
    pub phase: Phase,
    /// Serialises as RFC 3339.
    pub time: jiff::Timestamp,
    /// The Kubernetes user (from SelfSubjectReview) or the local user.
    pub user: String,
    pub local_user: String,
    pub env: String,
    pub context: String,
    pub namespace: String,
    /// "Deployment", "Ingress", ...
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// "restart", "pause", "resume", "canary-step", "rollback", ...
    pub operation: String,
    /// "production · shop/web · paused false → true"
    pub sentence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why this write counts as an emergency (outside the deployment windows, on a blackout
    /// day), when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<String>,
    /// What made the write when no person confirmed it at that moment: `guard` (a rollback
    /// on the guard's verdict), `auto-mode` (a canary step or abort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<String>,
    /// Where the environment asks for two-person approval: who approved it ("approved by bob
    /// (r-3f9a1c)"), or why it needed none ("none needed: a rollback takes risk away").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// The approval request it went ahead on; the team's copy is labelled with it, which uses
    /// the approval up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_request: Option<String>,
    /// Who was at the app's controls when this write took over from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_over: Option<String>,
    /// Where the record was read from, set by `opsdeck audit` when it merges this machine's
    /// log with the clusters': `local`, `cluster`, or `local+cluster`. Never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<serde_json::Value>,
    /// Result records only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_resource_version: Option<String>,
}

impl Record {
    /// A result record for this intent: same id and target, phase Result, the given
    /// time/outcome/message/to_rv.
    ///
    /// The reason is kept so a result read alone (its intent outside the report window, or
    /// posted to a webhook) still says why; the patch is dropped because the intent already
    /// holds it and patches can be large. An empty message is stored as none.
    #[must_use]
    pub fn result(
        &self,
        time: jiff::Timestamp,
        outcome: Outcome,
        message: impl Into<String>,
        to_resource_version: Option<String>,
    ) -> Record {
        let message = message.into();
        Record {
            phase: Phase::Result,
            time,
            patch: None,
            outcome: Some(outcome),
            message: (!message.is_empty()).then_some(message),
            to_resource_version,
            ..self.clone()
        }
    }
}

/// A new operation id: time-ordered and unique within a process and across processes, e.g.
/// "20261121T235900Z-1f2e-000003".
///
/// The pid separates concurrent opsdeck processes; the counter separates ids made in the same
/// second by one process and is zero-padded so ids from one process sort as they were made.
pub fn new_id(now: jiff::Timestamp) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{:x}-{n:06x}", now.strftime("%Y%m%dT%H%M%SZ"), std::process::id())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ts(s: &str) -> jiff::Timestamp {
        s.parse().expect("timestamp")
    }

    /// An intent record other modules' tests build on.
    pub(crate) fn sample(id: &str, time: &str) -> Record {
        Record {
            id: id.into(),
            phase: Phase::Intent,
            time: ts(time),
            user: "alice@example.com".into(),
            local_user: "alice".into(),
            env: "production".into(),
            context: "prod-eu".into(),
            namespace: "shop".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            app: None,
            operation: "pause".into(),
            sentence: "production · shop/web · paused false → true".into(),
            reason: Some("CHG-1234".into()),
            emergency: None,
            automatic: None,
            approval: None,
            approval_request: None,
            took_over: None,
            origin: None,
            from_resource_version: Some("100".into()),
            patch: Some(serde_json::json!({"spec": {"paused": true}})),
            outcome: None,
            message: None,
            to_resource_version: None,
        }
    }

    fn intent() -> Record {
        sample("20261121T235900Z-1-000000", "2026-11-21T23:59:00Z")
    }

    #[test]
    fn serialises_snake_case_rfc3339_and_skips_nones() {
        let json = serde_json::to_value(intent()).expect("serialise");
        assert_eq!(json["phase"], "intent");
        assert_eq!(json["time"], "2026-11-21T23:59:00Z");
        assert_eq!(json["local_user"], "alice");
        assert_eq!(json["from_resource_version"], "100");
        assert!(json.get("outcome").is_none());
        assert!(json.get("app").is_none());
        let back: Record = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, intent());
    }

    #[test]
    fn result_keeps_id_and_target() {
        let i = intent();
        let r = i.result(ts("2026-11-22T00:00:01Z"), Outcome::Conflict, "", Some("101".into()));
        assert_eq!(
            (r.id.as_str(), r.phase, r.outcome),
            (i.id.as_str(), Phase::Result, Some(Outcome::Conflict))
        );
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str(), r.reason.as_deref()),
            ("shop", "web", Some("CHG-1234"))
        );
        assert_eq!(r.message, None);
        assert_eq!(r.patch, None);
        assert_eq!(r.to_resource_version.as_deref(), Some("101"));
        assert_eq!(serde_json::to_value(r).expect("serialise")["outcome"], "conflict");
    }

    #[test]
    fn ids_are_unique_and_ordered_within_a_second() {
        let now = ts("2026-11-21T23:59:00.5Z");
        let ids: Vec<String> = (0..100).map(|_| new_id(now)).collect();
        assert!(ids[0].starts_with("20261121T235900Z-"), "{}", ids[0]);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert!(new_id(ts("2026-11-22T00:00:00Z")) > ids[99]);
    }

    #[test]
    fn outcome_words_match_serde() {
        for o in [
            Outcome::Done,
            Outcome::Failed,
            Outcome::Pending,
            Outcome::Conflict,
            Outcome::Forbidden,
            Outcome::Unreachable,
            Outcome::Cancelled,
        ] {
            assert_eq!(serde_json::to_value(o).expect("serialise"), o.as_str());
        }
    }
}
