//! Wires the command line to config, cluster and console.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use tokio::sync::mpsc;

use crate::app::State;
use crate::cli::{CanaryCommand, Cli, Command, DemoArgs, GlobalArgs, InitArgs};
use crate::cluster::{self, ConnectTimeouts, KubeconfigSource};
use crate::config::{self, Config, Paths, StarterEnvironment};
use crate::exit::{Exit, Failure};

pub async fn run(cli: Cli) -> Result<Exit, Failure> {
    let paths = Paths::discover();
    match cli.command {
        None => console(&cli.global, &paths, false).await,
        Some(Command::Init(args)) => init(&cli.global, &paths, &args),
        Some(Command::Completions(args)) => {
            clap_complete::generate(args.shell, &mut Cli::command(), "opsdeck", &mut std::io::stdout());
            Ok(Exit::Ok)
        }
        Some(Command::Demo(args)) => demo(&cli.global, &paths, &args).await,
        Some(Command::Status(_)) => not_yet("status", "environment health"),
        Some(Command::History(_)) => not_yet("history", "rollback"),
        Some(Command::Canary(sub)) => {
            let name = match sub {
                CanaryCommand::Status(_) => "canary status",
                CanaryCommand::Step(_) => "canary step",
                CanaryCommand::Back(_) => "canary back",
                CanaryCommand::Set(_) => "canary set",
                CanaryCommand::Abort(_) => "canary abort",
                CanaryCommand::Promote(_) => "canary promote",
            };
            not_yet(name, "canary control")
        }
        Some(Command::Restart(_)) => not_yet("restart", "the operations core"),
        Some(Command::Pause(_)) => not_yet("pause", "the operations core"),
        Some(Command::Resume(_)) => not_yet("resume", "the operations core"),
        Some(Command::Rollback(_)) => not_yet("rollback", "rollback"),
        Some(Command::Checklist(_)) => not_yet("checklist", "the pre-deploy checklist"),
        Some(Command::Audit(_)) => not_yet("audit", "the operations core"),
    }
}

/// Honest about what has not been built: nothing pretends to work.
fn not_yet(command: &str, feature: &str) -> Result<Exit, Failure> {
    Err(Failure::usage(format!(
        "`opsdeck {command}` is not implemented yet (it arrives with {feature}; see CHANGELOG.md)"
    )))
}

fn kubeconfig_source(global: &GlobalArgs) -> KubeconfigSource {
    global.kubeconfig.clone().map_or(KubeconfigSource::Default, KubeconfigSource::File)
}

/// A loaded config with the text it came from, for locating later errors.
struct Loaded {
    config: Config,
}

/// Reads the config and checks its contexts against the kubeconfig (when one can be read).
fn load_config(
    path: &Path,
    given: bool,
    kubeconfig: Result<&kube::config::Kubeconfig, &String>,
) -> Result<Loaded, Failure> {
    if !given && !path.exists() {
        return Err(Failure::usage(format!(
            "no config at {}: run `opsdeck init` to write one from your kubeconfig's contexts, \
             pass --config FILE, or try `opsdeck demo`",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("{}: cannot read config: {e}", path.display())))?;
    let config = config::parse(path, &text).map_err(|e| Failure::usage(e.to_string()))?;
    if let Ok(kubeconfig) = kubeconfig {
        let errors = config::check_contexts(&config, path, &text, &cluster::context_names(kubeconfig));
        if !errors.is_empty() {
            return Err(Failure::usage(errors.to_string()));
        }
    }
    Ok(Loaded { config })
}

/// `opsdeck demo`: the fleet, then either the console on it or, with `--serve-only`, a
/// `ready` line and service until a signal.
async fn demo(global: &GlobalArgs, paths: &Paths, args: &DemoArgs) -> Result<Exit, Failure> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(Failure::usage(format!("--speed {} must be a positive number", args.speed)));
    }
    let timing = crate::demo::Timing { speed: args.speed, ..crate::demo::Timing::default() };
    let options = crate::demo::FleetOptions { pods: args.pods, timing, watch_log: None };
    let fleet = crate::demo::Fleet::start(options).await.map_err(|e| Failure::new(Exit::Failed, e))?;
    let (dir, temporary) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("opsdeck-demo-{}", std::process::id())), true),
    };
    let (kubeconfig, config) = fleet.write_files(&dir).map_err(|e| Failure::new(Exit::Failed, e))?;
    let result = if args.serve_only {
        println!("ready");
        wait_for_signal().await;
        Ok(Exit::Ok)
    } else {
        let global =
            GlobalArgs { config: Some(config), kubeconfig: Some(kubeconfig), readonly: global.readonly };
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

async fn console(global: &GlobalArgs, paths: &Paths, demo: bool) -> Result<Exit, Failure> {
    let path = config::resolve_path(global.config.as_deref(), paths);
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global));
    let Loaded { config } = load_config(&path, global.config.is_some(), kubeconfig.as_ref())?;

    let _log_guard = match crate::logging::init(paths.state_dir()) {
        Ok((guard, _)) => Some(guard),
        Err(reason) => {
            eprintln!("opsdeck: logging is off: {reason}");
            None
        }
    };
    tracing::info!(config = %path.display(), environments = config.environments.len(), "console starting");

    let mut state = State::new(&config, global.readonly);
    state.demo = demo;
    let (tx, rx) = mpsc::channel(256);
    let tasks: Vec<_> = config
        .environments
        .iter()
        .enumerate()
        .map(|(index, env)| {
            cluster::spawn_environment(
                index,
                env.context().to_owned(),
                kubeconfig.clone(),
                ConnectTimeouts::default(),
                tx.clone(),
            )
        })
        .collect();
    drop(tx);
    let result = crate::tui::run(state, rx).await;
    for task in tasks {
        task.abort();
    }
    result.map_err(|e| Failure::new(Exit::Failed, format!("terminal error: {e}")))?;
    Ok(Exit::Ok)
}

fn init(global: &GlobalArgs, paths: &Paths, args: &InitArgs) -> Result<Exit, Failure> {
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
    println!(
        "wrote {} with {} environments; review each environment's protection",
        path.display(),
        contexts.len()
    );
    Ok(Exit::Ok)
}
