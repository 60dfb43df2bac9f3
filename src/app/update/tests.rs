use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use super::*;
use crate::cluster::ServerInfo;
use crate::config::Protection;
use crate::ops::{Place, Plan};

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
    State::new(&config, false)
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
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
    assert_eq!(
        asked.effects,
        vec![Effect::Prepare {
            env: env.into(),
            app: "web".into(),
            request: crate::ops::Request::Deployment(Operation::Restart)
        }]
    );
    let event = OpEvent::Prepared {
        plan: Box::new(plan(env, protection)),
        user: "demo-admin".into(),
        cluster: "c".into(),
    };
    update(state, Action::Op(event))
}

#[test]
fn q_quits_and_ctrl_c_quits() {
    let mut s = state();
    assert!(update(&mut s, key('q')).redraw);
    assert!(s.quit);
    let mut s = state();
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert!(s.quit);
}

#[test]
fn help_opens_closes_and_captures_navigation() {
    let mut s = state();
    update(&mut s, key('?'));
    assert!(matches!(s.overlay, Some(Overlay::Help)));
    assert!(!update(&mut s, key('l')).redraw, "navigation is inert under the overlay");
    assert_eq!(s.selected_env, 0);
    update(&mut s, code(KeyCode::Esc));
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
    update(&mut s, code(KeyCode::Tab));
    typed(&mut s, "rotate certs");
    let refused = update(&mut s, code(KeyCode::Enter));
    assert!(refused.effects.is_empty(), "a differently-cased name writes nothing");
    let Some(Overlay::Confirm(confirm)) = &mut s.overlay else { panic!("still confirming") };
    assert!(confirm.error.as_deref().is_some_and(|e| e.contains("production/web")));
    assert_eq!(confirm.focus, Field::Name);
    confirm.name = ratatui_textarea::TextArea::default();

    typed(&mut s, "production/web");
    let accepted = update(&mut s, code(KeyCode::Enter));
    assert_eq!(accepted.effects.len(), 1);
    assert!(matches!(&accepted.effects[0], Effect::Execute { reason: Some(r), .. } if r == "rotate certs"));
    assert!(matches!(s.overlay, Some(Overlay::Running { .. })));
}

#[test]
fn typed_confirmation_without_a_reason_writes_nothing() {
    let mut s = state();
    prepared(&mut s, "production", Protection::Typed);
    typed(&mut s, "production/web");
    assert!(update(&mut s, code(KeyCode::Enter)).effects.is_empty());
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
        let cancelled = update(&mut s, code(KeyCode::Esc));
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
    assert!(matches!(&yes.effects[..], [Effect::Execute { reason: None, .. }]));
}

#[test]
fn a_read_only_environment_is_refused_before_anything_is_asked() {
    let mut s = state();
    s.selected_env = 2;
    let refused = update(&mut s, key('r'));
    assert!(refused.effects.is_empty());
    assert!(s.notice.as_ref().is_some_and(|n| n.error && n.text.contains("read-only")));
}

#[test]
fn unavailable_and_finished_are_shown() {
    let mut s = state();
    s.selected_env = 1;
    update(&mut s, key('p'));
    update(
        &mut s,
        Action::Op(OpEvent::Unavailable { what: "pause production/web".into(), reason: "forbidden".into() }),
    );
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
    update(&mut s, code(KeyCode::Enter));
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
    update(&mut s, code(KeyCode::Esc));
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
