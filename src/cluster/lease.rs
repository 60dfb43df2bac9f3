//! Leases for who is at the controls: held (created, renewed, taken over) with the
//! resourceVersion precondition, released by deleting only one's own, read for a write's
//! take-over question, and watched for every other console's.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::runtime::{WatchStreamExt, reflector, watcher};

use super::ops::{OpError, within};
use crate::team::lease::{self, Holder};

/// What holding found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Ours,
    /// Someone else's console holds it, live: theirs until it lapses or they leave.
    Theirs(Holder),
}

/// Holds (or renews) the Lease for `holder`, unless another console holds it live; with
/// `take_over`, even then.
pub async fn hold(
    client: &Client,
    namespace: &str,
    holder: &Holder,
    take_over: bool,
) -> Result<Held, OpError> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let name = lease::name(&holder.env, &holder.app);
    let now = jiff::Timestamp::now();
    let current = within("reading the app's Lease", api.get_opt(&name)).await?;
    let Some(current) = current else {
        let fresh = Holder { since: now, renewed: now, ..holder.clone() };
        within(
            "taking the app's Lease",
            api.create(&PostParams::default(), &lease::lease(namespace, &fresh)),
        )
        .await?;
        return Ok(Held::Ours);
    };
    let theirs = lease::holder_of(&current);
    let since = match &theirs {
        Some(h) if h.console == holder.console => h.since,
        Some(h) if h.live(now) && !take_over => return Ok(Held::Theirs(h.clone())),
        _ => now,
    };
    let mut next = lease::lease(namespace, &Holder { since, renewed: now, ..holder.clone() });
    // Written against the version read: a colleague's take-over in between wins, and is seen
    // at the next renewal.
    next.metadata.resource_version.clone_from(&current.metadata.resource_version);
    within("renewing the app's Lease", api.replace(&name, &PostParams::default(), &next)).await?;
    Ok(Held::Ours)
}

/// Lets go of this console's Lease on an app; someone else's is left alone.
pub async fn release(
    client: &Client,
    namespace: &str,
    env: &str,
    app: &str,
    console: &str,
) -> Result<(), OpError> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let name = lease::name(env, app);
    let Some(current) = within("reading the app's Lease", api.get_opt(&name)).await? else { return Ok(()) };
    if lease::holder_of(&current).is_none_or(|h| h.console != console) {
        return Ok(());
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: current.metadata.resource_version.clone(),
            uid: None,
        }),
        ..DeleteParams::default()
    };
    match within("releasing the app's Lease", api.delete(&name, &params)).await {
        Ok(_) | Err(OpError::NotFound(_) | OpError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Who holds the app's Lease now, if anyone does, live.
pub async fn read(client: &Client, namespace: &str, env: &str, app: &str) -> Result<Option<Holder>, OpError> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let found = within("reading the app's Lease", api.get_opt(&lease::name(env, app))).await?;
    let now = jiff::Timestamp::now();
    Ok(found.as_ref().and_then(lease::holder_of).filter(|h| h.live(now)))
}

/// Every opsdeck Lease in the namespace, as it changes: `send` hears the whole set after each
/// change and returns false to stop. Runs until then, restarting the watch after an error.
pub async fn watch(client: &Client, namespace: &str, mut send: impl AsyncFnMut(Vec<Holder>) -> bool) {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let selector = format!("{}={}", crate::team::MANAGED_BY.0, crate::team::MANAGED_BY.1);
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(api, watcher::Config::default().labels(&selector)))
        .default_backoff()
        .touched_objects();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        if event.is_err() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let holders = reader.state().iter().filter_map(|l| lease::holder_of(l)).collect();
        if !send(holders).await {
            return;
        }
    }
}
