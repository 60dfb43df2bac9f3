//! The reducer's rollback half: the rollback screen's keys, and following a confirmed
//! rollback live until it completes.

use super::{Update, prepare};
use crate::app::keymap::Command;
use crate::app::rollback::{self, Progress};
use crate::app::{Notice, Screen, State};
use crate::engine::Ask;
use crate::ops::{Operation, Plan};

/// The revisions of the screen's app, newest first, from its environment's snapshot.
pub(crate) fn revisions(state: &State, env: usize, app: usize) -> Vec<crate::ops::rollback::Revision> {
    let (Some(e), Some(placement)) = (state.envs.get(env), state.placement(env, app)) else {
        return Vec::new();
    };
    let Some(snapshot) = &e.snapshot else { return Vec::new() };
    let stable = crate::health::AppSpec::of(placement).live_names(&snapshot.inventory).0;
    rollback::revisions(&snapshot.inventory, &placement.namespace, stable)
}

/// `R`: the selected app's rollback screen, with the last known good revision preselected.
pub fn open(state: &mut State) -> Update {
    let (env, app) = (state.selected_env, state.selected_app);
    let selected = rollback::preselect(&revisions(state, env, app)).map(|c| c.revision);
    state.screen = Screen::Rollback { env, app, selected, progress: None };
    state.notice = None;
    recent_errors(state, env, app)
}

/// Part of "why roll back": what the running revision's pods have been logging, read once as
/// the screen opens. The canary's pods are not in it: the rollback is about the stable track.
fn recent_errors(state: &mut State, env: usize, app: usize) -> Update {
    let (Some(e), Some(placement), Some(name)) =
        (state.envs.get(env), state.placement(env, app), state.apps.get(app))
    else {
        return Update::redraw();
    };
    let Some(snapshot) = &e.snapshot else { return Update::redraw() };
    let targets: Vec<_> = crate::logs::targets(&crate::health::AppSpec::of(placement), &snapshot.inventory)
        .into_iter()
        .filter(|t| t.track == "stable")
        .collect();
    let minutes = state.fleet.config.logs.checklist_minutes;
    let effect = crate::app::Effect::RecentErrors {
        env: e.name.clone(),
        app: name.clone(),
        namespace: placement.namespace.clone(),
        targets,
        minutes,
    };
    state.recent_errors = Some(crate::app::rollback::RecentErrors {
        env: e.name.clone(),
        app: name.clone(),
        minutes,
        logs: None,
    });
    Update::effect(effect)
}

/// The rollback screen was opened before its environment's first sync: read its logs once
/// the pods are known.
pub fn recent_errors_wanted(state: &mut State, index: usize) -> Option<crate::app::Effect> {
    let Screen::Rollback { env, app, .. } = state.screen else { return None };
    if env != index || state.recent_errors.as_ref().is_some_and(|r| Some(&r.app) == state.apps.get(app)) {
        return None;
    }
    recent_errors(state, env, app).effects.into_iter().next()
}

/// The running revision's recent error lines, read for the rollback screen.
pub fn recent_errors_read(
    state: &mut State,
    env: &str,
    app: &str,
    logs: Result<crate::logs::Sample, String>,
) -> Update {
    match &mut state.recent_errors {
        Some(recent) if recent.env == env && recent.app == app && recent.logs.is_none() => {
            recent.logs = Some(logs);
            Update::redraw()
        }
        _ => Update::default(),
    }
}

/// ↑ ↓: a newer or older revision (the current one cannot be chosen).
pub fn select(state: &mut State, older: bool) {
    let Screen::Rollback { env, app, selected, progress: None } = &state.screen else { return };
    let (env, app) = (*env, *app);
    let choosable: Vec<u64> =
        revisions(state, env, app).iter().filter(|r| !r.current).map(|r| r.revision).collect();
    let at = selected.and_then(|s| choosable.iter().position(|r| *r == s));
    let next = match (at, older) {
        (None, _) => choosable.first().copied(),
        (Some(i), true) => choosable.get(i + 1).or(choosable.get(i)).copied(),
        (Some(i), false) => choosable.get(i.saturating_sub(1)).copied(),
    };
    if let Screen::Rollback { selected, .. } = &mut state.screen {
        *selected = next;
    }
}

/// The rollback screen's own keys.
pub fn command(state: &mut State, command: Command) -> Update {
    let Screen::Rollback { env, app, selected, progress } = &state.screen else { return Update::default() };
    let (env, app, selected) = (*env, *app, *selected);
    if progress.is_some() && command != Command::Pause {
        state.notice =
            Some(Notice { error: false, text: "a rollback is under way: Esc leaves this view".into() });
        return Update::redraw();
    }
    let ask = match command {
        Command::PlanRollback if selected.is_none() => {
            state.notice = Some(Notice { error: true, text: "no older revision to roll back to".into() });
            return Update::redraw();
        }
        Command::PlanRollback => Ask::Rollback { to_revision: selected },
        Command::SuspendGitOps => Ask::SuspendGitOps,
        Command::Pause => Ask::Pause,
        _ => return Update::default(),
    };
    prepare(state, env, app, ask)
}

/// A confirmed rollback from its screen is followed there, live, rather than behind a
/// progress box.
pub fn follow(state: &mut State, plan: &Plan) -> bool {
    let Screen::Rollback { progress, .. } = &mut state.screen else { return false };
    if plan.operation != Operation::Rollback {
        return false;
    }
    *progress = Some(Progress {
        started: state.clock,
        sentence: plan.sentence(),
        stage: "starting".into(),
        outcome: None,
    });
    true
}

/// The operation path's latest stage, for the live view.
pub fn stage(state: &mut State, now_at: &str) -> bool {
    let Screen::Rollback { progress: Some(p), .. } = &mut state.screen else { return false };
    if p.outcome.is_some() {
        return false;
    }
    now_at.clone_into(&mut p.stage);
    true
}

/// How the followed rollback ended.
pub fn finished(state: &mut State, sentence: &str, outcome: &str) {
    if let Screen::Rollback { progress: Some(p), .. } = &mut state.screen
        && p.sentence == sentence
    {
        p.outcome = Some(outcome.to_owned());
    }
}
