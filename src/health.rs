//! The health model: compact records of what the watchers see ([`inventory`]), and pure
//! functions from them to verdicts with reasons ([`assess`]) and to version drift across
//! environments ([`drift`]).

pub mod assess;
pub mod colours;
pub mod drift;
pub mod from_k8s;
pub mod gitops;
pub mod inventory;
pub mod rollout;
pub mod verdict;

pub use assess::{AppSpec, assess, image_tag};
pub use drift::{Drift, drift};
pub use inventory::Inventory;
pub use verdict::{AppHealth, EnvHealth, Verdict};
