//! The operation overlays: preparing, the confirmation screen, progress, the result, a
//! choice the engine offers, and the audit log. [`view`] reads the overlay into what it says
//! (its keys named by the keymap's section for it); [`render`] sizes the popup and draws it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::text::{self, Row, Words, keys_for};
use super::theme::{self, Tone};
use crate::app::{Command, ConfirmState, Field, Mode, Overlay, TextField, key_for};
use crate::ops::{Confirmation, Scope};

#[derive(Debug, Clone, PartialEq)]
pub enum OperationView {
    Preparing { what: String },
    Running { sentence: String, stage: String, quit: String },
    Finished(FinishedView),
    Choice(ChoiceView),
    Confirm(ConfirmView),
    Audit(AuditView),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinishedView {
    pub sentence: String,
    pub symbol: &'static str,
    pub outcome: String,
    pub tone: Tone,
    /// The message's lines: a line per step of the kill switch.
    pub message: Vec<String>,
    pub closes: String,
}

/// A choice the engine offers instead of a plain refusal (roll back and resume a paused
/// Deployment): the question, and the keys the keymap gives the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceView {
    pub question: String,
    pub yes: String,
    pub no: String,
}

/// The confirmation screen: what will change, where, as whom — then the question the
/// environment's protection level asks.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmView {
    pub title: String,
    pub tone: Tone,
    pub lines: Vec<Row>,
    pub answer: Answer,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `yes` goes ahead; any of `no` cancels.
    YesNo { yes: String, no: Vec<String> },
    /// A typed name (when `expected` is set) and a reason, then the confirming key.
    Typed {
        expected: Option<String>,
        name: TextField,
        name_focused: bool,
        placeholder: String,
        reason: TextField,
        reason_focused: bool,
        footer: Row,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditView {
    pub title: String,
    /// Newest first, from the scroll position on.
    pub lines: Vec<Row>,
}

/// The view of the operation overlay on screen; `None` for the other overlays.
pub fn view(overlay: &Overlay) -> Option<OperationView> {
    Some(match overlay {
        Overlay::Help | Overlay::Drill { .. } | Overlay::Approvals(_) => return None,
        Overlay::Preparing { what } => OperationView::Preparing { what: what.clone() },
        Overlay::Running { sentence, stage } => OperationView::Running {
            sentence: sentence.clone(),
            stage: stage.clone(),
            quit: key_for(Mode::Busy, Command::Quit),
        },
        Overlay::Finished { sentence, outcome, message } => {
            OperationView::Finished(finished(sentence, outcome, message))
        }
        Overlay::Choice { question, .. } => OperationView::Choice(ChoiceView {
            question: question.clone(),
            yes: key_for(Mode::ConfirmYesNo, Command::Confirm),
            no: key_for(Mode::ConfirmYesNo, Command::Cancel),
        }),
        Overlay::Confirm(confirm) => OperationView::Confirm(self::confirm(confirm)),
        Overlay::Audit { records, scroll } => OperationView::Audit(audit(records.as_ref(), *scroll)),
    })
}

fn finished(sentence: &str, outcome: &str, message: &str) -> FinishedView {
    let (tone, symbol) = match outcome {
        "done" => (Tone::Ok, "✔"),
        "pending" => (Tone::Warn, "…"),
        _ => (Tone::Bad, "✖"),
    };
    FinishedView {
        sentence: sentence.to_owned(),
        symbol,
        outcome: outcome.to_owned(),
        tone,
        message: message.lines().map(str::to_owned).collect(),
        closes: format!("{} closes", keys_for(Mode::Result, Command::Back).join(" or ")),
    }
}

fn confirm(state: &ConfirmState) -> ConfirmView {
    let plan = &state.prepared.plan;
    let typed = matches!(state.confirmation(), Confirmation::Typed { .. } | Confirmation::Reason);
    let fleet = plan.scope == Scope::Fleet;

    let mut lines = vec![
        Row::plain(plan.sentence()).strong(),
        Row::blank(),
        Row::from(vec![Words::dim("cluster  "), Words::plain(state.prepared.cluster.clone())]),
    ];
    if let (Some(step), false) = (plan.steps.first(), fleet) {
        lines.push(Row::from(vec![Words::dim("context  "), Words::plain(step.target.context.clone())]));
    }
    lines.push(Row::from(vec![Words::dim("user     "), Words::plain(state.prepared.user.clone())]));
    // The decision's own (an override, an emergency) stand out from what the plan notes.
    let strong: Vec<String> =
        state.prepared.decision.warnings.iter().cloned().chain(state.prepared.team_warnings()).collect();
    if !strong.is_empty() {
        lines.push(Row::blank());
    }
    for warning in &strong {
        lines.push(Row::of(format!("⚠ {warning}"), Tone::Bad));
    }
    for warning in &plan.warnings {
        lines.push(Row::of(format!("⚠ {warning}"), Tone::Warn));
    }
    for step in &plan.steps {
        lines.push(Row::blank());
        let place = if fleet { format!("{} · ", step.target.env) } else { String::new() };
        lines.push(Row::of(
            format!(
                "{place}{} {}/{} (from resourceVersion {})",
                step.target.kind.name(),
                step.target.namespace,
                step.target.name,
                step.from_resource_version
            ),
            Tone::Dim,
        ));
        for d in &step.diff {
            lines.push(Row::from(vec![
                Words::plain(format!("  {}: ", d.field)),
                Words::new(d.before.clone(), Tone::Bad),
                Words::plain(" → "),
                Words::new(d.after.clone(), Tone::Ok),
            ]));
        }
        lines.push(Row::of(format!("  done when {}", step.verify.describe()), Tone::Dim));
    }
    let title = if fleet {
        format!(
            " Confirm the kill switch · {} canary writes in {} ",
            plan.steps.len(),
            plan.environments().join(", ")
        )
    } else {
        format!(" Confirm {} · {} ", plan.operation.name(), plan.typed_name())
    };
    let answer = match state.confirmation() {
        Confirmation::Typed { expected } => typed_answer(state, Some(expected.clone())),
        Confirmation::Reason => typed_answer(state, None),
        Confirmation::None | Confirmation::YesNo => Answer::YesNo {
            yes: key_for(Mode::ConfirmYesNo, Command::Confirm),
            no: keys_for(Mode::ConfirmYesNo, Command::Cancel),
        },
    };
    ConfirmView { title, tone: if typed { Tone::Bad } else { Tone::Warn }, lines, answer }
}

fn typed_answer(state: &ConfirmState, expected: Option<String>) -> Answer {
    let footer = match &state.error {
        Some(error) => Row::of(format!("✖ {error}"), Tone::Bad),
        None => Row::of(
            format!(
                "{} confirms · {} switches field · {} cancels, nothing is written",
                key_for(Mode::ConfirmTyped, Command::Confirm),
                key_for(Mode::ConfirmTyped, Command::NextField),
                key_for(Mode::ConfirmTyped, Command::Cancel)
            ),
            Tone::Dim,
        ),
    };
    Answer::Typed {
        expected,
        name: state.name.clone(),
        name_focused: state.focus == Field::Name,
        placeholder: state.prepared.plan.typed_name(),
        reason: state.reason.clone(),
        reason_focused: state.focus == Field::Reason,
        footer,
    }
}

/// The audit log, newest first: when, where, who, what, why, and how it ended.
fn audit(records: Option<&Result<Vec<crate::audit::Record>, String>>, scroll: usize) -> AuditView {
    let title = format!(" Audit log · newest first · {} closes ", key_for(Mode::Audit, Command::Back));
    let lines = match records {
        None => vec![Row::plain("reading the audit log…")],
        Some(Err(e)) => vec![Row::of(format!("cannot read the audit log: {e}"), Tone::Bad)],
        Some(Ok(records)) if records.is_empty() => vec![Row::plain("No operations recorded yet.")],
        Some(Ok(records)) => records.iter().skip(scroll).map(record_row).collect(),
    };
    AuditView { title, lines }
}

fn record_row(r: &crate::audit::Record) -> Row {
    let (label, tone) = match (r.phase, r.outcome) {
        (crate::audit::Phase::Intent, _) => ("intent".to_owned(), Tone::Warn),
        (_, Some(crate::audit::Outcome::Done)) => ("done".to_owned(), Tone::Ok),
        (_, Some(outcome)) => (outcome.as_str().to_owned(), Tone::Bad),
        (_, None) => ("result".to_owned(), Tone::Dim),
    };
    let mut row = Row::from(vec![
        Words::dim(r.time.strftime("%Y-%m-%d %H:%M:%S ").to_string()),
        Words::new(format!("{label:<11}"), tone),
        Words::plain(format!("{:<14} ", r.user)),
        Words::plain(r.sentence.clone()),
    ]);
    // A colleague's operation, read from the cluster: this console did not make it.
    if r.origin.as_deref() == Some("cluster") {
        row.push(Words::dim(" · from the team's records"));
    }
    if let Some(reason) = &r.reason {
        row.push(Words::dim(format!(" — {reason}")));
    }
    if let Some(message) = r.message.as_ref().filter(|_| r.phase == crate::audit::Phase::Result) {
        row.push(Words::dim(format!(" · {message}")));
    }
    row
}

/// Draws the overlay over the screen's `body`; the confirmation takes the whole frame, so
/// the question always has room.
pub fn render(frame: &mut Frame, body: Rect, view: &OperationView) {
    match view {
        OperationView::Preparing { what } => render_preparing(frame, body, what),
        OperationView::Running { sentence, stage, quit } => {
            render_running(frame, body, sentence, stage, quit);
        }
        OperationView::Finished(view) => render_finished(frame, body, view),
        OperationView::Choice(view) => render_choice(frame, body, view),
        OperationView::Confirm(view) => render_confirm(frame, frame.area(), view),
        OperationView::Audit(view) => render_audit(frame, body, view),
    }
}

fn popup(frame: &mut Frame, area: Rect, width: u16, height: u16) -> Rect {
    let [vertical] =
        Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [popup] =
        Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(vertical);
    frame.render_widget(Clear, popup);
    popup
}

fn boxed(title: String, tone: Tone) -> Block<'static> {
    let style = theme::style(tone);
    Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(style)
        .title(Line::styled(title, style.add_modifier(Modifier::BOLD)))
}

fn render_preparing(frame: &mut Frame, area: Rect, what: &str) {
    let area = popup(frame, area, 70, 5);
    let text = vec![
        Line::raw(format!("Preparing {what}…")),
        Line::styled("planning · checking access · dry run on the server", theme::DIM),
    ];
    frame.render_widget(Paragraph::new(text).block(boxed(" Operation ".into(), Tone::Warn)), area);
}

fn render_running(frame: &mut Frame, area: Rect, sentence: &str, stage: &str, quit: &str) {
    let area = popup(frame, area, 90, 6);
    let text = vec![
        Line::styled(sentence.to_owned(), theme::BOLD),
        Line::raw(format!("… {stage}")),
        Line::styled(format!("{quit} quits; the audit log keeps the intent"), theme::DIM),
    ];
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(boxed(" Running ".into(), Tone::Warn)),
        area,
    );
}

fn render_finished(frame: &mut Frame, area: Rect, view: &FinishedView) {
    // A long message wraps: the popup grows to hold it.
    let wrapped = |text: &str| text.chars().count() / 86 + 1;
    let mut message_lines = view.message.iter();
    let mut text = vec![
        Line::styled(view.sentence.clone(), theme::BOLD),
        Line::from(vec![
            Span::styled(format!("{} {}", view.symbol, view.outcome), theme::style(view.tone)),
            Span::raw(format!(": {}", message_lines.next().map_or("", String::as_str))),
        ]),
    ];
    text.extend(message_lines.map(|l| Line::raw(format!("  {l}"))));
    text.push(Line::raw(""));
    text.push(Line::styled(view.closes.clone(), theme::DIM));
    let height = wrapped(&view.sentence) + view.message.iter().map(|l| wrapped(l)).sum::<usize>() + 4;
    let area = popup(frame, area, 90, height as u16);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(boxed(" Result ".into(), view.tone)),
        area,
    );
}

fn render_choice(frame: &mut Frame, area: Rect, view: &ChoiceView) {
    let mut text: Vec<Line> = view.question.lines().map(|l| Line::raw(l.to_owned())).collect();
    text.push(Line::raw(""));
    text.push(Line::from(vec![
        Span::styled(format!(" {} ", view.yes), theme::KEY),
        Span::raw(" yes: plan it that way (the confirmation follows)   "),
        Span::styled(format!(" {} ", view.no), theme::KEY),
        Span::raw(" no: nothing is written"),
    ]));
    let height = view.question.chars().count() / 86 + view.question.lines().count() + 5;
    let area = popup(frame, area, 90, height as u16);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(boxed(" A choice ".into(), Tone::Warn)),
        area,
    );
}

fn render_confirm(frame: &mut Frame, area: Rect, view: &ConfirmView) {
    // The question always shows: the plan's lines give way first on a short terminal.
    let fields: u16 = if matches!(view.answer, Answer::Typed { .. }) { 9 } else { 2 };
    let height = (view.lines.len() as u16 + 2).saturating_add(fields + 1);
    let area = popup(frame, area, 100, height);
    let block = boxed(view.title.clone(), view.tone);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text_area, rest] = Layout::vertical([Constraint::Fill(1), Constraint::Length(fields)]).areas(inner);
    frame.render_widget(Paragraph::new(text::lines(&view.lines)).wrap(Wrap { trim: false }), text_area);
    match &view.answer {
        Answer::YesNo { yes, no } => {
            let mut spans = vec![Span::styled(format!(" {yes} "), theme::KEY), Span::raw(" go ahead   ")];
            for (i, key) in no.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" / "));
                }
                spans.push(Span::styled(format!(" {key} "), theme::KEY));
            }
            spans.push(Span::raw(" cancel, nothing is written"));
            frame.render_widget(Paragraph::new(vec![Line::raw(""), Line::from(spans)]), rest);
        }
        Answer::Typed { .. } => render_typed(frame, rest, &view.answer),
    }
}

fn render_typed(frame: &mut Frame, area: Rect, answer: &Answer) {
    let Answer::Typed { expected, name, name_focused, placeholder, reason, reason_focused, footer } = answer
    else {
        return;
    };
    let [_gap, name_label, name_area, reason_label, reason_area, error] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    if let Some(expected) = expected {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw("Type "),
                Span::styled(expected.clone(), theme::BAD),
                Span::raw(" to confirm (case matters):"),
            ])),
            name_label,
        );
        let line = theme::text_field(name, *name_focused, placeholder);
        let style = if *name_focused { theme::BOLD } else { Style::new() };
        frame.render_widget(Paragraph::new(line).style(style), name_area);
    }
    frame.render_widget(
        Paragraph::new("Reason (recorded in the audit log and on the object's Events):"),
        reason_label,
    );
    let line = theme::text_field(reason, *reason_focused, "why, for the audit log and the incident ticket");
    let reason_box = Block::bordered().border_type(BorderType::Plain).border_style(theme::DIM);
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }).block(reason_box), reason_area);
    frame.render_widget(Paragraph::new(text::line(footer)), error);
}

fn render_audit(frame: &mut Frame, area: Rect, view: &AuditView) {
    let popup_area = popup(frame, area, area.width.saturating_sub(4), area.height.saturating_sub(2));
    let block = boxed(view.title.clone(), Tone::Ok);
    frame.render_widget(Paragraph::new(text::lines(&view.lines)).block(block), popup_area);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Protection;
    use crate::engine::{Ask, Prepared, Request, Traffic};
    use crate::ops::Place;

    fn confirming(protection: Protection) -> ConfirmView {
        let place = Place { env: "staging", context: "staging", app: "web", protection };
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
            "spec": {"replicas": 2},
        });
        let plan = crate::ops::restart(&place, &deployment, "2026-11-21T10:00:00Z").expect("plan");
        let request = Request::new("staging", "web", Ask::Restart);
        let prepared = Prepared::offline(request, plan, Traffic::NotRaised).expect("decided");
        let Some(OperationView::Confirm(view)) =
            view(&Overlay::Confirm(Box::new(ConfirmState::new(prepared))))
        else {
            panic!("a confirmation")
        };
        view
    }

    #[test]
    fn a_yes_no_confirmation_offers_every_key_that_cancels() {
        let view = confirming(Protection::Confirm);
        assert_eq!(
            view.answer,
            Answer::YesNo {
                yes: key_for(Mode::ConfirmYesNo, Command::Confirm),
                no: keys_for(Mode::ConfirmYesNo, Command::Cancel)
            }
        );
        assert_eq!(keys_for(Mode::ConfirmYesNo, Command::Cancel), ["n", "Esc"]);
    }

    #[test]
    fn a_typed_confirmation_says_its_keys_from_the_keymap() {
        let view = confirming(Protection::Typed);
        let Answer::Typed { expected, footer, .. } = &view.answer else { panic!("{:?}", view.answer) };
        assert_eq!(expected.as_deref(), Some("staging/web"));
        let (confirm, next, cancel) = (
            key_for(Mode::ConfirmTyped, Command::Confirm),
            key_for(Mode::ConfirmTyped, Command::NextField),
            key_for(Mode::ConfirmTyped, Command::Cancel),
        );
        assert_eq!(
            footer.text(),
            format!("{confirm} confirms · {next} switches field · {cancel} cancels, nothing is written")
        );
        assert_eq!(view.tone, Tone::Bad);
    }

    #[test]
    fn the_result_the_progress_and_the_audit_log_name_their_keys_from_the_keymap() {
        let finished =
            Overlay::Finished { sentence: "s".into(), outcome: "done".into(), message: "a\nb".into() };
        let Some(OperationView::Finished(f)) = view(&finished) else { panic!("a result") };
        assert_eq!(f.closes, format!("{} closes", keys_for(Mode::Result, Command::Back).join(" or ")));
        assert_eq!((f.message.as_slice(), f.tone), (["a".to_owned(), "b".to_owned()].as_slice(), Tone::Ok));
        let running = Overlay::Running { sentence: "s".into(), stage: "writing".into() };
        let Some(OperationView::Running { quit, .. }) = view(&running) else { panic!("progress") };
        assert_eq!(quit, key_for(Mode::Busy, Command::Quit));
        let Some(OperationView::Audit(audit)) = view(&Overlay::Audit { records: None, scroll: 0 }) else {
            panic!("the audit log")
        };
        assert!(audit.title.ends_with(&format!("{} closes ", key_for(Mode::Audit, Command::Back))));
        assert_eq!(view(&Overlay::Help), None, "the help has its own view");
    }
}
