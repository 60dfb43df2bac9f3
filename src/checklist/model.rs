//! A checklist file: sections of items, each `manual` (the operator acknowledges it) or
//! `auto = "<check-id>"` with parameters (a machine decides it), required or advisory.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A checklist as its file says.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub title: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub text: String,
    /// The automated check that decides this item; without one the item is manual.
    #[serde(default)]
    pub auto: Option<String>,
    /// The check's parameters (`min = 3`, `hours = 24`).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// A required item that fails blocks sign-off unless waived with a reason; an advisory
    /// one is only shown.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

impl Item {
    pub fn is_manual(&self) -> bool {
        self.auto.is_none()
    }

    /// An integer parameter, or `default`.
    pub fn int(&self, key: &str, default: i64) -> i64 {
        self.params.get(key).and_then(toml::Value::as_integer).unwrap_or(default)
    }
}

/// The production checklist from the seeds, shipped as the default for protected environments.
pub const PRODUCTION: &str = include_str!("../../config/checklists/production.toml");
/// A shorter one for staging, the default elsewhere.
pub const STAGING: &str = include_str!("../../config/checklists/staging.toml");

/// Parses a checklist, and checks that every `auto` names a known check; `name` is for
/// messages.
pub fn parse(name: &str, text: &str) -> Result<Checklist, String> {
    let checklist: Checklist = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let unknown: Vec<String> = checklist
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .filter_map(|i| i.auto.as_deref())
        .filter(|id| super::checks::describe(id).is_none())
        .map(str::to_owned)
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = super::checks::CHECKS.iter().map(|(id, _)| *id).collect();
        return Err(format!("{name}: unknown check {} (known: {})", unknown.join(", "), known.join(", ")));
    }
    if checklist.sections.iter().all(|s| s.items.is_empty()) {
        return Err(format!("{name}: the checklist has no items"));
    }
    Ok(checklist)
}

/// The environment's checklist: its own file (relative to the config file), or the shipped
/// default — production's for an environment with typed protection, staging's for one that
/// asks for confirmation. An unprotected environment (a developer's cluster) has none unless
/// config names one.
pub fn for_environment(env: &crate::config::Environment, config_file: &Path) -> Result<Checklist, String> {
    match &env.checklist {
        Some(path) => {
            let path = if path.is_relative() {
                config_file.parent().unwrap_or_else(|| Path::new(".")).join(path)
            } else {
                path.clone()
            };
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            parse(&path.display().to_string(), &text)
        }
        None => match env.protection {
            crate::config::Protection::Typed => parse("production checklist (built in)", PRODUCTION),
            crate::config::Protection::Confirm => parse("staging checklist (built in)", STAGING),
            crate::config::Protection::None => Err(format!(
                "{} has no checklist: it is unprotected, so none is assumed (set checklist = \"FILE\" on the environment to use one)",
                env.name()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_checklists_parse_and_every_auto_id_exists() {
        let production = parse("production.toml", PRODUCTION).expect("production parses");
        let staging = parse("staging.toml", STAGING).expect("staging parses");
        let items = |c: &Checklist| c.sections.iter().map(|s| s.items.len()).sum::<usize>();
        // Every one of the seed checklist's 136 items, the three sign-offs, and three
        // automated items the seed implies (rollout history, an autoscaler, recent warnings).
        assert_eq!(items(&production), 142);
        assert!(items(&staging) < items(&production));
        let autos: std::collections::BTreeSet<&str> =
            production.sections.iter().flat_map(|s| &s.items).filter_map(|i| i.auto.as_deref()).collect();
        for (id, _) in crate::checklist::CHECKS {
            assert!(autos.contains(id), "the production checklist uses {id}");
        }
    }

    #[test]
    fn an_unknown_check_is_refused_with_the_known_ones() {
        let text = "name = \"x\"\n[[sections]]\ntitle = \"s\"\n[[sections.items]]\ntext = \"t\"\nauto = \"image-tag-pined\"\n";
        let error = parse("mine.toml", text).expect_err("unknown");
        assert!(
            error.contains("unknown check image-tag-pined") && error.contains("image-tag-pinned"),
            "{error}"
        );
    }
}
