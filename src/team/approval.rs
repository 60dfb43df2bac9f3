//! Two-person approval (seed 004: "Approval: Required (Platform Team)"): a request for a
//! risk-adding change carries the exact plan — each step's sentence and diff — and a
//! fingerprint of what it would write; an answer from a different Kubernetes user approves or
//! denies it. The requester's operation goes ahead only when a fresh plan has the same
//! fingerprint, so an object that changed in between makes a new plan and a new request, never
//! a stale write. Pure.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::ops::Plan;

/// One step as the approver reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepText {
    pub sentence: String,
    /// `field: before → after`.
    pub diff: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Short enough to type: `opsdeck approve r-3f9a1c`.
    pub id: String,
    pub env: String,
    pub app: String,
    pub operation: String,
    pub sentence: String,
    pub steps: Vec<StepText>,
    pub warnings: Vec<String>,
    pub fingerprint: String,
    pub requester: String,
    pub requested_at: jiff::Timestamp,
    pub expires_at: jiff::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An approval or a denial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub id: String,
    pub request: String,
    pub approved: bool,
    pub by: String,
    /// Who made the request, as the answer claims: it must be the request's requester.
    pub requester: String,
    pub at: jiff::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Pending,
    Approved {
        by: String,
        reason: Option<String>,
    },
    Denied {
        by: String,
        reason: Option<String>,
    },
    /// Nobody answered it in time.
    Expired,
    /// An operation already went ahead on it: an approval is for one write.
    Used,
}

impl Standing {
    pub fn word(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved { .. } => "approved",
            Self::Denied { .. } => "denied",
            Self::Expired => "expired",
            Self::Used => "used",
        }
    }
}

/// An answer that counts: for this request, by someone other than its requester, naming the
/// right requester, stored (by the server's clock, when known) before the request expired. The
/// policy makes the server refuse the requester's own answer; this also drops an answer whose
/// claimed requester is not the request's (the server cannot look the request up).
fn counts(request: &Request, answer: &Answer, stored: Option<jiff::Timestamp>) -> bool {
    answer.request == request.id
        && answer.by != request.requester
        && answer.requester == request.requester
        && stored.unwrap_or(answer.at) <= request.expires_at
}

/// The request's standing given every answer seen (with when the server stored each) and
/// whether an operation already used it; the first answer that counts decides.
pub fn standing(
    request: &Request,
    answers: &[(Answer, Option<jiff::Timestamp>)],
    used: bool,
    now: jiff::Timestamp,
) -> Standing {
    let mut counted: Vec<&(Answer, Option<jiff::Timestamp>)> =
        answers.iter().filter(|(a, stored)| counts(request, a, *stored)).collect();
    counted.sort_by_key(|(a, stored)| stored.unwrap_or(a.at));
    match counted.first() {
        Some((a, _)) if !a.approved => Standing::Denied { by: a.by.clone(), reason: a.reason.clone() },
        Some(_) if used => Standing::Used,
        Some((a, _)) => Standing::Approved { by: a.by.clone(), reason: a.reason.clone() },
        None if now > request.expires_at => Standing::Expired,
        None => Standing::Pending,
    }
}

/// What a fresh plan is, for matching it with the requests already filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked<'a> {
    pub requester: &'a str,
    pub env: &'a str,
    pub app: &'a str,
    pub operation: &'a str,
    pub fingerprint: String,
}

/// Where a fresh plan stands with the requests filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// A second user approved exactly this plan, and no write used it yet.
    Granted { request: String, by: String },
    /// It waits: the request already pending for it, if any, and what the operator should
    /// know (an approval of a plan the objects no longer match).
    Wanted { pending: Option<String>, note: Option<String> },
    /// A second user denied exactly this plan, and the request has not lapsed.
    Denied(String),
}

/// Matches `asked` with the requests seen: by the same requester, for the same environment,
/// app and operation; only the same fingerprint counts as the same plan.
pub fn gate(asked: &Asked<'_>, seen: &[(&Request, &Standing)], now: jiff::Timestamp) -> Gate {
    let mine: Vec<&(&Request, &Standing)> = seen
        .iter()
        .filter(|(r, _)| {
            r.requester == asked.requester
                && r.env == asked.env
                && r.app == asked.app
                && r.operation == asked.operation
        })
        .collect();
    let same = || mine.iter().filter(|(r, _)| r.fingerprint == asked.fingerprint);
    for (r, standing) in same() {
        if let Standing::Approved { by, .. } = standing {
            return Gate::Granted { request: r.id.clone(), by: by.clone() };
        }
    }
    for (r, standing) in same() {
        if let Standing::Denied { by, reason } = standing
            && now <= r.expires_at
        {
            let why = reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            return Gate::Denied(format!(
                "{by} denied request {} for this change{why}: nothing was done",
                r.id
            ));
        }
    }
    let pending = same().find(|(_, s)| **s == Standing::Pending).map(|(r, _)| r.id.clone());
    let note = mine
        .iter()
        .find(|(r, s)| r.fingerprint != asked.fingerprint && matches!(s, Standing::Approved { .. }))
        .map(|(r, _)| {
            format!(
                "request {} was approved for \"{}\", which the objects no longer match: this plan needs an approval of its own",
                r.id, r.sentence
            )
        });
    Gate::Wanted { pending, note }
}

/// What the plan would write, as a short stable digest: every step's target, body and route,
/// and the sentence and diff the operator saw — not the resourceVersion, which a controller's
/// status write moves without changing what the step does.
pub fn fingerprint(plan: &Plan) -> String {
    let mut text = format!("{}\n{}\n{}\n", plan.operation.name(), plan.env, plan.app);
    for step in &plan.steps {
        let t = &step.target;
        let _ = write!(
            text,
            "{} {} {}/{} {:?}\n{}\n{}\n",
            t.env,
            t.kind.name(),
            t.namespace,
            t.name,
            step.via,
            step.patch.to_value(),
            step.sentence
        );
        for line in &step.diff {
            let _ = writeln!(text, "{}: {} → {}", line.field, line.before, line.after);
        }
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    hex(&digest.as_ref()[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A new request id: `r-` and six hex digits, from the time and the process (unique enough for
/// the handful of requests of a deployment window; the server refuses a duplicate name).
pub fn new_id(now: jiff::Timestamp, salt: &str) -> String {
    let seed = format!("{}-{}-{salt}-{}", now.as_nanosecond(), std::process::id(), crate::audit::new_id(now));
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    format!("r-{}", hex(&digest.as_ref()[..3]))
}

/// The request for `plan`, made by `requester` now, lapsing after `expiry`.
pub fn request_for(
    plan: &Plan,
    warnings: Vec<String>,
    requester: &str,
    reason: Option<&str>,
    now: jiff::Timestamp,
    expiry: std::time::Duration,
) -> Request {
    let expiry = jiff::SignedDuration::try_from(expiry).unwrap_or(jiff::SignedDuration::from_hours(1));
    Request {
        id: new_id(now, &plan.app),
        env: plan.env.clone(),
        app: plan.app.clone(),
        operation: plan.operation.name().to_owned(),
        sentence: plan.sentence(),
        steps: plan
            .steps
            .iter()
            .map(|s| StepText {
                sentence: s.sentence.clone(),
                diff: s.diff.iter().map(|d| format!("{}: {} → {}", d.field, d.before, d.after)).collect(),
            })
            .collect(),
        warnings,
        fingerprint: fingerprint(plan),
        requester: requester.to_owned(),
        requested_at: now,
        expires_at: now.checked_add(expiry).unwrap_or(now),
        reason: reason.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn request() -> Request {
        Request {
            id: "r-abc123".into(),
            env: "production".into(),
            app: "web".into(),
            operation: "canary-step".into(),
            sentence: "production · web 25% → 50%".into(),
            steps: Vec::new(),
            warnings: Vec::new(),
            fingerprint: "f".into(),
            requester: "alice".into(),
            requested_at: ts("2026-12-04T10:00:00Z"),
            expires_at: ts("2026-12-04T10:30:00Z"),
            reason: None,
        }
    }

    fn answer(by: &str, approved: bool, at: &str) -> (Answer, Option<jiff::Timestamp>) {
        let a = Answer {
            id: format!("{by}-{at}"),
            request: "r-abc123".into(),
            approved,
            by: by.into(),
            requester: "alice".into(),
            at: ts(at),
            reason: None,
        };
        (a, Some(ts(at)))
    }

    #[test]
    fn a_second_users_approval_approves_and_the_requesters_own_does_not() {
        let now = ts("2026-12-04T10:05:00Z");
        assert_eq!(
            standing(&request(), &[answer("alice", true, "2026-12-04T10:01:00Z")], false, now),
            Standing::Pending
        );
        let bob = answer("bob", true, "2026-12-04T10:02:00Z");
        assert_eq!(
            standing(&request(), std::slice::from_ref(&bob), false, now),
            Standing::Approved { by: "bob".into(), reason: None }
        );
        assert_eq!(standing(&request(), &[bob], true, now), Standing::Used, "one approval, one write");
    }

    #[test]
    fn the_first_answer_decides_and_a_forged_requester_is_ignored() {
        let now = ts("2026-12-04T10:05:00Z");
        let answers =
            [answer("carol", true, "2026-12-04T10:03:00Z"), answer("bob", false, "2026-12-04T10:02:00Z")];
        assert_eq!(
            standing(&request(), &answers, false, now),
            Standing::Denied { by: "bob".into(), reason: None }
        );
        let (mut forged, at) = answer("alice2", true, "2026-12-04T10:02:00Z");
        forged.requester = "mallory".into();
        assert_eq!(standing(&request(), &[(forged, at)], false, now), Standing::Pending);
    }

    #[test]
    fn a_fresh_plan_goes_ahead_only_on_its_own_fingerprint() {
        let now = ts("2026-12-04T10:05:00Z");
        let asked = Asked {
            requester: "alice",
            env: "production",
            app: "web",
            operation: "canary-step",
            fingerprint: "f".into(),
        };
        let approved = Standing::Approved { by: "bob".into(), reason: None };
        let r = request();
        assert_eq!(
            gate(&asked, &[(&r, &approved)], now),
            Gate::Granted { request: "r-abc123".into(), by: "bob".into() }
        );
        assert_eq!(
            gate(&asked, &[(&r, &Standing::Pending)], now),
            Gate::Wanted { pending: Some("r-abc123".into()), note: None }
        );
        let changed = Asked { fingerprint: "g".into(), ..asked.clone() };
        let Gate::Wanted { pending: None, note: Some(note) } = gate(&changed, &[(&r, &approved)], now) else {
            panic!("a changed object is a new plan")
        };
        assert!(note.contains("r-abc123 was approved for"), "{note}");
        let denied = Standing::Denied { by: "bob".into(), reason: Some("freeze".into()) };
        assert!(matches!(gate(&asked, &[(&r, &denied)], now), Gate::Denied(why) if why.contains("(freeze)")));
        let late = ts("2026-12-04T10:31:00Z");
        assert!(
            matches!(gate(&asked, &[(&r, &denied)], late), Gate::Wanted { pending: None, .. }),
            "a lapsed denial"
        );
        let bobs = Asked { requester: "bob", ..asked };
        assert!(
            matches!(gate(&bobs, &[(&r, &approved)], now), Gate::Wanted { pending: None, note: None }),
            "not his"
        );
    }

    #[test]
    fn an_unanswered_request_expires_and_a_late_answer_does_not_revive_it() {
        let late = ts("2026-12-04T10:31:00Z");
        assert_eq!(standing(&request(), &[], false, late), Standing::Expired);
        assert_eq!(
            standing(&request(), &[answer("bob", true, "2026-12-04T10:31:00Z")], false, late),
            Standing::Expired
        );
    }
}
