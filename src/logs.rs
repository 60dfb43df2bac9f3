//! Pod logs beside the metrics: each line as the API server's `pods/log` gives it (with
//! `timestamps=true`), which pod, container and track it came from, and whether it is an
//! error. Merging streams by time, as stern does, a bounded buffer per stream, and the errors a
//! minute per track are pure here; reading the streams is the cluster layer's.

pub mod buffer;
pub mod errors;
pub mod targets;

use serde::Serialize;

pub use buffer::Buffer;
pub use errors::ErrorPatterns;
pub use targets::{Crash, Target, targets};

/// One log line. Field names are part of the command-line contract (`opsdeck logs --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub pod: String,
    pub container: String,
    /// `stable` or `canary`.
    pub track: &'static str,
    /// When the container wrote it, as the kubelet stamped it.
    pub time: Option<jiff::Timestamp>,
    pub line: String,
    pub error: bool,
}

impl LogLine {
    /// A line as `pods/log` gave it with `timestamps=true`, read against `patterns`.
    pub fn parse(raw: &str, target: &Target, patterns: &ErrorPatterns) -> Self {
        let (time, line) = split_timestamp(raw);
        Self {
            pod: target.pod.clone(),
            container: target.container.clone(),
            track: target.track,
            time,
            error: patterns.is_error(line),
            line: line.to_owned(),
        }
    }
}

/// Why a pod's log could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// `pods/log` is not allowed for these credentials.
    Forbidden(String),
    /// The API server did not answer, or not in time.
    Unreachable(String),
    /// The server answered for this pod: no previous container, still starting, gone.
    Unavailable(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Forbidden(m) | Self::Unreachable(m) | Self::Unavailable(m) => f.write_str(m),
        }
    }
}

/// What a read of several pods' recent logs came to: the checklist's "No errors in pod logs"
/// and the rollback screen's "why" read the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// How far back it read.
    pub minutes: u32,
    /// Pods whose log was read.
    pub pods: usize,
    /// Lines read, errors or not.
    pub lines: usize,
    /// Pods whose read stopped at the tail limit: their lines cover less than the window.
    pub capped: usize,
    /// The error lines, each pod's oldest first.
    pub errors: Vec<LogLine>,
    /// Pods whose log could not be read, and why.
    pub unread: Vec<Unread>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub pod: String,
    pub why: ReadError,
}

/// `2026-12-03T10:00:00.123456789Z message` → the stamp and the message. A line without a
/// stamp (a stream asked for without timestamps, a runtime's odd line) keeps all its text.
pub fn split_timestamp(raw: &str) -> (Option<jiff::Timestamp>, &str) {
    match raw.split_once(' ') {
        Some((stamp, rest)) => match stamp.parse::<jiff::Timestamp>() {
            Ok(time) => (Some(time), rest),
            Err(_) => (None, raw),
        },
        // A stamp and nothing else: an empty line.
        None => match raw.parse::<jiff::Timestamp>() {
            Ok(time) => (Some(time), ""),
            Err(_) => (None, raw),
        },
    }
}

/// The part of a pod's name that tells it from its siblings: `web-canary-7d9f6c5b4-x7k2p` →
/// `x7k2p`, the prefix stern colours each line with, short enough to leave the line its width.
pub fn short_pod(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(_, suffix)| suffix)
}

/// Lines of several streams in time order; lines without a time keep their place after the
/// line before them in their own stream. Stable: equal times keep the streams' order.
pub fn merge(streams: Vec<Vec<LogLine>>) -> Vec<LogLine> {
    let mut keyed: Vec<(Option<jiff::Timestamp>, usize, usize, LogLine)> = Vec::new();
    for (s, stream) in streams.into_iter().enumerate() {
        let mut last = None;
        for (i, line) in stream.into_iter().enumerate() {
            let key = line.time.or(last);
            last = key;
            keyed.push((key, s, i, line));
        }
    }
    keyed.sort_by_key(|(time, stream, index, _)| (*time, *stream, *index));
    keyed.into_iter().map(|(_, _, _, line)| line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pod: &str, time: Option<&str>, text: &str) -> LogLine {
        LogLine {
            pod: pod.into(),
            container: "web".into(),
            track: "stable",
            time: time.map(|t| t.parse().expect("time")),
            line: text.into(),
            error: false,
        }
    }

    #[test]
    fn the_kubelets_stamp_is_split_off_and_an_unstamped_line_kept_whole() {
        let (time, text) = split_timestamp("2026-12-03T10:00:00.123456789Z GET /cart 200");
        assert_eq!(time.map(|t| t.to_string()).as_deref(), Some("2026-12-03T10:00:00.123456789Z"));
        assert_eq!(text, "GET /cart 200");
        assert_eq!(split_timestamp("panic: runtime error"), (None, "panic: runtime error"));
        assert_eq!(short_pod("web-canary-7d9f6c5b4-x7k2p"), "x7k2p");
        assert_eq!(short_pod("standalone"), "standalone");
    }

    #[test]
    fn streams_merge_by_time_and_an_unstamped_line_stays_behind_its_predecessor() {
        let a = vec![
            line("a", Some("2026-12-03T10:00:01Z"), "a1"),
            line("a", None, "a1 continued"),
            line("a", Some("2026-12-03T10:00:04Z"), "a4"),
        ];
        let b = vec![
            line("b", Some("2026-12-03T10:00:02Z"), "b2"),
            line("b", Some("2026-12-03T10:00:03Z"), "b3"),
        ];
        let merged: Vec<String> = merge(vec![a, b]).into_iter().map(|l| l.line).collect();
        assert_eq!(merged, ["a1", "a1 continued", "b2", "b3", "a4"]);
    }
}
