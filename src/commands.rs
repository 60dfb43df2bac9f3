//! Wires the command line to config, cluster, operations and console.

/// Standard output for a command's answer. A reader that went away (`opsdeck status | head`)
/// is not a reason to stop: `println!` would panic mid-command, perhaps between a write and
/// its audit record, so what cannot be written is dropped and the command runs to its end.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// [`out!`] without the newline.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod audit;
mod canary;
mod checklist;
mod console;
mod guard;
mod init;
mod logs;
mod rollback;
mod status;
mod team;
pub mod write;

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{CanaryCommand, Cli, Command, GateAction, GlobalArgs, WriteArgs};
use crate::cluster::{self, KubeconfigSource};
use crate::config::{self, Config, Paths};
use crate::engine::{Ask, Request, Version};
use crate::exit::{Exit, Failure};
use crate::ops::CanaryRequest;
use crate::ops::controllers::Verb;
use write::Flags;

/// A write to one app: the request, and what its flags answer.
async fn write_app(
    global: &GlobalArgs,
    paths: &Paths,
    ask: Ask,
    args: &WriteArgs,
    override_reason: Option<&str>,
) -> Result<Exit, Failure> {
    let request = Request::new(args.target.env.clone(), args.target.app.clone(), ask);
    let flags = Flags {
        yes: args.yes,
        reason: args.reason.as_deref(),
        override_reason,
        json: args.target.json,
        take_over: false,
    };
    write::run(global, paths, request, flags).await
}

/// `opsdeck canary …`: status reads; every other verb is a write through the engine.
async fn canary_command(global: &GlobalArgs, paths: &Paths, sub: CanaryCommand) -> Result<Exit, Failure> {
    let canary = |request| Ask::Canary(request);
    match sub {
        CanaryCommand::Status(args) => canary::status(global, paths, &args).await,
        CanaryCommand::Start(args) => {
            let version = match (&args.version, &args.from) {
                (Some(tag), _) => Version::Tag(tag.clone()),
                (None, Some(env)) => Version::From(env.clone()),
                (None, None) => return Err(Failure::usage("pass --version TAG or --from ENV")),
            };
            write_app(global, paths, Ask::StartCanary(version), &args.write, None).await
        }
        CanaryCommand::Step(args) => {
            let overridden = args.override_reason.as_deref();
            write_app(global, paths, canary(CanaryRequest::Step), &args.write, overridden).await
        }
        CanaryCommand::Back(args) => write_app(global, paths, canary(CanaryRequest::Back), &args, None).await,
        CanaryCommand::Set(args) => {
            let request = canary(CanaryRequest::Set(u32::from(args.weight)));
            let overridden = args.raise.override_reason.as_deref();
            write_app(global, paths, request, &args.raise.write, overridden).await
        }
        CanaryCommand::Abort(args) => {
            let request = if args.all {
                Request::kill_switch()
            } else {
                Request::new(
                    args.env.clone().unwrap_or_default(),
                    args.app.clone().unwrap_or_default(),
                    canary(CanaryRequest::Abort),
                )
            };
            let flags = Flags {
                yes: args.yes,
                reason: args.reason.as_deref(),
                override_reason: None,
                json: args.json,
                take_over: false,
            };
            write::run(global, paths, request, flags).await
        }
        CanaryCommand::Promote(args) => {
            let overridden = args.raise.override_reason.as_deref();
            let ask =
                if args.full { Ask::Controller(Verb::PromoteFull) } else { canary(CanaryRequest::Promote) };
            write_app(global, paths, ask, &args.raise.write, overridden).await
        }
        CanaryCommand::Retry(args) => {
            write_app(global, paths, Ask::Controller(Verb::Retry), &args, None).await
        }
        CanaryCommand::Pause(args) => {
            write_app(global, paths, Ask::Controller(Verb::Pause), &args, None).await
        }
        CanaryCommand::Resume(args) => {
            write_app(global, paths, Ask::Controller(Verb::Resume), &args, None).await
        }
        CanaryCommand::Gate(args) => {
            let verb = Verb::Gate { name: args.name.clone(), open: args.action == GateAction::Open };
            write_app(global, paths, Ask::Controller(verb), &args.write, None).await
        }
    }
}

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
        Some(Command::Logs(args)) => logs::logs(&cli.global, &paths, &args).await,
        Some(Command::Canary(sub)) => canary_command(&cli.global, &paths, sub).await,
        Some(Command::Restart(args)) => write_app(&cli.global, &paths, Ask::Restart, &args, None).await,
        Some(Command::Pause(args)) => write_app(&cli.global, &paths, Ask::Pause, &args, None).await,
        Some(Command::Resume(args)) => write_app(&cli.global, &paths, Ask::Resume, &args, None).await,
        Some(Command::Promote(args)) => {
            let mut request =
                Request::new(args.to.clone(), args.app.clone(), Ask::Promote { from: args.from.clone() });
            request.suspend_gitops = args.suspend_gitops;
            let flags = Flags {
                yes: args.yes,
                reason: args.reason.as_deref(),
                override_reason: None,
                json: args.json,
                take_over: false,
            };
            write::run(&cli.global, &paths, request, flags).await
        }
        Some(Command::Rollback(args)) => {
            let target = &args.write.target;
            let mut request = Request::new(
                target.env.clone(),
                target.app.clone(),
                Ask::Rollback { to_revision: args.to_revision },
            );
            request.resume_paused = args.resume;
            request.no_wait = args.no_wait;
            let flags = Flags {
                yes: args.write.yes,
                reason: args.write.reason.as_deref(),
                override_reason: None,
                json: target.json,
                take_over: false,
            };
            write::run(&cli.global, &paths, request, flags).await
        }
        Some(Command::Guard(args)) => guard::guard(&cli.global, &paths, &args).await,
        Some(Command::Checklist(args)) => checklist::checklist(&cli.global, &paths, &args).await,
        Some(Command::Audit(args)) => audit::audit(&cli.global, &paths, &args).await,
        Some(Command::Approvals(args)) => team::approvals(&cli.global, &paths, &args).await,
        Some(Command::Approve(args)) => {
            team::answer(&cli.global, &paths, &args.id, args.env.as_deref(), true, args.reason.as_deref())
                .await
        }
        Some(Command::Deny(args)) => {
            team::answer(&cli.global, &paths, &args.id, args.env.as_deref(), false, Some(&args.reason)).await
        }
        Some(Command::ClusterSetup(args)) => team::cluster_setup(&cli.global, &paths, &args).await,
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
