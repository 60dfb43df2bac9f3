//! The rollback screen: what runs now, the revisions with the last known good one preselected
//! (and why), what goes back, what else the plan involves (an active canary, a pause, a GitOps
//! controller) — then, once confirmed, the rollback followed live until it completes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use super::figures::{self, age};
use super::theme;
use crate::app::rollback::{self, Progress};
use crate::app::{EnvState, State};
use crate::config::Protection;
use crate::health::image_tag;
use crate::health::inventory::{DeploymentInfo, Inventory};
use crate::ops::rollback::{GitOps, Revision};

fn heading(text: &str) -> Line<'static> {
    Line::styled(text.to_owned(), Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED))
}

/// `███░░ 2/3`
fn gauge(label: &str, value: i32, of: i32) -> Vec<Span<'static>> {
    let width = 12usize;
    let filled =
        if of > 0 { (value.clamp(0, of) as usize * width + of as usize / 2) / of as usize } else { 0 };
    let style = if value >= of { theme::OK } else { theme::WARN };
    vec![
        Span::styled(format!("{label} "), theme::DIM),
        Span::styled("█".repeat(filled), style),
        Span::styled("░".repeat(width - filled), theme::DIM),
        Span::raw(format!(" {value}/{of}   ")),
    ]
}

fn rollout_words(d: &DeploymentInfo) -> (String, Style) {
    if d.paused {
        return ("⏸ paused: template changes do not roll out".into(), theme::WARN);
    }
    if let Some(c) =
        d.conditions.iter().find(|c| c.kind == "Progressing" && c.reason == "ProgressDeadlineExceeded")
    {
        return (format!("✖ stalled: {}", c.message), theme::BAD);
    }
    let done = d.observed_generation >= d.generation
        && d.updated == d.desired
        && d.available == d.desired
        && d.current == d.desired;
    if done {
        ("● complete: every replica updated and available".into(), theme::OK)
    } else {
        (format!("⟳ progressing (progress deadline {}s)", d.progress_deadline_seconds), theme::WARN)
    }
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    env: usize,
    app: usize,
    selected: Option<u64>,
    progress: Option<&Progress>,
) {
    let (Some(e), Some(placement)) = (state.envs.get(env), state.placement(env, app)) else {
        return;
    };
    let (app_name, deployment, namespace) =
        (&placement.app, &placement.deployment, placement.namespace.clone());
    let border = if e.protection == Protection::Typed { BorderType::Thick } else { BorderType::Rounded };
    let title = Line::from(vec![
        Span::styled(" Rollback ", Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(
            format!("{}/{app_name} ", e.name),
            Style::new().fg(theme::color(e.color)).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("· Deployment {namespace}/{deployment} ")),
    ]);
    let block = Block::bordered()
        .border_type(border)
        .border_style(Style::new().fg(theme::color(e.color)))
        .title(title);
    let Some(snapshot) = &e.snapshot else {
        frame.render_widget(Paragraph::new("waiting for the first sync…").block(block), area);
        return;
    };
    let inventory = &snapshot.inventory;
    let Some(d) = rollback::deployment(inventory, &namespace, deployment) else {
        let text = format!("Deployment {namespace}/{deployment} is not in {}", e.name);
        frame.render_widget(Paragraph::new(Line::styled(text, theme::BAD)).block(block), area);
        return;
    };
    let now = state.clock;
    let (lines, keys) = match progress {
        Some(p) => (
            progress_lines(inventory, d, p, snapshot, now),
            Line::styled(
                "Esc leaves this view (the rollback goes on; the result shows as a notice)",
                theme::DIM,
            ),
        ),
        None => (
            choose_lines(state, e, app, inventory, d, selected, now),
            key_line(selected, d, rollback::gitops(d).as_ref(), env, state),
        ),
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // What the keys do stays on screen, whatever the terminal's size: the content gives way.
    let key_rows = u16::try_from(keys.width().max(1).div_ceil(usize::from(inner.width.max(1)))).unwrap_or(1);
    let [body, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Length(key_rows)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    frame.render_widget(Paragraph::new(keys).wrap(Wrap { trim: false }), bottom);
}

fn choose_lines(
    state: &State,
    e: &EnvState,
    app: usize,
    inventory: &Inventory,
    d: &DeploymentInfo,
    selected: Option<u64>,
    now: jiff::Timestamp,
) -> Vec<Line<'static>> {
    let revisions = rollback::revisions(inventory, &d.namespace, &d.name);
    let current = revisions.iter().find(|r| r.current);
    let choice = rollback::preselect(&revisions);
    let (rollout, rollout_style) = rollout_words(d);
    let mut lines = vec![Line::from(vec![
        Span::styled("running  ", theme::DIM),
        Span::styled(
            current.map_or_else(|| "?".into(), |r| format!("r{} {}", r.revision, r.tags())),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" · {}/{} available · ", d.available, d.desired)),
        Span::styled(rollout, rollout_style),
    ])];
    let canary = e
        .snapshot
        .as_ref()
        .and_then(|s| s.health.apps.iter().find(|a| Some(&a.app) == state.apps.get(app)))
        .and_then(|a| a.canary.as_ref());
    if let Some(c) = canary.filter(|c| c.weight.is_some_and(|w| w > 0)) {
        lines.push(Line::styled(
            format!(
                "canary   {}% to {}: the rollback aborts it first (weight 0), in the same plan",
                c.weight.unwrap_or(0),
                c.version.as_deref().unwrap_or("?")
            ),
            theme::WARN,
        ));
    }
    if d.paused {
        lines.push(Line::styled(
            "paused   the rollback resumes it in the same write, or the old template would not roll out",
            theme::WARN,
        ));
    }
    if let Some(g) = rollback::gitops(d) {
        lines.push(Line::styled(format!("⚠ {}", g.warning()), theme::BAD));
    }
    lines.push(Line::raw(""));
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
        lines.push(if chosen { Line::styled(row, theme::SELECTED) } else { Line::raw(row) });
    }
    if revisions.len() < 2 {
        lines.push(Line::styled("no older revision: there is nothing to roll back to", theme::WARN));
    }
    lines.push(Line::raw(""));
    if let Some(c) = &choice {
        lines.push(Line::styled(format!("preselected r{}: {}", c.revision, c.why), theme::DIM));
    }
    if let (Some(now_running), Some(target)) =
        (current, selected.and_then(|s| revisions.iter().find(|r| r.revision == s)))
    {
        lines.push(Line::raw(""));
        lines.push(heading(
            "What goes back (images and change-cause; the confirmation shows every field that differs)",
        ));
        lines.extend(diff_lines(now_running, target));
        lines.push(Line::styled(
            format!(
                "Kubernetes renumbers it: r{} comes back as r{}",
                target.revision,
                revisions.first().map_or(0, |r| r.revision) + 1
            ),
            theme::DIM,
        ));
    }
    lines
}

fn diff_lines(now: &Revision, then: &Revision) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let width = now.images.len().max(then.images.len());
    for i in 0..width {
        let (a, b) = (now.images.get(i), then.images.get(i));
        if a != b {
            out.push(Line::from(vec![
                Span::raw(format!("  image[{i}]: ")),
                Span::styled(a.cloned().unwrap_or_else(|| "<none>".into()), theme::BAD),
                Span::raw(" → "),
                Span::styled(b.cloned().unwrap_or_else(|| "<none>".into()), theme::OK),
            ]));
        }
    }
    if out.is_empty() {
        out.push(Line::styled("  the same images: the difference is elsewhere in the template", theme::DIM));
    }
    out.push(Line::from(vec![
        Span::raw("  change-cause: "),
        Span::styled(now.change_cause.clone().unwrap_or_else(|| "<none>".into()), theme::BAD),
        Span::raw(" → "),
        Span::styled(then.change_cause.clone().unwrap_or_else(|| "<none>".into()), theme::OK),
    ]));
    out
}

fn key_line(
    selected: Option<u64>,
    d: &DeploymentInfo,
    gitops: Option<&GitOps>,
    env: usize,
    state: &State,
) -> Line<'static> {
    let key = |k: &str, says: String| {
        vec![Span::styled(format!(" {k} "), theme::KEY), Span::raw(format!(" {says}  "))]
    };
    if state.envs.get(env).is_some_and(|e| e.readonly) {
        return Line::styled("read-only: history only, nothing can be written here", theme::WARN);
    }
    let mut spans = Vec::new();
    match selected {
        Some(r) => spans.extend(key(
            "Enter",
            format!("roll back to r{r} (plan, access review, dry run, then the confirmation)"),
        )),
        None => spans.push(Span::styled("nothing to roll back to  ", theme::DIM)),
    }
    spans.extend(key("↑↓", "choose".into()));
    if !d.paused {
        spans.extend(key("p", "pause the rollout while you choose".into()));
    }
    if let Some(GitOps::Flux { kind, name, .. }) = gitops {
        spans.extend(key("S", format!("suspend Flux {kind} {name}")));
    }
    spans.extend(key("Esc", "back".into()));
    Line::from(spans)
}

fn progress_lines(
    inventory: &Inventory,
    d: &DeploymentInfo,
    p: &Progress,
    snapshot: &crate::cluster::Snapshot,
    now: jiff::Timestamp,
) -> Vec<Line<'static>> {
    let elapsed = now.duration_since(p.started).as_secs().max(0);
    let mut lines = vec![
        Line::styled(p.sentence.clone(), Style::new().add_modifier(Modifier::BOLD)),
        match &p.outcome {
            None => Line::from(vec![
                Span::styled("… ", theme::WARN),
                Span::raw(format!("{} · {elapsed}s", p.stage)),
            ]),
            Some(outcome) if outcome == "done" => {
                Line::styled(format!("✔ done after {elapsed}s: the rollout completed"), theme::OK)
            }
            Some(outcome) => Line::styled(format!("✖ {outcome} after {elapsed}s: {}", p.stage), theme::BAD),
        },
        Line::raw(""),
    ];
    let mut bars = gauge("updated", d.updated, d.desired);
    bars.extend(gauge("ready", d.ready, d.desired));
    bars.extend(gauge("available", d.available, d.desired));
    lines.push(Line::from(bars));
    let (rollout, style) = rollout_words(d);
    lines.push(Line::from(vec![Span::styled("rollout  ", theme::DIM), Span::styled(rollout, style)]));
    let image = d.images.first().map_or_else(|| "?".into(), |i| image_tag(i));
    lines.push(Line::from(vec![
        Span::styled("template ", theme::DIM),
        Span::raw(format!("r{} {image}", d.revision.map_or_else(|| "?".into(), |r| r.to_string()))),
    ]));
    lines.push(Line::raw(""));
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
        let (status, style) = figures::pod_status(pod);
        let style = if status == "Running" { theme::OK } else { style };
        lines.push(Line::from(vec![
            Span::raw(format!("{:<44}", pod.name)),
            Span::styled(format!("{status:<20}"), style),
            Span::raw(format!("{:>9}  {}", pod.restarts, age(now, pod.created))),
        ]));
    }
    let fresh: Vec<_> = snapshot
        .health
        .warnings
        .iter()
        .filter(|w| w.last_seen.is_some_and(|t| t >= p.started) && (w.name.starts_with(&d.name)))
        .collect();
    lines.push(Line::raw(""));
    lines.push(heading("Warning events since the rollback started"));
    if fresh.is_empty() {
        lines.push(Line::styled("none", theme::DIM));
    }
    for w in fresh {
        lines.push(Line::raw(format!(
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
