//! The guard: a release watched against its baseline and judged by the team's rollback
//! decision tree (seed 004, "Deployment Rollback Decision Tree"):
//!
//! ```text
//! ├─ Pods starting successfully?   NO → Check ImagePullBackOff / CrashLoopBackOff fixes
//! ├─ Health checks passing?        NO → Check readiness/liveness probe configuration
//! ├─ Service accessible?           NO → Check Service/Ingress configuration
//! ├─ Error rate normal?            NO → Is it > 1%?  YES → ROLLBACK IMMEDIATELY
//! │                                                  NO  → Monitor closely, prepare rollback
//! ├─ Response time normal?         NO → Is it > 2x baseline?  YES → ROLLBACK
//! │                                                           NO  → Monitor, investigate
//! └─ Deployment SUCCESSFUL ✓
//! ```
//!
//! The tree is a pure function of what is observed ([`tree::Observed`]) and the limits; each
//! node keeps the evidence that decided it.

pub mod baseline;
pub mod observe;
pub mod run;
pub mod tree;

pub use run::{Baseline, Change, Ended, Guard, Outcome};
pub use tree::{Branch, Limits, Node, NodeVerdict, Observed, ServiceSeen, Serving, Tree, Verdict, decide};
