//! The console, and `opsdeck demo`, which opens it on the simulated fleet.

use super::write::webhook;
use super::{kubeconfig_source, load_config};
use crate::audit::AuditLog;
use crate::cli::{DemoArgs, GlobalArgs};
use crate::cluster;
use crate::config::{self, Paths};
use crate::exit::{Exit, Failure};

/// `opsdeck demo`: the fleet, then either the console on it or, with `--serve-only`, a
/// `ready` line and service until a signal.
pub async fn demo(global: &GlobalArgs, paths: &Paths, args: &DemoArgs) -> Result<Exit, Failure> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(Failure::usage(format!("--speed {} must be a positive number", args.speed)));
    }
    let timing = opsdeck_demo::Timing { speed: args.speed, ..opsdeck_demo::Timing::default() };
    let options =
        opsdeck_demo::FleetOptions { pods: args.pods, timing, ..opsdeck_demo::FleetOptions::default() };
    let fleet = opsdeck_demo::Fleet::start(options).await.map_err(|e| Failure::new(Exit::Failed, e))?;
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("opsdeck-demo-{}", std::process::id())), true),
    };
    let (kubeconfig, config) = fleet.write_files(&dir).map_err(|e| Failure::new(Exit::Failed, e))?;
    let result = if args.serve_only {
        out!("ready");
        wait_for_signal().await;
        Ok(Exit::Ok)
    } else {
        let global = GlobalArgs {
            config: Some(config),
            kubeconfig: Some(kubeconfig),
            readonly: global.readonly,
            take_over: false,
        };
        console(&global, paths, true).await
    };
    fleet.stop();
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub async fn console(global: &GlobalArgs, paths: &Paths, demo: bool) -> Result<Exit, Failure> {
    let path = config::resolve_path(global.config.as_deref(), paths);
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global));
    let config = load_config(&path, global.config.is_some(), kubeconfig.as_ref())?;

    let _log_guard = match crate::logging::init(paths.state_dir()) {
        Ok((guard, _)) => Some(guard),
        Err(reason) => {
            eprintln!("opsdeck: logging is off: {reason}");
            None
        }
    };
    tracing::info!(config = %path.display(), environments = config.environments.len(), "console starting");

    let audit = AuditLog::open(paths.data_dir()).map_err(|e| format!("{}: {e}", paths.data_dir().display()));
    let console = crate::console::Console::start(crate::console::Setup {
        webhook: webhook(&config),
        files: crate::console::Files { data_dir: paths.data_dir().clone(), config_file: path.clone() },
        fleet: std::sync::Arc::new(crate::config::Fleet::resolve(config)),
        kubeconfig,
        readonly: global.readonly,
        audit,
        demo,
    });
    let ended = crate::tui::run(console).await;
    match ended.map_err(|e| Failure::new(Exit::Failed, format!("terminal error: {e}")))? {
        crate::tui::Ended::Quit => Ok(Exit::Ok),
        crate::tui::Ended::TaskPanicked(what) => Err(Failure::new(
            Exit::Failed,
            format!(
                "a background task failed ({what}); the console stopped rather than show what it no longer watches. The log {} has the backtrace",
                paths.state_dir().join("opsdeck.log").display()
            ),
        )),
    }
}
