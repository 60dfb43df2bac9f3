//! An environment's detail: its deployments, pods, recent warnings and the selected app's
//! rollout history, all from the watchers' latest snapshot.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::figures::{self, age};
use super::overview::verdict_mark;
use super::theme;
use crate::app::State;
use crate::health::image_tag;
use crate::health::inventory::{EventInfo, Inventory};

fn heading(text: String) -> Line<'static> {
    Line::styled(text, Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED))
}

/// A case-insensitive name filter; empty shows everything.
struct Filter(String);

impl Filter {
    fn shows(&self, name: &str) -> bool {
        self.0.is_empty() || name.to_lowercase().contains(&self.0)
    }
}

fn filter_line(filter: &str, typing: bool) -> Line<'static> {
    if typing {
        Line::from(vec![
            Span::styled("filter: /", theme::WARN),
            Span::raw(filter.to_owned()),
            Span::styled("▏", theme::WARN),
        ])
    } else if filter.is_empty() {
        Line::styled("/ filters by name", theme::DIM)
    } else {
        Line::from(vec![
            Span::styled("filter: /", theme::WARN),
            Span::raw(filter.to_owned()),
            Span::styled("  (Esc clears)", theme::DIM),
        ])
    }
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    env: usize,
    scroll: usize,
    filter: &str,
    typing: bool,
) {
    frame.render_widget(Clear, area);
    let placement = state.placement(env, state.selected_app);
    let Some(env) = state.envs.get(env) else { return };
    let title = format!(" {} · {} · detail · Esc back ", env.name, env.context);
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(Style::new().fg(theme::color(env.color)))
        .title(title);
    let mut lines = vec![filter_line(filter, typing)];
    let Some(snapshot) = &env.snapshot else {
        lines.push(Line::styled("waiting for the first sync…", theme::DIM));
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    };
    let now = jiff::Timestamp::now();
    let filter = Filter(filter.to_lowercase());
    let (symbol, word, style) = verdict_mark(snapshot.health.verdict);
    lines.push(Line::styled(format!("{symbol} {word}"), style));
    for reason in &snapshot.health.reasons {
        lines.push(Line::styled(format!("  {reason}"), style));
    }
    let inventory = &snapshot.inventory;
    deployment_lines(&mut lines, inventory, &filter);
    pod_lines(&mut lines, inventory, &filter, now);
    warning_lines(&mut lines, &snapshot.health.warnings, now);
    if let Some(placement) = placement {
        history_lines(&mut lines, inventory, &placement.app, &placement.deployment, now);
    }
    let visible: Vec<Line> = lines.into_iter().skip(scroll).collect();
    frame.render_widget(Paragraph::new(visible).block(block), area);
}

fn deployment_lines(lines: &mut Vec<Line<'static>>, inventory: &Inventory, filter: &Filter) {
    lines.push(Line::raw(""));
    lines.push(heading(format!(
        "{:<28} {:>7} {:>7} {:>5}  {:<18} STATE",
        "DEPLOYMENT", "READY", "UPDATED", "REV", "IMAGE"
    )));
    let mut deployments: Vec<_> = inventory.deployments.iter().filter(|d| filter.shows(&d.name)).collect();
    deployments.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for d in deployments {
        let tag = d.images.first().map_or_else(|| "-".to_owned(), |i| image_tag(i));
        let state = if d.paused {
            "paused"
        } else if d.available < d.desired {
            "unavailable replicas"
        } else {
            ""
        };
        lines.push(Line::raw(format!(
            "{:<28} {:>7} {:>7} {:>5}  {tag:<18} {state}",
            format!("{}/{}", d.namespace, d.name),
            format!("{}/{}", d.available, d.desired),
            d.updated,
            d.revision.map_or_else(|| "-".to_owned(), |r| r.to_string()),
        )));
    }
}

fn pod_lines(lines: &mut Vec<Line<'static>>, inventory: &Inventory, filter: &Filter, now: jiff::Timestamp) {
    lines.push(Line::raw(""));
    lines.push(heading(format!("{:<40} {:<18} {:>8} {:>5}  NODE", "POD", "STATUS", "RESTARTS", "AGE")));
    let mut pods: Vec<_> = inventory.pods.iter().filter(|p| filter.shows(&p.name)).collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for p in pods {
        let (status, style) = figures::pod_status(p);
        lines.push(Line::from(vec![
            Span::raw(format!("{:<40} ", p.name)),
            Span::styled(format!("{status:<18}"), style),
            Span::raw(format!(
                " {:>8} {:>5}  {}",
                p.restarts,
                age(now, p.created),
                p.node.as_deref().unwrap_or("-")
            )),
        ]));
    }
}

fn warning_lines(lines: &mut Vec<Line<'static>>, warnings: &[EventInfo], now: jiff::Timestamp) {
    lines.push(Line::raw(""));
    lines.push(heading("RECENT WARNINGS (15 minutes)".to_owned()));
    if warnings.is_empty() {
        lines.push(Line::styled("none", theme::DIM));
    }
    for e in warnings {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>5} ", age(now, e.last_seen)), theme::DIM),
            Span::raw(format!("{}/{} ", e.kind, e.name)),
            Span::styled(format!("{} ", e.reason), theme::WARN),
            Span::raw(format!("{} (×{})", e.message, e.count)),
        ]));
    }
}

fn history_lines(
    lines: &mut Vec<Line<'static>>,
    inventory: &Inventory,
    app: &str,
    name: &str,
    now: jiff::Timestamp,
) {
    lines.push(Line::raw(""));
    lines.push(heading(format!("ROLLOUT HISTORY · {app} (Deployment {name})")));
    let current = inventory.deployments.iter().find(|d| d.name == name).and_then(|d| d.revision);
    let mut history: Vec<_> =
        inventory.replica_sets.iter().filter(|rs| rs.owner.as_deref() == Some(name)).collect();
    history.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
    for rs in history {
        let marker = if rs.revision.is_some() && rs.revision == current { "▶ current" } else { "" };
        lines.push(Line::raw(format!(
            "rev {:>3}  {:<18} {:>5} {:>3}/{:<3} {:<40} {marker}",
            rs.revision.map_or_else(|| "-".to_owned(), |r| r.to_string()),
            rs.images.first().map_or_else(|| "-".to_owned(), |i| image_tag(i)),
            age(now, rs.created),
            rs.ready,
            rs.desired,
            rs.change_cause.as_deref().unwrap_or(""),
        )));
    }
}
