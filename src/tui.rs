//! The terminal loop: owns the terminal, turns key events into actions, draws on change.

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};

use crate::app::{Action, Key, KeyPress};
use crate::console::{Console, apply};
use crate::ui;

/// A terminal key event as the console's state knows keys; `None` for keys it has no use for.
/// Shift is already in the character (`A`, `?`), and terminals disagree on reporting it.
fn key_press(event: &KeyEvent) -> Option<KeyPress> {
    let key = match event.code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    };
    Some(KeyPress { key, ctrl: event.modifiers.contains(KeyModifiers::CONTROL) })
}

/// Restores the terminal however the loop ends: return, error or unwinding panic.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// A panic in a background task, for the loop to end on: printed over the screen it would
/// garble the console and leave it running without the task.
static TASK_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
static TASK_PANICKED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Panics on the console's own thread go to the hook ratatui installed (it restores the
/// terminal, then reports); a panic on any other thread is logged, and the console ends
/// cleanly and says so once the terminal is back.
fn catch_task_panics() {
    let terminal_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            terminal_hook(info);
            return;
        }
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!(panic = %info, %backtrace, "a background task panicked");
        let mut slot = TASK_PANIC.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.get_or_insert_with(|| info.to_string());
        TASK_PANICKED.notify_one();
    }));
}

/// How the console ended.
pub enum Ended {
    /// The operator quit, or a signal came.
    Quit,
    /// A background task panicked: what it said.
    TaskPanicked(String),
}

/// Runs the console until the operator quits or a signal arrives.
pub async fn run(mut console: Console) -> std::io::Result<Ended> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // ratatui::init installs a panic hook that restores the terminal before the report.
    let mut terminal = ratatui::try_init()?;
    catch_task_panics();
    let _restore = Restore;
    let mut events = EventStream::new();
    let mut dirty = true;
    // For BENCHMARKS.md: when every column first has data.
    let started = std::time::Instant::now();
    let mut populated = false;
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
                Some(Ok(Event::Key(event))) if event.kind != KeyEventKind::Release => {
                    // The mode, not the key, when the key may be text (a reason being typed).
                    let mode = console.state.mode();
                    if mode.takes_text() {
                        tracing::trace!(?mode, "key");
                    } else {
                        tracing::trace!(?mode, code = ?event.code, modifiers = ?event.modifiers, "key");
                    }
                    if let Some(press) = key_press(&event) {
                        dirty |= apply(&mut console.state, &effects, Action::Key(press));
                    }
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
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            // Raw mode turns Ctrl-c into a key event; this catches a SIGINT sent by `kill`.
            _ = tokio::signal::ctrl_c() => break,
            () = TASK_PANICKED.notified() => break,
        }
        if console.state.quit {
            break;
        }
    }
    // Give the terminal a moment to flush the last frame before leaving the alternate screen.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let panicked = TASK_PANIC.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    Ok(panicked.map_or(Ended::Quit, Ended::TaskPanicked))
}
