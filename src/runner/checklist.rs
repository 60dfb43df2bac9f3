//! The checklist's reads across environments: this environment's objects, and the previous
//! one's apps for the soak check (staging's for production).

use super::{Session, canary_target};
use crate::checklist::{Objects, Previous};
use crate::cluster::checklist::{self, ChecklistApp};
use crate::cluster::ops::OpError;
use crate::config::{Config, Environment};

/// The configured apps as the checklist reads them in `env`.
pub fn checklist_apps(config: &Config, env: &Environment) -> Vec<ChecklistApp> {
    config
        .apps
        .iter()
        .map(|a| {
            let target = super::deployment_target(env, a);
            ChecklistApp {
                app: a.name().to_owned(),
                namespace: target.namespace,
                deployment: a.deployment.clone(),
                canary_deployment: canary_target(env, a).ok().map(|t| t.canary_deployment().to_owned()),
            }
        })
        .collect()
}

/// The environment before `env` in promotion order, if any.
pub fn previous_environment<'c>(config: &'c Config, env: &Environment) -> Option<&'c Environment> {
    let index = config.environments.iter().position(|e| e.name() == env.name())?;
    index.checked_sub(1).and_then(|i| config.environments.get(i))
}

/// Everything the automated checks read. `previous` is the previous environment's session, or
/// why there is none; a previous environment that cannot be read fails the soak check rather
/// than the whole checklist.
pub async fn gather(
    config: &Config,
    env: &Environment,
    session: &Session,
    previous: Option<(&Environment, Result<Session, String>)>,
) -> Result<Objects, OpError> {
    let mut objects = checklist::objects(&session.read, env.name(), &checklist_apps(config, env)).await?;
    if let Some((previous_env, session)) = previous {
        let read = match session {
            Ok(session) => checklist::apps(&session.read, &checklist_apps(config, previous_env))
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match read {
            Ok(apps) => objects.previous = Some(Previous { env: previous_env.name().to_owned(), apps }),
            Err(e) => {
                objects.previous_error = Some(format!("{} could not be read: {e}", previous_env.name()));
            }
        }
    }
    Ok(objects)
}
