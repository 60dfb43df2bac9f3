use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::checklist::Report;
use crate::config::Protection;
use crate::ops::Place;

fn env(extra: &str) -> crate::config::Environment {
    let text = format!(
        "[[environments]]\nname = \"production\"\ncontext = \"p\"\nprotection = \"typed\"\n{extra}\n[[environments.windows]]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\"]\nstart = \"10:00\"\nend = \"16:00\"\ntime_zone = \"Europe/Paris\"\n"
    );
    crate::config::parse(Path::new("p.toml"), &text).expect("valid").environments.remove(0)
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("timestamp")
}

/// Thursday 10:30 in Paris, and Saturday noon.
const OPEN: &str = "2026-11-19T09:30:00Z";
const CLOSED: &str = "2026-11-21T11:00:00Z";

fn plan(operation: Operation) -> Plan {
    let place = Place { env: "production", context: "p", app: "web", protection: Protection::Typed };
    Plan::for_app(operation, &place, Vec::new())
}

fn signed(version: &str, at_time: &str) -> Report {
    let checklist = crate::checklist::model::parse(
        "t",
        "name = \"t\"\n[[sections]]\ntitle = \"s\"\n[[sections.items]]\ntext = \"x\"\n",
    )
    .expect("checklist");
    let mut report = Report::new(&checklist, "production", at(at_time));
    report.targets = BTreeMap::from([("web".to_owned(), version.to_owned())]);
    report.signed_by = Some("alice".into());
    report.signed_at = Some(at(at_time));
    report
}

#[test]
fn an_unsigned_promotion_is_refused_and_a_signed_one_goes_ahead() {
    let e = env("require_checklist = \"12h\"");
    let none: Vec<Report> = Vec::new();
    let decision = decide(&plan(Operation::CanaryPromote), &Rules::of(&e, &none), Some("v1.3.0"), at(OPEN));
    assert!(
        matches!(&decision, Decision::Refused(why) if why.contains("requires a checklist signed within 12h for web v1.3.0")),
        "{decision:?}"
    );

    let reports = vec![signed("v1.3.0", "2026-11-19T08:00:00Z")];
    assert_eq!(
        decide(&plan(Operation::CanaryPromote), &Rules::of(&e, &reports), Some("v1.3.0"), at(OPEN)),
        Decision::Go
    );

    let other = vec![signed("v1.2.9", "2026-11-19T08:00:00Z")];
    assert!(matches!(
        decide(&plan(Operation::CanaryStep), &Rules::of(&e, &other), Some("v1.3.0"), at(OPEN)),
        Decision::Refused(why) if why.contains("covers web v1.2.9, not v1.3.0")
    ));
    let stale = vec![signed("v1.3.0", "2026-11-18T08:00:00Z")];
    assert!(
        matches!(
            decide(&plan(Operation::CanaryStep), &Rules::of(&e, &stale), Some("v1.3.0"), at(OPEN)),
            Decision::Refused(_)
        ),
        "25h old"
    );
}

#[test]
fn an_emergency_rollback_is_never_blocked_only_recorded() {
    let e = env("require_checklist = \"12h\"\nenforce_windows = true");
    let none: Vec<Report> = Vec::new();
    for operation in [Operation::Rollback, Operation::CanaryAbort, Operation::Pause] {
        assert_eq!(
            decide(&plan(operation), &Rules::of(&e, &none), None, at(OPEN)),
            Decision::Go,
            "{operation:?}"
        );
        assert!(
            matches!(decide(&plan(operation), &Rules::of(&e, &none), None, at(CLOSED)), Decision::Emergency(why) if why.ends_with("outside deployment windows")),
            "{operation:?}"
        );
    }
}

#[test]
fn outside_a_window_more_risk_needs_a_reason_or_is_refused_where_enforced() {
    let lenient = env("");
    let none: Vec<Report> = Vec::new();
    assert_eq!(
        decide(&plan(Operation::Restart), &Rules::of(&lenient, &none), None, at(CLOSED)),
        Decision::NeedsReason("restart outside deployment windows".into())
    );
    let strict = env("enforce_windows = true");
    assert!(matches!(
        decide(&plan(Operation::Restart), &Rules::of(&strict, &none), None, at(CLOSED)),
        Decision::Refused(_)
    ));
    assert_eq!(decide(&plan(Operation::Restart), &Rules::of(&strict, &none), None, at(OPEN)), Decision::Go);
}
