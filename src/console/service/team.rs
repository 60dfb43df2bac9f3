//! The console's side of the team's records: colleagues' approval requests read and answered,
//! and the audit overlay's log merged with the team's.

use super::Service;
use crate::app::OpEvent;
use crate::app::approvals::Pending;
use crate::team::approval::Standing;

impl Service {
    /// Every environment's pending requests; an environment that cannot be read is named.
    pub(super) async fn load_approvals(&self) {
        let mut items = Vec::new();
        let mut problems = Vec::new();
        for env in &self.engine.fleet().environments {
            let session = match self.engine.session(&env.name).await {
                Ok(session) => session,
                Err(e) => {
                    problems.push(format!("{}: {e}", env.name));
                    continue;
                }
            };
            let enforced = crate::cluster::records::policy_installed(&session.read).await.ok();
            match self.engine.requests(&session).await {
                Ok(listed) => {
                    items.extend(listed.into_iter().filter(|l| l.standing == Standing::Pending).map(|l| {
                        let r = l.request;
                        Pending {
                            env: env.name.clone(),
                            mine: r.requester == session.user,
                            id: r.id,
                            app: r.app,
                            operation: r.operation,
                            sentence: r.sentence,
                            steps: r.steps,
                            warnings: r.warnings,
                            requester: r.requester,
                            requested_at: r.requested_at,
                            expires_at: r.expires_at,
                            reason: r.reason,
                            enforced,
                        }
                    }));
                }
                Err(e) => problems.push(format!("{}: {e}", env.name)),
            }
        }
        let result =
            if items.is_empty() && !problems.is_empty() { Err(problems.join("; ")) } else { Ok(items) };
        self.send(OpEvent::Approvals(result)).await;
    }

    pub(super) async fn answer_approval(&self, env: &str, id: &str, approve: bool, reason: Option<&str>) {
        let result = self.engine.answer_request(env, id, approve, reason).await.map_or_else(
            |e| Err(format!("{id} not answered: {e}")),
            |l| {
                let then = if approve {
                    "goes ahead when they confirm it again, if the objects still match its plan"
                } else {
                    "is refused with your reason when they try again"
                };
                Ok(format!(
                    "{} {id} ({env}/{}: {}); {}'s operation {then}",
                    if approve { "approved" } else { "denied" },
                    l.request.app,
                    l.request.sentence,
                    l.request.requester
                ))
            },
        );
        self.send(OpEvent::Answered(result)).await;
    }

    /// This console's log merged with every environment's team records, newest first.
    pub(super) async fn load_audit(&self) {
        let local = match self.engine.audit() {
            Ok(log) => log.read().map(|(records, _)| records).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let Ok(local) = local else {
            self.send(OpEvent::Audit(local)).await;
            return;
        };
        let team = &self.engine.fleet().config.team;
        let mut shared = Vec::new();
        if team.shared_records {
            for env in &self.engine.fleet().environments {
                let Ok(session) = self.engine.session(&env.name).await else { continue };
                let listed =
                    crate::cluster::records::list(&session.read, &team.namespace, crate::team::Kind::Audit)
                        .await;
                if let Ok((found, _)) = listed {
                    shared.extend(
                        found
                            .into_iter()
                            .filter_map(|s| serde_json::from_value::<crate::audit::Record>(s.payload).ok()),
                    );
                }
            }
        }
        // In time order; the overlay shows them newest first.
        self.send(OpEvent::Audit(Ok(crate::audit::merge(local, shared)))).await;
    }
}

/// What the Lease holder is asked to hold.
pub(super) type Wanted = std::collections::BTreeMap<crate::app::controls::Key, crate::team::lease::Activity>;

impl Service {
    /// Holds the Leases in `wanted`, renewing them while they are wanted and releasing each
    /// when it no longer is; runs for the console's life. A read-only environment is never
    /// written to, a Lease included.
    pub(super) async fn hold_leases(
        &self,
        console: String,
        mut wanted: tokio::sync::watch::Receiver<Wanted>,
    ) {
        use crate::team::lease::{Holder, RENEW_EVERY_SECS};
        let namespace = self.engine.fleet().config.team.namespace.clone();
        let mut held: Wanted = Wanted::new();
        let mut renew = tokio::time::interval(std::time::Duration::from_secs(RENEW_EVERY_SECS));
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = wanted.changed() => if changed.is_err() { return },
                _ = renew.tick() => {}
            }
            // The console is gone: let go of everything rather than wait for the expiry.
            let now_wanted = if self.events.is_closed() { Wanted::new() } else { wanted.borrow().clone() };
            for ((env, app), _) in held.iter().filter(|(k, _)| !now_wanted.contains_key(*k)) {
                let Ok(session) = self.engine.session(env).await else { continue };
                let Some(write) = session.write.as_ref() else { continue };
                if let Err(e) = crate::cluster::lease::release(write, &namespace, env, app, &console).await {
                    tracing::warn!(env, app, error = %e, "could not release the Lease");
                }
            }
            held.clear();
            for ((env, app), activity) in &now_wanted {
                let Ok(session) = self.engine.session(env).await else { continue };
                let Some(write) = session.write.as_ref() else { continue };
                let now = jiff::Timestamp::now();
                let holder = Holder {
                    env: env.clone(),
                    app: app.clone(),
                    user: session.user.clone(),
                    activity: activity.words().to_owned(),
                    console: console.clone(),
                    since: now,
                    renewed: now,
                    duration_secs: i64::from(crate::team::lease::DURATION_SECS),
                };
                match crate::cluster::lease::hold(write, &namespace, &holder, false).await {
                    Ok(_) => {
                        held.insert((env.clone(), app.clone()), *activity);
                    }
                    Err(e) => tracing::warn!(env, app, error = %e, "could not hold the Lease"),
                }
            }
            if self.events.is_closed() {
                return;
            }
        }
    }
}
