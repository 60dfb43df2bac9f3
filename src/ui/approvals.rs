//! The approvals overlay (`A`): colleagues' pending requests, the selected one with the exact
//! plan and diff it would write, who asked and until when, and whether the server enforces
//! who may answer.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::text::{self, Row, Words};
use super::theme::{self, Tone};
use crate::app::approvals::{Approvals, Pending};
use crate::app::{Command, Mode, key_for};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalsView {
    pub title: String,
    pub lines: Vec<Row>,
}

fn enforcement(enforced: Option<bool>) -> Row {
    match enforced {
        Some(true) => {
            Row::of("answers here are enforced by the server (opsdeck-records admission policy)", Tone::Ok)
        }
        Some(false) => Row::of(
            "answers here are NOT enforced by the server: the admission policy is not installed (opsdeck cluster-setup)",
            Tone::Warn,
        ),
        None => Row::of("not known whether the server enforces answers here", Tone::Dim),
    }
}

fn detail(p: &Pending, lines: &mut Vec<Row>) {
    for step in &p.steps {
        lines.push(Row::plain(format!("    {}", step.sentence)));
        for diff in &step.diff {
            lines.push(Row::from(Words::new(format!("      {diff}"), Tone::Warn)));
        }
    }
    for warning in &p.warnings {
        lines.push(Row::of(format!("    ⚠ {warning}"), Tone::Warn));
    }
    if let Some(reason) = &p.reason {
        lines.push(Row::of(format!("    reason: {reason}"), Tone::Dim));
    }
    let mut row = enforcement(p.enforced);
    row.0.insert(0, Words::plain("    "));
    lines.push(row);
}

pub fn view(a: &Approvals) -> ApprovalsView {
    let title = format!(
        " Approvals · {} approve · {} deny · {} closes ",
        key_for(Mode::Approvals, Command::Approve),
        key_for(Mode::Approvals, Command::Deny),
        key_for(Mode::Approvals, Command::Back)
    );
    let mut lines = Vec::new();
    match &a.items {
        None => lines.push(Row::plain("reading every environment's requests…")),
        Some(Err(e)) => lines.push(Row::of(format!("cannot read the requests: {e}"), Tone::Bad)),
        Some(Ok(items)) if items.is_empty() => lines.push(Row::plain("No pending approval requests.")),
        Some(Ok(items)) => {
            for (i, p) in items.iter().enumerate() {
                let selected = i == a.cursor;
                let mut row = Row::from(Words::new(if selected { "▶ " } else { "  " }, Tone::Ok));
                row.push(Words::plain(format!("{}  {}/{}  {}  ", p.id, p.env, p.app, p.operation)).strong());
                row.push(Words::dim(format!(
                    "by {} at {} · expires {} UTC",
                    p.requester,
                    p.requested_at.strftime("%H:%M"),
                    p.expires_at.strftime("%H:%M")
                )));
                if p.mine {
                    row.push(Words::new(" · yours: a colleague answers it", Tone::Warn));
                }
                lines.push(row);
                if selected {
                    detail(p, &mut lines);
                }
            }
        }
    }
    if let Some(reason) = &a.reason {
        lines.push(Row::blank());
        lines.push(Row::from(vec![
            Words::new("deny because: ", Tone::Bad),
            Words::plain(format!("{reason}▏")),
            Words::dim(format!(
                "  ({} sends, {} stops)",
                key_for(Mode::ApprovalsReason, Command::Confirm),
                key_for(Mode::ApprovalsReason, Command::Back)
            )),
        ]));
    }
    ApprovalsView { title, lines }
}

pub fn render(frame: &mut Frame, area: Rect, view: &ApprovalsView) {
    let inner = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(2),
    };
    frame.render_widget(Clear, inner);
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme::style(Tone::Warn))
        .title(view.title.clone());
    frame.render_widget(
        Paragraph::new(text::lines(&view.lines)).wrap(Wrap { trim: false }).block(block),
        inner,
    );
}
