//! The help overlay, generated from the keymap. It flows into two columns when one would not
//! fit, so every section shows even at 80x24.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::{KEYMAP, Mode, Screen};

const SECTIONS: [(Mode, &str); 15] = [
    (Mode::Global, "Everywhere"),
    (Mode::Overview, "Overview"),
    (Mode::Canary, "Canary"),
    (Mode::Rollback, "Rollback"),
    (Mode::Checklist, "Checklist"),
    (Mode::ChecklistInput, "Typing a note, waiver or name"),
    (Mode::CanaryWeight, "Typing a weight"),
    (Mode::ConfirmYesNo, "Confirmation (y/n)"),
    (Mode::ConfirmTyped, "Typed confirmation"),
    (Mode::Result, "Result"),
    (Mode::Audit, "Audit log"),
    (Mode::Drill, "Environment detail"),
    (Mode::DrillFilter, "Typing a filter"),
    (Mode::Help, "This help"),
    (Mode::Busy, "While an operation runs"),
];

/// Columns are at least this wide (and at most `COLUMN_MAX`); as many as the terminal holds.
const COLUMN_WIDTH: u16 = 59;
const COLUMN_MAX: u16 = 66;

fn section(mode: Mode, title: &'static str) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(title, theme::DIM)];
    for binding in KEYMAP.iter().filter(|b| b.mode == mode) {
        let keys: Vec<String> = binding.keys.iter().map(|k| k.label()).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<19}", keys.join(" / ")), theme::OK),
            Span::raw(binding.help),
        ]));
    }
    if mode == Mode::Busy {
        lines.push(Line::raw("  only Ctrl-c"));
    }
    lines
}

/// The help for the screen it was opened on: that screen's keys first, then every other
/// section that fits; the ones that do not are named at the bottom, never silently dropped.
pub fn render(frame: &mut Frame, area: Rect, screen: &Screen) {
    let first: &[Mode] = match screen {
        Screen::Overview => &[Mode::Global, Mode::Overview],
        Screen::Canary { .. } => &[Mode::Global, Mode::Canary, Mode::CanaryWeight],
        Screen::Rollback { .. } => &[Mode::Global, Mode::Rollback],
        Screen::Checklist { .. } => &[Mode::Global, Mode::Checklist, Mode::ChecklistInput],
    };
    let mut ordered: Vec<(Mode, &str)> =
        first.iter().filter_map(|m| SECTIONS.iter().find(|(s, _)| s == m).copied()).collect();
    ordered.extend(SECTIONS.iter().filter(|(m, _)| !first.contains(m)).copied());

    let columns = usize::from((area.width.saturating_sub(2) / COLUMN_WIDTH).clamp(1, 3));
    // Two lines are kept for naming what does not fit.
    let rows = usize::from(area.height.saturating_sub(4));
    let mut split: Vec<Vec<Line>> = vec![Vec::new(); columns];
    let mut left_out = Vec::new();
    let mut column = 0;
    for (mode, title) in ordered {
        let lines = section(mode, title);
        while column < columns && !split[column].is_empty() && split[column].len() + lines.len() > rows {
            column += 1;
        }
        if column >= columns || lines.len() > rows {
            left_out.push(title);
            continue;
        }
        split[column].extend(lines);
        split[column].push(Line::raw(""));
    }
    let used = split.iter().filter(|c| !c.is_empty()).count().max(1);
    split.truncate(used);
    let body = split.iter().map(Vec::len).max().unwrap_or(0) as u16;
    let height = body + 2 + 2 * u16::from(!left_out.is_empty());
    let column_width = (area.width.saturating_sub(2) / columns as u16).min(COLUMN_MAX);
    let width = (column_width * used as u16 + 2).min(area.width);
    let [vertical] =
        Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(vertical);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().border_type(BorderType::Rounded).title(" Keys · Esc or ? closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [columns_area, more] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(u16::from(!left_out.is_empty()))])
            .areas(inner);
    let areas = Layout::horizontal(vec![Constraint::Fill(1); used]).split(columns_area);
    for (lines, area) in split.into_iter().zip(areas.iter()) {
        frame.render_widget(Paragraph::new(lines), *area);
    }
    if !left_out.is_empty() {
        let text = format!("larger terminal for: {}", left_out.join(", "));
        frame.render_widget(Paragraph::new(Line::styled(text, theme::WARN)).wrap(Wrap { trim: true }), more);
    }
}
