//! `opsdeck history` and `opsdeck rollback`: a Deployment's revisions, and
//! `kubectl rollout undo` along the operation path.

use serde::Serialize;

use super::operate::{
    Options, apply_policy, confirm_non_interactively, execute, op_failure, plan_failure, show,
};
use super::{kubeconfig_source, load_config};
use crate::cli::{GlobalArgs, RollbackArgs, TargetArgs};
use crate::cluster;
use crate::config::{self, Paths};
use crate::exit::{Exit, Failure};
use crate::ops::rollback::{self, Choice, GitOps, Revision};
use crate::runner;
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
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global)).map_err(Failure::usage)?;
    let path = config::resolve_path(global.config.as_deref(), paths);
    let config = load_config(&path, global.config.is_some(), Ok(&kubeconfig))?;
    let (env, app) = runner::find(&config, &args.env, &args.app).map_err(Failure::usage)?;
    // History only reads.
    let session = runner::open_session(kubeconfig, env, true).await.map_err(|e| op_failure(&e))?;
    let objects = runner::fetch_rollback(&session, env, app).await.map_err(|e| op_failure(&e))?;
    let revisions = objects.history();
    let out = History {
        env: env.name().to_owned(),
        app: app.name().to_owned(),
        deployment: app.deployment.clone(),
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
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
        );
        return Ok(Exit::Ok);
    }
    let now = jiff::Timestamp::now();
    println!(
        "{}/{} · Deployment {}{}",
        out.env,
        out.app,
        out.deployment,
        if out.paused { " · PAUSED" } else { "" }
    );
    println!("{:<9}{:<22}{:<9}{:<10}CHANGE-CAUSE", "REVISION", "IMAGES", "AGE", "READY");
    for r in &out.revisions {
        let mut marks = Vec::new();
        if r.current {
            marks.push("← current".to_owned());
        }
        if out.last_known_good.as_ref().is_some_and(|c| c.revision == r.revision) {
            marks.push("← last known good".to_owned());
        }
        println!(
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
        println!("last known good: r{}, {}", choice.revision, choice.why);
    }
    if let Some(g) = &out.gitops {
        println!("⚠ {}", g.warning());
    }
    Ok(Exit::Ok)
}

/// `opsdeck rollback`: the previous revision (or `--to-revision N`), an active canary aborted
/// first, then waiting until the rollout completes or its progress deadline passes, unless
/// `--no-wait`.
pub async fn rollback(global: &GlobalArgs, paths: &Paths, args: &RollbackArgs) -> Result<Exit, Failure> {
    let target = &args.write.target;
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global)).map_err(Failure::usage)?;
    let path = config::resolve_path(global.config.as_deref(), paths);
    let config = load_config(&path, global.config.is_some(), Ok(&kubeconfig))?;
    let (env, app) = runner::find(&config, &target.env, &target.app).map_err(Failure::usage)?;
    let readonly = global.readonly || env.readonly;
    let session = runner::open_session(kubeconfig, env, readonly).await.map_err(|e| op_failure(&e))?;
    let objects = runner::fetch_rollback(&session, env, app).await.map_err(|e| op_failure(&e))?;
    let options =
        rollback::Options { to_revision: args.to_revision, resume_paused: false, no_wait: args.no_wait };
    let mut plan = runner::plan_rollback(env, app, &objects, options).map_err(plan_failure)?;
    apply_policy(paths, env, &mut plan, None, args.write.reason.as_deref())?;
    let sessions = runner::Sessions::from(session.clone());
    show(&plan, target.json);
    runner::preflight(&sessions, &plan).await.map_err(|e| op_failure(&e))?;
    confirm_non_interactively(&plan, args.write.yes, args.write.reason.as_deref())?;
    let options = Options { yes: args.write.yes, reason: args.write.reason.as_deref(), json: target.json };
    execute(&config, paths, &sessions, &plan, options, async || {
        runner::describe_rollback_now(&session, env, app).await
    })
    .await
}
