//! opsdeck: a terminal operations console for Kubernetes deployment windows.
//!
//! Layers (see DESIGN.md): `config` reads and checks the TOML; `cluster` is the only code that
//! talks to Kubernetes; `app` holds state and the pure reducer; `ui` draws; `commands` wires
//! the command line to all of them.

pub mod app;
pub mod audit;
pub mod checklist;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod console;
pub mod demo;
pub mod exit;
pub mod health;
pub mod logging;
pub mod metrics;
pub mod ops;
pub mod runner;
pub mod tui;
pub mod ui;
pub mod windows;
