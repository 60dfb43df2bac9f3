//! The log screen's state: the lines of one app's pods in one environment, kept per track in
//! bounded buffers, with what each pod's stream is doing and, for a crash-looping pod, what
//! its previous container said before it died. Pure: the follow that feeds it lives in the
//! cluster layer and arrives as [`LogEvent`]s.

use std::collections::BTreeMap;

use crate::cluster::logs::{LogEvent, StreamState};
use crate::logs::{Buffer, Crash, LogLine, Target};

/// A crash-looping pod's previous container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    pub crash: Crash,
    /// Its last lines, or why they could not be read; `None` while they are read.
    pub lines: Option<Result<Vec<LogLine>, String>>,
}

// Four keys, four independent switches: split, paused, following, typing.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct LogView {
    /// Which follow feeds it: events of an earlier one are dropped.
    pub session: u64,
    pub env: String,
    pub app: String,
    /// Canary and stable side by side; otherwise one pane.
    pub split: bool,
    pub stable: Buffer,
    pub canary: Buffer,
    /// Lines that arrived while paused, shown when the stream goes on.
    pub held: Buffer,
    pub paused: bool,
    /// The newest line stays in view; off while the operator reads back.
    pub follow: bool,
    /// Lines containing this (case-insensitive) are shown; empty shows all.
    pub filter: String,
    /// `filter` compiled once per change: a frame reads every buffered line through it.
    matcher: Option<regex::Regex>,
    pub typing: bool,
    /// The pane the cursor is in: `stable` or `canary`.
    pub focus: &'static str,
    /// The cursor, counted back from the newest shown line of the focused pane.
    pub back: usize,
    /// The line shown whole (Enter), until Esc.
    pub expanded: Option<LogLine>,
    pub targets: Vec<Target>,
    pub streams: BTreeMap<String, StreamState>,
    pub previous: BTreeMap<String, Previous>,
    /// Why the follow could not start.
    pub error: Option<String>,
}

impl LogView {
    pub fn new(session: u64, env: &str, app: &str, split: bool, capacity: usize) -> Self {
        Self {
            session,
            env: env.to_owned(),
            app: app.to_owned(),
            split,
            stable: Buffer::new(capacity),
            canary: Buffer::new(capacity),
            held: Buffer::new(capacity),
            paused: false,
            follow: true,
            filter: String::new(),
            matcher: None,
            typing: false,
            focus: "stable",
            back: 0,
            expanded: None,
            targets: Vec::new(),
            streams: BTreeMap::new(),
            previous: BTreeMap::new(),
            error: None,
        }
    }

    pub fn buffer(&self, track: &str) -> &Buffer {
        if track == "canary" { &self.canary } else { &self.stable }
    }

    /// The tracks shown, left to right.
    pub fn tracks(&self) -> &'static [&'static str] {
        if self.split { &["stable", "canary"] } else { &["stable"] }
    }

    /// The pods to follow changed: streams of gone pods are forgotten, crash-looping pods
    /// get a place for their previous lines. Whether anything changed.
    pub fn set_targets(&mut self, targets: Vec<Target>) -> bool {
        if targets == self.targets {
            return false;
        }
        self.streams.retain(|pod, _| targets.iter().any(|t| &t.pod == pod));
        self.previous.retain(|pod, _| targets.iter().any(|t| &t.pod == pod && t.crash.is_some()));
        for target in &targets {
            if let Some(crash) = &target.crash {
                let fresh = self.previous.get(&target.pod).is_none_or(|p| p.crash.restarts != crash.restarts);
                if fresh {
                    self.previous.insert(target.pod.clone(), Previous { crash: crash.clone(), lines: None });
                }
            }
        }
        self.targets = targets;
        true
    }

    /// Applies one event of the follow.
    pub fn apply(&mut self, event: LogEvent) {
        match event {
            LogEvent::Line(line) if self.paused => self.held.push(line),
            LogEvent::Line(line) => self.push(line),
            LogEvent::Stream { pod, state } => {
                if self.targets.iter().any(|t| t.pod == pod) {
                    self.streams.insert(pod, state);
                }
            }
            LogEvent::Previous { pod, lines } => {
                if let Some(previous) = self.previous.get_mut(&pod) {
                    previous.lines = Some(lines);
                }
            }
            LogEvent::Unavailable(why) => self.error = Some(why),
        }
    }

    fn push(&mut self, line: LogLine) {
        // Reading back, the cursor stays on its line as new ones arrive below it.
        if !self.follow && line.track == self.focus && self.matches(&line) {
            self.back += 1;
        }
        if line.track == "canary" && self.split {
            self.canary.push(line);
        } else {
            self.stable.push(line);
        }
    }

    pub fn matches(&self, line: &LogLine) -> bool {
        self.matcher.as_ref().is_none_or(|m| m.is_match(&line.line))
    }

    /// The filter as typed; the cursor goes back to the newest line it shows.
    pub fn set_filter(&mut self, filter: String) {
        self.matcher = (!filter.is_empty())
            .then(|| regex::RegexBuilder::new(&regex::escape(&filter)).case_insensitive(true).build().ok())
            .flatten();
        self.filter = filter;
        self.back = 0;
    }

    /// Whether `target` is drawn in `track`'s pane: without a canary pane, every pod is in the
    /// one pane there is.
    pub fn in_pane(&self, target: &Target, track: &str) -> bool {
        target.track == track || (!self.split && track == "stable")
    }

    /// `p`: hold new lines, or show the held ones and go on.
    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused {
            let held = std::mem::replace(&mut self.held, Buffer::new(self.stable.capacity()));
            for line in held.lines().cloned().collect::<Vec<_>>() {
                self.push(line);
            }
        }
    }

    /// `f`: keep the newest line in view, or stop where the cursor is.
    pub fn toggle_follow(&mut self) {
        self.follow = !self.follow;
        if self.follow {
            self.back = 0;
        }
    }

    /// The focused pane's lines that pass the filter, oldest first.
    pub fn shown(&self, track: &str) -> Vec<&LogLine> {
        self.buffer(track).lines().filter(|l| self.matches(l)).collect()
    }

    /// ↑ ↓: the cursor one line older or newer; reading back stops following.
    pub fn move_cursor(&mut self, older: bool) {
        let count = self.shown(self.focus).len();
        if older {
            self.back = (self.back + 1).min(count.saturating_sub(1));
            self.follow = false;
        } else {
            self.back = self.back.saturating_sub(1);
        }
    }

    /// Tab: the cursor to the other pane.
    pub fn switch_pane(&mut self) {
        if self.split {
            self.focus = if self.focus == "stable" { "canary" } else { "stable" };
            self.back = 0;
        }
    }

    /// The line under the cursor.
    pub fn selected(&self) -> Option<&LogLine> {
        let shown = self.shown(self.focus);
        shown.len().checked_sub(self.back + 1).and_then(|i| shown.get(i).copied())
    }

    /// The `rows` lines of `track` to draw, oldest first, and which of them is the cursor's.
    pub fn window(&self, track: &str, rows: usize) -> (Vec<&LogLine>, Option<usize>) {
        let shown = self.shown(track);
        let back = if track == self.focus { self.back } else { 0 };
        let end = shown.len().saturating_sub(back.saturating_sub(rows.saturating_sub(1)));
        let start = end.saturating_sub(rows);
        let cursor = (track == self.focus)
            .then(|| shown.len().saturating_sub(back + 1))
            .and_then(|c| (c >= start && c < end).then_some(c - start));
        (shown[start..end].to_vec(), cursor)
    }

    /// Pods of `track` and how their streams are doing, for the pane's header.
    pub fn pods(&self, track: &str) -> Vec<(&Target, Option<&StreamState>)> {
        self.targets
            .iter()
            .filter(|t| self.in_pane(t, track))
            .map(|t| (t, self.streams.get(&t.pod)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
