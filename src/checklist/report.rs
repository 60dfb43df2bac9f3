//! A walk-through of a checklist, and its record: every item with its automated result and
//! evidence, acknowledgement, note or waiver; who signed it, when, for which versions. Saved
//! as JSON (for the gate and for tools) and Markdown (for people) in the data dir.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::checks::{self, Outcome, Status};
use super::model::Checklist;
use super::objects::Objects;
use crate::health::image_tag;

/// One item of a walk-through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub section: String,
    pub text: String,
    /// The check that decides it; `None` for a manual item.
    pub auto: Option<String>,
    pub required: bool,
    /// The automated result, once checked.
    pub outcome: Option<Outcome>,
    /// The automated result's status, kept when the record is read back.
    pub status: Option<Status>,
    /// A manual item the operator has confirmed.
    pub acknowledged: bool,
    pub note: Option<String>,
    /// Why a failing required item is accepted anyway.
    pub waived: Option<String>,
}

/// Where an item stands, for the screen and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Passed,
    Failed,
    NotApplicable,
    /// A manual item acknowledged.
    Done,
    /// Failed, and waived with a reason.
    Waived,
    /// A manual item not yet acknowledged, or a check not yet run.
    Open,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            Self::Passed => "pass",
            Self::Failed => "fail",
            Self::NotApplicable => "n/a",
            Self::Done => "done",
            Self::Waived => "waived",
            Self::Open => "open",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Self::Passed | Self::Done => "✓",
            Self::Failed => "✗",
            Self::NotApplicable => "–",
            Self::Waived => "~",
            Self::Open => "·",
        }
    }
}

impl ItemRecord {
    pub fn state(&self) -> State {
        match (&self.auto, self.status) {
            (Some(_), Some(Status::Fail)) if self.waived.is_some() => State::Waived,
            (Some(_), Some(Status::Fail)) => State::Failed,
            (Some(_), Some(Status::Pass)) => State::Passed,
            (Some(_), Some(Status::NotApplicable)) => State::NotApplicable,
            (None, _) if self.acknowledged => State::Done,
            (Some(_), None) | (None, _) => State::Open,
        }
    }

    /// Whether it keeps the checklist from being signed: a required item failed and not
    /// waived, or a required item still open.
    pub fn blocks(&self) -> bool {
        self.required && matches!(self.state(), State::Failed | State::Open)
    }
}

/// Counts of item states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub waived: usize,
    pub not_applicable: usize,
    pub done: usize,
    pub open: usize,
    /// Required items failed or open: sign-off waits for these.
    pub blocking: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub checklist: String,
    pub checklist_version: Option<String>,
    pub env: String,
    pub started: jiff::Timestamp,
    /// The version each app is about to deploy: its canary's image tag, or else what the
    /// previous environment runs, or else what runs here.
    pub targets: BTreeMap<String, String>,
    pub items: Vec<ItemRecord>,
    pub signed_by: Option<String>,
    pub signed_at: Option<jiff::Timestamp>,
    /// The Kubernetes user and the login of whoever signed it.
    pub kube_user: Option<String>,
    pub local_user: Option<String>,
    /// When the automated checks last ran.
    pub checked_at: Option<jiff::Timestamp>,
    /// Signatures by further Kubernetes users, read from the cluster (the sign-off block).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cosigners: Vec<crate::team::signoff::Cosign>,
}

impl Report {
    pub fn new(checklist: &Checklist, env: &str, now: jiff::Timestamp) -> Self {
        let items = checklist
            .sections
            .iter()
            .flat_map(|s| {
                s.items.iter().map(|i| ItemRecord {
                    section: s.title.clone(),
                    text: i.text.clone(),
                    auto: i.auto.clone(),
                    required: i.required,
                    outcome: None,
                    status: None,
                    acknowledged: false,
                    note: None,
                    waived: None,
                })
            })
            .collect();
        Self {
            checklist: checklist.name.clone(),
            checklist_version: checklist.version.clone(),
            env: env.to_owned(),
            started: now,
            targets: BTreeMap::new(),
            items,
            signed_by: None,
            signed_at: None,
            kube_user: None,
            local_user: None,
            checked_at: None,
            cosigners: Vec::new(),
        }
    }

    /// Runs every automated item against `objects`, keeping acknowledgements, notes and
    /// waivers (a waiver lapses when its item no longer fails).
    pub fn check(&mut self, checklist: &Checklist, objects: &Objects) {
        let items = checklist.sections.iter().flat_map(|s| &s.items);
        for (record, item) in self.items.iter_mut().zip(items) {
            let Some(outcome) = checks::run(item, objects) else { continue };
            record.status = Some(outcome.status);
            if outcome.status != Status::Fail {
                record.waived = None;
            }
            record.outcome = Some(outcome);
        }
        self.targets = targets(objects);
        self.checked_at = Some(objects.now);
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for item in &self.items {
            match item.state() {
                State::Passed => s.passed += 1,
                State::Failed => s.failed += 1,
                State::Waived => s.waived += 1,
                State::NotApplicable => s.not_applicable += 1,
                State::Done => s.done += 1,
                State::Open => s.open += 1,
            }
            s.blocking += usize::from(item.blocks());
        }
        s
    }

    /// Signs it, or says what still blocks.
    pub fn sign(&mut self, by: &str, now: jiff::Timestamp) -> Result<(), String> {
        let by = by.trim();
        if by.is_empty() {
            return Err("a name is required to sign".into());
        }
        if self.checked_at.is_none() {
            return Err("the automated checks have not run yet".into());
        }
        let blocking = self.summary().blocking;
        if blocking > 0 {
            return Err(format!(
                "{blocking} required item(s) failed or open: acknowledge them, or waive a failure with a reason"
            ));
        }
        self.signed_by = Some(by.to_owned());
        self.signed_at = Some(now);
        Ok(())
    }

    /// The Markdown a person reads, and pastes into a change ticket.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {} · {}", self.checklist, self.env);
        let _ = writeln!(out);
        match (&self.signed_by, self.signed_at) {
            (Some(by), Some(at)) => {
                let _ = writeln!(out, "Signed by **{by}** at {} UTC.", at.strftime("%Y-%m-%d %H:%M:%S"));
            }
            _ => {
                let _ = writeln!(out, "Not signed.");
            }
        }
        if let Some(user) = &self.kube_user {
            let _ = writeln!(
                out,
                "Kubernetes user: {user}; local user: {}.",
                self.local_user.as_deref().unwrap_or("?")
            );
        }
        let _ = writeln!(out, "Started {} UTC.", self.started.strftime("%Y-%m-%d %H:%M:%S"));
        if !self.targets.is_empty() {
            let versions: Vec<String> = self.targets.iter().map(|(a, v)| format!("{a} {v}")).collect();
            let _ = writeln!(out, "Versions: {}.", versions.join(", "));
        }
        let s = self.summary();
        let _ = writeln!(
            out,
            "\n{} passed, {} done, {} waived, {} failed, {} open, {} not applicable.",
            s.passed, s.done, s.waived, s.failed, s.open, s.not_applicable
        );
        let mut section = "";
        for item in &self.items {
            if item.section != section {
                section = &item.section;
                let _ = writeln!(out, "\n## {section}\n");
            }
            let state = item.state();
            let mark = if matches!(state, State::Passed | State::Done | State::NotApplicable | State::Waived)
            {
                "x"
            } else {
                " "
            };
            let kind = match (&item.auto, item.required) {
                (Some(check), true) => format!(" _(auto: {check})_"),
                (Some(check), false) => format!(" _(auto: {check}, advisory)_"),
                (None, false) => " _(advisory)_".into(),
                (None, true) => String::new(),
            };
            let _ = writeln!(out, "- [{mark}] **{}** {}{kind}", state.word(), item.text);
            if let Some(outcome) = &item.outcome {
                for e in outcome
                    .evidence
                    .iter()
                    .filter(|e| e.status != Status::Pass || outcome.status == Status::Pass)
                {
                    let _ = writeln!(out, "  - {} `{}` {}: {}", e.status.word(), e.object, e.field, e.detail);
                }
            }
            if let Some(w) = &item.waived {
                let _ = writeln!(out, "  - waived: {w}");
            }
            if let Some(n) = &item.note {
                let _ = writeln!(out, "  - note: {n}");
            }
        }
        out
    }
}

/// What each app is about to deploy (see [`Report::targets`]).
fn targets(objects: &Objects) -> BTreeMap<String, String> {
    let image = |d: &k8s_openapi::api::apps::v1::Deployment| {
        d.spec.as_ref()?.template.spec.as_ref()?.containers.first()?.image.as_deref().map(image_tag)
    };
    objects
        .apps
        .iter()
        .filter_map(|app| {
            let previous = objects
                .previous
                .as_ref()
                .and_then(|p| p.apps.iter().find(|a| a.app == app.app))
                .and_then(|a| a.deployment.as_ref())
                .and_then(image);
            let version = app
                .canary
                .as_ref()
                .and_then(image)
                .or(previous)
                .or_else(|| app.deployment.as_ref().and_then(image))?;
            Some((app.app.clone(), version))
        })
        .collect()
}

/// Where reports live: `<data dir>/checklists`.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("checklists")
}

/// Writes the report as JSON and Markdown, each atomically (a temporary file renamed into
/// place), and returns their paths.
pub fn save(report: &Report, data_dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let at = report.signed_at.unwrap_or(report.started).strftime("%Y%m%dT%H%M%SZ").to_string();
    let stem = format!("{}-{at}", report.env);
    let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    let write = |name: String, text: &str| -> Result<PathBuf, String> {
        let path = dir.join(name);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    };
    Ok((write(format!("{stem}.json"), &json)?, write(format!("{stem}.md"), &report.to_markdown())?))
}

/// The signed reports of `env` found in the data dir, newest first. Unreadable files are
/// skipped: a report is evidence for a gate only when it can be read whole.
pub fn signed(data_dir: &Path, env: &str) -> Vec<Report> {
    let Ok(entries) = std::fs::read_dir(dir(data_dir)) else { return Vec::new() };
    let mut reports: Vec<Report> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| serde_json::from_str::<Report>(&std::fs::read_to_string(p).ok()?).ok())
        .filter(|r| r.env == env && r.signed_at.is_some())
        .collect();
    reports.sort_by_key(|r| std::cmp::Reverse(r.signed_at));
    reports
}

/// The gate: a checklist signed for `env` within `max_age` that lists `version` as what `app`
/// deploys, signed by as many distinct Kubernetes users as the sign-off block has roles (one
/// when it has none). `Err` says what is missing.
pub fn gate(
    reports: &[Report],
    roles: &[String],
    (env, app, version): (&str, &str, &str),
    max_age: std::time::Duration,
    now: jiff::Timestamp,
) -> Result<(), String> {
    let max_age = jiff::SignedDuration::try_from(max_age).unwrap_or(jiff::SignedDuration::MAX);
    let fresh = |r: &&Report| r.signed_at.is_some_and(|at| now.duration_since(at) <= max_age);
    let recent: Vec<&Report> = reports.iter().filter(|r| r.env == env).filter(fresh).collect();
    let covering: Vec<&&Report> =
        recent.iter().filter(|r| r.targets.get(app).map(String::as_str) == Some(version)).collect();
    if covering.iter().any(|r| crate::team::signoff::missing(r, roles).is_empty()) {
        return Ok(());
    }
    if let Some(r) = covering.first() {
        let block: Vec<String> = crate::team::signoff::block(r, roles)
            .into_iter()
            .map(|(role, who)| format!("{role} {}", who.unwrap_or_else(|| "—".into())))
            .collect();
        return Err(format!(
            "the checklist signed for {env} covers {app} {version} but lacks signatures ({}): a different Kubernetes user adds one with `opsdeck checklist --env {env} --cosign`",
            block.join(", ")
        ));
    }
    let hours = max_age.as_hours();
    Err(match recent.first() {
        Some(r) => format!(
            "the checklist signed for {env} at {} covers {app} {}, not {version}: walk it again (c on the overview's checklist, or opsdeck checklist)",
            r.signed_at.map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default(),
            r.targets.get(app).map_or("—", String::as_str)
        ),
        None => format!(
            "{env} requires a checklist signed within {hours}h for {app} {version}, and there is none"
        ),
    })
}
