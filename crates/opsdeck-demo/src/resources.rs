//! The API resources the demo fleet serves, as data: routing, discovery and the store all read
//! this one table.

/// One kind of object the fleet stores and serves.
#[derive(Debug, PartialEq, Eq)]
pub struct Resource {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Subresources served besides the object itself.
    pub subresources: &'static [&'static str],
    /// Create-only review resources are answered, never stored.
    pub review: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, `pods`: the name the API server uses in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.to_owned() } else { format!("{}.{}", self.plural, self.group) }
    }

    pub fn verbs(&self) -> &'static [&'static str] {
        if self.review {
            &["create"]
        } else {
            &["create", "delete", "get", "list", "patch", "update", "watch"]
        }
    }
}

// A positional constructor keeps the table below one row per resource.
#[allow(clippy::too_many_arguments)]
const fn res(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    subresources: &'static [&'static str],
) -> Resource {
    Resource { group, version, plural, singular, kind, namespaced, short_names, subresources, review: false }
}

pub static RESOURCES: &[Resource] = &[
    res("", "v1", "namespaces", "namespace", "Namespace", false, &["ns"], &["status"]),
    res("", "v1", "nodes", "node", "Node", false, &["no"], &["status"]),
    res("", "v1", "pods", "pod", "Pod", true, &["po"], &["status", "proxy", "log"]),
    res("", "v1", "services", "service", "Service", true, &["svc"], &["status"]),
    res("", "v1", "events", "event", "Event", true, &["ev"], &[]),
    res("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, &["quota"], &["status"]),
    res("", "v1", "limitranges", "limitrange", "LimitRange", true, &["limits"], &[]),
    res("events.k8s.io", "v1", "events", "event", "Event", true, &["ev"], &[]),
    res("apps", "v1", "deployments", "deployment", "Deployment", true, &["deploy"], &["status", "scale"]),
    res("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, &["rs"], &["status", "scale"]),
    res("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, &["ing"], &["status"]),
    res(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
        &["netpol"],
        &[],
    ),
    res(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        true,
        &["pdb"],
        &["status"],
    ),
    res(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        &["hpa"],
        &["status"],
    ),
    res("gateway.networking.k8s.io", "v1", "httproutes", "httproute", "HTTPRoute", true, &[], &["status"]),
    // Flux's objects, for a Deployment reconciled from Git: suspending one holds a rollback.
    res(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "kustomizations",
        "kustomization",
        "Kustomization",
        true,
        &["ks"],
        &["status"],
    ),
    res(
        "helm.toolkit.fluxcd.io",
        "v2",
        "helmreleases",
        "helmrelease",
        "HelmRelease",
        true,
        &["hr"],
        &["status"],
    ),
    // Argo Rollouts' and Flagger's objects; the fleet's controllers run them.
    res("argoproj.io", "v1alpha1", "rollouts", "rollout", "Rollout", true, &["ro"], &["status", "scale"]),
    res("flagger.app", "v1beta1", "canaries", "canary", "Canary", true, &["canary"], &["status"]),
    // Argo CD's Application, for a Deployment Argo CD syncs from Git.
    res(
        "argoproj.io",
        "v1alpha1",
        "applications",
        "application",
        "Application",
        true,
        &["app", "apps"],
        &["status"],
    ),
    // The EndpointSlice controller's output: which pods a Service reaches, and whether ready.
    res("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, &[], &[]),
    // The team's records (immutable ConfigMaps), who is at the controls (Leases), and the
    // admission policy that holds records to their writers.
    res("", "v1", "configmaps", "configmap", "ConfigMap", true, &["cm"], &[]),
    res("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, &[], &[]),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        "ValidatingAdmissionPolicy",
        false,
        &[],
        &["status"],
    ),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        "ValidatingAdmissionPolicyBinding",
        false,
        &[],
        &[],
    ),
    Resource {
        review: true,
        ..res(
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            "SelfSubjectAccessReview",
            false,
            &[],
            &[],
        )
    },
    Resource {
        review: true,
        ..res(
            "authentication.k8s.io",
            "v1",
            "selfsubjectreviews",
            "selfsubjectreview",
            "SelfSubjectReview",
            false,
            &[],
            &[],
        )
    },
];

/// The resource served at `group/version/plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Index of a resource in [`RESOURCES`], the store's key.
pub fn index_of(resource: &Resource) -> usize {
    RESOURCES.iter().position(|r| std::ptr::eq(r, resource)).unwrap_or(0)
}

/// Indexes into [`RESOURCES`] for the fleet's own code; a test keeps them in step with the table.
pub const NAMESPACES: usize = 0;
pub const NODES: usize = 1;
pub const PODS: usize = 2;
pub const SERVICES: usize = 3;
pub const EVENTS: usize = 4;
pub const RESOURCE_QUOTAS: usize = 5;
pub const LIMIT_RANGES: usize = 6;
pub const DEPLOYMENTS: usize = 8;
pub const REPLICA_SETS: usize = 9;
pub const INGRESSES: usize = 10;
pub const NETWORK_POLICIES: usize = 11;
pub const PDBS: usize = 12;
pub const HPAS: usize = 13;
pub const HTTP_ROUTES: usize = 14;
pub const KUSTOMIZATIONS: usize = 15;
#[cfg(test)]
pub const HELM_RELEASES: usize = 16;
pub const ROLLOUTS: usize = 17;
pub const CANARIES: usize = 18;
pub const APPLICATIONS: usize = 19;
pub const ENDPOINT_SLICES: usize = 20;
pub const CONFIG_MAPS: usize = 21;
pub const VALIDATING_POLICIES: usize = 23;
pub const VALIDATING_BINDINGS: usize = 24;

/// The distinct groups besides core, in table order, with their one version.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.iter().any(|(g, _)| *g == r.group) {
            out.push((r.group, r.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_constants_name_the_right_rows() {
        let named = [
            (NAMESPACES, "namespaces"),
            (NODES, "nodes"),
            (PODS, "pods"),
            (SERVICES, "services"),
            (EVENTS, "events"),
            (RESOURCE_QUOTAS, "resourcequotas"),
            (LIMIT_RANGES, "limitranges"),
            (DEPLOYMENTS, "deployments"),
            (REPLICA_SETS, "replicasets"),
            (INGRESSES, "ingresses"),
            (NETWORK_POLICIES, "networkpolicies"),
            (PDBS, "poddisruptionbudgets"),
            (HPAS, "horizontalpodautoscalers"),
            (HTTP_ROUTES, "httproutes"),
            (KUSTOMIZATIONS, "kustomizations"),
            (HELM_RELEASES, "helmreleases"),
            (ROLLOUTS, "rollouts"),
            (CANARIES, "canaries"),
            (APPLICATIONS, "applications"),
            (ENDPOINT_SLICES, "endpointslices"),
            (CONFIG_MAPS, "configmaps"),
            (VALIDATING_POLICIES, "validatingadmissionpolicies"),
            (VALIDATING_BINDINGS, "validatingadmissionpolicybindings"),
        ];
        for (index, plural) in named {
            assert_eq!(RESOURCES[index].plural, plural);
        }
        assert_eq!(RESOURCES[EVENTS].group, "", "core events, not events.k8s.io");
    }
}
