//! Checks that need more than one field or knowledge of the kubeconfig.

use std::collections::HashMap;
use std::path::Path;

use toml::Spanned;

use super::location::{ConfigError, line_col};
use super::model::{CanaryTarget, Config, Environment, MetricsBackend};

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn at<T>(&mut self, spanned: &Spanned<T>, message: String) {
        let span = spanned.span();
        // Defaults carry an empty span at 0: there is no place in the file to point at.
        let span = (span != (0..0)).then_some(span);
        self.errors.push(ConfigError::from_span(self.path, self.text, span, message));
    }

    fn file(&mut self, message: String) {
        self.errors.push(ConfigError::at_file(self.path, message));
    }
}

pub fn validate(config: &Config, path: &Path, text: &str) -> Vec<ConfigError> {
    let mut c = Checker { path, text, errors: Vec::new() };
    if config.environments.is_empty() {
        c.file(
            "no environments: add at least one [[environments]] table with a name and a context".to_owned(),
        );
    }
    let env_names = unique_names(&mut c, config.environments.iter().map(|e| &e.name), "environment");
    for env in &config.environments {
        environment(&mut c, env);
    }
    unique_names(&mut c, config.apps.iter().map(|a| &a.name), "app");
    for app in &config.apps {
        if app.deployment.trim().is_empty() {
            c.at(&app.name, format!("app {:?}: `deployment` must name the app's Deployment", app.name()));
        }
        thresholds(&mut c, app);
        let Some(canary) = &app.canary else { continue };
        let steps = canary.steps.get_ref();
        if steps.is_empty()
            || steps.iter().any(|s| *s == 0 || *s > 100)
            || steps.windows(2).any(|w| w[0] >= w[1])
        {
            c.at(
                &canary.steps,
                format!(
                    "app {:?}: canary steps {steps:?} must be increasing weights between 1 and 100",
                    app.name()
                ),
            );
        }
        for (env, target) in &canary.environments {
            if let CanaryTarget::ServiceSelector { canary_deployment, label, .. } = target
                && (canary_deployment == &app.deployment || label.trim().is_empty())
            {
                c.at(
                    env,
                    format!(
                        "app {:?}: service-selector in {:?} needs two Deployments (deployment and canary_deployment, the two colours) and a label telling them apart",
                        app.name(),
                        env.get_ref()
                    ),
                );
            }
            if !env_names.contains_key(env.get_ref().as_str()) {
                c.at(
                    env,
                    format!(
                        "app {:?}: canary names environment {:?}, which is not configured",
                        app.name(),
                        env.get_ref()
                    ),
                );
            }
        }
    }
    if let Some(url) = &config.notifications.webhook
        && !url.get_ref().starts_with("https://")
        && !url.get_ref().starts_with("http://")
    {
        c.at(url, format!("notifications.webhook {:?} must be an http(s) URL", url.get_ref()));
    }
    for pattern in &config.logs.error_patterns {
        if let Err(e) = regex::Regex::new(pattern.get_ref()) {
            c.at(pattern, format!("logs.error_patterns {:?}: {e}", pattern.get_ref()));
        }
    }
    if config.logs.buffer_lines == 0 {
        c.errors.push(ConfigError::at_file(path, "logs.buffer_lines must be at least 1"));
    }
    c.errors.sort_by_key(|e| e.position);
    c.errors
}

/// Names must be unique, non-empty and free of `/` (the typed confirmation is `env/app`).
fn unique_names<'a>(
    c: &mut Checker<'_>,
    names: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
) -> HashMap<&'a str, usize> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for name in names {
        let value = name.get_ref().as_str();
        if value.trim().is_empty() || value.contains('/') || value.contains(char::is_whitespace) {
            c.at(name, format!("{what} name {value:?} must be non-empty, without spaces or '/'"));
        }
        if let Some(first) = seen.get(value) {
            c.at(name, format!("duplicate {what} name {value:?} (first defined on line {first})"));
        } else {
            seen.insert(value, line_col(c.text, name.span().start).0);
        }
    }
    seen
}

fn environment(c: &mut Checker<'_>, env: &Environment) {
    let name = env.name();
    if env.context().trim().is_empty() {
        c.at(&env.context, format!("environment {name:?}: `context` must name a kubeconfig context"));
    }
    if env.namespaces.is_empty() || env.namespaces.iter().any(|n| n.trim().is_empty()) {
        c.at(&env.name, format!("environment {name:?}: `namespaces` must list at least one namespace"));
    }
    if let Some(color) = &env.color
        && parse_color(color.get_ref()).is_none()
    {
        c.at(color, format!(
                "environment {name:?}: color {:?} is not one of red, green, yellow, blue, magenta, cyan, gray, white or #rrggbb",
                color.get_ref()
            ));
    }
    for window in &env.windows {
        for time in [&window.start, &window.end] {
            if parse_hhmm(time.get_ref()).is_none() {
                c.at(time, format!("environment {name:?}: window time {:?} must be HH:MM", time.get_ref()));
            }
        }
        if window.days.is_empty() {
            c.at(&window.start, format!("environment {name:?}: a window needs at least one day"));
        }
        if let (Some(start), Some(end)) =
            (parse_hhmm(window.start.get_ref()), parse_hhmm(window.end.get_ref()))
            && end <= start
        {
            c.at(
                &window.end,
                format!(
                    "environment {name:?}: window {}–{} ends before it starts and would never open; a window across midnight is two windows (e.g. 22:00–23:59 and 00:00–06:00 the next day)",
                    window.start.get_ref(),
                    window.end.get_ref()
                ),
            );
        }
        if let Some(zone) = &window.time_zone {
            if jiff::tz::TimeZone::get(zone.get_ref()).is_err() {
                c.at(
                    zone,
                    format!(
                        "environment {name:?}: unknown time zone {:?} (e.g. Europe/Paris)",
                        zone.get_ref()
                    ),
                );
            }
            if window.utc_offset.span() != (0..0) {
                c.at(zone, format!("environment {name:?}: a window takes time_zone or utc_offset, not both"));
            }
        }
        if parse_offset(window.utc_offset.get_ref()).is_none() {
            c.at(
                &window.utc_offset,
                format!(
                    "environment {name:?}: utc_offset {:?} must look like +01:00 or -05:00",
                    window.utc_offset.get_ref()
                ),
            );
        }
    }
    for blackout in &env.blackouts {
        let from = parse_date(blackout.from.get_ref());
        let to = parse_date(blackout.to.get_ref());
        for (date, parsed) in [(&blackout.from, from), (&blackout.to, to)] {
            if parsed.is_none() {
                c.at(
                    date,
                    format!("environment {name:?}: blackout date {:?} must be YYYY-MM-DD", date.get_ref()),
                );
            }
        }
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            c.at(&blackout.to, format!("environment {name:?}: blackout ends before it starts"));
        }
    }
    if env.metrics.source == MetricsBackend::Prometheus && env.metrics.url.is_none() {
        c.at(&env.name, format!("environment {name:?}: metrics.source = \"prometheus\" needs metrics.url"));
    }
}

pub fn contexts(config: &Config, path: &Path, text: &str, known: &[String]) -> Vec<ConfigError> {
    let mut c = Checker { path, text, errors: Vec::new() };
    for env in &config.environments {
        if !known.iter().any(|k| k == env.context()) {
            let hint = if known.is_empty() {
                "the kubeconfig has no contexts".to_owned()
            } else {
                format!("known contexts: {}", known.join(", "))
            };
            c.at(
                &env.context,
                format!(
                    "environment {:?}: context {:?} is not in the kubeconfig ({hint})",
                    env.name(),
                    env.context()
                ),
            );
        }
    }
    c.errors
}

/// A named colour or `#rrggbb`, as (r, g, b) for hex and `None` when invalid.
pub fn parse_color(text: &str) -> Option<Color> {
    Some(match text {
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "white" => Color::White,
        hex => {
            let hex = hex.strip_prefix('#')?;
            if hex.len() != 6 {
                return None;
            }
            let v = u32::from_str_radix(hex, 16).ok()?;
            Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8)
        }
    })
}

/// An environment's column colour, as config names it; the screen maps it to the terminal's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    Gray,
    White,
    Rgb(u8, u8, u8),
}

/// Minutes after midnight of `HH:MM`.
pub fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Minutes east of UTC of `+HH:MM` / `-HH:MM`.
pub fn parse_offset(text: &str) -> Option<i32> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    let minutes = i32::from(parse_hhmm(rest)?);
    (minutes <= 14 * 60).then_some(sign * minutes)
}

/// `YYYY-MM-DD` as (year, month, day), checked loosely (day 1-31).
pub fn parse_date(text: &str) -> Option<(u16, u8, u8)> {
    let mut parts = text.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (u16, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// An app's analysis and guard thresholds: fractions where they are rates, positive ratios.
fn thresholds(c: &mut Checker<'_>, app: &crate::config::App) {
    let a = &app.analysis;
    if !(0.0..=1.0).contains(&a.max_error_rate) {
        c.at(
            &app.name,
            format!(
                "app {:?}: analysis.max_error_rate {} must be a fraction between 0 and 1 (0.01 is 1%)",
                app.name(),
                a.max_error_rate
            ),
        );
    }
    if a.max_latency_ratio.is_nan()
        || a.max_latency_ratio <= 0.0
        || a.max_p95_ms.is_nan()
        || a.max_p95_ms <= 0.0
    {
        c.at(
            &app.name,
            format!(
                "app {:?}: analysis.max_latency_ratio and analysis.max_p95_ms must be positive",
                app.name()
            ),
        );
    }
    let g = &app.guard;
    if !(0.0..=1.0).contains(&g.max_error_rate) || !(0.0..=1.0).contains(&g.error_rate_tolerance) {
        c.at(
            &app.name,
            format!(
                "app {:?}: guard.max_error_rate and guard.error_rate_tolerance must be fractions between 0 and 1 (0.01 is 1%)",
                app.name()
            ),
        );
    }
    if g.max_latency_ratio.is_nan()
        || g.latency_tolerance.is_nan()
        || g.latency_tolerance < 1.0
        || g.max_latency_ratio < g.latency_tolerance
    {
        c.at(
            &app.name,
            format!(
                "app {:?}: guard.latency_tolerance must be at least 1 and guard.max_latency_ratio at least as large",
                app.name()
            ),
        );
    }
}
