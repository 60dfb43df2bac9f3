//! `opsdeck audit`: the audit log as a table, JSON, or a Markdown timeline.

use crate::audit::{self, AuditLog};
use crate::cli::AuditArgs;
use crate::config::{HumanDuration, Paths};
use crate::exit::{Exit, Failure};

pub fn audit(paths: &Paths, args: &AuditArgs) -> Result<Exit, Failure> {
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
    let (records, skipped) = log
        .read()
        .map_err(|e| Failure::new(Exit::Failed, format!("cannot read {}: {e}", log.path().display())))?;
    for problem in &skipped {
        eprintln!("opsdeck: skipped {problem}");
    }
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
