//! `opsdeck audit`: this machine's audit log merged with the team's records in each
//! environment's cluster, as a table, JSON, or a Markdown timeline.

use crate::audit::{self, AuditLog, Record};
use crate::cli::{AuditArgs, GlobalArgs};
use crate::config::{HumanDuration, Paths};
use crate::exit::{Exit, Failure};
use crate::team::Kind;

pub async fn audit(global: &GlobalArgs, paths: &Paths, args: &AuditArgs) -> Result<Exit, Failure> {
    let since = args
        .since
        .as_deref()
        .map(|s| HumanDuration::parse(s).map(|d| d.0))
        .transpose()
        .map_err(|e| Failure::usage(format!("--since: {e}")))?;
    let log = AuditLog::open(paths.data_dir()).map_err(|e| {
        Failure::new(
            Exit::Failed,
            format!("cannot open the audit log in {}: {e}", paths.data_dir().display()),
        )
    })?;
    let (mut records, skipped) = log
        .read()
        .map_err(|e| Failure::new(Exit::Failed, format!("cannot read {}: {e}", log.path().display())))?;
    for problem in &skipped {
        eprintln!("opsdeck: skipped {problem}");
    }
    if let Some(env) = &args.env {
        records.retain(|r| &r.env == env);
    }
    let records = if args.local {
        audit::merge(records, Vec::new())
    } else {
        with_the_teams(global, paths, args, records).await?
    };
    let now = jiff::Timestamp::now();
    let records = audit::since(&records, since, now);
    if args.json {
        let text =
            serde_json::to_string_pretty(&records).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
        out!("{text}");
    } else if args.markdown {
        out_raw!("{}", audit::markdown(&records, now));
    } else {
        out_raw!("{}", audit::table(&records));
    }
    Ok(Exit::Ok)
}

/// The local records merged with every environment's (or the one named) team records. A
/// cluster that cannot be read is said on stderr; what could be read is still shown.
async fn with_the_teams(
    global: &GlobalArgs,
    paths: &Paths,
    args: &AuditArgs,
    local: Vec<Record>,
) -> Result<Vec<Record>, Failure> {
    let engine = match super::write::engine(global, paths, true) {
        Ok(engine) => engine,
        // No config: this machine's log is all there is to show.
        Err(e) if args.env.is_none() => {
            eprintln!("opsdeck: only this machine's log: {}", e.message);
            return Ok(audit::merge(local, Vec::new()));
        }
        Err(e) => return Err(e),
    };
    if !engine.fleet().config.team.shared_records {
        return Ok(audit::merge(local, Vec::new()));
    }
    let envs: Vec<String> = match &args.env {
        Some(env) => {
            engine.fleet().env(env).map_err(|e| Failure::usage(e.to_string()))?;
            vec![env.clone()]
        }
        None => engine.fleet().environments.iter().map(|e| e.name.clone()).collect(),
    };
    let namespace = engine.fleet().config.team.namespace.clone();
    let mut shared = Vec::new();
    for env in envs {
        let read = match engine.session(&env).await {
            Ok(session) => crate::cluster::records::list(&session.read, &namespace, Kind::Audit).await,
            Err(e) => Err(crate::cluster::ops::OpError::Unreachable(e.to_string())),
        };
        match read {
            Ok((found, problems)) => {
                for problem in problems {
                    eprintln!("opsdeck: {env}: skipped {problem}");
                }
                shared.extend(
                    found.into_iter().filter_map(|s| serde_json::from_value::<Record>(s.payload).ok()),
                );
            }
            Err(e) => eprintln!("opsdeck: {env}: the team's records were not read: {e}"),
        }
    }
    Ok(audit::merge(local, shared))
}
