//! The terminal loop: owns the terminal, turns events into actions, draws on change.

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::{Action, State, update};
use crate::cluster::EnvUpdate;
use crate::ui;

/// Restores the terminal however the loop ends: return, error or unwinding panic.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Runs the console until the operator quits or a signal arrives.
pub async fn run(mut state: State, mut updates: mpsc::Receiver<(usize, EnvUpdate)>) -> std::io::Result<()> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // ratatui::init installs a panic hook that restores the terminal before the report.
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    let mut events = EventStream::new();
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|frame| ui::render(frame, &state))?;
            dirty = false;
        }
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    dirty |= update(&mut state, Action::Key(key));
                }
                Some(Ok(Event::Resize(..))) => dirty |= update(&mut state, Action::Resize),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            },
            Some((index, env_update)) = updates.recv() => {
                dirty |= update(&mut state, Action::Env { index, update: env_update });
                // Fold everything already queued into one frame.
                while let Ok((index, env_update)) = updates.try_recv() {
                    dirty |= update(&mut state, Action::Env { index, update: env_update });
                }
            }
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            // Raw mode turns Ctrl-c into a key event; this catches a SIGINT sent by `kill`.
            _ = tokio::signal::ctrl_c() => break,
        }
        if state.quit {
            break;
        }
    }
    // Give the terminal a moment to flush the last frame before leaving the alternate screen.
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}
