//! The team's commands: approval requests listed, approved and denied, and the cluster set up
//! for the team's records. Thin adapters over the engine's approval gate and the cluster layer.

use serde_json::json;

use super::write::{self, refused};
use crate::cli::{ApprovalsArgs, ClusterSetupArgs, GlobalArgs};
use crate::config::Paths;
use crate::engine::{Engine, Listed};
use crate::exit::{Exit, Failure};
use crate::team::approval::Standing;

/// The environments a command looks in: the one named, or every one.
fn environments(engine: &Engine, env: Option<&str>) -> Result<Vec<String>, Failure> {
    match env {
        Some(env) => {
            engine.fleet().env(env).map_err(|e| Failure::usage(e.to_string()))?;
            Ok(vec![env.to_owned()])
        }
        None => Ok(engine.fleet().environments.iter().map(|e| e.name.clone()).collect()),
    }
}

fn listed_json(env: &str, l: &Listed, enforced: Option<bool>) -> serde_json::Value {
    let (by, reason) = match &l.standing {
        Standing::Approved { by, reason } | Standing::Denied { by, reason } => (Some(by), reason.as_ref()),
        _ => (None, None),
    };
    json!({
        "id": l.request.id, "env": env, "app": l.request.app, "operation": l.request.operation,
        "sentence": l.request.sentence, "steps": l.request.steps, "warnings": l.request.warnings,
        "requester": l.request.requester, "requested_at": l.request.requested_at,
        "expires_at": l.request.expires_at, "reason": l.request.reason,
        "standing": l.standing.word(), "answered_by": by, "answer_reason": reason,
        "enforced_by_server": enforced,
    })
}

/// Whether the server enforces the records' rules, in words for every approval shown.
fn enforcement(enforced: Option<bool>) -> &'static str {
    match enforced {
        Some(true) => "enforced by the server (opsdeck-records admission policy)",
        Some(false) => {
            "NOT enforced by the server: the admission policy is not installed (opsdeck cluster-setup)"
        }
        None => "not known whether the server enforces them (the admission policy could not be read)",
    }
}

pub async fn approvals(global: &GlobalArgs, paths: &Paths, args: &ApprovalsArgs) -> Result<Exit, Failure> {
    let engine = write::engine(global, paths, true)?;
    let mut out = Vec::new();
    let mut exit = Exit::Ok;
    for env in environments(&engine, args.env.as_deref())? {
        let session = match engine.session(&env).await {
            Ok(session) => session,
            Err(e) => {
                eprintln!("opsdeck: {env}: {e}");
                exit = Exit::Unreachable;
                continue;
            }
        };
        let enforced = crate::cluster::records::policy_installed(&session.read).await.ok();
        let listed = match engine.requests(&session).await {
            Ok(listed) => listed,
            Err(e) => {
                eprintln!("opsdeck: {env}: {e}");
                exit = Exit::Unreachable;
                continue;
            }
        };
        for l in listed.iter().filter(|l| args.all || l.standing == Standing::Pending) {
            out.push((env.clone(), l.clone(), enforced));
        }
    }
    if args.json {
        let items: Vec<_> = out.iter().map(|(env, l, enforced)| listed_json(env, l, *enforced)).collect();
        out!(
            "{}",
            serde_json::to_string_pretty(&items).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
        );
        return Ok(exit);
    }
    if out.is_empty() {
        out!("no pending approval requests");
    }
    for (env, l, enforced) in &out {
        let r = &l.request;
        out!(
            "{}  {env}/{}  {}  by {} at {} UTC, expires {} UTC",
            r.id,
            r.app,
            l.standing.word(),
            r.requester,
            r.requested_at.strftime("%H:%M"),
            r.expires_at.strftime("%H:%M")
        );
        for step in &r.steps {
            out!("    {}", step.sentence);
            for line in &step.diff {
                out!("      {line}");
            }
        }
        for warning in &r.warnings {
            out!("    ⚠ {warning}");
        }
        if let Some(reason) = &r.reason {
            out!("    reason: {reason}");
        }
        out!("    approvals here are {}", enforcement(*enforced));
    }
    Ok(exit)
}

/// `opsdeck approve ID` / `opsdeck deny ID --reason R`.
pub async fn answer(
    global: &GlobalArgs,
    paths: &Paths,
    id: &str,
    env: Option<&str>,
    approved: bool,
    reason: Option<&str>,
) -> Result<Exit, Failure> {
    let engine = write::engine(global, paths, true)?;
    let mut last = None;
    for env in environments(&engine, env)? {
        match engine.answer_request(&env, id, approved, reason).await {
            Ok(listed) => {
                let session = engine.session(&env).await.map_err(|e| refused(&e))?;
                let enforced = crate::cluster::records::policy_installed(&session.read).await.ok();
                let r = &listed.request;
                out!(
                    "{} {} ({env}/{}: {}), requested by {}",
                    if approved { "approved" } else { "denied" },
                    r.id,
                    r.app,
                    r.sentence,
                    r.requester
                );
                out!("approvals here are {}", enforcement(enforced));
                return Ok(Exit::Ok);
            }
            // Not in this environment, or it cannot be asked: look in the others.
            Err(crate::engine::Refusal::Unknown(why)) => last = Some(Failure::new(Exit::Precondition, why)),
            Err(e @ crate::engine::Refusal::Unreachable(_)) => last = Some(refused(&e)),
            Err(e) => return Err(refused(&e)),
        }
    }
    Err(last.unwrap_or_else(|| Failure::new(Exit::Precondition, format!("no approval request {id}"))))
}

pub async fn cluster_setup(
    global: &GlobalArgs,
    paths: &Paths,
    args: &ClusterSetupArgs,
) -> Result<Exit, Failure> {
    let engine = write::engine(global, paths, true)?;
    let namespace = engine.fleet().config.team.namespace.clone();
    let items = crate::team::manifest(&namespace);
    let session = engine.session(&args.env).await.map_err(|e| refused(&e))?;
    let write = session.writer().map_err(|e| refused(&e))?;
    out!("{} ({}) as {}: will apply", args.env, session.context, session.user);
    for item in &items {
        out!(
            "  {} {}",
            item["kind"].as_str().unwrap_or("?"),
            item.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or("?")
        );
    }
    out!(
        "The policy makes the server refuse a record in namespace {namespace} that names another user than the one writing it, any change or deletion of a record by anyone outside system:masters, and an approval by the request's own requester."
    );
    if !args.yes {
        if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return Err(Failure::usage(
                "cluster-setup asks for confirmation: pass --yes, or run it at a terminal",
            ));
        }
        eprint!("apply to {}? type yes: ", args.env);
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
        if line.trim() != "yes" {
            out!("nothing applied");
            return Ok(Exit::Precondition);
        }
    }
    let done = crate::cluster::records::set_up(write, &items).await.map_err(|e| write::op_failure(&e))?;
    for line in done {
        out!("applied {line}");
    }
    Ok(Exit::Ok)
}
