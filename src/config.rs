//! Configuration: the TOML file, its validation, and where opsdeck keeps its files.
//!
//! Loading never panics: every problem becomes a [`ConfigError`] naming the file, the line
//! and column when known, and the bad value, so the operator can fix it without guessing.

mod duration;
pub mod fleet;
mod init;
mod location;
mod model;
mod paths;
mod validate;

use std::path::{Path, PathBuf};

pub use duration::{HumanDuration, duration_words};
pub use fleet::{CanaryPlace, EnvModel, Fleet, Lookup, Placement};
pub use init::{StarterEnvironment, starter_config, write_new_file};
pub use location::{ConfigError, ConfigErrors};
pub use model::{
    Analysis, App, AppGuard, AppMetrics, Blackout, Canary, CanaryTarget, Config, EnvGuard, EnvMetrics,
    Environment, MetricsBackend, Notifications, Protection, Weekday, Window,
};
pub use paths::Paths;

/// Reads and validates a config file. Kubeconfig contexts are checked separately, by
/// [`check_contexts`], because the kubeconfig is not always available.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigErrors::one(ConfigError::at_file(path, format!("cannot read config: {e}"))))?;
    parse(path, &text)
}

/// Parses and validates config text; `path` is only used in messages.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
    let config: Config = toml::from_str(text)
        .map_err(|e| ConfigErrors::one(ConfigError::from_span(path, text, e.span(), e.message())))?;
    let errors = validate::validate(&config, path, text);
    if errors.is_empty() { Ok(config) } else { Err(ConfigErrors(errors)) }
}

/// Every environment whose kube context is not among `contexts`, as located errors.
pub fn check_contexts(config: &Config, path: &Path, text: &str, contexts: &[String]) -> ConfigErrors {
    ConfigErrors(validate::contexts(config, path, text, contexts))
}

/// Which config file to use: the one given, or the default location.
pub fn resolve_path(given: Option<&Path>, paths: &Paths) -> PathBuf {
    given.map_or_else(|| paths.config_file(), Path::to_path_buf)
}

pub use validate::{Color, parse_color, parse_date, parse_hhmm, parse_offset};
