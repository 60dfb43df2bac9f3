//! The checklist walk-through: progress by section, every item with its state, the selected
//! item's evidence, note and waiver, what still blocks the sign-off, and what each key does.
//! [`view`] reads the walk (its keys named by the checklist's keymap sections); [`render`]
//! keeps the cursor in view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::text::{self, KeyHint, Row, Words};
use super::theme::{self, Tone};
use crate::app::checklist::{InputKind, Walk};
use crate::app::{Command, Mode, State, TextField, key_for};
use crate::checklist::report::State as ItemState;
use crate::checklist::{Status, checks};
use crate::config::Color;

#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistView {
    pub env: String,
    pub color: Color,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// The checklist is being read, or could not be: in words.
    Reading(Row),
    Walk(WalkView),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WalkView {
    pub head: Vec<Row>,
    pub list: Vec<ListRow>,
    /// The list row the cursor is on.
    pub cursor_row: usize,
    pub detail: Vec<Row>,
    pub bottom: Bottom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRow {
    Section(String),
    Item { mark: Words, text: String, tag: &'static str, selected: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Bottom {
    /// What each key does, under the last error if there is one.
    Keys { error: Option<String>, keys: Vec<KeyHint> },
    /// A note, a waiver's reason or the signer's name being typed.
    Typing {
        label: &'static str,
        field: TextField,
        placeholder: &'static str,
        error: Option<String>,
        keys: Vec<KeyHint>,
    },
}

fn tone_of(state: ItemState) -> Tone {
    match state {
        ItemState::Passed | ItemState::Done => Tone::Ok,
        ItemState::Failed => Tone::Bad,
        ItemState::Waived => Tone::Warn,
        ItemState::NotApplicable | ItemState::Open => Tone::Dim,
    }
}

fn key(mode: Mode, command: Command, says: &str) -> KeyHint {
    KeyHint::new(key_for(mode, command), says)
}

pub fn view(state: &State, env: usize) -> Option<ChecklistView> {
    let e = state.envs.get(env)?;
    let body = match state.walks.get(&e.name) {
        None => Body::Reading(match state.checklist_pending.get(&e.name) {
            Some(Some(error)) => Row::of(format!("✖ the checklist could not be read: {error}"), Tone::Bad),
            _ => Row::of("reading the checklist and the cluster's objects…", Tone::Dim),
        }),
        Some(walk) => {
            let (list, cursor_row) = list(walk);
            Body::Walk(WalkView {
                head: head(
                    walk,
                    &state.fleet.env_config(&e.name).map(|c| c.signoffs.clone()).unwrap_or_default(),
                ),
                list,
                cursor_row,
                detail: detail(walk),
                bottom: bottom(walk),
            })
        }
    };
    Some(ChecklistView { env: e.name.clone(), color: e.color, body })
}

/// The sign-off block after the first signature: who still signs, and how.
fn block(walk: &Walk, roles: &[String]) -> String {
    if roles.is_empty() {
        return String::new();
    }
    let missing = crate::team::signoff::missing(&walk.report, roles);
    if missing.is_empty() {
        return format!(" · sign-off complete ({} of {})", roles.len(), roles.len());
    }
    format!(
        " · sign-off {} of {}: {} still to sign, each as another Kubernetes user (opsdeck checklist --env {} --cosign)",
        roles.len() - missing.len(),
        roles.len(),
        missing.join(", "),
        walk.report.env
    )
}

fn head(walk: &Walk, roles: &[String]) -> Vec<Row> {
    let r = &walk.report;
    let version = r.checklist_version.as_deref().map(|v| format!(" v{v}")).unwrap_or_default();
    let targets: Vec<String> = r.targets.iter().map(|(a, v)| format!("{a} {v}")).collect();
    let checked = match (walk.checking, r.checked_at) {
        (true, _) => "checking…".to_owned(),
        (false, Some(at)) => format!("checked {}", at.strftime("%H:%M:%S UTC")),
        (false, None) => "not checked yet".to_owned(),
    };
    let s = r.summary();
    let progress = Row::from(vec![
        Words::plain(format!("{} items: ", r.items.len())),
        Words::new(format!("{} pass", s.passed), Tone::Ok),
        Words::plain(" · "),
        Words::new(format!("{} done", s.done), Tone::Ok),
        Words::plain(" · "),
        Words::new(format!("{} fail", s.failed), if s.failed > 0 { Tone::Bad } else { Tone::Dim }),
        Words::plain(" · "),
        Words::new(format!("{} waived", s.waived), Tone::Warn),
        Words::plain(format!(" · {} open · {} n/a", s.open, s.not_applicable)),
    ]);
    let sign = match (&r.signed_by, r.signed_at, &walk.saved) {
        (Some(by), Some(at), saved) => Row::of(
            format!(
                "✔ signed by {by} at {}{}{}",
                at.strftime("%Y-%m-%d %H:%M UTC"),
                saved.as_ref().map(|(_, md)| format!(" · {}", md.display())).unwrap_or_default(),
                block(walk, roles)
            ),
            Tone::Ok,
        ),
        _ if s.blocking > 0 => Row::of(
            format!(
                "sign-off blocked by {} required item(s) failed or open ({}: next one)",
                s.blocking,
                key_for(Mode::Checklist, Command::NextBlocking)
            ),
            Tone::Warn,
        ),
        _ => Row::of(
            format!(
                "every required item is done: {} signs it off{}",
                key_for(Mode::Checklist, Command::Sign),
                if roles.is_empty() {
                    String::new()
                } else {
                    format!(" as {}, the first of {}", roles[0], roles.join(", "))
                }
            ),
            Tone::Ok,
        ),
    };
    vec![
        Row::from(vec![
            Words::plain(format!("{}{version}", r.checklist)).strong(),
            Words::dim(format!(
                " · about to deploy: {} · {checked}",
                if targets.is_empty() { "?".into() } else { targets.join(", ") }
            )),
        ]),
        progress,
        sign,
    ]
}

/// The items under their section headings, and the row the cursor is on.
fn list(walk: &Walk) -> (Vec<ListRow>, usize) {
    let mut rows = Vec::new();
    let mut cursor_row = 0;
    let mut section = "";
    for (i, item) in walk.report.items.iter().enumerate() {
        if item.section != section {
            section = &item.section;
            let in_section: Vec<_> = walk.report.items.iter().filter(|x| x.section == section).collect();
            let finished = in_section
                .iter()
                .filter(|x| !matches!(x.state(), ItemState::Open | ItemState::Failed))
                .count();
            rows.push(ListRow::Section(format!("{section} ({finished}/{})", in_section.len())));
        }
        let state = item.state();
        if i == walk.cursor {
            cursor_row = rows.len();
        }
        let tag = match (&item.auto, item.required) {
            (Some(_), false) => " auto, advisory",
            (Some(_), true) => " auto",
            (None, false) => " advisory",
            (None, true) => "",
        };
        rows.push(ListRow::Item {
            mark: Words::new(format!(" {} {:<6}", state.symbol(), state.word()), tone_of(state)),
            text: item.text.clone(),
            tag,
            selected: i == walk.cursor,
        });
    }
    (rows, cursor_row)
}

fn detail(walk: &Walk) -> Vec<Row> {
    let Some(item) = walk.selected() else { return Vec::new() };
    let state = item.state();
    let mut lines = vec![
        Row::plain(item.text.clone()).strong(),
        Row::of(item.section.clone(), Tone::Dim),
        Row::from(vec![
            Words::new(format!("{} {}", state.symbol(), state.word()), tone_of(state)).strong(),
            Words::plain(if item.required { " · required" } else { " · advisory" }),
        ]),
    ];
    match &item.auto {
        Some(check) => {
            lines.push(Row::of(
                format!("checked by {check}: {}", checks::describe(check).unwrap_or("?")),
                Tone::Dim,
            ));
            if let Some(outcome) = &item.outcome {
                lines.push(Row::blank());
                for e in &outcome.evidence {
                    let tone = match e.status {
                        Status::Pass => Tone::Ok,
                        Status::Fail => Tone::Bad,
                        Status::NotApplicable => Tone::Dim,
                    };
                    lines.push(Row::from(vec![
                        Words::new(format!("{} ", e.status.word()), tone),
                        Words::plain(e.object.clone()),
                    ]));
                    lines.push(Row::of(format!("   {}: {}", e.field, e.detail), Tone::Dim));
                }
            }
        }
        None => lines.push(Row::of(
            format!(
                "manual: {} acknowledges it once it is true",
                key_for(Mode::Checklist, Command::ToggleItem)
            ),
            Tone::Dim,
        )),
    }
    if let Some(w) = &item.waived {
        lines.push(Row::blank());
        lines.push(Row::of(format!("waived: {w}"), Tone::Warn));
    }
    if let Some(n) = &item.note {
        lines.push(Row::blank());
        lines.push(Row::plain(format!("note: {n}")));
    }
    lines
}

fn bottom(walk: &Walk) -> Bottom {
    let error = walk.error.clone();
    if let Some((kind, field)) = &walk.input {
        let label = match kind {
            InputKind::Note => "Note on this item:",
            InputKind::Waiver => "Why is this failure accepted? (recorded in the report)",
            InputKind::Signer => "Signed off by (your name):",
        };
        let placeholder = match kind {
            InputKind::Waiver => "why this failure is accepted for this release",
            InputKind::Note => "a note for the record",
            InputKind::Signer => "your name",
        };
        let keys = vec![
            key(Mode::ChecklistInput, Command::Confirm, "done"),
            key(Mode::ChecklistInput, Command::Cancel, "cancel"),
        ];
        return Bottom::Typing { label, field: field.clone(), placeholder, error, keys };
    }
    let at = |command| key_for(Mode::Checklist, command);
    let mut keys = vec![
        KeyHint::new(format!("{}{}", at(Command::PrevApp), at(Command::NextApp)), "move"),
        key(Mode::Checklist, Command::NextBlocking, "next blocking"),
    ];
    if walk.selected().is_some_and(|i| i.auto.is_none()) {
        keys.push(key(Mode::Checklist, Command::ToggleItem, "acknowledge"));
    }
    if walk.selected().is_some_and(|i| i.state() == ItemState::Failed) {
        keys.push(key(Mode::Checklist, Command::Waive, "waive with a reason"));
    }
    keys.push(key(Mode::Checklist, Command::Note, "note"));
    keys.push(key(Mode::Checklist, Command::Recheck, "check again"));
    keys.push(key(Mode::Checklist, Command::Sign, "sign off"));
    keys.push(key(Mode::Checklist, Command::Back, "back (kept)"));
    Bottom::Keys { error, keys }
}

pub fn render(frame: &mut Frame, area: Rect, view: &ChecklistView) {
    let env_style = theme::style(Tone::Env(view.color));
    let block =
        Block::bordered().border_type(BorderType::Thick).border_style(env_style).title(Line::from(vec![
            Span::styled(" Checklist ", theme::BOLD),
            Span::styled(format!("{} ", view.env), env_style.add_modifier(Modifier::BOLD)),
        ]));
    let walk = match &view.body {
        Body::Reading(text) => {
            frame.render_widget(Paragraph::new(text::line(text)).block(block), area);
            return;
        }
        Body::Walk(walk) => walk,
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let typing = matches!(walk.bottom, Bottom::Typing { .. });
    let head_text = text::lines(&walk.head);
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
        Paragraph::new(text::lines(&walk.detail))
            .wrap(Wrap { trim: false })
            .block(Block::bordered().border_type(BorderType::Plain).border_style(theme::DIM).title(" item ")),
        detail,
    );
    render_bottom(frame, bottom, &walk.bottom);
}

fn render_list(frame: &mut Frame, area: Rect, walk: &WalkView) {
    let lines: Vec<Line> = walk
        .list
        .iter()
        .map(|row| match row {
            ListRow::Section(title) => Line::styled(title.clone(), theme::BOLD),
            ListRow::Item { mark, text, tag, selected } => {
                let line = Line::from(vec![
                    text::span(mark),
                    Span::raw(text.clone()),
                    Span::styled(*tag, theme::DIM),
                ]);
                if *selected { line.style(theme::SELECTED) } else { line }
            }
        })
        .collect();
    // Keep the cursor in view, a third of the way down.
    let height = usize::from(area.height);
    let skip = walk.cursor_row.saturating_sub(height / 3).min(lines.len().saturating_sub(height));
    let visible: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(visible), area);
}

fn render_bottom(frame: &mut Frame, area: Rect, bottom: &Bottom) {
    let error_line = |e: &String| Line::styled(format!("✖ {e}"), theme::BAD);
    match bottom {
        Bottom::Typing { label, field, placeholder, error, keys } => {
            let [l, field_area, hint] =
                Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Length(2)])
                    .areas(area);
            frame.render_widget(Paragraph::new(Line::styled(*label, theme::WARN)), l);
            frame.render_widget(Paragraph::new(theme::text_field(field, true, placeholder)), field_area);
            let mut lines = vec![Line::from(text::key_spans(keys))];
            if let Some(e) = error {
                lines.insert(0, error_line(e));
            }
            frame.render_widget(Paragraph::new(lines), hint);
        }
        Bottom::Keys { error, keys } => {
            let mut lines = vec![Line::from(text::key_spans(keys))];
            if let Some(e) = error {
                lines.insert(0, error_line(e));
            }
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    fn state() -> State {
        let config = crate::config::parse(
            Path::new("t.toml"),
            r#"
            [[environments]]
            name = "production"
            context = "production"
            protection = "typed"
            [[apps]]
            name = "web"
            deployment = "web"
            "#,
        )
        .expect("valid");
        let mut s =
            State::new(Arc::new(crate::config::Fleet::resolve(config)), false, jiff::Timestamp::UNIX_EPOCH);
        let checklist = crate::checklist::model::parse("production", crate::checklist::model::PRODUCTION)
            .expect("checklist");
        s.walks.insert("production".into(), Walk::new(checklist, "production", s.clock));
        s
    }

    fn walk(s: &State) -> WalkView {
        let Some(ChecklistView { body: Body::Walk(walk), .. }) = view(s, 0) else { panic!("a walk-through") };
        walk
    }

    #[test]
    fn the_keys_and_the_hints_are_the_keymaps() {
        let mut s = state();
        let Bottom::Keys { keys, .. } = walk(&s).bottom else { panic!("keys") };
        let at = |command| key_for(Mode::Checklist, command);
        let shown: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        let move_keys = format!("{}{}", at(Command::PrevApp), at(Command::NextApp));
        assert_eq!(shown[..3], [move_keys.as_str(), &at(Command::NextBlocking), &at(Command::ToggleItem)]);
        assert_eq!(shown.last(), Some(&at(Command::Back).as_str()));
        let head = walk(&s).head[2].text();
        assert!(head.ends_with(&format!("({}: next one)", at(Command::NextBlocking))), "{head}");
        let detail = walk(&s).detail[3].text();
        assert_eq!(detail, format!("manual: {} acknowledges it once it is true", at(Command::ToggleItem)));

        if let Some(w) = s.walks.get_mut("production") {
            w.input = Some((InputKind::Note, TextField::default()));
        }
        let Bottom::Typing { keys, label, .. } = walk(&s).bottom else { panic!("typing") };
        assert_eq!(label, "Note on this item:");
        assert_eq!(
            keys,
            [
                KeyHint::new(key_for(Mode::ChecklistInput, Command::Confirm), "done"),
                KeyHint::new(key_for(Mode::ChecklistInput, Command::Cancel), "cancel"),
            ]
        );
    }
}
