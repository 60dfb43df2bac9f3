//! A one-line text field: what the operator types into a confirmation, a note or a filter,
//! with a cursor. Plain state; the screen draws it.

use super::keys::{Key, KeyPress};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    text: String,
    /// In characters, 0..=len.
    cursor: usize,
}

impl TextField {
    pub fn with_text(text: &str) -> Self {
        Self { text: text.to_owned(), cursor: text.chars().count() }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where the cursor is, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text.char_indices().nth(chars).map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies one key; whether the field changed or its cursor moved.
    pub fn input(&mut self, press: KeyPress) -> bool {
        if press.ctrl {
            return false;
        }
        let len = self.text.chars().count();
        match press.key {
            Key::Char(c) => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            Key::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            Key::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            Key::Left if self.cursor > 0 => self.cursor -= 1,
            Key::Right if self.cursor < len => self.cursor += 1,
            Key::Home => self.cursor = 0,
            Key::End => self.cursor = len,
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &[KeyPress]) -> TextField {
        let mut field = TextField::default();
        for key in keys {
            field.input(*key);
        }
        field
    }

    #[test]
    fn typing_editing_and_moving_keep_characters_whole() {
        let c = KeyPress::char;
        let k = |key| KeyPress::plain(key);
        let field =
            typed(&[c('h'), c('é'), c('t'), k(Key::Left), k(Key::Backspace), c('o'), k(Key::End), c('!')]);
        assert_eq!(field.text(), "hot!");
        assert_eq!(field.cursor(), 4);
        let field = typed(&[c('a'), c('b'), k(Key::Home), k(Key::Delete), k(Key::Backspace)]);
        assert_eq!((field.text(), field.cursor()), ("b", 0));
        assert!(!typed(&[]).clone().input(KeyPress::ctrl(Key::Char('c'))), "Ctrl keys are not text");
    }
}
