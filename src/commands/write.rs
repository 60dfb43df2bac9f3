//! The command line's adapter over the operation engine: a request from the flags, prepared by
//! the engine, the flags checked against what its decision asks (`--yes`, `--reason`,
//! `--override`), carried out, and an exit code. Every write command is this one function.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::{kubeconfig_source, load_config};
use crate::audit::{AuditLog, Outcome, Webhook};
use crate::cli::GlobalArgs;
use crate::cluster;
use crate::cluster::ops::OpError;
use crate::config::{self, Config, Fleet, Paths};
use crate::engine::decide::subject;
use crate::engine::{Analysis, Answer, AnswerError, Engine, Prepared, Refusal, Request};
use crate::exit::{Exit, Failure};
use crate::ops::Confirmation;

/// A notification still in flight gets this long before the process exits without it.
const WEBHOOK_GRACE: Duration = Duration::from_secs(2);
/// The team's copies of the records get this long to land before the process exits.
const SHARE_GRACE: Duration = Duration::from_secs(10);
/// A result the audit log would not take is written again this often, this many times.
const RECORD_RETRY_EVERY: Duration = Duration::from_secs(1);
const RECORD_RETRIES: u32 = 5;

/// What a write command was told besides its target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags<'a> {
    pub yes: bool,
    pub reason: Option<&'a str>,
    pub override_reason: Option<&'a str>,
    pub json: bool,
    /// `--take-over` (a global flag, so [`run`] sets it).
    pub take_over: bool,
}

/// The exit code a refusal ends the process with.
pub fn exit_of(refusal: &Refusal) -> Exit {
    match refusal {
        Refusal::Unknown(_) => Exit::Usage,
        Refusal::Forbidden(_) => Exit::Forbidden,
        Refusal::Unreachable(_) => Exit::Unreachable,
        Refusal::Precondition(_) | Refusal::NeedsResume(_) | Refusal::NeedsSuspend(_) => Exit::Precondition,
        Refusal::NothingToDo { left_out, .. } => left_out.first().map_or(Exit::Ok, exit_of),
        Refusal::Invalid(_) | Refusal::Failed(_) => Exit::Failed,
    }
}

pub fn refused(refusal: &Refusal) -> Failure {
    Failure::new(exit_of(refusal), refusal.to_string())
}

/// The exit code of an operation error.
pub fn op_exit(error: &OpError) -> Exit {
    exit_of(&Refusal::from(error.clone()))
}

pub fn op_failure(error: &OpError) -> Failure {
    Failure::new(op_exit(error), error.to_string())
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

/// The engine as a command uses it: the config and kubeconfig the flags name, the audit log in
/// the data dir, verdicts measured when a gate needs one, and sampling said on stderr.
pub fn engine(global: &GlobalArgs, paths: &Paths, quiet: bool) -> Result<Engine, Failure> {
    let kubeconfig = cluster::load_kubeconfig(&kubeconfig_source(global)).map_err(Failure::usage)?;
    let path = config::resolve_path(global.config.as_deref(), paths);
    let config = load_config(&path, global.config.is_some(), Ok(&kubeconfig))?;
    let audit = AuditLog::open(paths.data_dir())
        .map_err(|e| format!("cannot open the audit log in {}: {e}", paths.data_dir().display()));
    let say: Option<crate::engine::Say> =
        if quiet { None } else { Some(Arc::new(|text: &str| eprintln!("{text}"))) };
    Ok(Engine::new(crate::engine::Setup {
        webhook: webhook(&config),
        fleet: Arc::new(Fleet::resolve(config)),
        kubeconfig: Ok(kubeconfig),
        readonly: global.readonly,
        audit,
        data_dir: paths.data_dir().clone(),
        analysis: Analysis::Measure,
        say,
    }))
}

/// What the flags answer to what the decision asks; the failure says which flag is missing.
pub fn answer(prepared: &Prepared, flags: &Flags<'_>) -> Result<Answer, Failure> {
    let answer = Answer {
        confirmed: flags.yes,
        reason: flags.reason.map(str::to_owned),
        override_reason: flags.override_reason.map(str::to_owned),
        take_over: flags.take_over,
    };
    match crate::engine::decide::check(&prepared.decision, &answer) {
        Ok(_) => Ok(answer),
        Err(missing) => Err(missing_flag(prepared, &missing)),
    }
}

fn missing_flag(prepared: &Prepared, missing: &AnswerError) -> Failure {
    let who = subject(&prepared.plan);
    match missing {
        AnswerError::NotConfirmed { asked: Confirmation::Typed { expected } } => Failure::usage(format!(
            "{who} requires a typed confirmation of {expected}: pass --yes --reason R, or use the console"
        )),
        AnswerError::NotConfirmed { .. } => Failure::usage(format!(
            "{who} asks for confirmation: pass --yes to confirm from the command line, or use the console"
        )),
        AnswerError::NoReason { why: Some(why) } => {
            Failure::usage(format!("{why}: pass --reason R; it is recorded as an emergency change"))
        }
        AnswerError::NoReason { why: None } => {
            Failure::usage(format!("{who} requires --reason R: it goes into the audit record"))
        }
        AnswerError::NotTakenOver { holder } => Failure::new(
            Exit::Precondition,
            format!(
                "{holder} is at the controls of {}/{}: pass --take-over to write anyway; the take-over is recorded",
                prepared.plan.env, prepared.plan.app
            ),
        ),
        AnswerError::NoOverride { gate } => Failure::new(
            Exit::Precondition,
            format!(
                "not raising the canary's traffic: {gate}. Pass --override R to go ahead anyway; it is recorded"
            ),
        ),
    }
}

/// The plan as the command line shows it before anything happens: its sentence, each change,
/// and what the operator should know.
fn show(prepared: &Prepared) {
    eprintln!("plan: {}", prepared.plan.sentence());
    for line in prepared.plan.steps.iter().flat_map(|s| &s.diff) {
        eprintln!("  {}: {} → {}", line.field, line.before, line.after);
    }
    for warning in prepared.warnings() {
        eprintln!("  ⚠ {warning}");
    }
}

/// One write command: prepare, check the flags, carry out, report.
pub async fn run(
    global: &GlobalArgs,
    paths: &Paths,
    request: Request,
    flags: Flags<'_>,
) -> Result<Exit, Failure> {
    let engine = engine(global, paths, flags.json)?;
    let flags = Flags { take_over: global.take_over, ..flags };
    let again = request.clone();
    let prepared = match engine.prepare(request).await {
        Ok(prepared) => prepared,
        Err(Refusal::NothingToDo { message, left_out }) => {
            for problem in &left_out {
                eprintln!("⚠ {problem}");
            }
            out!("{message}");
            return Ok(left_out.first().map_or(Exit::Ok, exit_of));
        }
        Err(refusal) => return Err(refused(&refusal)),
    };
    if !flags.json {
        show(&prepared);
    }
    let answer = answer(&prepared, &flags)?;
    let Done { exit, report, unrecorded } = carry_out(&engine, &prepared, &answer, flags.json).await?;
    if let Some(id) = &report.awaiting
        && !flags.json
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        out!("{}", report.message);
        return wait_for_approval(&engine, again, id, &flags).await;
    }
    if flags.json {
        let out = json!({
            "operation": prepared.plan.operation.name(),
            "env": prepared.plan.env,
            "app": prepared.plan.app,
            "sentence": prepared.plan.sentence(),
            "user": prepared.user,
            "reason": flags.reason,
            "warnings": prepared.warnings(),
            "outcome": report.outcome.as_str(),
            "message": report.message,
            "unrecorded": unrecorded,
            "awaiting_approval": report.awaiting,
            "approval": prepared.approval.recorded(),
            "exit": exit as u8,
        });
        out!("{out}");
    } else {
        out!("{}: {}", report.outcome.as_str(), report.message);
    }
    Ok(exit)
}

/// How often a waiting operator's request is looked at again.
const APPROVAL_POLL: Duration = Duration::from_secs(2);

/// At a terminal, waits for request `id` to be answered, then plans the request again and
/// carries it out if the approval is for the plan as it is now; a changed object means a new
/// plan and a new request, never a stale write.
async fn wait_for_approval(
    engine: &Engine,
    request: Request,
    id: &str,
    flags: &Flags<'_>,
) -> Result<Exit, Failure> {
    use crate::team::approval::Standing;
    eprintln!("waiting for {id} to be answered (Ctrl-C stops waiting; the request stays until it expires)");
    let session = engine.session(&request.env).await.map_err(|e| refused(&e))?;
    loop {
        tokio::time::sleep(APPROVAL_POLL).await;
        let listed = match engine.requests(&session).await {
            Ok(listed) => listed,
            Err(e) => {
                eprintln!("opsdeck: cannot read the request ({e}); asking again");
                continue;
            }
        };
        let Some(found) = listed.into_iter().find(|l| l.request.id == id) else { continue };
        match found.standing {
            Standing::Pending => {}
            Standing::Approved { by, .. } => {
                eprintln!("{by} approved {id}; planning again against the objects as they are now");
                break;
            }
            other => {
                return Err(Failure::new(
                    Exit::Precondition,
                    format!("request {id} is {}: nothing was done", other.word()),
                ));
            }
        }
    }
    let prepared = engine.prepare(request).await.map_err(|e| refused(&e))?;
    show(&prepared);
    let answer = answer(&prepared, flags)?;
    let Done { exit, report, .. } = carry_out(engine, &prepared, &answer, false).await?;
    out!("{}: {}", report.outcome.as_str(), report.message);
    Ok(exit)
}

/// A carried-out write: its exit code, the engine's report, and results the audit log would
/// not take even after retrying.
pub struct Done {
    pub exit: Exit,
    pub report: crate::engine::Report,
    pub unrecorded: Vec<String>,
}

/// Carries out a prepared, answered write: stages on stderr unless `quiet`, notifications given
/// a moment, results the audit log would not take written again, and the exit code.
pub async fn carry_out(
    engine: &Engine,
    prepared: &Prepared,
    answer: &Answer,
    quiet: bool,
) -> Result<Done, Failure> {
    let mut report = engine
        .execute(prepared, answer, |stage| {
            if !quiet {
                eprintln!("{stage}");
            }
        })
        .await
        .map_err(|missing| missing_flag(prepared, &missing))?;
    // Give notifications a moment, but never hold the operator's shell for long.
    for undelivered in std::mem::take(&mut report.notifications).settle(WEBHOOK_GRACE).await {
        eprintln!("opsdeck: notification not delivered: {undelivered}");
    }
    // The team's copies: the local log already holds every record, so one the cluster would
    // not take is said, not fatal.
    for unshared in std::mem::take(&mut report.shared).settle(SHARE_GRACE).await {
        eprintln!("opsdeck: ⚠ the team's copy of a record was not kept in the cluster: {unshared}");
    }
    let mut exit = match (&report.error, report.outcome) {
        (Some(error), _) => op_exit(error),
        (None, Outcome::Done) => Exit::Ok,
        (None, _) => Exit::Failed,
    };
    // A result the audit log would not take (a full disk): try again for a few seconds, then
    // say so loudly and fail, since the record of what was done is incomplete.
    let mut unrecorded = report.unrecorded.clone();
    for _ in 0..RECORD_RETRIES {
        if unrecorded.is_empty() {
            break;
        }
        tokio::time::sleep(RECORD_RETRY_EVERY).await;
        unrecorded = engine.retry_records();
    }
    for line in &unrecorded {
        eprintln!("opsdeck: ⚠ {line}; the intent record says what was attempted");
    }
    if !unrecorded.is_empty() && exit == Exit::Ok {
        exit = Exit::Failed;
    }
    // Every reachable canary was aborted; one left out still makes the kill switch incomplete.
    if exit == Exit::Ok
        && let Some(first) = prepared.left_out.first()
    {
        exit = exit_of(first);
    }
    Ok(Done { exit, report, unrecorded })
}
