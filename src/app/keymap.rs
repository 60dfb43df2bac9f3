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
    /// Restart the selected app's Deployment in the selected environment.
    Restart,
    Pause,
    Resume,
    /// Confirm what the overlay asks (Enter, or y on a y/n question).
    Confirm,
    /// Refuse what the overlay asks; nothing is written.
    Cancel,
    /// Move between the typed confirmation's fields.
    NextField,
    /// Open the audit log screen.
    ShowAudit,
    /// Open the selected environment's detail.
    Drill,
    /// Start typing a filter.
    Filter,
    /// Open the selected app's canary screen in the selected environment.
    OpenCanary,
    /// Canary: the next step of the plan.
    CanaryStep,
    /// Canary: the step below.
    CanaryBack,
    /// Canary: start typing an exact weight.
    CanarySetWeight,
    /// Canary: weight 0.
    CanaryAbort,
    /// Canary: stable takes the canary's template, then weight 0, then the canary scales down.
    CanaryPromote,
    /// Canary: auto mode on (after a confirmation) or off.
    ToggleAuto,
    /// Every active canary in every environment to weight 0.
    KillSwitch,
    /// Open the selected app's rollback screen in the selected environment.
    OpenRollback,
    /// Rollback screen: plan the rollback to the selected revision.
    PlanRollback,
    /// Rollback screen: suspend the Flux object that would revert it.
    SuspendGitOps,
    /// Open the selected environment's checklist walk-through.
    OpenChecklist,
    /// Checklist: run the automated checks again.
    Recheck,
    /// Checklist: acknowledge a manual item, or take it back.
    ToggleItem,
    /// Checklist: write a note on the item.
    Note,
    /// Checklist: waive a failed check, with a reason.
    Waive,
    /// Checklist: sign it off.
    Sign,
    /// Checklist: jump to the next item that blocks sign-off.
    NextBlocking,
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
    /// A y/n confirmation.
    ConfirmYesNo,
    /// The typed confirmation: keys without a binding here are text.
    ConfirmTyped,
    /// An operation is being prepared or running: only Ctrl-c works.
    Busy,
    /// An operation's result is shown.
    Result,
    /// The audit log screen.
    Audit,
    /// An environment's detail.
    Drill,
    /// Typing the detail's filter: keys are text.
    DrillFilter,
    /// One app's canary screen.
    Canary,
    /// Typing an exact canary weight: keys are text.
    CanaryWeight,
    /// One app's rollback screen.
    Rollback,
    /// A checklist walk-through.
    Checklist,
    /// Typing a note, a waiver's reason or the signer's name: keys are text.
    ChecklistInput,
}

impl Mode {
    /// In text-entry modes every key without a binding of the mode's own is typed.
    pub fn takes_text(self) -> bool {
        matches!(self, Self::ConfirmTyped | Self::DrillFilter | Self::CanaryWeight | Self::ChecklistInput)
    }

    /// Modal screens answer only their own keys, and Ctrl-c: a stray `?` must not open help
    /// over a confirmation.
    pub fn is_modal(self) -> bool {
        matches!(
            self,
            Self::ConfirmYesNo
                | Self::ConfirmTyped
                | Self::Busy
                | Self::DrillFilter
                | Self::CanaryWeight
                | Self::ChecklistInput
        )
    }
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
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('q'), NONE)],
        command: Command::Quit,
        help: "quit",
    },
    Binding { mode: Mode::Help, keys: &[(KeyCode::Char('q'), NONE)], command: Command::Quit, help: "quit" },
    Binding { mode: Mode::Result, keys: &[(KeyCode::Char('q'), NONE)], command: Command::Quit, help: "quit" },
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
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('r'), NONE)],
        command: Command::Restart,
        help: "restart the app (rollout restart)",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('p'), NONE)],
        command: Command::Pause,
        help: "pause the app's rollout",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('u'), NONE)],
        command: Command::Resume,
        help: "resume (unpause) the app's rollout",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('a'), NONE)],
        command: Command::ShowAudit,
        help: "audit log: who did what, when, why",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('c'), NONE)],
        command: Command::OpenCanary,
        help: "canary screen: steps, analysis, abort",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('X'), NONE)],
        command: Command::KillSwitch,
        help: "kill switch: all canaries to 0%",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('C'), NONE)],
        command: Command::OpenChecklist,
        help: "the environment's pre-deploy checklist",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        command: Command::NextApp,
        help: "next item",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        command: Command::PrevApp,
        help: "previous item",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Char('n'), NONE)],
        command: Command::NextBlocking,
        help: "next item blocking sign-off",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Char(' '), NONE)],
        command: Command::ToggleItem,
        help: "acknowledge a manual item (again: undo)",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Char('e'), NONE)],
        command: Command::Note,
        help: "note on the item",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Char('w'), NONE)],
        command: Command::Waive,
        help: "waive a failed check, with a reason",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Char('r'), NONE)],
        command: Command::Recheck,
        help: "run the automated checks again",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Char('S'), NONE)],
        command: Command::Sign,
        help: "sign off (saves JSON and Markdown)",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "back (the walk-through is kept)",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[(KeyCode::Char('q'), NONE)],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::ChecklistInput,
        keys: &[(KeyCode::Enter, NONE)],
        command: Command::Confirm,
        help: "done",
    },
    Binding {
        mode: Mode::ChecklistInput,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Cancel,
        help: "cancel",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Char('R'), NONE)],
        command: Command::OpenRollback,
        help: "rollback screen: revisions, diff, undo",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        command: Command::NextApp,
        help: "older revision",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        command: Command::PrevApp,
        help: "newer revision",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Enter, NONE)],
        command: Command::PlanRollback,
        help: "roll back to the selected revision",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Char('p'), NONE)],
        command: Command::Pause,
        help: "pause the rollout while choosing",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Char('S'), NONE)],
        command: Command::SuspendGitOps,
        help: "suspend the Flux object",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Char('a'), NONE)],
        command: Command::ShowAudit,
        help: "audit log",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "back to the overview",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[(KeyCode::Char('q'), NONE)],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('s'), NONE)],
        command: Command::CanaryStep,
        help: "step up to the next weight",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('b'), NONE)],
        command: Command::CanaryBack,
        help: "step back down",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('='), NONE)],
        command: Command::CanarySetWeight,
        help: "set an exact weight",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('x'), NONE)],
        command: Command::CanaryAbort,
        help: "abort: weight 0",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('P'), NONE)],
        command: Command::CanaryPromote,
        help: "promote: stable takes the canary",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('A'), NONE)],
        command: Command::ToggleAuto,
        help: "auto mode on/off",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('X'), NONE)],
        command: Command::KillSwitch,
        help: "kill switch: all canaries to 0%",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Right, NONE), (KeyCode::Char('l'), NONE)],
        command: Command::NextEnv,
        help: "next environment's canary",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Left, NONE), (KeyCode::Char('h'), NONE)],
        command: Command::PrevEnv,
        help: "previous environment's canary",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Char('a'), NONE)],
        command: Command::ShowAudit,
        help: "audit log",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "back to the overview",
    },
    Binding { mode: Mode::Canary, keys: &[(KeyCode::Char('q'), NONE)], command: Command::Quit, help: "quit" },
    Binding {
        mode: Mode::CanaryWeight,
        keys: &[(KeyCode::Enter, NONE)],
        command: Command::Confirm,
        help: "plan this weight",
    },
    Binding {
        mode: Mode::CanaryWeight,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "cancel",
    },
    Binding {
        mode: Mode::Audit,
        keys: &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        command: Command::NextApp,
        help: "scroll down",
    },
    Binding {
        mode: Mode::Audit,
        keys: &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        command: Command::PrevApp,
        help: "scroll up",
    },
    Binding {
        mode: Mode::Audit,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "close the audit log",
    },
    Binding { mode: Mode::Audit, keys: &[(KeyCode::Char('q'), NONE)], command: Command::Quit, help: "quit" },
    Binding {
        mode: Mode::Overview,
        keys: &[(KeyCode::Enter, NONE)],
        command: Command::Drill,
        help: "detail: deployments, pods, events, history",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        command: Command::NextApp,
        help: "scroll down",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        command: Command::PrevApp,
        help: "scroll up",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[(KeyCode::Char('/'), NONE)],
        command: Command::Filter,
        help: "filter by name",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "back (clears a filter first)",
    },
    Binding { mode: Mode::Drill, keys: &[(KeyCode::Char('q'), NONE)], command: Command::Quit, help: "quit" },
    Binding {
        mode: Mode::DrillFilter,
        keys: &[(KeyCode::Enter, NONE), (KeyCode::Esc, NONE)],
        command: Command::Back,
        help: "stop typing the filter",
    },
    Binding {
        mode: Mode::ConfirmYesNo,
        keys: &[(KeyCode::Char('y'), NONE)],
        command: Command::Confirm,
        help: "yes: go ahead",
    },
    Binding {
        mode: Mode::ConfirmYesNo,
        keys: &[(KeyCode::Char('n'), NONE), (KeyCode::Esc, NONE)],
        command: Command::Cancel,
        help: "no: cancel, nothing is written",
    },
    Binding {
        mode: Mode::ConfirmTyped,
        keys: &[(KeyCode::Enter, NONE)],
        command: Command::Confirm,
        help: "confirm (name and reason must be filled in)",
    },
    Binding {
        mode: Mode::ConfirmTyped,
        keys: &[(KeyCode::Tab, NONE)],
        command: Command::NextField,
        help: "next field",
    },
    Binding {
        mode: Mode::ConfirmTyped,
        keys: &[(KeyCode::Esc, NONE)],
        command: Command::Cancel,
        help: "cancel, nothing is written",
    },
    Binding {
        mode: Mode::Result,
        keys: &[(KeyCode::Esc, NONE), (KeyCode::Enter, NONE)],
        command: Command::Back,
        help: "close",
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
    let own = KEYMAP.iter().filter(|b| b.mode == mode).find(matches);
    let global = || {
        KEYMAP
            .iter()
            .filter(|b| b.mode == Mode::Global)
            .filter(|b| !mode.is_modal() || b.command == Command::Quit)
            .find(matches)
    };
    own.or_else(global).map(|b| b.command)
}

/// How a key is written in the help and the footer.
pub fn key_label(code: KeyCode, modifiers: KeyModifiers) -> String {
    let key = match code {
        KeyCode::Char(' ') => "Space".to_owned(),
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
    fn q_quits_where_nothing_is_typed_or_running() {
        for mode in [Mode::Overview, Mode::Help, Mode::Result] {
            assert_eq!(command_for(mode, key(KeyCode::Char('q'))), Some(Command::Quit));
        }
        for mode in [Mode::ConfirmTyped, Mode::ConfirmYesNo, Mode::Busy] {
            assert_eq!(command_for(mode, key(KeyCode::Char('q'))), None, "{mode:?}");
        }
    }

    #[test]
    fn typed_confirmation_takes_text_but_ctrl_c_still_quits() {
        assert_eq!(command_for(Mode::ConfirmTyped, key(KeyCode::Char('?'))), None, "? is text here");
        assert_eq!(command_for(Mode::ConfirmTyped, key(KeyCode::Char('y'))), None);
        assert_eq!(command_for(Mode::ConfirmTyped, key(KeyCode::Esc)), Some(Command::Cancel));
        assert_eq!(
            command_for(Mode::ConfirmTyped, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
    }

    #[test]
    fn ctrl_c_works_in_every_mode() {
        for mode in
            [Mode::Overview, Mode::Help, Mode::ConfirmYesNo, Mode::ConfirmTyped, Mode::Busy, Mode::Result]
        {
            assert_eq!(
                command_for(mode, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
                Some(Command::Quit),
                "{mode:?}"
            );
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
