//! A checklist walk-through as the console holds it: the checklist, the record being filled
//! in, the cursor, and the text being typed (a note, a waiver's reason, the signer's name).
//! Pure: the automated checks' objects arrive from the service, the signed report leaves for it.

use std::path::PathBuf;

use super::text::TextField;

use crate::checklist::report::State;
use crate::checklist::{Checklist, Objects, Report};

/// What is being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Note,
    Waiver,
    Signer,
}

#[derive(Debug, Clone)]
pub struct Walk {
    pub checklist: Checklist,
    pub report: Report,
    /// Index into `report.items`.
    pub cursor: usize,
    /// The automated checks are running.
    pub checking: bool,
    /// Why the last check or sign-off did not happen.
    pub error: Option<String>,
    pub input: Option<(InputKind, TextField)>,
    /// Where the signed report was saved (JSON, Markdown).
    pub saved: Option<(PathBuf, PathBuf)>,
}

impl Walk {
    pub fn new(checklist: Checklist, env: &str, now: jiff::Timestamp) -> Self {
        let report = Report::new(&checklist, env, now);
        Self { checklist, report, cursor: 0, checking: false, error: None, input: None, saved: None }
    }

    /// The automated checks' objects arrived: results, evidence and the target versions.
    pub fn checked(&mut self, objects: &Objects) {
        self.report.check(&self.checklist, objects);
        self.checking = false;
        self.error = None;
    }

    pub fn selected(&self) -> Option<&crate::checklist::ItemRecord> {
        self.report.items.get(self.cursor)
    }

    pub fn down(&mut self) {
        self.cursor = (self.cursor + 1).min(self.report.items.len().saturating_sub(1));
    }

    pub fn up(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// The next item after the cursor that still blocks sign-off (wrapping round).
    pub fn next_blocking(&mut self) {
        let n = self.report.items.len();
        if let Some(i) =
            (1..=n).map(|k| (self.cursor + k) % n.max(1)).find(|i| self.report.items[*i].blocks())
        {
            self.cursor = i;
        }
    }

    /// Space: a manual item acknowledged, or no longer.
    pub fn toggle(&mut self) -> Result<(), String> {
        let item = self.report.items.get_mut(self.cursor).ok_or("no item")?;
        if item.auto.is_some() {
            return Err(
                "an automated item is decided by its check: r checks again, w waives a failure".into()
            );
        }
        item.acknowledged = !item.acknowledged;
        Ok(())
    }

    /// Starts typing; a waiver only for a failed automated item.
    pub fn start(&mut self, kind: InputKind, signer: &str) -> Result<(), String> {
        let item = self.report.items.get(self.cursor).ok_or("no item")?;
        let text = match kind {
            InputKind::Waiver if item.state() != State::Failed => {
                return Err("only a failed check can be waived".into());
            }
            InputKind::Waiver => TextField::default(),
            InputKind::Note => TextField::with_text(item.note.as_deref().unwrap_or_default()),
            InputKind::Signer => {
                if self.report.checked_at.is_none() {
                    return Err("the automated checks have not run yet".into());
                }
                let blocking = self.report.summary().blocking;
                if blocking > 0 {
                    return Err(format!(
                        "{blocking} required item(s) still fail or are open (n jumps to the next)"
                    ));
                }
                TextField::with_text(signer)
            }
        };
        self.input = Some((kind, text));
        Ok(())
    }

    /// Enter on the text: the note or waiver recorded, or the report signed. `Ok(true)` when it
    /// was signed (and is to be saved).
    pub fn finish(&mut self, now: jiff::Timestamp) -> Result<bool, String> {
        let Some((kind, text)) = self.input.take() else { return Ok(false) };
        let value = text.text().trim().to_owned();
        let item = self.report.items.get_mut(self.cursor);
        match (kind, item) {
            (InputKind::Note, Some(item)) => {
                item.note = (!value.is_empty()).then_some(value);
                Ok(false)
            }
            (InputKind::Waiver, Some(item)) => {
                if value.is_empty() {
                    self.input = Some((kind, text));
                    return Err("a waiver needs a reason".into());
                }
                item.waived = Some(value);
                Ok(false)
            }
            (InputKind::Signer, _) => match self.report.sign(&value, now) {
                Ok(()) => Ok(true),
                Err(e) => {
                    self.input = Some((kind, text));
                    Err(e)
                }
            },
            (_, None) => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::Objects;

    fn walk() -> Walk {
        let text = "name = \"t\"\n[[sections]]\ntitle = \"s\"\n[[sections.items]]\ntext = \"QA signed off\"\n[[sections.items]]\ntext = \"nodes\"\nauto = \"nodes-ready\"\n[[sections.items]]\ntext = \"an HPA\"\nauto = \"hpa\"\nrequired = false\n";
        let checklist = crate::checklist::model::parse("t", text).expect("checklist");
        let mut walk = Walk::new(checklist, "production", jiff::Timestamp::UNIX_EPOCH);
        // No nodes readable: the required automated item fails.
        let objects =
            Objects { env: "production".into(), nodes_error: Some("forbidden".into()), ..Objects::default() };
        walk.checked(&objects);
        walk
    }

    fn typed(walk: &mut Walk, text: &str) {
        if let Some((_, field)) = &mut walk.input {
            for c in text.chars() {
                field.input(crate::app::KeyPress::char(c));
            }
        }
    }

    #[test]
    fn sign_off_waits_for_acknowledgements_and_waivers_with_reasons() {
        let mut w = walk();
        assert_eq!(w.report.summary().blocking, 2, "the manual item is open and the check fails");
        assert!(
            w.start(InputKind::Signer, "alice").is_err(),
            "nothing is signed while anything required blocks"
        );
        w.toggle().expect("acknowledge the manual item");
        w.down();
        assert!(w.toggle().is_err(), "an automated item is not acknowledged by hand");
        w.start(InputKind::Waiver, "alice").expect("a failed check can be waived");
        assert!(w.finish(jiff::Timestamp::UNIX_EPOCH).is_err(), "not without a reason");
        typed(&mut w, "nodes are read by the platform team's dashboard");
        assert_eq!(w.finish(jiff::Timestamp::UNIX_EPOCH), Ok(false));
        w.down();
        assert!(
            w.start(InputKind::Waiver, "alice").is_err(),
            "the advisory item did not fail: nothing to waive"
        );
        assert_eq!(w.report.summary().blocking, 0, "an advisory failure does not block");
        w.start(InputKind::Signer, "alice").expect("ready");
        assert_eq!(w.finish(jiff::Timestamp::UNIX_EPOCH), Ok(true), "signed, to be saved");
        assert_eq!(w.report.signed_by.as_deref(), Some("alice"));
    }
}
