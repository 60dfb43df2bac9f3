//! The overview: one column per environment, side by side.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::theme;
use crate::app::{Connection, EnvState, State};
use crate::config::Protection;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    if state.envs.is_empty() {
        frame.render_widget(Paragraph::new("No environments configured."), area);
        return;
    }
    let columns = Layout::horizontal(vec![Constraint::Fill(1); state.envs.len()]).split(area);
    for (index, (env, column)) in state.envs.iter().zip(columns.iter()).enumerate() {
        render_column(frame, *column, state, env, index == state.selected_env);
    }
}

fn render_column(frame: &mut Frame, area: Rect, state: &State, env: &EnvState, selected: bool) {
    // Production must be unmistakable: the typed-protection column gets a thick border and
    // says so in words, not only in colour.
    let (border, marker) = match env.protection {
        Protection::Typed => (BorderType::Thick, " ◆ protected"),
        Protection::Confirm => (BorderType::Double, " confirm"),
        Protection::None => (BorderType::Rounded, ""),
    };
    let mut title_style = Style::new().fg(env.color).add_modifier(Modifier::BOLD);
    if selected {
        title_style = title_style.add_modifier(Modifier::REVERSED);
    }
    let mut title = vec![
        Span::styled(format!(" {} ", env.name), title_style),
        Span::styled(marker, Style::new().fg(env.color)),
    ];
    if env.readonly {
        title.push(Span::styled(" read-only ", theme::WARN));
    }
    let block = Block::bordered()
        .border_type(border)
        .border_style(Style::new().fg(env.color))
        .title(Line::from(title));

    let mut lines = vec![
        Line::from(vec![Span::styled("context ", theme::DIM), Span::raw(env.context.clone())]),
        Line::from(vec![Span::styled("ns      ", theme::DIM), Span::raw(env.namespaces.join(", "))]),
        Line::from(vec![
            Span::styled("user    ", theme::DIM),
            Span::raw(env.user.clone().unwrap_or_else(|| "…".into())),
        ]),
        connection_line(&env.connection),
    ];
    if let Connection::Unreachable { last_ok: Some(at), .. } = &env.connection {
        lines.push(Line::styled(format!("last answered {}", clock(*at)), theme::DIM));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("APP · no health data yet", theme::DIM));
    for (i, app) in state.apps.iter().enumerate() {
        let style = if selected && i == state.selected_app { theme::SELECTED } else { Style::new() };
        lines.push(Line::styled(app.clone(), style));
    }
    if state.apps.is_empty() {
        lines.push(Line::styled("no apps configured", theme::DIM));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

fn connection_line(connection: &Connection) -> Line<'static> {
    match connection {
        Connection::Connecting => Line::styled("… connecting", theme::WARN),
        Connection::Reachable { server, at } => Line::from(vec![
            Span::styled("● up ", theme::OK),
            Span::raw(format!("{} · {}ms · {}", server.version, server.latency.as_millis(), clock(*at))),
        ]),
        Connection::Unreachable { reason, .. } => {
            Line::from(vec![Span::styled("✖ unreachable: ", theme::BAD), Span::raw(reason.clone())])
        }
        Connection::Misconfigured { reason } => {
            Line::from(vec![Span::styled("⚠ not connected: ", theme::BAD), Span::raw(reason.clone())])
        }
    }
}

/// Wall-clock time in UTC: ops teams across time zones read the same figure.
fn clock(at: jiff::Timestamp) -> String {
    at.strftime("%H:%M:%S UTC").to_string()
}
