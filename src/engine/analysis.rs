//! Where the analysis gate's verdict comes from: one source per engine. The console's
//! environment tasks measure every interval and publish each round on a [`Board`]; the gate
//! judges by the latest round, the one the operator is looking at. The command line has no
//! history, so it measures now, as `opsdeck canary status` does.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::Session;
use crate::cluster::watch::sync_once;
use crate::cluster::{EnvWatch, metrics};
use crate::config::{Fleet, Placement};
use crate::metrics::{MetricsSnapshot, Settings, Verdict};

/// The latest metrics round of each environment, as its task measured it.
#[derive(Debug, Clone, Default)]
pub struct Board(Arc<RwLock<HashMap<String, Arc<MetricsSnapshot>>>>);

impl Board {
    pub fn publish(&self, env: &str, round: Arc<MetricsSnapshot>) {
        let mut rounds = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        rounds.insert(env.to_owned(), round);
    }

    pub fn latest(&self, env: &str) -> Option<Arc<MetricsSnapshot>> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(env).cloned()
    }
}

/// The engine's source of verdicts.
#[derive(Debug, Clone)]
pub enum Analysis {
    /// The console: the rounds its environment tasks publish.
    Live(Board),
    /// The command line: measure when asked.
    Measure,
}

/// How long the first list of what the measurement needs (the app's pods) may take.
const SYNC_DEADLINE: Duration = Duration::from_secs(15);

/// The canary's verdict, or why there is none: a measurement that failed is "not enough
/// data", never a pass, and an override can still go ahead on it.
pub async fn verdict(
    source: &Analysis,
    fleet: &Fleet,
    session: &Session,
    placement: &Placement,
    waiting: impl FnOnce(&str),
) -> Option<Verdict> {
    let no_data = |why: String| Some(Verdict::NotEnoughData(vec![why]));
    match source {
        Analysis::Live(board) => {
            let round = board.latest(&placement.env)?;
            if let Some(error) = &round.error {
                return no_data(format!("metrics: {error}"));
            }
            round.app(&placement.app)?.verdict.clone()
        }
        Analysis::Measure => {
            let settings = match Settings::for_env(fleet, &placement.env) {
                Ok(settings) => settings,
                Err(e) => return no_data(format!("no metrics ({e})")),
            };
            let app = settings.apps.iter().find(|a| a.app == placement.app)?.clone();
            let watch = EnvWatch::for_env(fleet, &placement.env);
            let tables = match sync_once(&session.read, &watch.spec, SYNC_DEADLINE).await {
                Ok(tables) => tables,
                Err(e) => return no_data(format!("the app's pods could not be listed: {e}")),
            };
            match metrics::measure(&settings, &app, &session.read, &tables.inventory(), true, waiting).await {
                Ok(measured) => measured.verdict,
                Err(e) => no_data(e),
            }
        }
    }
}
