//! The config resolved once into a fleet model: for every environment and app, where the app
//! lives there (namespace, Deployment, pod labels) and how its canary is carried (provider,
//! canary Deployment, the object that holds the weight). The health tasks, the metrics, the
//! console's state and the operation engine all look things up here instead of re-deriving
//! them from the config.

use std::collections::BTreeMap;

use super::model::{CanaryTarget, Config, Environment, Protection};

/// One app in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub env: String,
    pub context: String,
    pub protection: Protection,
    pub app: String,
    pub namespace: String,
    /// The stable Deployment's name.
    pub deployment: String,
    /// The labels that select the app's pods (default `app = <name>`).
    pub labels: BTreeMap<String, String>,
    pub canary: Option<CanaryPlace>,
}

/// Where an app's canary lives in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryPlace {
    pub target: CanaryTarget,
    /// The canary Deployment's name.
    pub deployment: String,
    /// `nginx-ingress`, `gateway-api`, `replicas`, `service-selector`.
    pub provider: &'static str,
    /// The weight is a pod ratio, not routed traffic.
    pub approximate: bool,
    /// What carries the weight: "Ingress shop/web-canary", "HTTPRoute shop/api",
    /// "Deployments shop/web + shop/web-canary".
    pub carrier: String,
}

/// One environment of the release path and its apps, in config order.
#[derive(Debug, Clone)]
pub struct EnvModel {
    pub name: String,
    pub context: String,
    pub protection: Protection,
    /// Every namespace the environment's watchers cover: its own, then any an app names.
    pub namespaces: Vec<String>,
    pub apps: Vec<Placement>,
}

impl EnvModel {
    /// The apps with a canary here.
    pub fn canaries(&self) -> impl Iterator<Item = (&Placement, &CanaryPlace)> {
        self.apps.iter().filter_map(|p| p.canary.as_ref().map(|c| (p, c)))
    }
}

/// The whole fleet, resolved from one config.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub config: Config,
    pub environments: Vec<EnvModel>,
}

/// A name the config does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Lookup {
    #[error("unknown environment {name:?} (configured: {known})")]
    Environment { name: String, known: String },
    #[error("unknown app {name:?} (configured: {known})")]
    App { name: String, known: String },
    #[error("{app} has no canary in {env} (configure [apps.canary.environments.{env}])")]
    NoCanary { env: String, app: String },
}

impl Fleet {
    pub fn resolve(config: Config) -> Self {
        let environments = config.environments.iter().map(|env| resolve_env(&config, env)).collect();
        Self { config, environments }
    }

    pub fn env(&self, name: &str) -> Result<&EnvModel, Lookup> {
        self.environments.iter().find(|e| e.name == name).ok_or_else(|| Lookup::Environment {
            name: name.to_owned(),
            known: self.environments.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The environment's config entry (windows, metrics, protection, …).
    pub fn env_config(&self, name: &str) -> Option<&Environment> {
        self.config.environment(name)
    }

    pub fn placement(&self, env: &str, app: &str) -> Result<&Placement, Lookup> {
        let model = self.env(env)?;
        model.apps.iter().find(|p| p.app == app).ok_or_else(|| Lookup::App {
            name: app.to_owned(),
            known: model.apps.iter().map(|p| p.app.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The app's placement and its canary there, or why it has none.
    pub fn canary(&self, env: &str, app: &str) -> Result<(&Placement, &CanaryPlace), Lookup> {
        let placement = self.placement(env, app)?;
        let canary = placement
            .canary
            .as_ref()
            .ok_or_else(|| Lookup::NoCanary { env: env.to_owned(), app: app.to_owned() })?;
        Ok((placement, canary))
    }

    /// The environment before `env` in promotion order.
    pub fn previous(&self, env: &str) -> Option<&EnvModel> {
        let index = self.environments.iter().position(|e| e.name == env)?;
        index.checked_sub(1).and_then(|i| self.environments.get(i))
    }

    pub fn app_names(&self) -> Vec<String> {
        self.config.apps.iter().map(|a| a.name().to_owned()).collect()
    }
}

fn resolve_env(config: &Config, env: &Environment) -> EnvModel {
    let first_ns = env.namespaces.first().cloned().unwrap_or_else(|| "default".into());
    let apps: Vec<Placement> = config
        .apps
        .iter()
        .map(|app| {
            let namespace = app.namespace.clone().unwrap_or_else(|| first_ns.clone());
            let canary = app
                .canary
                .as_ref()
                .and_then(|c| c.environments.iter().find(|(k, _)| k.get_ref() == env.name()))
                .map(|(_, target)| CanaryPlace {
                    deployment: target.canary_deployment().to_owned(),
                    provider: target.provider_name(),
                    approximate: target.approximate(),
                    carrier: match target {
                        CanaryTarget::NginxIngress { ingress, .. } => {
                            format!("Ingress {namespace}/{ingress}")
                        }
                        CanaryTarget::GatewayApi { route, .. } => format!("HTTPRoute {namespace}/{route}"),
                        CanaryTarget::ServiceSelector { service, label, .. } => {
                            format!("Service {namespace}/{service} (selector {label})")
                        }
                        CanaryTarget::Replicas { canary_deployment } => {
                            format!(
                                "Deployments {namespace}/{} + {namespace}/{canary_deployment}",
                                app.deployment
                            )
                        }
                    },
                    target: target.clone(),
                });
            let labels = if app.labels.is_empty() {
                BTreeMap::from([("app".to_owned(), app.name().to_owned())])
            } else {
                app.labels.clone()
            };
            Placement {
                env: env.name().to_owned(),
                context: env.context().to_owned(),
                protection: env.protection,
                app: app.name().to_owned(),
                namespace,
                deployment: app.deployment.clone(),
                labels,
                canary,
            }
        })
        .collect();
    let mut namespaces = env.namespaces.clone();
    for app in &apps {
        if !namespaces.contains(&app.namespace) {
            namespaces.push(app.namespace.clone());
        }
    }
    EnvModel {
        name: env.name().to_owned(),
        context: env.context().to_owned(),
        protection: env.protection,
        namespaces,
        apps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> Fleet {
        let text = r#"
[[environments]]
name = "staging"
context = "stg"
namespaces = ["shop"]

[[environments]]
name = "production"
context = "prod"
namespaces = ["shop"]
protection = "typed"

[[apps]]
name = "web"
deployment = "web"
[apps.canary.environments.production]
provider = "nginx-ingress"
ingress = "web-canary"
canary_deployment = "web-canary"

[[apps]]
name = "jobs"
deployment = "jobs-worker"
namespace = "batch"
labels = { component = "jobs" }
"#;
        Fleet::resolve(super::super::parse(std::path::Path::new("t.toml"), text).expect("config"))
    }

    #[test]
    fn each_app_is_placed_once_per_environment() {
        let fleet = fleet();
        let web = fleet.placement("production", "web").expect("web");
        assert_eq!((web.namespace.as_str(), web.deployment.as_str()), ("shop", "web"));
        assert_eq!(web.labels, BTreeMap::from([("app".to_owned(), "web".to_owned())]));
        let canary = web.canary.as_ref().expect("canary");
        assert_eq!((canary.provider, canary.deployment.as_str()), ("nginx-ingress", "web-canary"));
        assert_eq!(canary.carrier, "Ingress shop/web-canary");
        let jobs = fleet.placement("staging", "jobs").expect("jobs");
        assert_eq!((jobs.namespace.as_str(), jobs.deployment.as_str()), ("batch", "jobs-worker"));
        assert_eq!(fleet.env("staging").expect("staging").namespaces, ["shop", "batch"]);
        assert!(fleet.placement("staging", "web").expect("web").canary.is_none());
    }

    #[test]
    fn unknown_names_say_what_is_configured() {
        let fleet = fleet();
        assert_eq!(
            fleet.placement("prod", "web").map(|_| ()).unwrap_err().to_string(),
            "unknown environment \"prod\" (configured: staging, production)"
        );
        assert_eq!(
            fleet.placement("staging", "api").map(|_| ()).unwrap_err().to_string(),
            "unknown app \"api\" (configured: web, jobs)"
        );
        assert_eq!(
            fleet.canary("staging", "web").map(|_| ()).unwrap_err().to_string(),
            "web has no canary in staging (configure [apps.canary.environments.staging])"
        );
        assert_eq!(fleet.previous("production").map(|e| e.name.as_str()), Some("staging"));
        assert!(fleet.previous("staging").is_none());
    }
}
