//! Who is at the controls: while an operator has a canary screen, auto mode, a rollback in
//! progress or a guard on an app, their console holds a coordination.k8s.io Lease for that
//! environment and app, renewed every few seconds and expiring on its own if the console dies.
//! Every other console shows the holder on the app, and a write there asks for an explicit
//! take-over. Pure: the Lease's shape, and who holds one now.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

use super::object::MANAGED_BY;

/// How long a Lease holds without a renewal.
pub const DURATION_SECS: i32 = 15;
/// How often a holder renews: well inside the duration, so one slow answer does not drop it.
pub const RENEW_EVERY_SECS: u64 = 5;
const ACTIVITY: &str = "opsdeck.dev/activity";
const CONSOLE: &str = "opsdeck.dev/console";
const ENV: &str = "opsdeck.dev/env";
const APP: &str = "opsdeck.dev/app";

/// What an operator is doing on an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Activity {
    CanaryScreen,
    AutoMode,
    Rollback,
    Guard,
}

impl Activity {
    pub fn words(self) -> &'static str {
        match self {
            Self::CanaryScreen => "canary screen",
            Self::AutoMode => "auto mode",
            Self::Rollback => "rollback in progress",
            Self::Guard => "guard",
        }
    }
}

/// Who holds an app's Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub env: String,
    pub app: String,
    /// The Kubernetes user.
    pub user: String,
    pub activity: String,
    /// Which console: one person may run two.
    pub console: String,
    pub since: jiff::Timestamp,
    pub renewed: jiff::Timestamp,
    pub duration_secs: i64,
}

impl Holder {
    /// `alice · canary screen · since 10:02`
    pub fn words(&self) -> String {
        format!("{} · {} · since {}", self.user, self.activity, self.since.strftime("%H:%M"))
    }

    pub fn live(&self, now: jiff::Timestamp) -> bool {
        now.duration_since(self.renewed).as_secs() <= self.duration_secs
    }
}

/// The Lease's name for an environment and app.
pub fn name(env: &str, app: &str) -> String {
    let raw = format!("lease-{env}-{app}").to_ascii_lowercase();
    let clean: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    format!("opsdeck-{}", clean.trim_end_matches('-')).chars().take(253).collect()
}

/// The Lease as a holder writes it: taken at `since`, renewed `now`.
pub fn lease(namespace: &str, holder: &Holder) -> Lease {
    let labels = BTreeMap::from([
        (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
        (ENV.to_owned(), super::label_value(&holder.env)),
        (APP.to_owned(), super::label_value(&holder.app)),
    ]);
    let annotations = BTreeMap::from([
        (ACTIVITY.to_owned(), holder.activity.clone()),
        (CONSOLE.to_owned(), holder.console.clone()),
        (ENV.to_owned(), holder.env.clone()),
        (APP.to_owned(), holder.app.clone()),
    ]);
    Lease {
        metadata: ObjectMeta {
            name: Some(name(&holder.env, &holder.app)),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.user.clone()),
            lease_duration_seconds: Some(DURATION_SECS),
            acquire_time: Some(MicroTime(holder.since)),
            renew_time: Some(MicroTime(holder.renewed)),
            ..LeaseSpec::default()
        }),
    }
}

/// Who a Lease names, if it is one of ours and names anyone (a released Lease names nobody).
pub fn holder_of(lease: &Lease) -> Option<Holder> {
    let annotations = lease.metadata.annotations.clone().unwrap_or_default();
    let labels = lease.metadata.labels.clone().unwrap_or_default();
    if labels.get(MANAGED_BY.0).map(String::as_str) != Some(MANAGED_BY.1) {
        return None;
    }
    let spec = lease.spec.as_ref()?;
    let user = spec.holder_identity.clone().filter(|u| !u.is_empty())?;
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    Some(Holder {
        env: annotations.get(ENV).cloned()?,
        app: annotations.get(APP).cloned()?,
        user,
        activity: annotations.get(ACTIVITY).cloned().unwrap_or_else(|| "at the controls".into()),
        console: annotations.get(CONSOLE).cloned().unwrap_or_default(),
        since: spec.acquire_time.as_ref().map_or(renewed, |t| t.0),
        renewed,
        duration_secs: i64::from(spec.lease_duration_seconds.unwrap_or(DURATION_SECS)),
    })
}

/// A new console's name for its Leases: unique per console, even two in one process.
pub fn console_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{}-{n}", crate::cluster::ops::local_user(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder() -> Holder {
        Holder {
            env: "production".into(),
            app: "web".into(),
            user: "alice@example.com".into(),
            activity: Activity::CanaryScreen.words().into(),
            console: "alice-42".into(),
            since: "2026-12-04T10:02:00Z".parse().unwrap(),
            renewed: "2026-12-04T10:05:00Z".parse().unwrap(),
            duration_secs: 15,
        }
    }

    #[test]
    fn a_lease_names_its_holder_and_lapses_on_its_own() {
        let lease = lease("opsdeck", &holder());
        assert_eq!(lease.metadata.name.as_deref(), Some("opsdeck-lease-production-web"));
        let back = holder_of(&lease).unwrap();
        assert_eq!(back, holder());
        assert_eq!(back.words(), "alice@example.com · canary screen · since 10:02");
        assert!(back.live("2026-12-04T10:05:10Z".parse().unwrap()));
        assert!(!back.live("2026-12-04T10:05:16Z".parse().unwrap()), "a dead console's lease expires");
    }

    #[test]
    fn a_released_lease_names_nobody() {
        let mut lease = lease("opsdeck", &holder());
        lease.spec.as_mut().unwrap().holder_identity = None;
        assert_eq!(holder_of(&lease), None);
    }
}
