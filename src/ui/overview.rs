//! The overview: one column per environment, side by side, and a merged feed of Warning
//! events underneath. [`view`] reads the state into columns of words and figures; [`render`]
//! fits them into the terminal (the bars and sparklines take the width there is). Colour
//! always comes with a symbol or a word.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::figures;
use super::text::{self, Row, Words};
use super::theme::{self, Tone};
use crate::app::{Connection, EnvState, State};
use crate::config::{Color, Protection};
use crate::health::gitops::GitOpsState;
use crate::health::inventory::ControllerInfo;
use crate::health::verdict::{AppHealth, Rollout};
use crate::health::{Drift, Verdict};
use crate::metrics::AppMetrics;
use crate::windows::WindowStatus;

/// The Warning feed's height when there is room for it.
const FEED_LINES: u16 = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct OverviewView {
    pub columns: Vec<Column>,
    pub feed: Feed,
}

/// One environment's column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub color: Color,
    pub protection: Protection,
    /// The protection in words next to the name: production never relies on colour alone.
    pub marker: &'static str,
    pub selected: bool,
    pub readonly: bool,
    pub context: String,
    pub user: String,
    /// Where the environment requires approvals: whether the server enforces them.
    pub approvals: Option<Words>,
    pub connection: Row,
    /// `⏱ window open until 16:00 (Europe/Paris), closes in 2h10m`, as of `state.clock`.
    pub window: Words,
    pub last_answered: Option<String>,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Before the first sync: the apps by name, and whether a sync is under way.
    Waiting { syncing: bool, apps: Vec<String> },
    Synced {
        verdict: Words,
        nodes: String,
        /// Why the data may no longer be true, and as of when: the verdicts are unknown.
        stale: Option<String>,
        watch_error: Option<String>,
        metrics: Row,
        /// One line per Flux or Argo CD object reconciling the apps.
        gitops: Vec<Row>,
        apps: Vec<AppRow>,
    },
}

/// One app in a column.
#[derive(Debug, Clone, PartialEq)]
pub struct AppRow {
    pub symbol: &'static str,
    pub tone: Tone,
    pub name: String,
    pub selected: bool,
    pub version: String,
    pub drift: Option<Words>,
    pub available: i32,
    pub desired: i32,
    pub restarts: u32,
    pub rollout: Option<Words>,
    pub figures: Option<AppFigures>,
    pub canary: Option<Row>,
    /// The app's guard: its countdown and stage in the tree, or how it ended.
    pub guard: Option<Row>,
    /// Another console at this app's controls: `alice · canary screen · since 10:02`.
    pub controls: Option<Row>,
    pub reason: Option<Words>,
}

/// The stable track's request figures, and its error rate over the last rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct AppFigures {
    pub error_rate: String,
    pub p95: String,
    pub errors: Vec<Option<f64>>,
}

/// The newest Warning events of every environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub total: usize,
    pub events: Vec<Row>,
}

pub fn view(state: &State) -> OverviewView {
    let windows = state.window_statuses();
    let columns = state
        .envs
        .iter()
        .zip(&windows)
        .enumerate()
        .map(|(index, (env, window))| column(state, env, window, index == state.selected_env))
        .collect();
    OverviewView { columns, feed: feed(state) }
}

pub fn verdict_mark(verdict: Verdict) -> (&'static str, &'static str, Tone) {
    match verdict {
        Verdict::Healthy => ("●", "healthy", Tone::Ok),
        Verdict::Degraded => ("▲", "degraded", Tone::Warn),
        Verdict::Down => ("✖", "down", Tone::Bad),
        Verdict::Unknown => ("?", "unknown", Tone::Dim),
    }
}

fn drift_mark(drift: Option<&Drift>) -> Option<Words> {
    let (mark, tone) = match drift? {
        Drift::Same => return None,
        Drift::Promotable => ("⇡promotable", Tone::Ok),
        Drift::Behind => ("⇣behind", Tone::Warn),
        Drift::Differs => ("≠differs", Tone::Warn),
    };
    Some(Words::new(format!(" {mark}"), tone))
}

/// Wall-clock time in UTC: ops teams across time zones read the same figure.
fn clock(at: jiff::Timestamp) -> String {
    at.strftime("%H:%M:%S UTC").to_string()
}

/// `window` is the column's text from `State::window_statuses`: one reading of the clock for
/// every screen that shows a window.
fn column(state: &State, env: &EnvState, window: &str, selected: bool) -> Column {
    let marker = match env.protection {
        Protection::Typed => " ◆ protected",
        Protection::Confirm => " confirm",
        Protection::None => "",
    };
    let window_tone = match crate::windows::status(&env.windows, &env.blackouts, state.clock) {
        WindowStatus::Always | WindowStatus::Open { .. } => Tone::Dim,
        WindowStatus::Closed => Tone::Warn,
        WindowStatus::Blackout { .. } => Tone::Bad,
    };
    let last_answered = match &env.connection {
        Connection::Unreachable { last_ok: Some(at), .. } => Some(clock(*at)),
        _ => None,
    };
    let body = match &env.snapshot {
        None => Body::Waiting {
            syncing: matches!(env.connection, Connection::Connecting | Connection::Reachable { .. }),
            apps: state.apps.clone(),
        },
        Some(snapshot) => {
            let health = &snapshot.health;
            let (symbol, word, tone) = verdict_mark(health.verdict);
            let (metrics, round) = match &env.metrics {
                None => (Row::of("metrics: waiting for the first round…", Tone::Dim), None),
                Some(Err(reason)) => (Row::of(format!("metrics: {reason}"), Tone::Warn), None),
                Some(Ok(round)) => {
                    let line = match &round.error {
                        Some(error) => Row::of(format!("metrics: ⚠ {error}"), Tone::Warn),
                        None => {
                            Row::of(format!("metrics: {} at {}", round.source, clock(round.at)), Tone::Dim)
                        }
                    };
                    (line, Some(round))
                }
            };
            let apps = health
                .apps
                .iter()
                .enumerate()
                .map(|(i, app)| {
                    let figures = round.and_then(|r| r.app(&app.app));
                    let mut row =
                        app_row(app, env.drift.get(&app.app), figures, selected && i == state.selected_app);
                    row.guard = state.guards.of(&env.name, &app.app).map(|g| guard_row(g, state.clock));
                    row.controls = state
                        .controls
                        .other(&env.name, &app.app, state.clock)
                        .map(|h| Row::of(format!("  ☛ {}", h.words()), Tone::Warn));
                    row
                })
                .collect();
            Body::Synced {
                verdict: Words::new(format!("{symbol} {word}"), tone).strong(),
                nodes: format!(" · nodes {}/{}", health.nodes_ready, health.nodes_total),
                stale: snapshot
                    .stale
                    .as_ref()
                    .map(|s| format!("⚠ stale: {}; data as of {}", s.why, s.since.strftime("%H:%M:%S UTC"))),
                watch_error: snapshot.watch_error.clone(),
                metrics,
                gitops: health.gitops.iter().map(|g| gitops_row(g, state.clock)).collect(),
                apps,
            }
        }
    };
    Column {
        name: env.name.clone(),
        color: env.color,
        protection: env.protection,
        marker,
        selected,
        readonly: env.readonly,
        context: env.context.clone(),
        user: env.user.clone().unwrap_or_else(|| "…".into()),
        approvals: approvals_words(env),
        connection: connection_row(&env.connection),
        window: Words::new(format!("⏱ {window}"), window_tone),
        last_answered,
        body,
    }
}

/// Two-person approval, and whether the server enforces who gives it: an operator must not
/// believe a gate holds that any laptop could pass.
fn approvals_words(env: &crate::app::EnvState) -> Option<Words> {
    if !env.require_approval {
        return None;
    }
    // Until the server has answered, the column has better things to say.
    Some(if env.records_enforced? {
        Words::new("approvals ✓ enforced by the server", Tone::Ok)
    } else {
        Words::new("approvals NOT enforced by the server (opsdeck cluster-setup)", Tone::Warn)
    })
}

/// `gitops ✓ Kustomization shop-apps main@1a2b3c4 · 4m ago`: in sync or not, on what, and
/// since when; the controller's message when it is not.
pub fn gitops_row(g: &GitOpsState, now: jiff::Timestamp) -> Row {
    let (mark, tone) = match (g.found, g.ready, g.suspended) {
        (false, _, _) => ("?", Tone::Dim),
        (true, _, true) => ("⏸", Tone::Warn),
        (true, Some(true), false) => ("✓", Tone::Ok),
        (true, Some(false), false) => ("✖", Tone::Bad),
        (true, None, false) => ("…", Tone::Warn),
    };
    let mut row = Row::from(vec![Words::dim("gitops "), Words::new(format!("{mark} "), tone)]);
    row.push(Words::plain(format!("{} {}", g.kind, g.name)));
    if let Some(revision) = &g.revision {
        row.push(Words::plain(format!(" {}", crate::health::gitops::short_revision(revision))));
    }
    if g.suspended {
        let what = if g.kind == "Application" { "auto-sync off" } else { "suspended" };
        row.push(Words::new(format!(" · {what}"), Tone::Warn));
    }
    if let Some(at) = g.reconciled {
        let ago = crate::config::duration_words(now.duration_since(at).as_secs().max(0));
        row.push(Words::dim(format!(" · {ago} ago")));
    }
    if let Some(message) = g.message.as_ref().filter(|_| g.ready != Some(true)) {
        row.push(Words::new(format!(" · {message}"), tone));
    }
    row
}

/// `flagger Progressing 20% · checks 1/5` or `argo-rollouts Paused step 1/5 20% · paused`.
fn controller_row(c: &ControllerInfo) -> Row {
    let mut words = format!("  {} {}", c.kind, c.phase.as_deref().unwrap_or("?"));
    if let Some((index, total)) = c.step {
        let _ = write!(words, " step {index}/{total}");
    }
    if let Some(weight) = c.weight {
        let _ = write!(words, " {weight}%");
    }
    let mut row = Row::from(Words::plain(words));
    if let Some((failed, threshold)) = c.failed_checks {
        let tone = if failed > 0 { Tone::Warn } else { Tone::Dim };
        row.push(Words::new(format!(" · checks {failed}/{threshold}"), tone));
    }
    if c.aborted {
        row.push(Words::new(" · aborted", Tone::Bad));
    } else if c.paused {
        row.push(Words::new(if c.kind == "flagger" { " · suspended" } else { " · paused" }, Tone::Warn));
    }
    row
}

fn connection_row(connection: &Connection) -> Row {
    match connection {
        Connection::Connecting => Row::of("… connecting", Tone::Warn),
        Connection::Reachable { server, at } => Row::from(vec![
            Words::new("● up ", Tone::Ok),
            Words::plain(format!("{} · {}ms · {}", server.version, server.latency.as_millis(), clock(*at))),
        ]),
        Connection::Unreachable { reason, .. } => {
            Row::from(vec![Words::new("✖ unreachable: ", Tone::Bad), Words::plain(reason.clone())])
        }
        Connection::Misconfigured { reason } => {
            Row::from(vec![Words::new("⚠ not connected: ", Tone::Bad), Words::plain(reason.clone())])
        }
    }
}

fn app_row(app: &AppHealth, drift: Option<&Drift>, metrics: Option<&AppMetrics>, selected: bool) -> AppRow {
    let (symbol, _, tone) = verdict_mark(app.verdict);
    let rollout = match &app.rollout {
        Rollout::Paused => Some(Words::new(" ⏸ paused", Tone::Warn)),
        Rollout::Progressing => {
            Some(Words::new(format!(" ⟳ {}/{}", app.replicas.updated, app.replicas.desired), Tone::Warn))
        }
        _ => None,
    };
    let canary = app.canary.as_ref().map(|canary| {
        let weight = canary.weight.map_or_else(|| "?".to_owned(), |w| format!("{w}%"));
        let approx = if canary.approximate { "≈" } else { "" };
        let version = canary.version.clone().unwrap_or_else(|| "—".into());
        let words = match (&canary.colours, canary.weight) {
            (Some(c), Some(100)) => format!("  switched to {} {version}", c.canary),
            (Some(c), _) => format!("  idle {} {version}", c.canary),
            (None, _) => format!("  canary {approx}{weight} {version}"),
        };
        let mut row = Row::from(Words::plain(words));
        if let Some((figures, verdict)) =
            metrics.and_then(|m| Some((m.canary.as_ref()?, m.verdict.as_ref()?)))
        {
            let (symbol, word, tone) = figures::verdict_mark(verdict);
            row.push(Words::new(format!(" {symbol} {word}"), tone));
            row.push(Words::plain(format!(" {} {}", figures::error_rate(figures), figures::p95(figures))));
        }
        row
    });
    // A release Argo Rollouts or Flagger runs is theirs to show: opsdeck configures no canary
    // for it, so the controller's word takes the canary line.
    let canary = canary.or_else(|| app.controller.as_ref().map(controller_row));
    AppRow {
        symbol,
        tone,
        name: app.app.clone(),
        selected,
        version: app.version.clone().unwrap_or_else(|| "—".into()),
        drift: drift_mark(drift),
        available: app.replicas.available,
        desired: app.replicas.desired,
        restarts: app.restarts_recent,
        rollout,
        figures: metrics.map(|m| AppFigures {
            error_rate: figures::error_rate(&m.stable),
            p95: figures::p95(&m.stable),
            errors: m.stable_history.points().map(|p| p.error_rate).collect(),
        }),
        canary,
        guard: None,
        controls: None,
        reason: app.reasons.first().map(|reason| {
            Words::new(format!("  {reason}"), if app.verdict == Verdict::Healthy { Tone::Dim } else { tone })
        }),
    }
}

/// `  ⛨ guard 14m left · watch · error rate`, coloured by the tree's verdict.
fn guard_row(guard: &crate::guard::Guard, now: jiff::Timestamp) -> Row {
    use crate::guard::{Outcome, Verdict};
    let tone = match (guard.ended.as_ref().map(|e| e.outcome), guard.tree.as_ref().map(|t| t.verdict)) {
        (Some(Outcome::Rollback), _) | (None, Some(Verdict::Rollback)) => Tone::Bad,
        (Some(Outcome::Watch), _) | (None, Some(Verdict::Watch)) => Tone::Warn,
        (Some(Outcome::Ok), _) | (None, Some(Verdict::Ok)) => Tone::Ok,
        _ => Tone::Dim,
    };
    Row::of(format!("  ⛨ {}", crate::app::guard::row_words(guard, now)), tone)
}

fn feed(state: &State) -> Feed {
    let mut events: Vec<(&str, &crate::health::inventory::EventInfo)> = state
        .envs
        .iter()
        .filter_map(|e| e.snapshot.as_ref().map(|s| (e.name.as_str(), s)))
        .flat_map(|(name, s)| s.health.warnings.iter().map(move |w| (name, w)))
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.1.last_seen));
    let rows = events
        .iter()
        .take(FEED_LINES as usize)
        .map(|(env, e)| {
            let at =
                e.last_seen.map_or_else(|| "--:--:--".to_owned(), |t| t.strftime("%H:%M:%S").to_string());
            Row::from(vec![
                Words::dim(format!("{at} ")),
                Words::new(format!("{env:<11} "), Tone::Warn),
                Words::plain(format!("{}/{} ", e.kind, e.name)),
                Words::plain(format!("{} ", e.reason)).strong(),
                Words::plain(e.message.clone()),
            ])
        })
        .collect();
    Feed { total: events.len(), events: rows }
}

pub fn render(frame: &mut Frame, area: Rect, view: &OverviewView) {
    if view.columns.is_empty() {
        frame.render_widget(Paragraph::new("No environments configured."), area);
        return;
    }
    // The feed takes only the lines it needs, and gives way on short terminals.
    let feed_height = if area.height >= 16 { 1 + (view.feed.total as u16).clamp(1, FEED_LINES) } else { 0 };
    let [columns_area, feed_area] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(feed_height)]).areas(area);
    let areas = Layout::horizontal(vec![Constraint::Fill(1); view.columns.len()]).split(columns_area);
    for (column, area) in view.columns.iter().zip(areas.iter()) {
        render_column(frame, *area, column);
    }
    if feed_height > 0 {
        render_feed(frame, feed_area, &view.feed);
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

fn render_column(frame: &mut Frame, area: Rect, column: &Column) {
    // Production must be unmistakable: the typed-protection column gets a thick border and
    // says so in words, not only in colour.
    let border = match column.protection {
        Protection::Typed => BorderType::Thick,
        Protection::Confirm => BorderType::Double,
        Protection::None => BorderType::Rounded,
    };
    let env_style = theme::style(Tone::Env(column.color));
    let mut title_style = env_style.add_modifier(Modifier::BOLD);
    if column.selected {
        title_style = title_style.add_modifier(Modifier::REVERSED);
    }
    let mut title =
        vec![Span::styled(format!(" {} ", column.name), title_style), Span::styled(column.marker, env_style)];
    if column.readonly {
        title.push(Span::styled(" read-only ", theme::WARN));
    }
    let block = Block::bordered().border_type(border).border_style(env_style).title(Line::from(title));
    let inner_width = area.width.saturating_sub(2) as usize;

    let mut lines = vec![
        Line::from(vec![Span::styled("context ", theme::DIM), Span::raw(column.context.clone())]),
        Line::from(vec![Span::styled("user    ", theme::DIM), Span::raw(column.user.clone())]),
    ];
    if let Some(approvals) = &column.approvals {
        lines.push(text::line(&Row::of(approvals.text.clone(), approvals.tone)));
    }
    lines.extend([
        text::line(&column.connection),
        text::line(&Row::of(column.window.text.clone(), column.window.tone)),
    ]);
    if let Some(at) = &column.last_answered {
        lines.push(Line::styled(format!("last answered {at}"), theme::DIM));
    }
    match &column.body {
        Body::Waiting { syncing, apps } => {
            if *syncing {
                lines.push(Line::styled("waiting for the first sync…", theme::DIM));
            }
            for app in apps {
                lines.push(Line::styled(format!("  {app}"), theme::DIM));
            }
        }
        Body::Synced { verdict, nodes, stale, watch_error, metrics, gitops, apps } => {
            lines.push(Line::from(vec![text::span(verdict), Span::styled(nodes.clone(), theme::DIM)]));
            if let Some(stale) = stale {
                lines.push(Line::styled(stale.clone(), theme::BAD));
            }
            if let Some(error) = watch_error {
                lines.push(Line::styled(format!("⚠ {error}"), theme::WARN));
            }
            lines.push(text::line(metrics));
            lines.extend(gitops.iter().map(text::line));
            lines.push(Line::raw(""));
            for app in apps {
                app_lines(&mut lines, app, inner_width);
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

fn app_lines(lines: &mut Vec<Line<'static>>, app: &AppRow, width: usize) {
    let style = theme::style(app.tone);
    let name_style = if app.selected { theme::SELECTED } else { theme::BOLD };
    let mut first = vec![
        Span::styled(format!("{} ", app.symbol), style),
        Span::styled(format!("{:<7}", app.name), name_style),
        Span::raw(format!(" {}", app.version)),
    ];
    first.extend(app.drift.as_ref().map(text::span));
    lines.push(Line::from(first));
    let bar_width = width.saturating_sub(24).min(10);
    let mut second = vec![
        Span::raw(format!("  {}/{} ", app.available, app.desired)),
        Span::styled(bar(app.available, app.desired, bar_width), style),
        Span::raw(format!(" ↻{}", app.restarts)),
    ];
    second.extend(app.rollout.as_ref().map(text::span));
    lines.push(Line::from(second));
    if let Some(m) = &app.figures {
        let spark_width = width.saturating_sub(30).min(12);
        lines.push(Line::from(vec![
            Span::raw(format!("  5xx {} p95 {} ", m.error_rate, m.p95)),
            Span::styled(figures::spark(&m.errors, spark_width), theme::DIM),
        ]));
    }
    if let Some(canary) = &app.canary {
        lines.push(text::line(canary));
    }
    if let Some(controls) = &app.controls {
        lines.push(text::line(controls));
    }
    if let Some(guard) = &app.guard {
        lines.push(text::line(guard));
    }
    if let Some(reason) = &app.reason {
        lines.push(text::line(&Row::of(reason.text.clone(), reason.tone)));
    }
}

fn render_feed(frame: &mut Frame, area: Rect, feed: &Feed) {
    let mut lines = vec![Line::styled(format!("Warnings, last 15 minutes ({})", feed.total), theme::DIM)];
    lines.extend(feed.events.iter().map(text::line));
    if feed.events.is_empty() {
        lines.push(Line::styled("none", theme::DIM));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    fn state(toml: &str) -> State {
        let config = crate::config::parse(Path::new("t.toml"), toml).expect("valid");
        State::new(Arc::new(crate::config::Fleet::resolve(config)), false, jiff::Timestamp::UNIX_EPOCH)
    }

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().expect("timestamp")
    }

    const WINDOWED: &str = r#"
        [[environments]]
        name = "production"
        context = "production"
        protection = "typed"
        [[environments.windows]]
        days = ["mon", "tue", "wed", "thu", "fri"]
        start = "09:00"
        end = "17:00"
        [[apps]]
        name = "web"
        deployment = "web"
        "#;

    #[test]
    fn the_window_reads_the_state_clock_not_the_wall_clock() {
        let mut s = state(WINDOWED);
        // A Wednesday, inside the window, then the Saturday after: only the clock changed.
        s.clock = at("2026-11-18T10:00:00Z");
        let open = view(&s).columns[0].window.clone();
        assert_eq!(open.text, format!("⏱ {}", s.window_statuses()[0]));
        assert!(open.text.contains("closes in 7h"), "{open:?}");
        assert_eq!(open.tone, Tone::Dim);
        s.clock = at("2026-11-21T10:00:00Z");
        let closed = view(&s).columns[0].window.clone();
        assert!(closed.text.starts_with("⏱ outside deployment windows"), "{closed:?}");
        assert_eq!(closed.tone, Tone::Warn, "outside every window needs attention");
    }

    #[test]
    fn columns_follow_the_selection_and_say_their_protection() {
        let mut s = state(WINDOWED);
        s.selected_env = 0;
        let column = &view(&s).columns[0];
        assert!(column.selected);
        assert_eq!(column.marker, " ◆ protected");
        assert_eq!(column.body, Body::Waiting { syncing: true, apps: vec!["web".into()] });
    }
}
