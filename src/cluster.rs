//! The kube adapter: one client per environment, and the tasks that watch each cluster.
//!
//! This is the only layer that talks to a cluster. Its tasks send compact snapshots back to
//! the app over a channel; a failure becomes state ("unreachable", "misconfigured"), never a
//! panic and never a stalled UI.

pub mod checklist;
mod connect;
mod errors;
pub mod guard;
mod kubeconfig;
pub mod lease;
pub mod logs;
pub mod metrics;
pub mod ops;
pub mod plugin;
mod pulse;
pub mod records;
mod task;
pub mod watch;

pub use connect::{ConnectError, ConnectTimeouts, EnvClients, connect};
pub use errors::summarize;
pub use kubeconfig::{KubeconfigSource, context_names, load_kubeconfig};
pub use pulse::Pulse;
pub use task::{EnvUpdate, EnvWatch, ServerInfo, Snapshot, spawn_environment};
