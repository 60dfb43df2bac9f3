//! Everything that can change the console's state.

use super::event::OpEvent;
use super::keys::KeyPress;
use crate::cluster::EnvUpdate;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A key the operator pressed; the keymap decides what it means in the current mode.
    Key(KeyPress),
    /// The terminal changed size: nothing in the state changes, but the frame must be redrawn.
    Resize,
    /// An environment's cluster task reported a change.
    Env { index: usize, update: EnvUpdate },
    /// The operation engine reported on something the operator asked for.
    Op(OpEvent),
    /// The log follow's events, tagged with the follow they belong to.
    Logs(Vec<(u64, crate::cluster::logs::LogEvent)>),
    /// The clock: once a second while something on screen counts (see `State::ticking`), and
    /// every half minute otherwise, since deployment windows open and close with it.
    Tick { now: jiff::Timestamp },
}
