//! Rates and latency quantiles over a sliding time window, computed from successive scrapes of each pod's
//! cumulative counters and grouped by track (stable or canary), plus a bounded history for sparklines.
//!
//! Counters are turned into increases the way Prometheus' `increase()` does, step by step between
//! consecutive scrapes of one pod, so a pod restart (a counter reset) costs at most one step's accuracy
//! and never shows up as negative traffic. Unlike Prometheus there is no extrapolation to the window's
//! edges: the figures cover exactly the time between the samples used, and say how long that was.

use std::collections::{BTreeMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

use super::exposition::Counters;

/// Which side of a canary rollout a pod serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Track {
    Stable,
    Canary,
}

/// What one track did over the window.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Figures {
    /// Requests in the window (increase).
    pub requests: f64,
    /// 5xx responses in the window (increase).
    pub errors: f64,
    /// `requests / span_seconds`; 0 when there is no span.
    pub rps: f64,
    /// `errors / requests`; `None` when there were no requests, so it is never NaN.
    pub error_rate: Option<f64>,
    /// Latency quantiles in seconds from the bucket increases; `None` when nothing was observed.
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    /// Pods of the track with at least one scrape inside the window, including pods too new to have
    /// contributed an increase yet.
    pub pods: usize,
    /// Time covered by the samples used: from the earliest to the latest, over all of the track's pods.
    pub span_seconds: f64,
}

/// Counter increase between two samples of the same series, Prometheus-style:
/// a decrease is a reset, so the increase is the new value.
///
/// Never negative and never NaN: a non-finite sample says nothing about the step, so the step adds 0.
pub fn increase(previous: f64, current: f64) -> f64 {
    if !(previous.is_finite() && current.is_finite()) {
        return 0.0;
    }
    if current >= previous { current - previous } else { current.max(0.0) }
}

/// `histogram_quantile` semantics over cumulative (le, count) buckets sorted by le.
///
/// Linear interpolation inside the bucket holding the rank; the first bucket interpolates from 0 (unless
/// its bound is not positive, where Prometheus returns the bound itself); a rank in the +Inf bucket
/// gives the largest finite bound.
///
/// `None` when the total is 0, when there are no buckets, when `q` is outside [0, 1] or NaN, or when
/// the rank falls in +Inf and there is no finite bound. Where Prometheus gives NaN for a histogram
/// without a +Inf bucket, this uses the last bucket's count as the total instead: a pod that omits +Inf
/// still has a usable distribution below its largest bound.
///
/// Counts that decrease with `le` (a bound missing from some pods, see [`Counters::buckets`]) are
/// clamped to the largest seen so far, as Prometheus does, so the result stays monotonic in `q`. Input
/// that is not sorted is sorted, and equal bounds are merged by adding their counts.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted: Vec<(f64, f64)> =
        buckets.iter().copied().filter(|(le, count)| !le.is_nan() && !count.is_nan()).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
    for (le, count) in sorted {
        match merged.last_mut() {
            Some(last) if last.0.total_cmp(&le).is_eq() => last.1 += count,
            _ => merged.push((le, count)),
        }
    }
    let mut seen = 0.0_f64;
    for bucket in &mut merged {
        seen = seen.max(bucket.1);
        bucket.1 = seen;
    }

    let &(last_le, total) = merged.last()?;
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let has_inf = last_le == f64::INFINITY;
    let finite = if has_inf { &merged[..merged.len() - 1] } else { &merged[..] };
    let rank = q * total;
    // `count > 0` makes q = 0 land on the first bucket that has observations, rather than dividing by the
    // empty bucket before it.
    let Some(b) = finite.iter().position(|&(_, count)| count >= rank && count > 0.0) else {
        return finite.last().map(|&(le, _)| le);
    };
    let (upper, count) = finite[b];
    if b == 0 && upper <= 0.0 {
        return Some(upper);
    }
    let (lower, below) = if b == 0 { (0.0, 0.0) } else { finite[b - 1] };
    Some(lower + (upper - lower) * (rank - below) / (count - below))
}

/// One pod's retained scrapes, oldest first, timestamps strictly increasing.
#[derive(Debug, Clone)]
struct PodHistory {
    track: Track,
    samples: VecDeque<(Timestamp, Counters)>,
}

impl PodHistory {
    /// Indices of the samples that serve a window `(start, now]`: the newest one at or before `start` as
    /// the baseline (or the oldest, if none is that old) through the newest at or before `now`. `None`
    /// when the pod has no sample inside the window.
    fn span(&self, start: Timestamp, now: Timestamp) -> Option<std::ops::Range<usize>> {
        let end = self.samples.partition_point(|(t, _)| *t <= now);
        let first_inside = self.samples.partition_point(|(t, _)| *t <= start);
        (first_inside < end).then(|| first_inside.saturating_sub(1)..end)
    }
}

/// Per-pod scrape history, bounded to `window`. Feed it every scrape round.
#[derive(Debug, Clone)]
pub struct Series {
    /// Ordered so sums over pods add up in the same order every time.
    pods: BTreeMap<String, PodHistory>,
    window: SignedDuration,
}

impl Series {
    /// A window too long for a timestamp difference is as good as unbounded.
    pub fn new(window: std::time::Duration) -> Self {
        Self {
            pods: BTreeMap::new(),
            window: SignedDuration::try_from(window).unwrap_or(SignedDuration::MAX),
        }
    }

    fn start(&self, now: Timestamp) -> Timestamp {
        now.checked_sub(self.window).unwrap_or(Timestamp::MIN)
    }

    /// Records one pod's scrape. A pod whose track changes starts a fresh history.
    ///
    /// A scrape older than the pod's newest is dropped (a slow response overtaken by a newer one); one at
    /// the same instant replaces it. The pod's own history is trimmed to the window ending at `at`, so
    /// memory stays bounded even between calls to [`Series::prune`].
    pub fn record(&mut self, pod: &str, track: Track, at: Timestamp, counters: Counters) {
        let start = self.start(at);
        let history =
            self.pods.entry(pod.to_owned()).or_insert_with(|| PodHistory { track, samples: VecDeque::new() });
        if history.track != track {
            *history = PodHistory { track, samples: VecDeque::new() };
        }
        match history.samples.back_mut() {
            Some((last, _)) if at < *last => return,
            Some((last, previous)) if at == *last => *previous = counters,
            _ => history.samples.push_back((at, counters)),
        }
        if let Some(range) = history.span(start, at) {
            history.samples.drain(..range.start);
        }
    }

    /// Drops samples older than `window` before `now` (keeping, per pod, the newest sample at or before
    /// the window start as the baseline so a window is fully covered), and pods with no sample inside it.
    pub fn prune(&mut self, now: Timestamp) {
        let start = self.start(now);
        self.pods.retain(|_, history| {
            let first_inside = history.samples.partition_point(|(t, _)| *t <= start);
            history.samples.drain(..first_inside.saturating_sub(1));
            history.samples.back().is_some_and(|(t, _)| *t > start)
        });
    }

    /// The figures of one track over the window ending at `now`: per pod, sum of step increases between
    /// consecutive retained samples (so a reset in the middle is handled step by step), buckets likewise
    /// per `le`; a pod with a single sample contributes nothing yet (no rate from one point); a pod that
    /// disappeared still contributes what it did while its samples are in the window.
    ///
    /// Reads the window itself, so it is right whether or not [`Series::prune`] ran first. A bound missing
    /// from either end of a step adds nothing for that step (like a new series in Prometheus), rather
    /// than counting a whole cumulative total as one step's increase.
    pub fn figures(&self, track: Track, now: Timestamp) -> Figures {
        let start = self.start(now);
        let mut figures = Figures::default();
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        let mut covered: Option<(Timestamp, Timestamp)> = None;
        for history in self.pods.values().filter(|h| h.track == track) {
            let Some(range) = history.span(start, now) else { continue };
            figures.pods += 1;
            if range.len() < 2 {
                continue;
            }
            let mut samples = history.samples.range(range);
            let Some(mut previous) = samples.next() else { continue };
            let first = previous.0;
            for current in samples {
                figures.requests += increase(previous.1.requests, current.1.requests);
                figures.errors += increase(previous.1.errors, current.1.errors);
                add_bucket_steps(&mut buckets, &previous.1.buckets, &current.1.buckets);
                previous = current;
            }
            let last = previous.0;
            covered = Some(covered.map_or((first, last), |(from, to)| (from.min(first), to.max(last))));
        }
        if let Some((from, to)) = covered {
            figures.span_seconds = to.duration_since(from).as_secs_f64();
        }
        if figures.span_seconds > 0.0 {
            figures.rps = figures.requests / figures.span_seconds;
        }
        if figures.requests > 0.0 {
            figures.error_rate = Some(figures.errors / figures.requests);
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        figures.p50 = quantile(0.5, &buckets);
        figures.p95 = quantile(0.95, &buckets);
        figures.p99 = quantile(0.99, &buckets);
        figures
    }

    /// Pods tracked, of either track.
    pub fn pods(&self) -> usize {
        self.pods.len()
    }
}

fn add_bucket_steps(sums: &mut Vec<(f64, f64)>, previous: &[(f64, f64)], current: &[(f64, f64)]) {
    for &(le, now) in current {
        let Some(&(_, before)) = previous.iter().find(|(bound, _)| bound.total_cmp(&le).is_eq()) else {
            continue;
        };
        let step = increase(before, now);
        match sums.iter_mut().find(|(bound, _)| bound.total_cmp(&le).is_eq()) {
            Some((_, sum)) => *sum += step,
            None => sums.push((le, step)),
        }
    }
}

/// One round's figures of a track, for sparklines.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    pub at: Timestamp,
    pub error_rate: Option<f64>,
    pub p95: Option<f64>,
    pub rps: f64,
}

impl Point {
    pub fn new(at: Timestamp, figures: &Figures) -> Self {
        Self { at, error_rate: figures.error_rate, p95: figures.p95, rps: figures.rps }
    }
}

/// The newest `capacity` points, oldest first. The default has capacity 0 and keeps nothing.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct History {
    points: VecDeque<Point>,
    #[serde(skip)]
    capacity: usize,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        Self { points: VecDeque::with_capacity(capacity), capacity }
    }

    pub fn push(&mut self, p: Point) {
        if self.capacity == 0 {
            return;
        }
        while self.points.len() >= self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(p);
    }

    /// Oldest first.
    pub fn points(&self) -> impl Iterator<Item = &Point> {
        self.points.iter()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp, reason = "the values compared are small integers and exact binary fractions")]
mod tests {
    use std::time::Duration;

    use super::*;

    const INF: f64 = f64::INFINITY;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).expect("valid timestamp")
    }

    fn counters(requests: f64, errors: f64) -> Counters {
        Counters { requests, errors, buckets: vec![(0.1, requests), (INF, requests)] }
    }

    fn series() -> Series {
        Series::new(Duration::from_secs(60))
    }

    #[test]
    fn increase_normal_and_reset() {
        assert_eq!(increase(100.0, 130.0), 30.0);
        assert_eq!(increase(100.0, 100.0), 0.0);
        assert_eq!(increase(100.0, 7.0), 7.0);
        assert_eq!(increase(f64::NAN, 7.0), 0.0);
        assert_eq!(increase(3.0, f64::NAN), 0.0);
        assert_eq!(increase(3.0, -1.0), 0.0);
    }

    #[test]
    fn quantile_matches_histogram_quantile() {
        let b = [(0.1, 50.0), (0.25, 90.0), (0.5, 100.0), (INF, 100.0)];
        assert!(close(quantile(0.5, &b), 0.1));
        assert!(close(quantile(0.95, &b), 0.375));
        // rank 25 in the first bucket, interpolated from 0.
        assert!(close(quantile(0.25, &b), 0.05));
        // rank 70: 0.1 + 0.15 * 20/40.
        assert!(close(quantile(0.7, &b), 0.175));
        assert!(close(quantile(1.0, &b), 0.5));
        assert!(close(quantile(0.0, &b), 0.0));
        // An empty first bucket: q = 0 lands where the observations start.
        assert!(close(quantile(0.0, &[(0.1, 0.0), (0.2, 4.0), (INF, 4.0)]), 0.1));
    }

    #[test]
    fn quantile_in_inf_bucket_gives_largest_finite_bound() {
        let b = [(0.1, 10.0), (0.5, 80.0), (INF, 100.0)];
        assert!(close(quantile(0.9, &b), 0.5));
        assert!(close(quantile(0.99, &b), 0.5));
        assert_eq!(quantile(0.5, &[(INF, 10.0)]), None);
    }

    #[test]
    fn quantile_none_cases() {
        assert_eq!(quantile(0.5, &[]), None);
        assert_eq!(quantile(0.5, &[(0.1, 0.0), (INF, 0.0)]), None);
        let b = [(0.1, 50.0), (INF, 100.0)];
        for q in [-0.1, 1.1, f64::NAN, INF] {
            assert_eq!(quantile(q, &b), None, "q = {q}");
        }
    }

    #[test]
    fn quantile_without_inf_uses_last_count_as_total() {
        let b = [(0.1, 50.0), (0.25, 90.0), (0.5, 100.0)];
        assert!(close(quantile(0.95, &b), 0.375));
        assert!(close(quantile(1.0, &b), 0.5));
    }

    #[test]
    fn quantile_clamps_decreasing_counts_and_sorts() {
        // The 0.25 bound dipped (missing from some pod): treated as 50, so p60 lies in (0.25, 0.5].
        let b = [(0.1, 50.0), (0.25, 30.0), (0.5, 100.0), (INF, 100.0)];
        assert!(close(quantile(0.6, &b), 0.25 + 0.25 * 10.0 / 50.0));
        let mut qs = Vec::new();
        for i in 0..=100 {
            qs.push(quantile(f64::from(i) / 100.0, &b).expect("some"));
        }
        assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{qs:?}");
        let shuffled = [(0.5, 100.0), (INF, 100.0), (0.1, 50.0), (0.25, 90.0)];
        assert!(close(quantile(0.95, &shuffled), 0.375));
        assert!(close(quantile(0.5, &[(0.1, 25.0), (0.1, 25.0), (INF, 100.0)]), 0.1));
    }

    #[test]
    fn quantile_non_positive_first_bound() {
        assert!(close(quantile(0.1, &[(-1.0, 5.0), (1.0, 10.0), (INF, 10.0)]), -1.0));
    }

    #[test]
    fn two_pods_three_scrapes() {
        let mut s = series();
        for (i, t) in [0, 10, 20].into_iter().enumerate() {
            let n = i as f64;
            s.record("api-a", Track::Stable, at(t), counters(1000.0 + 100.0 * n, 10.0 + n));
            s.record("api-b", Track::Stable, at(t), counters(500.0 + 50.0 * n, 5.0 + 2.0 * n));
        }
        let f = s.figures(Track::Stable, at(20));
        assert_eq!(f.requests, 300.0);
        assert_eq!(f.errors, 6.0);
        assert_eq!(f.span_seconds, 20.0);
        assert_eq!(f.rps, 15.0);
        assert_eq!(f.error_rate, Some(0.02));
        assert_eq!(f.pods, 2);
        // Every request under 0.1 s: interpolated inside the first bucket.
        assert!(close(f.p50, 0.05));
        assert!(close(f.p95, 0.095));
        assert!(close(f.p99, 0.099));
        assert_eq!(s.pods(), 2);
    }

    #[test]
    fn counter_reset_mid_window() {
        let mut s = series();
        s.record("p", Track::Canary, at(0), counters(1000.0, 10.0));
        s.record("p", Track::Canary, at(10), counters(1100.0, 12.0));
        // Restarted: counters start again from 0 and had served 40 by this scrape.
        s.record("p", Track::Canary, at(20), counters(40.0, 1.0));
        s.record("p", Track::Canary, at(30), counters(90.0, 1.0));
        let f = s.figures(Track::Canary, at(30));
        assert_eq!(f.requests, 100.0 + 40.0 + 50.0);
        assert_eq!(f.errors, 3.0);
        assert_eq!(f.span_seconds, 30.0);
        assert!(f.p95.is_some_and(|p| p > 0.0 && p <= 0.1));
    }

    #[test]
    fn a_pod_that_disappears_counts_until_it_ages_out() {
        let mut s = series();
        s.record("a", Track::Stable, at(0), counters(0.0, 0.0));
        s.record("gone", Track::Stable, at(0), counters(0.0, 0.0));
        s.record("gone", Track::Stable, at(10), counters(70.0, 7.0));
        for t in [10, 20, 30, 40, 50, 60] {
            s.record("a", Track::Stable, at(t), counters(10.0 * t as f64, 0.0));
        }
        s.prune(at(60));
        let f = s.figures(Track::Stable, at(60));
        assert_eq!((f.requests, f.errors, f.pods), (600.0 + 70.0, 7.0, 2));
        s.record("a", Track::Stable, at(70), counters(700.0, 0.0));
        // At 70 the window is (10, 70]: "gone" has nothing inside it any more.
        let f = s.figures(Track::Stable, at(70));
        assert_eq!((f.requests, f.errors, f.pods), (600.0, 0.0, 1));
        s.prune(at(70));
        assert_eq!(s.pods(), 1);
    }

    #[test]
    fn a_new_pod_contributes_from_its_second_scrape() {
        let mut s = series();
        s.record("old", Track::Canary, at(0), counters(0.0, 0.0));
        s.record("old", Track::Canary, at(10), counters(100.0, 1.0));
        s.record("new", Track::Canary, at(10), counters(5000.0, 400.0));
        let f = s.figures(Track::Canary, at(10));
        assert_eq!((f.requests, f.errors, f.pods), (100.0, 1.0, 2));
        s.record("old", Track::Canary, at(20), counters(200.0, 2.0));
        s.record("new", Track::Canary, at(20), counters(5050.0, 401.0));
        let f = s.figures(Track::Canary, at(20));
        assert_eq!((f.requests, f.errors, f.span_seconds), (250.0, 3.0, 20.0));
    }

    #[test]
    fn prune_keeps_a_baseline() {
        let mut s = series();
        for t in (0..=90).step_by(10) {
            s.record("p", Track::Stable, at(t), counters(t as f64, 0.0));
        }
        s.prune(at(95));
        // Window (35, 95]: 30 is the baseline, 40..=90 inside.
        let history = &s.pods["p"];
        let kept: Vec<Timestamp> = history.samples.iter().map(|(t, _)| *t).collect();
        assert_eq!(kept, (3..=9).map(|i| at(i * 10)).collect::<Vec<_>>());
        let f = s.figures(Track::Stable, at(95));
        assert_eq!((f.requests, f.span_seconds, f.rps), (60.0, 60.0, 1.0));
        // A window boundary exactly on a sample makes that sample the baseline.
        s.record("p", Track::Stable, at(100), counters(100.0, 0.0));
        s.prune(at(100));
        assert_eq!(s.pods["p"].samples.front().map(|(t, _)| *t), Some(at(40)));
        let f = s.figures(Track::Stable, at(100));
        assert_eq!((f.requests, f.span_seconds), (60.0, 60.0));
    }

    #[test]
    fn record_alone_keeps_memory_bounded() {
        let mut s = series();
        for t in (0..=1000).step_by(10) {
            s.record("p", Track::Stable, at(t), counters(t as f64, 0.0));
        }
        // Window (940, 1000]: the baseline 940 and six samples inside.
        assert_eq!(s.pods["p"].samples.len(), 7);
        assert_eq!(s.figures(Track::Stable, at(1000)).requests, 60.0);
    }

    #[test]
    fn figures_without_prune_read_the_window() {
        let mut s = Series::new(Duration::from_secs(3600));
        for t in (0..=100).step_by(10) {
            s.record("p", Track::Stable, at(t), counters(2.0 * t as f64, 0.0));
        }
        let narrow = Series { window: SignedDuration::from_secs(30), ..s.clone() };
        let f = narrow.figures(Track::Stable, at(55));
        // Window (25, 55]: baseline 20, through 50.
        assert_eq!((f.requests, f.span_seconds, f.rps), (60.0, 30.0, 2.0));
    }

    #[test]
    fn track_change_starts_fresh() {
        let mut s = series();
        s.record("p", Track::Canary, at(0), counters(0.0, 0.0));
        s.record("p", Track::Canary, at(10), counters(100.0, 50.0));
        s.record("p", Track::Stable, at(20), counters(150.0, 50.0));
        assert_eq!(s.figures(Track::Canary, at(20)), Figures::default());
        let f = s.figures(Track::Stable, at(20));
        assert_eq!((f.requests, f.pods), (0.0, 1));
        s.record("p", Track::Stable, at(30), counters(180.0, 50.0));
        assert_eq!(s.figures(Track::Stable, at(30)).requests, 30.0);
        assert_eq!(s.pods(), 1);
    }

    #[test]
    fn out_of_order_and_repeated_scrapes() {
        let mut s = series();
        s.record("p", Track::Stable, at(0), counters(0.0, 0.0));
        s.record("p", Track::Stable, at(10), counters(100.0, 0.0));
        s.record("p", Track::Stable, at(5), counters(1.0, 0.0));
        s.record("p", Track::Stable, at(10), counters(120.0, 0.0));
        let f = s.figures(Track::Stable, at(10));
        assert_eq!((f.requests, f.span_seconds), (120.0, 10.0));
    }

    #[test]
    fn a_track_with_no_pods() {
        let mut s = series();
        s.record("p", Track::Stable, at(0), counters(0.0, 0.0));
        s.record("p", Track::Stable, at(10), counters(10.0, 0.0));
        let f = s.figures(Track::Canary, at(10));
        assert_eq!(f, Figures::default());
        assert_eq!((f.requests, f.error_rate, f.rps, f.p95), (0.0, None, 0.0, None));
        let idle = {
            let mut s = series();
            s.record("p", Track::Stable, at(0), counters(10.0, 0.0));
            s.record("p", Track::Stable, at(10), counters(10.0, 0.0));
            s.figures(Track::Stable, at(10))
        };
        assert_eq!((idle.requests, idle.error_rate, idle.p95, idle.pods), (0.0, None, None, 1));
    }

    #[test]
    fn bucket_increases_per_le() {
        let mut s = series();
        let c = |a: f64, b: f64, inf: f64| Counters {
            requests: inf,
            errors: 0.0,
            buckets: vec![(0.1, a), (0.5, b), (INF, inf)],
        };
        s.record("p", Track::Stable, at(0), c(100.0, 150.0, 200.0));
        s.record("p", Track::Stable, at(10), c(150.0, 240.0, 300.0));
        // A scrape missing the 0.5 bound adds nothing at 0.5 for its two steps.
        let gap = Counters { requests: 400.0, errors: 0.0, buckets: vec![(0.1, 200.0), (INF, 400.0)] };
        s.record("q", Track::Stable, at(0), c(0.0, 0.0, 0.0));
        s.record("q", Track::Stable, at(10), gap);
        let f = s.figures(Track::Stable, at(10));
        // Summed increases: 0.1 → 50 + 200, 0.5 → 90 (p only; clamped up to 250), +Inf → 100 + 400.
        assert!(close(f.p50, 0.1));
        assert!(close(f.p95, 0.5));
        assert_eq!(f.requests, 500.0);
    }

    #[test]
    fn history_keeps_the_newest() {
        let mut h = History::new(3);
        assert!(h.is_empty());
        for t in 0..5 {
            h.push(Point { at: at(t), error_rate: None, p95: Some(0.1), rps: t as f64 });
        }
        assert_eq!(h.len(), 3);
        assert_eq!(h.points().map(|p| p.rps).collect::<Vec<_>>(), [2.0, 3.0, 4.0]);
        let mut none = History::default();
        none.push(Point::new(at(0), &Figures::default()));
        assert!(none.is_empty());
    }
}
