use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use opsdeck::cli::Cli;
use opsdeck::exit::Exit;

fn main() -> ExitCode {
    // The kubeconfig's exec credential plugins run through this binary (see
    // `cluster::plugin`): no runtime, no command line of ours, just the plugin on a leash.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(opsdeck::cluster::plugin::SUBCOMMAND) {
        let command = args.get(2..).unwrap_or_default();
        let command = command.strip_prefix(&["--".to_owned()]).unwrap_or(command);
        return opsdeck::cluster::plugin::run(command);
    }
    let cli = Cli::parse();
    if let Err(e) = color_eyre::install() {
        eprintln!("opsdeck: cannot install the error reporter: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("opsdeck: cannot start the async runtime: {e}");
            return Exit::Failed.into();
        }
    };
    let result = runtime.block_on(opsdeck::commands::run(cli));
    // A credential plugin stuck on a blocking thread must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(500));
    match result {
        Ok(exit) => exit.into(),
        Err(failure) => {
            eprintln!("opsdeck: {failure}");
            failure.exit.into()
        }
    }
}
