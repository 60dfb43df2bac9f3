//! What a front end asks the engine for: the same value whether a key was pressed or a
//! command typed. Where the console and the command line must differ, the difference is a
//! field here, never a second code path.

use crate::ops::controllers::Verb;
use crate::ops::{CanaryRequest, Operation};

/// The version a release brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// The stable image's repository at this tag.
    Tag(String),
    /// Exactly the image (tag or digest) this environment's stable Deployment runs.
    From(String),
}

/// The change asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    Restart,
    Pause,
    Resume,
    Canary(CanaryRequest),
    /// Auto mode on for the app's canary: no write of its own, but confirmed like one, and
    /// under the same rules (windows, the checklist gate, read-only).
    AutoMode,
    /// Every active canary in every environment to weight 0.
    KillSwitch,
    /// `kubectl rollout undo`, to the previous revision or the one named; an active canary is
    /// aborted first, in the same plan.
    Rollback {
        to_revision: Option<u64>,
    },
    /// Suspend the Flux object that would revert a rollback.
    SuspendGitOps,
    /// A new version on the app's canary, then the first step once its pods are ready.
    StartCanary(Version),
    /// The version another environment runs (`from`), into this one: a canary started with it
    /// where one is configured, else the stable Deployment's image set and rolled out.
    Promote {
        from: String,
    },
    /// A verb of the controller that runs the app's release (Argo Rollouts, Flagger).
    Controller(Verb),
}

impl Ask {
    pub fn operation(&self) -> Operation {
        match *self {
            Self::Restart => Operation::Restart,
            Self::Pause => Operation::Pause,
            Self::Resume => Operation::Resume,
            Self::Canary(request) => request.operation(),
            Self::AutoMode => Operation::CanaryAuto,
            Self::KillSwitch => Operation::CanaryAbort,
            Self::Rollback { .. } => Operation::Rollback,
            Self::SuspendGitOps => Operation::SuspendGitOps,
            Self::StartCanary(_) => Operation::CanaryStart,
            Self::Promote { .. } => Operation::Promote,
            Self::Controller(ref verb) => match verb {
                Verb::Promote => Operation::ControllerPromote,
                Verb::PromoteFull => Operation::ControllerPromoteFull,
                Verb::Abort => Operation::ControllerAbort,
                Verb::Retry => Operation::ControllerRetry,
                Verb::Pause => Operation::ControllerPause,
                Verb::Resume => Operation::ControllerResume,
                Verb::Gate { open: true, .. } => Operation::GateOpen,
                Verb::Gate { open: false, .. } => Operation::GateClose,
                Verb::Restart { .. } => Operation::Restart,
            },
        }
    }

    /// How the request is named in messages: `canary-step`, `kill-switch`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::KillSwitch => "kill-switch",
            other => other.operation().name(),
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An operator at the console or the command line: the confirmation is theirs to give.
    Operator,
    /// Auto mode, which the operator confirmed when turning it on: it asks no question, never
    /// overrides the analysis, and records the operator's reason with each write.
    Auto { reason: String },
    /// The guard, on a `rollback` verdict: only a rollback, on the standing consent the
    /// environment's `auto_rollback` or the pipeline's `guard --rollback --yes` gave; the
    /// tree's reason is recorded with it.
    Guard { reason: String },
}

impl Origin {
    /// How the audit record marks a write no person confirmed at the moment it was made.
    pub fn automatic(&self) -> Option<&'static str> {
        match self {
            Self::Operator => None,
            Self::Auto { .. } => Some("auto-mode"),
            Self::Guard { .. } => Some("guard"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Empty for the kill switch, which names every environment.
    pub env: String,
    /// Empty for the kill switch.
    pub app: String,
    pub ask: Ask,
    /// A rollback of a paused Deployment resumes it in the same write, so the old template
    /// rolls out. Without it such a rollback is refused, as kubectl refuses it: the console
    /// offers it as a choice, the command line as `--resume`.
    pub resume_paused: bool,
    /// Written is done: do not wait for the rollout (`--no-wait`).
    pub no_wait: bool,
    /// A write to a Deployment that Flux reconciles suspends the Flux object first, in the same
    /// plan, so the next sync does not revert it. Without it such a promotion is refused: the
    /// console offers it as a choice, the command line as `--suspend-gitops`.
    pub suspend_gitops: bool,
    pub origin: Origin,
}

impl Request {
    pub fn new(env: impl Into<String>, app: impl Into<String>, ask: Ask) -> Self {
        Self {
            env: env.into(),
            app: app.into(),
            ask,
            resume_paused: false,
            no_wait: false,
            suspend_gitops: false,
            origin: Origin::Operator,
        }
    }

    pub fn kill_switch() -> Self {
        Self::new("", "", Ask::KillSwitch)
    }

    /// `canary-step production/web`, `kill switch`.
    pub fn describe(&self) -> String {
        match &self.ask {
            Ask::KillSwitch => "kill switch".to_owned(),
            Ask::Promote { from } => format!("promote {} {from} → {}", self.app, self.env),
            ask => format!("{} {}/{}", ask.name(), self.env, self.app),
        }
    }
}
