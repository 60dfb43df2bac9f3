//! The reducer: `update(&mut State, Action) -> bool`, true when the frame must be redrawn.

use crate::cluster::EnvUpdate;

use super::keymap::{Command, command_for};
use super::{Action, Connection, Overlay, State};

pub fn update(state: &mut State, action: Action) -> bool {
    match action {
        Action::Resize => true,
        Action::Key(key) => command_for(state.mode(), key).is_some_and(|command| run(state, command)),
        Action::Env { index, update } => {
            let Some(env) = state.envs.get_mut(index) else { return false };
            let next = match update {
                EnvUpdate::Connecting => match &env.connection {
                    // A reconnect keeps showing what was last known, marked unreachable.
                    Connection::Unreachable { .. } => return false,
                    _ => Connection::Connecting,
                },
                EnvUpdate::Reachable { server, at } => Connection::Reachable { server, at },
                EnvUpdate::Unreachable { reason, at } => {
                    let last_ok = match &env.connection {
                        Connection::Reachable { at, .. } => Some(*at),
                        Connection::Unreachable { last_ok, .. } => *last_ok,
                        _ => None,
                    };
                    Connection::Unreachable { reason, at, last_ok }
                }
                EnvUpdate::Misconfigured { reason } => Connection::Misconfigured { reason },
            };
            if env.connection == next {
                return false;
            }
            env.connection = next;
            true
        }
    }
}

fn run(state: &mut State, command: Command) -> bool {
    let envs = state.envs.len().max(1);
    let apps = state.apps.len().max(1);
    match command {
        Command::Quit => state.quit = true,
        Command::ToggleHelp => {
            state.overlay = if state.overlay == Some(Overlay::Help) { None } else { Some(Overlay::Help) };
        }
        Command::Back => state.overlay = None,
        Command::NextEnv => state.selected_env = (state.selected_env + 1) % envs,
        Command::PrevEnv => state.selected_env = (state.selected_env + envs - 1) % envs,
        Command::NextApp => state.selected_app = (state.selected_app + 1) % apps,
        Command::PrevApp => state.selected_app = (state.selected_app + apps - 1) % apps,
    }
    true
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::cluster::ServerInfo;

    fn state() -> State {
        let config = crate::config::parse(
            Path::new("t.toml"),
            r#"
            [[environments]]
            name = "staging"
            context = "staging"
            [[environments]]
            name = "production"
            context = "production"
            protection = "typed"
            [[apps]]
            name = "web"
            deployment = "web"
            "#,
        )
        .expect("valid");
        State::new(&config, false)
    }

    fn key(c: char) -> Action {
        Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    #[test]
    fn q_quits_and_ctrl_c_quits() {
        let mut s = state();
        assert!(update(&mut s, key('q')));
        assert!(s.quit);
        let mut s = state();
        update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(s.quit);
    }

    #[test]
    fn help_opens_closes_and_captures_navigation() {
        let mut s = state();
        update(&mut s, key('?'));
        assert_eq!(s.overlay, Some(Overlay::Help));
        assert!(!update(&mut s, key('l')), "navigation is inert under the overlay");
        assert_eq!(s.selected_env, 0);
        update(&mut s, Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert_eq!(s.overlay, None);
    }

    #[test]
    fn environment_selection_wraps() {
        let mut s = state();
        update(&mut s, key('h'));
        assert_eq!(s.selected_env, 1);
        update(&mut s, key('l'));
        assert_eq!(s.selected_env, 0);
    }

    #[test]
    fn unknown_keys_do_not_redraw() {
        let mut s = state();
        assert!(!update(&mut s, key('z')));
    }

    #[test]
    fn unreachable_remembers_when_it_last_answered() {
        let mut s = state();
        let at = jiff::Timestamp::from_second(1_800_000_000).expect("ts");
        let server = ServerInfo { version: "v1.33.1".into(), latency: Duration::from_millis(12) };
        update(&mut s, Action::Env { index: 1, update: EnvUpdate::Reachable { server, at } });
        let later = jiff::Timestamp::from_second(1_800_000_060).expect("ts");
        update(
            &mut s,
            Action::Env {
                index: 1,
                update: EnvUpdate::Unreachable { reason: "timed out".into(), at: later },
            },
        );
        assert_eq!(
            s.envs[1].connection,
            Connection::Unreachable { reason: "timed out".into(), at: later, last_ok: Some(at) }
        );
        // A reconnect attempt does not hide that the environment is unreachable.
        assert!(!update(&mut s, Action::Env { index: 1, update: EnvUpdate::Connecting }));
        assert!(!update(&mut s, Action::Env { index: 9, update: EnvUpdate::Connecting }));
    }
}
