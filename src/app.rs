//! The console's state and the pure reducer that changes it.
//!
//! Nothing here does I/O: key events and cluster updates arrive as [`Action`]s, the reducer
//! folds them into [`State`], and the UI draws the result.

mod action;
pub mod approvals;
pub mod auto;
pub mod canary;
pub mod checklist;
pub mod colleagues;
mod confirm;
pub mod controls;
mod effect;
mod event;
pub mod guard;
mod keymap;
mod keys;
pub mod logs;
pub mod rollback;
mod state;
mod text;
mod update;

pub use action::Action;
pub use confirm::{ConfirmState, Field};
pub use effect::Effect;
pub use event::{AutoEvent, OpEvent};
pub use keymap::{Binding, Command, KEYMAP, Mode, command_for, key_for};
pub use keys::{Key, KeyPress};
pub use state::{Connection, EnvState, Notice, Overlay, Screen, State};
pub use text::TextField;
pub use update::update;
