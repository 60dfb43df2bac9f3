//! One overview frame at 200x50 with three environments of 5,000 pods each.

use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use opsdeck::app::{Action, State, update};
use opsdeck::cluster::{EnvUpdate, Snapshot};
use opsdeck::health::{AppSpec, assess};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "fixture.rs"]
mod fixture;

const CONFIG: &str = r#"
[[environments]]
name = "local"
context = "local"
[[environments]]
name = "staging"
context = "staging"
[[environments]]
name = "production"
context = "production"
protection = "typed"
[[apps]]
name = "web"
deployment = "web"
[[apps]]
name = "api"
deployment = "api"
[[apps]]
name = "worker"
deployment = "worker"
"#;

fn bench(c: &mut Criterion) {
    let config = opsdeck::config::parse(Path::new("bench.toml"), CONFIG).expect("config");
    let mut state = State::new(
        std::sync::Arc::new(opsdeck::config::Fleet::resolve(config.clone())),
        false,
        jiff::Timestamp::now(),
    );
    let now = jiff::Timestamp::now();
    let apps: Vec<AppSpec<'_>> = ["web", "api", "worker"]
        .iter()
        .map(|name| AppSpec { name, namespace: "shop", deployment: name, canary: None })
        .collect();
    for index in 0..3 {
        let inventory = fixture::inventory(5_000, now);
        let health = assess("env", &apps, &inventory, now);
        let snapshot =
            Arc::new(Snapshot { inventory, health, watch_error: None, stale: None, reads_services: true });
        update(&mut state, Action::Env { index, update: EnvUpdate::Health(snapshot) });
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    c.bench_function("overview frame 200x50, 3 x 5000 pods", |b| {
        b.iter(|| terminal.draw(|frame| opsdeck::ui::render(frame, std::hint::black_box(&state))).map(drop));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
