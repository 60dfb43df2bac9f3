//! `opsdeck restart|pause|resume`: the operation path from the command line.

use std::time::Duration;

use serde_json::json;

use super::{kubeconfig_source, load_config};
use crate::audit::{AuditLog, Outcome, Webhook};
use crate::cli::{GlobalArgs, WriteArgs};
use crate::cluster;
use crate::cluster::ops::{self, OpError};
use crate::config::{self, Config, Paths};
use crate::exit::{Exit, Failure};
use crate::ops::{Confirmation, Operation, Plan, PlanError};
use crate::runner::{self, Recorder};

/// A notification still in flight gets this long before the process exits without it.
const WEBHOOK_GRACE: Duration = Duration::from_secs(2);

pub fn op_failure(error: &OpError) -> Failure {
    Failure::new(error.exit(), error.to_string())
}

/// A plan that could not be made: one that does not apply to the object as it is is a
/// precondition (exit 3); an object that lacks what the plan needs is a failure (exit 1).
pub fn plan_failure(error: PlanError) -> Failure {
    match error {
        PlanError::Refused(m) => Failure::new(Exit::Precondition, m),
        PlanError::Invalid(m) => Failure::new(Exit::Failed, m),
    }
}

/// The config's webhook, from the file or the environment variable it names.
pub fn webhook(config: &Config) -> Option<Webhook> {
    let url = config
        .notifications
        .webhook
        .as_ref()
        .map(|u| u.get_ref().clone())
        .or_else(|| config.notifications.webhook_env.as_ref().and_then(|var| std::env::var(var).ok()))?;
    match Webhook::new(&url, Duration::from_secs(5)) {
        Ok(webhook) => Some(webhook),
        Err(e) => {
            eprintln!("opsdeck: notifications are off: {e}");
            None
        }
    }
}

/// The confirmation a command line can give: `--yes`, and `--reason` where a reason is due.
pub fn confirm_non_interactively(plan: &Plan, yes: bool, reason: Option<&str>) -> Result<(), Failure> {
    let env = match plan.scope {
        crate::ops::Scope::App => plan.env.clone(),
        crate::ops::Scope::Fleet => "the kill switch".to_owned(),
    };
    match Confirmation::for_plan(plan) {
        Confirmation::None => Ok(()),
        Confirmation::YesNo if yes => Ok(()),
        Confirmation::YesNo => Err(Failure::usage(format!(
            "{env} asks for confirmation: pass --yes to confirm from the command line, or use the console"
        ))),
        Confirmation::Reason => match reason.map(str::trim) {
            Some(r) if !r.is_empty() => Ok(()),
            _ => Err(Failure::usage(format!("{env} requires --reason R: it goes into the audit record"))),
        },
        Confirmation::Typed { expected } => {
            if !yes {
                return Err(Failure::usage(format!(
                    "{env} requires a typed confirmation of {expected}: pass --yes --reason R, or use the console"
                )));
            }
            match reason.map(str::trim) {
                Some(r) if !r.is_empty() => Ok(()),
                _ => Err(Failure::usage(format!("{env} requires --reason R: it goes into the audit record"))),
            }
        }
    }
}

pub async fn deployment(
    global: &GlobalArgs,
    paths: &Paths,
    operation: Operation,
    args: &WriteArgs,
) -> Result<Exit, Failure> {
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global)).map_err(Failure::usage)?;
    let path = config::resolve_path(global.config.as_deref(), paths);
    let config = load_config(&path, global.config.is_some(), Ok(&kubeconfig))?;
    let (env, app) = runner::find(&config, &args.target.env, &args.target.app).map_err(Failure::usage)?;
    let readonly = global.readonly || env.readonly;
    let session = runner::open_session(kubeconfig, env, readonly).await.map_err(|e| op_failure(&e))?;
    let object =
        ops::fetch(&session.read, &runner::deployment_target(env, app)).await.map_err(|e| op_failure(&e))?;
    let mut plan = runner::plan_deployment(env, app, operation, &object).map_err(plan_failure)?;
    apply_policy(paths, env, &mut plan, None, args.reason.as_deref())?;

    carry_out(
        &config,
        paths,
        &session.clone().into(),
        &plan,
        Options { yes: args.yes, reason: args.reason.as_deref(), json: args.target.json },
        async || runner::describe_now(&session, env, app, operation).await,
    )
    .await
}

/// How a write command was asked to behave.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    pub yes: bool,
    pub reason: Option<&'a str>,
    pub json: bool,
}

/// The environment's rules on `plan` (windows, blackouts, the checklist gate): refused is
/// exit 3; a change that adds risk outside a window needs `--reason`; either way an emergency
/// is written onto the plan, for the audit log.
pub fn apply_policy(
    paths: &Paths,
    env: &crate::config::Environment,
    plan: &mut Plan,
    version: Option<&str>,
    reason: Option<&str>,
) -> Result<(), Failure> {
    use crate::ops::policy::{Decision, Rules, decide};
    let reports = crate::checklist::report::signed(paths.data_dir(), env.name());
    match decide(plan, &Rules::of(env, &reports), version, jiff::Timestamp::now()) {
        Decision::Go => Ok(()),
        Decision::Emergency(why) => {
            plan.emergency = Some(why);
            Ok(())
        }
        Decision::NeedsReason(why) => {
            if reason.map(str::trim).is_none_or(str::is_empty) {
                return Err(Failure::usage(format!(
                    "{why}: pass --reason R; it is recorded as an emergency change"
                )));
            }
            plan.warnings.push(format!("{why}: recorded as an emergency"));
            plan.emergency = Some(why);
            Ok(())
        }
        Decision::Refused(why) => Err(Failure::new(Exit::Precondition, why)),
    }
}

/// The plan as the command line shows it before anything happens: its sentence, each change,
/// and what the operator should know.
pub fn show(plan: &Plan, json: bool) {
    if json {
        return;
    }
    eprintln!("plan: {}", plan.sentence());
    for line in plan.steps.iter().flat_map(|s| &s.diff) {
        eprintln!("  {}: {} → {}", line.field, line.before, line.after);
    }
    for warning in &plan.warnings {
        eprintln!("  ⚠ {warning}");
    }
}

/// The tail every write command shares: show the plan, preflight, confirm, run along the
/// operation path, and report; after a 409, `after_conflict` says what the object is now.
pub async fn carry_out(
    config: &Config,
    paths: &Paths,
    sessions: &runner::Sessions,
    plan: &Plan,
    options: Options<'_>,
    after_conflict: impl AsyncFnOnce() -> String,
) -> Result<Exit, Failure> {
    show(plan, options.json);
    runner::preflight(sessions, plan).await.map_err(|e| op_failure(&e))?;
    confirm_non_interactively(plan, options.yes, options.reason)?;
    execute(config, paths, sessions, plan, options, after_conflict).await
}

/// After the confirmation: run the plan along the operation path and report how it ended.
pub async fn execute(
    config: &Config,
    paths: &Paths,
    sessions: &runner::Sessions,
    plan: &Plan,
    options: Options<'_>,
    after_conflict: impl AsyncFnOnce() -> String,
) -> Result<Exit, Failure> {
    let audit = AuditLog::open(paths.data_dir()).map_err(|e| {
        Failure::new(
            Exit::Failed,
            format!("cannot open the audit log in {}: {e}", paths.data_dir().display()),
        )
    })?;
    let hook = webhook(config);
    let mut recorder = Recorder { audit: &audit, webhook: hook.as_ref(), pending: Vec::new() };
    let quiet = options.json;
    let report = runner::run(sessions, plan, options.reason, &mut recorder, |stage| {
        if !quiet {
            eprintln!("{stage}");
        }
    })
    .await;
    // Give notifications a moment, but never hold the operator's shell for long.
    let _ = tokio::time::timeout(WEBHOOK_GRACE, futures::future::join_all(recorder.pending)).await;

    let mut report = report;
    if matches!(report.error, Some(OpError::Conflict(_))) {
        report.message = format!("{}. {}", report.message, after_conflict().await);
    }
    let exit = match (&report.error, report.outcome) {
        (Some(error), _) => error.exit(),
        (None, Outcome::Done) => Exit::Ok,
        (None, _) => Exit::Failed,
    };
    let user = plan.environments().first().and_then(|env| sessions.get(env).ok()).map(|s| s.user.clone());
    if options.json {
        let out = json!({
            "operation": plan.operation.name(),
            "env": plan.env,
            "app": plan.app,
            "sentence": plan.sentence(),
            "user": user,
            "reason": options.reason,
            "warnings": plan.warnings,
            "outcome": report.outcome.as_str(),
            "message": report.message,
            "exit": exit as u8,
        });
        println!("{out}");
    } else {
        println!("{}: {}", report.outcome.as_str(), report.message);
    }
    Ok(exit)
}
