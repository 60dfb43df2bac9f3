//! The baseline a release is judged against: the app's figures from before the change, kept
//! with the guard so the new version never judges itself. Three sources, best first: a
//! Prometheus range before the change; the previous revision's pods, read once while they
//! still run (their counters cover their lifetime, all of it before the change); the last
//! baseline stored for the app in the data dir, from an earlier guard.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::run::Baseline;
use crate::metrics::window::quantile;
use crate::metrics::{Counters, Figures};

/// Figures from cumulative counters read once: what the pods served over their lifetime.
pub fn lifetime(counters: &[Counters]) -> Figures {
    let mut figures = Figures::default();
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for c in counters {
        figures.requests += c.requests.max(0.0);
        figures.errors += c.errors.max(0.0);
        for &(le, count) in &c.buckets {
            match buckets.iter_mut().find(|(bound, _)| bound.total_cmp(&le).is_eq()) {
                Some((_, sum)) => *sum += count,
                None => buckets.push((le, count)),
            }
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    figures.pods = counters.len();
    if figures.requests > 0.0 {
        figures.error_rate = Some(figures.errors / figures.requests);
    }
    figures.p50 = quantile(0.5, &buckets);
    figures.p95 = quantile(0.95, &buckets);
    figures.p99 = quantile(0.99, &buckets);
    figures
}

/// A baseline as stored between guards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stored {
    env: String,
    app: String,
    /// The version whose figures these are.
    version: Option<String>,
    at: jiff::Timestamp,
    from: String,
    requests: f64,
    error_rate: Option<f64>,
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
}

/// Where an app's last baseline is kept.
fn path(data_dir: &Path, env: &str, app: &str) -> PathBuf {
    let safe = |s: &str| {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>()
    };
    data_dir.join("guard").join(format!("{}-{}.json", safe(env), safe(app)))
}

/// Keeps `baseline` as the app's last known figures of `version`; written whole or not at
/// all (a temporary file renamed over the old one).
pub fn store(
    data_dir: &Path,
    env: &str,
    app: &str,
    version: Option<&str>,
    baseline: &Baseline,
) -> std::io::Result<()> {
    let stored = Stored {
        env: env.to_owned(),
        app: app.to_owned(),
        version: version.map(str::to_owned),
        at: jiff::Timestamp::now(),
        from: baseline.from.clone(),
        requests: baseline.figures.requests,
        error_rate: baseline.figures.error_rate,
        p50: baseline.figures.p50,
        p95: baseline.figures.p95,
        p99: baseline.figures.p99,
    };
    let path = path(data_dir, env, app);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&stored).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)
}

/// The app's last stored baseline and the version it is of, if one was kept and can be read.
pub fn load(data_dir: &Path, env: &str, app: &str) -> Option<(Baseline, Option<String>)> {
    let text = std::fs::read_to_string(path(data_dir, env, app)).ok()?;
    let stored: Stored = serde_json::from_str(&text).ok()?;
    let version = stored.version.as_deref().unwrap_or("an earlier version");
    let baseline = Baseline {
        figures: Figures {
            requests: stored.requests,
            error_rate: stored.error_rate,
            p50: stored.p50,
            p95: stored.p95,
            p99: stored.p99,
            ..Figures::default()
        },
        from: format!("{version}, stored {} ({})", stored.at.strftime("%Y-%m-%d %H:%M UTC"), stored.from),
    };
    Some((baseline, stored.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_counters_give_rates_and_quantiles() {
        let pod = |requests: f64, errors: f64| Counters {
            requests,
            errors,
            buckets: vec![(0.1, requests * 0.5), (0.2, requests * 0.96), (f64::INFINITY, requests)],
        };
        let f = lifetime(&[pod(1_000.0, 2.0), pod(3_000.0, 6.0)]);
        assert_eq!((f.requests, f.errors, f.pods), (4_000.0, 8.0, 2));
        assert_eq!(f.error_rate, Some(0.002));
        let p95 = f.p95.expect("p95");
        assert!((0.1..0.2).contains(&p95), "{p95}");
    }

    #[test]
    fn a_stored_baseline_comes_back_saying_where_it_came_from() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load(dir.path(), "production", "web"), None);
        let baseline = Baseline {
            figures: Figures {
                requests: 900.0,
                error_rate: Some(0.002),
                p95: Some(0.12),
                ..Figures::default()
            },
            from: "revision 2's 3 pods over their lifetime".into(),
        };
        store(dir.path(), "production", "web", Some("v1.2.0"), &baseline).expect("stored");
        let (back, version) = load(dir.path(), "production", "web").expect("loaded");
        assert_eq!(version.as_deref(), Some("v1.2.0"));
        assert_eq!(back.figures.p95, Some(0.12));
        assert!(
            back.from.starts_with("v1.2.0, stored ")
                && back.from.ends_with("(revision 2's 3 pods over their lifetime)"),
            "{}",
            back.from
        );
    }
}
