//! The canary screen for a canary Argo Rollouts or Flagger runs: what the controller reports
//! (its steps or its analysis with the current one marked, the weight, phase, both versions,
//! its checks and webhooks, what it does next) and keys for its own control points — never a
//! weight of ours, since the weights follow the controller's rules.

use super::view::{CanaryView, Gauge, Keys};
use crate::app::{Command, Mode, State, key_for};
use crate::health::inventory::ControllerInfo;
use crate::health::verdict::AppHealth;
use crate::ui::text::{KeyHint, Row, Words};
use crate::ui::theme::Tone;

fn is_argo(c: &ControllerInfo) -> bool {
    c.kind == "argo-rollouts"
}

/// The screen for `app` in `env` when a controller runs it there.
pub fn view(state: &State, env: usize, app: usize) -> Option<CanaryView> {
    let (env, app_name) = (state.envs.get(env)?, state.apps.get(app)?);
    let health = env.snapshot.as_ref()?.health.apps.iter().find(|a| a.app == *app_name)?;
    let c = health.controller.as_ref()?;
    let (who, kind) = if is_argo(c) { ("Argo Rollouts", "Rollout") } else { ("Flagger", "Canary") };
    let weight = c.weight.unwrap_or(0).min(100);
    Some(CanaryView {
        env: env.name.clone(),
        app: app_name.clone(),
        color: env.color,
        protection: env.protection,
        provider: format!("{who} · {kind} {}/{}", c.namespace, c.name),
        steps: match (&c.services, is_argo(c)) {
            (Some(services), _) => blue_green(services),
            (None, true) => argo_steps(c),
            (None, false) => flagger_steps(c),
        },
        gauge: Gauge { weight, label: format!("{weight}% of traffic, as {who} reports it  ") },
        status: status(c, health, who),
        charts: None,
        no_charts: format!(
            "charts: {who} judges this canary by its own analysis; the app's figures are on the overview"
        ),
        auto: Row::from(vec![
            Words::dim("auto    off"),
            Words::dim(format!(
                " · {who} moves this canary by its own rules; opsdeck does not write its traffic objects"
            )),
        ]),
        keys: keys(c, env.readonly, &env.name),
    })
}

/// `services  active checkout → 7d9f6c · preview checkout-preview → 5b8c4d`
fn blue_green(s: &crate::health::inventory::BlueGreenServices) -> Row {
    let selects = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let mut row = Row::from(Words::dim("services  "));
    row.push(Words::new(format!("active {}", s.active), Tone::Selected).strong());
    row.push(Words::plain(format!(" → {}", selects(&s.active_selects))));
    if let Some(preview) = &s.preview {
        row.push(Words::dim(" · "));
        row.push(Words::plain(format!("preview {preview} → {}", selects(&s.preview_selects))));
    }
    row
}

/// `steps   20% ─ [pause] ─ 50% ─ pause 2m ─ 100%   step 1/5`
fn argo_steps(c: &ControllerInfo) -> Row {
    let at = c.step.map_or(0, |(i, _)| usize::try_from(i).unwrap_or(usize::MAX));
    let mut row = Row::from(Words::dim("steps   "));
    for (i, step) in c.steps.iter().enumerate() {
        if i > 0 {
            row.push(Words::dim(" ─ "));
        }
        if i == at {
            row.push(Words::new(format!("[{step}]"), Tone::Selected).strong());
        } else {
            row.push(Words::plain(step.clone()));
        }
    }
    let done = at >= c.steps.len();
    row.push(Words::dim(" ─ "));
    row.push(if done { Words::new("[stable]", Tone::Selected).strong() } else { Words::plain("stable") });
    if let Some((i, n)) = c.step {
        row.push(Words::plain(format!("   step {i}/{n}")));
    }
    row
}

/// `analysis 0% ─ 10% ─ 20% ─ 30% ─ [40%] ─ 50% ─ promote   stepWeight 10 · every 30s …`
fn flagger_steps(c: &ControllerInfo) -> Row {
    let mut row = Row::from(Words::dim("analysis "));
    let (step, max) = (c.step_weight.unwrap_or(0), c.max_weight.unwrap_or(100));
    let current = c.weight.unwrap_or(0);
    let mut stops = vec![0];
    if step > 0 {
        stops.extend((1..).map(|n| (n * step).min(max)).take_while(|w| *w < max));
        stops.push(max);
    }
    for (i, stop) in stops.iter().enumerate() {
        if i > 0 {
            row.push(Words::dim(" ─ "));
        }
        if *stop == current {
            row.push(Words::new(format!("[{stop}%]"), Tone::Selected).strong());
        } else {
            row.push(Words::plain(format!("{stop}%")));
        }
    }
    row.push(Words::dim(" ─ promote"));
    if let Some(analysis) = &c.analysis {
        row.push(Words::dim(format!("   {analysis}")));
    }
    row
}

fn track(label: &str, tone: Tone, version: Option<&str>, ready: Option<(i32, i32)>) -> Row {
    let ready = ready.map_or_else(String::new, |(r, d)| format!(" {r}/{d} ready"));
    Row::from(vec![
        Words::new(format!("{label:<8}"), tone).strong(),
        Words::plain(format!("{:<14}", version.unwrap_or("—"))),
        Words::plain(ready),
    ])
}

fn status(c: &ControllerInfo, health: &AppHealth, who: &str) -> Vec<Row> {
    let phase = c.phase.clone().unwrap_or_else(|| "unknown".into());
    let tone = match phase.as_str() {
        "Healthy" | "Succeeded" => Tone::Ok,
        "Degraded" | "Failed" => Tone::Bad,
        _ if c.paused || c.aborted => Tone::Warn,
        _ => Tone::Plain,
    };
    let mut head = Row::from(vec![Words::dim("phase   "), Words::new(phase, tone).strong()]);
    if let Some(message) = c.message.as_ref().filter(|m| !m.is_empty()) {
        head.push(Words::plain(format!(" · {message}")));
    }
    if c.aborted && c.phase.as_deref() != Some("Degraded") {
        head.push(Words::new(" · aborted", Tone::Bad));
    } else if c.paused && c.phase.as_deref() != Some("Paused") {
        let word = if is_argo(c) { " · paused" } else { " · suspended" };
        head.push(Words::new(word, Tone::Warn));
    }
    // A Rollout's replicas count both ReplicaSets: stable's own are its ReplicaSet's.
    let stable_ready =
        if is_argo(c) { c.stable_ready } else { Some((health.replicas.ready, health.replicas.desired)) };
    let mut lines = vec![
        head,
        track("stable", Tone::Stable, health.version.as_deref(), stable_ready),
        track("canary", Tone::Canary, c.canary_version.as_deref(), c.canary_ready),
    ];
    let mut checks = Row::from(Words::dim("checks  "));
    match (c.failed_checks, is_argo(c)) {
        (Some((failed, threshold)), _) => {
            let tone = if failed > 0 { Tone::Bad } else { Tone::Ok };
            checks.push(Words::new(format!("failed {failed}/{threshold}"), tone));
            if let Some(n) = c.iterations {
                checks.push(Words::plain(format!(" · {n} iterations at this revision")));
            }
            if !c.metrics.is_empty() {
                checks.push(Words::plain(format!(" · metrics {}", c.metrics.join(", "))));
            }
        }
        (None, true) => checks.push(Words::plain("the Rollout's own analysis, as its steps define it")),
        (None, false) => checks.push(Words::plain("none reported yet")),
    }
    lines.push(checks);
    if !c.webhooks.is_empty() {
        lines.push(Row::from(vec![Words::dim("hooks   "), Words::plain(c.webhooks.join(" · "))]));
    }
    if let Some(next) = &c.next {
        lines.push(Row::from(vec![Words::dim("next    "), Words::plain(next.clone())]));
    }
    if let Some(at) = &c.last_transition {
        lines.push(Row::of(format!("since   {at}"), Tone::Dim));
    }
    lines.push(Row::of(
        format!("{who} owns this canary's Ingress, Services and weights: opsdeck drives it only through its own fields"),
        Tone::Dim,
    ));
    lines
}

fn key(command: Command, says: impl Into<String>) -> KeyHint {
    KeyHint::new(key_for(Mode::Canary, command), says)
}

fn keys(c: &ControllerInfo, readonly: bool, env: &str) -> Keys {
    let (first, second) = if is_argo(c) { argo_keys(c) } else { flagger_keys(c) };
    if readonly {
        let refused = format!("{env} is read-only: these keys are refused");
        return Keys::Lines { refused: Some(refused), lines: vec![first] };
    }
    Keys::Lines { refused: None, lines: vec![first, second] }
}

fn argo_keys(c: &ControllerInfo) -> (Vec<KeyHint>, Vec<KeyHint>) {
    let position = c.step.map_or_else(String::new, |(i, n)| format!(" at step {i}/{n}"));
    let promote = if c.aborted {
        "promote — (aborted: retry first)".to_owned()
    } else if c.paused {
        format!("promote: clear the pause{position}")
    } else {
        "promote — (not paused: it moves on by itself)".to_owned()
    };
    let first = vec![
        key(Command::CanaryPromote, promote),
        key(Command::ControllerPromoteFull, "promote --full: skip the remaining steps"),
        key(
            Command::CanaryAbort,
            if c.aborted { "abort — (aborted)" } else { "abort: all traffic to stable" },
        ),
        key(
            Command::ControllerRetry,
            if c.aborted { "retry from the first step" } else { "retry — (not aborted)" },
        ),
    ];
    let second = vec![
        key(Command::ControllerPause, "pause (spec.paused)"),
        key(Command::ControllerResume, "resume"),
        key(Command::Back, "back"),
    ];
    (first, second)
}

fn flagger_keys(c: &ControllerInfo) -> (Vec<KeyHint>, Vec<KeyHint>) {
    let mut first = Vec::new();
    match c.waited_gate() {
        Some((name, kind)) => {
            let does = match kind.as_str() {
                "confirm-promotion" => "approve promotion",
                "confirm-rollout" => "approve the rollout",
                _ => "approve the next step",
            };
            first.push(key(Command::GateOpen, format!("{does} (open gate {name})")));
            first.push(key(Command::GateClose, format!("close gate {name}")));
        }
        None => first.push(KeyHint::new("", "no loadtester gate: Flagger moves on by its analysis alone")),
    }
    if let Some((name, _)) = c.gates.iter().find(|(_, k)| k == "rollback") {
        first.push(key(Command::GateRollback, format!("roll back now (open gate {name})")));
    }
    let suspend = if c.paused { "suspend — (suspended)" } else { "suspend the analysis" };
    let resume = if c.paused { "resume the analysis" } else { "resume — (running)" };
    let second = vec![
        key(Command::ControllerPause, suspend),
        key(Command::ControllerResume, resume),
        key(Command::Back, "back"),
    ];
    (first, second)
}
