//! The checklist's sign-off block (seed 003: "Deployment Engineer / DevOps Lead / Approver"):
//! a run is signed once by whoever walked it, then by further Kubernetes users, each taking the
//! next role; the gate counts distinct users. Pure.

use serde::{Deserialize, Serialize};

use crate::checklist::Report;

/// A signature after the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cosign {
    pub run: String,
    pub user: String,
    pub at: jiff::Timestamp,
}

/// A run's name: its environment and when it started, which every console that reads the
/// report agrees on.
pub fn run_id(report: &Report) -> String {
    format!("{}-{}", report.env, report.started.strftime("%Y%m%dT%H%M%SZ"))
}

/// The Kubernetes users who signed the run, in the order they signed, each once.
pub fn signers(report: &Report) -> Vec<String> {
    let first = report.kube_user.clone().or_else(|| report.signed_by.clone());
    let mut out: Vec<String> = Vec::new();
    for user in first.into_iter().chain(report.cosigners.iter().map(|c| c.user.clone())) {
        if !out.contains(&user) {
            out.push(user);
        }
    }
    out
}

/// Each role with the user who fills it, in the order the roles are listed; `None` where
/// nobody has signed for it yet. No roles: one signature is the whole block.
pub fn block(report: &Report, roles: &[String]) -> Vec<(String, Option<String>)> {
    let signers = signers(report);
    let roles: Vec<String> = if roles.is_empty() { vec!["signed".to_owned()] } else { roles.to_vec() };
    roles.iter().enumerate().map(|(i, role)| (role.clone(), signers.get(i).cloned())).collect()
}

/// The roles still unsigned.
pub fn missing(report: &Report, roles: &[String]) -> Vec<String> {
    block(report, roles).into_iter().filter(|(_, who)| who.is_none()).map(|(role, _)| role).collect()
}

/// Adds the signatures found for each report's run, once per user, in time order.
pub fn merge(reports: &mut [Report], cosigns: &[Cosign]) {
    for report in reports {
        let run = run_id(report);
        let mut mine: Vec<&Cosign> = cosigns.iter().filter(|c| c.run == run).collect();
        mine.sort_by_key(|c| c.at);
        for cosign in mine {
            if !report.cosigners.iter().any(|c| c.user == cosign.user) {
                report.cosigners.push(cosign.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let checklist = crate::checklist::model::parse(
            "p",
            "name = \"p\"\n[[sections]]\ntitle = \"s\"\n[[sections.items]]\ntext = \"x\"\n",
        )
        .unwrap();
        let mut r = Report::new(&checklist, "production", "2026-12-04T09:00:00Z".parse().unwrap());
        r.signed_by = Some("Alice".into());
        r.kube_user = Some("alice".into());
        r.signed_at = Some("2026-12-04T09:30:00Z".parse().unwrap());
        r
    }

    fn cosign(user: &str, at: &str) -> Cosign {
        Cosign { run: "production-20261204T090000Z".into(), user: user.into(), at: at.parse().unwrap() }
    }

    #[test]
    fn each_role_is_a_distinct_user_and_a_second_signature_by_the_first_does_not_count() {
        let roles: Vec<String> =
            ["deployment-engineer", "devops-lead", "approver"].map(String::from).to_vec();
        let mut reports = vec![report()];
        merge(
            &mut reports,
            &[cosign("alice", "2026-12-04T09:31:00Z"), cosign("bob", "2026-12-04T09:40:00Z")],
        );
        assert_eq!(signers(&reports[0]), ["alice", "bob"]);
        assert_eq!(
            block(&reports[0], &roles),
            [
                ("deployment-engineer".to_owned(), Some("alice".to_owned())),
                ("devops-lead".to_owned(), Some("bob".to_owned())),
                ("approver".to_owned(), None)
            ]
        );
        assert_eq!(missing(&reports[0], &roles), ["approver"]);
        assert!(missing(&reports[0], &[]).is_empty(), "no roles: one signature is enough");
    }
}
