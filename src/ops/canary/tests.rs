use serde_json::json;

use super::*;
use crate::config::Protection;

fn place() -> Place<'static> {
    Place { env: "production", context: "prod", app: "api", protection: Protection::Typed }
}

fn deployment(name: &str, replicas: i64, image: &str, track: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "shop", "resourceVersion": "7"},
        "spec": {"replicas": replicas, "template": {
            "metadata": {"labels": {"app": "api", "track": track}},
            "spec": {"containers": [{"name": "api", "image": image}]}}}
    })
}

fn route(stable: i64, canary: i64) -> Value {
    json!({
        "metadata": {"name": "api", "namespace": "shop", "resourceVersion": "9"},
        "spec": {"rules": [{"backendRefs": [
            {"name": "api", "port": 80, "weight": stable},
            {"name": "api-canary", "port": 80, "weight": canary}]}]}
    })
}

fn ingress(weight: &str) -> Value {
    json!({"metadata": {"name": "web-canary", "namespace": "shop", "resourceVersion": "4", "annotations": {
        "nginx.ingress.kubernetes.io/canary": "true",
        "nginx.ingress.kubernetes.io/canary-weight": weight}}})
}

fn gateway() -> CanaryTarget {
    CanaryTarget::GatewayApi {
        route: "api".into(),
        stable_service: "api".into(),
        canary_service: "api-canary".into(),
        canary_deployment: "api-canary".into(),
    }
}

fn nginx() -> CanaryTarget {
    CanaryTarget::NginxIngress { ingress: "web-canary".into(), canary_deployment: "web-canary".into() }
}

fn replicas_provider() -> CanaryTarget {
    CanaryTarget::Replicas { canary_deployment: "api-canary".into() }
}

#[test]
fn each_provider_reads_its_weight() {
    let (stable, canary) =
        (deployment("api", 3, "api:v1", "stable"), deployment("api-canary", 1, "api:v2", "canary"));
    let r = route(90, 10);
    let objects = Objects { stable: &stable, canary: &canary, router: Some(&r) };
    assert_eq!(read_weight(&gateway(), &objects), Ok(Weight { percent: 10, approximate: false }));
    let i = ingress("25");
    let objects = Objects { router: Some(&i), ..objects };
    assert_eq!(read_weight(&nginx(), &objects), Ok(Weight { percent: 25, approximate: false }));
    assert_eq!(read_weight(&replicas_provider(), &objects), Ok(Weight { percent: 25, approximate: true }));
    let bad = ingress("150");
    assert!(read_weight(&nginx(), &Objects { router: Some(&bad), ..objects }).is_err(), "150 is no weight");
}

#[test]
fn steps_go_up_and_down_the_plan() {
    let steps = [10, 25, 50, 100];
    assert_eq!(step_up(&steps, 0), Some(10));
    assert_eq!(step_up(&steps, 30), Some(50), "between steps, up is the next one");
    assert_eq!(step_up(&steps, 100), None);
    assert_eq!(step_down(&steps, 25), Some(10));
    assert_eq!(step_down(&steps, 10), Some(0));
    assert_eq!(step_down(&steps, 0), None);
}

#[test]
fn a_route_keeps_its_total_and_patches_both_weights() {
    let (stable, canary) =
        (deployment("api", 3, "api:v1", "stable"), deployment("api-canary", 1, "api:v2", "canary"));
    let r = route(900, 100);
    let objects = Objects { stable: &stable, canary: &canary, router: Some(&r) };
    let plan = set_weight(&place(), Operation::CanaryStep, &gateway(), &objects, 25).expect("plan");
    assert_eq!(plan.steps.len(), 1);
    let step = &plan.steps[0];
    assert_eq!(step.from_resource_version, "9");
    assert_eq!(
        step.patch,
        PatchBody::Json(vec![
            json!({"op": "replace", "path": "/spec/rules/0/backendRefs/0/weight", "value": 750}),
            json!({"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 250}),
        ])
    );
}

#[test]
fn nginx_weight_is_an_annotation_and_the_same_weight_is_refused() {
    let (stable, canary) =
        (deployment("web", 3, "web:v1", "stable"), deployment("web-canary", 1, "web:v2", "canary"));
    let i = ingress("10");
    let objects = Objects { stable: &stable, canary: &canary, router: Some(&i) };
    let plan = set_weight(&place(), Operation::CanaryAbort, &nginx(), &objects, 0).expect("plan");
    assert_eq!(plan.steps[0].diff[0].after, "0");
    assert!(matches!(
        set_weight(&place(), Operation::CanarySet, &nginx(), &objects, 10),
        Err(PlanError::Refused(_))
    ));
}

#[test]
fn raising_traffic_to_a_canary_with_no_pods_is_refused() {
    let (stable, canary) =
        (deployment("api", 3, "api:v1", "stable"), deployment("api-canary", 0, "api:v2", "canary"));
    let r = route(100, 0);
    let objects = Objects { stable: &stable, canary: &canary, router: Some(&r) };
    let refused = set_weight(&place(), Operation::CanaryStep, &gateway(), &objects, 10);
    assert!(matches!(refused, Err(PlanError::Refused(m)) if m.contains("0 replicas")));
}

#[test]
fn the_replica_ratio_grows_one_side_before_shrinking_the_other() {
    let (stable, canary) =
        (deployment("api", 3, "api:v1", "stable"), deployment("api-canary", 1, "api:v2", "canary"));
    let objects = Objects { stable: &stable, canary: &canary, router: None };
    let up = set_weight(&place(), Operation::CanaryStep, &replicas_provider(), &objects, 50).expect("plan");
    let names: Vec<(&str, &str)> =
        up.steps.iter().map(|s| (s.target.name.as_str(), s.diff[0].after.as_str())).collect();
    assert_eq!(names, [("api-canary", "2"), ("api", "2")], "canary up first, then stable down");
    let abort =
        set_weight(&place(), Operation::CanaryAbort, &replicas_provider(), &objects, 0).expect("plan");
    let names: Vec<(&str, &str)> =
        abort.steps.iter().map(|s| (s.target.name.as_str(), s.diff[0].after.as_str())).collect();
    assert_eq!(names, [("api", "4"), ("api-canary", "0")], "stable up first, then canary down");
}

#[test]
fn promotion_rolls_stable_out_then_drains_then_scales_the_canary_down() {
    let (stable, canary) =
        (deployment("api", 3, "api:v1", "stable"), deployment("api-canary", 1, "api:v2", "canary"));
    let r = route(90, 10);
    let objects = Objects { stable: &stable, canary: &canary, router: Some(&r) };
    let plan = promote(&place(), &gateway(), &objects).expect("plan");
    let order: Vec<(&str, &str)> =
        plan.steps.iter().map(|s| (s.target.kind.name(), s.target.name.as_str())).collect();
    assert_eq!(order, [("Deployment", "api"), ("HTTPRoute", "api"), ("Deployment", "api-canary")]);
    assert_eq!(plan.steps[0].verify, Verify::RolloutComplete, "traffic moves only once stable is ready");
    let PatchBody::Json(ops) = &plan.steps[0].patch else { panic!("a JSON patch") };
    assert_eq!(ops[0]["value"]["spec"]["containers"][0]["image"], "api:v2");
    assert_eq!(ops[0]["value"]["metadata"]["labels"]["track"], "stable", "stable keeps its own labels");
}
