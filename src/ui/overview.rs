//! The overview: one column per environment, side by side, and a merged feed of Warning
//! events underneath. Colour always comes with a symbol or a word.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::figures;
use super::theme;
use crate::app::{Connection, EnvState, State};
use crate::config::Protection;
use crate::health::verdict::{AppHealth, Rollout};
use crate::health::{Drift, Verdict};
use crate::metrics::AppMetrics;

/// The Warning feed's height when there is room for it.
const FEED_LINES: u16 = 5;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    if state.envs.is_empty() {
        frame.render_widget(Paragraph::new("No environments configured."), area);
        return;
    }
    let warnings: usize =
        state.envs.iter().filter_map(|e| e.snapshot.as_ref()).map(|s| s.health.warnings.len()).sum();
    // The feed takes only the lines it needs, and gives way on short terminals.
    let feed_height = if area.height >= 16 { 1 + (warnings as u16).clamp(1, FEED_LINES) } else { 0 };
    let [columns_area, feed_area] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(feed_height)]).areas(area);
    let columns = Layout::horizontal(vec![Constraint::Fill(1); state.envs.len()]).split(columns_area);
    for (index, (env, column)) in state.envs.iter().zip(columns.iter()).enumerate() {
        render_column(frame, *column, state, env, index == state.selected_env);
    }
    if feed_height > 0 {
        render_feed(frame, feed_area, state);
    }
}

pub fn verdict_mark(verdict: Verdict) -> (&'static str, &'static str, Style) {
    match verdict {
        Verdict::Healthy => ("●", "healthy", theme::OK),
        Verdict::Degraded => ("▲", "degraded", theme::WARN),
        Verdict::Down => ("✖", "down", theme::BAD),
        Verdict::Unknown => ("?", "unknown", theme::DIM),
    }
}

fn drift_mark(drift: Option<&Drift>) -> Option<(&'static str, Style)> {
    match drift? {
        Drift::Same => None,
        Drift::Promotable => Some(("⇡promotable", theme::OK)),
        Drift::Behind => Some(("⇣behind", theme::WARN)),
        Drift::Differs => Some(("≠differs", theme::WARN)),
    }
}

/// `███░░` for available out of desired, at most `width` cells.
fn bar(available: i32, desired: i32, width: usize) -> String {
    if desired <= 0 || width == 0 {
        return String::new();
    }
    let filled = ((available.clamp(0, desired) as usize * width) + desired as usize / 2) / desired as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn render_column(frame: &mut Frame, area: Rect, state: &State, env: &EnvState, selected: bool) {
    // Production must be unmistakable: the typed-protection column gets a thick border and
    // says so in words, not only in colour.
    let (border, marker) = match env.protection {
        Protection::Typed => (BorderType::Thick, " ◆ protected"),
        Protection::Confirm => (BorderType::Double, " confirm"),
        Protection::None => (BorderType::Rounded, ""),
    };
    let mut title_style = Style::new().fg(theme::color(env.color)).add_modifier(Modifier::BOLD);
    if selected {
        title_style = title_style.add_modifier(Modifier::REVERSED);
    }
    let mut title = vec![
        Span::styled(format!(" {} ", env.name), title_style),
        Span::styled(marker, Style::new().fg(theme::color(env.color))),
    ];
    if env.readonly {
        title.push(Span::styled(" read-only ", theme::WARN));
    }
    let block = Block::bordered()
        .border_type(border)
        .border_style(Style::new().fg(theme::color(env.color)))
        .title(Line::from(title));
    let inner_width = area.width.saturating_sub(2) as usize;

    let mut lines = vec![
        Line::from(vec![Span::styled("context ", theme::DIM), Span::raw(env.context.clone())]),
        Line::from(vec![
            Span::styled("user    ", theme::DIM),
            Span::raw(env.user.clone().unwrap_or_else(|| "…".into())),
        ]),
        connection_line(&env.connection),
        window_line(env),
    ];
    if let Connection::Unreachable { last_ok: Some(at), .. } = &env.connection {
        lines.push(Line::styled(format!("last answered {}", clock(*at)), theme::DIM));
    }
    match &env.snapshot {
        None => {
            if matches!(env.connection, Connection::Connecting | Connection::Reachable { .. }) {
                lines.push(Line::styled("waiting for the first sync…", theme::DIM));
            }
            for app in &state.apps {
                lines.push(Line::styled(format!("  {app}"), theme::DIM));
            }
        }
        Some(snapshot) => {
            let health = &snapshot.health;
            let (symbol, word, style) = verdict_mark(health.verdict);
            lines.push(Line::from(vec![
                Span::styled(format!("{symbol} {word}"), style.add_modifier(Modifier::BOLD)),
                Span::styled(format!(" · nodes {}/{}", health.nodes_ready, health.nodes_total), theme::DIM),
            ]));
            if let Some(error) = &snapshot.watch_error {
                lines.push(Line::styled(format!("⚠ {error}"), theme::WARN));
            }
            let round = match &env.metrics {
                None => {
                    lines.push(Line::styled("metrics: waiting for the first round…", theme::DIM));
                    None
                }
                Some(Err(reason)) => {
                    lines.push(Line::styled(format!("metrics: {reason}"), theme::WARN));
                    None
                }
                Some(Ok(round)) => {
                    match &round.error {
                        Some(error) => lines.push(Line::styled(format!("metrics: ⚠ {error}"), theme::WARN)),
                        None => lines.push(Line::styled(
                            format!("metrics: {} at {}", round.source, clock(round.at)),
                            theme::DIM,
                        )),
                    }
                    Some(round)
                }
            };
            lines.push(Line::raw(""));
            for (i, app) in health.apps.iter().enumerate() {
                let selected_row = selected && i == state.selected_app;
                let figures = round.and_then(|r| r.app(&app.app));
                app_lines(&mut lines, app, env.drift.get(&app.app), figures, selected_row, inner_width);
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

fn app_lines(
    lines: &mut Vec<Line<'static>>,
    app: &AppHealth,
    drift: Option<&Drift>,
    metrics: Option<&AppMetrics>,
    selected: bool,
    width: usize,
) {
    let (symbol, _, style) = verdict_mark(app.verdict);
    let name_style = if selected { theme::SELECTED } else { Style::new().add_modifier(Modifier::BOLD) };
    let version = app.version.clone().unwrap_or_else(|| "—".into());
    let r = &app.replicas;
    let mut first = vec![
        Span::styled(format!("{symbol} "), style),
        Span::styled(format!("{:<7}", app.app), name_style),
        Span::raw(format!(" {version}")),
    ];
    if let Some((mark, mark_style)) = drift_mark(drift) {
        first.push(Span::styled(format!(" {mark}"), mark_style));
    }
    lines.push(Line::from(first));
    let bar_width = width.saturating_sub(24).min(10);
    let mut second = vec![
        Span::raw(format!("  {}/{} ", r.available, r.desired)),
        Span::styled(bar(r.available, r.desired, bar_width), style),
        Span::raw(format!(" ↻{}", app.restarts_recent)),
    ];
    match &app.rollout {
        Rollout::Paused => second.push(Span::styled(" ⏸ paused", theme::WARN)),
        Rollout::Progressing => {
            second.push(Span::styled(format!(" ⟳ {}/{}", r.updated, r.desired), theme::WARN));
        }
        _ => {}
    }
    lines.push(Line::from(second));
    if let Some(m) = metrics {
        let spark_width = width.saturating_sub(30).min(12);
        lines.push(Line::from(vec![
            Span::raw(format!("  5xx {} p95 {} ", figures::error_rate(&m.stable), figures::p95(&m.stable))),
            Span::styled(figures::error_spark(&m.stable_history, spark_width), theme::DIM),
        ]));
    }
    if let Some(canary) = &app.canary {
        let weight = canary.weight.map_or_else(|| "?".to_owned(), |w| format!("{w}%"));
        let approx = if canary.approximate { "≈" } else { "" };
        let version = canary.version.clone().unwrap_or_else(|| "—".into());
        let mut line = vec![Span::styled(
            format!("  canary {approx}{weight} {version}"),
            theme::DIM.remove_modifier(Modifier::DIM),
        )];
        if let Some((figures, verdict)) =
            metrics.and_then(|m| Some((m.canary.as_ref()?, m.verdict.as_ref()?)))
        {
            let (symbol, word, style) = figures::verdict_mark(verdict);
            line.push(Span::styled(format!(" {symbol} {word}"), style));
            line.push(Span::raw(format!(" {} {}", figures::error_rate(figures), figures::p95(figures))));
        }
        lines.push(Line::from(line));
    }
    if let Some(reason) = app.reasons.first() {
        let style = if app.verdict == Verdict::Healthy { theme::DIM } else { style };
        lines.push(Line::styled(format!("  {reason}"), style));
    }
}

fn render_feed(frame: &mut Frame, area: Rect, state: &State) {
    let mut events: Vec<(&str, &crate::health::inventory::EventInfo)> = state
        .envs
        .iter()
        .filter_map(|e| e.snapshot.as_ref().map(|s| (e.name.as_str(), s)))
        .flat_map(|(name, s)| s.health.warnings.iter().map(move |w| (name, w)))
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.1.last_seen));
    let mut lines = vec![Line::styled(format!("Warnings, last 15 minutes ({})", events.len()), theme::DIM)];
    for (env, e) in events.iter().take(FEED_LINES as usize) {
        let at = e.last_seen.map_or_else(|| "--:--:--".to_owned(), |t| t.strftime("%H:%M:%S").to_string());
        lines.push(Line::from(vec![
            Span::styled(format!("{at} "), theme::DIM),
            Span::styled(format!("{env:<11} "), theme::WARN),
            Span::raw(format!("{}/{} ", e.kind, e.name)),
            Span::styled(format!("{} ", e.reason), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(e.message.clone()),
        ]));
    }
    if events.is_empty() {
        lines.push(Line::styled("none", theme::DIM));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn window_line(env: &EnvState) -> Line<'static> {
    let now = jiff::Timestamp::now();
    let status = crate::windows::status(&env.windows, &env.blackouts, now);
    let next = crate::windows::next_change(&env.windows, &env.blackouts, now);
    let style = match status {
        crate::windows::WindowStatus::Always | crate::windows::WindowStatus::Open { .. } => theme::DIM,
        crate::windows::WindowStatus::Closed => theme::WARN,
        crate::windows::WindowStatus::Blackout { .. } => theme::BAD,
    };
    Line::styled(format!("⏱ {}", status.describe_until(next, now)), style)
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
