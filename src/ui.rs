//! Drawing: pure functions from `&State` to a frame. No I/O, no waiting, no state changes.

mod canary;
mod checklist;
mod drill;
pub mod figures;
mod help;
mod operation;
mod overview;
mod rollback;
mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{KEYMAP, Mode, Overlay, Screen, State};

pub fn render(frame: &mut Frame, state: &State) {
    let [header, body, notice, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_header(frame, header, state);
    match &state.screen {
        Screen::Overview => overview::render(frame, body, state),
        Screen::Canary { env, app, input } => {
            canary::render(frame, body, state, *env, *app, input.as_deref());
        }
        Screen::Rollback { env, app, selected, progress } => {
            rollback::render(frame, body, state, *env, *app, *selected, progress.as_ref());
        }
        Screen::Checklist { env } => checklist::render(frame, body, state, *env),
    }
    if let Some(n) = &state.notice {
        let style = if n.error { theme::BAD } else { theme::OK };
        frame.render_widget(Paragraph::new(Line::styled(format!(" {}", n.text), style)), notice);
    }
    render_footer(frame, footer, state);
    match &state.overlay {
        None => {}
        Some(Overlay::Help) => help::render(frame, body, &state.screen),
        Some(Overlay::Preparing { what, .. }) => operation::preparing(frame, body, what),
        Some(Overlay::Confirm(confirm)) => operation::confirm(frame, frame.area(), confirm),
        Some(Overlay::Running { sentence, stage }) => operation::running(frame, body, sentence, stage),
        Some(Overlay::Drill { env, scroll, filter, typing }) => {
            drill::render(frame, body, state, *env, *scroll, filter, *typing);
        }
        Some(Overlay::Audit { records, scroll }) => operation::audit(frame, body, records.as_ref(), *scroll),
        Some(Overlay::Choice { question, .. }) => operation::choice(frame, body, question),
        Some(Overlay::Finished { sentence, outcome, message }) => {
            operation::finished(frame, body, sentence, outcome, message);
        }
    }
}

fn render_header(frame: &mut Frame, area: Rect, state: &State) {
    let mut spans = vec![
        Span::styled(" opsdeck ", theme::TITLE),
        Span::raw(format!(" {} environments · {} apps ", state.envs.len(), state.apps.len())),
    ];
    if state.readonly {
        spans.push(Span::styled(" READ-ONLY ", theme::READONLY));
    }
    if !state.autos.is_empty() {
        spans.push(Span::styled(format!(" AUTO ×{} ", state.autos.len()), theme::READONLY));
    }
    if state.demo {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(" DEMO · simulated clusters on loopback ", theme::DEMO));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The keys that work right now, from the keymap itself.
fn render_footer(frame: &mut Frame, area: Rect, state: &State) {
    let mode = state.mode();
    let mut spans = Vec::new();
    let shown = |b: &&crate::app::Binding| b.mode == mode || (b.mode == Mode::Global && !mode.is_modal());
    for binding in KEYMAP.iter().filter(shown) {
        let Some(key) = binding.keys.first() else { continue };
        spans.push(Span::styled(format!(" {} ", key.label()), theme::KEY));
        spans.push(Span::styled(format!("{} ", binding.help), Style::default().add_modifier(Modifier::DIM)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
