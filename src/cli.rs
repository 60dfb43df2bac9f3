//! The command line: the contract in DESIGN.md, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "opsdeck",
    version,
    about = "Terminal operations console for Kubernetes deployment windows",
    long_about = "Terminal operations console for Kubernetes deployment windows.\n\n\
        Without a subcommand, opens the console on every configured environment.\n\n\
        Exit codes: 0 ok; 1 the operation ran and failed (or a verdict failed); \
        2 usage or config error; 3 precondition failed; 4 forbidden; 5 environment unreachable."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Config file (default: the XDG config dir's opsdeck/opsdeck.toml).
    #[arg(long, global = true, value_name = "FILE", env = "OPSDECK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Refuse every write, whatever the environment's settings.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Write even though another user's console is at the app's controls (holds its Lease);
    /// the take-over is recorded.
    #[arg(long, global = true)]
    pub take_over: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start three simulated clusters on loopback and open the console on them.
    Demo(DemoArgs),
    /// Print every environment's health.
    Status(StatusArgs),
    /// List a Deployment's revisions.
    History(TargetArgs),
    /// The app's pod logs, merged by time, error lines marked (like stern).
    Logs(LogsArgs),
    /// Inspect and drive canaries.
    #[command(subcommand)]
    Canary(CanaryCommand),
    /// Restart a Deployment's pods (like `kubectl rollout restart`).
    Restart(WriteArgs),
    /// Pause a Deployment's rollout.
    Pause(WriteArgs),
    /// Resume a paused Deployment's rollout.
    Resume(WriteArgs),
    /// Roll a Deployment back (like `kubectl rollout undo`).
    Rollback(RollbackArgs),
    /// Bring the version one environment runs into the next: a canary where one is configured,
    /// else the stable Deployment's image, followed to completion.
    Promote(PromoteArgs),
    /// Follow the app's current rollout for a period and judge it by the rollback decision
    /// tree: exit 0 when it ends ok, 1 when it reached rollback (after rolling back, with
    /// --rollback) or ended on watch, 5 when the environment is unreachable.
    Guard(GuardArgs),
    /// Run the environment's pre-deploy checklist's automated checks.
    Checklist(ChecklistArgs),
    /// Approval requests in every environment's cluster: pending ones, and recent answers.
    Approvals(ApprovalsArgs),
    /// Approve a colleague's request (two-person approval); its operation then goes ahead.
    Approve(AnswerArgs),
    /// Deny a colleague's request, with the reason they will read.
    Deny(DenyArgs),
    /// Install the team's records namespace and the admission policy that holds each record to
    /// the Kubernetes user who wrote it (config/kubernetes/), after a confirmation.
    ClusterSetup(ClusterSetupArgs),
    /// Show the audit log.
    Audit(AuditArgs),
    /// Write a starter config from the kubeconfig's contexts.
    Init(InitArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Serve the fleet without the console: write D/kubeconfig and D/opsdeck.toml, print `ready`.
    #[arg(long, requires = "dir")]
    pub serve_only: bool,
    /// Directory for the kubeconfig and config the demo writes.
    #[arg(long, value_name = "D")]
    pub dir: Option<PathBuf>,
    /// Scale every environment up to N pods (for benchmarks).
    #[arg(long, value_name = "N")]
    pub pods: Option<usize>,
    /// Run the simulated clusters' clocks this many times faster (rollouts, crash loops).
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub speed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrackArg {
    Stable,
    Canary,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only this track's pods.
    #[arg(long, value_enum)]
    pub track: Option<TrackArg>,
    /// Only lines from this long ago on (e.g. 10m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<std::time::Duration>,
    /// The last N lines of each pod.
    #[arg(long, value_name = "N")]
    pub tail: Option<i64>,
    /// The previous container of each pod: what a crash-looping one said before it died.
    #[arg(long, conflicts_with = "follow")]
    pub previous: bool,
    /// Keep streaming new lines, picking up pods that start and dropping those that go,
    /// until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only lines matching this regular expression.
    #[arg(long, value_name = "RE")]
    pub grep: Option<String>,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::config::HumanDuration::parse(text).map(|d| d.0)
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this environment.
    #[arg(long, value_name = "E")]
    pub env: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// An app in one environment.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Environment name from the config.
    #[arg(long, value_name = "E")]
    pub env: String,
    /// App name from the config.
    #[arg(long, value_name = "A")]
    pub app: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// An app in one environment, for a command that writes.
#[derive(Debug, Clone, Args)]
pub struct WriteArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Skip the interactive confirmation (required where protection is `confirm` or `typed`).
    #[arg(long)]
    pub yes: bool,
    /// Why; recorded in the audit log (required outside a deployment window).
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CanaryCommand {
    /// Weight, both tracks' figures and the analysis verdict (exit 1 when it fails).
    Status(TargetArgs),
    /// Start a canary: the stable template with a new version, then the first step once its
    /// pods are ready.
    Start(StartArgs),
    /// Move to the next step of the plan.
    Step(RaiseArgs),
    /// Move back to the previous step.
    Back(WriteArgs),
    /// Set an exact weight (0-100).
    Set(SetArgs),
    /// Abort: weight 0 (with --all: every active canary in every environment).
    Abort(AbortArgs),
    /// Promote: stable takes the canary's template, then weight 0, then the canary scales down.
    /// On an app Argo Rollouts runs: clear the pause it waits at (with --full: skip the
    /// remaining steps).
    Promote(PromoteCanaryArgs),
    /// Argo Rollouts: retry an aborted update.
    Retry(WriteArgs),
    /// Argo Rollouts: pause the Rollout (`spec.paused`); Flagger: suspend the analysis.
    Pause(WriteArgs),
    /// Argo Rollouts: resume a paused Rollout; Flagger: resume the analysis.
    Resume(WriteArgs),
    /// Flagger: open or close a loadtester gate, named by its webhook.
    Gate(GateArgs),
}

#[derive(Debug, Args)]
pub struct PromoteCanaryArgs {
    #[command(flatten)]
    pub raise: RaiseArgs,
    /// Argo Rollouts: skip every remaining step and analysis (`status.promoteFull`).
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateAction {
    Open,
    Close,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// open or close.
    #[arg(value_enum)]
    pub action: GateAction,
    /// The webhook's name in the Canary's analysis (e.g. confirm-promotion).
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// A canary change that sends the canary more traffic: gated on the analysis verdict.
#[derive(Debug, Clone, Args)]
pub struct RaiseArgs {
    #[command(flatten)]
    pub write: WriteArgs,
    /// Go ahead although the analysis verdict is not pass; R is recorded with the verdict it
    /// overrides.
    #[arg(long = "override", value_name = "R")]
    pub override_reason: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("release").required(true).args(["version", "from"])))]
pub struct StartArgs {
    #[command(flatten)]
    pub write: WriteArgs,
    /// The new version: the stable image's repository at this tag.
    #[arg(long, value_name = "TAG")]
    pub version: Option<String>,
    /// Exactly the image (tag or digest) this environment's stable runs.
    #[arg(long, value_name = "ENV")]
    pub from: Option<String>,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// App name from the config.
    #[arg(long, value_name = "A")]
    pub app: String,
    /// The environment whose version goes on.
    #[arg(long, value_name = "ENV")]
    pub from: String,
    /// The environment it goes to.
    #[arg(long, value_name = "ENV")]
    pub to: String,
    /// Skip the interactive confirmation (required where protection is `confirm` or `typed`).
    #[arg(long)]
    pub yes: bool,
    /// Why; recorded in the audit log and the change-cause.
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
    /// Where Flux reconciles the target, suspend its Kustomization or HelmRelease first, in
    /// the same plan (without it such a promotion is refused).
    #[arg(long)]
    pub suspend_gitops: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The weight, 0-100.
    #[arg(value_name = "W", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub weight: u8,
    #[command(flatten)]
    pub raise: RaiseArgs,
}

#[derive(Debug, Args)]
pub struct AbortArgs {
    /// Every active canary in every environment: the kill switch.
    #[arg(long, conflicts_with_all = ["env", "app"])]
    pub all: bool,
    /// Environment name from the config.
    #[arg(long, value_name = "E", required_unless_present = "all")]
    pub env: Option<String>,
    /// App name from the config.
    #[arg(long, value_name = "A", required_unless_present = "all")]
    pub app: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Skip the interactive confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Why; recorded in the audit log.
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub write: WriteArgs,
    /// Roll back to this revision instead of the previous one.
    #[arg(long, value_name = "N")]
    pub to_revision: Option<u64>,
    /// Return once the change is written, without waiting for the rollout to complete.
    #[arg(long)]
    pub no_wait: bool,
    /// Roll back a paused Deployment and resume it in the same write, so the old template
    /// rolls out (without it a paused Deployment is refused, as kubectl refuses it).
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct GuardArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How long to guard (default: the environment's `guard.period`; 1h in production, else 15m).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub period: Option<std::time::Duration>,
    /// The baseline's window before the change, with the prometheus source (default 30m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub baseline: Option<std::time::Duration>,
    /// Roll back to the last known good when the tree says so, and wait for it to finish.
    #[arg(long)]
    pub rollback: bool,
    /// Agree now to the rollback --rollback makes without asking.
    #[arg(long)]
    pub yes: bool,
    /// Recorded with the rollback, besides the tree's reason.
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChecklistArgs {
    /// Environment name from the config.
    #[arg(long, value_name = "E")]
    pub env: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Print the environment's newest signed report instead of checking now.
    #[arg(long)]
    pub last: bool,
    /// Add your signature (as the Kubernetes user the server says you are) to the newest
    /// signed checklist run, for the next role of the sign-off block.
    #[arg(long, conflicts_with = "last")]
    pub cosign: bool,
}

#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    /// Only this environment.
    #[arg(long, value_name = "E")]
    pub env: Option<String>,
    /// Every request, answered and expired ones too.
    #[arg(long)]
    pub all: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The request's id (`r-3f9a1c`), as `opsdeck approvals` lists it.
    pub id: String,
    /// The environment the request is in (default: looked for in every one).
    #[arg(long, value_name = "E")]
    pub env: Option<String>,
    /// Why; the requester reads it.
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct DenyArgs {
    pub id: String,
    #[arg(long, value_name = "E")]
    pub env: Option<String>,
    /// Why; the requester reads it.
    #[arg(long, value_name = "R")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ClusterSetupArgs {
    #[arg(long, value_name = "E")]
    pub env: String,
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this environment's records (this machine's, and the team's in its cluster).
    #[arg(long, value_name = "E")]
    pub env: Option<String>,
    /// This machine's log only: no cluster is asked.
    #[arg(long)]
    pub local: bool,
    /// Only records newer than this (e.g. 30m, 2h, 7d).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Machine-readable output.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Markdown output.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing config file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
