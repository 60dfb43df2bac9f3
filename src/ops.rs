//! Operations: every write opsdeck makes, as pure values. A [`Plan`] says exactly what will
//! change, on which object, computed from which resourceVersion; the cluster layer authorizes,
//! dry-runs, executes and verifies it, and the audit log records it. Nothing here does I/O.

pub mod canary;
mod confirm;
pub mod controllers;
mod deployment;
mod plan;
pub mod policy;
pub mod release;
mod request;
pub mod rollback;

pub use confirm::{ConfirmError, Confirmation, check_typed};
pub use deployment::{Place, pause, restart, resume};
pub use plan::{
    DiffLine, FLEET_TYPED_NAME, Guard, Kind, Operation, PatchBody, Plan, PlanError, ProxyCall, ProxyCheck,
    Scope, Step, Target, Verify, Via,
};
pub use request::CanaryRequest;
