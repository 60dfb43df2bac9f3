//! The rollback screen's view model: the revisions, the plan's side effects, the rollout's
//! progress and the keys, all as words read from the snapshot.

use crate::app::rollback::{self, Progress};
use crate::app::{Command, EnvState, Mode, State, key_for};
use crate::config::{Color, Protection};
use crate::health::image_tag;
use crate::health::inventory::{DeploymentInfo, Inventory};
use crate::health::verdict::Rollout;
use crate::ops::rollback::{GitOps, Revision};
use crate::ui::figures::{self, age};
use crate::ui::text::{KeyHint, Row, Words};
use crate::ui::theme::Tone;

#[derive(Debug, Clone, PartialEq)]
pub struct RollbackView {
    pub env: String,
    pub app: String,
    pub namespace: String,
    pub deployment: String,
    /// `Deployment`, or `Rollout` where an Argo Rollout is the app's workload.
    pub kind: &'static str,
    pub color: Color,
    pub protection: Protection,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Before the environment's first sync.
    Waiting,
    /// The Deployment is not in the snapshot: why, in words.
    Missing(String),
    Ready {
        lines: Vec<Row>,
        keys: KeyLine,
    },
}

/// What the keys do from here: `lead` (a note, or what is missing) and then each key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLine {
    pub lead: Option<Words>,
    pub hints: Vec<KeyHint>,
}

fn heading(text: &str) -> Row {
    Row::of(text, Tone::Heading)
}

fn key(command: Command, says: impl Into<String>) -> KeyHint {
    KeyHint::new(key_for(Mode::Rollback, command), says)
}

/// Where the rollout stands, in words: the health model's own reading of the Deployment.
fn rollout_words(d: &DeploymentInfo) -> Words {
    match Rollout::of(Some(d)) {
        Rollout::Paused => Words::new("⏸ paused: template changes do not roll out", Tone::Warn),
        Rollout::Stalled { reason } => Words::new(format!("✖ stalled: {reason}"), Tone::Bad),
        Rollout::Complete => Words::new("● complete: every replica updated and available", Tone::Ok),
        Rollout::Progressing => Words::new(
            format!("⟳ progressing (progress deadline {}s)", d.progress_deadline_seconds),
            Tone::Warn,
        ),
        Rollout::Missing => Words::new("✖ missing: the Deployment is not there", Tone::Bad),
    }
}

pub fn view(
    state: &State,
    env: usize,
    app: usize,
    selected: Option<u64>,
    progress: Option<&Progress>,
) -> Option<RollbackView> {
    let (e, placement) = (state.envs.get(env)?, state.placement(env, app)?);
    let stable = e.snapshot.as_ref().map_or(placement.deployment.as_str(), |s| {
        crate::health::AppSpec::of(placement).live_names(&s.inventory).0
    });
    let mut view = RollbackView {
        env: e.name.clone(),
        app: placement.app.clone(),
        namespace: placement.namespace.clone(),
        deployment: stable.to_owned(),
        kind: "Deployment",
        color: e.color,
        protection: e.protection,
        body: Body::Waiting,
    };
    let Some(snapshot) = &e.snapshot else { return Some(view) };
    let inventory = &snapshot.inventory;
    let rollout = |c: &crate::health::inventory::ControllerInfo| {
        c.kind == "argo-rollouts" && c.namespace == view.namespace && c.name == view.deployment
    };
    if inventory.controllers.iter().any(rollout) {
        view.kind = "Rollout";
    }
    let Some(d) = rollback::deployment(inventory, &view.namespace, &view.deployment) else {
        view.body =
            Body::Missing(format!("Deployment {}/{} is not in {}", view.namespace, view.deployment, e.name));
        return Some(view);
    };
    let now = state.clock;
    let (lines, keys) = match progress {
        Some(p) => (
            progress_lines(inventory, d, p, snapshot, now),
            KeyLine {
                lead: Some(Words::dim(format!(
                    "{} leaves this view (the rollback goes on; the result shows as a notice)",
                    key_for(Mode::Rollback, Command::Back)
                ))),
                hints: Vec::new(),
            },
        ),
        None => (
            choose_lines(state, e, app, inventory, d, selected, now),
            key_line(selected, d, rollback::gitops(d).as_ref(), e.readonly),
        ),
    };
    view.body = Body::Ready { lines, keys };
    Some(view)
}

fn choose_lines(
    state: &State,
    e: &EnvState,
    app: usize,
    inventory: &Inventory,
    d: &DeploymentInfo,
    selected: Option<u64>,
    now: jiff::Timestamp,
) -> Vec<Row> {
    let revisions = rollback::revisions(inventory, &d.namespace, &d.name);
    let current = revisions.iter().find(|r| r.current);
    let choice = rollback::preselect(&revisions);
    let mut lines = vec![Row::from(vec![
        Words::dim("running  "),
        Words::plain(current.map_or_else(|| "?".into(), |r| format!("r{} {}", r.revision, r.tags())))
            .strong(),
        Words::plain(format!(" · {}/{} available · ", d.available, d.desired)),
        rollout_words(d),
    ])];
    let canary = e
        .snapshot
        .as_ref()
        .and_then(|s| s.health.apps.iter().find(|a| Some(&a.app) == state.apps.get(app)))
        .and_then(|a| a.canary.as_ref());
    if let Some(c) = canary.filter(|c| c.weight.is_some_and(|w| w > 0)) {
        lines.push(Row::of(
            format!(
                "canary   {}% to {}: the rollback aborts it first (weight 0), in the same plan",
                c.weight.unwrap_or(0),
                c.version.as_deref().unwrap_or("?")
            ),
            Tone::Warn,
        ));
    }
    if d.paused {
        lines.push(Row::of(
            "paused   a rollback asks first whether to resume it in the same write: the old template would not roll out",
            Tone::Warn,
        ));
    }
    if let Some(g) = rollback::gitops(d) {
        lines.push(Row::of(format!("⚠ {}", g.warning()), Tone::Bad));
    }
    if let Some(recent) =
        state.recent_errors.as_ref().filter(|r| r.env == e.name && Some(&r.app) == state.apps.get(app))
    {
        lines.extend(recent_error_lines(recent));
    }
    lines.push(Row::blank());
    lines.push(heading(&format!("{:<10}{:<24}{:<8}{:<6}CHANGE-CAUSE", "REVISION", "IMAGES", "READY", "AGE")));
    for r in &revisions {
        let chosen = selected == Some(r.revision);
        let mut marks = Vec::new();
        if r.current {
            marks.push("← current");
        }
        if choice.as_ref().is_some_and(|c| c.revision == r.revision) {
            marks.push("★ last known good");
        }
        let row = format!(
            "{} r{:<7}{:<24}{:<8}{:<6}{}  {}",
            if chosen { "▶" } else { " " },
            r.revision,
            r.tags(),
            format!("{}/{}", r.ready, r.desired),
            age(now, r.created),
            r.change_cause.as_deref().unwrap_or("<none>"),
            marks.join(" ")
        );
        lines.push(Row::of(row, if chosen { Tone::Selected } else { Tone::Plain }));
    }
    if revisions.len() < 2 {
        lines.push(Row::of("no older revision: there is nothing to roll back to", Tone::Warn));
    }
    lines.push(Row::blank());
    if let Some(c) = &choice {
        lines.push(Row::of(format!("preselected r{}: {}", c.revision, c.why), Tone::Dim));
    }
    if let (Some(now_running), Some(target)) =
        (current, selected.and_then(|s| revisions.iter().find(|r| r.revision == s)))
    {
        lines.push(Row::blank());
        lines.push(heading(
            "What goes back (images and change-cause; the confirmation shows every field that differs)",
        ));
        lines.extend(diff_lines(now_running, target));
        lines.push(Row::of(
            format!(
                "Kubernetes renumbers it: r{} comes back as r{}",
                target.revision,
                revisions.first().map_or(0, |r| r.revision) + 1
            ),
            Tone::Dim,
        ));
    }
    lines
}

fn diff_lines(now: &Revision, then: &Revision) -> Vec<Row> {
    let none = || "<none>".to_owned();
    let mut out = Vec::new();
    let width = now.images.len().max(then.images.len());
    for i in 0..width {
        let (a, b) = (now.images.get(i), then.images.get(i));
        if a != b {
            out.push(Row::from(vec![
                Words::plain(format!("  image[{i}]: ")),
                Words::new(a.cloned().unwrap_or_else(none), Tone::Bad),
                Words::plain(" → "),
                Words::new(b.cloned().unwrap_or_else(none), Tone::Ok),
            ]));
        }
    }
    if out.is_empty() {
        out.push(Row::of("  the same images: the difference is elsewhere in the template", Tone::Dim));
    }
    out.push(Row::from(vec![
        Words::plain("  change-cause: "),
        Words::new(now.change_cause.clone().unwrap_or_else(none), Tone::Bad),
        Words::plain(" → "),
        Words::new(then.change_cause.clone().unwrap_or_else(none), Tone::Ok),
    ]));
    out
}

fn key_line(selected: Option<u64>, d: &DeploymentInfo, gitops: Option<&GitOps>, readonly: bool) -> KeyLine {
    if readonly {
        let lead = Words::new("read-only: history only, nothing can be written here", Tone::Warn);
        return KeyLine { lead: Some(lead), hints: Vec::new() };
    }
    let mut hints = Vec::new();
    let lead = match selected {
        Some(r) => {
            hints.push(key(
                Command::PlanRollback,
                format!("roll back to r{r} (plan, access review, dry run, then the confirmation)"),
            ));
            None
        }
        None => Some(Words::dim("nothing to roll back to  ")),
    };
    let choose =
        format!("{}{}", key_for(Mode::Rollback, Command::PrevApp), key_for(Mode::Rollback, Command::NextApp));
    hints.push(KeyHint::new(choose, "choose"));
    if !d.paused {
        hints.push(key(Command::Pause, "pause the rollout while you choose"));
    }
    if let Some(GitOps::Flux { kind, name, .. }) = gitops {
        hints.push(key(Command::SuspendGitOps, format!("suspend Flux {kind} {name}")));
    }
    hints.push(key(Command::Back, "back"));
    KeyLine { lead, hints }
}

/// `███░░ 2/3`
fn gauge(label: &str, value: i32, of: i32) -> Vec<Words> {
    let width = 12usize;
    let filled =
        if of > 0 { (value.clamp(0, of) as usize * width + of as usize / 2) / of as usize } else { 0 };
    let tone = if value >= of { Tone::Ok } else { Tone::Warn };
    vec![
        Words::dim(format!("{label} ")),
        Words::new("█".repeat(filled), tone),
        Words::dim("░".repeat(width - filled)),
        Words::plain(format!(" {value}/{of}   ")),
    ]
}

fn progress_lines(
    inventory: &Inventory,
    d: &DeploymentInfo,
    p: &Progress,
    snapshot: &crate::cluster::Snapshot,
    now: jiff::Timestamp,
) -> Vec<Row> {
    let elapsed = now.duration_since(p.started).as_secs().max(0);
    let mut lines = vec![
        Row::plain(p.sentence.clone()).strong(),
        match &p.outcome {
            None => Row::from(vec![
                Words::new("… ", Tone::Warn),
                Words::plain(format!("{} · {elapsed}s", p.stage)),
            ]),
            Some(outcome) if outcome == "done" => {
                Row::of(format!("✔ done after {elapsed}s: the rollout completed"), Tone::Ok)
            }
            Some(outcome) => Row::of(format!("✖ {outcome} after {elapsed}s: {}", p.stage), Tone::Bad),
        },
        Row::blank(),
    ];
    let mut bars = gauge("updated", d.updated, d.desired);
    bars.extend(gauge("ready", d.ready, d.desired));
    bars.extend(gauge("available", d.available, d.desired));
    lines.push(Row::from(bars));
    lines.push(Row::from(vec![Words::dim("rollout  "), rollout_words(d)]));
    let image = d.images.first().map_or_else(|| "?".into(), |i| image_tag(i));
    lines.push(Row::from(vec![
        Words::dim("template "),
        Words::plain(format!("r{} {image}", d.revision.map_or_else(|| "?".into(), |r| r.to_string()))),
    ]));
    lines.push(Row::blank());
    lines.push(heading(&format!("{:<44}{:<20}{:>9}  AGE", "POD", "STATUS", "RESTARTS")));
    let owned: Vec<&str> = inventory
        .replica_sets
        .iter()
        .filter(|rs| rs.namespace == d.namespace && rs.owner.as_deref() == Some(d.name.as_str()))
        .map(|rs| rs.name.as_str())
        .collect();
    let mut pods: Vec<_> = inventory
        .pods
        .iter()
        .filter(|pod| pod.owner.as_deref().is_some_and(|o| owned.contains(&o)))
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    for pod in pods {
        let (status, tone) = figures::pod_status(pod);
        // On this screen a running pod is the goal, so it reads as good rather than plain.
        let tone = if status == "Running" { Tone::Ok } else { tone };
        lines.push(Row::from(vec![
            Words::plain(format!("{:<44}", pod.name)),
            Words::new(format!("{status:<20}"), tone),
            Words::plain(format!("{:>9}  {}", pod.restarts, age(now, pod.created))),
        ]));
    }
    let fresh: Vec<_> = snapshot
        .health
        .warnings
        .iter()
        .filter(|w| w.last_seen.is_some_and(|t| t >= p.started) && (w.name.starts_with(&d.name)))
        .collect();
    lines.push(Row::blank());
    lines.push(heading("Warning events since the rollback started"));
    if fresh.is_empty() {
        lines.push(Row::of("none", Tone::Dim));
    }
    for w in fresh {
        lines.push(Row::plain(format!(
            "{} {}/{} {}: {}",
            age(now, w.last_seen),
            w.kind,
            w.name,
            w.reason,
            w.message
        )));
    }
    lines
}

/// Error lines the running revision's pods shown beside the revisions: part of "why roll back".
const ERROR_LINES: usize = 3;

fn recent_error_lines(recent: &rollback::RecentErrors) -> Vec<Row> {
    let minutes = recent.minutes;
    let logs = match &recent.logs {
        None => {
            return vec![Row::of(
                format!("logs     reading the last {minutes} min of its pods' logs…"),
                Tone::Dim,
            )];
        }
        Some(Err(why)) => return vec![Row::of(format!("logs     could not be read: {why}"), Tone::Warn)],
        Some(Ok(logs)) => logs,
    };
    let mut rows = Vec::new();
    let unread =
        if logs.unread.is_empty() { String::new() } else { format!(", {} unreadable", logs.unread.len()) };
    if logs.errors.is_empty() {
        rows.push(Row::of(
            format!(
                "logs     no error lines in the last {minutes} min ({} pods, {} lines{unread})",
                logs.pods, logs.lines
            ),
            Tone::Dim,
        ));
        return rows;
    }
    rows.push(Row::of(
        format!(
            "logs     {} error lines in the last {minutes} min across {} pods{unread}; the latest:",
            logs.errors.len(),
            logs.pods
        ),
        Tone::Bad,
    ));
    let mut latest: Vec<&crate::logs::LogLine> = logs.errors.iter().collect();
    latest.sort_by_key(|l| l.time);
    for line in latest.iter().rev().take(ERROR_LINES).rev() {
        rows.push(Row::from(vec![
            Words::dim(format!("         {} │ ", crate::logs::short_pod(&line.pod))),
            Words::new(line.line.clone(), Tone::Bad),
        ]));
    }
    rows
}
