//! Blue-green roles. Two colour Deployments (say `checkout-blue` and `checkout-green`) and a
//! Service whose selector points at one of them: the guide's "switch between blue and green"
//! (seed 004). Which colour is stable is not fixed by the config, since the colours trade
//! roles at every promotion. It is read from the Service: the colour recorded in its
//! `opsdeck.io/stable` annotation, or, before opsdeck has switched it, the colour it selects.
//! The other colour is the canary, and it takes all of the traffic or none.
//!
//! One rule for the health model (compact records) and the plans (JSON objects): both read
//! the strings out of their own representation and ask [`roles`].

use super::inventory::{DeploymentInfo, Inventory, ServiceInfo};

/// The Service annotation that records the stable colour across a switch.
pub const STABLE_ANNOTATION: &str = "opsdeck.io/stable";

/// Who is who, as the Service says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// The config's `canary_deployment` is the stable colour now (after a promotion).
    pub swapped: bool,
    /// The canary colour's traffic: 100 when the Service selects it, else 0.
    pub weight: u32,
}

impl Roles {
    /// `(stable, canary)` of the config's `deployment` (`first`) and `canary_deployment`
    /// (`second`), whatever stands for them: names, records, objects.
    pub fn order<T>(self, first: T, second: T) -> (T, T) {
        if self.swapped { (second, first) } else { (first, second) }
    }
}

/// The roles from the Service's selector value at the colour label (`selected`), its
/// recorded stable colour (`recorded`), and the colours of the config's `deployment`
/// (`first`) and `canary_deployment` (`second`).
pub fn roles(
    selected: Option<&str>,
    recorded: Option<&str>,
    first: Option<&str>,
    second: Option<&str>,
) -> Result<Roles, String> {
    let (Some(first), Some(second)) = (first, second) else {
        return Err("the two Deployments must both carry the colour label in their selector".into());
    };
    if first == second {
        return Err(format!("both Deployments are colour {first:?}: nothing tells them apart"));
    }
    let known = |c: &&str| *c == first || *c == second;
    let stable = recorded.filter(known).or(selected.filter(known)).ok_or_else(|| match selected {
        Some(s) => format!("the Service selects colour {s:?}, neither {first:?} nor {second:?}"),
        None => "the Service's selector has no colour label".to_owned(),
    })?;
    let canary = if stable == first { second } else { first };
    let weight = match selected {
        Some(s) if s == canary => 100,
        Some(s) if s == stable => 0,
        other => {
            return Err(format!(
                "the Service selects {}, neither {first:?} nor {second:?}",
                other.map_or_else(|| "no colour".to_owned(), |s| format!("colour {s:?}"))
            ));
        }
    };
    Ok(Roles { swapped: stable == second, weight })
}

/// The roles in an inventory: the Service `service` and the two Deployments by name.
pub fn in_inventory(
    inventory: &Inventory,
    namespace: &str,
    service: &str,
    label: &str,
    deployments: [&str; 2],
) -> Result<Roles, String> {
    let service: &ServiceInfo = inventory
        .services
        .iter()
        .find(|s| s.namespace == namespace && s.name == service)
        .ok_or_else(|| format!("Service {namespace}/{service} not found"))?;
    let colour = |name: &str| -> Option<&str> {
        let d: &DeploymentInfo =
            inventory.deployments.iter().find(|d| d.namespace == namespace && d.name == name)?;
        d.selector.get(label).map(String::as_str)
    };
    roles(
        service.selector.get(label).map(String::as_str),
        service.stable.as_deref(),
        colour(deployments[0]),
        colour(deployments[1]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_any_switch_the_selected_colour_is_stable() {
        assert_eq!(
            roles(Some("blue"), None, Some("blue"), Some("green")),
            Ok(Roles { swapped: false, weight: 0 })
        );
        // Someone switched by hand, before opsdeck: what serves is stable.
        assert_eq!(
            roles(Some("green"), None, Some("blue"), Some("green")),
            Ok(Roles { swapped: true, weight: 0 })
        );
    }

    #[test]
    fn after_a_switch_the_recorded_colour_stays_stable() {
        assert_eq!(
            roles(Some("green"), Some("blue"), Some("blue"), Some("green")),
            Ok(Roles { swapped: false, weight: 100 })
        );
        // Promoted: green is recorded stable and serves; blue is the idle colour.
        assert_eq!(
            roles(Some("green"), Some("green"), Some("blue"), Some("green")),
            Ok(Roles { swapped: true, weight: 0 })
        );
        // A recorded colour that is neither (a renamed colour) falls back to the selector.
        assert_eq!(
            roles(Some("blue"), Some("red"), Some("blue"), Some("green")),
            Ok(Roles { swapped: false, weight: 0 })
        );
    }

    #[test]
    fn what_cannot_be_told_apart_is_said() {
        assert!(roles(Some("blue"), None, Some("blue"), Some("blue")).unwrap_err().contains("nothing tells"));
        assert!(roles(Some("red"), None, Some("blue"), Some("green")).unwrap_err().contains("\"red\""));
        assert!(roles(None, None, Some("blue"), Some("green")).unwrap_err().contains("no colour label"));
        assert!(roles(Some("blue"), None, None, Some("green")).is_err());
        assert!(
            roles(Some("red"), Some("blue"), Some("blue"), Some("green"))
                .unwrap_err()
                .contains("selects colour \"red\"")
        );
    }
}
