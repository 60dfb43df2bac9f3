//! `opsdeck history`: a Deployment's revisions, with the current one and the last known good
//! marked. (`opsdeck rollback` is a write like any other: see `write`.)

use serde::Serialize;

use super::write::{self, refused};
use crate::cli::{GlobalArgs, TargetArgs};
use crate::config::Paths;
use crate::engine::fetch_rollback;
use crate::exit::{Exit, Failure};
use crate::ops::rollback::{self, Choice, GitOps, Revision};
use crate::ui::figures::age;

/// `opsdeck history --json`. Field names are part of the command-line contract.
#[derive(Debug, Serialize)]
struct History {
    env: String,
    app: String,
    deployment: String,
    paused: bool,
    /// Newest first.
    revisions: Vec<Revision>,
    /// What the console preselects for a rollback, and why.
    last_known_good: Option<Choice>,
    gitops: Option<GitOps>,
}

pub async fn history(global: &GlobalArgs, paths: &Paths, args: &TargetArgs) -> Result<Exit, Failure> {
    // History only reads.
    let global = GlobalArgs { readonly: true, ..global.clone() };
    let engine = write::engine(&global, paths, true)?;
    let placement = engine.fleet().placement(&args.env, &args.app).map_err(|e| refused(&e.into()))?.clone();
    let session = engine.session(&args.env).await.map_err(|e| refused(&e))?;
    let objects = fetch_rollback(&session, &placement).await.map_err(|e| refused(&e.into()))?;
    let revisions = objects.history();
    let out = History {
        env: placement.env.clone(),
        app: placement.app.clone(),
        deployment: placement.deployment.clone(),
        paused: objects
            .deployment
            .pointer("/spec/paused")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
        last_known_good: rollback::last_known_good(&revisions),
        gitops: rollback::gitops(&objects.deployment),
        revisions,
    };
    if args.json {
        out!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
        );
        return Ok(Exit::Ok);
    }
    let now = jiff::Timestamp::now();
    let kind =
        objects.deployment.pointer("/kind").and_then(serde_json::Value::as_str).unwrap_or("Deployment");
    out!("{}/{} · {kind} {}{}", out.env, out.app, out.deployment, if out.paused { " · PAUSED" } else { "" });
    out!("{:<9}{:<22}{:<9}{:<10}CHANGE-CAUSE", "REVISION", "IMAGES", "AGE", "READY");
    for r in &out.revisions {
        let mut marks = Vec::new();
        if r.current {
            marks.push("← current".to_owned());
        }
        if out.last_known_good.as_ref().is_some_and(|c| c.revision == r.revision) {
            marks.push("← last known good".to_owned());
        }
        out!(
            "{:<9}{:<22}{:<9}{:<10}{}{}",
            r.revision,
            r.tags(),
            age(now, r.created),
            format!("{}/{}", r.ready, r.desired),
            r.change_cause.as_deref().unwrap_or("<none>"),
            if marks.is_empty() { String::new() } else { format!("  {}", marks.join(" ")) }
        );
    }
    if let Some(choice) = &out.last_known_good {
        out!("last known good: r{}, {}", choice.revision, choice.why);
    }
    if let Some(g) = &out.gitops {
        out!("⚠ {}", g.warning());
    }
    Ok(Exit::Ok)
}
