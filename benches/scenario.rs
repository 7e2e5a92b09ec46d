//! Events per second on the shipped demo scenario (a morning peak that tips into a retry
//! storm): a realistic mix of timeouts, retries, queueing and interval series.
//! Run: `cargo bench --bench scenario`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use stormsim::{scenario, simulate};

fn demo(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml");
    let scenario = scenario::load(&path).unwrap_or_else(|err| panic!("{err}")).scenario;
    let events = simulate(&scenario, 1).summary.engine.events.total;
    let mut group = c.benchmark_group("demo");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("simulate", |b| b.iter(|| black_box(simulate(&scenario, 1))));
    group.finish();
}

criterion_group!(benches, demo);
criterion_main!(benches);
