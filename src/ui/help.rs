//! The help overlay, generated from the keymap. It flows into two columns when one would not
//! fit, so every section shows even at 80x24.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::theme;
use crate::app::{KEYMAP, Mode, key_label};

const SECTIONS: [(Mode, &str); 10] = [
    (Mode::Global, "Everywhere"),
    (Mode::Overview, "Overview"),
    (Mode::ConfirmYesNo, "Confirmation (y/n)"),
    (Mode::ConfirmTyped, "Typed confirmation"),
    (Mode::Result, "Result"),
    (Mode::Audit, "Audit log"),
    (Mode::Drill, "Environment detail"),
    (Mode::DrillFilter, "Typing a filter"),
    (Mode::Help, "This help"),
    (Mode::Busy, "While an operation runs"),
];

fn section(mode: Mode, title: &'static str) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(title, theme::DIM)];
    for binding in KEYMAP.iter().filter(|b| b.mode == mode) {
        let keys: Vec<String> = binding.keys.iter().map(|(c, m)| key_label(*c, *m)).collect();
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

pub fn render(frame: &mut Frame, area: Rect) {
    let sections: Vec<Vec<Line>> = SECTIONS.iter().map(|(mode, title)| section(*mode, title)).collect();
    let total: usize = sections.iter().map(|s| s.len() + 1).sum();
    let available = usize::from(area.height.saturating_sub(2));
    let columns = if total > available && area.width >= 100 { 2 } else { 1 };
    let mut split: Vec<Vec<Line>> = vec![Vec::new(); columns];
    let per_column = total.div_ceil(columns);
    let mut column = 0;
    for lines in sections {
        if columns > 1 && column == 0 && split[0].len() + lines.len() > per_column && !split[0].is_empty() {
            column = 1;
        }
        split[column].extend(lines);
        split[column].push(Line::raw(""));
    }
    let height = split.iter().map(Vec::len).max().unwrap_or(0) as u16 + 2;
    let width: u16 = if columns == 2 { 120 } else { 64 };
    let [vertical] =
        Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [popup] =
        Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(vertical);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().border_type(BorderType::Rounded).title(" Keys · Esc or ? closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let areas = Layout::horizontal(vec![Constraint::Fill(1); columns]).split(inner);
    for (lines, area) in split.into_iter().zip(areas.iter()) {
        frame.render_widget(Paragraph::new(lines), *area);
    }
}
