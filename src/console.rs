//! The console without its terminal: the state, the cluster tasks feeding it, the service
//! taking its effects to the operation engine, and the clock. The terminal loop (`tui`) draws
//! it and feeds it keys; tests drive the very same thing headless, pressing keys through the
//! reducer and watching what the real tasks do against the demo fleet.

mod service;

use std::sync::Arc;
use std::time::Duration;

use kube::config::Kubeconfig;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use service::Files;

use crate::app::{Action, Effect, OpEvent, State, update};
use crate::audit::{AuditLog, Webhook};
use crate::cluster::{self, ConnectTimeouts, EnvUpdate};
use crate::config::Fleet;
use crate::engine::{Analysis, Board, Engine};

/// Between ticks of a screen that counts, the clock still moves this often: deployment windows
/// open and close with it, and a column says so within half a minute.
const IDLE_TICK: Duration = Duration::from_secs(30);
/// Log events applied in one batch at most, so keys still get their turn under a flood.
const LOG_BATCH: usize = 2_000;

/// Where the console's inputs come from, besides the keyboard.
pub struct Inputs {
    env_updates: mpsc::Receiver<(usize, EnvUpdate)>,
    op_events: mpsc::Receiver<OpEvent>,
    log_events: mpsc::Receiver<(u64, crate::cluster::logs::LogEvent)>,
    clock: tokio::time::Interval,
    idle_clock: tokio::time::Interval,
    /// Environment names by index, for publishing metrics rounds.
    envs: Vec<String>,
    /// The engine's analysis gate judges by the same rounds the screen shows.
    board: Board,
}

impl Inputs {
    /// The next batch of actions: an environment update with every one already queued behind
    /// it (one frame for all), an operation event, or the clock (every second while
    /// `ticking`, else every half minute). `None` once every source has closed.
    pub async fn next(&mut self, ticking: bool) -> Option<Vec<Action>> {
        let batch = tokio::select! {
            Some((index, update)) = self.env_updates.recv() => {
                let mut batch = vec![Action::Env { index, update }];
                while let Ok((index, update)) = self.env_updates.try_recv() {
                    batch.push(Action::Env { index, update });
                }
                batch
            }
            Some(event) = self.op_events.recv() => vec![Action::Op(event)],
            Some(first) = self.log_events.recv() => {
                // A fast stream is drawn once per batch, not once per line.
                let mut events = vec![first];
                while events.len() < LOG_BATCH {
                    match self.log_events.try_recv() {
                        Ok(event) => events.push(event),
                        Err(_) => break,
                    }
                }
                vec![Action::Logs(events)]
            }
            _ = self.clock.tick(), if ticking => vec![Action::Tick { now: jiff::Timestamp::now() }],
            _ = self.idle_clock.tick(), if !ticking => vec![Action::Tick { now: jiff::Timestamp::now() }],
            else => return None,
        };
        for action in &batch {
            if let Action::Env { index, update: EnvUpdate::Metrics(round) } = action
                && let Some(env) = self.envs.get(*index)
            {
                self.board.publish(env, Arc::clone(round));
            }
        }
        Some(batch)
    }
}

/// The running console: state, inputs, and the channel its effects leave by.
pub struct Console {
    pub state: State,
    pub inputs: Inputs,
    effects: mpsc::UnboundedSender<Effect>,
    tasks: Vec<JoinHandle<()>>,
}

/// What the console needs to start.
pub struct Setup {
    pub fleet: Arc<Fleet>,
    /// Where signed checklists are kept, and the config file checklist paths are relative to.
    pub files: Files,
    pub kubeconfig: Result<Kubeconfig, String>,
    pub readonly: bool,
    pub audit: Result<AuditLog, String>,
    pub webhook: Option<Webhook>,
    pub demo: bool,
}

/// Applies one action and hands its effects to the service; whether to redraw.
pub fn apply(state: &mut State, effects: &mpsc::UnboundedSender<Effect>, action: Action) -> bool {
    let result = update(state, action);
    for effect in result.effects {
        // The service lives as long as the console; a send can only fail at shutdown.
        let _ = effects.send(effect);
    }
    result.redraw
}

impl Console {
    /// Starts one task per environment and the service in front of the engine.
    pub fn start(setup: Setup) -> Self {
        let Setup { fleet, files, kubeconfig, readonly, audit, webhook, demo } = setup;
        let now = jiff::Timestamp::now();
        let mut state = State::new(Arc::clone(&fleet), readonly, now);
        state.demo = demo;
        let board = Board::default();
        let engine = Engine::new(crate::engine::Setup {
            fleet: Arc::clone(&fleet),
            kubeconfig: kubeconfig.clone(),
            readonly,
            audit,
            webhook,
            data_dir: files.data_dir.clone(),
            analysis: Analysis::Live(board.clone()),
            say: None,
        });
        let (op_tx, op_events) = mpsc::channel(64);
        let (log_tx, log_events) = mpsc::channel(4096);
        let effects = service::spawn(engine, files, state.controls.console.clone(), op_tx, log_tx);
        let (tx, env_updates) = mpsc::channel(256);
        let tasks = fleet
            .environments
            .iter()
            .enumerate()
            .map(|(index, env)| {
                cluster::spawn_environment(
                    index,
                    env.context.clone(),
                    cluster::EnvWatch::for_env(&fleet, &env.name),
                    kubeconfig.clone(),
                    ConnectTimeouts::default(),
                    tx.clone(),
                )
            })
            .collect();
        let mut clock = tokio::time::interval(Duration::from_secs(1));
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut idle_clock = tokio::time::interval_at(tokio::time::Instant::now() + IDLE_TICK, IDLE_TICK);
        idle_clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let envs = fleet.environments.iter().map(|e| e.name.clone()).collect();
        Self {
            state,
            inputs: Inputs { env_updates, op_events, log_events, clock, idle_clock, envs, board },
            effects,
            tasks,
        }
    }

    /// Applies one action (a key, say); whether to redraw.
    pub fn apply(&mut self, action: Action) -> bool {
        apply(&mut self.state, &self.effects, action)
    }

    /// The channel effects leave by, for a loop that applies actions itself.
    pub fn effects(&self) -> &mpsc::UnboundedSender<Effect> {
        &self.effects
    }

    /// Waits for the next batch of inputs and applies it; whether to redraw, or `None` when
    /// the inputs have closed.
    pub async fn step(&mut self) -> Option<bool> {
        let batch = self.inputs.next(self.state.ticking()).await?;
        let mut redraw = false;
        for action in batch {
            redraw |= self.apply(action);
        }
        Some(redraw)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
