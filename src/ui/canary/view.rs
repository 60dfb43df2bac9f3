//! The canary screen's view model: every word, figure and chart series it shows, read from
//! the state. Nothing here knows the terminal's size: the gauge and the charts are sized by
//! the renderer.

use crate::app::State;
use crate::app::auto::{AutoMode, AutoPhase};
use crate::app::canary::CanarySpec;
use crate::app::{Command, Mode, key_for};
use crate::config::CanaryPlace as Provider;
use crate::config::{Color, Protection, duration_words};
use crate::health::verdict::{AppHealth, CanaryHealth};
use crate::metrics::{AppMetrics, History, Thresholds};
use crate::ops::canary::{step_down, step_up};
use crate::ui::figures;
use crate::ui::text::{KeyHint, Row, Words};
use crate::ui::theme::Tone;

#[derive(Debug, Clone, PartialEq)]
pub struct CanaryView {
    pub env: String,
    pub app: String,
    pub color: Color,
    pub protection: Protection,
    /// `nginx-ingress · Ingress shop/web-canary`
    pub provider: String,
    pub steps: Row,
    pub gauge: Gauge,
    pub status: Vec<Row>,
    /// The error-rate and latency charts; `None` before the first figures.
    pub charts: Option<[Chart; 2]>,
    /// What the chart area says without charts.
    pub no_charts: String,
    pub auto: Row,
    pub keys: Keys,
}

/// The canary's share of the traffic (or of the pods), as the gauge fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gauge {
    /// 0 to 100.
    pub weight: u32,
    /// `10% of traffic  `
    pub label: String,
}

/// One chart: both tracks as (seconds before now, value), the limits drawn across it, and
/// the axes' bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub unit: &'static str,
    pub stable: Vec<(f64, f64)>,
    pub canary: Vec<(f64, f64)>,
    pub limits: Vec<(String, f64)>,
    /// The x axis starts here (seconds, negative).
    pub oldest: f64,
    /// The y axis ends here; points above it are drawn at it.
    pub top: f64,
    /// Some point is above `top`: the axis label says `≥`.
    pub clipped: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Keys {
    /// A weight being typed, and how to plan or drop it.
    Typing(Row),
    /// Each line's keys, after a note when they would be refused.
    Lines { refused: Option<String>, lines: Vec<Vec<KeyHint>> },
}

/// Everything the screen reads, gathered from the state.
struct Sources<'s> {
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

impl Sources<'_> {
    fn weight(&self) -> Option<u32> {
        self.canary.and_then(|c| c.weight)
    }

    /// A blue-green's colours, stable's first.
    fn colours(&self) -> Option<(&str, &str)> {
        self.canary.and_then(|c| c.colours.as_ref()).map(|c| (c.stable.as_str(), c.canary.as_str()))
    }
}

/// The canary screen for `app` in `env`, with `input` the weight being typed; `None` when the
/// app has no canary there.
pub fn view(state: &State, env: usize, app: usize, input: Option<&str>) -> Option<CanaryView> {
    let ours = state.canaries.get(app).and_then(Option::as_ref).and_then(|spec| {
        let name = &state.envs.get(env)?.name;
        Some((spec, spec.providers.get(name)?))
    });
    let Some((spec, provider)) = ours else { return super::controller::view(state, env, app) };
    let (env, app_name) = (state.envs.get(env)?, state.apps.get(app)?);
    let health = env.snapshot.as_ref().and_then(|s| s.health.apps.iter().find(|a| a.app == *app_name));
    let (metrics, metrics_error) = match &env.metrics {
        Some(Ok(round)) => (round.app(app_name), round.error.as_deref()),
        Some(Err(reason)) => (None, Some(reason.as_str())),
        None => (None, None),
    };
    let sources = Sources {
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
    Some(CanaryView {
        env: env.name.clone(),
        app: app_name.clone(),
        color: env.color,
        protection: env.protection,
        provider: format!("{} · {}", provider.provider, provider.carrier),
        steps: steps(&sources),
        gauge: gauge(&sources),
        status: status(&sources),
        charts: charts(&sources),
        no_charts: "charts: no figures yet".to_owned(),
        auto: auto(&sources),
        keys: keys(&sources, input),
    })
}

/// A blue-green's one step: `switch  [blue live] ─ green ─ promote`.
fn switch(s: &Sources<'_>, (stable, canary): (&str, &str)) -> Row {
    let live = match s.weight() {
        Some(100) => Some(canary),
        Some(0) => Some(stable),
        _ => None,
    };
    let mut row = Row::from(Words::dim("switch  "));
    for (i, colour) in [stable, canary].into_iter().enumerate() {
        if i > 0 {
            row.push(Words::dim(" ─ "));
        }
        if live == Some(colour) {
            row.push(Words::new(format!("[{colour} live]"), Tone::Selected).strong());
        } else {
            row.push(Words::plain(colour.to_owned()));
        }
    }
    row.push(Words::dim(" ─ promote"));
    row.push(match live {
        None => Words::new("   the Service selects neither colour", Tone::Warn),
        Some(c) if c == stable => {
            Words::plain(format!("   the Service selects {stable}; the switch sends everything to {canary}"))
        }
        Some(_) => Words::plain(format!("   switched: {canary} serves all; abort switches back to {stable}")),
    });
    row
}

/// `steps 0 ─ [10] ─ 25 ─ 50 ─ 100 ─ promote   at 10% for 4m12s`
fn steps(s: &Sources<'_>) -> Row {
    if let Some(colours) = s.colours() {
        return switch(s, colours);
    }
    let current = s.weight();
    let mut row = Row::from(Words::dim("steps   "));
    let mut stops: Vec<u32> = vec![0];
    stops.extend(s.spec.steps.iter().map(|s| u32::from(*s)));
    let on_a_step = current.is_some_and(|w| stops.contains(&w));
    for (i, stop) in stops.iter().enumerate() {
        if i > 0 {
            row.push(Words::dim(" ─ "));
        }
        // A weight set between two steps shows where it sits.
        if let Some(w) = current.filter(|w| !on_a_step && i > 0 && stops[i - 1] < *w && *w < *stop) {
            row.push(Words::new(format!("[{w}%]"), Tone::Selected).strong());
            row.push(Words::dim(" ─ "));
        }
        if current == Some(*stop) {
            row.push(Words::new(format!("[{stop}%]"), Tone::Selected).strong());
        } else {
            row.push(Words::plain(format!("{stop}%")));
        }
    }
    row.push(Words::dim(" ─ promote"));
    row.push(match (current, s.canary.and_then(|c| c.since)) {
        (None, _) => Words::new("   weight unknown", Tone::Warn),
        (Some(w), Some(since)) => Words::plain(format!(
            "   at {w}% for {} (since {})",
            duration_words(s.now.duration_since(since).as_secs()),
            since.strftime("%H:%M:%S UTC")
        )),
        (Some(w), None) => Words::plain(format!("   at {w}% since before this console started watching")),
    });
    row
}

fn gauge(s: &Sources<'_>) -> Gauge {
    let w = s.weight().unwrap_or(0).min(100);
    if let Some((stable, canary)) = s.colours() {
        let on = if w == 100 { canary } else { stable };
        return Gauge { weight: w, label: format!("{w}% of traffic: all of it on {on}  ") };
    }
    let approx = if s.provider.approximate { "≈" } else { "" };
    let note = if s.provider.approximate {
        " of pods (replica ratio: traffic follows roughly)"
    } else {
        " of traffic"
    };
    Gauge { weight: w, label: format!("{approx}{w}%{note}  ") }
}

fn track(
    (label, width): (&str, usize),
    tone: Tone,
    version: Option<&str>,
    ready: (i32, i32),
    f: Option<&crate::metrics::Figures>,
) -> Row {
    let mut row = Row::from(vec![
        Words::new(format!("{label:<width$}"), tone).strong(),
        Words::plain(format!("{:<14}", version.unwrap_or("—"))),
        Words::plain(format!(" {}/{} ready", ready.0, ready.1)),
    ]);
    if let Some(f) = f {
        row.push(Words::plain(format!(
            " · 5xx {} · p95 {} · {:.1} rps · {:.0} in the window",
            figures::error_rate(f),
            figures::p95(f),
            f.rps,
            f.requests
        )));
    }
    row
}

fn status(s: &Sources<'_>) -> Vec<Row> {
    let stable_ready = s.health.map_or((0, 0), |h| (h.replicas.ready, h.replicas.desired));
    let canary_ready = s.canary.map_or((0, 0), |c| (c.replicas.ready, c.replicas.desired));
    let (stable_label, canary_label) = match (s.colours(), s.weight()) {
        (Some((stable, canary)), Some(100)) => (format!("{stable} idle"), format!("{canary} live")),
        (Some((stable, canary)), _) => (format!("{stable} live"), format!("{canary} idle")),
        (None, _) => ("stable".to_owned(), "canary".to_owned()),
    };
    // Both tracks' figures start in one column.
    let width = stable_label.chars().count().max(canary_label.chars().count()).max(7) + 1;
    let mut lines = vec![
        track(
            (&stable_label, width),
            Tone::Stable,
            s.health.and_then(|h| h.version.as_deref()),
            stable_ready,
            s.metrics.map(|m| &m.stable),
        ),
        track(
            (&canary_label, width),
            Tone::Canary,
            s.canary.and_then(|c| c.version.as_deref()),
            canary_ready,
            s.metrics.and_then(|m| m.canary.as_ref()),
        ),
    ];
    if let Some(v) = s.metrics.and_then(|m| m.verdict.as_ref()) {
        let (symbol, word, tone) = figures::verdict_mark(v);
        let mut row = Row::from(vec![
            Words::dim("verdict "),
            Words::new(format!("{symbol} {}", word.to_uppercase()), tone).strong(),
        ]);
        if !v.reasons().is_empty() {
            row.push(Words::plain(format!("  {}", v.reasons().join("; "))));
        }
        lines.push(row);
    } else {
        let why =
            s.metrics_error.map_or_else(|| "waiting for the first metrics round".to_owned(), str::to_owned);
        lines.push(Row::from(vec![
            Words::dim("verdict "),
            Words::new(format!("? no verdict: {why}"), Tone::Warn),
        ]));
    }
    let t = &s.spec.thresholds;
    lines.push(Row::of(
        format!(
            "limits  canary 5xx ≤ {:.2}% · p95 ≤ {:.0}ms and ≤ {}× stable · at least {} requests in {}s",
            t.max_error_rate * 100.0,
            t.max_p95_seconds * 1000.0,
            t.max_latency_ratio,
            t.min_requests,
            s.spec.window.as_secs()
        ),
        Tone::Dim,
    ));
    if let Some(m) = s.metrics.filter(|m| !m.failures.is_empty()) {
        lines.push(Row::of(
            format!("⚠ {} pod(s) not scraped: {}", m.failures.len(), m.failures.join("; ")),
            Tone::Warn,
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

/// The y axis ends this many times above the highest limit: a spike far beyond it would
/// flatten everything that matters near the limit, so it is drawn at the ceiling instead.
const CEILING: f64 = 4.0;

fn chart(
    title: &str,
    unit: &'static str,
    stable: Vec<(f64, f64)>,
    canary: Vec<(f64, f64)>,
    limits: Vec<(String, f64)>,
) -> Chart {
    let oldest = stable.iter().chain(&canary).map(|(x, _)| *x).fold(-60.0_f64, f64::min);
    let highest_limit = limits.iter().map(|(_, y)| *y).fold(0.0_f64, f64::max);
    let highest_point = stable.iter().chain(&canary).map(|(_, y)| *y).fold(0.0_f64, f64::max);
    let ceiling = if highest_limit > 0.0 { highest_limit * CEILING } else { f64::MAX };
    let top = (highest_point.max(highest_limit) * 1.15).min(ceiling);
    Chart {
        title: title.to_owned(),
        unit,
        stable,
        canary,
        limits,
        oldest,
        top: if top > 0.0 { top } else { 1.0 },
        clipped: highest_point > ceiling,
    }
}

fn charts(s: &Sources<'_>) -> Option<[Chart; 2]> {
    let m = s.metrics?;
    let t: &Thresholds = &s.spec.thresholds;
    let percent = |p: &crate::metrics::Point| p.error_rate.map(|r| r * 100.0);
    let millis = |p: &crate::metrics::Point| p.p95.map(|s| s * 1000.0);
    let error = chart(
        "5xx rate, %",
        "%",
        series(&m.stable_history, s.now, percent),
        series(&m.canary_history, s.now, percent),
        vec![(format!("limit {:.1}%", t.max_error_rate * 100.0), t.max_error_rate * 100.0)],
    );
    let mut limits = vec![(format!("limit {:.0}ms", t.max_p95_seconds * 1000.0), t.max_p95_seconds * 1000.0)];
    if let Some(stable_p95) = m.stable.p95 {
        limits.push((format!("{}× stable", t.max_latency_ratio), stable_p95 * 1000.0 * t.max_latency_ratio));
    }
    let latency = chart(
        "p95 latency, ms",
        "ms",
        series(&m.stable_history, s.now, millis),
        series(&m.canary_history, s.now, millis),
        limits,
    );
    Some([error, latency])
}

fn auto(s: &Sources<'_>) -> Row {
    let toggle = key_for(Mode::Canary, Command::ToggleAuto);
    let Some(auto) = s.auto else {
        return Row::from(vec![
            Words::dim("auto    off"),
            Words::dim(format!(
                " · {toggle} turns it on: a step every {}s while the verdict passes, \
                 abort after {} failed checks in a row",
                s.spec.interval.as_secs(),
                s.spec.failure_threshold
            )),
        ]);
    };
    let doing = match &auto.phase {
        AutoPhase::Waiting => format!("next step in {}", duration_words(auto.due_in(s.now))),
        AutoPhase::Holding(why) => format!("step due, holding: {why}"),
        AutoPhase::Busy(what) => format!("running: {what}"),
    };
    Row::from(vec![
        Words::new("auto    ON ", Tone::Ok).strong(),
        Words::plain(format!("· {doing} · ")),
        Words::new(
            format!("failed checks {}/{}", auto.failures, auto.threshold),
            if auto.failures > 0 { Tone::Bad } else { Tone::Ok },
        ),
        Words::dim(format!(" · {toggle} turns it off; any canary key takes over")),
    ])
}

fn key(command: Command, says: impl Into<String>) -> KeyHint {
    KeyHint::new(key_for(Mode::Canary, command), says)
}

/// What each key does from here, with the weights it would set.
fn keys(s: &Sources<'_>, input: Option<&str>) -> Keys {
    if let Some(input) = input {
        return Keys::Typing(Row::from(vec![
            Words::new("set weight: ", Tone::Warn),
            Words::plain(input.to_owned()),
            Words::new("▏%", Tone::Warn),
            Words::dim(format!(
                "   {} plans it (a confirmation follows) · {} cancels",
                key_for(Mode::CanaryWeight, Command::Confirm),
                key_for(Mode::CanaryWeight, Command::Back)
            )),
        ]));
    }
    if let Some(colours) = s.colours() {
        return colour_keys(s, colours);
    }
    let current = s.weight().unwrap_or(0);
    let up = step_up(&s.spec.steps, current)
        .map_or_else(|| "— (last step: promote)".to_owned(), |w| format!("{current}% → {w}%"));
    let down = step_down(&s.spec.steps, current)
        .map_or_else(|| "— (at 0%)".to_owned(), |w| format!("{current}% → {w}%"));
    let first = vec![
        key(Command::CanaryStep, format!("step {up}")),
        key(Command::CanaryBack, format!("back {down}")),
        key(Command::CanarySetWeight, "exact weight"),
        key(Command::CanaryAbort, format!("abort {current}% → 0%")),
        key(Command::StartCanary, "start a new canary (the previous environment's version)"),
    ];
    let second = vec![
        key(
            Command::CanaryPromote,
            "promote: stable takes the canary's version, then 0%, then the canary scales down",
        ),
        key(Command::ToggleAuto, if s.auto.is_some() { "auto off" } else { "auto on" }),
        key(Command::KillSwitch, "kill switch"),
        key(Command::Back, "back"),
    ];
    if s.env.readonly {
        let refused = format!("{} is read-only: these keys are refused", s.env.name);
        return Keys::Lines { refused: Some(refused), lines: vec![first] };
    }
    Keys::Lines { refused: None, lines: vec![first, second] }
}

/// A blue-green's keys: the switch, the switch back, promotion; no weights in between.
fn colour_keys(s: &Sources<'_>, (stable, canary): (&str, &str)) -> Keys {
    let switched = s.weight() == Some(100);
    let old = match &s.provider.target {
        crate::config::CanaryTarget::ServiceSelector { scale_old_to: Some(n), .. } => {
            format!("scaled to {n}")
        }
        _ => "kept for a switch back".to_owned(),
    };
    let (switch, abort) = if switched {
        (
            "switch — (done: promote, or abort to switch back)".to_owned(),
            format!("abort: switch back to {stable}"),
        )
    } else {
        (
            format!("switch: all traffic {stable} → {canary}, once its pods are ready"),
            "abort — (not switched)".to_owned(),
        )
    };
    let first = vec![
        key(Command::CanaryStep, switch),
        key(Command::CanaryAbort, abort),
        key(Command::StartCanary, format!("start: the previous environment's version on {canary}")),
    ];
    let second = vec![
        key(Command::CanaryPromote, format!("promote: {canary} live and stable, {stable} {old}")),
        key(Command::KillSwitch, "kill switch"),
        key(Command::Back, "back"),
    ];
    if s.env.readonly {
        let refused = format!("{} is read-only: these keys are refused", s.env.name);
        return Keys::Lines { refused: Some(refused), lines: vec![first] };
    }
    Keys::Lines { refused: None, lines: vec![first, second] }
}
