//! The health model over one environment of 5,000 pods: what every snapshot costs.

use criterion::{Criterion, criterion_group, criterion_main};
use opsdeck::health::{AppSpec, assess};

#[path = "fixture.rs"]
mod fixture;

fn bench(c: &mut Criterion) {
    let now = jiff::Timestamp::now();
    let inventory = fixture::inventory(5_000, now);
    let apps: Vec<AppSpec<'_>> = ["web", "api", "worker"]
        .iter()
        .map(|name| AppSpec { name, namespace: "shop", deployment: name, canary: None })
        .collect();
    c.bench_function("assess 5000 pods", |b| {
        b.iter(|| assess("production", &apps, std::hint::black_box(&inventory), now));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
