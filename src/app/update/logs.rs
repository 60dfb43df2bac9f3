//! The reducer's log half: `L` opens the selected app's logs over the screen it was pressed
//! on, the watches' pod changes become the follow's pod set, and the follow's events are
//! folded into the view.

use super::Update;
use crate::app::keymap::Command;
use crate::app::keys::{Key, KeyPress};
use crate::app::logs::LogView;
use crate::app::{Effect, Screen, State};
use crate::health::assess::AppSpec;
use crate::logs::Target;

/// The pods of `app` in `env` as the latest snapshot has them.
fn targets(state: &State, env: usize, app: usize) -> Vec<Target> {
    let (Some(placement), Some(snapshot)) =
        (state.placement(env, app), state.envs.get(env).and_then(|e| e.snapshot.as_ref()))
    else {
        return Vec::new();
    };
    crate::logs::targets(&AppSpec::of(placement), &snapshot.inventory)
}

/// `L` on the overview, canary or rollback screen.
pub fn open(state: &mut State) -> Update {
    let (env, app) = match &state.screen {
        Screen::Canary { env, app, .. } | Screen::Rollback { env, app, .. } | Screen::Guard { env, app } => {
            (*env, *app)
        }
        Screen::Overview => (state.selected_env, state.selected_app),
        Screen::Checklist { .. } | Screen::Logs { .. } => return Update::default(),
    };
    let (Some(env_name), Some(app_name)) = (state.envs.get(env).map(|e| e.name.clone()), state.apps.get(app))
    else {
        return Update::default();
    };
    let targets = targets(state, env, app);
    let namespace = state.placement(env, app).map(|p| p.namespace.clone()).unwrap_or_default();
    let split = state.placement(env, app).is_some_and(|p| p.canary.is_some())
        || targets.iter().any(|t| t.track == "canary");
    state.log_session += 1;
    let mut view =
        LogView::new(state.log_session, &env_name, app_name, split, state.fleet.config.logs.buffer_lines);
    view.set_targets(targets.clone());
    state.logs = Some(view);
    let back = Box::new(std::mem::replace(&mut state.screen, Screen::Overview));
    state.screen = Screen::Logs { env, app, back };
    state.notice = None;
    Update::effect(Effect::FollowLogs { session: state.log_session, env: env_name, namespace, targets })
}

/// Esc: a whole line closes first, then the screen, back to where it was opened.
pub fn back(state: &mut State) -> Update {
    if let Some(view) = &mut state.logs
        && view.expanded.take().is_some()
    {
        return Update::redraw();
    }
    let Screen::Logs { back, .. } = std::mem::replace(&mut state.screen, Screen::Overview) else {
        return Update::default();
    };
    state.screen = *back;
    match state.logs.take() {
        Some(view) => Update::effect(Effect::StopLogs { session: view.session }),
        None => Update::redraw(),
    }
}

/// The log screen's keys.
pub fn command(state: &mut State, command: Command) -> Option<Update> {
    if !matches!(state.screen, Screen::Logs { .. }) || state.overlay.is_some() {
        return None;
    }
    if command == Command::Back {
        return Some(back(state));
    }
    let view = state.logs.as_mut()?;
    match command {
        Command::PrevApp | Command::NextApp => view.move_cursor(command == Command::PrevApp),
        Command::LogsPane => view.switch_pane(),
        Command::LogsFollow => view.toggle_follow(),
        Command::LogsPause => view.toggle_pause(),
        Command::Filter => view.typing = true,
        Command::Confirm if view.typing => view.typing = false,
        Command::Cancel if view.typing => {
            view.typing = false;
            view.set_filter(String::new());
        }
        Command::Confirm => view.expanded = view.selected().cloned(),
        _ => return None,
    }
    Some(Update::redraw())
}

/// A key typed into the filter.
pub fn type_text(state: &mut State, key: KeyPress) -> bool {
    let Some(view) = state.logs.as_mut().filter(|v| v.typing) else { return false };
    let mut filter = view.filter.clone();
    match key.key {
        Key::Char(c) if !key.ctrl => filter.push(c),
        Key::Backspace => {
            filter.pop();
        }
        _ => return false,
    }
    view.set_filter(filter);
    true
}

/// The environment on screen has a new snapshot: its pods may have come or gone.
pub fn env_changed(state: &mut State, index: usize) -> Option<Effect> {
    let Screen::Logs { env, app, .. } = &state.screen else { return None };
    if *env != index {
        return None;
    }
    let targets = targets(state, *env, *app);
    let namespace = state.placement(*env, *app)?.namespace.clone();
    let view = state.logs.as_mut()?;
    view.set_targets(targets.clone()).then(|| Effect::FollowLogs {
        session: view.session,
        env: view.env.clone(),
        namespace,
        targets,
    })
}

/// The follow's events: those of a follow that has since closed are dropped.
pub fn events(state: &mut State, events: Vec<(u64, crate::cluster::logs::LogEvent)>) -> Update {
    let Some(view) = state.logs.as_mut() else { return Update::default() };
    let mut changed = false;
    for (session, event) in events {
        if session == view.session {
            view.apply(event);
            changed = true;
        }
    }
    Update::quiet(changed)
}
