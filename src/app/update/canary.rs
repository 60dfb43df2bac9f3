//! The reducer's canary half: the canary screen's keys, the analysis gate on more traffic,
//! auto mode's checks and steps, and the kill switch.

use super::{Update, ask_engine, prepare};
use crate::app::auto::{AutoAction, AutoEnded, AutoMode};
use crate::app::confirm::ConfirmState;
use crate::app::keymap::Command;
use crate::app::keys::Key;
use crate::app::{AutoEvent, Effect, Notice, Screen, State};
use crate::engine::{Ask, Origin, Request};
use crate::health::inventory::ControllerInfo;
use crate::metrics::{AppMetrics, Verdict};
use crate::ops::CanaryRequest;
use crate::ops::controllers::Verb;

fn notice(state: &mut State, error: bool, text: impl Into<String>) {
    state.notice = Some(Notice { error, text: text.into() });
}

/// The canary's live weight in an environment, from the latest snapshot.
fn weight(state: &State, env: usize, app: &str) -> Option<u32> {
    let snapshot = state.envs.get(env)?.snapshot.as_ref()?;
    snapshot.health.apps.iter().find(|a| a.app == app)?.canary.as_ref()?.weight
}

/// The app's latest figures in an environment, and when they were measured.
fn figures<'s>(state: &'s State, env: usize, app: &str) -> Option<(&'s AppMetrics, jiff::Timestamp)> {
    let round = state.envs.get(env)?.metrics.as_ref()?.as_ref().ok()?;
    Some((round.app(app)?, round.at))
}

fn verdict<'s>(state: &'s State, env: usize, app: &str) -> Option<&'s Verdict> {
    figures(state, env, app)?.0.verdict.as_ref()
}

fn env_index(state: &State, name: &str) -> Option<usize> {
    state.envs.iter().position(|e| e.name == name)
}

/// Whether the app has a canary of ours in the environment, or a controller's.
fn has_canary(state: &State, env: usize, app: usize) -> bool {
    if controller(state, env, app).is_some() {
        return true;
    }
    let (Some(env), Some(Some(spec))) = (state.envs.get(env), state.canaries.get(app)) else { return false };
    spec.providers.contains_key(&env.name)
}

/// The Argo Rollout or Flagger Canary that runs the app in the environment, as last seen.
pub fn controller(state: &State, env: usize, app: usize) -> Option<&ControllerInfo> {
    let name = state.apps.get(app)?;
    let snapshot = state.envs.get(env)?.snapshot.as_ref()?;
    snapshot.health.apps.iter().find(|a| a.app == *name)?.controller.as_ref()
}

/// A controller's key: the verb it stands for, or why it does not apply here.
fn controller_verb(c: &ControllerInfo, command: Command) -> Result<Verb, String> {
    let gate = |kind: Option<&(String, String)>, open: bool| {
        kind.map(|(name, _)| Verb::Gate { name: name.clone(), open }).ok_or_else(|| {
            format!(
                "{} {} has no loadtester gate for this: Flagger moves on by its analysis",
                c.namespace, c.name
            )
        })
    };
    match command {
        Command::ControllerPromoteFull => Ok(Verb::PromoteFull),
        Command::ControllerRetry => Ok(Verb::Retry),
        Command::ControllerPause => Ok(Verb::Pause),
        Command::ControllerResume => Ok(Verb::Resume),
        Command::GateOpen => gate(c.waited_gate(), true),
        Command::GateClose => gate(c.waited_gate(), false),
        Command::GateRollback => gate(c.gates.iter().find(|(_, k)| k == "rollback"), true),
        _ => Err("not a controller key".into()),
    }
}

/// `c`: the selected app's canary in the selected environment.
pub fn open(state: &mut State) {
    let (env, app) = (state.selected_env, state.selected_app);
    if has_canary(state, env, app) {
        state.screen = Screen::Canary { env, app, input: None };
        state.notice = None;
    } else if let (Some(e), Some(a)) = (state.envs.get(env), state.apps.get(app)) {
        let text =
            format!("{a} has no canary in {} (configure [apps.canary.environments.{}])", e.name, e.name);
        notice(state, true, text);
    }
}

/// ← → on the canary screen: the same app's canary in the neighbouring environment that has one.
pub fn switch_env(state: &mut State, forward: bool) {
    let Screen::Canary { env, app, .. } = state.screen else { return };
    let count = state.envs.len();
    let next = (1..count)
        .map(|step| if forward { (env + step) % count } else { (env + count - step) % count })
        .find(|e| has_canary(state, *e, app));
    if let Some(next) = next {
        state.screen = Screen::Canary { env: next, app, input: None };
    }
}

/// A key typed into the weight field: digits and Backspace. Whether anything changed.
pub fn type_weight(input: &mut String, key: Key) -> bool {
    match key {
        Key::Char(c) if c.is_ascii_digit() && input.len() < 3 => input.push(c),
        Key::Backspace => {
            input.pop();
        }
        _ => return false,
    }
    true
}

/// Enter in the weight field: plan that weight.
pub fn submit_weight(state: &mut State) -> Update {
    let Screen::Canary { env, app, input: Some(input) } = &state.screen else { return Update::default() };
    let (env, app) = (*env, *app);
    match input.parse::<u32>() {
        Ok(weight) if weight <= 100 => {
            state.screen = Screen::Canary { env, app, input: None };
            manual(state, env, app, Ask::Canary(CanaryRequest::Set(weight)))
        }
        _ => {
            notice(state, true, format!("{input:?} is not a weight: type 0 to 100"));
            Update::redraw()
        }
    }
}

/// A manual canary request: any manual action takes the canary out of auto mode first.
fn manual(state: &mut State, env: usize, app: usize, ask: Ask) -> Update {
    let (Some(env_name), Some(app_name)) =
        (state.envs.get(env).map(|e| e.name.clone()), state.apps.get(app).cloned())
    else {
        return Update::default();
    };
    let before = state.autos.len();
    state.autos.retain(|a| !(a.env == env_name && a.app == app_name));
    let update = prepare(state, env, app, ask);
    if state.autos.len() != before {
        let text = format!("auto mode off for {env_name}/{app_name}: a manual action takes over");
        notice(state, false, text);
    }
    update
}

/// The canary screen's keys, and the kill switch from anywhere it is bound.
pub fn command(state: &mut State, command: Command) -> Update {
    if command == Command::KillSwitch {
        return ask_engine(state, Request::kill_switch());
    }
    if command == Command::StartCanary {
        return start(state);
    }
    let Screen::Canary { env, app, .. } = state.screen else { return Update::default() };
    if let Some(c) = controller(state, env, app).cloned() {
        // The controller's own verbs; a step or a weight goes to the engine, which says why
        // it does not apply, as the command line does.
        let verb = match command {
            Command::ToggleAuto => {
                let text = format!("{} runs this canary: opsdeck's auto mode does not drive it", c.kind);
                notice(state, true, text);
                return Update::redraw();
            }
            Command::CanaryStep => Err(CanaryRequest::Step),
            Command::CanaryBack => Err(CanaryRequest::Back),
            Command::CanarySetWeight => Err(CanaryRequest::Set(0)),
            Command::CanaryAbort => Err(CanaryRequest::Abort),
            Command::CanaryPromote => Err(CanaryRequest::Promote),
            other => match controller_verb(&c, other) {
                Ok(verb) => Ok(verb),
                Err(why) => {
                    notice(state, true, why);
                    return Update::redraw();
                }
            },
        };
        let ask = match verb {
            Ok(verb) => Ask::Controller(verb),
            Err(request) => Ask::Canary(request),
        };
        return manual(state, env, app, ask);
    }
    if matches!(
        command,
        Command::ControllerPromoteFull
            | Command::ControllerRetry
            | Command::ControllerPause
            | Command::ControllerResume
            | Command::GateOpen
            | Command::GateClose
            | Command::GateRollback
    ) {
        let text = "these keys drive Argo Rollouts or Flagger, and neither runs this canary";
        notice(state, true, text);
        return Update::redraw();
    }
    let request = match command {
        Command::CanaryStep => CanaryRequest::Step,
        Command::CanaryBack => CanaryRequest::Back,
        Command::CanaryAbort => CanaryRequest::Abort,
        Command::CanaryPromote => CanaryRequest::Promote,
        Command::CanarySetWeight => {
            state.screen = Screen::Canary { env, app, input: Some(String::new()) };
            return Update::redraw();
        }
        Command::ToggleAuto => return toggle_auto(state, env, app),
        _ => return Update::default(),
    };
    manual(state, env, app, Ask::Canary(request))
}

/// `N`: the canary of the app on screen (or selected on the overview) started with exactly
/// what the previous environment's stable runs.
fn start(state: &mut State) -> Update {
    let (env, app) = match state.screen {
        Screen::Canary { env, app, .. } => (env, app),
        _ => (state.selected_env, state.selected_app),
    };
    let Some(previous) = env.checked_sub(1).and_then(|i| state.envs.get(i)).map(|e| e.name.clone()) else {
        let text = "the first environment has no previous one to take a version from: opsdeck canary start --version TAG";
        notice(state, true, text);
        return Update::redraw();
    };
    if !has_canary(state, env, app) {
        open(state);
        return Update::redraw();
    }
    manual(state, env, app, Ask::StartCanary(crate::engine::Version::From(previous)))
}

/// `A`: auto mode off at once, or on after the engine has prepared its confirmation.
fn toggle_auto(state: &mut State, env: usize, app: usize) -> Update {
    let (Some(e), Some(a)) = (state.envs.get(env), state.apps.get(app)) else {
        return Update::default();
    };
    let (env_name, app_name) = (e.name.clone(), a.clone());
    if let Some(i) = state.autos.iter().position(|x| x.env == env_name && x.app == app_name) {
        state.autos.remove(i);
        notice(
            state,
            false,
            format!("auto mode off for {env_name}/{app_name}: the canary stays where it is"),
        );
        return Update::redraw();
    }
    prepare(state, env, app, Ask::AutoMode)
}

/// The auto-mode confirmation was accepted: it starts now.
pub fn start_auto(state: &mut State, confirm: &ConfirmState) -> Update {
    let (env, app) = (&confirm.prepared.plan.env, &confirm.prepared.plan.app);
    let spec =
        state.apps.iter().position(|a| a == app).and_then(|i| state.canaries.get(i)).and_then(Option::as_ref);
    let Some(spec) = spec else { return Update::default() };
    let reason = confirm.answer().reason.unwrap_or_else(|| format!("turned on by {}", confirm.prepared.user));
    let auto = AutoMode::start(env, app, spec.interval, spec.failure_threshold, &reason, state.clock);
    state.overlay = None;
    notice(
        state,
        false,
        format!(
            "auto mode on for {env}/{app}: next step in {}s if the verdict passes",
            spec.interval.as_secs()
        ),
    );
    state.autos.push(auto);
    Update::redraw()
}

fn auto_effect(auto: &AutoMode, action: AutoAction) -> Effect {
    let (request, reason) = match action {
        AutoAction::Step { reason } => (CanaryRequest::Step, reason),
        AutoAction::Abort { reason } => (CanaryRequest::Abort, reason),
    };
    let mut request = Request::new(auto.env.clone(), auto.app.clone(), Ask::Canary(request));
    request.origin = Origin::Auto { reason: format!("auto mode: {reason}") };
    Effect::Auto(request)
}

/// A metrics round arrived for environment `index`: one check for each canary auto mode
/// drives there.
pub fn check_autos(state: &mut State, index: usize) -> Vec<Effect> {
    let Some(env) = state.envs.get(index).map(|e| e.name.clone()) else { return Vec::new() };
    let mut effects = Vec::new();
    for i in 0..state.autos.len() {
        if state.autos[i].env != env {
            continue;
        }
        let app = state.autos[i].app.clone();
        let verdict = verdict(state, index, &app).cloned();
        if let Some(action) = state.autos[i].check(verdict.as_ref()) {
            effects.push(auto_effect(&state.autos[i], action));
        }
    }
    effects
}

/// The clock moved: steps that are due and pass are asked for; canaries at the top step leave
/// auto mode.
pub fn tick_autos(state: &mut State, now: jiff::Timestamp) -> Vec<Effect> {
    let mut effects = Vec::new();
    let mut ended: Vec<(usize, AutoEnded)> = Vec::new();
    for i in 0..state.autos.len() {
        let (env, app) = (state.autos[i].env.clone(), state.autos[i].app.clone());
        let Some(index) = env_index(state, &env) else { continue };
        let top = state
            .apps
            .iter()
            .position(|a| *a == app)
            .and_then(|a| state.canaries[a].as_ref())
            .map_or(100, crate::app::canary::CanarySpec::top);
        if let Some(end) = weight(state, index, &app).and_then(|w| state.autos[i].at_top(w, top)) {
            ended.push((i, end));
            continue;
        }
        let (verdict, measured) = match figures(state, index, &app) {
            Some((m, at)) => (m.verdict.clone(), Some(at)),
            None => (None, None),
        };
        if let Some(action) = state.autos[i].tick(now, verdict.as_ref(), measured) {
            effects.push(auto_effect(&state.autos[i], action));
        }
    }
    for (i, end) in ended.into_iter().rev() {
        state.autos.remove(i);
        notice(state, end.error, end.text);
    }
    effects
}

/// How an operation auto mode asked for is going.
pub fn auto_event(state: &mut State, env: &str, app: &str, event: AutoEvent) -> Update {
    let Some(i) = state.autos.iter().position(|a| a.env == env && a.app == app) else {
        // Auto mode was turned off meanwhile; the operation still ran and is in the audit log.
        if let AutoEvent::Finished { sentence, outcome, .. } = event {
            notice(state, outcome != "done", format!("{outcome}: {sentence} (auto mode, already off)"));
            return Update::redraw();
        }
        return Update::default();
    };
    let now = state.clock;
    let ended = match event {
        AutoEvent::Progress(doing) => {
            state.autos[i].phase = crate::app::auto::AutoPhase::Busy(doing);
            None
        }
        AutoEvent::Unavailable(reason) => {
            state.autos[i].finished(false, &format!("unavailable: {reason}"), now)
        }
        AutoEvent::Finished { sentence, outcome, message } => {
            let ended = state.autos[i].finished(outcome == "done", &message, now);
            if ended.is_none() {
                notice(state, false, format!("auto mode: {sentence}"));
            }
            ended
        }
    };
    if let Some(end) = ended {
        state.autos.remove(i);
        notice(state, end.error, end.text);
    }
    Update::redraw()
}
