//! An environment's detail: its deployments, pods, recent warnings and the selected app's
//! rollout history, all from the watchers' latest snapshot. [`view`] writes the report as
//! lines, ages counted to `state.clock`; [`render`] scrolls it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::figures::{self, age};
use super::overview::verdict_mark;
use super::text::{self, Row, Words};
use super::theme::{self, Tone};
use crate::app::{Command, Mode, State, key_for};
use crate::config::Color;
use crate::health::image_tag;
use crate::health::inventory::{EventInfo, Inventory};

#[derive(Debug, Clone, PartialEq)]
pub struct DrillView {
    pub title: String,
    pub color: Color,
    /// The whole report; the first `scroll` lines are scrolled off.
    pub lines: Vec<Row>,
    pub scroll: usize,
}

fn heading(text: String) -> Row {
    Row::of(text, Tone::Heading)
}

/// A case-insensitive name filter; empty shows everything.
struct Filter(String);

impl Filter {
    fn shows(&self, name: &str) -> bool {
        self.0.is_empty() || name.to_lowercase().contains(&self.0)
    }
}

fn filter_row(filter: &str, typing: bool) -> Row {
    let prompt = Words::new(format!("filter: {}", key_for(Mode::Drill, Command::Filter)), Tone::Warn);
    if typing {
        Row::from(vec![prompt, Words::plain(filter.to_owned()), Words::new("▏", Tone::Warn)])
    } else if filter.is_empty() {
        Row::of(format!("{} filters by name", key_for(Mode::Drill, Command::Filter)), Tone::Dim)
    } else {
        Row::from(vec![
            prompt,
            Words::plain(filter.to_owned()),
            Words::dim(format!("  ({} clears)", key_for(Mode::Drill, Command::Back))),
        ])
    }
}

pub fn view(state: &State, env: usize, scroll: usize, filter: &str, typing: bool) -> Option<DrillView> {
    let placement = state.placement(env, state.selected_app);
    let env = state.envs.get(env)?;
    let title =
        format!(" {} · {} · detail · {} back ", env.name, env.context, key_for(Mode::Drill, Command::Back));
    let mut lines = vec![filter_row(filter, typing)];
    let Some(snapshot) = &env.snapshot else {
        lines.push(Row::of("waiting for the first sync…", Tone::Dim));
        // Nothing to scroll before the first sync.
        return Some(DrillView { title, color: env.color, lines, scroll: 0 });
    };
    let now = state.clock;
    let filter = Filter(filter.to_lowercase());
    let (symbol, word, tone) = verdict_mark(snapshot.health.verdict);
    lines.push(Row::of(format!("{symbol} {word}"), tone));
    for reason in &snapshot.health.reasons {
        lines.push(Row::of(format!("  {reason}"), tone));
    }
    let inventory = &snapshot.inventory;
    deployment_lines(&mut lines, inventory, &filter);
    pod_lines(&mut lines, inventory, &filter, now);
    warning_lines(&mut lines, &snapshot.health.warnings, now);
    if let Some(placement) = placement {
        let stable = crate::health::AppSpec::of(placement).live_names(inventory).0;
        history_lines(&mut lines, inventory, &placement.app, stable, now);
    }
    Some(DrillView { title, color: env.color, lines, scroll })
}

fn deployment_lines(lines: &mut Vec<Row>, inventory: &Inventory, filter: &Filter) {
    lines.push(Row::blank());
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
        lines.push(Row::plain(format!(
            "{:<28} {:>7} {:>7} {:>5}  {tag:<18} {state}",
            format!("{}/{}", d.namespace, d.name),
            format!("{}/{}", d.available, d.desired),
            d.updated,
            d.revision.map_or_else(|| "-".to_owned(), |r| r.to_string()),
        )));
    }
}

fn pod_lines(lines: &mut Vec<Row>, inventory: &Inventory, filter: &Filter, now: jiff::Timestamp) {
    lines.push(Row::blank());
    lines.push(heading(format!("{:<40} {:<18} {:>8} {:>5}  NODE", "POD", "STATUS", "RESTARTS", "AGE")));
    let mut pods: Vec<_> = inventory.pods.iter().filter(|p| filter.shows(&p.name)).collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for p in pods {
        let (status, tone) = figures::pod_status(p);
        lines.push(Row::from(vec![
            Words::plain(format!("{:<40} ", p.name)),
            Words::new(format!("{status:<18}"), tone),
            Words::plain(format!(
                " {:>8} {:>5}  {}",
                p.restarts,
                age(now, p.created),
                p.node.as_deref().unwrap_or("-")
            )),
        ]));
    }
}

fn warning_lines(lines: &mut Vec<Row>, warnings: &[EventInfo], now: jiff::Timestamp) {
    lines.push(Row::blank());
    lines.push(heading("RECENT WARNINGS (15 minutes)".to_owned()));
    if warnings.is_empty() {
        lines.push(Row::of("none", Tone::Dim));
    }
    for e in warnings {
        lines.push(Row::from(vec![
            Words::dim(format!("{:>5} ", age(now, e.last_seen))),
            Words::plain(format!("{}/{} ", e.kind, e.name)),
            Words::new(format!("{} ", e.reason), Tone::Warn),
            Words::plain(format!("{} (×{})", e.message, e.count)),
        ]));
    }
}

fn history_lines(lines: &mut Vec<Row>, inventory: &Inventory, app: &str, name: &str, now: jiff::Timestamp) {
    lines.push(Row::blank());
    lines.push(heading(format!("ROLLOUT HISTORY · {app} (Deployment {name})")));
    let current = inventory.deployments.iter().find(|d| d.name == name).and_then(|d| d.revision);
    let mut history: Vec<_> =
        inventory.replica_sets.iter().filter(|rs| rs.owner.as_deref() == Some(name)).collect();
    history.sort_by_key(|rs| std::cmp::Reverse(rs.revision));
    for rs in history {
        let marker = if rs.revision.is_some() && rs.revision == current { "▶ current" } else { "" };
        lines.push(Row::plain(format!(
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

pub fn render(frame: &mut Frame, area: Rect, view: &DrillView) {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme::style(Tone::Env(view.color)))
        .title(view.title.clone());
    let visible = text::lines(view.lines.get(view.scroll..).unwrap_or_default());
    frame.render_widget(Paragraph::new(visible).block(block), area);
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::health::inventory::EventInfo;
    use crate::health::verdict::{EnvHealth, Verdict};

    #[test]
    fn ages_count_to_the_state_clock_and_the_title_names_the_back_key() {
        let config = crate::config::parse(
            Path::new("t.toml"),
            r#"
            [[environments]]
            name = "staging"
            context = "kind-staging"
            [[apps]]
            name = "web"
            deployment = "web"
            "#,
        )
        .expect("valid");
        let mut s =
            State::new(Arc::new(crate::config::Fleet::resolve(config)), false, jiff::Timestamp::UNIX_EPOCH);
        let seen = jiff::Timestamp::from_second(1_000).expect("timestamp");
        let warning = EventInfo {
            namespace: "shop".into(),
            kind: "Pod".into(),
            name: "web-1".into(),
            reason: "BackOff".into(),
            message: "restarting".into(),
            count: 2,
            last_seen: Some(seen),
        };
        let health = EnvHealth {
            env: "staging".into(),
            nodes_ready: 1,
            nodes_total: 1,
            apps: Vec::new(),
            warnings: vec![warning],
            verdict: Verdict::Healthy,
            reasons: Vec::new(),
            gitops: Vec::new(),
        };
        let inventory = Inventory::default();
        s.envs[0].snapshot = Some(Arc::new(crate::cluster::Snapshot {
            inventory,
            health,
            watch_error: None,
            stale: None,
            reads_services: true,
        }));
        s.clock = jiff::Timestamp::from_second(1_090).expect("timestamp");
        let view = view(&s, 0, 0, "", false).expect("a detail");
        assert_eq!(
            view.title,
            format!(" staging · kind-staging · detail · {} back ", key_for(Mode::Drill, Command::Back))
        );
        assert_eq!(
            view.lines[0].text(),
            format!("{} filters by name", key_for(Mode::Drill, Command::Filter))
        );
        let warning =
            view.lines.iter().map(Row::text).find(|l| l.contains("Pod/web-1")).expect("the warning");
        assert!(warning.starts_with("  90s "), "{warning}");
    }
}
