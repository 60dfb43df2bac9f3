use serde_json::{Value, json};

use super::*;
use crate::config::Protection;
use crate::ops::PatchBody;

fn place() -> Place<'static> {
    Place { env: "production", context: "prod", app: "api", protection: Protection::Typed }
}

fn template(tag: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": "api", "track": "stable"});
    if let Some(h) = hash {
        labels["pod-template-hash"] = json!(h);
    }
    json!({
        "metadata": {"labels": labels},
        "spec": {"containers": [{
            "name": "api",
            "image": format!("registry.example.com/shop/api:{tag}"),
            "env": [{"name": "LOG_LEVEL", "value": if tag == "v1.3.0" { "debug" } else { "info" }}],
            "resources": {"limits": {"memory": if tag == "v1.3.0" { "512Mi" } else { "256Mi" }}},
        }]}
    })
}

fn deployment(tag: &str, paused: bool) -> Value {
    json!({
        "metadata": {"name": "api", "namespace": "shop", "uid": "d-1", "resourceVersion": "900", "annotations": {
            "deployment.kubernetes.io/revision": "3",
            "kubernetes.io/change-cause": "release v1.3.0",
            "team": "payments",
        }},
        "spec": {"replicas": 3, "paused": paused, "template": template(tag, None)},
    })
}

fn rs(revision: u64, tag: &str, created: &str, owner: &str) -> Value {
    json!({
        "metadata": {
            "name": format!("api-{tag}"),
            "namespace": "shop",
            "creationTimestamp": created,
            "annotations": {
                "deployment.kubernetes.io/revision": revision.to_string(),
                "deployment.kubernetes.io/desired-replicas": "3",
                "kubernetes.io/change-cause": format!("release {tag}"),
            },
            "ownerReferences": [{"kind": "Deployment", "name": "api", "uid": owner, "controller": true}],
        },
        "spec": {"replicas": if tag == "v1.3.0" { 3 } else { 0 }, "template": template(tag, Some(&format!("h{revision}")))},
        "status": {"readyReplicas": if tag == "v1.3.0" { 3 } else { 0 }},
    })
}

fn replica_sets() -> Vec<Value> {
    vec![
        rs(1, "v1.1.0", "2026-10-01T10:00:00Z", "d-1"),
        rs(2, "v1.2.0", "2026-11-01T10:00:00Z", "d-1"),
        rs(3, "v1.3.0", "2026-11-30T10:00:00Z", "d-1"),
        // Another Deployment's, selected by the same labels: not history.
        rs(7, "v9.9.9", "2026-11-30T11:00:00Z", "someone-else"),
    ]
}

fn patch(plan: &Plan) -> &[Value] {
    let PatchBody::Json(ops) = &plan.steps[0].patch else { panic!("a JSON patch, as kubectl sends") };
    ops
}

#[test]
fn history_is_the_owned_replica_sets_newest_first_with_the_current_one_marked() {
    let h = history(&deployment("v1.3.0", false), &replica_sets());
    let summary: Vec<(u64, String, bool)> = h.iter().map(|r| (r.revision, r.tags(), r.current)).collect();
    assert_eq!(
        summary,
        [(3, "v1.3.0".into(), true), (2, "v1.2.0".into(), false), (1, "v1.1.0".into(), false)],
        "the hash label does not make a template differ; another owner's ReplicaSet is not history"
    );
    assert_eq!(h[1].change_cause.as_deref(), Some("release v1.2.0"));
}

#[test]
fn the_previous_revision_is_the_highest_below_the_newest() {
    let plan =
        rollback(&place(), &deployment("v1.3.0", false), &replica_sets(), Options::default()).expect("plan");
    let ops = patch(&plan);
    assert_eq!(ops[0]["path"], "/spec/template");
    assert_eq!(ops[0]["value"]["spec"]["containers"][0]["image"], "registry.example.com/shop/api:v1.2.0");
    assert!(
        ops[0]["value"]["metadata"]["labels"].get("pod-template-hash").is_none(),
        "the hash label is dropped"
    );
    assert_eq!(plan.steps[0].from_resource_version, "900");
    assert_eq!(plan.steps[0].verify, Verify::RolloutComplete);
    assert!(plan.warnings.iter().any(|w| w.contains("r2 comes back as r4")), "{:?}", plan.warnings);
}

#[test]
fn annotations_are_computed_as_kubectl_computes_them() {
    let plan =
        rollback(&place(), &deployment("v1.3.0", false), &replica_sets(), Options::default()).expect("plan");
    let ops = patch(&plan);
    assert_eq!(ops[1]["path"], "/metadata/annotations");
    assert_eq!(
        ops[1]["value"],
        json!({
            // Kept from the Deployment:
            "deployment.kubernetes.io/revision": "3",
            // Taken from the ReplicaSet (its change-cause replaces the Deployment's):
            "kubernetes.io/change-cause": "release v1.2.0",
        }),
        "the Deployment's other annotations go, as kubectl's replace of the whole map does"
    );
}

#[test]
fn a_named_revision_must_exist() {
    let d = deployment("v1.3.0", false);
    let to =
        |n| rollback(&place(), &d, &replica_sets(), Options { to_revision: Some(n), ..Options::default() });
    let plan = to(1).expect("plan");
    assert_eq!(
        patch(&plan)[0]["value"]["spec"]["containers"][0]["image"],
        "registry.example.com/shop/api:v1.1.0"
    );
    assert!(
        matches!(to(7), Err(PlanError::Refused(m)) if m.contains("has no revision 7 (its revisions: 1, 2, 3)"))
    );
    assert!(
        matches!(to(3), Err(PlanError::Refused(m)) if m.contains("already matches revision 3")),
        "nothing would change"
    );
}

#[test]
fn a_paused_deployment_is_refused_unless_the_rollback_resumes_it() {
    let d = deployment("v1.3.0", true);
    assert!(matches!(
        rollback(&place(), &d, &replica_sets(), Options::default()),
        Err(PlanError::NeedsResume(m)) if m.contains("paused") && m.contains("--resume")
    ));
    let plan = rollback(&place(), &d, &replica_sets(), Options { resume_paused: true, ..Options::default() })
        .expect("plan");
    assert_eq!(patch(&plan)[2], json!({"op": "replace", "path": "/spec/paused", "value": false}));
    assert!(plan.warnings.iter().any(|w| w.contains("resumes it")));
}

#[test]
fn without_history_there_is_nothing_to_go_back_to() {
    let only = vec![rs(3, "v1.3.0", "2026-11-30T10:00:00Z", "d-1")];
    assert!(matches!(
        rollback(&place(), &deployment("v1.3.0", false), &only, Options::default()),
        Err(PlanError::Refused(m)) if m.contains("no rollout history")
    ));
}

#[test]
fn the_diff_says_what_goes_back() {
    let plan =
        rollback(&place(), &deployment("v1.3.0", false), &replica_sets(), Options::default()).expect("plan");
    let diff: Vec<(String, String, String)> =
        plan.steps[0].diff.iter().map(|d| (d.field.clone(), d.before.clone(), d.after.clone())).collect();
    assert_eq!(
        diff,
        [
            (
                "containers[api].image".to_owned(),
                "registry.example.com/shop/api:v1.3.0".to_owned(),
                "registry.example.com/shop/api:v1.2.0".to_owned()
            ),
            ("containers[api].env.LOG_LEVEL".to_owned(), "debug".to_owned(), "info".to_owned()),
            ("containers[api].resources.limits.memory".to_owned(), "512Mi".to_owned(), "256Mi".to_owned()),
        ]
    );
}

#[test]
fn the_last_known_good_revision_is_one_that_soaked() {
    let d = deployment("v1.3.0", false);
    let choice = last_known_good(&history(&d, &replica_sets())).expect("a choice");
    assert_eq!(choice.revision, 2);
    assert!(choice.why.contains("served at least 10m") && choice.why.contains("(29d)"), "{}", choice.why);

    // v1.2.1 went out and was replaced by v1.3.0 five minutes later: kubectl's previous
    // revision, but not known good; v1.2.0 still is.
    let sets = vec![
        rs(1, "v1.1.0", "2026-10-01T10:00:00Z", "d-1"),
        rs(2, "v1.2.0", "2026-11-01T10:00:00Z", "d-1"),
        rs(3, "v1.2.1", "2026-11-30T09:55:00Z", "d-1"),
        rs(4, "v1.3.0", "2026-11-30T10:00:00Z", "d-1"),
    ];
    let h = history(&d, &sets);
    assert_eq!(previous(&h).map(|r| r.revision), Some(3));
    let choice = last_known_good(&h).expect("a choice");
    assert_eq!(choice.revision, 2, "{choice:?}");

    // Nothing soaked: kubectl's previous revision, and the reason says so.
    let young =
        vec![rs(1, "v1.2.1", "2026-11-30T09:55:00Z", "d-1"), rs(2, "v1.3.0", "2026-11-30T10:00:00Z", "d-1")];
    let choice = last_known_good(&history(&d, &young)).expect("a choice");
    assert_eq!(choice.revision, 1);
    assert!(choice.why.starts_with("the previous revision"), "{}", choice.why);
}

#[test]
fn gitops_controllers_are_named_and_flux_can_be_suspended() {
    let mut d = deployment("v1.3.0", false);
    assert_eq!(gitops(&d), None);
    d["metadata"]["labels"] = json!({"kustomize.toolkit.fluxcd.io/name": "shop", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"});
    let g = gitops(&d).expect("flux");
    assert_eq!(
        g,
        GitOps::Flux { kind: "Kustomization", name: "shop".into(), namespace: "flux-system".into() }
    );
    let plan = rollback(&place(), &d, &replica_sets(), Options::default()).expect("plan");
    assert!(plan.warnings.iter().any(|w| w.contains("managed by Flux (Kustomization flux-system/shop)")));

    let target = g.flux_target(&place()).expect("a Flux object");
    let kustomization = json!({"metadata": {"name": "shop", "namespace": "flux-system", "resourceVersion": "5"}, "spec": {"suspend": false}});
    let suspend_plan = suspend(&place(), target.clone(), &kustomization).expect("plan");
    assert_eq!(suspend_plan.steps[0].patch, PatchBody::Merge(json!({"spec": {"suspend": true}})));
    let done = json!({"metadata": {"name": "shop", "resourceVersion": "6"}, "spec": {"suspend": true}});
    assert!(matches!(suspend(&place(), target, &done), Err(PlanError::Refused(_))));

    let mut argo = deployment("v1.3.0", false);
    argo["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] =
        json!("shop-api:apps/Deployment:shop/api");
    assert_eq!(gitops(&argo), Some(GitOps::ArgoCd { application: "shop-api".into() }));
}
