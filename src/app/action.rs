//! Everything that can change the console's state.

use crossterm::event::KeyEvent;

use crate::cluster::EnvUpdate;
use crate::runner::OpEvent;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A key the operator pressed; the keymap decides what it means in the current mode.
    Key(KeyEvent),
    /// The terminal changed size: nothing in the state changes, but the frame must be redrawn.
    Resize,
    /// An environment's cluster task reported a change.
    Env { index: usize, update: EnvUpdate },
    /// The operations service reported on an operation the operator asked for.
    Op(OpEvent),
    /// The clock, once a second while something on screen counts (see `State::ticking`).
    Tick { now: jiff::Timestamp },
}
