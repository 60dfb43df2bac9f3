//! The canary screen, driven by key events through the reducer and drawn with ratatui's
//! `TestBackend`: what it shows, what each key asks for, the analysis gate's override, the
//! weight field, the kill switch and auto mode's checks.

// Test helpers fail by panicking, like the tests that call them.
#![allow(clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use opsdeck::app::{Action, Effect, Key, KeyPress, OpEvent, Overlay, Screen, State, update};
use opsdeck::cluster::{EnvUpdate, Snapshot};
use opsdeck::engine::{Ask, CanaryObjects, Origin, Prepared, Request, Traffic};
use opsdeck::health::verdict::{AppHealth, CanaryHealth, EnvHealth, Replicas, Rollout, Verdict as Health};
use opsdeck::metrics::{AppMetrics, Figures, History, MetricsSnapshot, Point, Verdict};
use opsdeck::ops::controllers::Verb;
use opsdeck::ops::{CanaryRequest, Confirmation, Operation, Place, Plan};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

const CONFIG: &str = r#"
[[environments]]
name = "staging"
context = "staging"
namespaces = ["shop"]
protection = "confirm"

[[environments]]
name = "production"
context = "production"
namespaces = ["shop"]
protection = "typed"

[[apps]]
name = "web"
deployment = "web"

[apps.canary]
interval = "60s"
failure_threshold = 2

[apps.canary.environments.production]
provider = "nginx-ingress"
ingress = "web-canary"
canary_deployment = "web-canary"

[apps.canary.environments.staging]
provider = "nginx-ingress"
ingress = "web-canary"
canary_deployment = "web-canary"

[[apps]]
name = "worker"
deployment = "worker"
"#;

fn at(second: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_000_000 + second).expect("timestamp")
}

fn replicas(n: i32) -> Replicas {
    Replicas { desired: n, updated: n, ready: n, available: n }
}

fn app(name: &str, canary: Option<CanaryHealth>) -> AppHealth {
    AppHealth {
        app: name.into(),
        version: Some("v1.2.0".into()),
        replicas: replicas(3),
        rollout: Rollout::Complete,
        restarts_recent: 0,
        crash_looping: 0,
        image_pull_failing: 0,
        pending: 0,
        warnings_recent: 0,
        canary,
        controller: None,
        verdict: Health::Healthy,
        reasons: Vec::new(),
    }
}

fn snapshot(env: &str, weight: u32) -> Arc<Snapshot> {
    let canary = CanaryHealth {
        weight: Some(weight),
        approximate: false,
        version: Some("v1.3.0".into()),
        replicas: replicas(1),
        since: Some(at(60)),
        colours: None,
    };
    Arc::new(Snapshot {
        inventory: opsdeck::health::Inventory::default(),
        health: EnvHealth {
            env: env.into(),
            nodes_ready: 3,
            nodes_total: 3,
            apps: vec![app("web", Some(canary)), app("worker", None)],
            warnings: Vec::new(),
            verdict: Health::Healthy,
            reasons: Vec::new(),
            gitops: Vec::new(),
        },
        watch_error: None,
        stale: None,
        reads_services: true,
    })
}

fn figures(error_rate: f64, p95: f64, rps: f64) -> Figures {
    Figures {
        requests: rps * 120.0,
        errors: rps * 120.0 * error_rate,
        rps,
        error_rate: Some(error_rate),
        p50: Some(p95 / 3.0),
        p95: Some(p95),
        p99: Some(p95 * 1.5),
        pods: 1,
        span_seconds: 120.0,
    }
}

fn history(error_rate: f64, p95: f64) -> History {
    let mut h = History::new(60);
    for i in 0..20 {
        let f = figures(error_rate * (1.0 + f64::from(i % 3) / 10.0), p95, 10.0);
        h.push(Point::new(at(i64::from(i) * 15), &f));
    }
    h
}

fn round(verdict: Verdict, canary_error_rate: f64, when: jiff::Timestamp) -> Arc<MetricsSnapshot> {
    let web = AppMetrics {
        app: "web".into(),
        stable: figures(0.002, 0.120, 45.0),
        canary: Some(figures(canary_error_rate, 0.260, 5.0)),
        verdict: Some(verdict),
        stable_history: history(0.002, 0.120),
        canary_history: history(canary_error_rate, 0.260),
        failures: Vec::new(),
        unusable: Vec::new(),
        unsampled: 0,
    };
    Arc::new(MetricsSnapshot { source: "scrape", at: when, apps: vec![web], error: None })
}

fn failing() -> Verdict {
    Verdict::Fail(vec!["error rate 4.10% above 1.00%".into()])
}

/// Production has a live canary at 10% whose verdict is `verdict`; the clock reads 5 minutes in.
fn state(verdict: &Verdict) -> State {
    let config = opsdeck::config::parse(Path::new("t.toml"), CONFIG).expect("config");
    let mut state = State::new(
        std::sync::Arc::new(opsdeck::config::Fleet::resolve(config.clone())),
        false,
        jiff::Timestamp::now(),
    );
    for env in &mut state.envs {
        env.windows.clear();
        env.user = Some("demo-admin".into());
    }
    state.clock = at(300);
    for (index, name) in [(0, "staging"), (1, "production")] {
        update(&mut state, Action::Env { index, update: EnvUpdate::Health(snapshot(name, 10)) });
        let metrics = round(verdict.clone(), 0.041, at(290));
        update(&mut state, Action::Env { index, update: EnvUpdate::Metrics(metrics) });
    }
    state
}

fn press(state: &mut State, keys: &str) -> Vec<Effect> {
    keys.chars().flat_map(|c| update(state, Action::Key(KeyPress::char(c))).effects).collect()
}

fn code(state: &mut State, key: Key) -> Vec<Effect> {
    update(state, Action::Key(KeyPress::plain(key))).effects
}

fn draw(state: &State, width: u16, height: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(|frame| opsdeck::ui::render(frame, state)).expect("draw");
    terminal.backend().clone()
}

fn ingress(weight: &str) -> serde_json::Value {
    json!({"metadata": {"name": "web-canary", "namespace": "shop", "resourceVersion": "41", "annotations": {
        "nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": weight}}})
}

fn deployment(name: &str, replicas: i64) -> serde_json::Value {
    json!({"metadata": {"name": name, "namespace": "shop", "resourceVersion": "7"}, "spec": {"replicas": replicas}})
}

fn canary(env: &str, request: CanaryRequest) -> Request {
    Request::new(env, "web", Ask::Canary(request))
}

/// What the engine would send back for `request` on `env`'s web canary at 10%, the traffic
/// gate having found `traffic`.
fn prepared_with(env: &str, request: CanaryRequest, traffic: Traffic) -> Prepared {
    let config = opsdeck::config::parse(Path::new("t.toml"), CONFIG).expect("config");
    let fleet = opsdeck::config::Fleet::resolve(config);
    let (placement, target) = fleet.canary(env, "web").expect("canary");
    let objects = CanaryObjects {
        stable: deployment("web", 3),
        canary: deployment("web-canary", 1),
        router: Some(ingress("10")),
    };
    let plan =
        opsdeck::engine::plan_canary(placement, &[10, 25, 50, 100], target, &objects, request).expect("plan");
    let mut prepared = Prepared::offline(canary(env, request), plan, traffic).expect("decided");
    prepared.cluster = format!("{env} (https://127.0.0.1:6443)");
    prepared
}

fn prepared(env: &str, request: CanaryRequest, traffic: Traffic) -> OpEvent {
    OpEvent::Prepared(Box::new(prepared_with(env, request, traffic)))
}

/// What the engine sends back for auto mode on `env`'s web canary: a plan with no write.
fn auto_prepared(env: &str) -> OpEvent {
    let place = Place { env, context: env, app: "web", protection: opsdeck::config::Protection::Confirm };
    let plan = Plan::for_app(Operation::CanaryAuto, &place, Vec::new());
    let request = Request::new(env, "web", Ask::AutoMode);
    OpEvent::Prepared(Box::new(Prepared::offline(request, plan, Traffic::NotRaised).expect("decided")))
}

/// Turns auto mode on for the screen's canary, as the engine would answer `A`.
fn auto_on(state: &mut State) {
    assert_eq!(press(state, "A"), [Effect::Prepare(Request::new("staging", "web", Ask::AutoMode))]);
    update(state, Action::Op(auto_prepared("staging")));
    press(state, "y");
}

#[test]
fn the_canary_screen_says_what_is_true_and_what_each_key_does() {
    let mut state = state(&failing());
    press(&mut state, "l");
    let holding = std::collections::BTreeMap::from([(
        ("production".to_owned(), "web".to_owned()),
        opsdeck::team::lease::Activity::CanaryScreen,
    )]);
    assert_eq!(
        press(&mut state, "c"),
        [Effect::HoldLeases(holding)],
        "opening the screen reads nothing more: it only takes the app's Lease, for colleagues to see"
    );
    assert_eq!(state.screen, Screen::Canary { env: 1, app: 0, input: None });
    let backend = draw(&state, 140, 40);
    let text = backend.to_string();
    for needle in [
        "Canary production/web · nginx-ingress · Ingress shop/web-canary",
        "[10%]",
        "at 10% for 4m (since",
        "10% of traffic",
        "stable  v1.2.0",
        "canary  v1.3.0",
        "✗ FAIL  error rate 4.10% above 1.00%",
        "5xx rate, %",
        "p95 latency, ms",
        "limit 1.0%",
        "step 10% → 25%",
        "back 10% → 0%",
        "abort 10% → 0%",
        "auto    off",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    insta::assert_snapshot!(backend);

    code(&mut state, Key::Esc);
    assert_eq!(state.screen, Screen::Overview);
    assert_eq!((state.selected_env, state.selected_app), (1, 0), "back where the operator was");
}

#[test]
fn an_app_without_a_canary_there_says_so() {
    let mut state = state(&Verdict::Pass);
    press(&mut state, "j");
    press(&mut state, "c");
    assert_eq!(state.screen, Screen::Overview);
    assert!(
        state.notice.as_ref().is_some_and(|n| n.error && n.text.contains("worker has no canary in staging"))
    );
}

#[test]
fn stepping_up_a_failing_canary_needs_an_override_reason_even_on_a_yes_no_environment() {
    let mut state = state(&failing());
    press(&mut state, "c");
    let asked = press(&mut state, "s");
    assert_eq!(asked, [Effect::Prepare(canary("staging", CanaryRequest::Step))]);
    let gate = Traffic::Analysis(Some(failing()));
    update(&mut state, Action::Op(prepared("staging", CanaryRequest::Step, gate)));
    let Some(Overlay::Confirm(confirm)) = &state.overlay else { panic!("a confirmation") };
    assert_eq!(*confirm.confirmation(), Confirmation::Reason, "y/n is not enough to override the analysis");
    let text = draw(&state, 120, 40).to_string();
    assert!(
        text.contains("this overrides the analysis (verdict fail: error rate 4.10% above 1.00%)"),
        "{text}"
    );

    assert!(press(&mut state, "y").is_empty(), "y is text here, not an answer");
    code(&mut state, Key::Backspace);
    assert!(code(&mut state, Key::Enter).is_empty(), "no reason, no write");
    press(&mut state, "hotfix verified by hand");
    let run = code(&mut state, Key::Enter);
    let [Effect::Execute { prepared, answer }] = run.as_slice() else { panic!("{run:?}") };
    let recorded = opsdeck::engine::decide::check(&prepared.decision, answer).expect("enough");
    assert_eq!(
        recorded.as_deref(),
        Some("override (verdict fail: error rate 4.10% above 1.00%): hotfix verified by hand")
    );
}

#[test]
fn backing_off_is_never_gated_and_a_passing_canary_steps_on_a_plain_yes() {
    let mut state = state(&failing());
    press(&mut state, "c");
    press(&mut state, "b");
    update(&mut state, Action::Op(prepared("staging", CanaryRequest::Back, Traffic::NotRaised)));
    let Some(Overlay::Confirm(confirm)) = &state.overlay else { panic!("a confirmation") };
    assert_eq!((confirm.confirmation().clone(), confirm.overrides()), (Confirmation::YesNo, None));
    code(&mut state, Key::Esc);

    let mut state = self::state(&Verdict::Pass);
    press(&mut state, "c");
    press(&mut state, "s");
    let gate = Traffic::Analysis(Some(Verdict::Pass));
    update(&mut state, Action::Op(prepared("staging", CanaryRequest::Step, gate)));
    let run = press(&mut state, "y");
    assert!(
        matches!(run.as_slice(), [Effect::Execute { answer, .. }] if answer.confirmed && answer.reason.is_none()),
        "{run:?}"
    );
}

#[test]
fn an_exact_weight_is_typed_and_checked() {
    let mut state = state(&Verdict::Pass);
    press(&mut state, "c=");
    assert!(matches!(state.screen, Screen::Canary { input: Some(_), .. }));
    press(&mut state, "3x5");
    assert!(draw(&state, 120, 40).to_string().contains("set weight: 35"), "only digits are taken");
    let asked = code(&mut state, Key::Enter);
    assert_eq!(asked, [Effect::Prepare(canary("staging", CanaryRequest::Set(35)))]);
    let refused = OpEvent::Refused {
        request: Box::new(canary("staging", CanaryRequest::Set(35))),
        refusal: opsdeck::engine::Refusal::Forbidden("forbidden".into()),
    };
    update(&mut state, Action::Op(refused));
    assert!(state.overlay.is_none() && matches!(state.screen, Screen::Canary { input: None, .. }));
    press(&mut state, "=150");
    assert!(code(&mut state, Key::Enter).is_empty());
    assert!(state.notice.as_ref().is_some_and(|n| n.text.contains("not a weight")));
}

#[test]
fn the_kill_switch_takes_every_canary_out_of_auto_mode_on_one_typed_confirmation() {
    let mut state = state(&Verdict::Pass);
    press(&mut state, "c");
    auto_on(&mut state);
    assert_eq!(state.autos.len(), 1, "auto mode on staging after its y/n");
    let asked = press(&mut state, "X");
    assert_eq!(asked, [Effect::Prepare(Request::kill_switch())]);
    let abort = |env: &str| prepared_with(env, CanaryRequest::Abort, Traffic::NotRaised).plan;
    let plan = opsdeck::ops::canary::kill_switch(vec![abort("production"), abort("staging")]).expect("plan");
    let prepared = Prepared::offline(Request::kill_switch(), plan, Traffic::NotRaised).expect("decided");
    update(&mut state, Action::Op(OpEvent::Prepared(Box::new(prepared))));
    let Some(Overlay::Confirm(confirm)) = &state.overlay else { panic!("a confirmation") };
    assert_eq!(
        *confirm.confirmation(),
        Confirmation::Typed { expected: "abort-all".into() },
        "production's protection decides"
    );
    let text = draw(&state, 120, 44).to_string();
    assert!(text.contains("Confirm the kill switch · 2 canary writes in production, staging"), "{text}");
    press(&mut state, "abort-all");
    code(&mut state, Key::Tab);
    press(&mut state, "error spike");
    let run = code(&mut state, Key::Enter);
    assert!(matches!(run.as_slice(), [Effect::Execute { .. }, Effect::HoldLeases(_)]), "{run:?}");
    assert!(state.autos.is_empty(), "the kill switch ends auto mode");
}

#[test]
fn auto_mode_aborts_after_the_threshold_of_failed_checks() {
    let mut state = state(&Verdict::Pass);
    press(&mut state, "c");
    auto_on(&mut state);
    let check = |state: &mut State, when: i64| {
        let metrics = round(failing(), 0.041, at(when));
        update(state, Action::Env { index: 0, update: EnvUpdate::Metrics(metrics) }).effects
    };
    assert!(check(&mut state, 305).is_empty(), "one failed check of two");
    let abort = check(&mut state, 310);
    let [
        Effect::Auto(Request {
            env,
            app,
            ask: Ask::Canary(CanaryRequest::Abort),
            origin: Origin::Auto { reason },
            ..
        }),
    ] = abort.as_slice()
    else {
        panic!("{abort:?}")
    };
    assert_eq!((env.as_str(), app.as_str()), ("staging", "web"));
    assert!(reason.starts_with("auto mode: 2 consecutive failed checks: error rate 4.10%"), "{reason}");
    let text = draw(&state, 140, 40).to_string();
    assert!(text.contains("auto    ON") && text.contains("failed checks 2/2"), "{text}");
}

#[test]
fn the_clock_redraws_only_screens_that_show_it() {
    let mut state = state(&Verdict::Pass);
    let tick = |state: &mut State, second| update(state, Action::Tick { now: at(second) }).redraw;
    assert!(!state.ticking() && !tick(&mut state, 301), "the overview has no clock on it");
    press(&mut state, "c");
    assert!(state.ticking() && tick(&mut state, 302), "time at this step moves");
    code(&mut state, Key::Esc);
    let progress = opsdeck::app::rollback::Progress {
        started: at(300),
        sentence: "roll back".into(),
        stage: "waiting".into(),
        outcome: None,
    };
    state.screen = Screen::Rollback { env: 1, app: 0, selected: None, progress: Some(progress) };
    assert!(state.ticking() && tick(&mut state, 303), "a rollback's elapsed time moves");
}

#[test]
fn n_starts_the_canary_with_the_previous_environments_version() {
    let mut state = state(&Verdict::Pass);
    press(&mut state, "lc");
    let asked = press(&mut state, "N");
    assert_eq!(
        asked,
        [Effect::Prepare(Request::new(
            "production",
            "web",
            Ask::StartCanary(opsdeck::engine::Version::From("staging".into()))
        ))]
    );
    let mut state = self::state(&Verdict::Pass);
    press(&mut state, "c");
    assert!(press(&mut state, "N").is_empty(), "staging is first here: nothing before it");
    assert!(state.notice.as_ref().is_some_and(|n| n.error && n.text.contains("--version")));
}

fn controller(kind: &'static str) -> opsdeck::health::inventory::ControllerInfo {
    let argo = kind == "argo-rollouts";
    opsdeck::health::inventory::ControllerInfo {
        kind,
        namespace: "shop".into(),
        name: "worker".into(),
        target: "worker".into(),
        phase: Some(if argo { "Paused" } else { "WaitingPromotion" }.into()),
        message: Some(if argo { "CanaryPauseStep" } else { "Waiting for approval." }.into()),
        weight: Some(if argo { 20 } else { 50 }),
        step: argo.then_some((1, 5)),
        paused: argo,
        aborted: false,
        failed_checks: (!argo).then_some((1, 5)),
        stable_hash: argo.then(|| "aaa".into()),
        canary_hash: argo.then(|| "bbb".into()),
        workload: None,
        steps: if argo {
            ["20%", "pause", "50%", "pause 2m", "100%"].map(String::from).to_vec()
        } else {
            Vec::new()
        },
        analysis: (!argo).then(|| "stepWeight 10 · maxWeight 50 · every 30s · threshold 5".into()),
        metrics: if argo { Vec::new() } else { vec!["request-success-rate".into()] },
        webhooks: if argo {
            Vec::new()
        } else {
            vec!["confirm-promotion".into(), "load-test (rollout)".into()]
        },
        gates: if argo {
            Vec::new()
        } else {
            vec![
                ("confirm-promotion".into(), "confirm-promotion".into()),
                ("rollback".into(), "rollback".into()),
            ]
        },
        iterations: (!argo).then_some(6),
        last_transition: None,
        next: Some(
            if argo {
                "paused until promoted: promote goes on to the next step"
            } else {
                "waiting for its confirm-promotion gate before promoting"
            }
            .into(),
        ),
        step_weight: (!argo).then_some(10),
        max_weight: (!argo).then_some(50),
        canary_version: Some("v1.3.0".into()),
        canary_ready: Some((1, 1)),
        stable_ready: argo.then_some((3, 3)),
        services: None,
    }
}

/// `worker` run by Flagger in staging and by Argo Rollouts in production.
fn controlled() -> State {
    let mut state = state(&Verdict::Pass);
    for (index, kind) in [(0, "flagger"), (1, "argo-rollouts")] {
        let mut snap = (*snapshot(if index == 0 { "staging" } else { "production" }, 10)).clone();
        snap.health.apps[1].controller = Some(controller(kind));
        update(&mut state, Action::Env { index, update: EnvUpdate::Health(Arc::new(snap)) });
    }
    state
}

#[test]
fn a_canary_argo_rollouts_runs_shows_its_steps_and_offers_its_own_verbs() {
    let mut state = controlled();
    press(&mut state, "ljc");
    assert_eq!(state.screen, Screen::Canary { env: 1, app: 1, input: None });
    let backend = draw(&state, 140, 30);
    let text = backend.to_string();
    for needle in [
        "Canary production/worker · Argo Rollouts · Rollout shop/worker",
        "20% ─ [pause] ─ 50% ─ pause 2m ─ 100%",
        "step 1/5",
        "phase   Paused · CanaryPauseStep",
        "stable  v1.2.0         3/3 ready",
        "canary  v1.3.0         1/1 ready",
        "promote: clear the pause at step 1/5",
        "promote --full",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    insta::assert_snapshot!(backend);
    let worker = |ask| Request::new("production", "worker", ask);
    assert_eq!(asked("lj", "P"), [Effect::Prepare(worker(Ask::Canary(CanaryRequest::Promote)))]);
    assert_eq!(asked("lj", "F"), [Effect::Prepare(worker(Ask::Controller(Verb::PromoteFull)))]);
    assert_eq!(asked("lj", "r"), [Effect::Prepare(worker(Ask::Controller(Verb::Retry)))]);
    assert!(asked("lj", "o").is_empty(), "a Rollout has no gate");
    assert!(press(&mut state, "A").is_empty(), "auto mode is not ours to run here");
    assert!(state.notice.as_ref().is_some_and(|n| n.text.contains("argo-rollouts runs this canary")));
}

#[test]
fn a_canary_flagger_runs_shows_its_analysis_and_its_gates_as_keys() {
    let mut state = controlled();
    press(&mut state, "jc");
    assert_eq!(state.screen, Screen::Canary { env: 0, app: 1, input: None });
    let backend = draw(&state, 140, 30);
    let text = backend.to_string();
    for needle in [
        "Canary staging/worker · Flagger · Canary shop/worker",
        "0% ─ 10% ─ 20% ─ 30% ─ 40% ─ [50%] ─ promote",
        "phase   WaitingPromotion",
        "failed 1/5 · 6 iterations",
        "approve promotion (open gate confirm-promotion)",
        "roll back now (open gate rollback)",
        "suspend the analysis",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    insta::assert_snapshot!(backend);
    let worker = |verb| Request::new("staging", "worker", Ask::Controller(verb));
    let gate = |name: &str, open| Verb::Gate { name: name.into(), open };
    assert_eq!(asked("j", "o"), [Effect::Prepare(worker(gate("confirm-promotion", true)))]);
    assert_eq!(asked("j", "c"), [Effect::Prepare(worker(gate("confirm-promotion", false)))]);
    assert_eq!(asked("j", "R"), [Effect::Prepare(worker(gate("rollback", true)))]);
    assert_eq!(asked("j", "p"), [Effect::Prepare(worker(Verb::Pause))]);
    // A step is the engine's to refuse, as on the command line.
    let step = Request::new("staging", "worker", Ask::Canary(CanaryRequest::Step));
    assert_eq!(asked("j", "s"), [Effect::Prepare(step)]);
}

/// What `key` asks of the engine on the canary screen opened after `moves` on the overview.
fn asked(moves: &str, key: &str) -> Vec<Effect> {
    let mut state = controlled();
    press(&mut state, moves);
    press(&mut state, "c");
    press(&mut state, key)
}
