//! The signed checklists the gate reads: this machine's, and the team's in the environment's
//! cluster — whoever signed them — with the further signatures colleagues added.

use super::{Engine, Refusal};
use crate::checklist::Report;
use crate::cluster::records;
use crate::team::signoff::{self, Cosign};
use crate::team::{Kind, Shared};

impl Engine {
    /// Every signed checklist of `env` this console can see, newest first, each with its
    /// co-signatures. A cluster that cannot be read leaves this machine's reports, and says why.
    pub async fn checklists(&self, env: &str) -> (Vec<Report>, Option<String>) {
        let mut reports = crate::checklist::report::signed(&self.data_dir, env);
        let mut problem = None;
        if self.fleet.config.team.shared_records {
            match self.team_checklists(env).await {
                Ok((theirs, cosigns)) => {
                    for report in theirs {
                        if !reports.iter().any(|r| signoff::run_id(r) == signoff::run_id(&report)) {
                            reports.push(report);
                        }
                    }
                    signoff::merge(&mut reports, &cosigns);
                }
                Err(e) => problem = Some(format!("the team's checklists in {env} were not read: {e}")),
            }
        }
        reports.sort_by_key(|r| std::cmp::Reverse(r.signed_at));
        (reports, problem)
    }

    async fn team_checklists(&self, env: &str) -> Result<(Vec<Report>, Vec<Cosign>), Refusal> {
        let session = self.session(env).await?;
        let ns = self.team_namespace();
        let (reports, _) = records::list(&session.read, ns, Kind::Checklist).await?;
        let (signatures, _) = records::list(&session.read, ns, Kind::Signoff).await?;
        let reports = reports
            .into_iter()
            .filter_map(|s| {
                let mut report: Report = serde_json::from_value(s.payload).ok()?;
                // The signer is who the server let write it.
                report.kube_user = Some(s.user);
                Some(report)
            })
            .filter(|r| r.env == env && r.signed_at.is_some())
            .collect();
        let cosigns = signatures
            .into_iter()
            .filter_map(|s| {
                let mut cosign: Cosign = serde_json::from_value(s.payload).ok()?;
                cosign.user = s.user;
                Some(cosign)
            })
            .collect();
        Ok((reports, cosigns))
    }

    /// Keeps a signed report in its environment's cluster, as the signer.
    pub async fn share_checklist(&self, report: &Report) -> Result<(), Refusal> {
        if !self.fleet.config.team.shared_records {
            return Ok(());
        }
        let session = self.session(&report.env).await?;
        let payload = serde_json::to_value(report).map_err(|e| Refusal::Failed(e.to_string()))?;
        let shared =
            Shared::new(Kind::Checklist, signoff::run_id(report), session.user.clone(), &report.env, payload);
        records::put(session.writer()?, self.team_namespace(), &shared).await?;
        Ok(())
    }

    /// Adds this user's signature to the newest signed run of `env` that still lacks one;
    /// the run, with its signatures.
    pub async fn cosign(&self, env: &str) -> Result<Report, Refusal> {
        let roles = self.fleet.env_config(env).map(|e| e.signoffs.clone()).unwrap_or_default();
        let session = self.session(env).await?;
        let (reports, problem) = self.checklists(env).await;
        if let Some(problem) = problem {
            return Err(Refusal::Unreachable(problem));
        }
        let Some(mut report) = reports.into_iter().next() else {
            return Err(Refusal::Precondition(format!(
                "no signed checklist for {env} to add a signature to"
            )));
        };
        if signoff::signers(&report).contains(&session.user) {
            return Err(Refusal::Precondition(format!(
                "{} has already signed the checklist run {}: the next signature must be another Kubernetes user's",
                session.user,
                signoff::run_id(&report)
            )));
        }
        if signoff::missing(&report, &roles).is_empty() {
            return Err(Refusal::NothingToDo {
                message: format!(
                    "the checklist run {} has every signature it needs",
                    signoff::run_id(&report)
                ),
                left_out: Vec::new(),
            });
        }
        let run = signoff::run_id(&report);
        let cosign = Cosign { run: run.clone(), user: session.user.clone(), at: jiff::Timestamp::now() };
        let id = format!("{run}-{}", crate::team::label_value(&session.user));
        let payload = serde_json::to_value(&cosign).map_err(|e| Refusal::Failed(e.to_string()))?;
        let mut shared = Shared::new(Kind::Signoff, id, session.user.clone(), env, payload);
        shared.about = Some(run);
        records::put(session.writer()?, self.team_namespace(), &shared).await?;
        report.cosigners.push(cosign);
        Ok(report)
    }
}
