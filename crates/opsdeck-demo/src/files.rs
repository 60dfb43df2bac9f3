//! The kubeconfig and opsdeck config `opsdeck demo` writes for its clusters.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::auth::{ADMIN_TOKEN, LEAD_TOKEN, READONLY_TOKEN};

/// Contexts `NAME` (admin), `NAME-readonly` and `NAME-lead` (a second person, for approvals)
/// for each cluster; the current context is the first cluster's.
pub fn kubeconfig(clusters: &[(String, SocketAddr)], ca_pem: &str) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let mut out = String::from(
        "# Written by `opsdeck demo`: simulated clusters on loopback, not real environments.\napiVersion: v1\nkind: Config\nclusters:\n",
    );
    for (name, addr) in clusters {
        let _ = writeln!(
            out,
            "- name: {name}\n  cluster:\n    server: https://{addr}\n    certificate-authority-data: {ca}"
        );
    }
    let _ = write!(
        out,
        "users:\n- name: demo-admin\n  user:\n    token: {ADMIN_TOKEN}\n- name: demo-readonly\n  user:\n    token: {READONLY_TOKEN}\n- name: demo-lead\n  user:\n    token: {LEAD_TOKEN}\ncontexts:\n"
    );
    for (name, _) in clusters {
        let _ = writeln!(
            out,
            "- name: {name}\n  context:\n    cluster: {name}\n    user: demo-admin\n    namespace: shop"
        );
        let _ = writeln!(
            out,
            "- name: {name}-readonly\n  context:\n    cluster: {name}\n    user: demo-readonly\n    namespace: shop"
        );
        let _ = writeln!(
            out,
            "- name: {name}-lead\n  context:\n    cluster: {name}\n    user: demo-lead\n    namespace: shop"
        );
    }
    let first = clusters.first().map_or("local", |(n, _)| n.as_str());
    let _ = writeln!(out, "current-context: {first}");
    out
}

/// The opsdeck config for the demo: three environments with rising protection, the six
/// apps, and each canary with the provider that carries it.
pub fn opsdeck_config() -> String {
    r#"# Written by `opsdeck demo`: the console's config for the simulated fleet.

[[environments]]
name = "local"
context = "local"
namespaces = ["shop"]
protection = "none"
color = "cyan"

[environments.metrics]
# The simulated traffic is steady: a short interval shows canary verdicts within a minute.
interval = "5s"

[[environments]]
name = "staging"
context = "staging"
namespaces = ["shop"]
protection = "confirm"
color = "yellow"

[environments.metrics]
interval = "5s"

[[environments]]
name = "production"
context = "production"
namespaces = ["shop"]
protection = "typed"
color = "red"
# Uncomment to require a signed checklist for the version before canary steps and promotions:
# require_checklist = "12h"

[environments.metrics]
interval = "5s"

# The seeds' production windows: Monday to Thursday, 10:00-16:00 Central European Time.
# Outside them a change that adds risk needs an emergency reason (enforce_windows = true
# would refuse it); rollbacks, aborts and pauses are always allowed.
[[environments.windows]]
days = ["mon", "tue", "wed", "thu"]
start = "10:00"
end = "16:00"
time_zone = "Europe/Paris"

[[apps]]
name = "web"
deployment = "web"
labels = { app = "web" }

[apps.analysis]
window = "1m"

[apps.canary.environments.production]
provider = "nginx-ingress"
ingress = "web-canary"
canary_deployment = "web-canary"

[apps.canary.environments.local]
provider = "replicas"
canary_deployment = "web-canary"

[[apps]]
name = "api"
deployment = "api"
labels = { app = "api" }

[apps.analysis]
window = "1m"

[apps.canary.environments.production]
provider = "gateway-api"
route = "api"
stable_service = "api"
canary_service = "api-canary"
canary_deployment = "api-canary"

[[apps]]
name = "worker"
deployment = "worker"
labels = { app = "worker" }

# Blue-green: the Service `checkout` selects checkout-blue or checkout-green by `version`.
[[apps]]
name = "checkout"
deployment = "checkout-blue"
labels = { app = "checkout" }

[apps.analysis]
window = "1m"

[apps.canary.environments.local]
provider = "service-selector"
service = "checkout"
canary_deployment = "checkout-green"

[apps.canary.environments.staging]
provider = "service-selector"
service = "checkout"
canary_deployment = "checkout-green"

[apps.canary.environments.production]
provider = "service-selector"
service = "checkout"
canary_deployment = "checkout-green"

# Argo Rollouts runs payments in production: opsdeck drives it with the Rollout's own verbs.
[[apps]]
name = "payments"
deployment = "payments"
labels = { app = "payments" }

# Flagger runs search in staging (its Canary targets the Deployment search): opsdeck shows
# what Flagger reports and drives it through suspend and the loadtester's gates.
[[apps]]
name = "search"
deployment = "search"
labels = { app = "search" }
"#
    .to_owned()
}
