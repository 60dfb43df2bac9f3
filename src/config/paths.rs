//! Where opsdeck reads its config and writes its data, logs and audit trail (XDG on Linux).

use std::path::PathBuf;

use directories::ProjectDirs;

/// opsdeck's directories; falls back to `./.opsdeck` when no home directory is known.
#[derive(Debug, Clone)]
pub struct Paths {
    config: PathBuf,
    data: PathBuf,
    state: PathBuf,
}

impl Paths {
    pub fn discover() -> Self {
        ProjectDirs::from("", "", "opsdeck").map_or_else(
            || {
                let base = PathBuf::from(".opsdeck");
                Self { config: base.clone(), data: base.clone(), state: base }
            },
            |dirs| Self {
                config: dirs.config_dir().to_path_buf(),
                data: dirs.data_local_dir().to_path_buf(),
                state: dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).to_path_buf(),
            },
        )
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("opsdeck.toml")
    }

    /// Audit log, checklist reports.
    pub fn data_dir(&self) -> &PathBuf {
        &self.data
    }

    /// The log file lives here.
    pub fn state_dir(&self) -> &PathBuf {
        &self.state
    }
}
