//! GitOps sync state: the Flux Kustomizations and HelmReleases and the Argo CD Applications
//! that reconcile the configured apps, as their controllers report them, so "what commit is
//! staging on, and is production in sync?" is answered beside the health. An app's Deployment
//! names its reconciler in the labels Flux and Argo CD put on what they apply.

use serde::Serialize;
use serde_json::json;

use super::assess::AppSpec;
use super::inventory::{GitOpsInfo, Inventory};
use crate::ops::rollback::{GitOps, gitops};

/// One reconciler of some of the environment's apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitOpsState {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// `None` when the controller has not said, or the object could not be read.
    pub ready: Option<bool>,
    pub revision: Option<String>,
    /// Flux suspended, or Argo CD's auto-sync off: Git changes are not being applied.
    pub suspended: bool,
    pub message: Option<String>,
    pub reconciled: Option<jiff::Timestamp>,
    /// The configured apps it reconciles.
    pub apps: Vec<String>,
    /// The object itself was seen; a Deployment may name one the credentials cannot read.
    pub found: bool,
}

/// The reconcilers of `apps` in the inventory, in the order the apps name them.
pub fn sync_state(apps: &[AppSpec<'_>], inventory: &Inventory) -> Vec<GitOpsState> {
    let mut out: Vec<GitOpsState> = Vec::new();
    for spec in apps {
        let (stable, _) = spec.live_names(inventory);
        let Some(deployment) =
            inventory.deployments.iter().find(|d| d.namespace == spec.namespace && d.name == stable)
        else {
            continue;
        };
        let Some(owner) = gitops(&json!({"metadata": {"labels": deployment.labels}})) else { continue };
        let (kind, name, namespace) = match &owner {
            GitOps::Flux { kind, name, namespace } => {
                ((*kind).to_owned(), name.clone(), Some(namespace.clone()))
            }
            // The instance label carries only the Application's name.
            GitOps::ArgoCd { application } => ("Application".to_owned(), application.clone(), None),
        };
        if let Some(known) = out.iter_mut().find(|s| {
            s.kind == kind && s.name == name && namespace.as_ref().is_none_or(|ns| *ns == s.namespace)
        }) {
            known.apps.push(spec.name.to_owned());
            continue;
        }
        let seen = inventory.gitops.iter().find(|g| {
            g.kind == kind && g.name == name && namespace.as_ref().is_none_or(|ns| *ns == g.namespace)
        });
        out.push(match seen {
            Some(g) => state(g, spec.name),
            None => GitOpsState {
                kind,
                name,
                namespace: namespace.unwrap_or_default(),
                ready: None,
                revision: None,
                suspended: false,
                message: Some("not seen: not installed here, or not readable with these credentials".into()),
                reconciled: None,
                apps: vec![spec.name.to_owned()],
                found: false,
            },
        });
    }
    out
}

fn state(g: &GitOpsInfo, app: &str) -> GitOpsState {
    GitOpsState {
        kind: g.kind.clone(),
        name: g.name.clone(),
        namespace: g.namespace.clone(),
        ready: g.ready,
        revision: g.revision.clone(),
        suspended: g.suspended,
        message: g.message.clone(),
        reconciled: g.reconciled,
        apps: vec![app.to_owned()],
        found: true,
    }
}

/// The revision as people read it: `main@sha1:1a2b3c4d…` shortened to `main@1a2b3c4`, a bare
/// SHA to its first seven characters, a chart version as it is.
pub fn short_revision(revision: &str) -> String {
    let (branch, rest) = revision.split_once('@').map_or((None, revision), |(b, r)| (Some(b), r));
    let sha = rest.split_once(':').map_or(rest, |(_, s)| s);
    let is_sha = sha.len() >= 12 && sha.chars().all(|c| c.is_ascii_hexdigit());
    let short = if is_sha { &sha[..7] } else { rest };
    match branch {
        Some(b) => format!("{b}@{short}"),
        None => short.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::health::inventory::DeploymentInfo;

    fn deployment(name: &str, labels: &[(&str, &str)]) -> DeploymentInfo {
        DeploymentInfo {
            namespace: "shop".into(),
            name: name.into(),
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            selector: BTreeMap::new(),
            desired: 1,
            updated: 1,
            ready: 1,
            available: 1,
            current: 1,
            generation: 1,
            observed_generation: 1,
            paused: false,
            progress_deadline_seconds: 600,
            conditions: Vec::new(),
            images: Vec::new(),
            revision: None,
            created: None,
        }
    }

    fn spec(name: &'static str) -> AppSpec<'static> {
        AppSpec { name, namespace: "shop", deployment: name, canary: None }
    }

    #[test]
    fn each_reconciler_is_listed_once_with_the_apps_it_reconciles() {
        let flux = [
            ("kustomize.toolkit.fluxcd.io/name", "shop-apps"),
            ("kustomize.toolkit.fluxcd.io/namespace", "flux-system"),
        ];
        let inventory = Inventory {
            deployments: vec![
                deployment("web", &flux),
                deployment("api", &flux),
                deployment("worker", &[("argocd.argoproj.io/instance", "shop-worker")]),
                deployment("plain", &[]),
            ],
            gitops: vec![GitOpsInfo {
                kind: "Kustomization".into(),
                namespace: "flux-system".into(),
                name: "shop-apps".into(),
                ready: Some(true),
                revision: Some("main@sha1:1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d".into()),
                suspended: false,
                message: None,
                reconciled: None,
            }],
            ..Inventory::default()
        };
        let states = sync_state(&[spec("web"), spec("api"), spec("worker"), spec("plain")], &inventory);
        assert_eq!(states.len(), 2, "{states:#?}");
        assert_eq!(
            (states[0].kind.as_str(), states[0].apps.clone()),
            ("Kustomization", vec!["web".to_owned(), "api".to_owned()])
        );
        assert_eq!(states[0].ready, Some(true));
        assert!(states[0].found);
        assert_eq!((states[1].name.as_str(), states[1].found, states[1].ready), ("shop-worker", false, None));
        assert!(states[1].message.as_deref().is_some_and(|m| m.contains("not readable")));
    }

    #[test]
    fn revisions_read_short() {
        assert_eq!(short_revision("main@sha1:1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"), "main@1a2b3c4");
        assert_eq!(short_revision("1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"), "1a2b3c4");
        assert_eq!(short_revision("4.2.1"), "4.2.1");
        assert_eq!(short_revision("v1.2@sha256:abcdef0123456789abcdef"), "v1.2@abcdef0");
    }
}
