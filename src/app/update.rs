//! The reducer: `update(&mut State, Action) -> Update`: whether to redraw, and the effects to
//! hand to the outside world.

use std::collections::BTreeMap;

use super::approvals;
use super::confirm::{ConfirmState, Field};
use super::keymap::{Command, command_for};
use super::keys::Key;
use super::{Action, Connection, Effect, Notice, OpEvent, Overlay, Screen, State};
use crate::cluster::EnvUpdate;
use crate::engine::{Ask, Refusal, Request};
use crate::ops::{Confirmation, Operation, Scope};

mod canary;
mod checklist;
mod logs;
mod rollback;

pub(crate) use rollback::{open as open_rollback, revisions as rollback_revisions};

/// What one action did.
#[derive(Debug, Default, PartialEq)]
pub struct Update {
    pub redraw: bool,
    pub effects: Vec<Effect>,
}

impl Update {
    pub(super) fn redraw() -> Self {
        Self { redraw: true, effects: Vec::new() }
    }

    pub(super) fn effect(effect: Effect) -> Self {
        Self { redraw: true, effects: vec![effect] }
    }

    fn quiet(redraw: bool) -> Self {
        Self { redraw, effects: Vec::new() }
    }
}

pub fn update(state: &mut State, action: Action) -> Update {
    let mut result = step(state, action);
    // Whatever moved, the Leases follow: a screen opened or left, auto mode, a guard.
    let wanted = super::controls::wanted(state);
    if wanted != state.controls.wanted {
        state.controls.wanted.clone_from(&wanted);
        result.effects.push(Effect::HoldLeases(wanted));
    }
    result
}

fn step(state: &mut State, action: Action) -> Update {
    match action {
        Action::Resize => Update::redraw(),
        Action::Key(key) => {
            let mode = state.mode();
            match command_for(mode, key) {
                Some(command) => run(state, command),
                None if mode.takes_text() => {
                    if mode == super::keymap::Mode::ChecklistInput {
                        return Update::quiet(checklist::type_text(state, key));
                    }
                    if mode == super::keymap::Mode::LogsFilter {
                        return Update::quiet(logs::type_text(state, key));
                    }
                    if mode == super::keymap::Mode::ApprovalsReason {
                        return Update::quiet(approvals::type_text(state, key.key));
                    }
                    if let (None, Screen::Canary { input: Some(input), .. }) =
                        (&state.overlay, &mut state.screen)
                    {
                        return Update::quiet(canary::type_weight(input, key.key));
                    }
                    match &mut state.overlay {
                        Some(Overlay::Confirm(confirm)) => confirm.input(key),
                        Some(Overlay::Drill { filter, scroll, .. }) => {
                            match key.key {
                                Key::Char(c) => filter.push(c),
                                Key::Backspace => {
                                    filter.pop();
                                }
                                _ => return Update::default(),
                            }
                            *scroll = 0;
                        }
                        _ => {}
                    }
                    Update::redraw()
                }
                None => Update::default(),
            }
        }
        Action::Env { index, update: EnvUpdate::Record(record) } => {
            let Some(name) = state.envs.get(index).map(|e| e.name.clone()) else { return Update::default() };
            super::colleagues::record(state, &name, *record)
        }
        Action::Env { index, update } => {
            let round = matches!(update, EnvUpdate::Metrics(_));
            let health = matches!(update, EnvUpdate::Health(_));
            let redraw = env_update(state, index, update);
            let mut result = Update::quiet(redraw);
            if round {
                result.effects = canary::check_autos(state, index);
                // A fresher reading of the figures is judged like a fresher snapshot.
                result.effects.extend(crate::app::guard::on_health(state, index));
                // Only a guard still running moves with the figures; an ended one stays as it is.
                let env = state.envs.get(index).map(|e| e.name.clone());
                result.redraw |=
                    state.guards.by_app.values().any(|g| g.ended.is_none() && Some(&g.env) == env.as_ref());
            }
            if health && redraw {
                result.effects.extend(crate::app::guard::on_health(state, index));
                result.effects.extend(logs::env_changed(state, index));
                result.effects.extend(rollback::recent_errors_wanted(state, index));
            }
            result
        }
        Action::Op(event) => op_event(state, event),
        Action::Logs(events) => logs::events(state, events),
        Action::Tick { now } => {
            let windows_before = state.window_statuses();
            state.clock = now;
            let guards_before: Vec<String> =
                state.guards.by_app.values().map(|g| crate::app::guard::row_words(g, state.clock)).collect();
            let mut effects = canary::tick_autos(state, now);
            effects.extend(crate::app::guard::on_tick(state, now));
            let guards_moved = state
                .guards
                .by_app
                .values()
                .map(|g| crate::app::guard::row_words(g, now))
                .collect::<Vec<_>>()
                != guards_before;
            // A deployment window opens or closes with the clock alone.
            let redraw = state.clock_on_screen()
                || !effects.is_empty()
                || guards_moved
                || state.window_statuses() != windows_before;
            Update { redraw, effects }
        }
    }
}

fn env_update(state: &mut State, index: usize, update: EnvUpdate) -> bool {
    if let EnvUpdate::Leases(holders) = update {
        let Some(name) = state.envs.get(index).map(|e| e.name.clone()) else { return false };
        return state.controls.seen(&name, holders);
    }
    let Some(env) = state.envs.get_mut(index) else { return false };
    let next = match update {
        // Handled above (Leases) and in `step` (a record may have effects).
        EnvUpdate::Leases(_) | EnvUpdate::Record(_) => return false,
        EnvUpdate::Identity { user, enforced } => {
            let changed = env.user.as_ref() != Some(&user) || env.records_enforced != enforced;
            env.user = Some(user);
            env.records_enforced = enforced;
            return changed;
        }
        EnvUpdate::Health(snapshot) => {
            if env.snapshot.as_ref() == Some(&snapshot) {
                return false;
            }
            env.snapshot = Some(snapshot);
            recompute_drift(state);
            return true;
        }
        EnvUpdate::Metrics(round) => {
            // The clock only ticks while a screen counts; a round is a fresher reading of it,
            // so a screen opened between ticks never draws the figures as if in the future.
            state.clock = state.clock.max(round.at);
            env.metrics = Some(Ok(round));
            return true;
        }
        EnvUpdate::MetricsUnavailable { reason } => {
            let changed = env.metrics.as_ref().is_none_or(|m| m.as_ref().err() != Some(&reason));
            env.metrics = Some(Err(reason));
            return changed;
        }
        EnvUpdate::Connecting => match &env.connection {
            // A reconnect keeps showing what was last known, marked unreachable.
            Connection::Unreachable { .. } => return false,
            _ => Connection::Connecting,
        },
        EnvUpdate::Reachable { server, at } => {
            // A probe that says what the screen already says is kept without a redraw: at
            // idle the console draws nothing.
            if let Connection::Reachable { server: shown, at: shown_at } = &mut env.connection
                && shown.version == server.version
                && latency_bucket(shown.latency) == latency_bucket(server.latency)
            {
                *shown_at = at;
                shown.latency = server.latency;
                return false;
            }
            Connection::Reachable { server, at }
        }
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

/// Latency as the screen should care about it: a change within a bucket is noise.
pub fn latency_bucket(latency: std::time::Duration) -> u8 {
    match latency.as_millis() {
        0..50 => 0,
        50..200 => 1,
        200..1000 => 2,
        _ => 3,
    }
}

/// Drift compares each environment's app versions with its neighbours' in promotion order.
fn recompute_drift(state: &mut State) {
    let versions: Vec<BTreeMap<String, Option<String>>> = state
        .envs
        .iter()
        .map(|e| {
            e.snapshot
                .as_ref()
                .map(|s| s.health.apps.iter().map(|a| (a.app.clone(), a.version.clone())).collect())
                .unwrap_or_default()
        })
        .collect();
    for (env, marks) in state.envs.iter_mut().zip(crate::health::drift(&versions)) {
        env.drift = marks;
    }
}

fn op_event(state: &mut State, event: OpEvent) -> Update {
    match event {
        OpEvent::Prepared(prepared) => {
            // The operator may have cancelled while it was being prepared.
            if !matches!(state.overlay, Some(Overlay::Preparing { .. })) {
                return Update::default();
            }
            let mut confirm = ConfirmState::new(*prepared);
            // A rollback the guard asked for starts with the tree's reason.
            if let (Ask::Rollback { .. }, Some(((env, app), reason))) =
                (&confirm.prepared.request.ask, &state.guards.reason)
                && confirm.prepared.request.env == *env
                && confirm.prepared.request.app == *app
            {
                confirm.reason = crate::app::TextField::with_text(reason);
            }
            if *confirm.confirmation() == Confirmation::None {
                return execute(state, confirm);
            }
            state.overlay = Some(Overlay::Confirm(Box::new(confirm)));
            Update::redraw()
        }
        OpEvent::Refused { request, refusal } => {
            if !matches!(state.overlay, Some(Overlay::Preparing { .. })) {
                return Update::default();
            }
            state.overlay = None;
            let choice = match &refusal {
                Refusal::NeedsResume(why) => Some((
                    format!("{why}.\nRoll back and resume it in the same write?"),
                    Request { resume_paused: true, ..(*request).clone() },
                )),
                Refusal::NeedsSuspend(why) => Some((
                    format!("{why}.\nSuspend the Flux object first, in the same plan?"),
                    Request { suspend_gitops: true, ..(*request).clone() },
                )),
                _ => None,
            };
            if let Some((question, request)) = choice {
                state.overlay = Some(Overlay::Choice { question, request: Box::new(request) });
                return Update::redraw();
            }
            let text = format!("{} unavailable: {refusal}", request.describe());
            state.notice = Some(Notice { error: true, text });
            Update::redraw()
        }
        OpEvent::Progress { stage } => {
            if let Some(Overlay::Running { stage: shown, .. }) = &mut state.overlay {
                *shown = stage;
            } else {
                rollback::stage(state, &stage);
            }
            Update::redraw()
        }
        OpEvent::Auto { env, app, event } => canary::auto_event(state, &env, &app, event),
        OpEvent::GuardRollback { env, app, outcome, message } => {
            let error = outcome != "done";
            state.notice = Some(Notice {
                error,
                text: format!("guard rolled back {env}/{app} by itself: {outcome} — {message}"),
            });
            Update::redraw()
        }
        OpEvent::Checklist { env, result } => checklist::checked(state, &env, result),
        OpEvent::RecentErrors { env, app, logs } => rollback::recent_errors_read(state, &env, &app, logs),
        OpEvent::ChecklistSaved { env, result, shared } => checklist::saved(state, &env, result, shared),
        OpEvent::Approvals(items) => approvals::loaded(state, items),
        OpEvent::Awaiting { id, request } => super::colleagues::awaiting(state, id, request),
        OpEvent::Answered(result) => approvals::answered(state, result),
        OpEvent::Audit(records) => {
            if let Some(Overlay::Audit { records: shown, .. }) = &mut state.overlay {
                *shown = Some(records.map(|mut r| {
                    r.reverse();
                    r
                }));
            }
            Update::redraw()
        }
        OpEvent::Finished { sentence, outcome, message } => {
            rollback::finished(state, &sentence, &outcome);
            state.notice = Some(Notice { error: outcome != "done", text: format!("{outcome}: {sentence}") });
            state.overlay = Some(Overlay::Finished { sentence, outcome, message });
            Update::redraw()
        }
    }
}

fn execute(state: &mut State, confirm: ConfirmState) -> Update {
    if confirm.prepared.plan.operation == Operation::CanaryAuto {
        return canary::start_auto(state, &confirm);
    }
    if confirm.prepared.plan.scope == Scope::Fleet && !state.autos.is_empty() {
        // The kill switch takes every canary out of auto mode's hands.
        state.autos.clear();
    }
    let sentence = confirm.prepared.plan.sentence();
    let answer = confirm.answer();
    state.overlay = if rollback::follow(state, &confirm.prepared.plan) {
        None
    } else {
        Some(Overlay::Running { sentence, stage: "starting".into() })
    };
    Update::effect(Effect::Execute { prepared: Box::new(confirm.prepared), answer })
}

/// Asks the engine to prepare `ask` on `app` in environment `env` (indexes).
fn prepare(state: &mut State, env: usize, app: usize, ask: Ask) -> Update {
    let (Some(env), Some(app)) = (state.envs.get(env), state.apps.get(app)) else {
        return Update::default();
    };
    ask_engine(state, Request::new(env.name.clone(), app.clone(), ask))
}

/// Hands `request` to the engine, with a box saying it is being prepared.
fn ask_engine(state: &mut State, request: Request) -> Update {
    state.notice = None;
    state.overlay = Some(Overlay::Preparing { what: request.describe() });
    Update::effect(Effect::Prepare(request))
}

/// Esc without an overlay: stop typing a weight, or leave the screen for the overview, with
/// the environment and app it was about selected there.
fn leave_screen(state: &mut State) {
    match &mut state.screen {
        Screen::Canary { input: input @ Some(_), .. } => *input = None,
        Screen::Canary { env, app, .. } | Screen::Rollback { env, app, .. } | Screen::Guard { env, app } => {
            (state.selected_env, state.selected_app) = (*env, *app);
            state.screen = Screen::Overview;
        }
        Screen::Checklist { env } => {
            state.selected_env = *env;
            state.screen = Screen::Overview;
        }
        // Its own keys close it (`logs::back`).
        Screen::Logs { .. } | Screen::Overview => {}
    }
}

/// Keys a screen gives its own meaning to, where the overview has them too.
fn on_screen(state: &mut State, command: Command) -> Option<Update> {
    if state.overlay.is_some() {
        return None;
    }
    if matches!(state.screen, Screen::Logs { .. }) {
        return logs::command(state, command);
    }
    if matches!(state.screen, Screen::Checklist { .. }) {
        return match command {
            Command::Back | Command::Quit | Command::ToggleHelp | Command::ShowAudit => None,
            other => Some(checklist::command(state, other)),
        };
    }
    if !matches!(state.screen, Screen::Rollback { .. }) {
        return None;
    }
    match command {
        Command::Pause => Some(rollback::command(state, command)),
        Command::NextApp | Command::PrevApp => {
            rollback::select(state, command == Command::NextApp);
            Some(Update::redraw())
        }
        _ => None,
    }
}

/// The commands that open a screen or belong to one.
fn screens(state: &mut State, command: Command) -> Update {
    match command {
        Command::OpenCanary => {
            canary::open(state);
            Update::redraw()
        }
        Command::OpenRollback => rollback::open(state),
        Command::OpenChecklist => checklist::open(state),
        Command::OpenLogs => logs::open(state),
        Command::OpenGuard => {
            state.screen = Screen::Guard { env: state.selected_env, app: state.selected_app };
            state.notice = None;
            Update::redraw()
        }
        Command::PlanRollback | Command::SuspendGitOps => rollback::command(state, command),
        Command::CanaryStep
        | Command::CanaryBack
        | Command::CanarySetWeight
        | Command::CanaryAbort
        | Command::CanaryPromote
        | Command::ToggleAuto
        | Command::KillSwitch
        | Command::StartCanary
        | Command::ControllerPromoteFull
        | Command::ControllerRetry
        | Command::ControllerPause
        | Command::ControllerResume
        | Command::GateOpen
        | Command::GateClose
        | Command::GateRollback => canary::command(state, command),
        Command::PromoteNext => promote_next(state),
        _ => checklist::command(state, command),
    }
}

/// `m`: the selected app from the selected environment to the next in promotion order.
fn promote_next(state: &mut State) -> Update {
    let (from, app) = (state.selected_env, state.selected_app);
    let (Some(source), Some(target), Some(app)) =
        (state.envs.get(from), state.envs.get(from + 1), state.apps.get(app))
    else {
        let text = "the last environment has nowhere to promote to".to_owned();
        state.notice = Some(Notice { error: true, text });
        return Update::redraw();
    };
    let request = Request::new(target.name.clone(), app.clone(), Ask::Promote { from: source.name.clone() });
    ask_engine(state, request)
}

fn run(state: &mut State, command: Command) -> Update {
    if let Some(update) = on_screen(state, command).or_else(|| approvals::command(state, command)) {
        return update;
    }
    let envs = state.envs.len().max(1);
    let apps = state.apps.len().max(1);
    match command {
        Command::Quit => state.quit = true,
        Command::ToggleHelp => {
            state.overlay =
                if matches!(state.overlay, Some(Overlay::Help)) { None } else { Some(Overlay::Help) };
        }
        Command::Back if matches!(state.overlay, Some(Overlay::Drill { typing: true, .. })) => {
            if let Some(Overlay::Drill { typing, .. }) = &mut state.overlay {
                *typing = false;
            }
        }
        Command::Back if matches!(&state.overlay, Some(Overlay::Drill { filter, .. }) if !filter.is_empty()) => {
            if let Some(Overlay::Drill { filter, scroll, .. }) = &mut state.overlay {
                filter.clear();
                *scroll = 0;
            }
        }
        Command::Back if state.overlay.is_none() => leave_screen(state),
        Command::Back | Command::Cancel => {
            if matches!(state.overlay, Some(Overlay::Confirm(_) | Overlay::Choice { .. })) {
                state.notice = Some(Notice { error: false, text: "cancelled: nothing was written".into() });
            }
            state.overlay = None;
        }
        Command::NextEnv | Command::PrevEnv if matches!(state.screen, Screen::Canary { .. }) => {
            canary::switch_env(state, command == Command::NextEnv);
        }
        Command::NextEnv => state.selected_env = (state.selected_env + 1) % envs,
        Command::PrevEnv => state.selected_env = (state.selected_env + envs - 1) % envs,
        Command::NextApp | Command::PrevApp
            if matches!(state.overlay, Some(Overlay::Audit { .. } | Overlay::Drill { .. })) =>
        {
            if let Some(Overlay::Audit { scroll, .. } | Overlay::Drill { scroll, .. }) = &mut state.overlay {
                *scroll = if command == Command::NextApp {
                    scroll.saturating_add(1)
                } else {
                    scroll.saturating_sub(1)
                };
            }
        }
        Command::Drill => {
            state.overlay = Some(Overlay::Drill {
                env: state.selected_env,
                scroll: 0,
                filter: String::new(),
                typing: false,
            });
        }
        Command::Filter => {
            if let Some(Overlay::Drill { typing, .. }) = &mut state.overlay {
                *typing = true;
            }
        }
        Command::NextApp => state.selected_app = (state.selected_app + 1) % apps,
        Command::PrevApp => state.selected_app = (state.selected_app + apps - 1) % apps,
        Command::ShowAudit => {
            state.overlay = Some(Overlay::Audit { records: None, scroll: 0 });
            return Update::effect(Effect::LoadAudit);
        }
        Command::Restart | Command::Pause | Command::Resume => {
            let ask = match command {
                Command::Restart => Ask::Restart,
                Command::Pause => Ask::Pause,
                _ => Ask::Resume,
            };
            return prepare(state, state.selected_env, state.selected_app, ask);
        }

        Command::Confirm if state.overlay.is_none() => return canary::submit_weight(state),
        Command::NextField => {
            if let Some(Overlay::Confirm(confirm)) = &mut state.overlay {
                confirm.focus = match confirm.focus {
                    Field::Name => Field::Reason,
                    Field::Reason => Field::Name,
                };
            }
        }
        Command::Confirm => match state.overlay.take() {
            Some(Overlay::Confirm(mut confirm)) => {
                if confirm.accept() {
                    return execute(state, *confirm);
                }
                state.overlay = Some(Overlay::Confirm(confirm));
            }
            Some(Overlay::Choice { request, .. }) => return ask_engine(state, *request),
            other => state.overlay = other,
        },
        // The canary, rollback and checklist screens' commands, and the keys that open them.
        screen_command => return screens(state, screen_command),
    }
    Update::redraw()
}

#[cfg(test)]
pub(crate) mod tests;
