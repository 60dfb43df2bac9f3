//! The one keymap: the dispatcher and the help overlay are both built from [`KEYMAP`], so
//! they cannot drift apart.

use super::keys::{Key, KeyPress};

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
    /// Start the app's canary with the version the previous environment runs.
    StartCanary,
    /// A controller's canary (Argo Rollouts): skip the remaining steps.
    ControllerPromoteFull,
    /// Argo Rollouts: retry an aborted update.
    ControllerRetry,
    /// Argo Rollouts: pause the Rollout; Flagger: suspend the analysis.
    ControllerPause,
    /// Argo Rollouts: resume; Flagger: resume the analysis.
    ControllerResume,
    /// Flagger: open the loadtester gate it waits at (approve the step, the promotion).
    GateOpen,
    /// Flagger: close that gate again.
    GateClose,
    /// Flagger: open the rollback gate (roll back now).
    GateRollback,
    /// Promote the selected app from the selected environment to the next.
    PromoteNext,
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
    /// Open the logs of the selected app (canary and stable side by side).
    OpenLogs,
    /// The selected app's guard: the rollback decision tree with every node's evidence.
    OpenGuard,
    /// The approvals overlay: colleagues' requests.
    ShowApprovals,
    /// Approve the selected request.
    Approve,
    /// Deny the selected request (a reason is asked for).
    Deny,
    /// Logs: keep the newest line in view, or stop following.
    LogsFollow,
    /// Logs: hold new lines, or show them and go on.
    LogsPause,
    /// Logs: the cursor to the other track's pane.
    LogsPane,
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
    /// The log screen.
    Logs,
    /// Typing the log screen's filter: keys are text.
    LogsFilter,
    /// One app's guard: the decision tree with its evidence.
    Guard,
    /// Colleagues' approval requests.
    Approvals,
    /// Typing why a request is denied.
    ApprovalsReason,
}

impl Mode {
    /// In text-entry modes every key without a binding of the mode's own is typed.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Self::ConfirmTyped
                | Self::DrillFilter
                | Self::CanaryWeight
                | Self::ChecklistInput
                | Self::LogsFilter
                | Self::ApprovalsReason
        )
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
                | Self::LogsFilter
                | Self::ApprovalsReason
        )
    }
}

/// One row of the keymap.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub mode: Mode,
    pub keys: &'static [KeyPress],
    pub command: Command,
    pub help: &'static str,
}

pub const KEYMAP: &[Binding] = &[
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::Help,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::Result,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::Global,
        keys: &[KeyPress::ctrl(Key::Char('c'))],
        command: Command::Quit,
        help: "quit at once",
    },
    Binding {
        mode: Mode::Global,
        keys: &[KeyPress::plain(Key::Char('?'))],
        command: Command::ToggleHelp,
        help: "show or hide this help",
    },
    Binding {
        mode: Mode::Help,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "close the help",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Right), KeyPress::plain(Key::Char('l')), KeyPress::plain(Key::Tab)],
        command: Command::NextEnv,
        help: "next environment",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Left), KeyPress::plain(Key::Char('h')), KeyPress::plain(Key::BackTab)],
        command: Command::PrevEnv,
        help: "previous environment",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Down), KeyPress::plain(Key::Char('j'))],
        command: Command::NextApp,
        help: "next app",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Up), KeyPress::plain(Key::Char('k'))],
        command: Command::PrevApp,
        help: "previous app",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('r'))],
        command: Command::Restart,
        help: "restart the app (rollout restart)",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('p'))],
        command: Command::Pause,
        help: "pause the app's rollout",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('u'))],
        command: Command::Resume,
        help: "resume (unpause) the app's rollout",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('a'))],
        command: Command::ShowAudit,
        help: "audit log: who did what, when, why",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('c'))],
        command: Command::OpenCanary,
        help: "canary screen: steps, analysis, abort",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('X'))],
        command: Command::KillSwitch,
        help: "kill switch: all canaries to 0%",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('m'))],
        command: Command::PromoteNext,
        help: "promote to the next environment",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('N'))],
        command: Command::StartCanary,
        help: "start a canary: previous env's version",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('C'))],
        command: Command::OpenChecklist,
        help: "the environment's pre-deploy checklist",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('L'))],
        command: Command::OpenLogs,
        help: "logs: stable and canary, errors marked",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('G'))],
        command: Command::OpenGuard,
        help: "the app's guard: the rollback decision tree and its evidence",
    },
    Binding { mode: Mode::Guard, keys: &[KeyPress::plain(Key::Esc)], command: Command::Back, help: "back" },
    Binding {
        mode: Mode::Guard,
        keys: &[KeyPress::plain(Key::Char('R'))],
        command: Command::OpenRollback,
        help: "the app's rollback screen",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('L'))],
        command: Command::OpenLogs,
        help: "logs of the canary and stable",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Char('L'))],
        command: Command::OpenLogs,
        help: "logs of the app",
    },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Up), KeyPress::plain(Key::Char('k'))],
        command: Command::PrevApp,
        help: "older line",
    },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Down), KeyPress::plain(Key::Char('j'))],
        command: Command::NextApp,
        help: "newer line",
    },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Tab)],
        command: Command::LogsPane,
        help: "other pane",
    },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Char('/'))],
        command: Command::Filter,
        help: "filter",
    },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Char('f'))],
        command: Command::LogsFollow,
        help: "follow on/off",
    },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Char('p'))],
        command: Command::LogsPause,
        help: "pause (lines held)",
    },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::Confirm,
        help: "whole line",
    },
    Binding { mode: Mode::Logs, keys: &[KeyPress::plain(Key::Esc)], command: Command::Back, help: "back" },
    Binding {
        mode: Mode::Logs,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::LogsFilter,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::Confirm,
        help: "keep the filter",
    },
    Binding {
        mode: Mode::LogsFilter,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Cancel,
        help: "clear the filter",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Down), KeyPress::plain(Key::Char('j'))],
        command: Command::NextApp,
        help: "next item",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Up), KeyPress::plain(Key::Char('k'))],
        command: Command::PrevApp,
        help: "previous item",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Char('n'))],
        command: Command::NextBlocking,
        help: "next item blocking sign-off",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Char(' '))],
        command: Command::ToggleItem,
        help: "acknowledge a manual item (again: undo)",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Char('e'))],
        command: Command::Note,
        help: "note on the item",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Char('w'))],
        command: Command::Waive,
        help: "waive a failed check, with a reason",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Char('r'))],
        command: Command::Recheck,
        help: "run the automated checks again",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Char('S'))],
        command: Command::Sign,
        help: "sign off (saves JSON and Markdown)",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "back (the walk-through is kept)",
    },
    Binding {
        mode: Mode::Checklist,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::ChecklistInput,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::Confirm,
        help: "done",
    },
    Binding {
        mode: Mode::ChecklistInput,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Cancel,
        help: "cancel",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('R'))],
        command: Command::OpenRollback,
        help: "rollback screen: revisions, diff, undo",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Down), KeyPress::plain(Key::Char('j'))],
        command: Command::NextApp,
        help: "older revision",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Up), KeyPress::plain(Key::Char('k'))],
        command: Command::PrevApp,
        help: "newer revision",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::PlanRollback,
        help: "roll back to the selected revision",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Char('p'))],
        command: Command::Pause,
        help: "pause the rollout while choosing",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Char('S'))],
        command: Command::SuspendGitOps,
        help: "suspend the Flux object",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Char('a'))],
        command: Command::ShowAudit,
        help: "audit log",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "back to the overview",
    },
    Binding {
        mode: Mode::Rollback,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('s'))],
        command: Command::CanaryStep,
        help: "step up to the next weight",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('b'))],
        command: Command::CanaryBack,
        help: "step back down",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('='))],
        command: Command::CanarySetWeight,
        help: "set an exact weight",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('x'))],
        command: Command::CanaryAbort,
        help: "abort: weight 0",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('P'))],
        command: Command::CanaryPromote,
        help: "promote: stable takes the canary",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('A'))],
        command: Command::ToggleAuto,
        help: "auto mode on/off",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('X'))],
        command: Command::KillSwitch,
        help: "kill switch: all canaries to 0%",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('N'))],
        command: Command::StartCanary,
        help: "start a canary: previous env's version",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('F'))],
        command: Command::ControllerPromoteFull,
        help: "Argo Rollouts: promote --full",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('r'))],
        command: Command::ControllerRetry,
        help: "Argo Rollouts: retry after an abort",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('p'))],
        command: Command::ControllerPause,
        help: "Argo: pause · Flagger: suspend",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('u'))],
        command: Command::ControllerResume,
        help: "Argo: resume · Flagger: resume",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('o'))],
        command: Command::GateOpen,
        help: "Flagger: open the gate it waits at",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('c'))],
        command: Command::GateClose,
        help: "Flagger: close that gate",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('R'))],
        command: Command::GateRollback,
        help: "Flagger: roll back now (rollback gate)",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Right), KeyPress::plain(Key::Char('l'))],
        command: Command::NextEnv,
        help: "next environment's canary",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Left), KeyPress::plain(Key::Char('h'))],
        command: Command::PrevEnv,
        help: "previous environment's canary",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('a'))],
        command: Command::ShowAudit,
        help: "audit log",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "back to the overview",
    },
    Binding {
        mode: Mode::Canary,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::CanaryWeight,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::Confirm,
        help: "plan this weight",
    },
    Binding {
        mode: Mode::CanaryWeight,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "cancel",
    },
    Binding {
        mode: Mode::Audit,
        keys: &[KeyPress::plain(Key::Down), KeyPress::plain(Key::Char('j'))],
        command: Command::NextApp,
        help: "scroll down",
    },
    Binding {
        mode: Mode::Audit,
        keys: &[KeyPress::plain(Key::Up), KeyPress::plain(Key::Char('k'))],
        command: Command::PrevApp,
        help: "scroll up",
    },
    Binding {
        mode: Mode::Audit,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "close the audit log",
    },
    Binding {
        mode: Mode::Audit,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Char('A'))],
        command: Command::ShowApprovals,
        help: "approvals: colleagues' requests, with their plans",
    },
    Binding {
        mode: Mode::Approvals,
        keys: &[KeyPress::plain(Key::Down), KeyPress::plain(Key::Char('j'))],
        command: Command::NextApp,
        help: "next request",
    },
    Binding {
        mode: Mode::Approvals,
        keys: &[KeyPress::plain(Key::Up), KeyPress::plain(Key::Char('k'))],
        command: Command::PrevApp,
        help: "previous request",
    },
    Binding {
        mode: Mode::Approvals,
        keys: &[KeyPress::plain(Key::Char('y'))],
        command: Command::Approve,
        help: "approve: the requester's operation goes ahead on its plan",
    },
    Binding {
        mode: Mode::Approvals,
        keys: &[KeyPress::plain(Key::Char('n'))],
        command: Command::Deny,
        help: "deny, with a reason",
    },
    Binding {
        mode: Mode::Approvals,
        keys: &[KeyPress::plain(Key::Char('A'))],
        command: Command::ShowApprovals,
        help: "read the requests again",
    },
    Binding {
        mode: Mode::Approvals,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "close",
    },
    Binding {
        mode: Mode::ApprovalsReason,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::Confirm,
        help: "deny with this reason",
    },
    Binding {
        mode: Mode::ApprovalsReason,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "stop typing; nothing is sent",
    },
    Binding {
        mode: Mode::Overview,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::Drill,
        help: "detail: deployments, pods, events, history",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[KeyPress::plain(Key::Down), KeyPress::plain(Key::Char('j'))],
        command: Command::NextApp,
        help: "scroll down",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[KeyPress::plain(Key::Up), KeyPress::plain(Key::Char('k'))],
        command: Command::PrevApp,
        help: "scroll up",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[KeyPress::plain(Key::Char('/'))],
        command: Command::Filter,
        help: "filter by name",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "back (clears a filter first)",
    },
    Binding {
        mode: Mode::Drill,
        keys: &[KeyPress::plain(Key::Char('q'))],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        mode: Mode::DrillFilter,
        keys: &[KeyPress::plain(Key::Enter), KeyPress::plain(Key::Esc)],
        command: Command::Back,
        help: "stop typing the filter",
    },
    Binding {
        mode: Mode::ConfirmYesNo,
        keys: &[KeyPress::plain(Key::Char('y'))],
        command: Command::Confirm,
        help: "yes: go ahead",
    },
    Binding {
        mode: Mode::ConfirmYesNo,
        keys: &[KeyPress::plain(Key::Char('n')), KeyPress::plain(Key::Esc)],
        command: Command::Cancel,
        help: "no: cancel, nothing is written",
    },
    Binding {
        mode: Mode::ConfirmTyped,
        keys: &[KeyPress::plain(Key::Enter)],
        command: Command::Confirm,
        help: "confirm (name and reason must be filled in)",
    },
    Binding {
        mode: Mode::ConfirmTyped,
        keys: &[KeyPress::plain(Key::Tab)],
        command: Command::NextField,
        help: "next field",
    },
    Binding {
        mode: Mode::ConfirmTyped,
        keys: &[KeyPress::plain(Key::Esc)],
        command: Command::Cancel,
        help: "cancel, nothing is written",
    },
    Binding {
        mode: Mode::Result,
        keys: &[KeyPress::plain(Key::Esc), KeyPress::plain(Key::Enter)],
        command: Command::Back,
        help: "close",
    },
];

/// The command a key means in `mode`, if any. Global bindings apply in every mode; an
/// overlay's own bindings win over them.
pub fn command_for(mode: Mode, key: KeyPress) -> Option<Command> {
    let matches = |b: &&Binding| b.keys.contains(&key);
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

/// The key that does `command` in `mode`, as the screen writes it (`s`, `Enter`): what every
/// screen shows comes from the keymap, so a key moved in the keymap moves on screen too.
pub fn key_for(mode: Mode, command: Command) -> String {
    KEYMAP
        .iter()
        .find(|b| b.mode == mode && b.command == command)
        .or_else(|| KEYMAP.iter().find(|b| b.mode == Mode::Global && b.command == command))
        .and_then(|b| b.keys.first())
        .map_or_else(|| "?".to_owned(), |k| k.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key: Key) -> KeyPress {
        KeyPress::plain(key)
    }

    #[test]
    fn q_quits_where_nothing_is_typed_or_running() {
        for mode in [Mode::Overview, Mode::Help, Mode::Result] {
            assert_eq!(command_for(mode, key(Key::Char('q'))), Some(Command::Quit));
        }
        for mode in [Mode::ConfirmTyped, Mode::ConfirmYesNo, Mode::Busy] {
            assert_eq!(command_for(mode, key(Key::Char('q'))), None, "{mode:?}");
        }
    }

    #[test]
    fn typed_confirmation_takes_text_but_ctrl_c_still_quits() {
        assert_eq!(command_for(Mode::ConfirmTyped, key(Key::Char('?'))), None, "? is text here");
        assert_eq!(command_for(Mode::ConfirmTyped, key(Key::Char('y'))), None);
        assert_eq!(command_for(Mode::ConfirmTyped, key(Key::Esc)), Some(Command::Cancel));
        assert_eq!(command_for(Mode::ConfirmTyped, KeyPress::ctrl(Key::Char('c'))), Some(Command::Quit));
    }

    #[test]
    fn ctrl_c_works_in_every_mode() {
        for mode in
            [Mode::Overview, Mode::Help, Mode::ConfirmYesNo, Mode::ConfirmTyped, Mode::Busy, Mode::Result]
        {
            assert_eq!(command_for(mode, KeyPress::ctrl(Key::Char('c'))), Some(Command::Quit), "{mode:?}");
        }
        assert_eq!(command_for(Mode::Overview, KeyPress::ctrl(Key::Char('c'))), Some(Command::Quit));
    }

    #[test]
    fn the_keys_a_screen_names_come_from_the_keymap() {
        assert_eq!(key_for(Mode::Canary, Command::CanaryStep), "s");
        assert_eq!(key_for(Mode::Rollback, Command::PlanRollback), "Enter");
        assert_eq!(key_for(Mode::Canary, Command::ToggleHelp), "?", "a global binding");
    }

    #[test]
    fn overview_keys_do_nothing_under_the_help_overlay() {
        assert_eq!(command_for(Mode::Help, key(Key::Right)), None);
        assert_eq!(command_for(Mode::Help, key(Key::Esc)), Some(Command::Back));
        assert_eq!(command_for(Mode::Overview, key(Key::Esc)), None);
    }

    #[test]
    fn every_binding_has_help_text_and_a_key() {
        for b in KEYMAP {
            assert!(!b.help.is_empty() && !b.keys.is_empty(), "{b:?}");
        }
    }
}
