//! The checklist walk-through: progress by section, every item with its state, the selected
//! item's evidence, note and waiver, what still blocks the sign-off, and what each key does.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::theme;
use crate::app::State;
use crate::app::checklist::{InputKind, Walk};
use crate::checklist::report::State as ItemState;
use crate::checklist::{Status, checks};

fn style_of(state: ItemState) -> Style {
    match state {
        ItemState::Passed | ItemState::Done => theme::OK,
        ItemState::Failed => theme::BAD,
        ItemState::Waived => theme::WARN,
        ItemState::NotApplicable | ItemState::Open => theme::DIM,
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, env: usize) {
    let Some(e) = state.envs.get(env) else { return };
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(Style::new().fg(theme::color(e.color)))
        .title(Line::from(vec![
            Span::styled(" Checklist ", Style::new().add_modifier(Modifier::BOLD)),
            Span::styled(
                format!("{} ", e.name),
                Style::new().fg(theme::color(e.color)).add_modifier(Modifier::BOLD),
            ),
        ]));
    let Some(walk) = state.walks.get(&e.name) else {
        let text = match state.checklist_pending.get(&e.name) {
            Some(Some(error)) => {
                Line::styled(format!("✖ the checklist could not be read: {error}"), theme::BAD)
            }
            _ => Line::styled("reading the checklist and the cluster's objects…", theme::DIM),
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let typing = walk.input.is_some();
    let head_text = head_lines(walk);
    let width = usize::from(inner.width.max(1));
    let head_rows: usize = head_text.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    let [head, body, bottom] = Layout::vertical([
        Constraint::Length(head_rows as u16),
        Constraint::Min(3),
        Constraint::Length(if typing { 4 } else { 2 }),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(head_text).wrap(Wrap { trim: false }), head);
    let [list, detail] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(body);
    render_list(frame, list, walk);
    frame.render_widget(
        Paragraph::new(detail_lines(walk))
            .wrap(Wrap { trim: false })
            .block(Block::bordered().border_type(BorderType::Plain).border_style(theme::DIM).title(" item ")),
        detail,
    );
    render_bottom(frame, bottom, walk);
}

fn head_lines(walk: &Walk) -> Vec<Line<'static>> {
    let r = &walk.report;
    let version = r.checklist_version.as_deref().map(|v| format!(" v{v}")).unwrap_or_default();
    let targets: Vec<String> = r.targets.iter().map(|(a, v)| format!("{a} {v}")).collect();
    let checked = match (walk.checking, r.checked_at) {
        (true, _) => "checking…".to_owned(),
        (false, Some(at)) => format!("checked {}", at.strftime("%H:%M:%S UTC")),
        (false, None) => "not checked yet".to_owned(),
    };
    let s = r.summary();
    let progress = Line::from(vec![
        Span::raw(format!("{} items: ", r.items.len())),
        Span::styled(format!("{} pass", s.passed), theme::OK),
        Span::raw(" · "),
        Span::styled(format!("{} done", s.done), theme::OK),
        Span::raw(" · "),
        Span::styled(format!("{} fail", s.failed), if s.failed > 0 { theme::BAD } else { theme::DIM }),
        Span::raw(" · "),
        Span::styled(format!("{} waived", s.waived), theme::WARN),
        Span::raw(format!(" · {} open · {} n/a", s.open, s.not_applicable)),
    ]);
    let sign = match (&r.signed_by, r.signed_at, &walk.saved) {
        (Some(by), Some(at), saved) => Line::styled(
            format!(
                "✔ signed by {by} at {}{}",
                at.strftime("%Y-%m-%d %H:%M UTC"),
                saved.as_ref().map(|(_, md)| format!(" · {}", md.display())).unwrap_or_default()
            ),
            theme::OK,
        ),
        _ if s.blocking > 0 => Line::styled(
            format!("sign-off blocked by {} required item(s) failed or open (n: next one)", s.blocking),
            theme::WARN,
        ),
        _ => Line::styled("every required item is done: S signs it off", theme::OK),
    };
    vec![
        Line::from(vec![
            Span::styled(format!("{}{version}", r.checklist), Style::new().add_modifier(Modifier::BOLD)),
            Span::styled(
                format!(
                    " · about to deploy: {} · {checked}",
                    if targets.is_empty() { "?".into() } else { targets.join(", ") }
                ),
                theme::DIM,
            ),
        ]),
        progress,
        sign,
    ]
}

fn render_list(frame: &mut Frame, area: Rect, walk: &Walk) {
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    let mut section = "";
    for (i, item) in walk.report.items.iter().enumerate() {
        if item.section != section {
            section = &item.section;
            let in_section: Vec<_> = walk.report.items.iter().filter(|x| x.section == section).collect();
            let finished = in_section
                .iter()
                .filter(|x| !matches!(x.state(), ItemState::Open | ItemState::Failed))
                .count();
            lines.push(Line::styled(
                format!("{section} ({finished}/{})", in_section.len()),
                Style::new().add_modifier(Modifier::BOLD),
            ));
        }
        let state = item.state();
        if i == walk.cursor {
            cursor_line = lines.len();
        }
        let tag = match (&item.auto, item.required) {
            (Some(_), false) => " auto, advisory",
            (Some(_), true) => " auto",
            (None, false) => " advisory",
            (None, true) => "",
        };
        let row = Line::from(vec![
            Span::styled(format!(" {} {:<6}", state.symbol(), state.word()), style_of(state)),
            Span::raw(item.text.clone()),
            Span::styled(tag, theme::DIM),
        ]);
        lines.push(if i == walk.cursor { row.style(theme::SELECTED) } else { row });
    }
    // Keep the cursor in view, a third of the way down.
    let height = usize::from(area.height);
    let skip = cursor_line.saturating_sub(height / 3).min(lines.len().saturating_sub(height));
    let visible: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(visible), area);
}

fn detail_lines(walk: &Walk) -> Vec<Line<'static>> {
    let Some(item) = walk.selected() else { return Vec::new() };
    let state = item.state();
    let mut lines = vec![
        Line::styled(item.text.clone(), Style::new().add_modifier(Modifier::BOLD)),
        Line::styled(item.section.clone(), theme::DIM),
        Line::from(vec![
            Span::styled(
                format!("{} {}", state.symbol(), state.word()),
                style_of(state).add_modifier(Modifier::BOLD),
            ),
            Span::raw(if item.required { " · required" } else { " · advisory" }),
        ]),
    ];
    match &item.auto {
        Some(check) => {
            lines.push(Line::styled(
                format!("checked by {check}: {}", checks::describe(check).unwrap_or("?")),
                theme::DIM,
            ));
            if let Some(outcome) = &item.outcome {
                lines.push(Line::raw(""));
                for e in &outcome.evidence {
                    let style = match e.status {
                        Status::Pass => theme::OK,
                        Status::Fail => theme::BAD,
                        Status::NotApplicable => theme::DIM,
                    };
                    lines.push(Line::from(vec![
                        Span::styled(format!("{} ", e.status.word()), style),
                        Span::raw(e.object.clone()),
                    ]));
                    lines.push(Line::styled(format!("   {}: {}", e.field, e.detail), theme::DIM));
                }
            }
        }
        None => lines.push(Line::styled("manual: Space acknowledges it once it is true", theme::DIM)),
    }
    if let Some(w) = &item.waived {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("waived: {w}"), theme::WARN));
    }
    if let Some(n) = &item.note {
        lines.push(Line::raw(""));
        lines.push(Line::raw(format!("note: {n}")));
    }
    lines
}

fn render_bottom(frame: &mut Frame, area: Rect, walk: &Walk) {
    let key = |k: &str, says: &str| {
        vec![Span::styled(format!(" {k} "), theme::KEY), Span::raw(format!(" {says}  "))]
    };
    if let Some((kind, text)) = &walk.input {
        let label = match kind {
            InputKind::Note => "Note on this item:",
            InputKind::Waiver => "Why is this failure accepted? (recorded in the report)",
            InputKind::Signer => "Signed off by (your name):",
        };
        let [l, field, hint] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Length(2)])
                .areas(area);
        frame.render_widget(Paragraph::new(Line::styled(label, theme::WARN)), l);
        let placeholder = match kind {
            InputKind::Waiver => "why this failure is accepted for this release",
            InputKind::Note => "a note for the record",
            InputKind::Signer => "your name",
        };
        frame.render_widget(Paragraph::new(theme::text_field(text, true, placeholder)), field);
        let mut spans = key("Enter", "done");
        spans.extend(key("Esc", "cancel"));
        let mut lines = vec![Line::from(spans)];
        if let Some(e) = &walk.error {
            lines.insert(0, Line::styled(format!("✖ {e}"), theme::BAD));
        }
        frame.render_widget(Paragraph::new(lines), hint);
        return;
    }
    let mut spans = key("↑↓", "move");
    spans.extend(key("n", "next blocking"));
    let manual = walk.selected().is_some_and(|i| i.auto.is_none());
    if manual {
        spans.extend(key("Space", "acknowledge"));
    }
    if walk.selected().is_some_and(|i| i.state() == ItemState::Failed) {
        spans.extend(key("w", "waive with a reason"));
    }
    spans.extend(key("e", "note"));
    spans.extend(key("r", "check again"));
    spans.extend(key("S", "sign off"));
    spans.extend(key("Esc", "back (kept)"));
    let mut lines = vec![Line::from(spans)];
    if let Some(e) = &walk.error {
        lines.insert(0, Line::styled(format!("✖ {e}"), theme::BAD));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
