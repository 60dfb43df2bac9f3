//! Drawing. Each screen is a pure `view` from `&State` to a view model — the words, figures
//! and [`theme::Tone`]s it shows, the time read from `state.clock` (never the wall clock), the
//! keys read from the keymap — and a `render` that only lays that model out in a frame. No
//! I/O, no waiting, no state changes.

mod approvals;
mod canary;
mod checklist;
mod drill;
pub mod figures;
mod guard;
mod help;
mod logs;
mod operation;
mod overview;
pub use overview::gitops_row;
mod rollback;
mod text;
mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{KEYMAP, Mode, Overlay, Screen, State};
use text::{KeyHint, Row};
use theme::Tone;

pub fn render(frame: &mut Frame, state: &State) {
    let [header, body, notice, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_header(frame, header, &header_view(state));
    match &state.screen {
        Screen::Overview => overview::render(frame, body, &overview::view(state)),
        Screen::Canary { env, app, input } => {
            if let Some(view) = canary::view(state, *env, *app, input.as_deref()) {
                canary::render(frame, body, &view);
            }
        }
        Screen::Rollback { env, app, selected, progress } => {
            if let Some(view) = rollback::view(state, *env, *app, *selected, progress.as_ref()) {
                rollback::render(frame, body, &view);
            }
        }
        Screen::Checklist { env } => {
            if let Some(view) = checklist::view(state, *env) {
                checklist::render(frame, body, &view);
            }
        }
        Screen::Logs { .. } => logs::render(frame, body, state),
        Screen::Guard { env, app } => guard::render(frame, body, &guard::view(state, *env, *app)),
    }
    if let Some(row) = notice_view(state) {
        frame.render_widget(Paragraph::new(text::line(&row)), notice);
    }
    render_footer(frame, footer, &footer_view(state));
    match &state.overlay {
        None => {}
        Some(Overlay::Help) => help::render(frame, body, &help::view(state)),
        Some(Overlay::Approvals(a)) => approvals::render(frame, body, &approvals::view(a)),
        Some(Overlay::Drill { env, scroll, filter, typing }) => {
            if let Some(view) = drill::view(state, *env, *scroll, filter, *typing) {
                drill::render(frame, body, &view);
            }
        }
        Some(overlay) => {
            if let Some(view) = operation::view(overlay) {
                operation::render(frame, body, &view);
            }
        }
    }
}

/// The top line: what the console watches, and the modes that change what a key does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeaderView {
    environments: usize,
    apps: usize,
    readonly: bool,
    autos: usize,
    demo: bool,
    /// Environments that require approvals the server does not enforce.
    unenforced: Vec<String>,
}

fn header_view(state: &State) -> HeaderView {
    HeaderView {
        environments: state.envs.len(),
        apps: state.apps.len(),
        readonly: state.readonly,
        autos: state.autos.len(),
        demo: state.demo,
        unenforced: state
            .envs
            .iter()
            .filter(|e| e.require_approval && e.records_enforced == Some(false))
            .map(|e| e.name.clone())
            .collect(),
    }
}

fn render_header(frame: &mut Frame, area: Rect, view: &HeaderView) {
    let mut spans = vec![
        Span::styled(" opsdeck ", theme::TITLE),
        Span::raw(format!(" {} environments · {} apps ", view.environments, view.apps)),
    ];
    if view.readonly {
        spans.push(Span::styled(" READ-ONLY ", theme::READONLY));
    }
    if view.autos > 0 {
        spans.push(Span::styled(format!(" AUTO ×{} ", view.autos), theme::READONLY));
    }
    if !view.unenforced.is_empty() {
        spans.push(Span::styled(
            format!(" approvals not enforced by the server: {} ", view.unenforced.join(", ")),
            theme::READONLY,
        ));
    }
    if view.demo {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(" DEMO · simulated clusters on loopback ", theme::DEMO));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn notice_view(state: &State) -> Option<Row> {
    let n = state.notice.as_ref()?;
    Some(Row::of(format!(" {}", n.text), if n.error { Tone::Bad } else { Tone::Ok }))
}

/// The keys that work right now, from the keymap itself: each binding's first key.
fn footer_view(state: &State) -> Vec<KeyHint> {
    let mode = state.mode();
    let shown = |b: &&crate::app::Binding| b.mode == mode || (b.mode == Mode::Global && !mode.is_modal());
    KEYMAP.iter().filter(shown).filter_map(|b| Some(KeyHint::new(b.keys.first()?.label(), b.help))).collect()
}

fn render_footer(frame: &mut Frame, area: Rect, keys: &[KeyHint]) {
    let spans: Vec<Span> = keys
        .iter()
        .flat_map(|k| {
            [
                Span::styled(format!(" {} ", k.key), theme::KEY),
                Span::styled(format!("{} ", k.says), theme::DIM),
            ]
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
