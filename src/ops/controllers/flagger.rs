//! A Flagger Canary, driven through Flagger's own control points: `spec.suspend` stops and
//! restarts its analysis, and the loadtester's gates — the webhooks of type
//! `confirm-rollout`, `confirm-traffic-increase`, `confirm-promotion` and `rollback` that ask
//! flagger-loadtester's `/gate/check` or `/rollback/check` — are opened and closed with the
//! loadtester's `/gate/open`, `/gate/close`, `/rollback/open` and `/rollback/close`, reached
//! through the API server's service proxy. Pure.

use serde_json::{Value, json};

use super::{Verb, target};
use crate::ops::Place;
use crate::ops::plan::{
    DiffLine, Guard, Kind, Operation, PatchBody, Plan, PlanError, ProxyCall, ProxyCheck, Step, Verify, Via,
};

/// A webhook of the Canary's analysis that waits on a loadtester gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The webhook's name, as the operator names it (`gate open NAME`).
    pub name: String,
    /// `confirm-promotion`, …, `rollback`.
    pub kind: String,
    pub service: String,
    pub namespace: String,
    pub port: u16,
    /// `gate` or `rollback`: the loadtester's family of endpoints.
    pub family: &'static str,
    /// Where the webhook asks: `check` is driven by open/close; `approve` and `halt` are
    /// fixed answers nobody can change.
    pub asks: String,
}

impl Gate {
    /// "approve promotion", "approve the next step", "roll back now".
    pub fn action(&self) -> &'static str {
        match self.kind.as_str() {
            "confirm-rollout" => "approve the rollout",
            "confirm-traffic-increase" => "approve the next step",
            "confirm-promotion" => "approve promotion",
            _ => "roll back now",
        }
    }
}

/// `http://flagger-loadtester.test/gate/check` → (service, namespace, port, path).
fn parse_url(url: &str, default_namespace: &str) -> Option<(String, String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, 80),
    };
    let mut labels = host.split('.');
    let service = labels.next().filter(|s| !s.is_empty())?.to_owned();
    let namespace = labels.next().unwrap_or(default_namespace).to_owned();
    Some((service, namespace, port, path.to_owned()))
}

/// The gates the Canary's analysis waits on.
pub fn gates(canary: &Value) -> Vec<Gate> {
    let namespace = canary.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
    crate::health::from_k8s::gate_hooks(canary)
        .into_iter()
        .filter_map(|(name, kind, url)| {
            let (service, namespace, port, path) = parse_url(&url, namespace)?;
            let (family, asks) = path.split_once('/')?;
            let family = match family {
                "gate" => "gate",
                "rollback" => "rollback",
                _ => return None,
            };
            Some(Gate { name, kind, service, namespace, port, family, asks: asks.to_owned() })
        })
        .collect()
}

fn text<'a>(canary: &'a Value, pointer: &str) -> &'a str {
    canary.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The plan for `verb` on `canary` as read now.
pub fn canary(place: &Place<'_>, verb: &Verb, canary: &Value) -> Result<Plan, PlanError> {
    let (target, rv) = target(place, Kind::FlaggerCanary, canary)?;
    let what = format!("Canary {}/{}", target.namespace, target.name);
    let suspended = canary.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false);
    let mut step = Step {
        app: place.app.to_owned(),
        target: target.clone(),
        from_resource_version: rv,
        guards: Vec::new(),
        patch: PatchBody::Merge(json!({})),
        via: Via::Object,
        sentence: String::new(),
        diff: Vec::new(),
        verify: Verify::Written,
        event_reason: "OpsdeckFlagger",
    };
    let sentence = |s: &str| format!("{} · {what} · {s}", place.env);
    let operation = match verb {
        Verb::Pause | Verb::Resume => {
            let to = *verb == Verb::Pause;
            if suspended == to {
                let state = if to { "already suspended" } else { "not suspended" };
                return Err(PlanError::Refused(format!("{what} is {state}")));
            }
            step.patch = PatchBody::Merge(json!({"spec": {"suspend": to}}));
            step.sentence = sentence(if to {
                "suspend the analysis (Flagger stops where it is)"
            } else {
                "resume the analysis"
            });
            step.diff = vec![DiffLine {
                field: "spec.suspend".into(),
                before: suspended.to_string(),
                after: to.to_string(),
            }];
            step.verify = Verify::Stored { pointer: "/spec/suspend".into(), value: json!(to) };
            // Flagger writes status at every check: the plan stands while suspend is as it saw.
            step.guards = vec![Guard::new("/spec/suspend", json!(suspended))];
            if to { Operation::ControllerPause } else { Operation::ControllerResume }
        }
        Verb::Gate { name, open } => gate_step(&mut step, canary, &what, name, *open, &sentence)?,
        Verb::Restart { .. } => {
            return Err(PlanError::Refused(format!(
                "{what} is run by Flagger: restart its target Deployment (a new revision starts the analysis)"
            )));
        }
        other => {
            return Err(PlanError::Refused(format!(
                "{what} is run by Flagger, which has no {}: use suspend, resume or its gates",
                other.word()
            )));
        }
    };
    Ok(Plan::for_app(operation, place, vec![step]))
}

/// A loadtester gate opened or closed: a POST through the service proxy, checked after.
fn gate_step(
    step: &mut Step,
    canary: &Value,
    what: &str,
    name: &str,
    open: bool,
    sentence: &dyn Fn(&str) -> String,
) -> Result<Operation, PlanError> {
    let phase = text(canary, "/status/phase");
    let all = gates(canary);
    let Some(gate) = all.iter().find(|g| g.name == *name) else {
        let known: Vec<&str> = all.iter().map(|g| g.name.as_str()).collect();
        return Err(PlanError::Refused(if known.is_empty() {
            format!(
                "{what} has no loadtester gate: Flagger moves on by its analysis alone (suspend is the only control)"
            )
        } else {
            format!("{what} has no gate {name:?} (its gates: {})", known.join(", "))
        }));
    };
    if gate.asks != "check" {
        return Err(PlanError::Refused(format!(
            "gate {name} asks the loadtester's /{}/{}, a fixed answer: it cannot be opened or closed",
            gate.family, gate.asks
        )));
    }
    let action = if open { "open" } else { "close" };
    // The loadtester keys its gates by the Canary's name and namespace.
    let body = json!({"name": step.target.name, "namespace": step.target.namespace}).to_string();
    step.via = Via::Proxy(ProxyCall {
        namespace: gate.namespace.clone(),
        service: gate.service.clone(),
        port: gate.port,
        path: format!("{}/{action}", gate.family),
        body: body.clone(),
        check: Some(ProxyCheck {
            path: format!("{}/check", gate.family),
            status: if open { 200 } else { 403 },
        }),
    });
    step.patch = PatchBody::Merge(json!({"post": format!("/{}/{action}", gate.family), "body": body}));
    let does = if open { gate.action() } else { "close the gate again" };
    let weight = canary.pointer("/status/canaryWeight").and_then(Value::as_u64).unwrap_or(0);
    let which = if gate.kind == name { format!("gate {name}") } else { format!("{} gate {name}", gate.kind) };
    step.sentence = sentence(&format!("{does}: {which} → {action} (Flagger: {phase} at {weight}%)"));
    step.verify = Verify::Checked {
        what: format!(
            "the loadtester's /{}/check answers {} ({})",
            gate.family,
            if open { 200 } else { 403 },
            if open { "open" } else { "closed" }
        ),
    };
    step.diff = vec![DiffLine {
        field: format!("loadtester {}/{} gate {name}", gate.namespace, gate.service),
        before: if open { "closed".into() } else { "open".into() },
        after: if open { "open".into() } else { "closed".into() },
    }];
    // Flagger writes the Canary's status at every check; what the operator decided on
    // is its phase and weight, so those must hold when the call goes out.
    step.guards = vec![
        Guard::new("/status/phase", canary.pointer("/status/phase").cloned().unwrap_or(Value::Null)),
        Guard::new(
            "/status/canaryWeight",
            canary.pointer("/status/canaryWeight").cloned().unwrap_or(Value::Null),
        ),
    ];
    Ok(match (gate.family, open) {
        ("rollback", true) => Operation::GateRollback,
        (_, true) => Operation::GateOpen,
        (_, false) => Operation::GateClose,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protection;

    fn place() -> Place<'static> {
        Place { env: "staging", context: "staging", app: "search", protection: Protection::Confirm }
    }

    fn canary(phase: &str) -> Value {
        json!({
            "metadata": {"name": "search", "namespace": "shop", "resourceVersion": "12"},
            "spec": {"analysis": {"interval": "30s", "stepWeight": 10, "maxWeight": 50, "webhooks": [
                {"name": "load-test", "type": "rollout", "url": "http://flagger-loadtester.shop/"},
                {"name": "approve-promotion", "type": "confirm-promotion", "url": "http://flagger-loadtester.shop/gate/check"},
                {"name": "fixed", "type": "confirm-rollout", "url": "http://flagger-loadtester.shop/gate/approve"},
            ]}},
            "status": {"phase": phase, "canaryWeight": 50},
        })
    }

    #[test]
    fn a_gate_is_opened_through_the_loadtester_with_the_canary_named_in_the_body() {
        let verb = Verb::Gate { name: "approve-promotion".into(), open: true };
        let plan = super::canary(&place(), &verb, &canary("WaitingPromotion")).expect("a plan");
        assert_eq!(plan.operation, Operation::GateOpen);
        let Via::Proxy(call) = &plan.steps[0].via else { panic!("a proxy call") };
        assert_eq!(
            call.url(&call.path),
            "/api/v1/namespaces/shop/services/flagger-loadtester:80/proxy/gate/open"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&call.body).ok(),
            Some(json!({"name": "search", "namespace": "shop"}))
        );
        assert_eq!(call.check, Some(ProxyCheck { path: "gate/check".into(), status: 200 }));
        assert!(plan.steps[0].sentence.contains("approve promotion"), "{}", plan.steps[0].sentence);
        assert_eq!(plan.steps[0].guards[0], Guard::new("/status/phase", json!("WaitingPromotion")));
    }

    #[test]
    fn fixed_gates_unknown_gates_and_argo_verbs_are_refused_with_the_reason() {
        let fixed =
            super::canary(&place(), &Verb::Gate { name: "fixed".into(), open: true }, &canary("Waiting"));
        assert!(matches!(fixed, Err(PlanError::Refused(m)) if m.contains("fixed answer")));
        let unknown =
            super::canary(&place(), &Verb::Gate { name: "nope".into(), open: true }, &canary("Waiting"));
        assert!(matches!(unknown, Err(PlanError::Refused(m)) if m.contains("approve-promotion")));
        let promote = super::canary(&place(), &Verb::Promote, &canary("WaitingPromotion"));
        assert!(matches!(promote, Err(PlanError::Refused(m)) if m.contains("no promote")));
        let suspend = super::canary(&place(), &Verb::Pause, &canary("Progressing")).expect("suspend");
        assert_eq!(suspend.steps[0].patch, PatchBody::Merge(json!({"spec": {"suspend": true}})));
        assert_eq!(gates(&canary("x")).len(), 2, "the rollout hook is not a gate");
    }
}
