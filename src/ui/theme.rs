//! Styles shared by every screen, and [`Tone`]: what a piece of text's colour means, as the
//! view models say it; [`style`] is the one place a tone becomes a terminal style. Colour
//! always travels with a word or a symbol.

use ratatui::style::{Color, Modifier, Style};

pub const TITLE: Style = Style::new().fg(Color::Black).bg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const READONLY: Style = Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD);
pub const DEMO: Style = Style::new().fg(Color::Black).bg(Color::Magenta).add_modifier(Modifier::BOLD);
pub const KEY: Style = Style::new().fg(Color::Black).bg(Color::Gray);
pub const DIM: Style = Style::new().add_modifier(Modifier::DIM);
pub const OK: Style = Style::new().fg(Color::Green);
pub const WARN: Style = Style::new().fg(Color::Yellow);
pub const BAD: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
pub const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
pub const HEADING: Style = Style::new().add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED));
/// The canary screen's two tracks, the same in the gauge, the figures and the charts.
pub const STABLE: Color = Color::Cyan;
pub const CANARY: Color = Color::Magenta;

/// What a piece of text's colour says, independent of how the terminal draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// The terminal's own colours.
    Plain,
    /// Context that matters less than what it labels.
    Dim,
    Ok,
    /// Needs attention.
    Warn,
    /// Wrong, refused, or about to be lost.
    Bad,
    /// A key to press.
    Key,
    /// Where the cursor is.
    Selected,
    /// A table's or a section's heading.
    Heading,
    /// An environment's own colour, from config.
    Env(crate::config::Color),
    /// The canary screen's stable track.
    Stable,
    /// The canary screen's canary track.
    Canary,
}

/// How the terminal draws `tone`.
pub fn style(tone: Tone) -> Style {
    match tone {
        Tone::Plain => Style::new(),
        Tone::Dim => DIM,
        Tone::Ok => OK,
        Tone::Warn => WARN,
        Tone::Bad => BAD,
        Tone::Key => KEY,
        Tone::Selected => SELECTED,
        Tone::Heading => HEADING,
        Tone::Env(c) => Style::new().fg(color(c)),
        Tone::Stable => Style::new().fg(STABLE),
        Tone::Canary => Style::new().fg(CANARY),
    }
}

/// An environment's colour from config, as the terminal draws it.
pub fn color(color: crate::config::Color) -> Color {
    use crate::config::Color as C;
    match color {
        C::Red => Color::Red,
        C::Green => Color::Green,
        C::Yellow => Color::Yellow,
        C::Blue => Color::Blue,
        C::Magenta => Color::Magenta,
        C::Cyan => Color::Cyan,
        C::Gray => Color::Gray,
        C::White => Color::White,
        C::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

/// A text field as one line: its text with the cursor drawn where it is when `focused`, or
/// the placeholder, dimmed, while it is empty.
pub fn text_field(
    field: &crate::app::TextField,
    focused: bool,
    placeholder: &str,
) -> ratatui::text::Line<'static> {
    use ratatui::text::{Line, Span};
    let cursor = Style::new().add_modifier(Modifier::REVERSED);
    if field.is_empty() {
        let mut spans = Vec::new();
        if focused {
            spans.push(Span::styled(" ", cursor));
        }
        spans.push(Span::styled(placeholder.to_owned(), DIM));
        return Line::from(spans);
    }
    if !focused {
        return Line::raw(field.text().to_owned());
    }
    let before: String = field.text().chars().take(field.cursor()).collect();
    let at: String = field.text().chars().skip(field.cursor()).take(1).collect();
    let after: String = field.text().chars().skip(field.cursor() + 1).collect();
    Line::from(vec![
        Span::raw(before),
        Span::styled(if at.is_empty() { " ".to_owned() } else { at }, cursor),
        Span::raw(after),
    ])
}
