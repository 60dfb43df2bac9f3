//! opsdeck: a terminal operations console for Kubernetes deployment windows.
//!
//! Layers (see DESIGN.md): `config` reads and checks the TOML; `cluster` is the only code that
//! talks to Kubernetes; the domain is pure — `health`, `metrics`, `ops` (plans for every write,
//! canary, rollback, the policy), `checklist`, `windows`, `audit`'s records; `engine` is the
//! one operation path every write takes (prepare: every decision; execute: write, verify,
//! audit); `app` holds state and the pure reducer; `ui` draws; `console` runs the console
//! without its terminal and `tui` gives it one; `commands` is the command line, a thin adapter
//! over the engine.

pub mod app;
pub mod audit;
pub mod checklist;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod console;
pub mod engine;
pub mod exit;
pub mod guard;
pub mod health;
pub mod logging;
pub mod logs;
pub mod metrics;
pub mod ops;
pub mod team;
pub mod tui;
pub mod ui;
pub mod windows;
pub mod words;
