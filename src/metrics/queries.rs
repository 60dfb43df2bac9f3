//! PromQL templates for the prometheus backend. The defaults are the seeds' alert expressions
//! (`rate(http_requests_total{status=~"5.."}[5m])`, `histogram_quantile(0.95, …)`) narrowed to
//! one app and one track, so a canary is compared with its own stable pods.

use std::collections::BTreeMap;

use super::window::Track;

/// The figures a query template can produce, and their names in config (`queries.<name>`).
pub const NAMES: [&str; 5] = ["requests", "errors", "p50", "p95", "p99"];

/// One app's query templates; `{app}`, `{namespace}`, `{track}` and `{window}` are filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    pub requests: String,
    pub errors: String,
    pub p50: String,
    pub p95: String,
    pub p99: String,
}

impl Queries {
    /// The built-in templates for these metric names and track label, with `overrides` (from
    /// config, by name) taking their place.
    pub fn new(
        requests: &str,
        duration: &str,
        track_label: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Self {
        let selector = format!(r#"namespace="{{namespace}}",app="{{app}}",{track_label}="{{track}}""#);
        let quantile = |q: &str| {
            format!(
                "histogram_quantile({q}, sum by (le) (rate({duration}_bucket{{{selector}}}[{{window}}])))"
            )
        };
        let pick = |name: &str, default: String| overrides.get(name).cloned().unwrap_or(default);
        Self {
            requests: pick("requests", format!("sum(increase({requests}{{{selector}}}[{{window}}]))")),
            errors: pick(
                "errors",
                format!(r#"sum(increase({requests}{{{selector},status=~"5.."}}[{{window}}]))"#),
            ),
            p50: pick("p50", quantile("0.5")),
            p95: pick("p95", quantile("0.95")),
            p99: pick("p99", quantile("0.99")),
        }
    }
}

/// A template with its placeholders filled in. `window` is in seconds, as PromQL accepts it.
pub fn render(template: &str, app: &str, namespace: &str, track: Track, window_secs: u64) -> String {
    let track = match track {
        Track::Stable => "stable",
        Track::Canary => "canary",
    };
    template
        .replace("{app}", app)
        .replace("{namespace}", namespace)
        .replace("{track}", track)
        .replace("{window}", &format!("{window_secs}s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_narrow_the_seeds_expressions_to_one_app_and_track() {
        let q =
            Queries::new("http_requests_total", "http_request_duration_seconds", "track", &BTreeMap::new());
        assert_eq!(
            render(&q.errors, "api", "shop", Track::Canary, 120),
            r#"sum(increase(http_requests_total{namespace="shop",app="api",track="canary",status=~"5.."}[120s]))"#
        );
        assert_eq!(
            render(&q.p95, "api", "shop", Track::Stable, 60),
            r#"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",app="api",track="stable"}[60s])))"#
        );
    }

    #[test]
    fn config_overrides_one_template_and_keeps_the_others() {
        let overrides = BTreeMap::from([("p95".to_owned(), "my_p95{app=\"{app}\"}".to_owned())]);
        let q = Queries::new("reqs", "lat", "role", &overrides);
        assert_eq!(render(&q.p95, "web", "shop", Track::Canary, 60), "my_p95{app=\"web\"}");
        assert!(q.requests.contains(r#"role="{track}""#), "{}", q.requests);
    }
}
