//! The console and the command line are adapters over one engine: for every kind of
//! operation × protection × deployment window × gate × read-only, the engine's decision is
//! carried out the same way by both — refused with the same reason, or asking for the same
//! things (a confirmation, a reason, an override), and accepting exactly what it asked for.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use opsdeck::app::{Action, Effect, Key, KeyPress, Mode, OpEvent, Overlay, State, update};
use opsdeck::commands::write::{Flags, answer, exit_of};
use opsdeck::config::{Fleet, Protection};
use opsdeck::engine::decide::{Facts, Traffic, check, decide};
use opsdeck::engine::{Answer, Ask, Prepared, Refusal, Request};
use opsdeck::exit::Exit;
use opsdeck::metrics::Verdict;
use opsdeck::ops::policy::{self, Rules};
use opsdeck::ops::{CanaryRequest, Confirmation, Place, Plan};

/// Thursday 10:30 in Paris (inside the window), and Saturday noon (outside it).
const OPEN: &str = "2026-11-19T09:30:00Z";
const CLOSED: &str = "2026-11-21T11:00:00Z";

fn config(protection: Protection, window: &str, checklist: bool, readonly: bool) -> opsdeck::config::Config {
    let protection = match protection {
        Protection::None => "none",
        Protection::Confirm => "confirm",
        Protection::Typed => "typed",
    };
    let enforce = if window == "enforced" { "enforce_windows = true\n" } else { "" };
    let gate = if checklist { "require_checklist = \"12h\"\n" } else { "" };
    let text = format!(
        r#"
[[environments]]
name = "production"
context = "production"
namespaces = ["shop"]
protection = "{protection}"
readonly = {readonly}
{enforce}{gate}
[[environments.windows]]
days = ["mon", "tue", "wed", "thu"]
start = "10:00"
end = "16:00"
time_zone = "Europe/Paris"

[[apps]]
name = "web"
deployment = "web"
[apps.canary.environments.production]
provider = "nginx-ingress"
ingress = "web-canary"
canary_deployment = "web-canary"
"#
    );
    opsdeck::config::parse(Path::new("t.toml"), &text).expect("config")
}

/// Every kind of request, with the traffic gates that can apply to it.
fn kinds() -> Vec<(Ask, Vec<Traffic>)> {
    let fail = Verdict::Fail(vec!["error rate 4.10% above 1.00%".into()]);
    let raising = || {
        vec![
            Traffic::FirstStep(Ok(())),
            Traffic::FirstStep(Err("the canary's pods are not ready (0/2 available)".into())),
            Traffic::Analysis(Some(Verdict::Pass)),
            Traffic::Analysis(Some(fail.clone())),
            Traffic::Analysis(None),
        ]
    };
    vec![
        (Ask::Restart, vec![Traffic::NotRaised]),
        (Ask::Pause, vec![Traffic::NotRaised]),
        (Ask::Resume, vec![Traffic::NotRaised]),
        (Ask::Canary(CanaryRequest::Step), raising()),
        (Ask::Canary(CanaryRequest::Set(50)), raising()),
        (Ask::Canary(CanaryRequest::Back), vec![Traffic::NotRaised]),
        (Ask::Canary(CanaryRequest::Abort), vec![Traffic::NotRaised]),
        (
            Ask::Canary(CanaryRequest::Promote),
            vec![Traffic::Analysis(Some(Verdict::Pass)), Traffic::Analysis(Some(fail.clone()))],
        ),
        (Ask::AutoMode, vec![Traffic::NotRaised]),
        (Ask::KillSwitch, vec![Traffic::NotRaised]),
        (Ask::Rollback { to_revision: None }, vec![Traffic::NotRaised]),
        (Ask::SuspendGitOps, vec![Traffic::NotRaised]),
        // A started canary waits for its pods in the plan itself; a promotion's gates are the
        // windows and the checklist.
        (Ask::StartCanary(opsdeck::engine::Version::Tag("v1.3.0".into())), vec![Traffic::NotRaised]),
        (Ask::Promote { from: "staging".into() }, vec![Traffic::NotRaised]),
    ]
}

/// What the engine decides for one case, as `Engine::prepare` would hand it over.
fn prepared(
    fleet: &Fleet,
    ask: Ask,
    traffic: Traffic,
    now: jiff::Timestamp,
) -> (Request, Result<Prepared, Refusal>) {
    let env = fleet.env_config("production").expect("env");
    let place = Place { env: "production", context: "production", app: "web", protection: env.protection };
    let (request, plan) = if ask == Ask::KillSwitch {
        let abort = Plan::for_app(ask.operation(), &place, Vec::new());
        (Request::kill_switch(), opsdeck::ops::canary::kill_switch(vec![abort]).expect("plan"))
    } else {
        let operation = ask.operation();
        (Request::new("production", "web", ask), Plan::for_app(operation, &place, Vec::new()))
    };
    let rule = policy::decide(&plan, &Rules::of(env, &[]), Some("v1.3.0"), now);
    let readonly = env.readonly;
    let facts = Facts {
        plan: &plan,
        readonly,
        origin: &request.origin,
        policy: vec![("production".into(), rule)],
        traffic,
    };
    let decided = decide(&facts).map(|decision| Prepared {
        request: request.clone(),
        plan: plan.clone(),
        decision,
        user: "demo-admin".into(),
        cluster: "production".into(),
        left_out: Vec::new(),
        approval: opsdeck::engine::Approval::NotRequired,
        held: None,
    });
    (request, decided)
}

/// What the console does with the engine's answer: refuses with a notice, or shows a
/// confirmation the operator then completes the least way it accepts. The answer it sends.
enum Console {
    Refused(String),
    Asked { mode: Mode, answer: Option<Answer>, auto_mode_on: bool },
}

fn console(fleet: &Arc<Fleet>, request: &Request, decided: &Result<Prepared, Refusal>) -> Console {
    let mut state = State::new(Arc::clone(fleet), false, jiff::Timestamp::UNIX_EPOCH);
    state.overlay = Some(Overlay::Preparing { what: request.describe() });
    let event = match decided {
        Ok(prepared) => OpEvent::Prepared(Box::new(prepared.clone())),
        Err(refusal) => OpEvent::Refused { request: Box::new(request.clone()), refusal: refusal.clone() },
    };
    let mut effects = update(&mut state, Action::Op(event)).effects;
    if let Some(notice) = &state.notice
        && notice.error
    {
        return Console::Refused(notice.text.clone());
    }
    if let Some(Overlay::Choice { question, .. }) = &state.overlay {
        return Console::Refused(question.clone());
    }
    let mode = state.mode();
    let mut press =
        |state: &mut State, key: KeyPress| effects.extend(update(state, Action::Key(key)).effects);
    match (&state.overlay, mode) {
        (Some(Overlay::Confirm(confirm)), Mode::ConfirmTyped) => {
            if let Confirmation::Typed { expected } = confirm.confirmation().clone() {
                for c in expected.chars() {
                    press(&mut state, KeyPress::char(c));
                }
                press(&mut state, KeyPress::plain(Key::Tab));
            }
            for c in "hotfix".chars() {
                press(&mut state, KeyPress::char(c));
            }
            press(&mut state, KeyPress::plain(Key::Enter));
        }
        (Some(Overlay::Confirm(_)), Mode::ConfirmYesNo) => press(&mut state, KeyPress::char('y')),
        _ => {}
    }
    let answer = effects.iter().find_map(|e| match e {
        Effect::Execute { answer, .. } => Some(answer.clone()),
        _ => None,
    });
    Console::Asked { mode, answer, auto_mode_on: !state.autos.is_empty() }
}

#[test]
fn the_console_and_the_command_line_carry_out_the_same_decision() {
    let mut cases = 0;
    for protection in [Protection::None, Protection::Confirm, Protection::Typed] {
        for window in ["open", "closed", "enforced"] {
            for checklist in [false, true] {
                for readonly in [false, true] {
                    let fleet = Arc::new(Fleet::resolve(config(protection, window, checklist, readonly)));
                    let now: jiff::Timestamp =
                        if window == "open" { OPEN } else { CLOSED }.parse().expect("ts");
                    for (ask, gates) in kinds() {
                        for traffic in gates {
                            let what = format!(
                                "{ask:?} protection {protection:?} window {window} checklist {checklist} read-only {readonly} {traffic:?}"
                            );
                            let (request, decided) = prepared(&fleet, ask.clone(), traffic, now);
                            same_both_ways(&fleet, &request, &decided, &what);
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(cases > 500, "{cases} cases");
}

fn same_both_ways(fleet: &Arc<Fleet>, request: &Request, decided: &Result<Prepared, Refusal>, what: &str) {
    let shown = console(fleet, request, decided);
    let prepared = match (decided, &shown) {
        (Err(refusal), Console::Refused(text)) => {
            assert!(text.contains(&refusal.to_string()), "{what}: the console says {text:?}");
            assert_ne!(exit_of(refusal), Exit::Ok, "{what}: the command line fails too");
            return;
        }
        (Err(refusal), Console::Asked { .. }) => panic!("{what}: refused ({refusal}) but the console asked"),
        (Ok(_), Console::Refused(text)) => {
            panic!("{what}: the console refused what the engine allows: {text}")
        }
        (Ok(prepared), Console::Asked { .. }) => prepared,
    };
    let Console::Asked { mode, answer: console_answer, auto_mode_on } = shown else { return };
    let decision = &prepared.decision;
    // What the command line needs, read off the same decision.
    let needs_yes = decision.confirmation != Confirmation::None;
    let needs_reason = matches!(decision.confirmation, Confirmation::Typed { .. } | Confirmation::Reason)
        || decision.needs_reason.is_some();
    let needs_override = decision.needs_override.is_some();
    // The console asks the same: a question where the command line needs --yes, a reason field
    // where it needs --reason or --override.
    let expected_mode = match (needs_yes, needs_reason) {
        (false, _) => None,
        (true, false) => Some(Mode::ConfirmYesNo),
        (true, true) => Some(Mode::ConfirmTyped),
    };
    match expected_mode {
        Some(m) => assert_eq!(mode, m, "{what}: the console's question"),
        None => assert!(
            !matches!(mode, Mode::ConfirmYesNo | Mode::ConfirmTyped),
            "{what}: no question where the command line needs no --yes"
        ),
    }
    let flags = Flags {
        yes: needs_yes,
        reason: needs_reason.then_some("hotfix"),
        override_reason: needs_override.then_some("hotfix"),
        json: true,
        take_over: false,
    };
    let cli = answer(prepared, &flags).unwrap_or_else(|f| panic!("{what}: the flags asked for fail: {f}"));
    if needs_yes {
        let no_yes = answer(prepared, &Flags { yes: false, ..flags });
        assert!(no_yes.is_err_and(|f| f.exit == Exit::Usage), "{what}: --yes is needed");
    }
    if needs_reason && !needs_override {
        let no_reason = answer(prepared, &Flags { reason: None, ..flags });
        assert!(no_reason.is_err_and(|f| f.exit == Exit::Usage), "{what}: --reason is needed");
    }
    if needs_override {
        let no_override = answer(prepared, &Flags { override_reason: None, ..flags });
        assert!(no_override.is_err_and(|f| f.exit == Exit::Precondition), "{what}: --override is needed");
    }
    if prepared.plan.operation == opsdeck::ops::Operation::CanaryAuto {
        assert!(auto_mode_on, "{what}: the console turns auto mode on once answered");
        return;
    }
    let console_answer = console_answer.unwrap_or_else(|| panic!("{what}: the console never carried it out"));
    let recorded =
        check(decision, &console_answer).unwrap_or_else(|e| panic!("{what}: the console's answer: {e}"));
    let from_cli = check(decision, &cli).expect("checked above");
    assert_eq!(recorded.is_some(), from_cli.is_some(), "{what}: both record a reason, or neither");
}
