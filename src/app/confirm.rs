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
    /// The analysis gate this plan overrides (more traffic to a canary whose verdict does not
    /// pass): the confirmation then always needs a reason, and the record says what it overrode.
    pub overrides: Option<String>,
}

impl ConfirmState {
    pub fn new(plan: Plan, user: String, cluster: String, overrides: Option<String>) -> Self {
        let mut confirmation = Confirmation::for_plan(&plan);
        // An override of the analysis, or a change that adds risk outside a deployment window,
        // always needs a reason: it is what the record of it will say.
        let emergency = plan.emergency.is_some() && crate::ops::policy::adds_risk(plan.operation);
        if overrides.is_some() || emergency {
            confirmation = confirmation.with_override();
        }
        let mut name = TextArea::default();
        name.set_placeholder_text(plan.typed_name());
        let mut reason = TextArea::default();
        reason.set_placeholder_text("why, for the audit log and the incident ticket");
        let focus = if confirmation == Confirmation::Reason { Field::Reason } else { Field::Name };
        Self { plan, user, cluster, confirmation, name, reason, focus, error: None, overrides }
    }

    pub fn typed_name(&self) -> String {
        self.name.lines().join("")
    }

    pub fn typed_reason(&self) -> String {
        self.reason.lines().join(" ").trim().to_owned()
    }

    /// The reason to record, when the operator gave one: with what it overrode, if anything.
    pub fn reason_given(&self) -> Option<String> {
        let reason = self.typed_reason();
        if reason.is_empty() {
            return None;
        }
        Some(match &self.overrides {
            Some(gate) => crate::ops::canary::override_reason(gate, &reason),
            None => reason,
        })
    }

    /// Whether Enter may proceed; sets the error shown otherwise.
    pub fn accept(&mut self) -> bool {
        let expected = match &self.confirmation {
            Confirmation::Typed { expected } => expected,
            Confirmation::Reason if self.typed_reason().is_empty() => {
                self.focus = Field::Reason;
                self.error = Some("a reason is required: it is recorded".into());
                return false;
            }
            _ => return true,
        };
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
        if self.confirmation == Confirmation::Reason {
            self.focus = Field::Reason;
        }
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
