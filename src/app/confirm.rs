//! The confirmation screen's state: the plan, and what the operator has typed.

use ratatui_textarea::TextArea;

use crate::ops::{ConfirmError, Confirmation, Plan, check_typed};

/// Which field of the typed confirmation has the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Reason,
}

#[derive(Debug, Clone)]
pub struct ConfirmState {
    pub plan: Plan,
    /// The Kubernetes user the write will be made as.
    pub user: String,
    /// The cluster the context points at, as the kubeconfig names it.
    pub cluster: String,
    pub confirmation: Confirmation,
    pub name: TextArea<'static>,
    pub reason: TextArea<'static>,
    pub focus: Field,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

impl ConfirmState {
    pub fn new(plan: Plan, user: String, cluster: String) -> Self {
        let confirmation = Confirmation::for_plan(&plan);
        let mut name = TextArea::default();
        name.set_placeholder_text(plan.typed_name());
        let mut reason = TextArea::default();
        reason.set_placeholder_text("why, for the audit log and the incident ticket");
        Self { plan, user, cluster, confirmation, name, reason, focus: Field::Name, error: None }
    }

    pub fn typed_name(&self) -> String {
        self.name.lines().join("")
    }

    pub fn typed_reason(&self) -> String {
        self.reason.lines().join(" ").trim().to_owned()
    }

    /// The reason to record, when the operator gave one.
    pub fn reason_given(&self) -> Option<String> {
        let reason = self.typed_reason();
        (!reason.is_empty()).then_some(reason)
    }

    /// Whether Enter may proceed; sets the error shown otherwise.
    pub fn accept(&mut self) -> bool {
        let Confirmation::Typed { expected } = &self.confirmation else { return true };
        match check_typed(expected, &self.typed_name(), &self.typed_reason()) {
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

    pub fn input(&mut self, key: crossterm::event::KeyEvent) {
        self.error = None;
        match self.focus {
            Field::Name => {
                // One line: the name has no newlines.
                if key.code != crossterm::event::KeyCode::Enter {
                    self.name.input(key);
                }
            }
            Field::Reason => {
                self.reason.input(key);
            }
        }
    }
}
