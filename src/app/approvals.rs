//! The approvals overlay (`A` on the overview): colleagues' pending approval requests in every
//! environment, each with its exact plan and diff, approved with `y` or denied with `n` and a
//! reason. The reducer's half; the engine answers, the UI draws.

use super::effect::Effect;
use super::state::{Notice, Overlay, State};
use super::update::Update;
use crate::team::approval::StepText;

/// A request as the overlay shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub env: String,
    pub id: String,
    pub app: String,
    pub operation: String,
    pub sentence: String,
    pub steps: Vec<StepText>,
    pub warnings: Vec<String>,
    pub requester: String,
    pub requested_at: jiff::Timestamp,
    pub expires_at: jiff::Timestamp,
    pub reason: Option<String>,
    /// Whether the server enforces who answers it (the admission policy), where known.
    pub enforced: Option<bool>,
    /// This console's own user asked for it: a colleague must answer.
    pub mine: bool,
}

/// What the overlay holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvals {
    /// `None` while they load.
    pub items: Option<Result<Vec<Pending>, String>>,
    pub cursor: usize,
    /// A denial's reason being typed.
    pub reason: Option<String>,
}

/// The overlay's commands, and `A` that opens it; `None` for every other.
pub fn command(state: &mut State, command: super::Command) -> Option<Update> {
    use super::Command;
    let shown = matches!(state.overlay, Some(Overlay::Approvals(_)));
    Some(match command {
        Command::ShowApprovals => open(state),
        Command::Approve if shown => answer(state, true),
        Command::Deny if shown => answer(state, false),
        Command::Confirm if shown => submit(state),
        Command::NextApp | Command::PrevApp if shown => moved(state, command == Command::NextApp),
        Command::Back if back(state) => Update::redraw(),
        _ => return None,
    })
}

pub fn open(state: &mut State) -> Update {
    state.overlay = Some(Overlay::Approvals(Approvals { items: None, cursor: 0, reason: None }));
    Update::effect(Effect::LoadApprovals)
}

fn shown(state: &mut State) -> Option<&mut Approvals> {
    match &mut state.overlay {
        Some(Overlay::Approvals(a)) => Some(a),
        _ => None,
    }
}

pub fn loaded(state: &mut State, items: Result<Vec<Pending>, String>) -> Update {
    let Some(a) = shown(state) else { return Update::default() };
    let count = items.as_ref().map_or(0, Vec::len);
    a.cursor = a.cursor.min(count.saturating_sub(1));
    a.items = Some(items);
    Update::redraw()
}

pub fn moved(state: &mut State, down: bool) -> Update {
    let Some(a) = shown(state) else { return Update::default() };
    let count = a.items.as_ref().and_then(|i| i.as_ref().ok()).map_or(0, Vec::len);
    a.cursor = if down { (a.cursor + 1).min(count.saturating_sub(1)) } else { a.cursor.saturating_sub(1) };
    Update::redraw()
}

fn selected(a: &Approvals) -> Option<&Pending> {
    a.items.as_ref().and_then(|i| i.as_ref().ok()).and_then(|i| i.get(a.cursor))
}

/// `y`: approve the selected request; `n`: start typing why it is denied.
pub fn answer(state: &mut State, approve: bool) -> Update {
    let Some(a) = shown(state) else { return Update::default() };
    let Some(pending) = selected(a).cloned() else { return Update::default() };
    if pending.mine {
        state.notice = Some(Notice {
            error: true,
            text: format!("{} is your own request: a different Kubernetes user must answer it", pending.id),
        });
        return Update::redraw();
    }
    if !approve {
        a.reason = Some(String::new());
        return Update::redraw();
    }
    state.notice = Some(Notice { error: false, text: format!("approving {}…", pending.id) });
    Update::effect(Effect::AnswerApproval { env: pending.env, id: pending.id, approve: true, reason: None })
}

/// Enter while typing a denial's reason: deny, with it.
pub fn submit(state: &mut State) -> Update {
    let Some(a) = shown(state) else { return Update::default() };
    let Some(reason) = a.reason.clone() else { return Update::default() };
    if reason.trim().is_empty() {
        state.notice =
            Some(Notice { error: true, text: "a denial needs a reason: the requester reads it".into() });
        return Update::redraw();
    }
    let Some(pending) = selected(a).cloned() else { return Update::default() };
    a.reason = None;
    state.notice = Some(Notice { error: false, text: format!("denying {}…", pending.id) });
    Update::effect(Effect::AnswerApproval {
        env: pending.env,
        id: pending.id,
        approve: false,
        reason: Some(reason.trim().to_owned()),
    })
}

pub fn type_text(state: &mut State, key: super::Key) -> bool {
    let Some(reason) = shown(state).and_then(|a| a.reason.as_mut()) else { return false };
    match key {
        super::Key::Char(c) => reason.push(c),
        super::Key::Backspace => {
            reason.pop();
        }
        _ => return false,
    }
    true
}

/// Esc while typing stops typing; otherwise the overlay closes.
pub fn back(state: &mut State) -> bool {
    match shown(state) {
        Some(a) if a.reason.is_some() => {
            a.reason = None;
            true
        }
        _ => false,
    }
}

/// How an answer went; the list is read again either way.
pub fn answered(state: &mut State, result: Result<String, String>) -> Update {
    state.notice = Some(match result {
        Ok(text) => Notice { error: false, text },
        Err(text) => Notice { error: true, text },
    });
    if shown(state).is_some() {
        return Update { redraw: true, effects: vec![Effect::LoadApprovals] };
    }
    Update::redraw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str, mine: bool) -> Pending {
        Pending {
            env: "production".into(),
            id: id.into(),
            app: "web".into(),
            operation: "canary-step".into(),
            sentence: "production · web 10% → 25%".into(),
            steps: Vec::new(),
            warnings: Vec::new(),
            requester: if mine { "me".into() } else { "alice".into() },
            requested_at: "2026-12-04T10:00:00Z".parse().unwrap(),
            expires_at: "2026-12-04T10:30:00Z".parse().unwrap(),
            reason: None,
            enforced: Some(true),
            mine,
        }
    }

    fn with(items: Vec<Pending>) -> State {
        let mut state = crate::app::update::tests::state();
        let _ = open(&mut state);
        let _ = loaded(&mut state, Ok(items));
        state
    }

    #[test]
    fn approving_asks_the_engine_and_a_denial_waits_for_its_reason() {
        let mut state = with(vec![pending("r-1", false), pending("r-2", false)]);
        let _ = moved(&mut state, true);
        let update = answer(&mut state, true);
        assert_eq!(
            update.effects,
            vec![Effect::AnswerApproval {
                env: "production".into(),
                id: "r-2".into(),
                approve: true,
                reason: None
            }]
        );
        assert!(answer(&mut state, false).effects.is_empty(), "a denial first asks why");
        assert!(submit(&mut state).effects.is_empty(), "not without a reason");
        for c in "not now".chars() {
            type_text(&mut state, crate::app::Key::Char(c));
        }
        assert_eq!(
            submit(&mut state).effects,
            vec![Effect::AnswerApproval {
                env: "production".into(),
                id: "r-2".into(),
                approve: false,
                reason: Some("not now".into())
            }]
        );
    }

    #[test]
    fn ones_own_request_is_not_answered_from_here() {
        let mut state = with(vec![pending("r-1", true)]);
        assert!(answer(&mut state, true).effects.is_empty());
        assert!(state.notice.as_ref().is_some_and(|n| n.text.contains("your own request")));
    }
}
