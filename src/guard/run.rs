//! One guard: a release followed for its period (seed 004: "Monitor for 1 hour post-deployment";
//! the pipeline's `monitor-deployment.sh 15`), its tree decided again at every change, ended
//! at once when a branch says roll back, and concluded when the period is over. Pure: the
//! console and the command line feed it trees and the time.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::tree::{Branch, Limits, NodeVerdict, Tree, Verdict};
use crate::metrics::Figures;

/// The figures the new version is judged against, and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    pub figures: Figures,
    /// "revision 2's 3 pods over their lifetime", "Prometheus, 30m before the change", …
    pub from: String,
}

/// How a guard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The period passed and every branch that could be judged passed.
    Ok,
    /// The period passed with a branch saying "monitor closely, prepare rollback", or the
    /// rollout not finished: not a success, not a rollback.
    Watch,
    /// A branch said roll back.
    Rollback,
    /// Another change replaced the guarded revision (a newer release, someone's rollback).
    Superseded,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Watch => "watch",
            Self::Rollback => "rollback",
            Self::Superseded => "superseded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ended {
    pub outcome: Outcome,
    pub at: Timestamp,
    /// The branch and evidence that decided it, in a sentence.
    pub reason: String,
}

/// What an observation changed, for a progress line, a banner or a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Verdict { from: Option<Verdict>, to: Verdict, decided_by: Option<Branch> },
    Ended(Ended),
}

/// One release under guard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guard {
    pub env: String,
    pub app: String,
    /// The Deployment revision guarded.
    pub revision: Option<u64>,
    /// The version it brings (the image tag).
    pub version: Option<String>,
    pub started: Timestamp,
    pub until: Timestamp,
    pub limits: Limits,
    pub baseline: Option<Baseline>,
    /// The tree as last decided.
    pub tree: Option<Tree>,
    pub ended: Option<Ended>,
}

impl Guard {
    pub fn new(
        env: &str,
        app: &str,
        revision: Option<u64>,
        version: Option<String>,
        started: Timestamp,
        period: Duration,
        limits: Limits,
    ) -> Self {
        let period = jiff::SignedDuration::try_from(period).unwrap_or(jiff::SignedDuration::MAX);
        Self {
            env: env.to_owned(),
            app: app.to_owned(),
            revision,
            version,
            started,
            until: started.checked_add(period).unwrap_or(Timestamp::MAX),
            limits,
            baseline: None,
            tree: None,
            ended: None,
        }
    }

    /// Time left in the period.
    pub fn remaining(&self, now: Timestamp) -> Duration {
        Duration::try_from(self.until.duration_since(now)).unwrap_or(Duration::ZERO)
    }

    /// A newly decided tree: what it changed. A rollback ends the guard at once; the period's
    /// end concludes it.
    pub fn observe(&mut self, tree: Tree, now: Timestamp) -> Vec<Change> {
        if self.ended.is_some() {
            return Vec::new();
        }
        let mut changes = Vec::new();
        let before = self.tree.as_ref().map(|t| t.verdict);
        if before != Some(tree.verdict) {
            changes.push(Change::Verdict { from: before, to: tree.verdict, decided_by: tree.decided_by });
        }
        let ending = if tree.verdict == Verdict::Rollback {
            Some((Outcome::Rollback, tree.reason().unwrap_or_else(|| "guard: roll back".into())))
        } else if now >= self.until {
            Some(conclude(&tree))
        } else {
            None
        };
        self.tree = Some(tree);
        if let Some((outcome, reason)) = ending {
            changes.push(self.end(outcome, now, reason));
        }
        changes
    }

    /// The guarded revision is no longer the Deployment's.
    pub fn superseded(&mut self, revision: Option<u64>, now: Timestamp) -> Option<Change> {
        if self.ended.is_some() {
            return None;
        }
        let now_on = revision.map_or_else(|| "another revision".to_owned(), |r| format!("revision {r}"));
        let was =
            self.revision.map_or_else(|| "the guarded revision".to_owned(), |r| format!("revision {r}"));
        Some(self.end(Outcome::Superseded, now, format!("the Deployment moved from {was} to {now_on}")))
    }

    fn end(&mut self, outcome: Outcome, at: Timestamp, reason: String) -> Change {
        let ended = Ended { outcome, at, reason };
        self.ended = Some(ended.clone());
        Change::Ended(ended)
    }

    /// The guard's stage in a few words, for a row: "watching · error rate", "ok".
    pub fn stage(&self) -> String {
        if let Some(ended) = &self.ended {
            return ended.outcome.word().to_owned();
        }
        match &self.tree {
            None => "starting".to_owned(),
            Some(tree) => match tree.decided_by {
                None => "ok so far".to_owned(),
                Some(branch) => format!("{} · {}", tree.verdict.word(), branch.short()),
            },
        }
    }
}

/// The tree's answer when the period is over. A branch that still says watch, or a rollout
/// whose pods, health checks or Service could not be judged yet, is not a success; rates not
/// judged for want of traffic, metrics or a baseline are said, not held against the release.
pub fn conclude(tree: &Tree) -> (Outcome, String) {
    if tree.verdict == Verdict::Rollback {
        return (Outcome::Rollback, tree.reason().unwrap_or_default());
    }
    let first = |pick: &dyn Fn(Branch, NodeVerdict) -> bool| {
        tree.nodes
            .iter()
            .find(|n| pick(n.branch, n.verdict))
            .map(|n| format!("{} {}", n.branch.question(), n.evidence.first().map_or("", String::as_str)))
    };
    if let Some(why) = first(&|_, v| v == NodeVerdict::Watch) {
        return (Outcome::Watch, format!("guard: the period ended on watch: {why}"));
    }
    let rollout =
        |b: Branch| matches!(b, Branch::PodsStarting | Branch::HealthChecks | Branch::ServiceAccessible);
    if let Some(why) = first(&|b, v| v == NodeVerdict::Unknown && rollout(b)) {
        return (
            Outcome::Watch,
            format!("guard: the period ended before the rollout could be judged: {why}"),
        );
    }
    let unjudged: Vec<String> = tree
        .nodes
        .iter()
        .filter(|n| n.verdict == NodeVerdict::Unknown)
        .map(|n| {
            format!("{} not judged: {}", n.branch.short(), n.evidence.first().map_or("", String::as_str))
        })
        .collect();
    if unjudged.is_empty() {
        (Outcome::Ok, "guard: every branch passed for the whole period".to_owned())
    } else {
        (Outcome::Ok, format!("guard: no branch failed for the whole period ({})", unjudged.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::tree::Node;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + second).expect("time")
    }

    fn tree(nodes: &[(Branch, NodeVerdict)]) -> Tree {
        let nodes: Vec<Node> = nodes
            .iter()
            .map(|(branch, verdict)| Node {
                branch: *branch,
                verdict: *verdict,
                evidence: vec!["seen".into()],
            })
            .collect();
        let gravest = nodes.iter().map(|n| n.verdict).max().unwrap_or(NodeVerdict::Pass);
        let verdict = match gravest {
            NodeVerdict::Pass => Verdict::Ok,
            NodeVerdict::Unknown | NodeVerdict::Watch => Verdict::Watch,
            NodeVerdict::Rollback => Verdict::Rollback,
        };
        let decided_by =
            nodes.iter().find(|n| n.verdict == gravest && gravest != NodeVerdict::Pass).map(|n| n.branch);
        Tree { verdict, decided_by, nodes }
    }

    fn guard() -> Guard {
        Guard::new(
            "production",
            "web",
            Some(3),
            Some("v1.3.0".into()),
            at(0),
            Duration::from_secs(60),
            Limits::default(),
        )
    }

    const ALL: [Branch; 5] = [
        Branch::PodsStarting,
        Branch::HealthChecks,
        Branch::ServiceAccessible,
        Branch::ErrorRate,
        Branch::ResponseTime,
    ];

    fn all(verdict: NodeVerdict) -> Vec<(Branch, NodeVerdict)> {
        ALL.iter().map(|b| (*b, verdict)).collect()
    }

    #[test]
    fn a_rollback_ends_the_guard_at_once_and_the_period_concludes_it_otherwise() {
        let mut g = guard();
        let changes = g.observe(tree(&all(NodeVerdict::Unknown)), at(1));
        assert_eq!(
            changes,
            [Change::Verdict { from: None, to: Verdict::Watch, decided_by: Some(Branch::PodsStarting) }]
        );
        assert_eq!(g.remaining(at(1)), Duration::from_secs(59));
        let mut crash = all(NodeVerdict::Pass);
        crash[0].1 = NodeVerdict::Rollback;
        let changes = g.observe(tree(&crash), at(5));
        let Some(Change::Ended(ended)) = changes.last() else { panic!("ended: {changes:?}") };
        assert_eq!(
            (ended.outcome, ended.at),
            (Outcome::Rollback, at(5)),
            "decided within seconds, not after the period"
        );
        assert!(ended.reason.starts_with("guard: Pods starting successfully? no"), "{}", ended.reason);
        assert!(
            g.observe(tree(&all(NodeVerdict::Pass)), at(6)).is_empty(),
            "an ended guard hears nothing more"
        );

        let mut g = guard();
        g.observe(tree(&all(NodeVerdict::Pass)), at(10));
        assert_eq!(g.ended, None, "ok so far is not over");
        let changes = g.observe(tree(&all(NodeVerdict::Pass)), at(60));
        assert!(matches!(&changes[..], [Change::Ended(Ended { outcome: Outcome::Ok, .. })]), "{changes:?}");
    }

    #[test]
    fn the_end_of_the_period_holds_watch_and_an_unfinished_rollout_against_the_release() {
        let mut slower = all(NodeVerdict::Pass);
        slower[4].1 = NodeVerdict::Watch;
        assert_eq!(conclude(&tree(&slower)).0, Outcome::Watch);
        let mut pending = all(NodeVerdict::Pass);
        pending[0].1 = NodeVerdict::Unknown;
        let (outcome, why) = conclude(&tree(&pending));
        assert_eq!(outcome, Outcome::Watch);
        assert!(why.contains("before the rollout could be judged"), "{why}");
        // Too little traffic to judge the rates by is said, not held against the release.
        let mut quiet = all(NodeVerdict::Pass);
        quiet[3].1 = NodeVerdict::Unknown;
        quiet[4].1 = NodeVerdict::Unknown;
        let (outcome, why) = conclude(&tree(&quiet));
        assert_eq!(outcome, Outcome::Ok);
        assert!(why.contains("error rate not judged") && why.contains("response time not judged"), "{why}");
    }

    #[test]
    fn a_newer_revision_supersedes_the_guard() {
        let mut g = guard();
        let Some(Change::Ended(ended)) = g.superseded(Some(4), at(20)) else { panic!("superseded") };
        assert_eq!(ended.outcome, Outcome::Superseded);
        assert_eq!(ended.reason, "the Deployment moved from revision 3 to revision 4");
        assert_eq!(g.stage(), "superseded");
    }
}
