//! The console's state and the pure reducer that changes it.
//!
//! Nothing here does I/O: key events and cluster updates arrive as [`Action`]s, the reducer
//! folds them into [`State`], and the UI draws the result.

mod action;
pub mod auto;
pub mod canary;
pub mod checklist;
mod confirm;
mod effect;
mod keymap;
pub mod rollback;
mod state;
mod update;

pub use action::Action;
pub use confirm::{ConfirmState, Field};
pub use effect::Effect;
pub use keymap::{Binding, Command, KEYMAP, Mode, command_for, key_label};
pub use state::{Connection, EnvState, Notice, Overlay, Screen, State};
pub use update::update;
