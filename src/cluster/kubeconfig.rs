//! Loading the kubeconfig the way kubectl does, with opsdeck's safety adjustments.

use std::path::PathBuf;

use kube::config::{ExecInteractiveMode, Kubeconfig};

/// Where the kubeconfig comes from.
#[derive(Debug, Clone, Default)]
pub enum KubeconfigSource {
    /// `$KUBECONFIG` (several files merged, as kubectl does) or `~/.kube/config`.
    #[default]
    Default,
    /// `--kubeconfig FILE`.
    File(PathBuf),
}

/// Reads the kubeconfig and makes every exec credential plugin non-interactive: the TUI owns
/// the terminal, so a plugin must neither prompt on stdin nor write to stderr (kube inherits
/// both unless the mode is `Never`; with `Never` it captures stderr, which we log).
pub fn load_kubeconfig(source: &KubeconfigSource) -> Result<Kubeconfig, String> {
    let mut kubeconfig = match source {
        KubeconfigSource::Default => Kubeconfig::read(),
        KubeconfigSource::File(path) => Kubeconfig::read_from(path),
    }
    .map_err(|e| match source {
        KubeconfigSource::Default => {
            format!("cannot read the kubeconfig ($KUBECONFIG or ~/.kube/config): {e}")
        }
        KubeconfigSource::File(path) => format!("cannot read kubeconfig {}: {e}", path.display()),
    })?;
    for named in &mut kubeconfig.auth_infos {
        if let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
    // A plugin that hangs must not outlive its deadline, nor opsdeck.
    if let Ok(opsdeck) = std::env::current_exe() {
        super::plugin::guard(&mut kubeconfig, &opsdeck);
    }
    Ok(kubeconfig)
}

/// The context names a kubeconfig defines, in file order.
pub fn context_names(kubeconfig: &Kubeconfig) -> Vec<String> {
    kubeconfig.contexts.iter().map(|c| c.name.clone()).collect()
}
