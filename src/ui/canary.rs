//! The canary screen: one app's canary in one environment. What is true now (the plan's
//! steps with the current one marked, the weight, both versions and their replicas and
//! figures, the verdict and its reasons, the time at this step), the last minutes as charts
//! with the limits drawn, auto mode, and what each key will do.
//!
//! `view` gathers all of that from the state, times counted to `state.clock` and keys named
//! by the keymap's canary sections; `render` lays it out.

mod controller;
mod render;
mod view;

pub use render::render;
pub use view::view;

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::view::{Keys, view};
    use crate::app::{Command, Mode, State, key_for};
    use crate::health::verdict::{AppHealth, CanaryHealth, Colours, EnvHealth, Replicas, Rollout, Verdict};

    fn at(second: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_795_000_000 + second).expect("timestamp")
    }

    const REPLICAS: Replicas = Replicas { desired: 3, updated: 3, ready: 3, available: 3 };

    /// A healthy app at `version` with its canary.
    fn app(name: &str, version: &str, canary: CanaryHealth) -> AppHealth {
        AppHealth {
            app: name.into(),
            version: Some(version.into()),
            replicas: REPLICAS,
            rollout: Rollout::Complete,
            restarts_recent: 0,
            crash_looping: 0,
            image_pull_failing: 0,
            pending: 0,
            warnings_recent: 0,
            canary: Some(canary),
            controller: None,
            verdict: Verdict::Healthy,
            reasons: Vec::new(),
        }
    }

    /// A healthy environment holding one app.
    fn snapshot(env: &str, app: AppHealth) -> Arc<crate::cluster::Snapshot> {
        let health = EnvHealth {
            env: env.into(),
            nodes_ready: 1,
            nodes_total: 1,
            apps: vec![app],
            warnings: Vec::new(),
            verdict: Verdict::Healthy,
            reasons: Vec::new(),
            gitops: Vec::new(),
        };
        let inventory = crate::health::Inventory::default();
        Arc::new(crate::cluster::Snapshot {
            inventory,
            health,
            watch_error: None,
            stale: None,
            reads_services: true,
        })
    }

    /// Staging's web canary at 10% since second 60, with the clock at second 300.
    fn state(readonly: bool) -> State {
        let config = crate::config::parse(
            Path::new("t.toml"),
            r#"
            [[environments]]
            name = "staging"
            context = "staging"
            namespaces = ["shop"]
            readonly = READONLY
            [[apps]]
            name = "web"
            deployment = "web"
            [apps.canary.environments.staging]
            provider = "nginx-ingress"
            ingress = "web-canary"
            canary_deployment = "web-canary"
            "#
            .replace("READONLY", &readonly.to_string())
            .as_str(),
        )
        .expect("valid");
        let mut s = State::new(Arc::new(crate::config::Fleet::resolve(config)), false, at(0));
        let canary = CanaryHealth {
            weight: Some(10),
            approximate: false,
            version: Some("v2".into()),
            replicas: REPLICAS,
            since: Some(at(60)),
            colours: None,
        };
        s.envs[0].snapshot = Some(snapshot("staging", app("web", "v1", canary)));
        s.clock = at(300);
        s
    }

    #[test]
    fn the_key_lines_name_the_keymaps_keys() {
        let view = view(&state(false), 0, 0, None).expect("a canary");
        let Keys::Lines { refused: None, lines } = &view.keys else { panic!("{:?}", view.keys) };
        let step = &lines[0][0];
        assert_eq!(step.key, key_for(Mode::Canary, Command::CanaryStep));
        assert_eq!(step.says, "step 10% → 25%");
        let shown: Vec<&str> = lines.iter().flatten().map(|h| h.key.as_str()).collect();
        let expected: Vec<String> = [
            Command::CanaryStep,
            Command::CanaryBack,
            Command::CanarySetWeight,
            Command::CanaryAbort,
            Command::StartCanary,
            Command::CanaryPromote,
            Command::ToggleAuto,
            Command::KillSwitch,
            Command::Back,
        ]
        .into_iter()
        .map(|c| key_for(Mode::Canary, c))
        .collect();
        assert_eq!(shown, expected);
        let toggle = key_for(Mode::Canary, Command::ToggleAuto);
        assert!(view.auto.text().contains(&format!("{toggle} turns it on")), "{:?}", view.auto);
    }

    #[test]
    fn a_read_only_environment_says_the_keys_are_refused() {
        let view = view(&state(true), 0, 0, None).expect("a canary");
        let Keys::Lines { refused: Some(note), lines } = &view.keys else { panic!("{:?}", view.keys) };
        assert_eq!(note, "staging is read-only: these keys are refused");
        assert_eq!(lines.len(), 1, "the note takes the second line");
    }

    #[test]
    fn typing_a_weight_names_the_weight_modes_keys() {
        let view = view(&state(false), 0, 0, Some("35")).expect("a canary");
        let Keys::Typing(row) = &view.keys else { panic!("{:?}", view.keys) };
        let confirm = key_for(Mode::CanaryWeight, Command::Confirm);
        let back = key_for(Mode::CanaryWeight, Command::Back);
        assert!(
            row.text().ends_with(&format!("{confirm} plans it (a confirmation follows) · {back} cancels"))
        );
        assert!(row.text().starts_with("set weight: 35"));
    }

    #[test]
    fn the_time_at_this_step_is_counted_to_the_state_clock() {
        let mut s = state(false);
        let at_300 = view(&s, 0, 0, None).expect("a canary").steps.text();
        assert!(at_300.contains("at 10% for 4m (since"), "{at_300}");
        s.clock = at(60 + 3600);
        let an_hour_in = view(&s, 0, 0, None).expect("a canary").steps.text();
        assert!(an_hour_in.contains("at 10% for 1h (since"), "{an_hour_in}");
    }

    /// Production's checkout, blue-green, with the Service selecting blue (weight 0) or green.
    fn blue_green(weight: u32) -> State {
        let config = crate::config::parse(
            Path::new("t.toml"),
            r#"
            [[environments]]
            name = "production"
            context = "production"
            namespaces = ["shop"]
            [[apps]]
            name = "checkout"
            deployment = "checkout-blue"
            [apps.canary.environments.production]
            provider = "service-selector"
            service = "checkout"
            canary_deployment = "checkout-green"
            "#,
        )
        .expect("valid");
        let mut s = State::new(Arc::new(crate::config::Fleet::resolve(config)), false, at(0));
        let canary = CanaryHealth {
            weight: Some(weight),
            approximate: false,
            version: Some("v2.5.0".into()),
            replicas: REPLICAS,
            since: None,
            colours: Some(Colours { stable: "blue".into(), canary: "green".into() }),
        };
        s.envs[0].snapshot = Some(snapshot("production", app("checkout", "v2.4.0", canary)));
        s
    }

    #[test]
    fn a_blue_green_shows_both_colours_which_is_live_and_the_switch_as_its_one_step() {
        let before = view(&blue_green(0), 0, 0, None).expect("a blue-green");
        assert!(
            before.steps.text().starts_with("switch  [blue live] ─ green ─ promote"),
            "{:?}",
            before.steps
        );
        let tracks: Vec<String> = before.status.iter().take(2).map(crate::ui::text::Row::text).collect();
        assert!(tracks[0].starts_with("blue live  v2.4.0") && tracks[0].contains("3/3 ready"), "{tracks:?}");
        assert!(tracks[1].starts_with("green idle v2.5.0"), "{tracks:?}");
        let Keys::Lines { lines, .. } = &before.keys else { panic!("{:?}", before.keys) };
        assert_eq!(lines[0][0].says, "switch: all traffic blue → green, once its pods are ready");
        assert!(lines.iter().flatten().all(|k| k.key != key_for(Mode::Canary, Command::CanarySetWeight)));

        let after = view(&blue_green(100), 0, 0, None).expect("a blue-green");
        assert!(after.steps.text().starts_with("switch  blue ─ [green live] ─ promote"), "{:?}", after.steps);
        assert!(after.status[1].text().starts_with("green live"), "{:?}", after.status[1]);
        assert_eq!(after.gauge.label, "100% of traffic: all of it on green  ");
        let Keys::Lines { lines, .. } = &after.keys else { panic!("{:?}", after.keys) };
        assert_eq!(lines[0][1].says, "abort: switch back to blue");
    }
}
