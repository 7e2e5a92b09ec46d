//! Events per second of the engine with the full machinery on (request and attempt slabs,
//! histograms, meters, interval series), on the two models of `bench/baseline`:
//! M/M/10 at rho 0.9, and timeout + retries with abandoned work still served.
//!
//! Events are counted as the baseline counts them (arrivals, sends, completions, timeouts,
//! backoff wake-ups), so criterion's "elem/s" compares directly with its
//! `model_events_per_s`. Run: `cargo bench --bench engine`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use stormsim::{scenario, simulate};

fn bench_file(c: &mut Criterion, group_name: &str, file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let loaded = scenario::load(&path).unwrap_or_else(|err| panic!("{err}"));
    let scenario = loaded.scenario;
    let events = simulate(&scenario, 1).summary.engine.events.total;
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("simulate", |b| b.iter(|| black_box(simulate(&scenario, 1))));
    group.finish();
}

fn engine(c: &mut Criterion) {
    bench_file(c, "mmc_lambda9_c10", "scenarios/bench/mmc.toml");
    bench_file(c, "retry_lambda6_c10_t4_k3", "scenarios/bench/retry.toml");
}

criterion_group!(benches, engine);
criterion_main!(benches);
