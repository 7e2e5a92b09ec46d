//! Events per second of the engine with the full machinery on (request and attempt slabs,
//! histograms, meters, interval series), in process, on the three models of
//! `bench/baseline` (`scenarios/bench/`): M/M/1 at rho 0.8, M/M/10 at rho 0.9, and timeout +
//! retries with abandoned work still served, each at its scenario's seed.
//!
//! Events are counted as the loop counts them, so criterion's "elem/s" compares with its
//! `model_events_per_s`: on M/M/c arrivals and completions (a send is part of its arrival,
//! so `events.total`, which adds sends, would overstate the rate by half); in the retry
//! model also sends, timeouts and backoff wake-ups (`events.total`). For the side-by-side
//! figures quoted in the README, run `benches/compare-with-loop.sh`.
//! Run: `cargo bench --bench engine`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use stormsim::stats::Summary;
use stormsim::{scenario, simulate};

/// Which events the loop counts in a model.
#[derive(Clone, Copy)]
enum Counting {
    /// M/M/c: arrivals and completions.
    ArrivalsAndCompletions,
    /// The retry model: every model event (`events.total`).
    AllModelEvents,
}

fn loop_events(summary: &Summary, counting: Counting) -> u64 {
    let events = &summary.engine.events;
    match counting {
        Counting::ArrivalsAndCompletions => events.arrivals + events.completions,
        Counting::AllModelEvents => events.total,
    }
}

fn bench_file(c: &mut Criterion, group_name: &str, file: &str, counting: Counting) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let loaded = scenario::load(&path).unwrap_or_else(|err| panic!("{err}"));
    let scenario = loaded.scenario;
    let seed = scenario.seed;
    let summary = simulate(&scenario, seed).summary;
    assert!(!summary.partial, "{file} at seed {seed} must run to its end (a stable seed)");
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(loop_events(&summary, counting)));
    group.bench_function("simulate", |b| b.iter(|| black_box(simulate(&scenario, seed))));
    group.finish();
}

fn engine(c: &mut Criterion) {
    bench_file(c, "mm1_lambda0.8", "scenarios/bench/mm1.toml", Counting::ArrivalsAndCompletions);
    bench_file(c, "mmc_lambda9_c10", "scenarios/bench/mmc.toml", Counting::ArrivalsAndCompletions);
    bench_file(c, "retry_lambda6_c10_t4_k3", "scenarios/bench/retry.toml", Counting::AllModelEvents);
}

criterion_group!(benches, engine);
criterion_main!(benches);
