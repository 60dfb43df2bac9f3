//! The guard screen (`G`): one app's guard in one environment — the revision it follows, the
//! time left, the baseline and where it came from, and the seed's decision tree with each
//! node's verdict and the evidence that decided it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::text::{self, Row, Words};
use super::theme::Tone;
use crate::app::{Command, Mode, State, key_for};
use crate::guard::{NodeVerdict, Verdict};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardView {
    pub title: String,
    pub lines: Vec<Row>,
}

fn node_mark(verdict: NodeVerdict) -> (&'static str, Tone) {
    match verdict {
        NodeVerdict::Pass => ("✓ yes", Tone::Ok),
        NodeVerdict::Unknown => ("? not known yet", Tone::Dim),
        NodeVerdict::Watch => ("! monitor closely", Tone::Warn),
        NodeVerdict::Rollback => ("✗ NO → roll back", Tone::Bad),
    }
}

pub fn view(state: &State, env: usize, app: usize) -> GuardView {
    let env_name = state.envs.get(env).map_or("?", |e| e.name.as_str());
    let app_name = state.apps.get(app).map_or("?", String::as_str);
    let title = format!(" Guard · {env_name}/{app_name} ");
    let mut lines = Vec::new();
    let Some(guard) = state.guards.of(env_name, app_name) else {
        lines.push(Row::of(
            "No guard: one starts when this app's Deployment moves to a new revision while the console watches.",
            Tone::Dim,
        ));
        lines.push(Row::of(
            format!("For a release made before, run `opsdeck guard --env {env_name} --app {app_name}`."),
            Tone::Dim,
        ));
        lines.push(footer());
        return GuardView { title, lines };
    };
    let revision = guard.revision.map_or_else(|| "?".to_owned(), |r| format!("revision {r}"));
    let version = guard.version.as_deref().unwrap_or("?");
    let mut head = Row::from(Words::plain(format!(
        "{revision} ({version}) · since {} · ",
        guard.started.strftime("%H:%M:%S UTC")
    )));
    match &guard.ended {
        Some(ended) => {
            let tone = match ended.outcome {
                crate::guard::Outcome::Ok => Tone::Ok,
                crate::guard::Outcome::Rollback => Tone::Bad,
                crate::guard::Outcome::Watch => Tone::Warn,
                crate::guard::Outcome::Superseded => Tone::Dim,
            };
            head.push(
                Words::new(
                    format!("ended {} at {}", ended.outcome.word(), ended.at.strftime("%H:%M:%S")),
                    tone,
                )
                .strong(),
            );
        }
        None => head.push(Words::plain(crate::app::guard::row_words(guard, state.clock))),
    }
    lines.push(head);
    if let Some(ended) = &guard.ended {
        lines.push(Row::of(format!("  {}", ended.reason), Tone::Plain));
    }
    lines.push(Row::of(
        match &guard.baseline {
            Some(b) => format!("baseline: {} ({:.0} requests)", b.from, b.figures.requests),
            None => "baseline: none yet — response time is judged once one is known".to_owned(),
        },
        Tone::Dim,
    ));
    lines.push(Row::plain(String::new()));
    match &guard.tree {
        None => lines.push(Row::of("waiting for the first snapshot since the change…", Tone::Dim)),
        Some(tree) => {
            for node in &tree.nodes {
                let (mark, tone) = node_mark(node.verdict);
                let mut row = Row::from(Words::plain(format!(
                    "({}) {:<30}",
                    node.branch.number(),
                    node.branch.question()
                )));
                row.push(Words::new(mark, tone).strong());
                lines.push(row);
                for evidence in &node.evidence {
                    lines.push(Row::of(
                        format!("      {evidence}"),
                        if node.verdict == NodeVerdict::Pass { Tone::Dim } else { tone },
                    ));
                }
            }
            let (word, tone) = match tree.verdict {
                Verdict::Ok => ("Deployment SUCCESSFUL ✓ so far", Tone::Ok),
                Verdict::Watch => ("watch: monitor closely, prepare rollback", Tone::Warn),
                Verdict::Rollback => ("ROLLBACK", Tone::Bad),
            };
            lines.push(Row::plain(String::new()));
            lines.push(Row::of(format!("verdict: {word}"), tone).strong());
        }
    }
    lines.push(footer());
    GuardView { title, lines }
}

fn footer() -> Row {
    Row::of(
        format!(
            "{} rollback screen · {} back",
            key_for(Mode::Guard, Command::OpenRollback),
            key_for(Mode::Guard, Command::Back)
        ),
        Tone::Dim,
    )
}

pub fn render(frame: &mut Frame, area: Rect, view: &GuardView) {
    let lines: Vec<_> = view.lines.iter().map(text::line).collect();
    let block = Block::default().borders(Borders::ALL).title(view.title.clone());
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::guard::{Branch, Guard, Limits, Node, Tree};

    fn state() -> State {
        let toml = "[[environments]]\nname = \"production\"\ncontext = \"p\"\n\n[[apps]]\nname = \"web\"\ndeployment = \"web\"\n";
        let config = crate::config::parse(Path::new("t.toml"), toml).expect("valid");
        State::new(Arc::new(crate::config::Fleet::resolve(config)), false, jiff::Timestamp::UNIX_EPOCH)
    }

    fn text(view: &GuardView) -> String {
        view.lines
            .iter()
            .map(|r| r.0.iter().map(|w| w.text.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_screen_shows_every_node_with_its_evidence_and_the_verdict() {
        let mut s = state();
        assert!(text(&view(&s, 0, 0)).contains("No guard: one starts when"), "{}", text(&view(&s, 0, 0)));
        let started = jiff::Timestamp::UNIX_EPOCH;
        let mut guard = Guard::new(
            "production",
            "web",
            Some(3),
            Some("v1.3.1-rc.1".into()),
            started,
            std::time::Duration::from_secs(3600),
            Limits::default(),
        );
        let node =
            |branch, verdict, evidence: &str| Node { branch, verdict, evidence: vec![evidence.into()] };
        guard.observe(
            Tree {
                verdict: Verdict::Rollback,
                decided_by: Some(Branch::ServiceAccessible),
                nodes: vec![
                    node(Branch::PodsStarting, NodeVerdict::Pass, "3 pods of the new version started"),
                    node(
                        Branch::ServiceAccessible,
                        NodeVerdict::Rollback,
                        "Service shop/web: port 80 → targetPort 8081 matches no container port",
                    ),
                ],
            },
            started,
        );
        s.guards.by_app.insert(("production".into(), "web".into()), guard);
        let shown = text(&view(&s, 0, 0));
        for expected in [
            "revision 3 (v1.3.1-rc.1)",
            "ended rollback",
            "(1) Pods starting successfully?",
            "✓ yes",
            "(3) Service accessible?",
            "✗ NO → roll back",
            "      Service shop/web: port 80 → targetPort 8081",
            "verdict: ROLLBACK",
            "baseline: none yet",
        ] {
            assert!(shown.contains(expected), "{expected:?} in:\n{shown}");
        }
    }
}
