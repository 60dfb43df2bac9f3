//! What goes back in a rollback, for the confirmation screen: per container, the image,
//! command and args, environment variables, resources and probes that differ between the
//! Deployment's template now and the revision's; anything else in the pod spec by field name.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::ops::DiffLine;

/// A value as one short line: strings bare, the rest as compact JSON, absent as `<none>`.
fn show(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "<none>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

fn line(field: String, before: Option<&Value>, after: Option<&Value>) -> Option<DiffLine> {
    let (before, after) = (show(before), show(after));
    (before != after).then_some(DiffLine { field, before, after })
}

fn containers(template: &Value) -> Vec<&Value> {
    template
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

/// `env` as name → what it is set to (a value, or where it comes from).
fn env(container: &Value) -> Vec<(String, Value)> {
    container["env"]
        .as_array()
        .map(|vars| {
            vars.iter()
                .filter_map(|v| {
                    let name = v["name"].as_str()?.to_owned();
                    let set = v.get("value").or_else(|| v.get("valueFrom")).cloned().unwrap_or(Value::Null);
                    Some((name, set))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn container_diff(name: &str, now: &Value, then: &Value, out: &mut Vec<DiffLine>) {
    let field = |f: &str| format!("containers[{name}].{f}");
    for key in ["image", "command", "args"] {
        out.extend(line(field(key), now.get(key), then.get(key)));
    }
    let (env_now, env_then) = (env(now), env(then));
    let names: BTreeSet<&String> = env_now.iter().chain(&env_then).map(|(n, _)| n).collect();
    for n in names {
        let find = |vars: &[(String, Value)]| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        out.extend(line(field(&format!("env.{n}")), find(&env_now).as_ref(), find(&env_then).as_ref()));
    }
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            let pointer = format!("/resources/{kind}/{resource}");
            out.extend(line(
                field(&format!("resources.{kind}.{resource}")),
                now.pointer(&pointer),
                then.pointer(&pointer),
            ));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        out.extend(line(field(probe), now.get(probe), then.get(probe)));
    }
}

/// The changes from the template `now` to `then`, in the order an operator reads them.
pub fn template_diff(now: &Value, then: &Value) -> Vec<DiffLine> {
    let mut out = Vec::new();
    let (now_cs, then_cs) = (containers(now), containers(then));
    let name = |c: &Value| c["name"].as_str().unwrap_or("?").to_owned();
    for c in &now_cs {
        match then_cs.iter().find(|t| name(t) == name(c)) {
            Some(t) => container_diff(&name(c), c, t, &mut out),
            None => out.push(DiffLine {
                field: format!("containers[{}]", name(c)),
                before: show(c.get("image")),
                after: "<removed>".into(),
            }),
        }
    }
    for t in then_cs.iter().filter(|t| !now_cs.iter().any(|c| name(c) == name(t))) {
        out.push(DiffLine {
            field: format!("containers[{}]", name(t)),
            before: "<none>".into(),
            after: show(t.get("image")),
        });
    }
    // The rest of the pod spec, by field: volumes, service account, security context, …
    let spec = |t: &Value| t.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    let (spec_now, spec_then) = (spec(now), spec(then));
    let keys: BTreeSet<&String> =
        spec_now.keys().chain(spec_then.keys()).filter(|k| *k != "containers").collect();
    for key in keys {
        if spec_now.get(key) != spec_then.get(key) {
            out.push(DiffLine {
                field: format!("spec.{key}"),
                before: "differs".into(),
                after: "as in the revision".into(),
            });
        }
    }
    let annotations = |t: &Value| t.pointer("/metadata/annotations").cloned();
    if annotations(now) != annotations(then) {
        out.extend(line(
            "template annotations".into(),
            annotations(now).as_ref(),
            annotations(then).as_ref(),
        ));
    }
    out
}
