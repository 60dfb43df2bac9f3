//! Wires the command line to config, cluster, operations and console.

mod audit;
mod canary;
mod checklist;
mod console;
mod init;
mod operate;
mod rollback;
mod status;

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{CanaryCommand, Cli, Command, GlobalArgs, TargetArgs, WriteArgs};
use crate::cluster::{self, KubeconfigSource};
use crate::config::{self, Config, Paths};
use crate::exit::{Exit, Failure};
use crate::ops::Operation;
use crate::runner::CanaryRequest;

pub async fn run(cli: Cli) -> Result<Exit, Failure> {
    let paths = Paths::discover();
    match cli.command {
        None => console::console(&cli.global, &paths, false).await,
        Some(Command::Init(args)) => init::init(&cli.global, &paths, &args),
        Some(Command::Completions(args)) => {
            clap_complete::generate(args.shell, &mut Cli::command(), "opsdeck", &mut std::io::stdout());
            Ok(Exit::Ok)
        }
        Some(Command::Demo(args)) => console::demo(&cli.global, &paths, &args).await,
        Some(Command::Status(args)) => status::status(&cli.global, &paths, &args).await,
        Some(Command::History(args)) => rollback::history(&cli.global, &paths, &args).await,
        Some(Command::Canary(sub)) => match sub {
            CanaryCommand::Status(args) => canary::status(&cli.global, &paths, &args).await,
            CanaryCommand::Step(args) => {
                let overridden = args.override_reason.as_deref();
                canary::change(&cli.global, &paths, CanaryRequest::Step, &args.write, overridden).await
            }
            CanaryCommand::Back(args) => {
                canary::change(&cli.global, &paths, CanaryRequest::Back, &args, None).await
            }
            CanaryCommand::Set(args) => {
                let request = CanaryRequest::Set(u32::from(args.weight));
                let overridden = args.raise.override_reason.as_deref();
                canary::change(&cli.global, &paths, request, &args.raise.write, overridden).await
            }
            CanaryCommand::Abort(args) if args.all => canary::abort_all(&cli.global, &paths, &args).await,
            CanaryCommand::Abort(args) => {
                let write = WriteArgs {
                    target: TargetArgs {
                        env: args.env.clone().unwrap_or_default(),
                        app: args.app.clone().unwrap_or_default(),
                        json: args.json,
                    },
                    yes: args.yes,
                    reason: args.reason.clone(),
                };
                canary::change(&cli.global, &paths, CanaryRequest::Abort, &write, None).await
            }
            CanaryCommand::Promote(args) => {
                let overridden = args.override_reason.as_deref();
                canary::change(&cli.global, &paths, CanaryRequest::Promote, &args.write, overridden).await
            }
        },
        Some(Command::Restart(args)) => {
            operate::deployment(&cli.global, &paths, Operation::Restart, &args).await
        }
        Some(Command::Pause(args)) => operate::deployment(&cli.global, &paths, Operation::Pause, &args).await,
        Some(Command::Resume(args)) => {
            operate::deployment(&cli.global, &paths, Operation::Resume, &args).await
        }
        Some(Command::Rollback(args)) => rollback::rollback(&cli.global, &paths, &args).await,
        Some(Command::Checklist(args)) => checklist::checklist(&cli.global, &paths, &args).await,
        Some(Command::Audit(args)) => audit::audit(&paths, &args),
    }
}

fn kubeconfig_source(global: &GlobalArgs) -> KubeconfigSource {
    global.kubeconfig.clone().map_or(KubeconfigSource::Default, KubeconfigSource::File)
}

/// Reads the config and checks its contexts against the kubeconfig (when one can be read).
fn load_config(
    path: &Path,
    given: bool,
    kubeconfig: Result<&kube::config::Kubeconfig, &String>,
) -> Result<Config, Failure> {
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
    Ok(config)
}
