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
    let mut state = State::new(
        std::sync::Arc::new(opsdeck::config::Fleet::resolve(config.clone())),
        false,
        jiff::Timestamp::now(),
    );
    // Window status depends on the wall clock; the windows module has its own tests.
    for env in &mut state.envs {
        env.windows.clear();
        env.blackouts.clear();
    }
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
    update(&mut state, Action::Key(opsdeck::app::KeyPress::char('?')));
    insta::assert_snapshot!(draw(&state, 120, 30));
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

fn confirming(env: usize, protection: opsdeck::config::Protection) -> State {
    let mut state = state();
    let name = state.envs[env].name.clone();
    let place = opsdeck::ops::Place { env: &name, context: &name, app: "web", protection };
    let deployment = serde_json::json!({
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "4242"},
        "spec": {"replicas": 3, "paused": false},
    });
    let plan = opsdeck::ops::pause(&place, &deployment).expect("plan");
    let request = opsdeck::engine::Request::new(name.clone(), "web", opsdeck::engine::Ask::Pause);
    let mut prepared = opsdeck::engine::Prepared::offline(request, plan, opsdeck::engine::Traffic::NotRaised)
        .expect("decided");
    prepared.cluster = format!("{name} (https://127.0.0.1:6443)");
    let confirm = opsdeck::app::ConfirmState::new(prepared);
    state.overlay = Some(opsdeck::app::Overlay::Confirm(Box::new(confirm)));
    state
}

#[test]
fn typed_confirmation_screen_says_what_where_and_as_whom() {
    let mut state = confirming(2, opsdeck::config::Protection::Typed);
    for c in "production/we".chars() {
        update(&mut state, Action::Key(opsdeck::app::KeyPress::char(c)));
    }
    let backend = draw(&state, 120, 36);
    let text = backend.to_string();
    for needle in [
        "Confirm pause · production/web",
        "production · shop/web · paused false → true",
        "demo-admin",
        "resourceVersion 4242",
        "spec.paused: false → true",
        "Type production/web to confirm",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    insta::assert_snapshot!(backend);
}

#[test]
fn yes_no_confirmation_screen() {
    let state = confirming(1, opsdeck::config::Protection::Confirm);
    let text = draw(&state, 100, 30).to_string();
    assert!(text.contains("go ahead") && text.contains("cancel, nothing is written"), "{text}");
    assert!(!text.contains("Type staging/web"), "no typing for a y/n environment");
}

#[test]
fn the_log_screen_shows_both_tracks_their_error_rates_and_a_crash() {
    use opsdeck::app::KeyPress;
    use opsdeck::cluster::logs::{LogEvent, StreamState};
    use opsdeck::logs::{Crash, LogLine, Target};
    let mut state = state();
    let at = jiff::Timestamp::from_second(1_795_000_000).expect("timestamp");
    state.clock = at;
    update(&mut state, Action::Key(KeyPress::char('L')));
    let crash = Crash {
        restarts: 4,
        waiting: Some("CrashLoopBackOff".into()),
        last: Some("Error, exit code 1".into()),
    };
    let target = |pod: &str, track| Target { pod: pod.into(), container: "web".into(), track, crash: None };
    let view = state.logs.as_mut().expect("the log screen");
    view.split = true;
    view.set_targets(vec![
        target("web-7d9f6c5b4-x7k2p", "stable"),
        target("web-7d9f6c5b4-q4m8n", "stable"),
        Target { crash: Some(crash), ..target("web-canary-5c8d7-z9r2t", "canary") },
    ]);
    let line = |pod: &str, track, ago: i64, text: &str| LogLine {
        pod: pod.into(),
        container: "web".into(),
        track,
        time: Some(at - jiff::SignedDuration::from_secs(ago)),
        line: text.into(),
        error: text.contains("\" 5"),
    };
    let mut events = vec![
        LogEvent::Stream { pod: "web-7d9f6c5b4-x7k2p".into(), state: StreamState::Streaming },
        LogEvent::Stream {
            pod: "web-7d9f6c5b4-q4m8n".into(),
            state: StreamState::Retrying("no answer within 10s".into()),
        },
        LogEvent::Stream { pod: "web-canary-5c8d7-z9r2t".into(), state: StreamState::Streaming },
        LogEvent::Previous {
            pod: "web-canary-5c8d7-z9r2t".into(),
            lines: Ok(vec![
                line("web-canary-5c8d7-z9r2t", "canary", 90, "level=info msg=\"starting web v1.4.0\""),
                line("web-canary-5c8d7-z9r2t", "canary", 89, "panic: web v1.4.0: cannot load configuration"),
            ]),
        },
    ];
    for i in 0..6 {
        let (pod, code) =
            if i % 2 == 0 { ("web-7d9f6c5b4-x7k2p", 200) } else { ("web-7d9f6c5b4-q4m8n", 200) };
        events.push(LogEvent::Line(line(
            pod,
            "stable",
            50 - i,
            &format!("10.1.0.{i} \"GET /cart HTTP/1.1\" {code} 512"),
        )));
        let code = if i % 3 == 0 { 500 } else { 200 };
        events.push(LogEvent::Line(line(
            "web-canary-5c8d7-z9r2t",
            "canary",
            40 - i,
            &format!("10.2.0.{i} \"GET /checkout HTTP/1.1\" {code} 21"),
        )));
    }
    update(&mut state, Action::Logs(events.into_iter().map(|e| (1, e)).collect()));
    let backend = draw(&state, 120, 24);
    let text = backend.to_string();
    for needle in
        ["stable · 2 pods · 0 errors/min", "canary · 1 pods · 2 errors/min", "CrashLoopBackOff", "panic:"]
    {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    insta::assert_snapshot!(backend);
}
