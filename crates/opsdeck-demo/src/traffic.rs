//! Deterministic simulation of one demo-fleet pod's HTTP request metrics (request counts by status and a
//! latency histogram drawn from a log-normal profile) and their Prometheus text exposition.

use std::fmt::Write as _;

/// How one version of an app behaves under load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Fraction of requests answered with a 5xx (0.04 = 4%).
    pub error_rate: f64,
    /// Median and 95th-percentile latency in seconds; latencies follow a log-normal distribution with these
    /// two quantiles.
    pub p50: f64,
    pub p95: f64,
}

/// Histogram bucket upper bounds in seconds (without +Inf): the Prometheus client defaults.
pub const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The standard normal quantile at 0.95.
const Z95: f64 = 1.644_853_6;
/// Used when the profile gives no usable spread, so the CDF stays a (steep) curve instead of NaN.
const MIN_SIGMA: f64 = 0.01;
/// Used when the profile gives no usable median: a log-normal needs a positive one.
const MIN_P50: f64 = 1e-6;

/// One pod's cumulative request metrics since it started. Counters only ever grow (a restarted pod gets a
/// fresh `PodMetrics`, which is how counter resets look to a scraper).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodMetrics {
    /// All requests, whatever their status; the "200" count is this minus `errors`.
    requests: u64,
    /// Requests answered with "500".
    errors: u64,
    /// Cumulative counts per bound of `BUCKETS`; the +Inf bucket is `requests`.
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    request_carry: f64,
    error_carry: f64,
    bucket_carry: [f64; BUCKETS.len()],
}

/// Splits `carry + amount` into whole units (at most `cap`) and the remainder kept for the next call.
fn take_whole(carry: &mut f64, amount: f64, cap: u64) -> u64 {
    let total = *carry + amount;
    // The CDF approximation is off by up to 1.5e-7: without the tolerance, a bucket whose CDF is
    // 1 for all practical purposes (10 s at a 260 ms p95) would trail the request count by one
    // for hours, and a scraper would see a p99 in the +Inf bucket.
    let whole = (total + 1e-6).floor().clamp(0.0, cap as f64);
    *carry = total - whole;
    whole as u64
}

/// Log-normal parameters (mu, sigma) for a profile, never NaN.
fn log_normal(profile: Profile) -> (f64, f64) {
    let p50 = if profile.p50.is_finite() && profile.p50 > 0.0 { profile.p50 } else { MIN_P50 };
    let sigma =
        if profile.p95.is_finite() && profile.p95 > p50 { (profile.p95 / p50).ln() / Z95 } else { 0.0 };
    (p50.ln(), sigma.max(MIN_SIGMA))
}

/// Abramowitz-Stegun 7.1.26 (absolute error below 1.5e-7), which is far finer than any request count.
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

/// The log-normal CDF at `x` seconds for a profile (0 for x <= 0).
pub fn latency_cdf(profile: Profile, x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 0.0;
    }
    let (mu, sigma) = log_normal(profile);
    (0.5 * (1.0 + erf((x.ln() - mu) / (sigma * std::f64::consts::SQRT_2)))).clamp(0.0, 1.0)
}

/// Prometheus renders infinities and NaN by name; Rust's `Display` would write `inf`.
fn push_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

fn push_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes one sample line; `extra` is the family's own label (`status` or `le`), written after the caller's.
fn push_sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&str, &str)],
    extra: Option<(&str, &str)>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    let mut all = labels.iter().copied().chain(extra).peekable();
    if all.peek().is_some() {
        out.push('{');
        for (i, (key, value)) in all.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push_str("=\"");
            push_label_value(out, value);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    push_float(out, value);
    out.push('\n');
}

impl PodMetrics {
    /// Adds `rps * seconds` requests served with `profile`. Deterministic: no randomness; fractional
    /// requests carry over to the next call so that, over many calls, the totals track rps*time and
    /// `error_rate` exactly (within one request), and the bucket counts track the log-normal CDF at each
    /// bound. rps <= 0 or seconds <= 0 adds nothing. NaN inputs add nothing.
    pub fn advance(&mut self, profile: Profile, rps: f64, seconds: f64) {
        let inputs = [rps, seconds, profile.error_rate, profile.p50, profile.p95];
        if inputs.iter().any(|v| v.is_nan()) || rps <= 0.0 || seconds <= 0.0 {
            return;
        }
        let amount = rps * seconds;
        if !amount.is_finite() {
            return;
        }
        let n = take_whole(&mut self.request_carry, amount, u64::MAX);
        if n == 0 {
            return;
        }
        let count = n as f64;
        self.requests = self.requests.saturating_add(n);
        // Errors are spread over whole requests (not over rps*seconds) so they can never outnumber them.
        let rate = profile.error_rate.clamp(0.0, 1.0);
        let room = self.requests - self.errors;
        self.errors += take_whole(&mut self.error_carry, count * rate, room);

        // Error responses share the profile's latency distribution: the simulation has no use for a
        // separate one, and a canary's slowness should show in all its traffic alike.
        for (i, bound) in BUCKETS.iter().enumerate() {
            let cap = self.requests - self.buckets[i];
            self.buckets[i] +=
                take_whole(&mut self.bucket_carry[i], count * latency_cdf(profile, *bound), cap);
        }
        // Each bucket rounds on its own, so float error could leave one a count above the next; moving the
        // excess into the carry keeps the series cumulative without losing it from the long-run total.
        for i in (0..BUCKETS.len() - 1).rev() {
            let excess = self.buckets[i].saturating_sub(self.buckets[i + 1]);
            self.buckets[i] -= excess;
            self.bucket_carry[i] += excess as f64;
        }
        let (mu, sigma) = log_normal(profile);
        self.sum += count * (mu + sigma * sigma / 2.0).exp();
    }

    /// Total requests so far (all statuses).
    pub fn total(&self) -> u64 {
        self.requests
    }

    /// 5xx requests so far.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Prometheus text exposition format (version 0.0.4) of this pod's series with `labels` added to every
    /// sample. `requests_name` and `duration_name` name the counter and histogram families.
    pub fn render(&self, requests_name: &str, duration_name: &str, labels: &[(&str, &str)]) -> String {
        let mut out = String::new();
        Self::render_header(requests_name, duration_name, &mut out);
        self.render_samples(requests_name, duration_name, labels, &mut out);
        out
    }

    /// Appends the same samples as [`PodMetrics::render`] without # HELP/# TYPE lines, for concatenating many
    /// pods into one exposition where the caller writes the header once.
    pub fn render_samples(
        &self,
        requests_name: &str,
        duration_name: &str,
        labels: &[(&str, &str)],
        out: &mut String,
    ) {
        // "200" is always there so a pod that has served nothing yet still has the series a query expects.
        let ok = (self.requests - self.errors) as f64;
        push_sample(out, requests_name, "", labels, Some(("status", "200")), ok);
        if self.errors > 0 {
            push_sample(out, requests_name, "", labels, Some(("status", "500")), self.errors as f64);
        }
        let mut le = String::new();
        for (bound, count) in BUCKETS.iter().zip(self.buckets) {
            le.clear();
            push_float(&mut le, *bound);
            push_sample(out, duration_name, "_bucket", labels, Some(("le", &le)), count as f64);
        }
        let count = self.requests as f64;
        push_sample(out, duration_name, "_bucket", labels, Some(("le", "+Inf")), count);
        push_sample(out, duration_name, "_sum", labels, None, self.sum);
        push_sample(out, duration_name, "_count", labels, None, count);
    }

    /// The # HELP / # TYPE header lines for the two families.
    pub fn render_header(requests_name: &str, duration_name: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {requests_name} Total HTTP requests served, by status code.");
        let _ = writeln!(out, "# TYPE {requests_name} counter");
        let _ = writeln!(out, "# HELP {duration_name} HTTP request latency in seconds.");
        let _ = writeln!(out, "# TYPE {duration_name} histogram");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_parse::{Scrape, Value};

    const REQS: &str = "http_requests_total";
    const DUR: &str = "http_request_duration_seconds";

    fn profile(error_rate: f64, p50: f64, p95: f64) -> Profile {
        Profile { error_rate, p50, p95 }
    }

    fn parse(text: &str) -> Scrape {
        Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("exposition parses")
    }

    /// The (le, count) pairs of the one histogram in `text`, sorted by bound, +Inf last.
    fn buckets(text: &str) -> Vec<(f64, f64)> {
        let scrape = parse(text);
        let hist = scrape.samples.iter().find(|s| s.metric == DUR).expect("histogram present");
        let Value::Histogram(counts) = &hist.value else { panic!("not a histogram: {hist:?}") };
        let mut pairs: Vec<_> = counts.iter().map(|c| (c.less_than, c.count)).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        pairs
    }

    /// What Prometheus' `histogram_quantile` computes: linear interpolation inside the bucket holding the rank.
    fn histogram_quantile(q: f64, pairs: &[(f64, f64)]) -> f64 {
        let total = pairs.last().expect("+Inf bucket").1;
        let rank = q * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for &(le, count) in pairs {
            if count >= rank {
                assert!(le.is_finite(), "rank fell into +Inf");
                return lower + (le - lower) * (rank - below) / (count - below);
            }
            (lower, below) = (le, count);
        }
        panic!("rank beyond +Inf bucket")
    }

    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match (c, c == '\\') {
                (_, true) => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => panic!("dangling escape"),
                },
                (c, false) => out.push(c),
            }
        }
        out
    }

    #[test]
    fn totals_and_errors_follow_rate() {
        let mut pod = PodMetrics::default();
        pod.advance(profile(0.04, 0.05, 0.2), 10.0, 100.0);
        assert!(pod.total().abs_diff(1000) <= 1, "total {}", pod.total());
        assert!(pod.errors().abs_diff(40) <= 1, "errors {}", pod.errors());
    }

    #[test]
    fn fractions_carry_over_between_small_steps() {
        let p = profile(0.04, 0.05, 0.2);
        let mut small = PodMetrics::default();
        for _ in 0..1000 {
            small.advance(p, 7.0, 0.05);
        }
        let mut big = PodMetrics::default();
        big.advance(p, 7.0, 50.0);
        assert!(small.total().abs_diff(big.total()) <= 1, "{} vs {}", small.total(), big.total());
        assert!(small.errors().abs_diff(big.errors()) <= 1, "{} vs {}", small.errors(), big.errors());
        assert!(small.total().abs_diff(350) <= 1);
        for (a, b) in small.buckets.iter().zip(big.buckets) {
            assert!(a.abs_diff(b) <= 1, "bucket {a} vs {b}");
        }
    }

    #[test]
    fn histogram_tracks_log_normal() {
        let p = profile(0.0, 0.08, 0.3);
        let mut pod = PodMetrics::default();
        for _ in 0..600 {
            pod.advance(p, 123.4, 1.0);
        }
        let pairs = buckets(&pod.render(REQS, DUR, &[]));
        let p95 = histogram_quantile(0.95, &pairs);
        assert!((p95 - 0.3).abs() <= 0.2 * 0.3, "p95 {p95}");
        let total = pairs.last().expect("+Inf").1;
        let at_100ms = pairs.iter().find(|(le, _)| (*le - 0.1).abs() < 1e-12).expect("le=0.1").1 / total;
        let cdf = latency_cdf(p, 0.1);
        assert!((at_100ms - cdf).abs() <= 0.01 * cdf, "{at_100ms} vs {cdf}");
        let mean = pod.sum / total;
        let sigma = (0.3f64 / 0.08).ln() / Z95;
        assert!((mean - 0.08 * (sigma * sigma / 2.0).exp()).abs() < 1e-9, "mean {mean}");
    }

    #[test]
    fn cdf_hits_the_profile_quantiles_and_survives_bad_profiles() {
        let p = profile(0.0, 0.08, 0.3);
        assert!((latency_cdf(p, 0.08) - 0.5).abs() < 1e-6);
        assert!((latency_cdf(p, 0.3) - 0.95).abs() < 1e-6);
        assert!(latency_cdf(p, 0.0) == 0.0 && latency_cdf(p, -1.0) == 0.0);
        for bad in
            [profile(0.0, 0.1, 0.1), profile(0.0, 0.1, 0.05), profile(0.0, 0.0, 0.0), profile(0.0, -1.0, 0.2)]
        {
            for x in [1e-9, 0.05, 0.1, 0.2, 10.0] {
                let c = latency_cdf(bad, x);
                assert!((0.0..=1.0).contains(&c), "{bad:?} at {x}: {c}");
            }
        }
        assert!(latency_cdf(profile(0.0, 0.1, 0.1), 0.09) < 0.01);
        assert!(latency_cdf(profile(0.0, 0.1, 0.1), 0.11) > 0.99);
    }

    #[test]
    fn buckets_stay_cumulative_under_mixed_profiles() {
        let profiles = [profile(0.5, 0.01, 0.02), profile(0.01, 0.3, 3.0), profile(1.0, 0.1, 0.1)];
        let mut pod = PodMetrics::default();
        let mut last = 0;
        for step in 0..3000 {
            pod.advance(profiles[step % 3], 3.3 + (step % 7) as f64, 0.137);
            assert!(pod.errors() <= pod.total());
            assert!(pod.total() >= last, "counter went down");
            last = pod.total();
            let mut chain = pod.buckets.to_vec();
            chain.push(pod.total());
            assert!(chain.windows(2).all(|w| w[0] <= w[1]), "{chain:?}");
        }
        assert!(pod.errors() > 0 && pod.errors() < pod.total());
    }

    #[test]
    fn render_parses_with_labels_escaping_and_consistent_histogram() {
        let mut pod = PodMetrics::default();
        pod.advance(profile(0.1, 0.05, 0.4), 20.0, 30.0);
        let labels = [("namespace", "shop"), ("pod", "web-1 \"canary\"\nx\\y")];
        let text = pod.render(REQS, DUR, &labels);
        assert!(text.contains(r#"pod="web-1 \"canary\"\nx\\y""#), "{text}");
        assert_eq!(text.lines().count(), 4 + 2 + 12 + 2, "{text}");
        let scrape = parse(&text);
        assert!(scrape.docs.contains_key(REQS) && scrape.docs.contains_key(DUR));
        for sample in &scrape.samples {
            assert_eq!(sample.labels.get("namespace"), Some("shop"), "{sample:?}");
            let pod_label = sample.labels.get("pod").expect("pod label");
            assert_eq!(unescape(pod_label), labels[1].1);
        }
        let by_status = |status: &str| {
            scrape.samples.iter().find(|s| s.metric == REQS && s.labels.get("status") == Some(status)).map(
                |s| match s.value {
                    Value::Counter(v) => v,
                    ref other => panic!("not a counter: {other:?}"),
                },
            )
        };
        assert_eq!(by_status("200"), Some((pod.total() - pod.errors()) as f64));
        assert_eq!(by_status("500"), Some(pod.errors() as f64));
        let pairs = buckets(&text);
        assert_eq!(pairs.len(), BUCKETS.len() + 1);
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1));
        let count = scrape.samples.iter().find(|s| s.metric == format!("{DUR}_count")).expect("_count");
        let inf = pairs.last().expect("+Inf");
        assert!(inf.0.is_infinite());
        assert_eq!(count.value, Value::Untyped(inf.1));
        assert!(scrape.samples.iter().any(|s| s.metric == format!("{DUR}_sum")));
    }

    #[test]
    fn renamed_families_and_samples_without_header() {
        let pod = PodMetrics::default();
        let mut out = String::new();
        pod.render_samples("reqs", "lat", &[], &mut out);
        assert!(!out.contains('#'));
        assert!(out.starts_with("reqs{status=\"200\"} 0\n"), "{out}");
        assert!(out.contains("lat_bucket{le=\"+Inf\"} 0\n") && out.contains("lat_count 0\n"), "{out}");
        let mut header = String::new();
        PodMetrics::render_header("reqs", "lat", &mut header);
        assert!(header.contains("# TYPE reqs counter\n") && header.contains("# TYPE lat histogram\n"));
    }

    #[test]
    fn bad_inputs_add_nothing_and_fresh_pod_exposes_ok_series() {
        let p = profile(0.04, 0.05, 0.2);
        let mut pod = PodMetrics::default();
        for (rps, secs) in
            [(0.0, 10.0), (-5.0, 10.0), (f64::NAN, 10.0), (10.0, 0.0), (10.0, -1.0), (10.0, f64::NAN)]
        {
            pod.advance(p, rps, secs);
        }
        pod.advance(profile(f64::NAN, 0.05, 0.2), 10.0, 10.0);
        assert_eq!(pod, PodMetrics::default());
        let text = pod.render(REQS, DUR, &[("pod", "a")]);
        assert!(text.contains("http_requests_total{pod=\"a\",status=\"200\"} 0\n"), "{text}");
        assert!(!text.contains("status=\"500\""));
        assert!(text.contains("http_request_duration_seconds_sum{pod=\"a\"} 0\n"), "{text}");
    }
}
