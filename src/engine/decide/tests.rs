use super::*;
use crate::config::Protection;
use crate::ops::{Operation, Place};

fn plan(operation: Operation, protection: Protection) -> Plan {
    let place = Place { env: "production", context: "p", app: "web", protection };
    Plan::for_app(operation, &place, Vec::new())
}

fn facts<'a>(plan: &'a Plan, origin: &'a Origin, rule: policy::Decision, traffic: Traffic) -> Facts<'a> {
    Facts { plan, readonly: false, origin, policy: vec![("production".into(), rule)], traffic }
}

fn failing() -> Verdict {
    Verdict::Fail(vec!["error rate 4.10% above 1.00%".into()])
}

#[test]
fn the_first_step_waits_for_ready_pods_and_never_for_metrics() {
    let p = plan(Operation::CanaryStep, Protection::Confirm);
    let operator = Origin::Operator;
    let ready = decide(&facts(&p, &operator, policy::Decision::Go, Traffic::FirstStep(Ok(())))).expect("go");
    assert_eq!(ready.confirmation, Confirmation::YesNo, "no override on a first step with ready pods");
    assert_eq!(ready.needs_override, None);
    let waiting = Traffic::FirstStep(Err("the canary's pods are not ready (0/2 available)".into()));
    let refused = decide(&facts(&p, &operator, policy::Decision::Go, waiting)).expect_err("refused");
    assert!(matches!(&refused, Refusal::Precondition(m) if m.contains("0/2 available")), "{refused:?}");
}

#[test]
fn later_steps_are_gated_on_the_analysis_and_auto_mode_never_overrides() {
    let p = plan(Operation::CanaryStep, Protection::Confirm);
    let operator = Origin::Operator;
    let gated = decide(&facts(&p, &operator, policy::Decision::Go, Traffic::Analysis(Some(failing()))))
        .expect("decided");
    assert_eq!(gated.confirmation, Confirmation::Reason, "an override always takes a reason");
    assert!(gated.needs_override.as_deref().is_some_and(|g| g.starts_with("verdict fail: error rate")));
    let passing = decide(&facts(&p, &operator, policy::Decision::Go, Traffic::Analysis(Some(Verdict::Pass))))
        .expect("go");
    assert_eq!(passing.needs_override, None);
    let no_figures =
        decide(&facts(&p, &operator, policy::Decision::Go, Traffic::Analysis(None))).expect("decided");
    assert_eq!(no_figures.needs_override.as_deref(), Some("verdict not enough data: no canary figures"));
    let auto = Origin::Auto { reason: "auto mode: passing".into() };
    assert!(matches!(
        decide(&facts(&p, &auto, policy::Decision::Go, Traffic::Analysis(Some(failing())))),
        Err(Refusal::Precondition(m)) if m.contains("never overrides")
    ));
    let auto_pass =
        decide(&facts(&p, &auto, policy::Decision::Go, Traffic::Analysis(Some(Verdict::Pass)))).expect("go");
    assert_eq!(auto_pass.confirmation, Confirmation::None, "auto mode was confirmed when turned on");
}

#[test]
fn an_answer_must_cover_what_the_decision_asks_and_the_record_says_what_it_overrode() {
    let p = plan(Operation::CanaryStep, Protection::Confirm);
    let operator = Origin::Operator;
    let gated = decide(&facts(&p, &operator, policy::Decision::Go, Traffic::Analysis(Some(failing()))))
        .expect("decided");
    assert!(matches!(check(&gated, &Answer::default()), Err(AnswerError::NotConfirmed { .. })));
    let no_override = Answer { confirmed: true, reason: Some("release 1.3".into()), ..Answer::default() };
    assert!(matches!(check(&gated, &no_override), Err(AnswerError::NoOverride { .. })));
    let answered = Answer {
        confirmed: true,
        reason: Some("release 1.3".into()),
        override_reason: Some("load test".into()),
        take_over: false,
    };
    let recorded = check(&gated, &answered).expect("enough").expect("a reason");
    assert!(recorded.starts_with("override (verdict fail: error rate 4.10% above 1.00%): load test"));
    assert!(recorded.ends_with("; release 1.3"));

    let outside = policy::Decision::NeedsReason("restart outside deployment windows".into());
    let restart = plan(Operation::Restart, Protection::None);
    let decided = decide(&facts(&restart, &operator, outside, Traffic::NotRaised)).expect("decided");
    assert_eq!(decided.emergency("production"), Some("restart outside deployment windows"));
    let yes = Answer { confirmed: true, ..Answer::default() };
    assert!(matches!(check(&decided, &yes), Err(AnswerError::NoReason { why: Some(_) })));
    let with_reason = Answer { reason: Some("hotfix".into()), ..yes };
    assert_eq!(check(&decided, &with_reason), Ok(Some("hotfix".into())));
}

#[test]
fn read_only_and_refused_windows_stop_everything() {
    let p = plan(Operation::Pause, Protection::Typed);
    let operator = Origin::Operator;
    let mut read_only = facts(&p, &operator, policy::Decision::Go, Traffic::NotRaised);
    read_only.readonly = true;
    assert!(matches!(decide(&read_only), Err(Refusal::Forbidden(m)) if m.contains("read-only")));
    let enforced = policy::Decision::Refused("production is outside deployment windows".into());
    assert!(matches!(
        decide(&facts(&p, &operator, enforced, Traffic::NotRaised)),
        Err(Refusal::Precondition(_))
    ));
}
