use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::app::{Action, KeyPress, Screen, State, update};
use crate::cluster::logs::{LogEvent, StreamState};
use crate::logs::{Crash, LogLine, Target};

fn state(buffer_lines: usize) -> State {
    let text = format!(
        r#"
        [[environments]]
        name = "production"
        context = "production"
        namespaces = ["shop"]
        [[apps]]
        name = "web"
        deployment = "web"
        [logs]
        buffer_lines = {buffer_lines}
        "#
    );
    let config = crate::config::parse(Path::new("t.toml"), &text).expect("config");
    State::new(Arc::new(crate::config::Fleet::resolve(config)), false, jiff::Timestamp::now())
}

fn target(pod: &str, track: &'static str) -> Target {
    Target { pod: pod.into(), container: "web".into(), track, crash: None }
}

fn line(pod: &str, track: &'static str, second: i64, text: &str) -> LogLine {
    LogLine {
        pod: pod.into(),
        container: "web".into(),
        track,
        time: Some(jiff::Timestamp::from_second(1_795_000_000 + second).expect("time")),
        line: text.into(),
        error: text.contains(" 500"),
    }
}

fn key(c: char) -> Action {
    Action::Key(KeyPress::char(c))
}

/// The log screen open on `web`, following `targets`.
fn opened(buffer_lines: usize, targets: Vec<Target>) -> State {
    let mut state = state(buffer_lines);
    let result = update(&mut state, key('L'));
    assert!(matches!(state.screen, Screen::Logs { .. }), "L opens the log screen");
    assert!(
        result.effects.iter().any(|e| matches!(e, crate::app::Effect::FollowLogs { session: 1, .. })),
        "{:?}",
        result.effects
    );
    let view = state.logs.as_mut().expect("view");
    view.split = true;
    view.set_targets(targets);
    state
}

fn texts(view: &LogView, track: &str) -> Vec<String> {
    view.shown(track).iter().map(|l| l.line.clone()).collect()
}

#[test]
fn a_fast_stream_keeps_memory_bounded_and_counts_what_it_let_go() {
    let mut state = opened(500, vec![target("web-a-1", "stable"), target("web-canary-b-1", "canary")]);
    for batch in 0..100 {
        let events = (0..1_000)
            .map(|i| {
                let n = batch * 1_000 + i;
                let (pod, track) =
                    if n % 4 == 0 { ("web-canary-b-1", "canary") } else { ("web-a-1", "stable") };
                (1, LogEvent::Line(line(pod, track, n, &format!("GET / {n}"))))
            })
            .collect();
        update(&mut state, Action::Logs(events));
    }
    let view = state.logs.as_ref().expect("view");
    assert_eq!(view.stable.len(), 500);
    assert_eq!(view.canary.len(), 500);
    assert_eq!(view.stable.dropped, 75_000 - 500);
    assert_eq!(view.canary.dropped, 25_000 - 500);
    assert_eq!(texts(view, "stable").last().map(String::as_str), Some("GET / 99999"), "the newest kept");
}

#[test]
fn events_of_a_closed_follow_are_dropped_and_esc_stops_it() {
    let mut state = opened(100, vec![target("web-a-1", "stable")]);
    let old_follow =
        update(&mut state, Action::Logs(vec![(0, LogEvent::Line(line("web-a-1", "stable", 1, "old")))]));
    assert!(!old_follow.redraw);
    assert!(state.logs.as_ref().is_some_and(|v| v.stable.is_empty()));
    let closed = update(&mut state, Action::Key(KeyPress::plain(crate::app::Key::Esc)));
    assert_eq!(state.screen, Screen::Overview);
    assert!(state.logs.is_none());
    assert_eq!(closed.effects, vec![crate::app::Effect::StopLogs { session: 1 }]);
}

#[test]
fn lines_of_several_pods_are_read_merged_by_time() {
    let mut state = opened(100, vec![target("web-a-1", "stable"), target("web-a-2", "stable")]);
    // Each stream sends its own backlog first.
    let events = vec![
        (1, LogEvent::Line(line("web-a-1", "stable", 1, "a1"))),
        (1, LogEvent::Line(line("web-a-1", "stable", 3, "a3"))),
        (1, LogEvent::Line(line("web-a-2", "stable", 2, "b2"))),
        (1, LogEvent::Line(line("web-a-2", "stable", 4, "b4"))),
    ];
    update(&mut state, Action::Logs(events));
    assert_eq!(texts(state.logs.as_ref().expect("view"), "stable"), ["a1", "b2", "a3", "b4"]);
}

#[test]
fn pause_holds_new_lines_and_reading_back_keeps_the_cursor_on_its_line() {
    let mut state = opened(100, vec![target("web-a-1", "stable")]);
    let feed = |state: &mut State, from: i64, to: i64| {
        let events = (from..to)
            .map(|n| (1, LogEvent::Line(line("web-a-1", "stable", n, &format!("line {n}")))))
            .collect();
        update(state, Action::Logs(events));
    };
    feed(&mut state, 0, 10);
    update(&mut state, key('p'));
    feed(&mut state, 10, 15);
    let view = state.logs.as_ref().expect("view");
    assert_eq!(view.stable.len(), 10, "held while paused");
    assert_eq!(view.held.len(), 5);
    update(&mut state, key('p'));
    assert_eq!(state.logs.as_ref().expect("view").stable.len(), 15, "shown when it goes on");

    // Two lines back, then three more arrive: the cursor stays on "line 12".
    update(&mut state, key('k'));
    update(&mut state, key('k'));
    let view = state.logs.as_ref().expect("view");
    assert!(!view.follow, "reading back stops following");
    assert_eq!(view.selected().map(|l| l.line.as_str()), Some("line 12"));
    feed(&mut state, 15, 18);
    assert_eq!(state.logs.as_ref().and_then(|v| v.selected()).map(|l| l.line.as_str()), Some("line 12"));
    update(&mut state, Action::Key(KeyPress::plain(crate::app::Key::Enter)));
    assert_eq!(
        state.logs.as_ref().and_then(|v| v.expanded.as_ref()).map(|l| l.line.as_str()),
        Some("line 12")
    );
    update(&mut state, Action::Key(KeyPress::plain(crate::app::Key::Esc)));
    assert!(matches!(state.screen, Screen::Logs { .. }), "Esc closes the whole line first");
    update(&mut state, key('f'));
    assert_eq!(state.logs.as_ref().and_then(|v| v.selected()).map(|l| l.line.as_str()), Some("line 17"));
}

#[test]
fn the_filter_is_typed_and_cleared() {
    let mut state = opened(100, vec![target("web-a-1", "stable")]);
    let events = vec![
        (1, LogEvent::Line(line("web-a-1", "stable", 1, "GET /cart 200"))),
        (1, LogEvent::Line(line("web-a-1", "stable", 2, "GET /items 500"))),
    ];
    update(&mut state, Action::Logs(events));
    update(&mut state, key('/'));
    for c in "ITEMS".chars() {
        update(&mut state, key(c));
    }
    assert_eq!(texts(state.logs.as_ref().expect("view"), "stable"), ["GET /items 500"], "case-insensitive");
    update(&mut state, key('q'));
    assert!(!state.quit, "q is text while typing a filter");
    update(&mut state, Action::Key(KeyPress::plain(crate::app::Key::Esc)));
    let view = state.logs.as_ref().expect("view");
    assert!(view.filter.is_empty() && !view.typing);
    assert_eq!(view.shown("stable").len(), 2);
}

#[test]
fn pods_that_go_are_forgotten_and_a_new_restart_reads_the_previous_container_again() {
    let crash = |restarts| Crash { restarts, waiting: Some("CrashLoopBackOff".into()), last: None };
    let mut view = LogView::new(1, "production", "web", true, 100);
    view.set_targets(vec![
        target("web-a-1", "stable"),
        Target { crash: Some(crash(1)), ..target("web-a-2", "stable") },
    ]);
    view.apply(LogEvent::Stream { pod: "web-a-1".into(), state: StreamState::Streaming });
    view.apply(LogEvent::Previous {
        pod: "web-a-2".into(),
        lines: Ok(vec![line("web-a-2", "stable", 1, "panic: x")]),
    });
    assert!(view.previous["web-a-2"].lines.is_some());
    view.set_targets(vec![Target { crash: Some(crash(2)), ..target("web-a-2", "stable") }]);
    assert!(view.streams.is_empty(), "the gone pod's stream is forgotten");
    assert!(view.previous["web-a-2"].lines.is_none(), "a new restart: its previous lines are read again");
    view.apply(LogEvent::Stream { pod: "web-gone".into(), state: StreamState::Streaming });
    assert!(!view.streams.contains_key("web-gone"), "a pod not followed is not shown");
}
