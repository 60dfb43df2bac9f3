//! Logging to a file in the state dir: while the TUI owns the terminal nothing may print.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts file logging; `OPSDECK_LOG` sets the filter (default `info`). Returns the guard
/// that flushes on drop and the log's path, or why logging is off.
pub fn init(dir: &Path) -> Result<(WorkerGuard, PathBuf), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create log dir {}: {e}", dir.display()))?;
    let appender = tracing_appender::rolling::never(dir, "opsdeck.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("OPSDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|e| format!("logging already initialised: {e}"))?;
    Ok((guard, dir.join("opsdeck.log")))
}
