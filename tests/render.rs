//! The first screen, rendered with ratatui's `TestBackend`.

use std::path::Path;
use std::time::Duration;

use opsdeck::app::{Action, Connection, State, update};
use opsdeck::cluster::ServerInfo;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn state() -> State {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/opsdeck.example.toml"))
            .expect("example config");
    let config = opsdeck::config::parse(Path::new("example.toml"), &text).expect("valid");
    let mut state = State::new(&config, false);
    let at = jiff::Timestamp::from_second(1_795_000_000).expect("timestamp");
    state.envs[0].connection = Connection::Reachable {
        server: ServerInfo { version: "v1.33.1".into(), latency: Duration::from_millis(12) },
        at,
    };
    state.envs[1].connection = Connection::Unreachable {
        reason: "timed out waiting for the API server".into(),
        at,
        last_ok: Some(at),
    };
    state.envs[2].connection =
        Connection::Misconfigured { reason: "credentials: exec plugin \"aws\" not found".into() };
    state
}

fn draw(state: &State, width: u16, height: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| opsdeck::ui::render(frame, state)).expect("draw");
    terminal.backend().clone()
}

#[test]
fn overview_shows_every_environment_and_its_connection() {
    insta::assert_snapshot!(draw(&state(), 120, 20));
}

#[test]
fn overview_is_readable_at_80x24() {
    let backend = draw(&state(), 80, 24);
    let text = backend.to_string();
    for needle in ["local", "staging", "production", "protected", "unreachable", "not connected", "quit"] {
        assert!(text.contains(needle), "{needle:?} missing at 80x24:\n{text}");
    }
    insta::assert_snapshot!(backend);
}

#[test]
fn help_overlay_lists_the_keymap() {
    let mut state = state();
    update(&mut state, Action::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('?'))));
    insta::assert_snapshot!(draw(&state, 100, 24));
}

#[test]
fn the_demo_says_it_is_a_simulation() {
    let mut state = state();
    state.demo = true;
    let text = draw(&state, 120, 10).to_string();
    assert!(text.lines().next().is_some_and(|l| l.contains("DEMO · simulated clusters")), "{text}");
}

#[test]
fn readonly_is_in_the_header() {
    let mut state = state();
    state.readonly = true;
    let text = draw(&state, 100, 10).to_string();
    assert!(text.lines().next().is_some_and(|l| l.contains("READ-ONLY")), "{text}");
}
