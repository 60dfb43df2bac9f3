//! The reducer's checklist half: opening a walk-through, moving through it, acknowledging,
//! noting, waiving, re-checking and signing; the checks' objects and the saved report
//! arriving from the service.

use crate::app::KeyPress;

use super::Update;
use crate::app::checklist::{InputKind, Walk};
use crate::app::keymap::Command;
use crate::app::{Effect, Notice, Screen, State};

fn env_name(state: &State) -> Option<String> {
    let Screen::Checklist { env } = state.screen else { return None };
    state.envs.get(env).map(|e| e.name.clone())
}

/// `C`: the selected environment's checklist; the first time, its checks run.
pub fn open(state: &mut State) -> Update {
    let env = state.selected_env;
    let Some(name) = state.envs.get(env).map(|e| e.name.clone()) else { return Update::default() };
    state.screen = Screen::Checklist { env };
    state.notice = None;
    if state.walks.contains_key(&name) {
        return Update::redraw();
    }
    state.checklist_pending.insert(name.clone(), None);
    Update::effect(Effect::RunChecks { env: name })
}

/// The checklist screen's keys.
pub fn command(state: &mut State, command: Command) -> Update {
    let Some(name) = env_name(state) else { return Update::default() };
    let signer = state.envs.iter().find(|e| e.name == name).and_then(|e| e.user.clone()).unwrap_or_default();
    let now = state.clock;
    let Some(walk) = state.walks.get_mut(&name) else { return Update::default() };
    let result: Result<Option<Effect>, String> = match command {
        Command::NextApp => {
            walk.down();
            Ok(None)
        }
        Command::PrevApp => {
            walk.up();
            Ok(None)
        }
        Command::NextBlocking => {
            walk.next_blocking();
            Ok(None)
        }
        Command::ToggleItem => walk.toggle().map(|()| None),
        Command::Note => walk.start(InputKind::Note, &signer).map(|()| None),
        Command::Waive => walk.start(InputKind::Waiver, &signer).map(|()| None),
        Command::Sign => walk.start(InputKind::Signer, &signer).map(|()| None),
        Command::Recheck => {
            walk.checking = true;
            Ok(Some(Effect::RunChecks { env: name.clone() }))
        }
        Command::Confirm => match walk.finish(now) {
            Ok(true) => Ok(Some(Effect::SaveChecklist { report: Box::new(walk.report.clone()) })),
            Ok(false) => Ok(None),
            Err(e) => Err(e),
        },
        Command::Cancel => {
            walk.input = None;
            Ok(None)
        }
        _ => return Update::default(),
    };
    match result {
        Ok(effect) => {
            walk.error = None;
            Update { redraw: true, effects: effect.into_iter().collect() }
        }
        Err(e) => {
            walk.error = Some(e.clone());
            state.notice = Some(Notice { error: true, text: e });
            Update::redraw()
        }
    }
}

/// A key typed into the walk-through's text field.
pub fn type_text(state: &mut State, key: KeyPress) -> bool {
    let Some(name) = env_name(state) else { return false };
    let Some((_, text)) = state.walks.get_mut(&name).and_then(|w| w.input.as_mut()) else { return false };
    // One line: Enter is the command that finishes it.
    text.input(key);
    true
}

/// The checklist and the objects its checks read arrived (or why not).
pub fn checked(
    state: &mut State,
    env: &str,
    result: Result<Box<(crate::checklist::Checklist, crate::checklist::Objects)>, String>,
) -> Update {
    match result {
        Ok(found) => {
            let (checklist, objects) = *found;
            state.checklist_pending.remove(env);
            let now = state.clock;
            let walk = state.walks.entry(env.to_owned()).or_insert_with(|| Walk::new(checklist, env, now));
            walk.checked(&objects);
        }
        Err(e) => {
            match state.walks.get_mut(env) {
                Some(walk) => {
                    walk.checking = false;
                    walk.error = Some(e.clone());
                }
                None => {
                    state.checklist_pending.insert(env.to_owned(), Some(e.clone()));
                }
            }
            state.notice = Some(Notice { error: true, text: format!("checklist {env}: {e}") });
        }
    }
    Update::redraw()
}

/// The signed report was saved (or not).
pub fn saved(
    state: &mut State,
    env: &str,
    result: Result<(std::path::PathBuf, std::path::PathBuf), String>,
    shared: Result<(), String>,
) -> Update {
    let Some(walk) = state.walks.get_mut(env) else { return Update::default() };
    state.notice = Some(match (result, shared) {
        (Ok((json, markdown)), Ok(())) => {
            let text = format!(
                "checklist for {env} signed by {} and saved: {}, and kept in {env}'s cluster for the team",
                walk.report.signed_by.as_deref().unwrap_or("?"),
                markdown.display()
            );
            walk.saved = Some((json, markdown));
            Notice { error: false, text }
        }
        // Signed here, so this console's gate opens; a colleague's will not see it.
        (Ok((json, markdown)), Err(why)) => {
            let text = format!(
                "checklist for {env} saved on this machine ({}) but NOT kept in the cluster, so colleagues' gates do not see it: {why}",
                markdown.display()
            );
            walk.saved = Some((json, markdown));
            Notice { error: true, text }
        }
        (Err(e), _) => {
            // Not saved is not signed: the gate would not see it.
            walk.report.signed_by = None;
            walk.report.signed_at = None;
            walk.error = Some(format!("not saved: {e}"));
            Notice { error: true, text: format!("checklist for {env} NOT saved (so not signed): {e}") }
        }
    });
    Update::redraw()
}
