//! The operation overlays: preparing, the confirmation screen, progress, and the result.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::{Command, ConfirmState, Field, Mode, key_for};
use crate::ops::{Confirmation, Scope};

fn popup(frame: &mut Frame, area: Rect, width: u16, height: u16) -> Rect {
    let [vertical] =
        Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [popup] =
        Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(vertical);
    frame.render_widget(Clear, popup);
    popup
}

fn boxed(title: String, style: Style) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(style)
        .title(Line::styled(title, style.add_modifier(Modifier::BOLD)))
}

pub fn preparing(frame: &mut Frame, area: Rect, what: &str) {
    let area = popup(frame, area, 70, 5);
    let text = vec![
        Line::raw(format!("Preparing {what}…")),
        Line::styled("planning · checking access · dry run on the server", theme::DIM),
    ];
    frame.render_widget(Paragraph::new(text).block(boxed(" Operation ".into(), theme::WARN)), area);
}

pub fn running(frame: &mut Frame, area: Rect, sentence: &str, stage: &str) {
    let area = popup(frame, area, 90, 6);
    let text = vec![
        Line::styled(sentence.to_owned(), Style::new().add_modifier(Modifier::BOLD)),
        Line::raw(format!("… {stage}")),
        Line::styled("Ctrl-c quits; the audit log keeps the intent", theme::DIM),
    ];
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(boxed(" Running ".into(), theme::WARN)),
        area,
    );
}

pub fn finished(frame: &mut Frame, area: Rect, sentence: &str, outcome: &str, message: &str) {
    let (style, symbol) = match outcome {
        "done" => (theme::OK, "✔"),
        "pending" => (theme::WARN, "…"),
        _ => (theme::BAD, "✖"),
    };
    // A line per step of the kill switch; a long message wraps: the popup grows to hold it.
    let wrapped = |text: &str| text.chars().count() / 86 + 1;
    let mut message_lines = message.lines();
    let mut text = vec![
        Line::styled(sentence.to_owned(), Style::new().add_modifier(Modifier::BOLD)),
        Line::from(vec![
            Span::styled(format!("{symbol} {outcome}"), style),
            Span::raw(format!(": {}", message_lines.next().unwrap_or_default())),
        ]),
    ];
    text.extend(message_lines.map(|l| Line::raw(format!("  {l}"))));
    text.push(Line::raw(""));
    text.push(Line::styled("Enter or Esc closes", theme::DIM));
    let height = wrapped(sentence) + message.lines().map(wrapped).sum::<usize>() + 4;
    let area = popup(frame, area, 90, height as u16);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(boxed(" Result ".into(), style)),
        area,
    );
}

/// A choice the engine offers instead of a plain refusal (roll back and resume a paused
/// Deployment): the question, and the keys the keymap gives the answer.
pub fn choice(frame: &mut Frame, area: Rect, question: &str) {
    let yes = key_for(Mode::ConfirmYesNo, Command::Confirm);
    let no = key_for(Mode::ConfirmYesNo, Command::Cancel);
    let mut text: Vec<Line> = question.lines().map(|l| Line::raw(l.to_owned())).collect();
    text.push(Line::raw(""));
    text.push(Line::from(vec![
        Span::styled(format!(" {yes} "), theme::KEY),
        Span::raw(" yes: plan it that way (the confirmation follows)   "),
        Span::styled(format!(" {no} "), theme::KEY),
        Span::raw(" no: nothing is written"),
    ]));
    let height = question.chars().count() / 86 + question.lines().count() + 5;
    let area = popup(frame, area, 90, height as u16);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(boxed(" A choice ".into(), theme::WARN)),
        area,
    );
}

/// The confirmation screen: what will change, where, as whom — then the question the
/// environment's protection level asks.
pub fn confirm(frame: &mut Frame, area: Rect, state: &ConfirmState) {
    let plan = &state.prepared.plan;
    let typed = matches!(state.confirmation(), Confirmation::Typed { .. } | Confirmation::Reason);
    let fleet = plan.scope == Scope::Fleet;

    let mut lines = vec![
        Line::styled(plan.sentence(), Style::new().add_modifier(Modifier::BOLD)),
        Line::raw(""),
        Line::from(vec![Span::styled("cluster  ", theme::DIM), Span::raw(state.prepared.cluster.clone())]),
    ];
    if let (Some(step), false) = (plan.steps.first(), fleet) {
        lines.push(Line::from(vec![
            Span::styled("context  ", theme::DIM),
            Span::raw(step.target.context.clone()),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled("user     ", theme::DIM),
        Span::raw(state.prepared.user.clone()),
    ]));
    // The decision's own (an override, an emergency) stand out from what the plan notes.
    if !state.prepared.decision.warnings.is_empty() {
        lines.push(Line::raw(""));
    }
    for warning in &state.prepared.decision.warnings {
        lines.push(Line::styled(format!("⚠ {warning}"), theme::BAD));
    }
    for warning in &plan.warnings {
        lines.push(Line::styled(format!("⚠ {warning}"), theme::WARN));
    }
    for step in &plan.steps {
        lines.push(Line::raw(""));
        let place = if fleet { format!("{} · ", step.target.env) } else { String::new() };
        lines.push(Line::styled(
            format!(
                "{place}{} {}/{} (from resourceVersion {})",
                step.target.kind.name(),
                step.target.namespace,
                step.target.name,
                step.from_resource_version
            ),
            theme::DIM,
        ));
        for d in &step.diff {
            lines.push(Line::from(vec![
                Span::raw(format!("  {}: ", d.field)),
                Span::styled(d.before.clone(), theme::BAD),
                Span::raw(" → "),
                Span::styled(d.after.clone(), theme::OK),
            ]));
        }
        lines.push(Line::styled(format!("  done when {}", step.verify.describe()), theme::DIM));
    }
    // The question always shows: the plan's lines give way first on a short terminal.
    let fields: u16 = if typed { 9 } else { 2 };
    let height = (lines.len() as u16 + 2).saturating_add(fields + 1);
    let area = popup(frame, area, 100, height);
    let style = if typed { theme::BAD } else { theme::WARN };
    let title = if fleet {
        format!(
            " Confirm the kill switch · {} canary writes in {} ",
            plan.steps.len(),
            plan.environments().join(", ")
        )
    } else {
        format!(" Confirm {} · {} ", plan.operation.name(), plan.typed_name())
    };
    let block = boxed(title, style);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text_area, rest] = Layout::vertical([Constraint::Fill(1), Constraint::Length(fields)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);

    match state.confirmation() {
        Confirmation::Typed { expected } => typed_fields(frame, rest, state, Some(expected.as_str())),
        Confirmation::Reason => typed_fields(frame, rest, state, None),
        Confirmation::None | Confirmation::YesNo => {
            let question = Line::from(vec![
                Span::styled(" y ", theme::KEY),
                Span::raw(" go ahead   "),
                Span::styled(" n ", theme::KEY),
                Span::raw(" / "),
                Span::styled(" Esc ", theme::KEY),
                Span::raw(" cancel, nothing is written"),
            ]);
            frame.render_widget(Paragraph::new(vec![Line::raw(""), question]), rest);
        }
    }
}

fn plan_name(state: &ConfirmState) -> String {
    state.prepared.plan.typed_name()
}

fn typed_fields(frame: &mut Frame, area: Rect, state: &ConfirmState, expected: Option<&str>) {
    let [gap, name_label, name, reason_label, reason, error] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let _ = gap;
    let focus = |field: Field| {
        if state.focus == field { Style::new().add_modifier(Modifier::BOLD) } else { Style::new() }
    };
    if let Some(expected) = expected {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw("Type "),
                Span::styled(expected.to_owned(), theme::BAD),
                Span::raw(" to confirm (case matters):"),
            ])),
            name_label,
        );
        let line = theme::text_field(&state.name, state.focus == Field::Name, &plan_name(state));
        frame.render_widget(Paragraph::new(line).style(focus(Field::Name)), name);
    }
    frame.render_widget(
        Paragraph::new("Reason (recorded in the audit log and on the object's Events):"),
        reason_label,
    );
    let line = theme::text_field(
        &state.reason,
        state.focus == Field::Reason,
        "why, for the audit log and the incident ticket",
    );
    let reason_box = Block::bordered().border_type(BorderType::Plain).border_style(theme::DIM);
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }).block(reason_box), reason);
    let footer = match &state.error {
        Some(error) => Line::styled(format!("✖ {error}"), theme::BAD),
        None => {
            Line::styled("Enter confirms · Tab switches field · Esc cancels, nothing is written", theme::DIM)
        }
    };
    frame.render_widget(Paragraph::new(footer), error);
}

/// The audit log, newest first: when, where, who, what, why, and how it ended.
pub fn audit(
    frame: &mut Frame,
    area: Rect,
    records: Option<&Result<Vec<crate::audit::Record>, String>>,
    scroll: usize,
) {
    let popup_area = popup(frame, area, area.width.saturating_sub(4), area.height.saturating_sub(2));
    let block = boxed(" Audit log · newest first · Esc closes ".into(), theme::OK);
    let lines: Vec<Line> = match records {
        None => vec![Line::raw("reading the audit log…")],
        Some(Err(e)) => vec![Line::styled(format!("cannot read the audit log: {e}"), theme::BAD)],
        Some(Ok(records)) if records.is_empty() => vec![Line::raw("No operations recorded yet.")],
        Some(Ok(records)) => records
            .iter()
            .skip(scroll)
            .map(|r| {
                let (label, style) = match (r.phase, r.outcome) {
                    (crate::audit::Phase::Intent, _) => ("intent".to_owned(), theme::WARN),
                    (_, Some(crate::audit::Outcome::Done)) => ("done".to_owned(), theme::OK),
                    (_, Some(outcome)) => (outcome.as_str().to_owned(), theme::BAD),
                    (_, None) => ("result".to_owned(), theme::DIM),
                };
                let mut spans = vec![
                    Span::styled(r.time.strftime("%Y-%m-%d %H:%M:%S ").to_string(), theme::DIM),
                    Span::styled(format!("{label:<11}"), style),
                    Span::raw(format!("{:<14} ", r.user)),
                    Span::raw(r.sentence.clone()),
                ];
                if let Some(reason) = &r.reason {
                    spans.push(Span::styled(format!(" — {reason}"), theme::DIM));
                }
                if let Some(message) = r.message.as_ref().filter(|_| r.phase == crate::audit::Phase::Result) {
                    spans.push(Span::styled(format!(" · {message}"), theme::DIM));
                }
                Line::from(spans)
            })
            .collect(),
    };
    frame.render_widget(Paragraph::new(lines).block(block), popup_area);
}
