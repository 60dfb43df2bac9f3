//! The canary-versus-stable verdict: the seeds' rollback decision tree (error rate above 1%, response
//! time above twice the baseline, p95 above 500 ms) applied to one window's figures.
//!
//! Missing or unusable data is never a pass: an automated rollout must stop when it cannot see.

use std::fmt::Write as _;

use super::window::Figures;

/// Limits a canary must stay within.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Canary 5xx / all above this fails; 0.01 is 1%.
    pub max_error_rate: f64,
    /// Canary p95 above this multiple of stable's p95 fails.
    pub max_latency_ratio: f64,
    /// Canary p95 above this fails, whatever stable does.
    pub max_p95_seconds: f64,
    /// Fewer canary requests in the window than this is too little to judge.
    pub min_requests: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { max_error_rate: 0.01, max_latency_ratio: 2.0, max_p95_seconds: 0.5, min_requests: 50 }
    }
}

impl Thresholds {
    /// An app's `[apps.analysis]`, in the units the analysis computes with.
    pub fn of(analysis: &crate::config::Analysis) -> Self {
        Self {
            max_error_rate: analysis.max_error_rate,
            max_latency_ratio: analysis.max_latency_ratio,
            max_p95_seconds: analysis.max_p95_ms / 1000.0,
            min_requests: analysis.min_requests,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "verdict", content = "reasons", rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// Every limit the canary broke, in rule order.
    Fail(Vec<String>),
    NotEnoughData(Vec<String>),
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail(_) => "fail",
            Self::NotEnoughData(_) => "not enough data",
        }
    }

    /// Empty for a pass.
    pub fn reasons(&self) -> &[String] {
        match self {
            Self::Pass => &[],
            Self::Fail(reasons) | Self::NotEnoughData(reasons) => reasons,
        }
    }
}

/// Judges the canary against stable.
///
/// Below `min_requests` the verdict is `NotEnoughData` even when the few requests there are already
/// break a limit: a handful of requests is as likely to fail by chance as to pass by it. Without a
/// canary p95 (no histogram) the latency rules are skipped and only the error rate judges; without a
/// positive stable p95 the ratio rule is skipped. A NaN threshold (TOML accepts `nan`) would make its
/// comparison always false and so silently pass; it is reported as `NotEnoughData` instead.
pub fn analyze(canary: &Figures, stable: &Figures, t: &Thresholds) -> Verdict {
    let canary_values = [
        Some(canary.requests),
        Some(canary.errors),
        Some(canary.rps),
        Some(canary.span_seconds),
        canary.error_rate,
        canary.p50,
        canary.p95,
        canary.p99,
    ];
    if canary_values.into_iter().flatten().any(f64::is_nan) || canary.requests <= 0.0 {
        return no_traffic();
    }
    let Some(error_rate) = canary.error_rate else {
        return no_traffic();
    };
    let limits = [
        ("max_error_rate", t.max_error_rate),
        ("max_latency_ratio", t.max_latency_ratio),
        ("max_p95_seconds", t.max_p95_seconds),
    ];
    if let Some((name, _)) = limits.iter().find(|(_, v)| v.is_nan()) {
        return Verdict::NotEnoughData(vec![format!("threshold {name} is not a number")]);
    }
    if canary.requests < t.min_requests as f64 {
        return Verdict::NotEnoughData(vec![format!(
            "{:.0} canary requests in the window, {} needed",
            canary.requests.floor(),
            t.min_requests
        )]);
    }

    let mut reasons = Vec::new();
    if error_rate > t.max_error_rate {
        reasons.push(format!("error rate {} above {}", percent(error_rate), percent(t.max_error_rate)));
    }
    if let Some(p95) = canary.p95 {
        if let Some(base) = stable.p95.filter(|b| b.is_finite() && *b > 0.0)
            && p95 > t.max_latency_ratio * base
        {
            reasons.push(format!(
                "p95 {} is {}× stable's {} (limit {}×)",
                millis(p95),
                ratio(p95 / base, t.max_latency_ratio),
                millis(base),
                t.max_latency_ratio
            ));
        }
        if p95 > t.max_p95_seconds {
            reasons.push(format!("p95 {} above {}", millis(p95), millis(t.max_p95_seconds)));
        }
    }
    if reasons.is_empty() { Verdict::Pass } else { Verdict::Fail(reasons) }
}

fn no_traffic() -> Verdict {
    Verdict::NotEnoughData(vec!["no traffic to the canary".to_owned()])
}

fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

fn millis(seconds: f64) -> String {
    format!("{:.0} ms", seconds * 1000.0)
}

/// One decimal, unless rounding would make a ratio just over the limit read as at or under it
/// ("2.0× (limit 2×)"); then as many more as it takes, up to three.
fn ratio(value: f64, limit: f64) -> String {
    let mut out = String::new();
    for decimals in 1..=3 {
        out.clear();
        let _ = write!(out, "{value:.decimals$}");
        if out.parse::<f64>().is_ok_and(|shown| shown > limit) {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jiff::Timestamp;

    use super::super::exposition::{Names, parse};
    use super::super::window::{Series, Track};
    use super::*;

    fn figures(requests: f64, error_rate: f64, p95: Option<f64>) -> Figures {
        let errors = (requests * error_rate).round();
        Figures {
            requests,
            errors,
            rps: requests / 60.0,
            error_rate: (requests > 0.0).then(|| errors / requests),
            p50: p95.map(|p| p / 2.0),
            p95,
            p99: p95.map(|p| p * 1.5),
            pods: 2,
            span_seconds: 60.0,
        }
    }

    fn stable() -> Figures {
        figures(5000.0, 0.002, Some(0.110))
    }

    fn judge(canary: &Figures) -> Verdict {
        analyze(canary, &stable(), &Thresholds::default())
    }

    #[test]
    fn pass() {
        let v = judge(&figures(1000.0, 0.002, Some(0.120)));
        assert_eq!(v, Verdict::Pass);
        assert_eq!((v.word(), v.reasons().len()), ("pass", 0));
    }

    #[test]
    fn fail_on_error_rate() {
        let v = judge(&figures(1000.0, 0.04, Some(0.120)));
        assert_eq!(v, Verdict::Fail(vec!["error rate 4.00% above 1.00%".into()]));
        assert_eq!(v.word(), "fail");
        // Exactly at the limit is within it.
        assert_eq!(judge(&figures(1000.0, 0.01, Some(0.120))), Verdict::Pass);
    }

    #[test]
    fn fail_on_latency_ratio() {
        let v = judge(&figures(1000.0, 0.0, Some(0.260)));
        assert_eq!(v, Verdict::Fail(vec!["p95 260 ms is 2.4× stable's 110 ms (limit 2×)".into()]));
        // Just over the limit still reads as over it.
        let v = judge(&figures(1000.0, 0.0, Some(0.2211)));
        assert_eq!(v.reasons(), ["p95 221 ms is 2.01× stable's 110 ms (limit 2×)"]);
        assert_eq!(judge(&figures(1000.0, 0.0, Some(0.220))), Verdict::Pass);
    }

    #[test]
    fn fail_on_absolute_p95() {
        let slow_stable = figures(5000.0, 0.0, Some(0.4));
        let v = analyze(&figures(1000.0, 0.0, Some(0.620)), &slow_stable, &Thresholds::default());
        assert_eq!(v, Verdict::Fail(vec!["p95 620 ms above 500 ms".into()]));
    }

    #[test]
    fn multiple_reasons_at_once() {
        let v = judge(&figures(1000.0, 0.05, Some(0.620)));
        assert_eq!(
            v.reasons(),
            [
                "error rate 5.00% above 1.00%",
                "p95 620 ms is 5.6× stable's 110 ms (limit 2×)",
                "p95 620 ms above 500 ms",
            ]
        );
        assert_eq!(v.word(), "fail");
    }

    #[test]
    fn not_enough_data_below_min_requests_even_when_failing() {
        let expected = Verdict::NotEnoughData(vec!["12 canary requests in the window, 50 needed".into()]);
        assert_eq!(judge(&figures(12.0, 0.0, Some(0.1))), expected);
        assert_eq!(judge(&figures(12.0, 0.5, Some(3.0))), expected);
        assert_eq!(expected.word(), "not enough data");
        assert_eq!(
            judge(&figures(49.9, 0.0, Some(0.1))).reasons()[0],
            "49 canary requests in the window, 50 needed"
        );
        assert_eq!(judge(&figures(50.0, 0.0, Some(0.1))), Verdict::Pass);
    }

    #[test]
    fn no_traffic_is_not_enough_data() {
        let expected = Verdict::NotEnoughData(vec!["no traffic to the canary".into()]);
        assert_eq!(judge(&Figures::default()), expected);
        // Requests without an error rate is inconsistent: still not a pass.
        assert_eq!(judge(&Figures { error_rate: None, ..figures(1000.0, 0.0, Some(0.1)) }), expected);
        let none = Thresholds { min_requests: 0, ..Thresholds::default() };
        assert_eq!(analyze(&Figures::default(), &stable(), &none), expected);
    }

    #[test]
    fn nan_is_not_enough_data() {
        let expected = Verdict::NotEnoughData(vec!["no traffic to the canary".into()]);
        let good = figures(1000.0, 0.0, Some(0.1));
        assert_eq!(judge(&Figures { requests: f64::NAN, ..good.clone() }), expected);
        assert_eq!(judge(&Figures { error_rate: Some(f64::NAN), ..good.clone() }), expected);
        assert_eq!(judge(&Figures { p95: Some(f64::NAN), ..good.clone() }), expected);
        assert_eq!(judge(&Figures { rps: f64::NAN, ..good.clone() }), expected);
        let nan_limit = Thresholds { max_error_rate: f64::NAN, ..Thresholds::default() };
        let v = analyze(&good, &stable(), &nan_limit);
        assert_eq!(v.word(), "not enough data");
        assert_eq!(v.reasons(), ["threshold max_error_rate is not a number"]);
    }

    #[test]
    fn stable_without_data_skips_the_ratio_rule() {
        let t = Thresholds::default();
        let canary = figures(1000.0, 0.0, Some(0.4));
        assert_eq!(analyze(&canary, &Figures::default(), &t), Verdict::Pass);
        assert_eq!(analyze(&canary, &figures(100.0, 0.0, Some(0.0)), &t), Verdict::Pass);
        assert_eq!(analyze(&canary, &figures(100.0, 0.0, Some(0.1)), &t).word(), "fail");
        // No canary histogram: only the error rate can judge.
        assert_eq!(analyze(&figures(1000.0, 0.0, None), &stable(), &t), Verdict::Pass);
    }

    /// Cumulative counts of one pod, the demo's way: `render_header` then `render_samples` with the pod's
    /// labels first. `buckets` are the 11 finite bounds of `demo::traffic::BUCKETS`; +Inf is `total`.
    fn exposition(pod: &str, total: u64, errors: u64, buckets: [u64; 11]) -> String {
        const BOUNDS: [&str; 11] =
            ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"];
        let labels = format!("namespace=\"shop\",pod=\"{pod}\"");
        let mut out = String::from(
            "# HELP http_requests_total Total HTTP requests served, by status code.\n\
             # TYPE http_requests_total counter\n\
             # HELP http_request_duration_seconds HTTP request latency in seconds.\n\
             # TYPE http_request_duration_seconds histogram\n",
        );
        let _ = writeln!(out, "http_requests_total{{{labels},status=\"200\"}} {}", total - errors);
        if errors > 0 {
            let _ = writeln!(out, "http_requests_total{{{labels},status=\"500\"}} {errors}");
        }
        for (le, count) in BOUNDS.iter().zip(buckets) {
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {count}");
        }
        let _ = writeln!(out, "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "http_request_duration_seconds_sum{{{labels}}} {}", total as f64 * 0.1);
        let _ = writeln!(out, "http_request_duration_seconds_count{{{labels}}} {total}");
        out
    }

    /// Two scrapes a minute apart; between them the pod served 1000 requests with `errors` 5xx, and the
    /// bucket increases are `steps` (1000 at and above 1 s). Starts from a pod that had already served
    /// traffic, so the figures must come from increases, not totals.
    fn feed(series: &mut Series, pod: &str, track: Track, errors: u64, steps: [u64; 7]) {
        let names = Names {
            requests: "http_requests_total".into(),
            duration: "http_request_duration_seconds".into(),
        };
        let base = [0, 10, 100, 400, 800, 900, 950, 1000, 1000, 1000, 1000];
        let mut after = base;
        for (i, step) in steps.iter().chain([1000; 4].iter()).enumerate() {
            after[i] += step;
        }
        let t0 = Timestamp::from_second(1_700_000_000).expect("valid");
        let t1 = Timestamp::from_second(1_700_000_060).expect("valid");
        let first = parse(&exposition(pod, 1000, 3, base), &names).expect("parses");
        let second = parse(&exposition(pod, 2000, 3 + errors, after), &names).expect("parses");
        series.record(pod, track, t0, first);
        series.record(pod, track, t1, second);
    }

    fn demo_pair(canary_errors: u64, canary_steps: [u64; 7]) -> (Figures, Figures) {
        let now = Timestamp::from_second(1_700_000_060).expect("valid");
        let mut series = Series::new(Duration::from_secs(120));
        // Stable v1.2.0: 0.2% errors, p95 = 0.1 + 0.15 × (950 − 946) / (976 − 946) = 0.12 s.
        feed(&mut series, "app-stable", Track::Stable, 2, [0, 5, 100, 500, 946, 976, 1000]);
        feed(&mut series, "app-canary", Track::Canary, canary_errors, canary_steps);
        (series.figures(Track::Canary, now), series.figures(Track::Stable, now))
    }

    #[test]
    fn demo_api_canary_fails_on_errors() {
        // v1.3.1-rc.1: 4% errors, p95 = 0.25 + 0.25 × (950 − 948) / (998 − 948) = 0.26 s.
        let (canary, stable) = demo_pair(40, [0, 2, 50, 300, 500, 948, 998]);
        assert_eq!((canary.requests, canary.errors, canary.pods), (1000.0, 40.0, 1));
        assert!(canary.p95.is_some_and(|p| (p - 0.26).abs() < 1e-9), "{canary:?}");
        assert!(stable.p95.is_some_and(|p| (p - 0.12).abs() < 1e-9), "{stable:?}");
        let v = analyze(&canary, &stable, &Thresholds::default());
        assert_eq!(v.word(), "fail");
        assert_eq!(
            v.reasons(),
            ["error rate 4.00% above 1.00%", "p95 260 ms is 2.2× stable's 120 ms (limit 2×)"]
        );
    }

    #[test]
    fn demo_web_canary_passes() {
        // v1.3.0: 0.2% errors, p95 = 0.1 + 0.15 × (950 − 948) / (978 − 948) = 0.11 s.
        let (canary, stable) = demo_pair(2, [0, 5, 100, 500, 948, 978, 1000]);
        assert!(canary.p95.is_some_and(|p| (p - 0.11).abs() < 1e-9), "{canary:?}");
        assert_eq!(canary.error_rate, Some(0.002));
        assert_eq!(analyze(&canary, &stable, &Thresholds::default()), Verdict::Pass);
    }
}
