//! The console's guards: when the watches see an app's stable Deployment move to a new
//! revision (a template change, whoever made it — opsdeck, kubectl, Flux), a guard follows it
//! for the environment's period, judged by the rollback decision tree at every snapshot. On
//! `rollback` the webhook hears it and, with `auto_rollback`, the console rolls back itself
//! through the operation engine; otherwise the rollback screen opens with the tree's reason
//! waiting for the confirmation. Pure: the snapshot and the metrics round are in the state.

use std::collections::{BTreeMap, BTreeSet};

use super::{Effect, Notice, Screen, State};
use crate::engine::{Ask, Origin, Request};
use crate::guard::observe::{current_replica_set, observed};
use crate::guard::{Baseline, Change, Guard, Limits, Outcome, decide};
use crate::health::AppSpec;
use crate::health::assess::image_tag;

/// `(environment, app)`.
pub type Key = (String, String);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Guards {
    /// The latest guard of each app, running or ended.
    pub by_app: BTreeMap<Key, Guard>,
    /// The revision each app was last seen on: a change starts a guard, the first sight (the
    /// console opening) does not.
    seen: BTreeMap<Key, Option<u64>>,
    /// Apps the guard rolled back by itself: the guard of the revision that rollback makes
    /// only watches, so two bad versions can never roll each other back in a loop.
    rolled_back: BTreeSet<Key>,
    /// The tree's reason for a rollback the operator has not made yet: the confirmation of a
    /// rollback of that app starts with it in its reason field.
    pub reason: Option<(Key, String)>,
}

impl Guards {
    pub fn of(&self, env: &str, app: &str) -> Option<&Guard> {
        self.by_app.get(&(env.to_owned(), app.to_owned()))
    }
}

/// The environment's snapshot changed: guards start on new revisions, running ones are judged.
pub fn on_health(state: &mut State, index: usize) -> Vec<Effect> {
    let now = state.clock.max(jiff::Timestamp::now());
    judge(state, index, now, true)
}

/// The clock moved: a guard whose period is over concludes even if nothing changed.
pub fn on_tick(state: &mut State, now: jiff::Timestamp) -> Vec<Effect> {
    let due: BTreeSet<usize> = state
        .guards
        .by_app
        .values()
        .filter(|g| g.ended.is_none() && now >= g.until)
        .filter_map(|g| state.envs.iter().position(|e| e.name == g.env))
        .collect();
    due.into_iter().flat_map(|index| judge(state, index, now, false)).collect()
}

fn judge(state: &mut State, index: usize, now: jiff::Timestamp, may_start: bool) -> Vec<Effect> {
    let Some(env) = state.envs.get(index) else { return Vec::new() };
    let Some(snapshot) = env.snapshot.clone() else { return Vec::new() };
    // Stale data judges nothing: what is shown may no longer be true.
    if snapshot.stale.is_some() {
        return Vec::new();
    }
    let env_name = env.name.clone();
    let Some(env_config) = state.fleet.env_config(&env_name).cloned() else { return Vec::new() };
    let round = env.metrics.as_ref().and_then(|m| m.as_ref().ok()).cloned();
    let placements = state.fleet.environments.get(index).map(|e| e.apps.clone()).unwrap_or_default();
    let mut effects = Vec::new();
    for placement in &placements {
        let key = (env_name.clone(), placement.app.clone());
        let spec = AppSpec::of(placement);
        let current = current_replica_set(&spec, &snapshot.inventory);
        let revision = current.and_then(|rs| rs.revision);
        if may_start {
            let before = state.guards.seen.insert(key.clone(), revision);
            if let Some(before) = before
                && before != revision
                && revision.is_some()
            {
                let limits = state
                    .fleet
                    .config
                    .app(&placement.app)
                    .map_or_else(Limits::default, |a| Limits::of(&a.guard));
                let version = current.and_then(|rs| rs.images.first()).map(|i| image_tag(i));
                let mut guard = Guard::new(
                    &env_name,
                    &placement.app,
                    revision,
                    version,
                    now,
                    env_config.guard_period(),
                    limits,
                );
                // The stable track's last round, taken before the new pods served.
                guard.baseline = round
                    .as_ref()
                    .and_then(|r| r.app(&placement.app))
                    .map(|m| m.stable.clone())
                    .filter(|f| f.requests >= limits.min_requests as f64)
                    .map(|figures| Baseline {
                        figures,
                        from: format!(
                            "the stable track's round at {}, before the change",
                            round
                                .as_ref()
                                .map_or_else(String::new, |r| r.at.strftime("%H:%M:%S UTC").to_string())
                        ),
                    });
                if let Some(old) = state.guards.by_app.get_mut(&key) {
                    old.superseded(revision, now);
                }
                state.guards.by_app.insert(key.clone(), guard);
            }
        }
        let Some(guard) = state.guards.by_app.get_mut(&key) else { continue };
        if guard.ended.is_some() {
            continue;
        }
        // The stable track's figures, once a round has been taken since the guard began.
        let figures = round
            .as_ref()
            .filter(|r| r.at > guard.started)
            .and_then(|r| r.app(&placement.app))
            .map(|m| m.stable.clone());
        let tree = decide(
            &observed(
                &spec,
                &snapshot.inventory,
                now,
                snapshot.reads_services,
                figures,
                guard.baseline.as_ref().map(|b| b.figures.clone()),
            ),
            &guard.limits,
        );
        let changes = guard.observe(tree, now);
        let guard = guard.clone();
        for change in changes {
            let Change::Ended(ended) = change else { continue };
            effects.extend(ended_effects(
                state,
                index,
                &key,
                &guard,
                ended.outcome,
                &ended.reason,
                env_config.guard.auto_rollback,
            ));
        }
    }
    effects
}

/// What a guard's end sets off: on `rollback` a notification and the rollback, made by the
/// console itself with `auto_rollback`, else offered on the rollback screen.
fn ended_effects(
    state: &mut State,
    index: usize,
    key: &Key,
    guard: &Guard,
    outcome: Outcome,
    reason: &str,
    auto_rollback: bool,
) -> Vec<Effect> {
    let subject = format!("{}/{}", key.0, key.1);
    match outcome {
        Outcome::Rollback => {}
        Outcome::Ok => {
            state.guards.rolled_back.remove(key);
            state.notice = Some(Notice { error: false, text: format!("guard: {subject} ok — {reason}") });
            return Vec::new();
        }
        Outcome::Watch => {
            state.notice =
                Some(Notice { error: true, text: format!("guard: {subject} ended on watch — {reason}") });
            return Vec::new();
        }
        Outcome::Superseded => return Vec::new(),
    }
    let automatic = auto_rollback && !state.guards.rolled_back.contains(key);
    let mut effects = vec![Effect::Notify(crate::audit::guard_payload(
        &key.0,
        &key.1,
        guard.version.as_deref(),
        reason,
        automatic,
    ))];
    let app = state.apps.iter().position(|a| *a == key.1);
    let to_revision = app.and_then(|app| {
        crate::app::rollback::preselect(&super::update::rollback_revisions(state, index, app))
            .map(|c| c.revision)
    });
    if automatic {
        state.guards.rolled_back.insert(key.clone());
        let mut request = Request::new(&key.0, &key.1, Ask::Rollback { to_revision });
        request.origin = Origin::Guard { reason: reason.to_owned() };
        effects.push(Effect::GuardRollback(request));
        state.notice = Some(Notice {
            error: true,
            text: format!("guard: rolling back {subject} by itself — {reason}"),
        });
        return effects;
    }
    state.guards.reason = Some((key.clone(), reason.to_owned()));
    // The rollback screen opens by itself only over the overview, never over what the operator
    // is doing; as `R` opens it, with the last known good preselected and the logs' "why".
    if let (Some(app), Screen::Overview, None) = (app, &state.screen, &state.overlay) {
        state.selected_env = index;
        state.selected_app = app;
        effects.extend(super::update::open_rollback(state).effects);
    }
    state.notice = Some(Notice { error: true, text: format!("guard: roll back {subject} — {reason}") });
    effects
}

/// The guard's part of an app's row: its countdown and its stage in the tree, while running,
/// or how it ended.
pub fn row_words(guard: &Guard, now: jiff::Timestamp) -> String {
    if guard.ended.is_some() {
        return format!("guard {}", guard.stage());
    }
    let left = guard.remaining(now).as_secs();
    let left = if left >= 60 { format!("{}m", left.div_ceil(60)) } else { format!("{left}s") };
    format!("guard {left} left · {}", guard.stage())
}
