//! How request figures read on screen: error rate, p95, sparklines and verdict marks, the
//! same on the overview and the canary screen.

use super::theme::Tone;
use crate::metrics::{Figures, Verdict};

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// "0.20%", or "—" without traffic (never "NaN%").
pub fn error_rate(figures: &Figures) -> String {
    figures.error_rate.map_or_else(|| "—".to_owned(), |r| format!("{:.2}%", r * 100.0))
}

/// "120ms", or "—" without observations.
pub fn p95(figures: &Figures) -> String {
    millis(figures.p95)
}

pub fn millis(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "—".to_owned(), |s| format!("{:.0}ms", s * 1000.0))
}

/// The last `width` points of a series as block characters, scaled to their own maximum; a
/// gap (no data) is a space, so "no traffic" never looks like "zero errors".
pub fn spark(values: &[Option<f64>], width: usize) -> String {
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail.iter().flatten().copied().fold(0.0_f64, f64::max);
    tail.iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if max <= 0.0 => BLOCKS[0],
            Some(v) => {
                let level = ((v / max) * (BLOCKS.len() - 1) as f64).round() as usize;
                BLOCKS[level.min(BLOCKS.len() - 1)]
            }
        })
        .collect()
}

/// kubectl's short age: 45s, 12m, 3h, 5d; `?` when unknown.
pub fn age(now: jiff::Timestamp, then: Option<jiff::Timestamp>) -> String {
    let Some(then) = then else { return "?".into() };
    match now.duration_since(then).as_secs().max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// What a pod is doing, in kubectl's words, and how alarming that is.
pub fn pod_status(pod: &crate::health::inventory::PodInfo) -> (String, Tone) {
    let status = if pod.terminating {
        "Terminating".to_owned()
    } else {
        pod.waiting_reason
            .clone()
            .unwrap_or_else(|| if pod.ready { "Running".into() } else { pod.phase.clone() })
    };
    let tone = match status.as_str() {
        "Running" => Tone::Plain,
        "CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull" => Tone::Bad,
        _ => Tone::Warn,
    };
    (status, tone)
}

/// Symbol, word and tone of a canary verdict: the symbol and word say what the colour says.
pub fn verdict_mark(verdict: &Verdict) -> (&'static str, &'static str, Tone) {
    match verdict {
        Verdict::Pass => ("✓", "pass", Tone::Ok),
        Verdict::Fail(_) => ("✗", "fail", Tone::Bad),
        Verdict::NotEnoughData(_) => ("…", "not enough data", Tone::Warn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_scales_to_its_maximum_and_leaves_gaps_blank() {
        assert_eq!(spark(&[Some(0.0), Some(0.5), Some(1.0), None, Some(1.0)], 10), "▁▅█ █");
        assert_eq!(spark(&[Some(0.0), Some(0.0)], 10), "▁▁", "all zero is a floor, not a gap");
        assert_eq!(spark(&[Some(1.0), Some(2.0), Some(3.0)], 2), "▆█", "only the newest points");
    }

    #[test]
    fn no_traffic_reads_as_a_dash() {
        let f = Figures::default();
        assert_eq!((error_rate(&f), p95(&f)), ("—".to_owned(), "—".to_owned()));
        let f = Figures { error_rate: Some(0.04), p95: Some(0.26), ..Figures::default() };
        assert_eq!((error_rate(&f), p95(&f)), ("4.00%".to_owned(), "260ms".to_owned()));
    }
}
