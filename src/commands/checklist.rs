//! `opsdeck checklist`: the automated part of an environment's checklist, each result with
//! its evidence; exit 1 when a required automated item fails.

use serde_json::json;

use super::write::{self, refused};
use crate::checklist::report::{self, State};
use crate::checklist::{Report, Status, model};
use crate::cli::{ChecklistArgs, GlobalArgs};
use crate::config::{self, Paths};
use crate::exit::{Exit, Failure};

pub async fn checklist(global: &GlobalArgs, paths: &Paths, args: &ChecklistArgs) -> Result<Exit, Failure> {
    let path = config::resolve_path(global.config.as_deref(), paths);
    if args.last {
        return last(global, paths, args).await;
    }
    if args.cosign {
        return cosign(global, paths, args).await;
    }
    // The checklist only reads.
    let global = GlobalArgs { readonly: true, ..global.clone() };
    let engine = write::engine(&global, paths, true)?;
    let fleet = engine.fleet();
    let model = fleet.env(&args.env).map_err(|e| Failure::usage(e.to_string()))?;
    let env = fleet
        .env_config(&args.env)
        .ok_or_else(|| Failure::usage(format!("unknown environment {:?}", args.env)))?;
    let checklist = model::for_environment(env, &path).map_err(Failure::usage)?;
    let session = engine.session(&args.env).await.map_err(|e| refused(&e))?;
    let previous = match fleet.previous(&args.env) {
        Some(p) => Some((p, engine.session(&p.name).await.map(|s| s.read).map_err(|e| e.to_string()))),
        None => None,
    };
    let objects =
        crate::cluster::checklist::gather(&session.read, model, previous, &checklist, &fleet.config)
            .await
            .map_err(|e| refused(&e.into()))?;
    let mut report = Report::new(&checklist, env.name(), objects.now);
    report.check(&checklist, &objects);
    let failed_required =
        report.items.iter().filter(|i| i.auto.is_some() && i.required && i.state() == State::Failed).count();
    if args.json {
        let items: Vec<_> = report
            .items
            .iter()
            .map(|i| {
                json!({
                    "section": i.section, "text": i.text, "auto": i.auto, "required": i.required,
                    "state": i.state().word(),
                    "evidence": i.outcome.as_ref().map(|o| &o.evidence),
                })
            })
            .collect();
        let out = json!({
            "env": report.env, "checklist": report.checklist, "targets": report.targets,
            "summary": report.summary(), "failed_required": failed_required, "items": items,
        });
        out!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
        );
    } else {
        print_text(&report);
    }
    Ok(if failed_required > 0 { Exit::Failed } else { Exit::Ok })
}

fn print_text(report: &Report) {
    out!("{} · {} · automated items", report.checklist, report.env);
    let versions: Vec<String> = report.targets.iter().map(|(a, v)| format!("{a} {v}")).collect();
    if !versions.is_empty() {
        out!("about to deploy: {}", versions.join(", "));
    }
    let mut section = "";
    for item in report.items.iter().filter(|i| i.auto.is_some()) {
        if item.section != section {
            section = &item.section;
            out!("\n{section}");
        }
        let state = item.state();
        let kind = if item.required { "" } else { " (advisory)" };
        out!("  {} {:<4} {}{kind}", state.symbol(), state.word(), item.text);
        if let Some(outcome) = &item.outcome {
            for e in
                outcome.evidence.iter().filter(|e| e.status != Status::Pass || outcome.status == Status::Pass)
            {
                out!("       {} {} · {} · {}", e.status.word(), e.object, e.field, e.detail);
            }
        }
    }
    let manual = report.items.iter().filter(|i| i.auto.is_none()).count();
    let s = report.summary();
    out!(
        "\n{} passed, {} failed, {} not applicable; {manual} manual items are for the walk-through in the console",
        s.passed,
        s.failed,
        s.not_applicable
    );
}

/// `--last`: the newest signed report of the environment — this machine's or the team's, with
/// its co-signatures — as saved; without a config, this machine's only.
async fn last(global: &GlobalArgs, paths: &Paths, args: &ChecklistArgs) -> Result<Exit, Failure> {
    let global = GlobalArgs { readonly: true, ..global.clone() };
    let (reports, roles) = match write::engine(&global, paths, true) {
        Ok(engine) => {
            let (reports, problem) = engine.checklists(&args.env).await;
            if let Some(problem) = problem {
                eprintln!("opsdeck: {problem}");
            }
            (reports, engine.fleet().env_config(&args.env).map(|e| e.signoffs.clone()).unwrap_or_default())
        }
        Err(_) => (report::signed(paths.data_dir(), &args.env), Vec::new()),
    };
    let Some(latest) = reports.first() else {
        out!(
            "no signed checklist for {} in {} or the team's records",
            args.env,
            report::dir(paths.data_dir()).display()
        );
        return Ok(Exit::Failed);
    };
    if args.json {
        out!(
            "{}",
            serde_json::to_string_pretty(latest).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
        );
    } else {
        out_raw!("{}", latest.to_markdown());
        print_block(latest, &roles);
    }
    Ok(Exit::Ok)
}

/// The sign-off block: each role, who signed for it, who is still missing.
fn print_block(report: &Report, roles: &[String]) {
    if roles.is_empty() {
        return;
    }
    out!(
        "\nSign-off ({} of {} signed):",
        crate::team::signoff::signers(report).len().min(roles.len()),
        roles.len()
    );
    for (role, who) in crate::team::signoff::block(report, roles) {
        match who {
            Some(user) => out!("  ✓ {role}: {user}"),
            None => {
                out!(
                    "  · {role}: missing (opsdeck checklist --env {} --cosign, as another user)",
                    report.env
                );
            }
        }
    }
}

/// `--cosign`: this Kubernetes user's signature on the newest signed run.
async fn cosign(global: &GlobalArgs, paths: &Paths, args: &ChecklistArgs) -> Result<Exit, Failure> {
    let engine = write::engine(global, paths, true)?;
    let roles = engine.fleet().env_config(&args.env).map(|e| e.signoffs.clone()).unwrap_or_default();
    match engine.cosign(&args.env).await {
        Ok(report) => {
            out!(
                "signed the checklist run {} as {}",
                crate::team::signoff::run_id(&report),
                report.cosigners.last().map_or("?", |c| c.user.as_str())
            );
            print_block(&report, &roles);
            Ok(Exit::Ok)
        }
        Err(crate::engine::Refusal::NothingToDo { message, .. }) => {
            out!("{message}");
            Ok(Exit::Ok)
        }
        Err(e) => Err(refused(&e)),
    }
}
