//! Keys as the console's state understands them: the terminal layer turns its own key events
//! into these, so nothing below it knows which terminal library is in use.

/// A key, without its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Tab,
    /// Shift-Tab.
    BackTab,
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
}

/// A key pressed, with Ctrl or not. Shift is in the character itself (`A`, `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyPress {
    pub key: Key,
    pub ctrl: bool,
}

impl KeyPress {
    pub const fn plain(key: Key) -> Self {
        Self { key, ctrl: false }
    }

    pub const fn ctrl(key: Key) -> Self {
        Self { key, ctrl: true }
    }

    pub const fn char(c: char) -> Self {
        Self::plain(Key::Char(c))
    }

    /// How the key is written in the help and on screen: `s`, `Enter`, `Ctrl-c`, `←`.
    pub fn label(self) -> String {
        let key = match self.key {
            Key::Char(' ') => "Space".to_owned(),
            Key::Char(c) => c.to_string(),
            Key::Left => "←".to_owned(),
            Key::Right => "→".to_owned(),
            Key::Up => "↑".to_owned(),
            Key::Down => "↓".to_owned(),
            Key::Enter => "Enter".to_owned(),
            Key::Esc => "Esc".to_owned(),
            Key::Tab => "Tab".to_owned(),
            Key::BackTab => "Shift-Tab".to_owned(),
            Key::Backspace => "Backspace".to_owned(),
            Key::Delete => "Delete".to_owned(),
            Key::Home => "Home".to_owned(),
            Key::End => "End".to_owned(),
        };
        if self.ctrl { format!("Ctrl-{key}") } else { key }
    }
}
