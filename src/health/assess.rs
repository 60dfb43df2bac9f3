//! From one environment's inventory to verdicts with reasons, per app and for the environment.
//! Pure: the clock comes in as `now`, so the same inventory always reads the same way.

use std::cmp::Reverse;

use jiff::{SignedDuration, Timestamp};

use super::colours::{self, Roles};
use super::inventory::{ControllerInfo, DeploymentInfo, EventInfo, Inventory, PodInfo};
use super::verdict::{AppHealth, CanaryHealth, Colours, EnvHealth, Replicas, Rollout, Verdict};
use crate::config::{CanaryTarget, Placement};

/// What the model needs to know about one configured app in this environment.
pub struct AppSpec<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub deployment: &'a str,
    /// This environment's canary provider for the app, if any.
    pub canary: Option<&'a CanaryTarget>,
}

/// The names of an app's Deployments as the live objects have it: the config's, except for a
/// blue-green, whose Service says which colour is stable now, and for an app Flagger runs,
/// whose primary (`NAME-primary`) serves stable while the configured Deployment, Flagger's
/// target, is the canary.
struct Names<'a> {
    stable: &'a str,
    canary: Option<&'a str>,
    /// A blue-green's roles, or why the Service does not tell them.
    colours: Option<Result<Roles, String>>,
}

impl<'a> AppSpec<'a> {
    pub fn of(placement: &'a Placement) -> Self {
        AppSpec {
            name: &placement.app,
            namespace: &placement.namespace,
            deployment: &placement.deployment,
            canary: placement.canary.as_ref().map(|c| &c.target),
        }
    }

    fn names<'b>(&self, inventory: &'b Inventory) -> Names<'b>
    where
        'a: 'b,
    {
        let canary = self.canary.map(CanaryTarget::canary_deployment);
        if self.canary.is_none()
            && let Some(primary) = flagger_primary(inventory, self.namespace, self.deployment)
        {
            return Names { stable: primary, canary: Some(self.deployment), colours: None };
        }
        let Some(CanaryTarget::ServiceSelector { service, label, canary_deployment, .. }) = self.canary
        else {
            return Names { stable: self.deployment, canary, colours: None };
        };
        let roles = colours::in_inventory(
            inventory,
            self.namespace,
            service,
            label,
            [self.deployment, canary_deployment],
        );
        let (stable, canary) = match &roles {
            Ok(r) => {
                let (stable, canary) = r.order(self.deployment, canary_deployment.as_str());
                (stable, Some(canary))
            }
            Err(_) => (self.deployment, canary),
        };
        Names { stable, canary, colours: Some(roles) }
    }

    /// The stable and canary Deployments' names now (see [`colours`] for a blue-green).
    pub fn live_names<'b>(&self, inventory: &'b Inventory) -> (&'b str, Option<&'b str>)
    where
        'a: 'b,
    {
        let names = self.names(inventory);
        (names.stable, names.canary)
    }
}

/// The primary Deployment Flagger made for `target`, where a Flagger Canary targets it.
fn flagger_primary<'i>(inventory: &'i Inventory, namespace: &str, target: &str) -> Option<&'i str> {
    let runs = inventory
        .controllers
        .iter()
        .any(|c| c.kind == "flagger" && c.namespace == namespace && c.target == target);
    let primary = format!("{target}-primary");
    runs.then(|| inventory.deployments.iter().find(|d| d.namespace == namespace && d.name == primary))
        .flatten()
        .map(|d| d.name.as_str())
}

/// The recent window for restarts and warnings (15 minutes).
pub const RECENT: SignedDuration = SignedDuration::from_mins(15);

/// A pod may sit in Pending this long while it is scheduled and its image pulled; longer is a
/// problem worth waking someone for (no node fits, a volume never binds).
const PENDING_GRACE: SignedDuration = SignedDuration::from_mins(2);

/// The reason an unsynced environment and its apps give instead of guessing.
const NO_DATA: &str = "no data from the cluster yet";

/// The app's live pods, each with whether it belongs to the canary Deployment (by selector and
/// owner, as the health model decides it): what the metrics scrape reads.
pub fn app_pods<'s: 'i, 'i>(spec: &AppSpec<'s>, inventory: &'i Inventory) -> Vec<(bool, &'i PodInfo)> {
    AppObjects::collect(spec, inventory).live().map(|(side, pod)| (side == Side::Canary, pod)).collect()
}

/// Assesses every configured app of one environment and the environment itself.
pub fn assess(env: &str, apps: &[AppSpec<'_>], inventory: &Inventory, now: Timestamp) -> EnvHealth {
    let nodes_total = count(inventory.nodes.len());
    let nodes_ready = count(inventory.nodes.iter().filter(|n| n.ready).count());
    let synced = is_synced(inventory);
    let gitops = super::gitops::sync_state(apps, inventory);
    let apps: Vec<AppHealth> = apps
        .iter()
        .map(|spec| {
            let mut app = assess_app(spec, inventory, now);
            if !synced {
                // Nothing has been seen yet: "deployment not found" would be a false alarm.
                app.verdict = Verdict::Unknown;
                app.reasons = vec![NO_DATA.to_owned()];
            }
            app
        })
        .collect();
    let (verdict, reasons) = env_verdict(synced, nodes_ready, nodes_total, &apps);
    EnvHealth {
        env: env.to_owned(),
        nodes_ready,
        nodes_total,
        apps,
        warnings: recent_warnings(&inventory.events, now),
        verdict,
        reasons,
        gitops,
    }
}

/// The tag (after the last ':' of the last path segment) or the digest (after '@') of an image;
/// "latest" when there is no tag. A pinned `name:tag@digest` reads as its tag, which is what
/// people recognise and what drift compares.
pub fn image_tag(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    // The registry host may carry a port ("registry:5000/web"), so only the last segment counts.
    let last = name.rsplit('/').next().unwrap_or(name);
    match (last.rsplit_once(':'), digest) {
        (Some((_, tag)), _) if !tag.is_empty() => tag.to_owned(),
        (_, Some(digest)) if !digest.is_empty() => digest.to_owned(),
        _ => "latest".to_owned(),
    }
}

/// The inventory has seen something: before the first sync everything is empty, and that says
/// nothing about the cluster.
fn is_synced(inventory: &Inventory) -> bool {
    !(inventory.deployments.is_empty() && inventory.nodes.is_empty() && inventory.pods.is_empty())
}

/// Lengths into the verdict's counters; no environment has four billion of anything.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Within RECENT of now. A timestamp in the future (clock skew between nodes) counts as recent.
fn is_recent(at: Option<Timestamp>, now: Timestamp) -> bool {
    at.is_some_and(|at| now.duration_since(at) <= RECENT)
}

/// `part` as a rounded percentage of `whole`; None when there is no whole to divide.
fn percent(part: u64, whole: u64) -> Option<u32> {
    if whole == 0 {
        return None;
    }
    u32::try_from((part * 100 + whole / 2) / whole).ok()
}

/// How much an observation weighs on the verdict; reasons are listed heaviest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    /// Worth showing, not worth a verdict (paused, rolling out).
    Note,
    Degraded,
    Down,
}

struct Finding {
    level: Level,
    text: String,
}

fn finding(level: Level, text: impl Into<String>) -> Finding {
    Finding { level, text: text.into() }
}

/// The heaviest finding decides; reasons come out heaviest first, otherwise in the order found.
fn verdict_of(mut findings: Vec<Finding>) -> (Verdict, Vec<String>) {
    findings.sort_by_key(|f| Reverse(f.level));
    let verdict = match findings.first().map(|f| f.level) {
        Some(Level::Down) => Verdict::Down,
        Some(Level::Degraded) => Verdict::Degraded,
        Some(Level::Note) | None => Verdict::Healthy,
    };
    (verdict, findings.into_iter().map(|f| f.text).collect())
}

fn find_deployment<'i>(inventory: &'i Inventory, namespace: &str, name: &str) -> Option<&'i DeploymentInfo> {
    inventory.deployments.iter().find(|d| d.namespace == namespace && d.name == name)
}

fn replicas(deployment: Option<&DeploymentInfo>) -> Replicas {
    let Some(d) = deployment else { return Replicas { desired: 0, updated: 0, ready: 0, available: 0 } };
    Replicas { desired: d.desired, updated: d.updated, ready: d.ready, available: d.available }
}

/// The image tag of the Deployment's first container: the app's version.
fn version(deployment: Option<&DeploymentInfo>) -> Option<String> {
    deployment.and_then(|d| d.images.first()).map(|image| image_tag(image))
}

/// The controller's canary side: a Rollout's ReplicaSet for its template, or the Deployment
/// Flagger analyses (its target, while the primary serves).
fn with_canary(
    mut c: ControllerInfo,
    target: Option<&DeploymentInfo>,
    inventory: &Inventory,
) -> ControllerInfo {
    if c.kind == "flagger" {
        if let Some(d) = target {
            c.canary_version = version(Some(d));
            c.canary_ready = Some((d.ready, d.desired));
        }
        return c;
    }
    let replica_set = |hash: Option<&str>| {
        let name = format!("{}-{}", c.target, hash?);
        inventory.replica_sets.iter().find(|rs| rs.namespace == c.namespace && rs.name == name)
    };
    let (stable, canary) = (replica_set(c.stable_hash.as_deref()), replica_set(c.canary_hash.as_deref()));
    c.stable_ready = stable.map(|rs| (rs.ready, rs.desired));
    if let Some(rs) = canary.filter(|_| c.canary_hash != c.stable_hash) {
        c.canary_version = rs.images.first().map(|image| image_tag(image));
        c.canary_ready = Some((rs.ready, rs.desired));
    }
    c
}

/// A Rollout's stable version: its stable ReplicaSet's image, not its template's (which is
/// the canary's while an update is under way).
fn rollout_stable_version(c: &ControllerInfo, inventory: &Inventory) -> Option<String> {
    let name = format!("{}-{}", c.target, c.stable_hash.as_deref()?);
    let rs = inventory.replica_sets.iter().find(|rs| rs.namespace == c.namespace && rs.name == name)?;
    rs.images.first().map(|image| image_tag(image))
}

/// Every selector pair is among the pod's labels. An empty selector selects nothing here: the
/// compact record keeps only matchLabels, and "every pod in the namespace" would be wrong.
fn selects(deployment: &DeploymentInfo, pod: &PodInfo) -> bool {
    pod.namespace == deployment.namespace
        && !deployment.selector.is_empty()
        && deployment.selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v.as_str()))
}

/// The pod's ReplicaSet belongs to the Deployment.
fn owned_by(inventory: &Inventory, pod: &PodInfo, deployment: &DeploymentInfo) -> bool {
    let Some(rs_name) = &pod.owner else { return false };
    inventory.replica_sets.iter().any(|rs| {
        rs.namespace == pod.namespace && &rs.name == rs_name && rs.owner.as_ref() == Some(&deployment.name)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Stable,
    Canary,
}

/// Which of the app's Deployments the pod belongs to, by selector. Canaries often share the
/// stable selector plus a `track` label, so a pod both select goes to its owner, and failing
/// that to the more specific selector.
fn side_of(
    inventory: &Inventory,
    pod: &PodInfo,
    stable: Option<&DeploymentInfo>,
    canary: Option<&DeploymentInfo>,
) -> Option<Side> {
    match (stable.filter(|d| selects(d, pod)), canary.filter(|d| selects(d, pod))) {
        (None, None) => None,
        (Some(_), None) => Some(Side::Stable),
        (None, Some(_)) => Some(Side::Canary),
        (Some(s), Some(c)) => {
            let canary_wins = owned_by(inventory, pod, c)
                || (!owned_by(inventory, pod, s) && c.selector.len() > s.selector.len());
            Some(if canary_wins { Side::Canary } else { Side::Stable })
        }
    }
}

/// The app's Deployments, present or not, and its pods split by side.
struct AppObjects<'i> {
    names: Names<'i>,
    stable: Option<&'i DeploymentInfo>,
    canary: Option<&'i DeploymentInfo>,
    /// Every pod either Deployment selects, terminating ones included (their events still count).
    pods: Vec<(Side, &'i PodInfo)>,
}

impl<'i> AppObjects<'i> {
    fn collect<'s: 'i>(spec: &AppSpec<'s>, inventory: &'i Inventory) -> Self {
        let names = spec.names(inventory);
        let stable = find_deployment(inventory, spec.namespace, names.stable);
        let canary = names.canary.and_then(|name| find_deployment(inventory, spec.namespace, name));
        let pods = inventory
            .pods
            .iter()
            .filter_map(|pod| side_of(inventory, pod, stable, canary).map(|side| (side, &**pod)))
            .collect();
        AppObjects { names, stable, canary, pods }
    }

    /// The pods that count: a terminating pod is already on its way out.
    fn live(&self) -> impl Iterator<Item = (Side, &'i PodInfo)> + '_ {
        self.pods.iter().copied().filter(|(_, pod)| !pod.terminating)
    }

    fn ready_on(&self, side: Side) -> u64 {
        self.live().filter(|(s, pod)| *s == side && pod.ready).count() as u64
    }
}

fn is_crash_looping(pod: &PodInfo) -> bool {
    pod.waiting_reason.as_deref() == Some("CrashLoopBackOff")
}

fn is_image_pull_failing(pod: &PodInfo) -> bool {
    matches!(pod.waiting_reason.as_deref(), Some("ImagePullBackOff" | "ErrImagePull"))
}

/// Pending for a reason other than its image, which is reported on its own.
fn is_pending(pod: &PodInfo) -> bool {
    pod.phase == "Pending" && !is_image_pull_failing(pod)
}

/// Pending past the grace period. A pod without a creation time cannot be said to be late.
fn is_pending_too_long(pod: &PodInfo, now: Timestamp) -> bool {
    is_pending(pod) && pod.created.is_some_and(|created| now.duration_since(created) > PENDING_GRACE)
}

/// Restarts of pods whose last restart falls in the recent window: old restarts are history.
fn recent_restarts(pod: &PodInfo, now: Timestamp) -> u32 {
    if is_recent(pod.last_restart, now) { pod.restarts } else { 0 }
}

/// What the app's live pods, stable and canary, are doing.
#[derive(Default)]
struct PodCounts {
    restarts_recent: u32,
    crash_looping: u32,
    image_pull_failing: u32,
    pending: u32,
    pending_too_long: u32,
}

fn pod_counts<'i>(pods: impl Iterator<Item = &'i PodInfo>, now: Timestamp) -> PodCounts {
    let mut counts = PodCounts::default();
    for pod in pods {
        counts.restarts_recent = counts.restarts_recent.saturating_add(recent_restarts(pod, now));
        counts.crash_looping += u32::from(is_crash_looping(pod));
        counts.image_pull_failing += u32::from(is_image_pull_failing(pod));
        counts.pending += u32::from(is_pending(pod));
        counts.pending_too_long += u32::from(is_pending_too_long(pod, now));
    }
    counts
}

/// An event about one of the app's objects: its Deployments, their ReplicaSets, or its pods.
fn is_about_app(event: &EventInfo, objects: &AppObjects<'_>, inventory: &Inventory, names: &[&str]) -> bool {
    match event.kind.as_str() {
        "Deployment" => names.contains(&event.name.as_str()),
        "ReplicaSet" => inventory.replica_sets.iter().any(|rs| {
            rs.namespace == event.namespace
                && rs.name == event.name
                && rs.owner.as_deref().is_some_and(|owner| names.contains(&owner))
        }),
        "Pod" => {
            objects.pods.iter().any(|(_, pod)| pod.namespace == event.namespace && pod.name == event.name)
        }
        _ => false,
    }
}

/// The app's Warning events in the recent window, newest first.
fn app_warnings<'i>(
    spec: &AppSpec<'_>,
    objects: &AppObjects<'_>,
    inventory: &'i Inventory,
    now: Timestamp,
) -> Vec<&'i EventInfo> {
    let mut names = vec![objects.names.stable];
    names.extend(objects.names.canary);
    let mut events: Vec<&EventInfo> = inventory
        .events
        .iter()
        .filter(|e| e.namespace == spec.namespace && is_recent(e.last_seen, now))
        .filter(|e| is_about_app(e, objects, inventory, &names))
        .collect();
    events.sort_by_key(|e| Reverse(e.last_seen));
    events
}

/// Nginx: the canary Ingress's weight; an Ingress not (or no longer) marked canary sends nothing.
fn nginx_weight(inventory: &Inventory, namespace: &str, ingress: &str) -> Option<u32> {
    let ing = inventory.ingresses.iter().find(|i| i.namespace == namespace && i.name == ingress)?;
    if ing.canary { ing.canary_weight } else { Some(0) }
}

/// Gateway API: the canary backend's share of the route's stable + canary weights.
fn gateway_weight(inv: &Inventory, ns: &str, route: &str, stable: &str, canary: &str) -> Option<u32> {
    let route = inv.routes.iter().find(|r| r.namespace == ns && r.name == route)?;
    let weight_of = |service: &str| {
        route.backends.iter().filter(|(s, _)| s == service).map(|(_, w)| u64::from(*w)).sum::<u64>()
    };
    let canary = weight_of(canary);
    percent(canary, weight_of(stable) + canary)
}

/// Replica ratio: the canary's share of ready pods, an approximation of its traffic.
fn replica_weight(objects: &AppObjects<'_>) -> Option<u32> {
    let canary = objects.ready_on(Side::Canary);
    percent(canary, objects.ready_on(Side::Stable) + canary)
}

fn canary_health(
    target: &CanaryTarget,
    spec: &AppSpec<'_>,
    objects: &AppObjects<'_>,
    inv: &Inventory,
) -> CanaryHealth {
    let (weight, approximate) = match target {
        CanaryTarget::NginxIngress { ingress, .. } => (nginx_weight(inv, spec.namespace, ingress), false),
        CanaryTarget::GatewayApi { route, stable_service, canary_service, .. } => {
            (gateway_weight(inv, spec.namespace, route, stable_service, canary_service), false)
        }
        CanaryTarget::Replicas { .. } => (replica_weight(objects), true),
        CanaryTarget::ServiceSelector { .. } => {
            (objects.names.colours.as_ref().and_then(|r| r.as_ref().ok()).map(|r| r.weight), false)
        }
    };
    CanaryHealth {
        weight,
        approximate,
        version: version(objects.canary),
        replicas: replicas(objects.canary),
        since: None,
        colours: colours_of(target, objects),
    }
}

/// A blue-green's colours, from the two Deployments' selectors.
fn colours_of(target: &CanaryTarget, objects: &AppObjects<'_>) -> Option<Colours> {
    let CanaryTarget::ServiceSelector { label, .. } = target else { return None };
    let colour = |d: Option<&DeploymentInfo>| d.and_then(|d| d.selector.get(label)).cloned();
    Some(Colours { stable: colour(objects.stable)?, canary: colour(objects.canary)? })
}

/// A new template is still replacing the old pods, as opposed to replicas merely missing: only
/// then is "rolling out" news; otherwise the shortfall speaks for itself.
fn is_replacing_pods(d: &DeploymentInfo) -> bool {
    d.observed_generation < d.generation || d.updated < d.desired || d.current != d.desired
}

/// The stable Deployment: missing or serving nothing is Down; stalled or short is Degraded.
fn deployment_findings(
    spec: &AppSpec<'_>,
    name: &str,
    deployment: Option<&DeploymentInfo>,
    rollout: &Rollout,
    out: &mut Vec<Finding>,
) {
    let Some(d) = deployment else {
        let text = format!("deployment \"{name}\" not found in namespace \"{}\"", spec.namespace);
        out.push(finding(Level::Down, text));
        return;
    };
    let rollout = match rollout {
        Rollout::Stalled { reason } => Some(finding(Level::Degraded, format!("rollout stalled: {reason}"))),
        Rollout::Paused => Some(finding(Level::Note, "rollout paused")),
        Rollout::Progressing if is_replacing_pods(d) => {
            Some(finding(Level::Note, format!("rolling out: {}/{} updated", d.updated, d.desired)))
        }
        Rollout::Progressing | Rollout::Complete | Rollout::Missing => None,
    };
    out.extend(rollout);
    if d.desired > 0 && d.available == 0 {
        out.push(finding(Level::Down, format!("0/{} replicas available", d.desired)));
    } else if d.available < d.desired {
        out.push(finding(Level::Degraded, format!("{}/{} replicas available", d.available, d.desired)));
    }
}

/// A canary that is missing or serves nothing takes its share of traffic into the void.
fn canary_findings(names: &Names<'_>, canary: Option<&DeploymentInfo>, out: &mut Vec<Finding>) {
    if let Some(Err(why)) = &names.colours {
        out.push(finding(Level::Degraded, format!("blue-green: {why}")));
    }
    match canary {
        None => {
            let text = format!("canary deployment \"{}\" not found", names.canary.unwrap_or("?"));
            out.push(finding(Level::Degraded, text));
        }
        Some(d) if d.desired > 0 && d.available == 0 => {
            out.push(finding(Level::Degraded, format!("canary: 0/{} replicas available", d.desired)));
        }
        Some(_) => {}
    }
}

/// Pods that fail to start or keep restarting, and recent Warning events.
fn pod_findings(counts: &PodCounts, warnings: &[&EventInfo], out: &mut Vec<Finding>) {
    let rows = [
        (counts.image_pull_failing, ["pod", "pods"], "failing to pull the image"),
        (counts.crash_looping, ["pod", "pods"], "in CrashLoopBackOff"),
        (counts.pending_too_long, ["pod", "pods"], "pending for over 2 minutes"),
        (counts.restarts_recent, ["restart", "restarts"], "in the last 15 minutes"),
    ];
    for (n, [one, many], what) in rows {
        if n > 0 {
            out.push(finding(
                Level::Degraded,
                format!(
                    "{} {what}",
                    crate::words::counted(usize::try_from(n).unwrap_or(usize::MAX), one, many)
                ),
            ));
        }
    }
    if let Some(latest) = warnings.first() {
        let events = crate::words::counted(warnings.len(), "warning event", "warning events");
        let text = format!("{events} in the last 15 minutes (latest: {})", latest.reason);
        out.push(finding(Level::Degraded, text));
    }
}

/// One app: its Deployments, pods, events and canary, into a verdict with reasons.
fn assess_app(spec: &AppSpec<'_>, inventory: &Inventory, now: Timestamp) -> AppHealth {
    let objects = AppObjects::collect(spec, inventory);
    let rollout = Rollout::of(objects.stable);
    let replicas = replicas(objects.stable);
    let counts = pod_counts(objects.live().map(|(_, pod)| pod), now);
    let warnings = app_warnings(spec, &objects, inventory, now);
    let canary = spec.canary.map(|target| canary_health(target, spec, &objects, inventory));

    let mut findings = Vec::new();
    deployment_findings(spec, objects.names.stable, objects.stable, &rollout, &mut findings);
    if spec.canary.is_some() {
        canary_findings(&objects.names, objects.canary, &mut findings);
    }
    pod_findings(&counts, &warnings, &mut findings);
    let (verdict, reasons) = verdict_of(findings);

    let controller = inventory
        .controllers
        .iter()
        .find(|c| c.namespace == spec.namespace && c.target == spec.deployment)
        .map(|c| with_canary(c.clone(), objects.canary, inventory));
    AppHealth {
        app: spec.name.to_owned(),
        version: controller
            .as_ref()
            .and_then(|c| rollout_stable_version(c, inventory))
            .or_else(|| version(objects.stable)),
        replicas,
        rollout,
        restarts_recent: counts.restarts_recent,
        crash_looping: counts.crash_looping,
        image_pull_failing: counts.image_pull_failing,
        pending: counts.pending,
        warnings_recent: count(warnings.len()),
        canary,
        controller,
        verdict,
        reasons,
    }
}

/// The environment: its nodes, then each app that is not healthy, worst first.
fn env_verdict(synced: bool, ready: u32, total: u32, apps: &[AppHealth]) -> (Verdict, Vec<String>) {
    if !synced {
        return (Verdict::Unknown, vec![NO_DATA.to_owned()]);
    }
    let mut findings = Vec::new();
    if ready < total {
        let level = if ready == 0 { Level::Down } else { Level::Degraded };
        findings.push(finding(level, format!("{ready}/{total} nodes ready")));
    }
    for app in apps {
        let level = match app.verdict {
            Verdict::Healthy => continue,
            Verdict::Degraded | Verdict::Unknown => Level::Degraded,
            Verdict::Down => Level::Down,
        };
        let first = app.reasons.first().map_or("", String::as_str);
        findings.push(finding(level, format!("{}: {first}", app.app)));
    }
    verdict_of(findings)
}

/// Every Warning event in the recent window, newest first. An event without a time cannot be
/// placed in the window but may still explain something, so it is kept, last.
fn recent_warnings(events: &[EventInfo], now: Timestamp) -> Vec<EventInfo> {
    let mut recent: Vec<EventInfo> =
        events.iter().filter(|e| e.last_seen.is_none() || is_recent(e.last_seen, now)).cloned().collect();
    // None sorts before Some, so reversing puts undated events last.
    recent.sort_by_key(|e| Reverse(e.last_seen));
    recent
}

#[cfg(test)]
mod tests;
