//! Draws the rollback screen's view: the keys keep the rows they need at the bottom, the
//! rest gives way.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::view::{Body, RollbackView};
use crate::config::Protection;
use crate::ui::text;
use crate::ui::theme::{self, Tone};

pub fn render(frame: &mut Frame, area: Rect, view: &RollbackView) {
    let border = if view.protection == Protection::Typed { BorderType::Thick } else { BorderType::Rounded };
    let env_style = theme::style(Tone::Env(view.color));
    let title = Line::from(vec![
        Span::styled(" Rollback ", theme::BOLD),
        Span::styled(format!("{}/{} ", view.env, view.app), env_style.add_modifier(Modifier::BOLD)),
        Span::raw(format!("· {} {}/{} ", view.kind, view.namespace, view.deployment)),
    ]);
    let block = Block::bordered().border_type(border).border_style(env_style).title(title);
    let (lines, keys) = match &view.body {
        Body::Waiting => {
            frame.render_widget(Paragraph::new("waiting for the first sync…").block(block), area);
            return;
        }
        Body::Missing(text) => {
            frame.render_widget(Paragraph::new(Line::styled(text.clone(), theme::BAD)).block(block), area);
            return;
        }
        Body::Ready { lines, keys } => (lines, keys),
    };
    let mut key_spans: Vec<Span> = keys.lead.iter().map(text::span).collect();
    key_spans.extend(text::key_spans(&keys.hints));
    let keys = Line::from(key_spans);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // What the keys do stays on screen, whatever the terminal's size: the content gives way.
    let key_rows = u16::try_from(keys.width().max(1).div_ceil(usize::from(inner.width.max(1)))).unwrap_or(1);
    let [body, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Length(key_rows)]).areas(inner);
    frame.render_widget(Paragraph::new(text::lines(lines)).wrap(Wrap { trim: false }), body);
    frame.render_widget(Paragraph::new(keys).wrap(Wrap { trim: false }), bottom);
}
