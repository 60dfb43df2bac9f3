//! The confirmation screen's state: the prepared request, and what the operator has typed.
//! What it asks for is the engine's decision; this only collects the answer.

use super::keys::{Key, KeyPress};
use super::text::TextField;
use crate::engine::{Answer, Prepared};
use crate::ops::{ConfirmError, Confirmation, check_typed};

/// Which field of the typed confirmation has the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Reason,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmState {
    pub prepared: Prepared,
    pub name: TextField,
    pub reason: TextField,
    pub focus: Field,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

impl ConfirmState {
    pub fn new(prepared: Prepared) -> Self {
        let focus =
            if prepared.decision.confirmation == Confirmation::Reason { Field::Reason } else { Field::Name };
        Self { prepared, name: TextField::default(), reason: TextField::default(), focus, error: None }
    }

    pub fn confirmation(&self) -> &Confirmation {
        &self.prepared.decision.confirmation
    }

    /// The analysis gate this confirmation overrides, if any.
    pub fn overrides(&self) -> Option<&str> {
        self.prepared.decision.needs_override.as_deref()
    }

    pub fn typed_reason(&self) -> String {
        self.reason.text().trim().to_owned()
    }

    /// The answer the screen gives: confirmed, the reason typed, and — when the analysis is
    /// overridden — that same reason as the override's.
    pub fn answer(&self) -> Answer {
        let reason = Some(self.typed_reason()).filter(|r| !r.is_empty());
        let override_reason = if self.overrides().is_some() { reason.clone() } else { None };
        // The screen says who is at the controls and that confirming takes over.
        Answer { confirmed: true, reason, override_reason, take_over: self.prepared.held.is_some() }
    }

    /// Whether Enter may proceed; sets the error shown otherwise.
    pub fn accept(&mut self) -> bool {
        let expected = match self.confirmation() {
            Confirmation::Typed { expected } => expected.clone(),
            Confirmation::Reason if self.typed_reason().is_empty() => {
                self.focus = Field::Reason;
                self.error = Some("a reason is required: it is recorded".into());
                return false;
            }
            _ => return true,
        };
        match check_typed(&expected, self.name.text(), &self.typed_reason()) {
            Ok(()) => true,
            Err(error) => {
                self.focus = match error {
                    ConfirmError::WrongName { .. } => Field::Name,
                    ConfirmError::NoReason => Field::Reason,
                };
                self.error = Some(error.to_string());
                false
            }
        }
    }

    pub fn input(&mut self, key: KeyPress) {
        self.error = None;
        if *self.confirmation() == Confirmation::Reason {
            self.focus = Field::Reason;
        }
        if key.key == Key::Enter {
            return;
        }
        match self.focus {
            Field::Name => self.name.input(key),
            Field::Reason => self.reason.input(key),
        };
    }
}
