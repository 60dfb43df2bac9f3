//! The help overlay, generated from the keymap.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::theme;
use crate::app::{KEYMAP, Mode, key_label};

pub fn render(frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for (mode, title) in [
        (Mode::Global, "Everywhere"),
        (Mode::Overview, "Overview"),
        (Mode::ConfirmYesNo, "Confirmation (y/n)"),
        (Mode::ConfirmTyped, "Typed confirmation"),
        (Mode::Result, "Result"),
        (Mode::Help, "This help"),
    ] {
        lines.push(Line::styled(title, theme::DIM));
        for binding in KEYMAP.iter().filter(|b| b.mode == mode) {
            let keys: Vec<String> = binding.keys.iter().map(|(c, m)| key_label(*c, *m)).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", keys.join(" / ")), theme::OK),
                Span::raw(binding.help),
            ]));
        }
        lines.push(Line::raw(""));
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let [vertical] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] =
        Layout::horizontal([Constraint::Length(64.min(area.width))]).flex(Flex::Center).areas(vertical);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().border_type(BorderType::Rounded).title(" Keys · Esc or ? closes ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
