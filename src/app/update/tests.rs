use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::app::{Key, KeyPress};
use crate::cluster::ServerInfo;
use crate::config::{Fleet, Protection};
use crate::engine::{Prepared, Traffic};
use crate::ops::{Place, Plan};

pub(crate) fn state() -> State {
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
        [[environments]]
        name = "local"
        context = "local"
        protection = "none"
        readonly = true
        [[apps]]
        name = "web"
        deployment = "web"
        "#,
    )
    .expect("valid");
    State::new(std::sync::Arc::new(Fleet::resolve(config)), false, jiff::Timestamp::UNIX_EPOCH)
}

fn key(c: char) -> Action {
    Action::Key(KeyPress::char(c))
}

fn code(key: Key) -> Action {
    Action::Key(KeyPress::plain(key))
}

fn typed(state: &mut State, text: &str) {
    for c in text.chars() {
        update(state, key(c));
    }
}

fn plan(env: &str, protection: Protection) -> Plan {
    let place = Place { env, context: env, app: "web", protection };
    let deployment = json!({"metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"}, "spec": {"replicas": 2}});
    crate::ops::restart(&place, &deployment, "2026-11-21T10:00:00Z").expect("plan")
}

fn prepared(state: &mut State, env: &str, protection: Protection) -> Update {
    state.selected_env = state.envs.iter().position(|e| e.name == env).expect("env");
    let asked = update(state, key('r'));
    let request = Request::new(env, "web", Ask::Restart);
    assert_eq!(asked.effects, vec![Effect::Prepare(request.clone())]);
    let prepared = Prepared::offline(request, plan(env, protection), Traffic::NotRaised).expect("decided");
    update(state, Action::Op(OpEvent::Prepared(Box::new(prepared))))
}

#[test]
fn q_quits_and_ctrl_c_quits() {
    let mut s = state();
    assert!(update(&mut s, key('q')).redraw);
    assert!(s.quit);
    let mut s = state();
    update(&mut s, Action::Key(KeyPress::ctrl(Key::Char('c'))));
    assert!(s.quit);
}

#[test]
fn help_opens_closes_and_captures_navigation() {
    let mut s = state();
    update(&mut s, key('?'));
    assert!(matches!(s.overlay, Some(Overlay::Help)));
    assert!(!update(&mut s, key('l')).redraw, "navigation is inert under the overlay");
    assert_eq!(s.selected_env, 0);
    update(&mut s, code(Key::Esc));
    assert!(s.overlay.is_none());
}

#[test]
fn environment_selection_wraps_and_unknown_keys_do_not_redraw() {
    let mut s = state();
    update(&mut s, key('h'));
    assert_eq!(s.selected_env, 2);
    update(&mut s, key('l'));
    assert_eq!(s.selected_env, 0);
    assert!(!update(&mut s, key('z')).redraw);
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
        Action::Env { index: 1, update: EnvUpdate::Unreachable { reason: "timed out".into(), at: later } },
    );
    assert_eq!(
        s.envs[1].connection,
        Connection::Unreachable { reason: "timed out".into(), at: later, last_ok: Some(at) }
    );
    assert!(!update(&mut s, Action::Env { index: 1, update: EnvUpdate::Connecting }).redraw);
    assert!(!update(&mut s, Action::Env { index: 9, update: EnvUpdate::Connecting }).redraw);
}

#[test]
fn typed_confirmation_needs_the_exact_name_and_a_reason() {
    let mut s = state();
    let shown = prepared(&mut s, "production", Protection::Typed);
    assert!(shown.effects.is_empty(), "nothing runs before the confirmation");
    assert!(matches!(s.overlay, Some(Overlay::Confirm(_))));

    typed(&mut s, "Production/web");
    update(&mut s, code(Key::Tab));
    typed(&mut s, "rotate certs");
    let refused = update(&mut s, code(Key::Enter));
    assert!(refused.effects.is_empty(), "a differently-cased name writes nothing");
    let Some(Overlay::Confirm(confirm)) = &mut s.overlay else { panic!("still confirming") };
    assert!(confirm.error.as_deref().is_some_and(|e| e.contains("production/web")));
    assert_eq!(confirm.focus, Field::Name);
    confirm.name = crate::app::TextField::default();

    typed(&mut s, "production/web");
    let accepted = update(&mut s, code(Key::Enter));
    assert_eq!(accepted.effects.len(), 1);
    assert!(
        matches!(&accepted.effects[0], Effect::Execute { answer, .. } if answer.reason.as_deref() == Some("rotate certs"))
    );
    assert!(matches!(s.overlay, Some(Overlay::Running { .. })));
}

#[test]
fn typed_confirmation_without_a_reason_writes_nothing() {
    let mut s = state();
    prepared(&mut s, "production", Protection::Typed);
    typed(&mut s, "production/web");
    assert!(update(&mut s, code(Key::Enter)).effects.is_empty());
    let Some(Overlay::Confirm(confirm)) = &s.overlay else { panic!("still confirming") };
    assert_eq!(confirm.focus, Field::Reason);
}

#[test]
fn esc_cancels_every_confirmation_and_writes_nothing() {
    for (env, protection) in [("production", Protection::Typed), ("staging", Protection::Confirm)] {
        let mut s = state();
        prepared(&mut s, env, protection);
        if protection == Protection::Typed {
            typed(&mut s, "production/web");
        }
        let cancelled = update(&mut s, code(Key::Esc));
        assert!(cancelled.effects.is_empty(), "{env}");
        assert!(s.overlay.is_none());
        assert!(s.notice.as_ref().is_some_and(|n| n.text.contains("nothing was written")));
    }
}

#[test]
fn yes_no_confirmation() {
    let mut s = state();
    prepared(&mut s, "staging", Protection::Confirm);
    assert!(update(&mut s, key('n')).effects.is_empty(), "n writes nothing");
    assert!(s.overlay.is_none());
    prepared(&mut s, "staging", Protection::Confirm);
    assert!(update(&mut s, key('q')).effects.is_empty() && !s.quit, "q is not an answer here");
    let yes = update(&mut s, key('y'));
    assert!(
        matches!(&yes.effects[..], [Effect::Execute { answer, .. }] if answer.confirmed && answer.reason.is_none())
    );
}

#[test]
fn a_paused_deployment_is_a_choice_that_asks_again_with_resume() {
    let mut s = state();
    s.selected_env = 1;
    let request = Request::new("production", "web", Ask::Rollback { to_revision: Some(2) });
    s.overlay = Some(Overlay::Preparing { what: request.describe() });
    let refusal = crate::engine::Refusal::NeedsResume("shop/web is paused".into());
    update(&mut s, Action::Op(OpEvent::Refused { request: Box::new(request.clone()), refusal }));
    assert!(matches!(&s.overlay, Some(Overlay::Choice { question, .. }) if question.contains("paused")));
    let again = update(&mut s, key('y'));
    assert_eq!(again.effects, vec![Effect::Prepare(Request { resume_paused: true, ..request.clone() })]);
    assert!(matches!(s.overlay, Some(Overlay::Preparing { .. })));

    s.overlay = Some(Overlay::Preparing { what: request.describe() });
    let refusal = crate::engine::Refusal::NeedsResume("shop/web is paused".into());
    update(&mut s, Action::Op(OpEvent::Refused { request: Box::new(request), refusal }));
    assert!(update(&mut s, key('n')).effects.is_empty(), "n drops it");
    assert!(s.overlay.is_none());
}

#[test]
fn unavailable_and_finished_are_shown() {
    let mut s = state();
    s.selected_env = 1;
    update(&mut s, key('p'));
    let request = Box::new(Request::new("production", "web", Ask::Pause));
    let refusal = crate::engine::Refusal::Forbidden("forbidden".into());
    update(&mut s, Action::Op(OpEvent::Refused { request, refusal }));
    assert!(s.overlay.is_none());
    assert!(s.notice.as_ref().is_some_and(|n| n.text == "pause production/web unavailable: forbidden"));
    update(
        &mut s,
        Action::Op(OpEvent::Finished {
            sentence: "x".into(),
            outcome: "conflict".into(),
            message: "changed".into(),
        }),
    );
    assert!(matches!(s.overlay, Some(Overlay::Finished { .. })));
    update(&mut s, code(Key::Enter));
    assert!(s.overlay.is_none());
}

#[test]
fn the_audit_screen_loads_off_the_ui_thread_and_scrolls() {
    let mut s = state();
    let opened = update(&mut s, key('a'));
    assert_eq!(opened.effects, vec![Effect::LoadAudit]);
    assert!(matches!(s.overlay, Some(Overlay::Audit { records: None, .. })));
    update(&mut s, Action::Op(OpEvent::Audit(Ok(Vec::new()))));
    assert!(matches!(&s.overlay, Some(Overlay::Audit { records: Some(Ok(r)), .. }) if r.is_empty()));
    update(&mut s, key('j'));
    assert!(matches!(s.overlay, Some(Overlay::Audit { scroll: 1, .. })));
    assert_eq!(s.selected_app, 0, "scrolling the log does not move the selection");
    update(&mut s, code(Key::Esc));
    assert!(s.overlay.is_none());
}

#[test]
fn a_probe_that_changes_nothing_visible_does_not_redraw() {
    let mut s = state();
    let at = jiff::Timestamp::from_second(1_800_000_000).expect("ts");
    let probe = |ms: u64, at| Action::Env {
        index: 0,
        update: EnvUpdate::Reachable {
            server: ServerInfo { version: "v1.33.1".into(), latency: Duration::from_millis(ms) },
            at,
        },
    };
    assert!(update(&mut s, probe(12, at)).redraw, "first contact shows");
    let later = jiff::Timestamp::from_second(1_800_000_005).expect("ts");
    assert!(!update(&mut s, probe(14, later)).redraw, "same version, same latency bucket: nothing to draw");
    assert!(
        matches!(&s.envs[0].connection, Connection::Reachable { at, .. } if *at == later),
        "but the state is current"
    );
    assert!(update(&mut s, probe(400, later)).redraw, "a slow API server shows");
}

#[test]
fn m_promotes_the_selected_app_to_the_next_environment() {
    let mut s = state();
    let asked = update(&mut s, key('m'));
    assert_eq!(
        asked.effects,
        vec![Effect::Prepare(Request::new("production", "web", Ask::Promote { from: "staging".into() }))]
    );
    let mut s = state();
    s.selected_env = 2;
    assert!(update(&mut s, key('m')).effects.is_empty(), "the last environment promotes nowhere");
    assert!(s.notice.as_ref().is_some_and(|n| n.error && n.text.contains("nowhere to promote")));
}
