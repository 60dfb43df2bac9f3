//! The console without its terminal: the state, the cluster tasks feeding it, the operations
//! service taking its effects, and the clock. The terminal loop (`tui`) draws it and feeds it
//! keys; tests drive the very same thing headless, pressing keys through the reducer and
//! watching what the real tasks do against the demo fleet.

use std::time::Duration;

use kube::config::Kubeconfig;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::{Action, Effect, State, update};
use crate::audit::{AuditLog, Webhook};
use crate::cluster::{self, ConnectTimeouts, EnvUpdate};
use crate::config::Config;
use crate::runner::OpEvent;

/// Where the console's inputs come from, besides the keyboard.
pub struct Inputs {
    env_updates: mpsc::Receiver<(usize, EnvUpdate)>,
    op_events: mpsc::Receiver<OpEvent>,
    clock: tokio::time::Interval,
}

impl Inputs {
    /// The next batch of actions: an environment update with every one already queued behind
    /// it (one frame for all), an operation event, or — while `ticking` — the clock. `None`
    /// once every source has closed.
    pub async fn next(&mut self, ticking: bool) -> Option<Vec<Action>> {
        tokio::select! {
            Some((index, update)) = self.env_updates.recv() => {
                let mut batch = vec![Action::Env { index, update }];
                while let Ok((index, update)) = self.env_updates.try_recv() {
                    batch.push(Action::Env { index, update });
                }
                Some(batch)
            }
            Some(event) = self.op_events.recv() => Some(vec![Action::Op(event)]),
            _ = self.clock.tick(), if ticking => Some(vec![Action::Tick { now: jiff::Timestamp::now() }]),
            else => None,
        }
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
    pub config: Config,
    /// Where signed checklists are kept, and the config file checklist paths are relative to.
    pub files: crate::runner::Files,
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
    /// Starts one task per environment and the operations service.
    pub fn start(setup: Setup) -> Self {
        let Setup { config, files, kubeconfig, readonly, audit, webhook, demo } = setup;
        let mut state = State::new(&config, readonly);
        state.demo = demo;
        let (op_tx, op_events) = mpsc::channel(64);
        let effects =
            crate::runner::spawn(config.clone(), files, kubeconfig.clone(), readonly, audit, webhook, op_tx);
        let (tx, env_updates) = mpsc::channel(256);
        let tasks = config
            .environments
            .iter()
            .enumerate()
            .map(|(index, env)| {
                cluster::spawn_environment(
                    index,
                    env.context().to_owned(),
                    cluster::EnvWatch::from_config(&config, env),
                    kubeconfig.clone(),
                    ConnectTimeouts::default(),
                    tx.clone(),
                )
            })
            .collect();
        let mut clock = tokio::time::interval(Duration::from_secs(1));
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Self { state, inputs: Inputs { env_updates, op_events, clock }, effects, tasks }
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
