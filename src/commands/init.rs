//! `opsdeck init`.

use std::path::PathBuf;

use super::kubeconfig_source;
use crate::cli::{GlobalArgs, InitArgs};
use crate::cluster;
use crate::config::{self, Paths, StarterEnvironment};
use crate::exit::{Exit, Failure};

pub fn init(global: &GlobalArgs, paths: &Paths, args: &InitArgs) -> Result<Exit, Failure> {
    let path: PathBuf = config::resolve_path(global.config.as_deref(), paths);
    if path.exists() && !args.force {
        return Err(Failure::usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global)).map_err(Failure::usage)?;
    if kubeconfig.contexts.is_empty() {
        return Err(Failure::usage("the kubeconfig has no contexts: nothing to write a config from"));
    }
    let contexts: Vec<StarterEnvironment> = kubeconfig
        .contexts
        .iter()
        .map(|c| StarterEnvironment {
            context: c.name.clone(),
            namespace: c.context.as_ref().and_then(|ctx| ctx.namespace.clone()),
        })
        .collect();
    let text = config::starter_config(&contexts);
    config::write_new_file(&path, &text, args.force)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    out!(
        "wrote {} with {} environments; review each environment's protection",
        path.display(),
        contexts.len()
    );
    Ok(Exit::Ok)
}
