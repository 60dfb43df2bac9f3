//! Version drift across environments, in promotion order (left to right): which environment runs
//! something the next one does not have yet, and which lags behind the one before it.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    /// Same version as the environment before it (or first, or nothing to compare).
    Same,
    /// Runs a newer version than the next environment: it can be promoted there ("staging ahead of
    /// production reads promotable").
    Promotable,
    /// Runs an older version than the environment before it: behind.
    Behind,
    /// Differs and the two cannot be ordered (e.g. "latest", digests, unparseable).
    Differs,
}

/// For each environment (outer, in promotion order) and app name, the drift mark. `versions[e]`
/// maps app name → version tag, None when unknown.
pub fn drift(versions: &[BTreeMap<String, Option<String>>]) -> Vec<BTreeMap<String, Drift>> {
    versions
        .iter()
        .enumerate()
        .map(|(i, env)| {
            let neighbour = |j: Option<usize>, app: &str| {
                j.and_then(|j| versions.get(j)).and_then(|v| v.get(app)).and_then(Option::as_deref)
            };
            env.iter()
                .map(|(app, version)| {
                    let drift = version.as_deref().map_or(Drift::Same, |v| {
                        mark(v, neighbour(i.checked_sub(1), app), neighbour(i.checked_add(1), app))
                    });
                    (app.clone(), drift)
                })
                .collect()
        })
        .collect()
}

/// Ahead of the next environment wins over behind the previous one: promoting is the action the
/// operator can take from here.
fn mark(this: &str, previous: Option<&str>, next: Option<&str>) -> Drift {
    if next.and_then(|n| compare(this, n)) == Some(Ordering::Greater) {
        return Drift::Promotable;
    }
    if previous.and_then(|p| compare(this, p)) == Some(Ordering::Less) {
        return Drift::Behind;
    }
    let unorderable = |other: Option<&str>| other.is_some_and(|o| o != this && compare(this, o).is_none());
    if unorderable(next) || unorderable(previous) { Drift::Differs } else { Drift::Same }
}

/// Orders two version tags: semver-like "v1.3.0", "1.3.0", "v1.4.0-dev.3" (pre-releases before the
/// release, numeric parts compared numerically); None when either cannot be parsed.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (Version::parse(a)?, Version::parse(b)?);
    Some(compare_release(&a.release, &b.release).then_with(|| compare_pre(&a.pre, &b.pre)))
}

/// A parsed tag: release numbers and pre-release identifiers; build metadata is dropped, as in
/// semver, because it does not order.
struct Version<'a> {
    release: Vec<u64>,
    pre: Vec<&'a str>,
}

impl<'a> Version<'a> {
    /// At least two numeric parts ("1.3", "v1.3.0"): a bare number is more often a build id or a
    /// date than a version, and ordering those against releases would mislead.
    fn parse(tag: &'a str) -> Option<Self> {
        let tag = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
        let tag = tag.split_once('+').map_or(tag, |(version, _build)| version);
        let (release, pre) = match tag.split_once('-') {
            Some((release, pre)) => (release, pre.split('.').collect::<Vec<_>>()),
            None => (tag, Vec::new()),
        };
        let release = release.split('.').map(numeric).collect::<Option<Vec<u64>>>()?;
        let pre_ok = pre.iter().all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()));
        (release.len() >= 2 && pre_ok).then_some(Version { release, pre })
    }
}

/// A purely decimal part; "", "+1" and "1a" are not numbers.
fn numeric(part: &str) -> Option<u64> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Missing trailing parts are zero: "1.3" is "1.3.0".
fn compare_release(a: &[u64], b: &[u64]) -> Ordering {
    (0..a.len().max(b.len()))
        .map(|i| a.get(i).copied().unwrap_or(0).cmp(&b.get(i).copied().unwrap_or(0)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Semver precedence: a release is after its pre-releases; identifiers compare numerically when
/// both are numbers, numbers before words, and a shorter list first when one is a prefix.
fn compare_pre(a: &[&str], b: &[&str]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    for (x, y) in a.iter().zip(b) {
        let order = match (numeric(x), numeric(y)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs.iter().map(|(app, v)| ((*app).to_owned(), v.map(str::to_owned))).collect()
    }

    fn marks(versions: &[Option<&str>]) -> Vec<Drift> {
        let envs: Vec<_> = versions.iter().map(|v| env(&[("web", *v)])).collect();
        drift(&envs).into_iter().map(|m| m["web"]).collect()
    }

    #[test]
    fn promotion_chain_marks_ahead_as_promotable_and_lagging_as_behind() {
        let got = marks(&[Some("v1.4.0-dev.3"), Some("v1.3.0"), Some("v1.2.0")]);
        assert_eq!(got, [Drift::Promotable, Drift::Promotable, Drift::Behind]);
    }

    #[test]
    fn equal_versions_are_same() {
        assert_eq!(marks(&[Some("v1.3.0"), Some("v1.3.0"), Some("1.3.0")]), [Drift::Same; 3]);
    }

    #[test]
    fn unorderable_versions_differ() {
        assert_eq!(marks(&[Some("latest"), Some("v1.3.0")]), [Drift::Differs, Drift::Differs]);
    }

    #[test]
    fn unknown_versions_are_same() {
        assert_eq!(marks(&[None, Some("v1.3.0"), None]), [Drift::Same; 3]);
    }

    #[test]
    fn app_missing_from_an_environment_compares_with_nothing() {
        let envs = [env(&[("web", Some("v1.3.0"))]), env(&[("api", Some("v1.0.0"))])];
        let got = drift(&envs);
        assert_eq!(got[0]["web"], Drift::Same);
        assert_eq!(got[1]["api"], Drift::Same);
        assert!(!got[1].contains_key("web"));
    }

    #[test]
    fn pre_release_is_before_its_release() {
        assert_eq!(compare("v1.4.0-dev.3", "v1.4.0"), Some(Ordering::Less));
        assert_eq!(compare("v1.4.0-dev.3", "v1.4.0-dev.10"), Some(Ordering::Less));
        assert_eq!(compare("v1.4.0-dev.3", "v1.3.0"), Some(Ordering::Greater));
    }

    #[test]
    fn numeric_parts_compare_numerically() {
        assert_eq!(compare("v1.10.0", "v1.9.0"), Some(Ordering::Greater));
        assert_eq!(compare("1.3", "v1.3.0"), Some(Ordering::Equal));
        assert_eq!(compare("v1.3.0+build.7", "v1.3.0"), Some(Ordering::Equal));
    }

    #[test]
    fn unparseable_tags_do_not_order() {
        assert_eq!(compare("latest", "v1.3.0"), None);
        assert_eq!(compare("sha256:abc", "v1.3.0"), None);
        assert_eq!(compare("20240101", "v1.3.0"), None);
        assert_eq!(compare("v1.3.x", "v1.3.0"), None);
    }
}
