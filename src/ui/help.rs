//! The help overlay, generated from the keymap. [`view`] orders the sections for the screen
//! it was opened on; [`render`] flows them into two columns when one would not fit, so every
//! section shows even at 80x24.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::{Command, KEYMAP, Mode, Screen, State, key_for};

const SECTIONS: [(Mode, &str); 20] = [
    (Mode::Global, "Everywhere"),
    (Mode::Overview, "Overview"),
    (Mode::Canary, "Canary"),
    (Mode::Rollback, "Rollback"),
    (Mode::Checklist, "Checklist"),
    (Mode::Logs, "Logs"),
    (Mode::Guard, "Guard"),
    (Mode::LogsFilter, "Typing a log filter"),
    (Mode::ChecklistInput, "Typing a note, waiver or name"),
    (Mode::CanaryWeight, "Typing a weight"),
    (Mode::ConfirmYesNo, "Confirmation"),
    (Mode::ConfirmTyped, "Typed confirmation"),
    (Mode::Result, "Result"),
    (Mode::Audit, "Audit log"),
    (Mode::Approvals, "Approvals"),
    (Mode::ApprovalsReason, "Typing why a request is denied"),
    (Mode::Drill, "Environment detail"),
    (Mode::DrillFilter, "Typing a filter"),
    (Mode::Help, "This help"),
    (Mode::Busy, "While an operation runs"),
];

/// Columns are at least this wide (and at most `COLUMN_MAX`); as many as the terminal holds.
const COLUMN_WIDTH: u16 = 59;
const COLUMN_MAX: u16 = 66;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpView {
    pub title: String,
    /// The screen's own sections first, then every other.
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    /// Each binding's keys (`↓ / j`) and what it does.
    pub bindings: Vec<(String, &'static str)>,
    /// A line after the bindings, for a section whose keys are not its own.
    pub note: Option<String>,
}

fn section(mode: Mode, title: &str) -> Section {
    let bindings = KEYMAP
        .iter()
        .filter(|b| b.mode == mode)
        .map(|b| (b.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" / "), b.help))
        .collect();
    // While an operation runs only the global quit answers, and the section says which key.
    let note = (mode == Mode::Busy).then(|| format!("only {}", key_for(Mode::Busy, Command::Quit)));
    // The y/n confirmation is told apart from the typed one by its two answers' keys.
    let title = if mode == Mode::ConfirmYesNo {
        format!(
            "{title} ({}/{})",
            key_for(Mode::ConfirmYesNo, Command::Confirm),
            key_for(Mode::ConfirmYesNo, Command::Cancel)
        )
    } else {
        title.to_owned()
    };
    Section { title, bindings, note }
}

/// The help for the screen it was opened on: that screen's keys first, then every other
/// section.
pub fn view(state: &State) -> HelpView {
    let first: &[Mode] = match &state.screen {
        Screen::Overview => &[Mode::Global, Mode::Overview],
        Screen::Canary { .. } => &[Mode::Global, Mode::Canary, Mode::CanaryWeight],
        Screen::Rollback { .. } => &[Mode::Global, Mode::Rollback],
        Screen::Checklist { .. } => &[Mode::Global, Mode::Checklist, Mode::ChecklistInput],
        Screen::Logs { .. } => &[Mode::Global, Mode::Logs, Mode::LogsFilter],
        Screen::Guard { .. } => &[Mode::Global, Mode::Guard],
    };
    let mut ordered: Vec<(Mode, &'static str)> =
        first.iter().filter_map(|m| SECTIONS.iter().find(|(s, _)| s == m).copied()).collect();
    ordered.extend(SECTIONS.iter().filter(|(m, _)| !first.contains(m)).copied());
    let title = format!(
        " Keys · {} or {} closes ",
        key_for(Mode::Help, Command::Back),
        key_for(Mode::Help, Command::ToggleHelp)
    );
    HelpView { title, sections: ordered.into_iter().map(|(mode, title)| section(mode, title)).collect() }
}

fn section_lines(section: &Section) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(section.title.clone(), theme::DIM)];
    for (keys, help) in &section.bindings {
        lines.push(Line::from(vec![Span::styled(format!("  {keys:<19}"), theme::OK), Span::raw(*help)]));
    }
    if let Some(note) = &section.note {
        lines.push(Line::raw(format!("  {note}")));
    }
    lines
}

/// Every section that fits; the ones that do not are named at the bottom, never silently
/// dropped.
pub fn render(frame: &mut Frame, area: Rect, view: &HelpView) {
    let columns = usize::from((area.width.saturating_sub(2) / COLUMN_WIDTH).clamp(1, 3));
    // Two lines are kept for naming what does not fit.
    let rows = usize::from(area.height.saturating_sub(4));
    let mut split: Vec<Vec<Line>> = vec![Vec::new(); columns];
    let mut left_out = Vec::new();
    let mut column = 0;
    for section in &view.sections {
        let lines = section_lines(section);
        while column < columns && !split[column].is_empty() && split[column].len() + lines.len() > rows {
            column += 1;
        }
        if column >= columns || lines.len() > rows {
            left_out.push(section.title.as_str());
            continue;
        }
        split[column].extend(lines);
        split[column].push(Line::raw(""));
    }
    let used = split.iter().filter(|c| !c.is_empty()).count().max(1);
    split.truncate(used);
    let body = split.iter().map(Vec::len).max().unwrap_or(0) as u16;
    let height = body + 2 + 2 * u16::from(!left_out.is_empty());
    let column_width = (area.width.saturating_sub(2) / columns as u16).min(COLUMN_MAX);
    let width = (column_width * used as u16 + 2).min(area.width);
    let [vertical] =
        Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(vertical);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().border_type(BorderType::Rounded).title(view.title.clone());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [columns_area, more] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(u16::from(!left_out.is_empty()))])
            .areas(inner);
    let areas = Layout::horizontal(vec![Constraint::Fill(1); used]).split(columns_area);
    for (lines, area) in split.into_iter().zip(areas.iter()) {
        frame.render_widget(Paragraph::new(lines), *area);
    }
    if !left_out.is_empty() {
        let text = format!("larger terminal for: {}", left_out.join(", "));
        frame.render_widget(Paragraph::new(Line::styled(text, theme::WARN)).wrap(Wrap { trim: true }), more);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_screens_own_keys_come_first_and_every_key_is_the_keymaps() {
        let config = crate::config::parse(
            Path::new("t.toml"),
            r#"
            [[environments]]
            name = "a"
            context = "a"
            [[apps]]
            name = "web"
            deployment = "web"
            "#,
        )
        .expect("valid");
        let state =
            State::new(Arc::new(crate::config::Fleet::resolve(config)), false, jiff::Timestamp::UNIX_EPOCH);
        let view = view(&state);
        let titles: Vec<&str> = view.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles[..2], ["Everywhere", "Overview"]);
        assert_eq!(titles.len(), SECTIONS.len(), "every section, once");
        let yes_no = format!(
            "Confirmation ({}/{})",
            key_for(Mode::ConfirmYesNo, Command::Confirm),
            key_for(Mode::ConfirmYesNo, Command::Cancel)
        );
        assert!(titles.contains(&yes_no.as_str()), "{titles:?}");
        let busy = view.sections.iter().find(|s| s.title == "While an operation runs").expect("busy");
        assert_eq!(busy.note, Some(format!("only {}", key_for(Mode::Busy, Command::Quit))));
    }
}
