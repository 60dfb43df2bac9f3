//! The one keymap: the dispatcher and the help overlay are both built from [`KEYMAP`], so
//! they cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the operator can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    ToggleHelp,
    /// Close the topmost overlay.
    Back,
    NextEnv,
    PrevEnv,
    NextApp,
    PrevApp,
}

/// Where the keys are read: some keys mean different things on different screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Active everywhere.
    Global,
    /// The environment overview.
    Overview,
    /// The help overlay.
    Help,
}

/// One row of the keymap.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub mode: Mode,
    pub keys: &'static [(KeyCode, KeyModifiers)],
    pub command: Command,
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;

pub const KEYMAP: &[Binding] = &[
    Binding { mode: Mode::Global, keys: &[(KeyCode::Char('q'), NONE)], command: Command::Quit, help: "quit" },
    Binding {
        mode: Mode::Global,
        keys: &[(KeyCode::Char('c'), KeyModifiers::CONTROL)],
        command: Command::Quit,
        help: "quit at once",
    },
    Binding {
        mode: Mode::Global,
        keys: &[(KeyCode::Char('?'), NONE)],
        command: Command::ToggleHelp,
        help: "show or hide this help",
    },
    Binding {
        mode: Mode::Help,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "close the help",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Right, NONE), (KeyCode::Char('l'), NONE), (KeyCode::Tab, NONE)],
        command: Command::NextEnv,
        help: "next environment",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Left, NONE), (KeyCode::Char('h'), NONE), (KeyCode::BackTab, KeyModifiers::SHIFT)],
        command: Command::PrevEnv,
        help: "previous environment",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        command: Command::NextApp,
        help: "next app",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        command: Command::PrevApp,
        help: "previous app",
    },
];

/// The command a key means in `mode`, if any. Global bindings apply in every mode; an
/// overlay's own bindings win over them.
pub fn command_for(mode: Mode, key: KeyEvent) -> Option<Command> {
    // Terminals disagree on whether Shift is reported with characters like '?'; compare
    // characters without it.
    let modifiers = match key.code {
        KeyCode::Char(_) => key.modifiers - KeyModifiers::SHIFT,
        _ => key.modifiers,
    };
    let matches = |b: &&Binding| {
        b.keys.iter().any(|(code, mods)| {
            *code == key.code
                && (*mods == modifiers
                    || (*code == KeyCode::BackTab && key.modifiers.contains(KeyModifiers::SHIFT)))
        })
    };
    KEYMAP
        .iter()
        .filter(|b| b.mode == mode)
        .find(matches)
        .or_else(|| KEYMAP.iter().filter(|b| b.mode == Mode::Global).find(matches))
        .map(|b| b.command)
}

/// How a key is written in the help and the footer.
pub fn key_label(code: KeyCode, modifiers: KeyModifiers) -> String {
    let key = match code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Left => "←".to_owned(),
        KeyCode::Right => "→".to_owned(),
        KeyCode::Up => "↑".to_owned(),
        KeyCode::Down => "↓".to_owned(),
        KeyCode::Enter => "Enter".to_owned(),
        KeyCode::Esc => "Esc".to_owned(),
        KeyCode::Tab => "Tab".to_owned(),
        KeyCode::BackTab => return "Shift-Tab".to_owned(),
        other => format!("{other:?}"),
    };
    if modifiers.contains(KeyModifiers::CONTROL) { format!("Ctrl-{key}") } else { key }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn global_keys_work_in_every_mode() {
        for mode in [Mode::Overview, Mode::Help] {
            assert_eq!(command_for(mode, key(KeyCode::Char('q'))), Some(Command::Quit));
        }
        assert_eq!(
            command_for(Mode::Overview, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
    }

    #[test]
    fn question_mark_with_shift_still_opens_help() {
        let shifted = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(command_for(Mode::Overview, shifted), Some(Command::ToggleHelp));
    }

    #[test]
    fn overview_keys_do_nothing_under_the_help_overlay() {
        assert_eq!(command_for(Mode::Help, key(KeyCode::Right)), None);
        assert_eq!(command_for(Mode::Help, key(KeyCode::Esc)), Some(Command::Back));
        assert_eq!(command_for(Mode::Overview, key(KeyCode::Esc)), None);
    }

    #[test]
    fn every_binding_has_help_text_and_a_key() {
        for b in KEYMAP {
            assert!(!b.help.is_empty() && !b.keys.is_empty(), "{b:?}");
        }
    }
}
