//! Who is at the controls, as the console sees it: the Leases this console should hold (a
//! canary screen, auto mode, a rollback in progress, a running guard), and every console's
//! holders read from the clusters. Pure.

use std::collections::BTreeMap;

use super::state::{Screen, State};
use crate::team::lease::{Activity, Holder};

/// Apps by (environment, app).
pub type Key = (String, String);

/// What this console holds Leases for, and the holders every cluster reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Controls {
    /// This console's Leases' name (shared by all of them).
    pub console: String,
    /// What this console asked the service to hold, as last sent.
    pub wanted: BTreeMap<Key, Activity>,
    /// Every live opsdeck Lease, by app, from each environment's watch.
    pub holders: BTreeMap<Key, Holder>,
}

impl Controls {
    pub fn new(console: impl Into<String>) -> Self {
        Self { console: console.into(), ..Self::default() }
    }

    /// Another console's holder of `env/app`, live at `now`.
    pub fn other(&self, env: &str, app: &str, now: jiff::Timestamp) -> Option<&Holder> {
        self.holders
            .get(&(env.to_owned(), app.to_owned()))
            .filter(|h| h.console != self.console && h.live(now))
    }

    /// An environment's watch reported its Leases.
    pub fn seen(&mut self, env: &str, holders: Vec<Holder>) -> bool {
        let before = self.holders.clone();
        self.holders.retain(|(e, _), _| e != env);
        for h in holders.into_iter().filter(|h| h.env == env) {
            self.holders.insert((h.env.clone(), h.app.clone()), h);
        }
        before != self.holders
    }
}

/// What this console is doing to which app, by the strongest reason where there are several.
pub fn wanted(state: &State) -> BTreeMap<Key, Activity> {
    let mut out: BTreeMap<Key, Activity> = BTreeMap::new();
    let mut want = |env: &str, app: &str, activity: Activity| {
        let slot = out.entry((env.to_owned(), app.to_owned())).or_insert(activity);
        *slot = (*slot).max(activity);
    };
    let name =
        |env: usize, app: usize| Some((state.envs.get(env)?.name.clone(), state.apps.get(app)?.clone()));
    match &state.screen {
        Screen::Canary { env, app, .. } => {
            if let Some((e, a)) = name(*env, *app) {
                want(&e, &a, Activity::CanaryScreen);
            }
        }
        Screen::Rollback { env, app, progress: Some(p), .. } if p.outcome.is_none() => {
            if let Some((e, a)) = name(*env, *app) {
                want(&e, &a, Activity::Rollback);
            }
        }
        _ => {}
    }
    for auto in &state.autos {
        want(&auto.env, &auto.app, Activity::AutoMode);
    }
    for guard in state.guards.by_app.values().filter(|g| g.ended.is_none()) {
        want(&guard.env, &guard.app, Activity::Guard);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(console: &str, renewed: &str) -> Holder {
        Holder {
            env: "production".into(),
            app: "web".into(),
            user: "alice".into(),
            activity: "canary screen".into(),
            console: console.into(),
            since: "2026-12-04T10:02:00Z".parse().unwrap(),
            renewed: renewed.parse().unwrap(),
            duration_secs: 15,
        }
    }

    #[test]
    fn another_consoles_live_lease_shows_and_ones_own_or_a_lapsed_one_does_not() {
        let now: jiff::Timestamp = "2026-12-04T10:05:05Z".parse().unwrap();
        let mut controls = Controls::new("me-1");
        assert!(controls.seen("production", vec![holder("alice-7", "2026-12-04T10:05:00Z")]));
        assert_eq!(
            controls.other("production", "web", now).map(Holder::words).as_deref(),
            Some("alice · canary screen · since 10:02")
        );
        assert!(controls.seen("production", vec![holder("me-1", "2026-12-04T10:05:00Z")]));
        assert!(controls.other("production", "web", now).is_none(), "one's own is not a colleague's");
        controls.seen("production", vec![holder("alice-7", "2026-12-04T10:04:00Z")]);
        assert!(controls.other("production", "web", now).is_none(), "lapsed: the console died");
        assert!(controls.seen("production", Vec::new()));
        assert!(controls.holders.is_empty());
    }

    #[test]
    fn the_canary_screen_and_auto_mode_want_a_lease() {
        let mut state = crate::app::update::tests::state();
        assert!(wanted(&state).is_empty());
        state.screen = Screen::Canary { env: 1, app: 0, input: None };
        assert_eq!(
            wanted(&state),
            BTreeMap::from([(("production".to_owned(), "web".to_owned()), Activity::CanaryScreen)])
        );
    }
}
