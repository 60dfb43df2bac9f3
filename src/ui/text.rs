//! Display-ready text as the view models hold it: words with the [`Tone`] they are drawn in,
//! whole lines of them, and the keys a screen offers. No ratatui type lives in a view, so a
//! view can be built and read in a test without a terminal; the conversions at the bottom are
//! the renderers' one way from these to ratatui's text.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::theme::{self, Tone};

/// Words drawn in one tone, bold when `strong`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub text: String,
    pub tone: Tone,
    pub strong: bool,
}

impl Words {
    pub fn new(text: impl Into<String>, tone: Tone) -> Self {
        Self { text: text.into(), tone, strong: false }
    }

    pub fn plain(text: impl Into<String>) -> Self {
        Self::new(text, Tone::Plain)
    }

    pub fn dim(text: impl Into<String>) -> Self {
        Self::new(text, Tone::Dim)
    }

    #[must_use]
    pub fn strong(mut self) -> Self {
        self.strong = true;
        self
    }
}

/// One line of words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row(pub Vec<Words>);

impl Row {
    /// A line in a single tone. Like ratatui's `Line::raw`, a line break in `text` joins
    /// the parts rather than drawing a control character.
    pub fn of(text: impl Into<String>, tone: Tone) -> Self {
        Self(text.into().lines().map(|part| Words::new(part, tone)).collect())
    }

    pub fn plain(text: impl Into<String>) -> Self {
        Self::of(text, Tone::Plain)
    }

    pub fn blank() -> Self {
        Self::plain("")
    }

    /// The same line, bold.
    #[must_use]
    pub fn strong(self) -> Self {
        Self(self.0.into_iter().map(Words::strong).collect())
    }

    pub fn push(&mut self, words: Words) {
        self.0.push(words);
    }

    /// The line as the terminal would read it, tones aside (the command line prints some rows
    /// the console draws, in the same words).
    pub fn text(&self) -> String {
        self.0.iter().map(|w| w.text.as_str()).collect()
    }
}

impl From<Vec<Words>> for Row {
    fn from(words: Vec<Words>) -> Self {
        Self(words)
    }
}

impl From<Words> for Row {
    fn from(words: Words) -> Self {
        Self(vec![words])
    }
}

/// A key the screen offers and what it does there; the key's label is the keymap's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHint {
    pub key: String,
    pub says: String,
}

impl KeyHint {
    pub fn new(key: impl Into<String>, says: impl Into<String>) -> Self {
        Self { key: key.into(), says: says.into() }
    }
}

/// Every key of the binding for `command` in `mode`, in the keymap's order (`n`, `Esc`): for
/// the places that name each key that answers, not only the first.
pub fn keys_for(mode: crate::app::Mode, command: crate::app::Command) -> Vec<String> {
    crate::app::KEYMAP
        .iter()
        .find(|b| b.mode == mode && b.command == command)
        .map(|b| b.keys.iter().map(|k| k.label()).collect())
        .filter(|keys: &Vec<String>| !keys.is_empty())
        .unwrap_or_else(|| vec![crate::app::key_for(mode, command)])
}

pub fn span(words: &Words) -> Span<'static> {
    let mut style = theme::style(words.tone);
    if words.strong {
        style = style.add_modifier(Modifier::BOLD);
    }
    Span::styled(words.text.clone(), style)
}

pub fn line(row: &Row) -> Line<'static> {
    Line::from(row.0.iter().map(span).collect::<Vec<_>>())
}

pub fn lines(rows: &[Row]) -> Vec<Line<'static>> {
    rows.iter().map(line).collect()
}

/// ` s  step 10% → 25%  ` for each key: the key on its own background, then what it does.
pub fn key_spans(hints: &[KeyHint]) -> Vec<Span<'static>> {
    hints
        .iter()
        .flat_map(|h| [Span::styled(format!(" {} ", h.key), theme::KEY), Span::raw(format!(" {}  ", h.says))])
        .collect()
}
