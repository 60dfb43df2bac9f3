//! `opsdeck guard`: the pipeline's "monitor-deployment.sh 15, rollback on failure" (seed 004).
//! Follows the app's current revision for the period through the watches, decides the
//! rollback tree again every second, and ends at once when a branch says roll back — rolling
//! back through the engine with `--rollback --yes`, and waiting for that rollback to finish.
//! Progress on stderr; `--json` prints the tree's final state with its evidence.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::write::{self, Done, refused};
use crate::audit::guard_payload;
use crate::cli::{GlobalArgs, GuardArgs};
use crate::cluster::EnvWatch;
use crate::cluster::guard::Sampler;
use crate::cluster::watch;
use crate::config::Paths;
use crate::config::Placement;
use crate::engine::{Answer, Ask, Engine, Origin, Request, Session, fetch_rollback};
use crate::exit::{Exit, Failure};
use crate::guard::baseline;
use crate::guard::observe::{current_replica_set, observed};
use crate::guard::{Change, Guard, Limits, Outcome, Tree, decide};
use crate::health::assess::{AppSpec, image_tag};
use crate::metrics::Figures;
use crate::ops::rollback;

/// How long the watches get to list the environment before it counts as unreachable.
const SYNC_DEADLINE: Duration = Duration::from_secs(15);
/// Watches failing this long mid-guard: the environment is lost, and nothing can be judged.
const LOST_AFTER: Duration = Duration::from_secs(60);
/// A progress line at least this often while nothing changes.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// `--json`. Field names are part of the command-line contract.
#[derive(Debug, Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    guard: &'a Guard,
    /// Where the figures came from: "scrape", "prometheus", or why there are none.
    metrics: String,
    /// The rollback the guard made, when it made one.
    rollback: Option<RollbackReport>,
    exit: u8,
}

#[derive(Debug, Serialize)]
struct RollbackReport {
    sentence: Option<String>,
    outcome: String,
    message: String,
}

pub async fn guard(global: &GlobalArgs, paths: &Paths, args: &GuardArgs) -> Result<Exit, Failure> {
    if args.rollback && !args.yes {
        return Err(Failure::usage(
            "guard --rollback rolls back without asking once the tree says so: pass --yes to agree to that now",
        ));
    }
    let engine = write::engine(global, paths, args.target.json)?;
    let mut run = Run::start(&engine, args).await?;
    run.follow().await?;
    let Run { mut guard, metrics, figures, .. } = run;
    finish(&engine, &mut guard, args, metrics, figures).await
}

/// A guard under way: what it watches and what it has measured.
struct Run<'a> {
    engine: &'a Engine,
    args: &'a GuardArgs,
    placement: Placement,
    session: Session,
    watchers: watch::Watchers,
    tables: watch::Tables,
    guard: Guard,
    sampler: Option<Sampler>,
    /// The metrics source, or why there is none.
    metrics: String,
    change_at: jiff::Timestamp,
    figures: Option<Figures>,
}

impl<'a> Run<'a> {
    fn say(&self, line: &str) {
        if !self.args.target.json {
            eprintln!("{line}");
        }
    }

    /// Connected, listed, and the revision to guard found, with its baseline where Prometheus
    /// has one.
    async fn start(engine: &'a Engine, args: &'a GuardArgs) -> Result<Self, Failure> {
        let (env, app) = (args.target.env.as_str(), args.target.app.as_str());
        let fleet = engine.fleet();
        let placement = fleet.placement(env, app).map_err(|e| refused(&e.into()))?.clone();
        let env_config =
            fleet.env_config(env).ok_or_else(|| Failure::usage(format!("unknown environment {env:?}")))?;
        let period = args.period.unwrap_or_else(|| env_config.guard_period());
        let limits = fleet.config.app(app).map_or_else(Limits::default, |a| Limits::of(&a.guard));
        let session = engine.session(env).await.map_err(|e| refused(&e))?;
        let watch_spec = EnvWatch::for_env(fleet, env);
        let mut watchers = watch::start(&session.read, &watch_spec.spec);
        let mut tables = watch::sync(&mut watchers, SYNC_DEADLINE)
            .await
            .map_err(|e| Failure::new(Exit::Unreachable, format!("{env}: {e}")))?;
        let spec = AppSpec::of(&placement);
        let late = !caught_up(&spec, &mut watchers, &mut tables).await;
        let inventory = tables.inventory();
        let Some(current) = current_replica_set(&spec, &inventory) else {
            return Err(Failure::new(
                Exit::Failed,
                format!(
                    "{env}/{app}: Deployment {} has no current ReplicaSet to guard",
                    placement.deployment
                ),
            ));
        };
        let change_at = current.created.unwrap_or_else(jiff::Timestamp::now);
        let version = current.images.first().map(|i| image_tag(i));
        let guard = Guard::new(env, app, current.revision, version, jiff::Timestamp::now(), period, limits);
        let (sampler, metrics) = sampler(&watch_spec, app, period);
        let mut run = Self {
            engine,
            args,
            placement,
            session,
            watchers,
            tables,
            guard,
            sampler,
            metrics,
            change_at,
            figures: None,
        };
        if late {
            run.say(&format!(
                "  ⚠ the Deployment controller has not caught up with {}'s latest spec",
                run.placement.deployment
            ));
        }
        run.say(&format!(
            "guarding {env}/{app} revision {} ({}) for {}{}",
            run.guard.revision.map_or_else(|| "?".to_owned(), |r| r.to_string()),
            run.guard.version.as_deref().unwrap_or("?"),
            crate::config::duration_words(i64::try_from(period.as_secs()).unwrap_or(i64::MAX)),
            if args.rollback { ", rolling back if the tree says so" } else { "" },
        ));
        let window = args.baseline.unwrap_or_else(|| env_config.guard_baseline());
        match &run.sampler {
            None => {
                run.say(&format!("  metrics: {}; error rate and response time are not judged", run.metrics));
            }
            Some(s) => match s.prometheus_baseline(window, change_at).await {
                Some(Ok(b)) => run.guard.baseline = Some(b),
                Some(Err(e)) => run.say(&format!("  ⚠ no baseline from Prometheus: {e}")),
                None => {}
            },
        }
        Ok(run)
    }

    /// Decides the tree every second until the guard ends.
    async fn follow(&mut self) -> Result<(), Failure> {
        let env = self.guard.env.clone();
        let placement = self.placement.clone();
        let spec = AppSpec::of(&placement);
        let mut next_round = Instant::now();
        let mut last_said = Instant::now();
        let mut failing_since: Option<Instant> = None;
        let mut first_round = true;
        loop {
            // Take in what the watches say for a second, then decide once.
            let tick = tokio::time::Instant::now() + Duration::from_secs(1);
            while let Ok(more) = tokio::time::timeout_at(tick, self.watchers.next(&mut self.tables)).await {
                if !more {
                    return Err(Failure::new(Exit::Unreachable, format!("{env}: every watch ended")));
                }
            }
            let now = jiff::Timestamp::now();
            failing_since = self.tables.error.as_ref().map(|_| failing_since.unwrap_or_else(Instant::now));
            if let (Some(error), Some(since)) = (&self.tables.error, failing_since)
                && since.elapsed() > LOST_AFTER
            {
                return Err(Failure::new(
                    Exit::Unreachable,
                    format!(
                        "{env}: lost for {}s while guarding {}: {error}",
                        LOST_AFTER.as_secs(),
                        self.guard.app
                    ),
                ));
            }
            let inventory = self.tables.inventory();
            let revision = current_replica_set(&spec, &inventory).and_then(|rs| rs.revision);
            if revision != self.guard.revision
                && let Some(change) = self.guard.superseded(revision, now)
            {
                self.say(&line(&change));
                return Ok(());
            }
            if self.sampler.is_some() && Instant::now() >= next_round {
                next_round = Instant::now() + self.measure(&inventory).await;
                if first_round && self.guard.baseline.is_none() {
                    self.guard.baseline = stored_baseline(self.engine, &self.guard, &|l: &str| self.say(l));
                }
                first_round = false;
            }
            let tree = decide(
                &observed(
                    &spec,
                    &inventory,
                    now,
                    self.tables.reads_services(&self.watchers),
                    self.figures.clone(),
                    self.guard.baseline.as_ref().map(|b| b.figures.clone()),
                ),
                &self.guard.limits,
            );
            let changes = self.guard.observe(tree, now);
            for change in &changes {
                self.say(&line(change));
            }
            if self.guard.ended.is_some() {
                return Ok(());
            }
            if !changes.is_empty() {
                last_said = Instant::now();
            } else if last_said.elapsed() >= PROGRESS_EVERY {
                self.say(&progress(&self.guard, now));
                last_said = Instant::now();
            }
        }
    }

    /// One metrics round: the new version's figures, and the previous revision's as the
    /// baseline the first time they are enough to judge by. How long until the next round.
    async fn measure(&mut self, inventory: &crate::health::Inventory) -> Duration {
        let placement = self.placement.clone();
        let spec = AppSpec::of(&placement);
        let Some(s) = self.sampler.as_mut() else { return Duration::MAX };
        let every = s.interval().min(Duration::from_secs(5));
        match s.round(&self.session.read, inventory, &spec, self.change_at).await {
            Ok(round) => {
                for failure in &round.failures {
                    tracing::debug!(failure, "metrics");
                }
                if self.guard.baseline.is_none()
                    && let Some(previous) = round.previous
                    && previous.figures.requests >= self.guard.limits.min_requests as f64
                {
                    self.say(&format!("  baseline: {}", previous.from));
                    let (env, app) = (&self.guard.env, &self.guard.app);
                    if let Err(e) = baseline::store(self.engine.data_dir(), env, app, None, &previous) {
                        tracing::warn!(error = %e, "could not keep the baseline");
                    }
                    self.guard.baseline = Some(previous);
                }
                self.figures = Some(round.figures);
            }
            Err(e) => self.say(&format!("  ⚠ metrics: {e}")),
        }
        every
    }
}

/// Right after `kubectl apply` the Deployment controller may not have made the new ReplicaSet
/// yet: waits until it has seen the latest spec, so the new revision is the one guarded.
async fn caught_up(spec: &AppSpec<'_>, watchers: &mut watch::Watchers, tables: &mut watch::Tables) -> bool {
    tokio::time::timeout(SYNC_DEADLINE, async {
        loop {
            let inventory = tables.inventory();
            let (stable, _) = spec.live_names(&inventory);
            let observed = inventory
                .deployments
                .iter()
                .find(|d| d.namespace == spec.namespace && d.name == stable)
                .is_none_or(|d| d.observed_generation >= d.generation);
            if (observed && current_replica_set(spec, &inventory).is_some()) || !watchers.next(tables).await {
                break;
            }
        }
    })
    .await
    .is_ok()
}

/// The previous revision's pods are gone: the app's last stored baseline, unless it is this
/// version's own.
fn stored_baseline(engine: &Engine, guard: &Guard, say: &impl Fn(&str)) -> Option<crate::guard::Baseline> {
    match baseline::load(engine.data_dir(), &guard.env, &guard.app) {
        Some((stored, of)) if of.is_none() || of != guard.version => {
            say(&format!("  baseline: {}", stored.from));
            Some(stored)
        }
        _ => {
            say("  no baseline: response time is judged only once one is known");
            None
        }
    }
}

/// The guard's metrics, or why there are none.
fn sampler(watch: &EnvWatch, app: &str, period: Duration) -> (Option<Sampler>, String) {
    let settings = match &watch.metrics {
        None => return (None, "no apps to measure".to_owned()),
        Some(Err(why)) => return (None, why.clone()),
        Some(Ok(settings)) => settings.clone(),
    };
    let source = settings.source_name().to_owned();
    let Some(app_settings) = settings.apps.iter().find(|a| a.app == app).cloned() else {
        return (None, format!("{app} has no metric settings here"));
    };
    match Sampler::new(settings, app_settings, period) {
        Ok(s) => (Some(s), source),
        Err(e) => (None, e),
    }
}

/// The end: the rollback when asked for, the baseline kept for next time, the report.
async fn finish(
    engine: &Engine,
    guard: &mut Guard,
    args: &GuardArgs,
    metrics: String,
    figures: Option<Figures>,
) -> Result<Exit, Failure> {
    let json = args.target.json;
    let ended = guard.ended.clone().ok_or_else(|| Failure::new(Exit::Failed, "the guard did not end"))?;
    let mut rollback = None;
    let mut exit = match ended.outcome {
        Outcome::Ok => Exit::Ok,
        Outcome::Watch | Outcome::Rollback | Outcome::Superseded => Exit::Failed,
    };
    if ended.outcome == Outcome::Rollback {
        if let Some(webhook) = engine.webhook() {
            let payload =
                guard_payload(&guard.env, &guard.app, guard.version.as_deref(), &ended.reason, args.rollback);
            let _ = tokio::time::timeout(Duration::from_secs(2), webhook.notify(payload)).await;
        }
        if args.rollback {
            let (report, failed) = roll_back(engine, guard, args, &ended.reason).await;
            if failed && !json {
                eprintln!(
                    "opsdeck: ⚠ the guard said roll back and the rollback did not finish: {}",
                    report.message
                );
            }
            rollback = Some(report);
        }
    }
    if ended.outcome == Outcome::Ok
        && let Some(f) = figures.filter(|f| f.requests >= guard.limits.min_requests as f64)
    {
        // The version that passed is the next release's baseline.
        let from = format!("revision {}'s guard", guard.revision.unwrap_or_default());
        let kept = crate::guard::Baseline { figures: f, from };
        if let Err(e) =
            baseline::store(engine.data_dir(), &guard.env, &guard.app, guard.version.as_deref(), &kept)
        {
            tracing::warn!(error = %e, "could not keep the baseline");
        }
    }
    if rollback.as_ref().is_some_and(|r| r.outcome != "done") {
        exit = Exit::Failed;
    }
    if json {
        let report = Report { guard, metrics, rollback, exit: exit as u8 };
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
        out!("{text}");
    } else {
        out!("{}: {}", ended.outcome.word(), ended.reason);
        if let Some(r) = &rollback {
            out!("rollback {}: {}", r.outcome, r.message);
        }
    }
    Ok(exit)
}

/// The rollback to the last known good, made as the guard through the engine, followed until
/// the rollout completes.
async fn roll_back(engine: &Engine, guard: &Guard, args: &GuardArgs, why: &str) -> (RollbackReport, bool) {
    let refusal =
        |message: String| (RollbackReport { sentence: None, outcome: "refused".into(), message }, true);
    let placement = match engine.fleet().placement(&guard.env, &guard.app) {
        Ok(p) => p.clone(),
        Err(e) => return refusal(e.to_string()),
    };
    let session = match engine.session(&guard.env).await {
        Ok(s) => s,
        Err(e) => return refusal(e.to_string()),
    };
    let to_revision = match fetch_rollback(&session, &placement).await {
        Ok(objects) => rollback::last_known_good(&objects.history()).map(|c| c.revision),
        Err(e) => return refusal(e.to_string()),
    };
    let mut request = Request::new(&guard.env, &guard.app, Ask::Rollback { to_revision });
    request.origin = Origin::Guard { reason: why.to_owned() };
    let prepared = match engine.prepare(request).await {
        Ok(p) => p,
        Err(e) => return refusal(e.to_string()),
    };
    if !args.target.json {
        eprintln!("plan: {}", prepared.plan.sentence());
    }
    let reason = match args.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(given) => format!("{given}; {why}"),
        None => why.to_owned(),
    };
    // The pipeline's standing consent: a colleague at the controls is recorded, not asked.
    let answer = Answer { confirmed: true, reason: Some(reason), override_reason: None, take_over: true };
    match write::carry_out(engine, &prepared, &answer, args.target.json).await {
        Ok(Done { report, .. }) => {
            let failed = report.outcome != crate::audit::Outcome::Done;
            let outcome = report.outcome.as_str().to_owned();
            (
                RollbackReport { sentence: Some(prepared.plan.sentence()), outcome, message: report.message },
                failed,
            )
        }
        Err(e) => refusal(e.message),
    }
}

/// A change, as a progress line.
fn line(change: &Change) -> String {
    match change {
        Change::Verdict { from, to, decided_by } => {
            let from = from.map_or_else(String::new, |f| format!("{} → ", f.word()));
            let by = decided_by.map(|b| format!(" at ({}) {}", b.number(), b.question())).unwrap_or_default();
            format!("  verdict {from}{}{by}", to.word())
        }
        Change::Ended(ended) => format!("  ended {}: {}", ended.outcome.word(), ended.reason),
    }
}

/// Where the guard stands, every [`PROGRESS_EVERY`] while nothing changes.
fn progress(guard: &Guard, now: jiff::Timestamp) -> String {
    let left = guard.remaining(now).as_secs();
    let evidence = guard.tree.as_ref().and_then(Tree::first_concern).unwrap_or_default();
    format!("  {left}s left · {}{evidence}", guard.stage())
}
