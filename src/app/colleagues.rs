//! What colleagues do, as the console hears it from the team's records: a notice when someone
//! else's operation on an app ends ("bob: production · web 25% → 50% · done · 10:14"), the
//! audit overlay growing live, and — for a request this console filed — the answer, which
//! plans the request again against the objects as they are (a changed object means a new plan,
//! never a stale write). Pure.

use super::state::{Notice, Overlay, State};
use super::update::Update;
use crate::audit::{Phase, Record};
use crate::team::approval::Answer;
use crate::team::{Kind, Shared};

/// A confirmed operation waits for request `id`.
pub fn awaiting(state: &mut State, id: String, request: crate::engine::Request) -> Update {
    state.awaiting.insert(id, request);
    Update::default()
}

pub fn record(state: &mut State, env: &str, shared: Shared) -> Update {
    // What was there before the console started is the audit log's, not news. The server
    // stores creation times to the second: a record of the console's first second is news.
    if shared.created.is_some_and(|at| at.as_second() < state.started.as_second()) {
        return Update::default();
    }
    match shared.kind {
        Kind::Audit => operation(state, env, shared),
        Kind::Answer => answer(state, shared),
        _ => Update::default(),
    }
}

fn operation(state: &mut State, env: &str, shared: Shared) -> Update {
    let Ok(mut record) = serde_json::from_value::<Record>(shared.payload) else { return Update::default() };
    let me = state.envs.iter().find(|e| e.name == env).and_then(|e| e.user.as_deref());
    if record.phase != Phase::Result || me == Some(record.user.as_str()) {
        return Update::default();
    }
    let outcome = record.outcome.map_or("?", crate::audit::Outcome::as_str);
    state.notice = Some(Notice {
        error: outcome != "done",
        text: format!("{}: {} · {outcome} · {}", record.user, record.sentence, record.time.strftime("%H:%M")),
    });
    if let Some(Overlay::Audit { records: Some(Ok(records)), .. }) = &mut state.overlay {
        record.origin = Some("cluster".into());
        records.insert(0, record);
    }
    Update::redraw()
}

fn answer(state: &mut State, shared: Shared) -> Update {
    let Ok(answer) = serde_json::from_value::<Answer>(shared.payload) else { return Update::default() };
    let Some(request) = state.awaiting.remove(&answer.request) else { return Update::default() };
    // Who answered is who the server let write it.
    let by = shared.user;
    if !answer.approved {
        let why = answer.reason.map(|r| format!(": {r}")).unwrap_or_default();
        state.notice = Some(Notice { error: true, text: format!("{by} denied {}{why}", answer.request) });
        return Update::redraw();
    }
    state.notice =
        Some(Notice { error: false, text: format!("{by} approved {}: planning it again", answer.request) });
    state.overlay = Some(Overlay::Preparing { what: request.describe() });
    Update::effect(super::Effect::Prepare(request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Ask, Request};

    fn answer_record(approved: bool) -> Shared {
        let answer = Answer {
            id: "r-1-bob".into(),
            request: "r-1".into(),
            approved,
            by: "bob".into(),
            requester: "me".into(),
            at: "2026-12-04T10:05:00Z".parse().unwrap(),
            reason: (!approved).then(|| "not in the freeze".into()),
        };
        let mut shared =
            Shared::new(Kind::Answer, "r-1-bob", "bob", "production", serde_json::to_value(answer).unwrap());
        shared.created = Some("2026-12-04T10:05:00Z".parse().unwrap());
        shared
    }

    #[test]
    fn an_approval_of_a_request_this_console_filed_plans_it_again() {
        let mut state = crate::app::update::tests::state();
        let request = Request::new("production", "web", Ask::Restart);
        let _ = awaiting(&mut state, "r-1".into(), request.clone());
        let update = record(&mut state, "production", answer_record(true));
        assert_eq!(update.effects, vec![crate::app::Effect::Prepare(request)]);
        assert!(state.awaiting.is_empty());
        assert!(record(&mut state, "production", answer_record(true)).effects.is_empty(), "once");
    }

    #[test]
    fn a_denial_says_why_and_plans_nothing() {
        let mut state = crate::app::update::tests::state();
        let _ = awaiting(&mut state, "r-1".into(), Request::new("production", "web", Ask::Restart));
        let update = record(&mut state, "production", answer_record(false));
        assert!(update.effects.is_empty());
        assert_eq!(state.notice.map(|n| n.text).as_deref(), Some("bob denied r-1: not in the freeze"));
    }
}
