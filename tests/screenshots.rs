//! The README's screenshots, made from the real renderer: the console headless against the
//! demo fleet, driven by keys to each main screen, drawn into a `TestBackend` and checked for
//! what it must show. With `OPSDECK_SCREENSHOTS=DIR` the frames are also written to DIR as
//! SVG; `OPSDECK_SCREENSHOTS=assets/screenshots cargo test --test screenshots` regenerates
//! the committed ones.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

#[path = "common/fleet.rs"]
mod fleet;

use fleet::{key, press, until};
#[path = "common/svg.rs"]
mod svg;

use std::time::{Duration, Instant};

use opsdeck::app::Key;
use opsdeck::app::{Overlay, State};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Draws the state at 160x45, checks it shows `needles`, and writes it as `name.svg` when asked.
fn shot(state: &State, name: &str, needles: &[&str]) {
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).expect("terminal");
    terminal.draw(|frame| opsdeck::ui::render(frame, state)).expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let text = terminal.backend().to_string();
    for needle in needles {
        assert!(text.contains(needle), "{name}: {needle:?} missing:\n{text}");
    }
    if let Some(dir) = std::env::var_os("OPSDECK_SCREENSHOTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.svg")), svg::render(&buffer, &format!("opsdeck · {name}")))
            .expect("write");
    }
}

fn judged(state: &State, app: &str) -> bool {
    let round = state.envs[2].metrics.as_ref().and_then(|m| m.as_ref().ok());
    round
        .and_then(|r| r.app(app))
        .is_some_and(|m| matches!(&m.verdict, Some(v) if v.word() != "not enough data"))
}

#[tokio::test]
async fn the_main_screens_render_what_they_must() {
    let demo = fleet::start().await;
    let mut console = demo.console(&demo.config);
    until(&mut console, "synced", |s| s.envs.iter().all(|e| e.snapshot.is_some() && e.user.is_some())).await;
    until(&mut console, "canaries judged", |s| judged(s, "api") && judged(s, "web")).await;
    // A few more rounds, so the charts have a line to draw.
    let since = Instant::now();
    until(&mut console, "history", |_| since.elapsed() > Duration::from_secs(12)).await;

    press(&mut console, "ll");
    shot(
        &console.state,
        "overview",
        &["local", "staging", "production", "◆ protected", "canary 10% v1.3.1-rc.1 ✗ fail"],
    );

    press(&mut console, "jc");
    shot(
        &console.state,
        "canary",
        &["Canary production/api", "✗ FAIL", "error rate", "step 10% → 25%", "abort 10% → 0%"],
    );

    key(&mut console, Key::Esc);
    press(&mut console, "R");
    key(&mut console, Key::Enter);
    until(&mut console, "the confirmation", |s| matches!(s.overlay, Some(Overlay::Confirm(_)))).await;
    press(&mut console, "production/api");
    shot(
        &console.state,
        "rollback-confirmation",
        &[
            "Confirm rollback · production/api",
            "canary weight 10% → 0%",
            "roll back from r2 (v1.2.0) to r1 (v1.1.0)",
            "Type production/api to confirm",
        ],
    );
    key(&mut console, Key::Esc);
    key(&mut console, Key::Esc);

    press(&mut console, "C");
    until(&mut console, "the checks", |s| {
        s.walks.get("production").is_some_and(|w| w.report.checked_at.is_some())
    })
    .await;
    for _ in 0..36 {
        press(&mut console, "j");
    }
    shot(
        &console.state,
        "checklist",
        &["Checklist production", "Production deployment checklist v1.0", "sign-off blocked by", "✗ fail"],
    );
}
