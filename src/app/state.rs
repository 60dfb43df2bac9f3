//! What the console knows right now.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::auto::AutoMode;
use super::canary::CanarySpec;
use super::confirm::ConfirmState;
use super::keymap::Mode;
use crate::cluster::{ServerInfo, Snapshot};
use crate::config::{Color, Fleet, Placement, Protection, parse_color};
use crate::engine::Request;
use crate::health::Drift;
use crate::metrics::MetricsSnapshot;
use crate::ops::Confirmation;

/// An environment's connection as last reported by its cluster task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Reachable {
        server: ServerInfo,
        at: jiff::Timestamp,
    },
    /// `last_ok` is when it last answered, if it ever did.
    Unreachable {
        reason: String,
        at: jiff::Timestamp,
        last_ok: Option<jiff::Timestamp>,
    },
    Misconfigured {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvState {
    pub name: String,
    pub context: String,
    pub namespaces: Vec<String>,
    pub protection: Protection,
    /// Writes refused, by config or by `--readonly`.
    pub readonly: bool,
    pub color: Color,
    pub connection: Connection,
    /// The Kubernetes user this environment's context authenticates as, once known.
    pub user: Option<String>,
    /// Whether the server holds the team's records to their writers (the admission policy
    /// is installed); `None` until known, or when it cannot be read.
    pub records_enforced: Option<bool>,
    /// Changes that add risk here wait for a second user's approval.
    pub require_approval: bool,
    /// What the watchers see and the health model's verdicts, once the first sync is in.
    pub snapshot: Option<Arc<Snapshot>>,
    /// Per app, how this environment's version compares with its neighbours'.
    pub drift: BTreeMap<String, Drift>,
    pub windows: Vec<crate::config::Window>,
    pub blackouts: Vec<crate::config::Blackout>,
    /// The latest metrics round, or why there are no metrics.
    pub metrics: Option<Result<Arc<MetricsSnapshot>, String>>,
}

/// A screen drawn over the others.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    /// Planning, authorizing and dry-running an operation.
    Preparing {
        what: String,
    },
    Confirm(Box<ConfirmState>),
    /// The engine refused the request as asked, but says what would make it acceptable: `y`
    /// asks again with that (`request`), `n` or Esc drops it.
    Choice {
        question: String,
        request: Box<Request>,
    },
    /// The confirmed operation is running.
    Running {
        sentence: String,
        stage: String,
    },
    /// How it ended.
    Finished {
        sentence: String,
        outcome: String,
        message: String,
    },
    /// One environment's detail, optionally filtered by a name substring.
    Drill {
        env: usize,
        scroll: usize,
        filter: String,
        typing: bool,
    },
    /// Colleagues' approval requests (`A`).
    Approvals(super::approvals::Approvals),
    /// The audit log, newest first; `None` while it loads.
    Audit {
        records: Option<Result<Vec<crate::audit::Record>, String>>,
        scroll: usize,
    },
}

/// The screen under any overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Overview,
    /// One app's canary in one environment (indexes into `envs` and `apps`); `input` holds a
    /// weight being typed.
    Canary {
        env: usize,
        app: usize,
        input: Option<String>,
    },
    /// One app's rollback in one environment: its revisions with `selected` chosen, then the
    /// live progress of the rollback once one is confirmed.
    Rollback {
        env: usize,
        app: usize,
        selected: Option<u64>,
        progress: Option<super::rollback::Progress>,
    },
    /// An environment's checklist walk-through (the walk itself is in `State::walks`, so
    /// leaving the screen keeps it).
    Checklist {
        env: usize,
    },
    /// One app's logs in one environment (the lines are in `State::logs`); Esc goes back to
    /// the screen it was opened from.
    Logs {
        env: usize,
        app: usize,
        back: Box<Screen>,
    },
    /// One app's guard in one environment: the tree with every node's evidence.
    Guard {
        env: usize,
        app: usize,
    },
}

/// A one-line message under the columns: why an action is unavailable, what just happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct State {
    /// The config, resolved: where each app lives in each environment.
    pub fleet: Arc<Fleet>,
    pub envs: Vec<EnvState>,
    pub apps: Vec<String>,
    /// Each app's canary settings, in the same order as `apps`; `None` without a canary.
    pub canaries: Vec<Option<CanarySpec>>,
    pub selected_env: usize,
    pub selected_app: usize,
    pub screen: Screen,
    /// What covers the screen, if anything; it takes the keys first.
    pub overlay: Option<Overlay>,
    /// Canaries the console is stepping by itself.
    pub autos: Vec<AutoMode>,
    /// Checklist walk-throughs in progress, by environment name.
    pub walks: std::collections::BTreeMap<String, super::checklist::Walk>,
    /// Checklists being read for the first time (`None`), or why one could not be.
    pub checklist_pending: std::collections::BTreeMap<String, Option<String>>,
    /// The rollback screen's app's recent error lines.
    pub recent_errors: Option<super::rollback::RecentErrors>,
    /// The log screen's lines, while it is open.
    pub logs: Option<super::logs::LogView>,
    /// Every app's latest guard.
    pub guards: super::guard::Guards,
    /// Who is at the controls of which app: this console's Leases and everyone's.
    pub controls: super::controls::Controls,
    /// Operations confirmed here that wait for approval, by request id.
    pub awaiting: std::collections::BTreeMap<String, crate::engine::Request>,
    /// When the console started: team records older than this are history, not news.
    pub started: jiff::Timestamp,
    /// The last follow started: each gets a new number.
    pub log_session: u64,
    /// The time as of the last tick: auto mode's decisions are made against it.
    pub clock: jiff::Timestamp,
    pub notice: Option<Notice>,
    /// `--readonly`: the whole console refuses writes.
    pub readonly: bool,
    /// Opened by `opsdeck demo`: every environment is simulated, and the header says so.
    pub demo: bool,
    pub quit: bool,
}

/// Colours for environments without one in config: production-looking ones red.
fn default_color(protection: Protection) -> Color {
    match protection {
        Protection::Typed => Color::Red,
        Protection::Confirm => Color::Yellow,
        Protection::None => Color::Cyan,
    }
}

impl State {
    /// Which keymap section applies now.
    pub fn mode(&self) -> Mode {
        match &self.overlay {
            None => match &self.screen {
                Screen::Overview => Mode::Overview,
                Screen::Canary { input: None, .. } => Mode::Canary,
                Screen::Canary { input: Some(_), .. } => Mode::CanaryWeight,
                Screen::Rollback { .. } => Mode::Rollback,
                Screen::Checklist { env } => {
                    let typing = self
                        .walks
                        .get(&self.envs.get(*env).map(|e| e.name.clone()).unwrap_or_default())
                        .is_some_and(|w| w.input.is_some());
                    if typing { Mode::ChecklistInput } else { Mode::Checklist }
                }
                Screen::Guard { .. } => Mode::Guard,
                Screen::Logs { .. } => {
                    if self.logs.as_ref().is_some_and(|l| l.typing) {
                        Mode::LogsFilter
                    } else {
                        Mode::Logs
                    }
                }
            },
            Some(Overlay::Help) => Mode::Help,
            Some(Overlay::Confirm(c))
                if matches!(c.confirmation(), Confirmation::Typed { .. } | Confirmation::Reason) =>
            {
                Mode::ConfirmTyped
            }
            Some(Overlay::Confirm(_) | Overlay::Choice { .. }) => Mode::ConfirmYesNo,
            Some(Overlay::Preparing { .. } | Overlay::Running { .. }) => Mode::Busy,
            Some(Overlay::Finished { .. }) => Mode::Result,
            Some(Overlay::Audit { .. }) => Mode::Audit,
            Some(Overlay::Approvals(a)) if a.reason.is_some() => Mode::ApprovalsReason,
            Some(Overlay::Approvals(_)) => Mode::Approvals,
            Some(Overlay::Drill { typing: true, .. }) => Mode::DrillFilter,
            Some(Overlay::Drill { .. }) => Mode::Drill,
        }
    }

    /// The state before anything is known, at `now`.
    pub fn new(fleet: Arc<Fleet>, readonly: bool, now: jiff::Timestamp) -> Self {
        let envs = fleet
            .config
            .environments
            .iter()
            .map(|e| EnvState {
                name: e.name().to_owned(),
                context: e.context().to_owned(),
                namespaces: e.namespaces.clone(),
                protection: e.protection,
                readonly: readonly || e.readonly,
                color: e
                    .color
                    .as_ref()
                    .and_then(|c| parse_color(c.get_ref()))
                    .unwrap_or_else(|| default_color(e.protection)),
                connection: Connection::Connecting,
                user: None,
                records_enforced: None,
                require_approval: e.require_approval,
                snapshot: None,
                metrics: None,
                drift: BTreeMap::new(),
                windows: e.windows.clone(),
                blackouts: e.blackouts.clone(),
            })
            .collect();
        let apps = fleet.app_names();
        let canaries = apps.iter().map(|a| CanarySpec::of(&fleet, a)).collect();
        Self {
            fleet,
            envs,
            apps,
            canaries,
            selected_env: 0,
            selected_app: 0,
            screen: Screen::Overview,
            overlay: None,
            autos: Vec::new(),
            walks: std::collections::BTreeMap::new(),
            checklist_pending: std::collections::BTreeMap::new(),
            logs: None,
            log_session: 0,
            guards: super::guard::Guards::default(),
            controls: super::controls::Controls::new(crate::team::lease::console_id()),
            awaiting: std::collections::BTreeMap::new(),
            started: now,
            recent_errors: None,
            clock: now,
            notice: None,
            readonly,
            demo: false,
            quit: false,
        }
    }
}

impl State {
    /// Whether the clock must tick: a countdown or a time-at-step is on screen, or auto mode
    /// has decisions to make. At idle on the overview nothing ticks and nothing is drawn.
    pub fn ticking(&self) -> bool {
        !self.autos.is_empty() || self.clock_on_screen()
    }

    /// Whether the screen shows something that moves with the clock: the canary screen's time
    /// at this step and countdown, a rollback's elapsed time.
    pub fn clock_on_screen(&self) -> bool {
        matches!(
            self.screen,
            Screen::Canary { .. } | Screen::Rollback { progress: Some(_), .. } | Screen::Logs { .. }
        )
    }

    /// What each column says about its deployment windows as of the clock: the countdown in
    /// it moves by the minute.
    pub fn window_statuses(&self) -> Vec<String> {
        self.envs
            .iter()
            .map(|e| {
                let next = crate::windows::next_change(&e.windows, &e.blackouts, self.clock);
                crate::windows::status(&e.windows, &e.blackouts, self.clock).describe_until(next, self.clock)
            })
            .collect()
    }

    /// Where app `app` lives in environment `env` (indexes).
    pub fn placement(&self, env: usize, app: usize) -> Option<&Placement> {
        self.fleet.environments.get(env)?.apps.get(app)
    }

    /// The auto mode driving `app` in `env`, if any.
    pub fn auto(&self, env: &str, app: &str) -> Option<&AutoMode> {
        self.autos.iter().find(|a| a.env == env && a.app == app)
    }
}
