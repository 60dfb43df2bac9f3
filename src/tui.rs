//! The terminal loop: owns the terminal, turns key events into actions, draws on change.

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};

use crate::app::{Action, State};
use crate::console::{Console, apply};
use crate::ui;

/// Restores the terminal however the loop ends: return, error or unwinding panic.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Runs the console until the operator quits or a signal arrives.
pub async fn run(mut console: Console) -> std::io::Result<()> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // ratatui::init installs a panic hook that restores the terminal before the report.
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    let mut events = EventStream::new();
    let mut dirty = true;
    // For BENCHMARKS.md: when every column first has data.
    let started = std::time::Instant::now();
    let mut populated = false;
    // Deployment windows open and close with the clock, not with any event: look every 30 s,
    // and draw only when what a column says about its window changed (the countdown moves by
    // the minute at most).
    let window_statuses = |state: &State| -> Vec<String> {
        let now = jiff::Timestamp::now();
        state
            .envs
            .iter()
            .map(|e| {
                let next = crate::windows::next_change(&e.windows, &e.blackouts, now);
                crate::windows::status(&e.windows, &e.blackouts, now).describe_until(next, now)
            })
            .collect()
    };
    let mut windows_shown = window_statuses(&console.state);
    let mut window_check = tokio::time::interval(Duration::from_secs(30));
    window_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let effects = console.effects().clone();
    loop {
        if dirty {
            terminal.draw(|frame| ui::render(frame, &console.state))?;
            tracing::trace!("frame drawn");
            dirty = false;
        }
        let ticking = console.state.ticking();
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    // The mode, not the key, when the key may be text (a reason being typed).
                    let mode = console.state.mode();
                    if mode.takes_text() {
                        tracing::trace!(?mode, "key");
                    } else {
                        tracing::trace!(?mode, code = ?key.code, modifiers = ?key.modifiers, "key");
                    }
                    dirty |= apply(&mut console.state, &effects, Action::Key(key));
                }
                Some(Ok(other)) if !matches!(other, Event::Resize(..)) => tracing::trace!(?other, "terminal event"),
                Some(Ok(Event::Resize(..))) => dirty |= apply(&mut console.state, &effects, Action::Resize),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            },
            Some(batch) = console.inputs.next(ticking) => {
                for action in batch {
                    dirty |= apply(&mut console.state, &effects, action);
                }
                if !populated && console.state.envs.iter().all(|e| e.snapshot.is_some()) {
                    populated = true;
                    tracing::info!(elapsed_ms = started.elapsed().as_millis(), "every environment populated");
                }
            }
            _ = window_check.tick() => {
                let now_shown = window_statuses(&console.state);
                if now_shown != windows_shown {
                    windows_shown = now_shown;
                    dirty = true;
                }
            }
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            // Raw mode turns Ctrl-c into a key event; this catches a SIGINT sent by `kill`.
            _ = tokio::signal::ctrl_c() => break,
        }
        if console.state.quit {
            break;
        }
    }
    // Give the terminal a moment to flush the last frame before leaving the alternate screen.
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}
