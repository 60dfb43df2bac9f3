//! The terminal loop: owns the terminal, turns events into actions, draws on change.

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::{Action, Effect, State, update};
use crate::cluster::EnvUpdate;
use crate::runner::OpEvent;
use crate::ui;

/// Restores the terminal however the loop ends: return, error or unwinding panic.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Where the console's inputs come from and its effects go.
pub struct Channels {
    pub env_updates: mpsc::Receiver<(usize, EnvUpdate)>,
    pub op_events: mpsc::Receiver<OpEvent>,
    pub effects: mpsc::UnboundedSender<Effect>,
}

/// Runs the console until the operator quits or a signal arrives.
pub async fn run(mut state: State, channels: Channels) -> std::io::Result<()> {
    let Channels { env_updates: mut updates, mut op_events, effects } = channels;
    let apply = |state: &mut State, action: Action| {
        let result = update(state, action);
        for effect in result.effects {
            // The service lives as long as the console; a send can only fail at shutdown.
            let _ = effects.send(effect);
        }
        result.redraw
    };
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
                    dirty |= apply(&mut state, Action::Key(key));
                }
                Some(Ok(Event::Resize(..))) => dirty |= apply(&mut state, Action::Resize),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            },
            Some((index, env_update)) = updates.recv() => {
                dirty |= apply(&mut state, Action::Env { index, update: env_update });
                // Fold everything already queued into one frame.
                while let Ok((index, env_update)) = updates.try_recv() {
                    dirty |= apply(&mut state, Action::Env { index, update: env_update });
                }
            }
            Some(event) = op_events.recv() => dirty |= apply(&mut state, Action::Op(event)),
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
