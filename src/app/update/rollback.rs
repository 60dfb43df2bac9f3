//! The reducer's rollback half: the rollback screen's keys, and following a confirmed
//! rollback live until it completes.

use super::{Update, prepare};
use crate::app::keymap::Command;
use crate::app::rollback::{self, Progress};
use crate::app::{Notice, Screen, State};
use crate::engine::Ask;
use crate::ops::{Operation, Plan};

/// The revisions of the screen's app, newest first, from its environment's snapshot.
fn revisions(state: &State, env: usize, app: usize) -> Vec<crate::ops::rollback::Revision> {
    let (Some(e), Some(placement)) = (state.envs.get(env), state.placement(env, app)) else {
        return Vec::new();
    };
    let Some(snapshot) = &e.snapshot else { return Vec::new() };
    let stable = crate::health::AppSpec::of(placement).live_names(&snapshot.inventory).0;
    rollback::revisions(&snapshot.inventory, &placement.namespace, stable)
}

/// `R`: the selected app's rollback screen, with the last known good revision preselected.
pub fn open(state: &mut State) {
    let (env, app) = (state.selected_env, state.selected_app);
    let selected = rollback::preselect(&revisions(state, env, app)).map(|c| c.revision);
    state.screen = Screen::Rollback { env, app, selected, progress: None };
    state.notice = None;
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
