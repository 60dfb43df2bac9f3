//! A stream's lines, bounded: a follow that runs for hours keeps the newest `capacity` lines
//! and counts what it let go, never more. The errors a minute per track are read from it.

use std::collections::VecDeque;

use super::LogLine;

/// The default number of lines kept per stream.
pub const DEFAULT_CAPACITY: usize = 5_000;

#[derive(Debug, Clone)]
pub struct Buffer {
    capacity: usize,
    lines: VecDeque<LogLine>,
    /// Lines let go to stay within `capacity`.
    pub dropped: u64,
}

impl Buffer {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self { capacity, lines: VecDeque::with_capacity(capacity.min(1024)), dropped: 0 }
    }

    /// Adds a line in time order: streams of several pods arrive interleaved, each with its
    /// own backlog first, and are read merged, as stern shows them. A line without a time, or
    /// not older than the newest, goes last.
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.dropped += 1;
        }
        let at = match line.time {
            Some(time) => {
                let newer = self.lines.iter().rev().take_while(|l| l.time.is_some_and(|t| t > time)).count();
                self.lines.len() - newer
            }
            None => self.lines.len(),
        };
        self.lines.insert(at, line);
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> {
        self.lines.iter()
    }

    /// Error lines of `track` stamped within the minute before `now`: "the canary logs 40
    /// errors a minute, stable 2".
    pub fn errors_per_minute(&self, track: &str, now: jiff::Timestamp) -> usize {
        let since = now - jiff::SignedDuration::from_mins(1);
        self.lines
            .iter()
            .rev()
            .take_while(|l| l.time.is_none_or(|t| t > since))
            .filter(|l| l.error && l.track == track && l.time.is_some())
            .count()
    }
}

impl Default for Buffer {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(second: i64, track: &'static str, error: bool) -> LogLine {
        LogLine {
            pod: "web-1".into(),
            container: "web".into(),
            track,
            time: Some(jiff::Timestamp::from_second(1_795_000_000 + second).expect("time")),
            line: format!("line {second}"),
            error,
        }
    }

    #[test]
    fn a_fast_stream_keeps_the_newest_lines_and_counts_the_rest() {
        let mut buffer = Buffer::new(100);
        for i in 0..10_000 {
            buffer.push(line(i, "stable", false));
        }
        assert_eq!((buffer.len(), buffer.dropped), (100, 9_900));
        assert_eq!(buffer.lines().next().map(|l| l.line.as_str()), Some("line 9900"));
    }

    #[test]
    fn errors_a_minute_count_the_last_minute_of_one_track() {
        let mut buffer = Buffer::default();
        for i in 0..120 {
            buffer.push(line(i, if i % 2 == 0 { "canary" } else { "stable" }, i % 3 == 0));
        }
        let now = jiff::Timestamp::from_second(1_795_000_120).expect("now");
        // Seconds 61..=119: errors on multiples of 3 (and even for canary, odd for stable).
        let canary = (61..120).filter(|i| i % 3 == 0 && i % 2 == 0).count();
        let stable = (61..120).filter(|i| i % 3 == 0 && i % 2 == 1).count();
        assert_eq!(buffer.errors_per_minute("canary", now), canary);
        assert_eq!(buffer.errors_per_minute("stable", now), stable);
    }
}
