//! The rollback screen: what runs now, the revisions with the last known good one preselected
//! (and why), what goes back, what else the plan involves (an active canary, a pause, a GitOps
//! controller) — then, once confirmed, the rollback followed live until it completes.
//!
//! `view` reads all of it from the snapshot, times counted to `state.clock` and keys named by
//! the keymap's rollback section; `render` keeps the keys on screen and gives the rest the
//! room that is left.

mod render;
mod view;

pub use render::render;
pub use view::view;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    use super::super::text::Row;
    use super::super::theme::Tone;
    use super::view::{Body, KeyLine, RollbackView, view};
    use crate::app::rollback::Progress;
    use crate::app::{Command, Mode, State, key_for};
    use crate::health::inventory::ReplicaSetInfo;
    use crate::health::inventory::{DeploymentInfo, Inventory};
    use crate::health::verdict::{EnvHealth, Verdict};

    fn deployment(updated: i32) -> DeploymentInfo {
        DeploymentInfo {
            namespace: "shop".into(),
            name: "web".into(),
            labels: BTreeMap::default(),
            selector: BTreeMap::default(),
            desired: 3,
            updated,
            ready: 3,
            available: 3,
            current: 3,
            generation: 2,
            observed_generation: 2,
            paused: false,
            progress_deadline_seconds: 600,
            conditions: Vec::new(),
            images: vec!["registry/web:v2".into()],
            revision: Some(2),
            created: None,
        }
    }

    fn replica_set(revision: u64) -> ReplicaSetInfo {
        ReplicaSetInfo {
            namespace: "shop".into(),
            name: format!("web-{revision}"),
            owner: Some("web".into()),
            revision: Some(revision),
            desired: 3,
            ready: 3,
            available: 3,
            images: vec![format!("registry/web:v{revision}")],
            change_cause: None,
            created: None,
            ports: Vec::new(),
        }
    }

    /// A staging environment whose snapshot holds `d` and two revisions of it.
    fn state(d: DeploymentInfo, readonly: bool) -> State {
        let config = crate::config::parse(
            Path::new("t.toml"),
            r#"
            [[environments]]
            name = "staging"
            context = "staging"
            namespaces = ["shop"]
            [[apps]]
            name = "web"
            deployment = "web"
            namespace = "shop"
            "#,
        )
        .expect("valid");
        let mut s = State::new(
            Arc::new(crate::config::Fleet::resolve(config)),
            readonly,
            jiff::Timestamp::UNIX_EPOCH,
        );
        let inventory = Inventory {
            deployments: vec![d],
            replica_sets: vec![replica_set(2), replica_set(1)],
            ..Inventory::default()
        };
        let health = EnvHealth {
            env: "staging".into(),
            nodes_ready: 1,
            nodes_total: 1,
            apps: Vec::new(),
            warnings: Vec::new(),
            verdict: Verdict::Healthy,
            reasons: Vec::new(),
            gitops: Vec::new(),
        };
        s.envs[0].snapshot = Some(Arc::new(crate::cluster::Snapshot {
            inventory,
            health,
            watch_error: None,
            stale: None,
            reads_services: true,
        }));
        s
    }

    fn ready(view: RollbackView) -> (Vec<Row>, KeyLine) {
        let Body::Ready { lines, keys } = view.body else { panic!("{:?}", view.body) };
        (lines, keys)
    }

    #[test]
    fn the_rollout_words_are_the_health_models_reading() {
        let (lines, _) = ready(view(&state(deployment(3), false), 0, 0, Some(1), None).expect("a view"));
        let running = &lines[0].0;
        assert_eq!(
            running.last().map(|w| (w.text.as_str(), w.tone)),
            Some(("● complete: every replica updated and available", Tone::Ok))
        );
        let (lines, _) = ready(view(&state(deployment(2), false), 0, 0, Some(1), None).expect("a view"));
        let running = &lines[0].0;
        assert_eq!(
            running.last().map(|w| (w.text.as_str(), w.tone)),
            Some(("⟳ progressing (progress deadline 600s)", Tone::Warn)),
            "one replica is not updated yet"
        );
    }

    #[test]
    fn the_keys_shown_are_the_keymaps() {
        let (_, keys) = ready(view(&state(deployment(3), false), 0, 0, Some(1), None).expect("a view"));
        let shown: Vec<&str> = keys.hints.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(
            shown,
            [
                key_for(Mode::Rollback, Command::PlanRollback),
                format!(
                    "{}{}",
                    key_for(Mode::Rollback, Command::PrevApp),
                    key_for(Mode::Rollback, Command::NextApp)
                ),
                key_for(Mode::Rollback, Command::Pause),
                key_for(Mode::Rollback, Command::Back),
            ]
        );
        assert!(keys.hints[0].says.starts_with("roll back to r1"), "{:?}", keys.hints[0]);

        let (_, keys) = ready(view(&state(deployment(3), true), 0, 0, Some(1), None).expect("a view"));
        assert!(keys.hints.is_empty(), "a read-only environment offers no write");
    }

    #[test]
    fn progress_counts_from_the_state_clock() {
        let mut s = state(deployment(2), false);
        let started = jiff::Timestamp::from_second(1_000).expect("timestamp");
        s.clock = jiff::Timestamp::from_second(1_042).expect("timestamp");
        let p = Progress { started, sentence: "roll back".into(), stage: "waiting".into(), outcome: None };
        let (lines, keys) = ready(view(&s, 0, 0, Some(1), Some(&p)).expect("a view"));
        assert_eq!(lines[1].text(), "… waiting · 42s");
        let lead = keys.lead.expect("a note");
        assert!(
            lead.text.starts_with(&format!("{} leaves this view", key_for(Mode::Rollback, Command::Back)))
        );
    }
}
