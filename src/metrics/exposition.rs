//! One pod's Prometheus text exposition reduced to the cumulative counters canary analysis needs: total
//! requests, 5xx requests, and the request-duration histogram, each summed over every other label.
//!
//! prometheus-parse 0.2.5 shapes samples by the `# TYPE` lines it has seen, so the same exposition can
//! arrive typed (`Value::Counter`, grouped `Value::Histogram`) or untyped (plain `Value::Untyped` samples,
//! `_bucket` series with an `le` label); both shapes are accepted here.

use prometheus_parse::{Labels, Scrape, Value};

/// The metric family names an app's traffic uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// Request counter, e.g. `http_requests_total`, labelled by `status`.
    pub requests: String,
    /// Request-duration histogram without the `_bucket` suffix, e.g. `http_request_duration_seconds`.
    pub duration: String,
}

/// One pod's cumulative counters at one scrape, summed over every other label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// The request counter summed over all series, whatever their status.
    pub requests: f64,
    /// The request counter summed over series whose status is a 5xx.
    pub errors: f64,
    /// (le, cumulative count) summed across series by `le`, sorted by `le`; `+Inf` is `f64::INFINITY`.
    ///
    /// A bound that some series lack is summed over the series that have it, so it undercounts
    /// relative to its neighbours; quantile estimation clamps such dips rather than trusting them.
    pub buckets: Vec<(f64, f64)>,
}

/// How much of an unusable response to quote back in an error.
const SNIPPET_CHARS: usize = 80;

/// Why a pod's exposition cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not Prometheus text at all (an HTML error page from a proxy, say).
    #[error("not a Prometheus exposition: {0}")]
    NotExposition(String),
    /// A request counter or histogram bucket that no counter can hold: NaN, infinite or
    /// negative. Leaving it out would make the pod's errors vanish and a failing canary pass,
    /// so the whole scrape is unusable.
    #[error("unusable sample {series} = {value} (a counter is finite and never negative)")]
    Unusable { series: String, value: String },
}

/// Parses one pod's exposition.
///
/// A text with neither family is "no traffic", not an error: `Ok(Counters::default())`. Lines
/// prometheus-parse cannot read are skipped, as it does, so garbage inside an otherwise valid exposition
/// is ignored. But a text with content and not a single sample (an HTML error page from a proxy, say) is
/// an `Err`: reporting it as "no traffic" would hide a broken scrape.
///
/// A request-counter or bucket sample whose value is NaN, infinite or negative makes the whole
/// exposition unusable ([`ParseError::Unusable`], naming the series): counters are finite and
/// never negative, and a sum that silently leaves one out can hide every error the pod served.
pub fn parse(text: &str, names: &Names) -> Result<Counters, ParseError> {
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .map_err(|e| ParseError::NotExposition(e.to_string()))?;
    if scrape.samples.is_empty()
        && let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let snippet: String = line.chars().take(SNIPPET_CHARS).collect();
        return Err(ParseError::NotExposition(format!("no samples, first line {snippet:?}")));
    }

    let bucket_name = format!("{}_bucket", names.duration);
    let mut counters = Counters::default();
    let unusable = |sample: &prometheus_parse::Sample, value: f64| ParseError::Unusable {
        series: series(&sample.metric, &sample.labels),
        value: value.to_string(),
    };
    for sample in &scrape.samples {
        match &sample.value {
            // Without a TYPE line the counter is untyped; with one it is a counter. Same numbers.
            Value::Counter(v) | Value::Untyped(v) if sample.metric == names.requests => {
                if !usable(*v) {
                    return Err(unusable(sample, *v));
                }
                counters.requests += v;
                if is_error(&sample.labels) {
                    counters.errors += v;
                }
            }
            Value::Histogram(counts) if sample.metric == names.duration => {
                for c in counts {
                    if !usable(c.count) {
                        return Err(unusable(sample, c.count));
                    }
                    add_bucket(&mut counters.buckets, c.less_than, c.count);
                }
            }
            // Without `# TYPE <duration> histogram` the buckets arrive as ordinary samples.
            Value::Untyped(v) if sample.metric == bucket_name => {
                if !usable(*v) {
                    return Err(unusable(sample, *v));
                }
                if let Some(le) = label(&sample.labels, "le").and_then(parse_bound) {
                    add_bucket(&mut counters.buckets, le, *v);
                }
            }
            _ => {}
        }
    }
    counters.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(counters)
}

fn usable(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// `http_requests_total{status="500"}`, labels in name order, as an operator would grep for it.
fn series(metric: &str, labels: &Labels) -> String {
    let mut pairs: Vec<(&String, &String)> = labels.iter().collect();
    pairs.sort();
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{}=\"{v}\"", k.trim())).collect();
    if inner.is_empty() { metric.to_owned() } else { format!("{metric}{{{}}}", inner.join(",")) }
}

/// prometheus-parse keeps whatever precedes `=` as the key, so `{a="1", status="500"}` yields the key
/// `" status"`; trimming keeps such hand-written expositions working.
fn label<'a>(labels: &'a Labels, name: &str) -> Option<&'a str> {
    labels.get(name).or_else(|| labels.iter().find(|(k, _)| k.trim() == name).map(|(_, v)| v.as_str()))
}

/// 5xx by the `status` label; `code` is what the official client libraries' HTTP middleware uses, so it
/// is the fallback. `5xx`-style class labels count too.
fn is_error(labels: &Labels) -> bool {
    label(labels, "status").or_else(|| label(labels, "code")).is_some_and(|s| s.trim().starts_with('5'))
}

/// Go's float syntax as Prometheus writes bounds: `+Inf`, `1e-3`, `0.5`.
fn parse_bound(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| !v.is_nan())
}

fn add_bucket(buckets: &mut Vec<(f64, f64)>, le: f64, count: f64) {
    if le.is_nan() || !usable(count) {
        return;
    }
    match buckets.iter_mut().find(|(bound, _)| bound.total_cmp(&le).is_eq()) {
        Some((_, sum)) => *sum += count,
        None => buckets.push((le, count)),
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp, reason = "the sums compared are of small integers, exact in f64")]
mod tests {
    use super::*;

    /// The lines of `text` that `keep` accepts.
    fn lines_where(text: &str, keep: impl Fn(&str) -> bool) -> String {
        text.lines().filter(|l| keep(l)).flat_map(|l| [l, "\n"]).collect()
    }

    fn names() -> Names {
        Names { requests: "http_requests_total".into(), duration: "http_request_duration_seconds".into() }
    }

    const DEMO: &str = "\
# HELP http_requests_total Total HTTP requests served, by status code.
# TYPE http_requests_total counter
# HELP http_request_duration_seconds HTTP request latency in seconds.
# TYPE http_request_duration_seconds histogram
http_requests_total{namespace=\"shop\",pod=\"api-1\",status=\"200\"} 1234
http_requests_total{namespace=\"shop\",pod=\"api-1\",status=\"500\"} 5
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"0.005\"} 0
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"0.01\"} 3
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"0.025\"} 40
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"0.05\"} 300
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"0.1\"} 900
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"0.25\"} 1200
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"0.5\"} 1230
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"1\"} 1239
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"2.5\"} 1239
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"5\"} 1239
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"10\"} 1239
http_request_duration_seconds_bucket{namespace=\"shop\",pod=\"api-1\",le=\"+Inf\"} 1239
http_request_duration_seconds_sum{namespace=\"shop\",pod=\"api-1\"} 60.1
http_request_duration_seconds_count{namespace=\"shop\",pod=\"api-1\"} 1239
";

    #[test]
    fn demo_format() {
        let c = parse(DEMO, &names()).expect("parses");
        assert_eq!(c.requests, 1239.0);
        assert_eq!(c.errors, 5.0);
        let bounds: Vec<f64> = c.buckets.iter().map(|b| b.0).collect();
        assert_eq!(bounds, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, f64::INFINITY]);
        assert_eq!(c.buckets[4], (0.1, 900.0));
        assert_eq!(c.buckets[11], (f64::INFINITY, 1239.0));
    }

    #[test]
    fn untyped_samples_without_type_lines() {
        let text = lines_where(DEMO, |l| !l.starts_with('#'));
        assert_eq!(parse(&text, &names()), parse(DEMO, &names()));
        let c = parse(&text, &names()).expect("parses");
        assert_eq!((c.requests, c.errors, c.buckets.len()), (1239.0, 5.0, 12));
    }

    const MULTI: &str = "\
# TYPE http_requests_total counter
# TYPE http_request_duration_seconds histogram
http_requests_total{method=\"GET\",status=\"200\"} 100
http_requests_total{method=\"POST\",status=\"200\"} 50
http_requests_total{method=\"GET\",status=\"404\"} 7
http_requests_total{method=\"POST\",status=\"503\"} 3
http_requests_total{method=\"GET\",status=\"5xx\"} 2
http_request_duration_seconds_bucket{method=\"GET\",le=\"0.1\"} 60
http_request_duration_seconds_bucket{method=\"GET\",le=\"1\"} 100
http_request_duration_seconds_bucket{method=\"GET\",le=\"+Inf\"} 109
http_request_duration_seconds_bucket{method=\"POST\",le=\"0.1\"} 10
http_request_duration_seconds_bucket{method=\"POST\",le=\"1\"} 50
http_request_duration_seconds_bucket{method=\"POST\",le=\"+Inf\"} 53
";

    #[test]
    fn series_with_extra_labels_are_summed_and_only_5xx_are_errors() {
        let c = parse(MULTI, &names()).expect("parses");
        assert_eq!(c.requests, 162.0);
        // 503 and 5xx; 404 is the client's problem.
        assert_eq!(c.errors, 5.0);
        assert_eq!(c.buckets, [(0.1, 70.0), (1.0, 150.0), (f64::INFINITY, 162.0)]);
        let untyped = lines_where(MULTI, |l| !l.starts_with('#'));
        assert_eq!(parse(&untyped, &names()).expect("parses"), c);
    }

    #[test]
    fn code_label_and_spaced_labels() {
        let text = "http_requests_total{code=\"500\"} 4\nhttp_requests_total{path=\"/\", status=\"502\"} 1\n\
                    http_requests_total{code=\"200\"} 10\n";
        let c = parse(text, &names()).expect("parses");
        assert_eq!((c.requests, c.errors), (15.0, 5.0));
    }

    #[test]
    fn a_nan_infinite_or_negative_counter_makes_the_scrape_unusable_and_names_the_series() {
        for bad in ["NaN", "+Inf", "-3"] {
            let text = format!(
                "# TYPE http_requests_total counter\nhttp_requests_total{{status=\"200\"}} 10\nhttp_requests_total{{status=\"500\",pod=\"api-1\"}} {bad}\n"
            );
            let err = parse(&text, &names()).expect_err("unusable");
            assert!(
                matches!(&err, ParseError::Unusable { series, .. } if series == "http_requests_total{pod=\"api-1\",status=\"500\"}"),
                "{bad}: {err}"
            );
        }
        let bucket = "http_request_duration_seconds_bucket{le=\"0.5\"} NaN\n";
        assert!(matches!(parse(bucket, &names()), Err(ParseError::Unusable { .. })));
        // A NaN *bound* is not a count: that bucket is skipped, the rest is fine.
        let bound = "http_request_duration_seconds_bucket{le=\"NaN\"} 3\n\
                     http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n";
        assert_eq!(parse(bound, &names()).expect("parses").buckets, [(f64::INFINITY, 3.0)]);
    }

    #[test]
    fn inf_bucket_present_or_missing() {
        let with = parse(MULTI, &names()).expect("parses");
        assert!(with.buckets.last().is_some_and(|b| b.0.is_infinite()));
        let without = lines_where(MULTI, |l| !l.contains("+Inf"));
        let c = parse(&without, &names()).expect("parses");
        assert_eq!(c.buckets, [(0.1, 70.0), (1.0, 150.0)]);
    }

    #[test]
    fn a_bound_missing_from_one_series_sums_what_is_there() {
        let text = lines_where(MULTI, |l| !(l.contains("POST") && l.contains("le=\"1\"")));
        let c = parse(&text, &names()).expect("parses");
        assert_eq!(c.buckets, [(0.1, 70.0), (1.0, 100.0), (f64::INFINITY, 162.0)]);
    }

    #[test]
    fn no_families_is_no_traffic() {
        assert_eq!(parse("", &names()), Ok(Counters::default()));
        assert_eq!(parse("\n  \n# just a comment\n", &names()), Ok(Counters::default()));
        let other = "# TYPE go_goroutines gauge\ngo_goroutines 12\nprocess_open_fds 9\n";
        assert_eq!(parse(other, &names()), Ok(Counters::default()));
    }

    #[test]
    fn garbage_without_samples_is_an_error() {
        let html = "<html>\n<body>502 Bad Gateway</body>\n</html>\n";
        let err = parse(html, &names()).expect_err("html is not an exposition").to_string();
        assert!(err.contains("<html>"), "{err}");
        let long = "x".repeat(500) + " = oops";
        let err = parse(&long, &names()).expect_err("no samples").to_string();
        assert!(err.len() < 200, "{err}");
    }

    #[test]
    fn garbage_lines_inside_an_exposition_are_skipped() {
        let text =
            format!("{DEMO}this is = not a sample\n{{}}\nhttp_requests_total{{status=\"200\"}} lots\n");
        assert_eq!(parse(&text, &names()), parse(DEMO, &names()));
    }

    #[test]
    fn other_names() {
        let names = Names { requests: "reqs".into(), duration: "lat".into() };
        let text = "# TYPE lat histogram\nreqs{status=\"500\"} 2\nlat_bucket{le=\"+Inf\"} 2\nlat_count 2\n\
                    http_requests_total 99\n";
        let c = parse(text, &names).expect("parses");
        assert_eq!((c.requests, c.errors, c.buckets), (2.0, 2.0, vec![(f64::INFINITY, 2.0)]));
    }
}
