//! The canary screen: one app's canary in one environment. What is true now (the plan's
//! steps with the current one marked, the weight, both versions and their replicas and
//! figures, the verdict and its reasons, the time at this step), the last minutes as charts
//! with the limits drawn, auto mode, and what each key will do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, BorderType, Chart, Dataset, GraphType, Paragraph, Wrap};

use super::{figures, theme};
use crate::app::State;
use crate::app::auto::{AutoMode, AutoPhase};
use crate::app::canary::CanarySpec;
use crate::config::CanaryPlace as Provider;
use crate::config::{Protection, duration_words};
use crate::health::verdict::{AppHealth, CanaryHealth};
use crate::metrics::{AppMetrics, Figures, History, Thresholds};
use crate::ops::canary::{step_down, step_up};

const STABLE: Color = Color::Cyan;
const CANARY: Color = Color::Magenta;

/// Everything the screen shows, gathered from the state.
struct View<'s> {
    env: &'s crate::app::EnvState,
    spec: &'s CanarySpec,
    provider: &'s Provider,
    health: Option<&'s AppHealth>,
    canary: Option<&'s CanaryHealth>,
    metrics: Option<&'s AppMetrics>,
    metrics_error: Option<&'s str>,
    auto: Option<&'s AutoMode>,
    now: jiff::Timestamp,
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, env: usize, app: usize, input: Option<&str>) {
    let (Some(env), Some(app_name), Some(Some(spec))) =
        (state.envs.get(env), state.apps.get(app), state.canaries.get(app))
    else {
        return;
    };
    let Some(provider) = spec.providers.get(&env.name) else { return };
    let health = env.snapshot.as_ref().and_then(|s| s.health.apps.iter().find(|a| a.app == *app_name));
    let (metrics, metrics_error) = match &env.metrics {
        Some(Ok(round)) => (round.app(app_name), round.error.as_deref()),
        Some(Err(reason)) => (None, Some(reason.as_str())),
        None => (None, None),
    };
    let view = View {
        env,
        spec,
        provider,
        health,
        canary: health.and_then(|h| h.canary.as_ref()),
        metrics,
        metrics_error,
        auto: state.auto(&env.name, app_name),
        now: state.clock,
    };

    let border = if env.protection == Protection::Typed { BorderType::Thick } else { BorderType::Rounded };
    let title = Line::from(vec![
        Span::styled(" Canary ", Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(
            format!("{}/{} ", env.name, app_name),
            Style::new().fg(theme::color(env.color)).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("· {} · {} ", provider.provider, provider.carrier)),
    ]);
    let block = Block::bordered()
        .border_type(border)
        .border_style(Style::new().fg(theme::color(env.color)))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let status = status_lines(&view);
    // Wrapped, on a narrow terminal a line takes more than one row: the verdict below the
    // figures must never be the part that is cut.
    let width = usize::from(inner.width.max(1));
    let status_rows: usize = status.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    let [top, gauge, status_area, charts, auto_area, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(status_rows as u16),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(2),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(steps_line(&view)), top);
    render_gauge(frame, gauge, &view);
    frame.render_widget(Paragraph::new(status).wrap(Wrap { trim: false }), status_area);
    if charts.height >= 5 {
        render_charts(frame, charts, &view);
    }
    frame.render_widget(Paragraph::new(auto_line(&view)), auto_area);
    frame.render_widget(Paragraph::new(key_lines(&view, input)).wrap(Wrap { trim: false }), keys);
}

fn weight(view: &View<'_>) -> Option<u32> {
    view.canary.and_then(|c| c.weight)
}

/// `steps 0 ─ [10] ─ 25 ─ 50 ─ 100 ─ promote   at 10% for 4m12s`
fn steps_line(view: &View<'_>) -> Line<'static> {
    let current = weight(view);
    let mut spans = vec![Span::styled("steps   ", theme::DIM)];
    let mut stops: Vec<u32> = vec![0];
    stops.extend(view.spec.steps.iter().map(|s| u32::from(*s)));
    let on_a_step = current.is_some_and(|w| stops.contains(&w));
    for (i, stop) in stops.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" ─ ", theme::DIM));
        }
        // A weight set between two steps shows where it sits.
        if let Some(w) = current.filter(|w| !on_a_step && i > 0 && stops[i - 1] < *w && *w < *stop) {
            spans.push(Span::styled(format!("[{w}%]"), theme::SELECTED.add_modifier(Modifier::BOLD)));
            spans.push(Span::styled(" ─ ", theme::DIM));
        }
        if current == Some(*stop) {
            spans.push(Span::styled(format!("[{stop}%]"), theme::SELECTED.add_modifier(Modifier::BOLD)));
        } else {
            spans.push(Span::raw(format!("{stop}%")));
        }
    }
    spans.push(Span::styled(" ─ promote", theme::DIM));
    match (current, view.canary.and_then(|c| c.since)) {
        (None, _) => spans.push(Span::styled("   weight unknown", theme::WARN)),
        (Some(w), Some(since)) => spans.push(Span::raw(format!(
            "   at {w}% for {} (since {})",
            duration_words(view.now.duration_since(since).as_secs()),
            since.strftime("%H:%M:%S UTC")
        ))),
        (Some(w), None) => {
            spans.push(Span::raw(format!("   at {w}% since before this console started watching")));
        }
    }
    Line::from(spans)
}

/// `weight  10% of traffic  ████░░░░░░░░…`: the canary's share filled, stable's empty.
fn render_gauge(frame: &mut Frame, area: Rect, view: &View<'_>) {
    let w = weight(view).unwrap_or(0).min(100);
    let approx = if view.provider.approximate { "≈" } else { "" };
    let note = if view.provider.approximate {
        " of pods (replica ratio: traffic follows roughly)"
    } else {
        " of traffic"
    };
    let label = format!("{approx}{w}%{note}  ");
    let width = usize::from(area.width).saturating_sub(8 + label.chars().count()).min(100);
    let filled = (width * w as usize + 50) / 100;
    let line = Line::from(vec![
        Span::styled("weight  ", theme::DIM),
        Span::raw(label),
        Span::styled("█".repeat(filled), Style::new().fg(CANARY)),
        Span::styled("░".repeat(width - filled), Style::new().fg(STABLE).add_modifier(Modifier::DIM)),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn track_line(
    label: &str,
    color: Color,
    version: Option<&str>,
    ready: (i32, i32),
    figures: Option<&Figures>,
) -> Line<'static> {
    let mut spans = vec![
        Span::styled(format!("{label:<8}"), Style::new().fg(color).add_modifier(Modifier::BOLD)),
        Span::raw(format!("{:<14}", version.unwrap_or("—"))),
        Span::raw(format!(" {}/{} ready", ready.0, ready.1)),
    ];
    if let Some(f) = figures {
        spans.push(Span::raw(format!(
            " · 5xx {} · p95 {} · {:.1} rps · {:.0} in the window",
            figures::error_rate(f),
            figures::p95(f),
            f.rps,
            f.requests
        )));
    }
    Line::from(spans)
}

fn status_lines(view: &View<'_>) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let stable_ready = view.health.map_or((0, 0), |h| (h.replicas.ready, h.replicas.desired));
    let canary_ready = view.canary.map_or((0, 0), |c| (c.replicas.ready, c.replicas.desired));
    lines.push(track_line(
        "stable",
        STABLE,
        view.health.and_then(|h| h.version.as_deref()),
        stable_ready,
        view.metrics.map(|m| &m.stable),
    ));
    lines.push(track_line(
        "canary",
        CANARY,
        view.canary.and_then(|c| c.version.as_deref()),
        canary_ready,
        view.metrics.and_then(|m| m.canary.as_ref()),
    ));
    let verdict = view.metrics.and_then(|m| m.verdict.as_ref());
    if let Some(v) = verdict {
        let (symbol, word, style) = figures::verdict_mark(v);
        let mut spans = vec![
            Span::styled("verdict ", theme::DIM),
            Span::styled(format!("{symbol} {}", word.to_uppercase()), style.add_modifier(Modifier::BOLD)),
        ];
        if !v.reasons().is_empty() {
            spans.push(Span::raw(format!("  {}", v.reasons().join("; "))));
        }
        lines.push(Line::from(spans));
    } else {
        let why = view
            .metrics_error
            .map_or_else(|| "waiting for the first metrics round".to_owned(), str::to_owned);
        lines.push(Line::from(vec![
            Span::styled("verdict ", theme::DIM),
            Span::styled(format!("? no verdict: {why}"), theme::WARN),
        ]));
    }
    let t = &view.spec.thresholds;
    lines.push(Line::styled(
        format!(
            "limits  canary 5xx ≤ {:.2}% · p95 ≤ {:.0}ms and ≤ {}× stable · at least {} requests in {}s",
            t.max_error_rate * 100.0,
            t.max_p95_seconds * 1000.0,
            t.max_latency_ratio,
            t.min_requests,
            view.spec.window.as_secs()
        ),
        theme::DIM,
    ));
    if let Some(m) = view.metrics.filter(|m| !m.failures.is_empty()) {
        lines.push(Line::styled(
            format!("⚠ {} pod(s) not scraped: {}", m.failures.len(), m.failures.join("; ")),
            theme::WARN,
        ));
    }
    lines
}

/// (seconds before now, value) for each point with a value.
fn series(
    history: &History,
    now: jiff::Timestamp,
    value: impl Fn(&crate::metrics::Point) -> Option<f64>,
) -> Vec<(f64, f64)> {
    history
        .points()
        .filter_map(|p| Some((-(now.duration_since(p.at).as_secs_f64()), value(p)?)))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

struct ChartSpec<'a> {
    title: String,
    unit: &'a str,
    stable: Vec<(f64, f64)>,
    canary: Vec<(f64, f64)>,
    limits: Vec<(String, f64)>,
}

fn render_charts(frame: &mut Frame, area: Rect, view: &View<'_>) {
    let Some(m) = view.metrics else {
        frame.render_widget(Paragraph::new(Line::styled("charts: no figures yet", theme::DIM)), area);
        return;
    };
    let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    let t: &Thresholds = &view.spec.thresholds;
    let error = ChartSpec {
        title: "5xx rate, %".into(),
        unit: "%",
        stable: series(&m.stable_history, view.now, |p| p.error_rate.map(|r| r * 100.0)),
        canary: series(&m.canary_history, view.now, |p| p.error_rate.map(|r| r * 100.0)),
        limits: vec![(format!("limit {:.1}%", t.max_error_rate * 100.0), t.max_error_rate * 100.0)],
    };
    let mut limits = vec![(format!("limit {:.0}ms", t.max_p95_seconds * 1000.0), t.max_p95_seconds * 1000.0)];
    if let Some(stable_p95) = m.stable.p95 {
        limits.push((format!("{}× stable", t.max_latency_ratio), stable_p95 * 1000.0 * t.max_latency_ratio));
    }
    let latency = ChartSpec {
        title: "p95 latency, ms".into(),
        unit: "ms",
        stable: series(&m.stable_history, view.now, |p| p.p95.map(|s| s * 1000.0)),
        canary: series(&m.canary_history, view.now, |p| p.p95.map(|s| s * 1000.0)),
        limits,
    };
    render_chart(frame, left, &error);
    render_chart(frame, right, &latency);
}

/// The y axis ends this many times above the highest limit: a spike far beyond it would
/// flatten everything that matters near the limit, so it is drawn at the ceiling instead.
const CEILING: f64 = 4.0;

fn render_chart(frame: &mut Frame, area: Rect, spec: &ChartSpec<'_>) {
    let oldest = spec.stable.iter().chain(&spec.canary).map(|(x, _)| *x).fold(-60.0_f64, f64::min);
    let highest_limit = spec.limits.iter().map(|(_, y)| *y).fold(0.0_f64, f64::max);
    let highest_point = spec.stable.iter().chain(&spec.canary).map(|(_, y)| *y).fold(0.0_f64, f64::max);
    let ceiling = if highest_limit > 0.0 { highest_limit * CEILING } else { f64::MAX };
    let clipped = highest_point > ceiling;
    let top = (highest_point.max(highest_limit) * 1.15).min(ceiling);
    let top = if top > 0.0 { top } else { 1.0 };
    let clip =
        |points: &[(f64, f64)]| -> Vec<(f64, f64)> { points.iter().map(|(x, y)| (*x, y.min(top))).collect() };
    let (stable, canary) = (clip(&spec.stable), clip(&spec.canary));
    let limit_lines: Vec<Vec<(f64, f64)>> =
        spec.limits.iter().map(|(_, y)| vec![(oldest, *y), (0.0, *y)]).collect();
    // Limits first, so the tracks are drawn over them where they cross.
    let mut datasets: Vec<Dataset> = spec
        .limits
        .iter()
        .zip(&limit_lines)
        .map(|((name, _), line)| {
            Dataset::default()
                .name(name.clone())
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(Color::Red))
                .data(line)
        })
        .collect();
    datasets.push(
        Dataset::default()
            .name("stable")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(STABLE))
            .data(&stable),
    );
    datasets.push(
        Dataset::default()
            .name("canary")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(CANARY))
            .data(&canary),
    );
    let minutes = (-oldest / 60.0).ceil();
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .border_type(BorderType::Plain)
                .border_style(theme::DIM)
                .title(spec.title.clone()),
        )
        .x_axis(
            Axis::default()
                .bounds([oldest, 0.0])
                .labels([Line::raw(format!("-{minutes:.0}m")), Line::raw("now")])
                .style(theme::DIM),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels([
                    Line::raw(format!("0{}", spec.unit)),
                    Line::raw(format!("{}{top:.1}{}", if clipped { "≥" } else { "" }, spec.unit)),
                ])
                .style(theme::DIM),
        )
        .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Ratio(1, 1), Constraint::Ratio(1, 1)));
    frame.render_widget(chart, area);
}

fn auto_line(view: &View<'_>) -> Line<'static> {
    let Some(auto) = view.auto else {
        return Line::from(vec![
            Span::styled("auto    off", theme::DIM),
            Span::styled(
                format!(
                    " · A turns it on: a step every {}s while the verdict passes, abort after {} failed checks in a row",
                    view.spec.interval.as_secs(),
                    view.spec.failure_threshold
                ),
                theme::DIM,
            ),
        ]);
    };
    let doing = match &auto.phase {
        AutoPhase::Waiting => format!("next step in {}", duration_words(auto.due_in(view.now))),
        AutoPhase::Holding(why) => format!("step due, holding: {why}"),
        AutoPhase::Busy(what) => format!("running: {what}"),
    };
    let style = if auto.failures > 0 { theme::BAD } else { theme::OK };
    Line::from(vec![
        Span::styled("auto    ON ", theme::OK.add_modifier(Modifier::BOLD)),
        Span::raw(format!("· {doing} · ")),
        Span::styled(format!("failed checks {}/{}", auto.failures, auto.threshold), style),
        Span::styled(" · A turns it off; any canary key takes over", theme::DIM),
    ])
}

fn key(label: &str, says: &str) -> Vec<Span<'static>> {
    vec![Span::styled(format!(" {label} "), theme::KEY), Span::raw(format!(" {says}  "))]
}

/// What each key does from here, with the weights it would set.
fn key_lines(view: &View<'_>, input: Option<&str>) -> Vec<Line<'static>> {
    if let Some(input) = input {
        return vec![Line::from(vec![
            Span::styled("set weight: ", theme::WARN),
            Span::raw(input.to_owned()),
            Span::styled("▏%", theme::WARN),
            Span::styled("   Enter plans it (a confirmation follows) · Esc cancels", theme::DIM),
        ])];
    }
    let current = weight(view).unwrap_or(0);
    let up = step_up(&view.spec.steps, current)
        .map_or_else(|| "— (last step: promote)".to_owned(), |w| format!("{current}% → {w}%"));
    let down = step_down(&view.spec.steps, current)
        .map_or_else(|| "— (at 0%)".to_owned(), |w| format!("{current}% → {w}%"));
    let mut first = key("s", &format!("step {up}"));
    first.extend(key("b", &format!("back {down}")));
    first.extend(key("=", "exact weight"));
    first.extend(key("x", &format!("abort {current}% → 0%")));
    let mut second =
        key("P", "promote: stable takes the canary's version, then 0%, then the canary scales down");
    second.extend(key("A", if view.auto.is_some() { "auto off" } else { "auto on" }));
    second.extend(key("X", "kill switch"));
    second.extend(key("Esc", "back"));
    if view.env.readonly {
        return vec![
            Line::styled(format!("{} is read-only: these keys are refused", view.env.name), theme::WARN),
            Line::from(first),
        ];
    }
    vec![Line::from(first), Line::from(second)]
}
