//! The log screen: an app's pod logs in one environment, stable and canary side by side, each
//! pane headed by its pods, how their streams are doing and its error lines a minute, with a
//! crash-looping pod's previous container and termination reason on top, unasked.
//!
//! `view` builds the words from `State::logs` for a body of a given height (it decides which
//! lines fit, not how they are drawn); `render` lays them out.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::text::{self, Row, Words};
use super::theme::Tone;
use crate::app::logs::LogView;
use crate::app::{Command, Mode, State, key_for};
use crate::cluster::logs::StreamState;
use crate::config::Color;
use crate::logs::{LogLine, short_pod};

/// A pod keeps its colour for as long as its name: the same pod, the same colour, like stern.
const POD_COLOURS: [Color; 6] =
    [Color::Cyan, Color::Green, Color::Yellow, Color::Blue, Color::Magenta, Color::White];
/// Rows of a crash-looping pod's previous container shown above its pane's lines.
const PREVIOUS_ROWS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsView {
    pub title: Row,
    pub panes: Vec<Pane>,
    /// The filter being typed, or kept.
    pub filter: Option<Row>,
    /// The line under the cursor, whole.
    pub expanded: Option<Vec<Row>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pane {
    pub title: Row,
    pub focused: bool,
    /// Each pod and its stream.
    pub pods: Row,
    /// Crash-looping pods: why, and their previous container's last lines.
    pub crashes: Vec<Row>,
    pub lines: Vec<Row>,
}

fn pod_tone(pod: &str) -> Tone {
    let hash = pod.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
    Tone::Env(POD_COLOURS[hash % POD_COLOURS.len()])
}

fn line_row(line: &LogLine, selected: bool) -> Row {
    let time = line.time.map_or_else(|| "--:--:--".to_owned(), |t| t.strftime("%H:%M:%S").to_string());
    let text_tone = if line.error { Tone::Bad } else { Tone::Plain };
    let mut row = Row(vec![
        Words::new(format!("{:<5} ", short_pod(&line.pod)), pod_tone(&line.pod)),
        Words::dim(format!("{time} ")),
        Words::new(line.line.clone(), text_tone),
    ]);
    if selected {
        row = Row(row.0.into_iter().map(|w| Words { tone: Tone::Selected, ..w }).collect());
    }
    row
}

fn stream_words(pod: &str, state: Option<&StreamState>) -> Vec<Words> {
    let (mark, tone, why) = match state {
        None | Some(StreamState::Opening) => ("…", Tone::Dim, None),
        Some(StreamState::Streaming) => ("●", Tone::Ok, None),
        Some(StreamState::Retrying(why)) => ("⟳", Tone::Warn, Some(why.as_str())),
        Some(StreamState::Forbidden(why)) => ("✗", Tone::Bad, Some(why.as_str())),
    };
    let mut words =
        vec![Words::new(format!("{mark} "), tone), Words::new(short_pod(pod).to_owned(), pod_tone(pod))];
    if let Some(why) = why {
        words.push(Words::new(format!(" ({why})"), tone));
    }
    words.push(Words::plain("  "));
    words
}

fn crash_rows(view: &LogView, track: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for target in view.targets.iter().filter(|t| view.in_pane(t, track)) {
        let Some(previous) = view.previous.get(&target.pod) else { continue };
        let crash = &previous.crash;
        let mut head = vec![
            Words::new("✗ ", Tone::Bad),
            Words::new(short_pod(&target.pod).to_owned(), pod_tone(&target.pod)),
            Words::new(
                format!(
                    " {} · restarted {}× · last: {}",
                    crash.waiting.as_deref().unwrap_or("not ready"),
                    crash.restarts,
                    crash.last.as_deref().unwrap_or("unknown")
                ),
                Tone::Bad,
            ),
        ];
        match &previous.lines {
            None => {
                head.push(Words::dim(" · reading its previous container…"));
                rows.push(Row(head));
            }
            Some(Err(why)) => {
                head.push(Words::dim(format!(" · previous container: {why}")));
                rows.push(Row(head));
            }
            Some(Ok(lines)) => {
                rows.push(Row(head));
                let start = lines.len().saturating_sub(PREVIOUS_ROWS);
                for line in &lines[start..] {
                    let tone = if line.error { Tone::Bad } else { Tone::Dim };
                    rows.push(Row(vec![Words::dim("  previous │ "), Words::new(line.line.clone(), tone)]));
                }
            }
        }
    }
    rows
}

fn pane(view: &LogView, track: &'static str, rows: usize, now: jiff::Timestamp) -> Pane {
    let buffer = view.buffer(track);
    let pods = view.pods(track);
    let errors = buffer.errors_per_minute(track, now);
    let tone = if track == "canary" { Tone::Canary } else { Tone::Stable };
    let mut title = vec![
        Words::new(format!(" {track} "), tone).strong(),
        Words::plain(format!("· {} pods · ", pods.len())),
        Words::new(format!("{errors} errors/min"), if errors > 0 { Tone::Bad } else { Tone::Ok }),
    ];
    if buffer.dropped > 0 {
        title.push(Words::dim(format!(" · {} older lines let go", buffer.dropped)));
    }
    title.push(Words::plain(" "));
    let pods_row = if pods.is_empty() {
        Row::of("no pods of this track", Tone::Dim)
    } else {
        Row(pods.iter().flat_map(|(t, s)| stream_words(&t.pod, *s)).collect())
    };
    let crashes = crash_rows(view, track);
    let room = rows.saturating_sub(1 + crashes.len());
    let (shown, cursor) = view.window(track, room);
    let mut lines: Vec<Row> =
        shown.iter().enumerate().map(|(i, l)| line_row(l, cursor == Some(i) && !view.follow)).collect();
    if lines.is_empty() {
        let says = if view.filter.is_empty() { "no lines yet" } else { "no line matches the filter" };
        lines.push(Row::of(says, Tone::Dim));
    }
    Pane { title: Row(title), focused: view.split && view.focus == track, pods: pods_row, crashes, lines }
}

/// The screen for a body `rows` high, or `None` when no logs are open.
pub fn view(state: &State, rows: usize) -> Option<LogsView> {
    let view = state.logs.as_ref()?;
    let mut title = vec![
        Words::plain(" Logs · "),
        Words::plain(format!("{}/{}", view.env, view.app)).strong(),
        Words::plain(" · "),
    ];
    if view.paused {
        title.push(Words::new(format!("paused · {} lines held", view.held.len()), Tone::Warn).strong());
    } else if view.follow {
        title.push(Words::new("following", Tone::Ok));
    } else {
        let follow = key_for(Mode::Logs, Command::LogsFollow);
        title.push(Words::new(format!("reading back · {follow} follows again"), Tone::Warn));
    }
    if let Some(error) = &view.error {
        title.push(Words::new(format!(" · cannot follow: {error}"), Tone::Bad));
    }
    let filter = (view.typing || !view.filter.is_empty()).then(|| {
        let cursor = if view.typing { "▏" } else { "" };
        Row(vec![Words::dim(" filter: "), Words::plain(format!("{}{cursor}", view.filter)).strong()])
    });
    // The title, the filter, and each pane's border and pods line.
    let room = rows.saturating_sub(1 + usize::from(filter.is_some()) + 3);
    let panes = view.tracks().iter().map(|track| pane(view, track, room, state.clock)).collect();
    let expanded = view.expanded.as_ref().map(|line| {
        let time = line.time.map(|t| t.to_string()).unwrap_or_default();
        vec![
            Row(vec![
                Words::new(line.pod.clone(), pod_tone(&line.pod)).strong(),
                Words::dim(format!(" · {} · {} · {time}", line.container, line.track)),
            ]),
            Row::blank(),
            Row::of(line.line.clone(), if line.error { Tone::Bad } else { Tone::Plain }),
        ]
    });
    Some(LogsView { title: Row(title), panes, filter, expanded })
}

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let Some(view) = view(state, usize::from(area.height)) else { return };
    let filter_rows = u16::from(view.filter.is_some());
    let [title, body, filter] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(filter_rows)])
            .areas(area);
    frame.render_widget(Paragraph::new(text::line(&view.title)), title);
    let panes = u32::try_from(view.panes.len().max(1)).unwrap_or(1);
    let columns = Layout::horizontal(vec![Constraint::Ratio(1, panes); view.panes.len().max(1)]).split(body);
    for (pane, area) in view.panes.iter().zip(columns.iter()) {
        let mut block = Block::default().borders(Borders::ALL).title(text::line(&pane.title));
        if pane.focused {
            block = block.border_style(super::theme::BOLD);
        }
        let mut rows = vec![pane.pods.clone()];
        rows.extend(pane.crashes.iter().cloned());
        rows.extend(pane.lines.iter().cloned());
        frame.render_widget(Paragraph::new(text::lines(&rows)).block(block), *area);
    }
    if let Some(row) = &view.filter {
        frame.render_widget(Paragraph::new(text::line(row)), filter);
    }
    if let Some(rows) = &view.expanded {
        let popup = centered(body, 80, 10);
        frame.render_widget(Clear, popup);
        let close = key_for(Mode::Logs, Command::Back);
        let block =
            Block::default().borders(Borders::ALL).title(format!(" The whole line · {close} closes "));
        frame.render_widget(Paragraph::new(text::lines(rows)).block(block).wrap(Wrap { trim: false }), popup);
    }
}

fn centered(area: Rect, width_percent: u16, height: u16) -> Rect {
    let width = area.width * width_percent / 100;
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}
