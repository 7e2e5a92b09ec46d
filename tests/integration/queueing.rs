//! The engine against queueing theory: the shipped `scenarios/validation/` files, run and
//! compared with their closed forms (M/M/1, M/M/c and its P(wait) via Erlang C, M/G/1 via
//! Pollaczek-Khinchine, Erlang B blocking).
//!
//! Tolerances are not picked to pass: each figure is estimated by batch means over the
//! run's intervals (the first interval dropped as warm-up), and the allowed error is
//! 3.5 standard errors of those batch means, about a 99.9% two-sided interval for the 50+
//! batches each run has. Each check also demands that interval be tight (a few percent of
//! the closed form), so a run too short to say anything fails too.

use crate::common::load;
use stormsim::model::CpuCost;
use stormsim::stats::Series;
use stormsim::{simulate, theory};

/// Standard errors allowed either side: ~99.9% two-sided for 50+ batches (t quantile).
const STANDARD_ERRORS: f64 = 3.5;

pub(crate) struct Estimate {
    pub mean: f64,
    pub half_width: f64,
    pub batches: usize,
}

/// Batch means over per-interval values, the first interval dropped as warm-up.
pub(crate) fn batch_means(values: impl IntoIterator<Item = f64>) -> Estimate {
    let values: Vec<f64> = values.into_iter().skip(1).collect();
    let n = values.len() as f64;
    assert!(n >= 30.0, "too few batches ({n}) for an honest interval");
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Estimate { mean, half_width: STANDARD_ERRORS * (variance / n).sqrt(), batches: values.len() }
}

/// Asserts the estimate covers the closed form and is precise enough to mean something.
pub(crate) fn check_queueing(
    label: &str,
    estimate: Estimate,
    closed_form: f64,
    max_relative_half_width: f64,
) {
    let error = estimate.mean - closed_form;
    println!(
        "{label:<32} measured {:>9.4} ± {:.4} ({} batches)   closed form {closed_form:>9.4}   error {:+.2}%",
        estimate.mean,
        estimate.half_width,
        estimate.batches,
        100.0 * error / closed_form
    );
    assert!(
        error.abs() <= estimate.half_width,
        "{label}: measured {:.4} ± {:.4}, closed form {closed_form:.4}",
        estimate.mean,
        estimate.half_width
    );
    assert!(
        estimate.half_width <= max_relative_half_width * closed_form,
        "{label}: interval ±{:.4} too wide to validate {closed_form:.4}; lengthen the run",
        estimate.half_width
    );
}

pub(crate) fn queue_wait_s(series: &Series) -> impl Iterator<Item = f64> + '_ {
    series.rows.iter().filter_map(|row| row.services[0].queue_wait_mean_ms.map(|ms| ms / 1e3))
}

fn cpu_utilisation(series: &Series) -> impl Iterator<Item = f64> + '_ {
    series.rows.iter().map(|row| row.services[0].cpu_utilisation)
}

#[test]
fn mm1_matches_closed_form() {
    let scenario = load("scenarios/validation/mm1.toml");
    let series = simulate(&scenario, 1).series;
    check_queueing(
        "M/M/1 wait in queue (s)",
        batch_means(queue_wait_s(&series)),
        theory::mm1_wait(0.8, 1.0).unwrap(),
        0.08,
    );
    check_queueing(
        "M/M/1 utilisation",
        batch_means(cpu_utilisation(&series)),
        theory::utilisation(0.8, 1.0, 1),
        0.02,
    );
}

#[test]
fn mmc_matches_erlang_c() {
    let scenario = load("scenarios/validation/mmc.toml");
    let output = simulate(&scenario, 1);
    let series = output.series;
    check_queueing(
        "M/M/10 wait in queue (s)",
        batch_means(queue_wait_s(&series)),
        theory::mmc_wait(9.0, 1.0, 10).unwrap(),
        0.08,
    );
    check_queueing(
        "M/M/10 utilisation",
        batch_means(cpu_utilisation(&series)),
        theory::utilisation(9.0, 1.0, 10),
        0.02,
    );
    check_queueing(
        "M/M/10 P(wait)",
        batch_means(series.rows.iter().filter_map(|row| row.services[0].wait_probability)),
        theory::erlang_c(9.0, 10).unwrap(),
        0.03,
    );
    let summary = output.summary;
    let whole_run = summary.services["server"].wait_probability.unwrap();
    assert!((whole_run - theory::erlang_c(9.0, 10).unwrap()).abs() < 0.02, "{whole_run}");
    assert_eq!(summary.services["server"].core_wait_probability, Some(0.0), "cores = workers: no core wait");
}

#[test]
fn mg1_matches_pollaczek_khinchine() {
    let scenario = load("scenarios/validation/mg1.toml");
    let CpuCost::LogNormal { mu, sigma } = scenario.services[0].cpu[0] else {
        panic!("mg1.toml must use a lognormal service time");
    };
    let lambda = match &scenario.sources[0].kind {
        stormsim::model::SourceKind::OpenLoop { profile, .. } => profile.points[0].1,
        stormsim::model::SourceKind::ClosedLoop { .. } => panic!("mg1.toml must have an open source"),
    };
    let mean = (mu + sigma * sigma / 2.0).exp();
    let second_moment = (2.0 * mu + 2.0 * sigma * sigma).exp();
    let series = simulate(&scenario, 1).series;
    check_queueing(
        "M/G/1 (lognormal) wait (s)",
        batch_means(queue_wait_s(&series)),
        theory::mg1_wait(lambda, mean, second_moment).unwrap(),
        0.10,
    );
}

#[test]
fn loss_system_matches_erlang_b() {
    let scenario = load("scenarios/validation/erlang_b.toml");
    let series = simulate(&scenario, 1).series;
    let blocking = series.rows.iter().map(|row| {
        let service = &row.services[0];
        service.rejected as f64 / service.arrived.max(1) as f64
    });
    check_queueing(
        "Erlang B blocking (10 servers, 8 E)",
        batch_means(blocking),
        theory::erlang_b(8.0, 10),
        0.05,
    );
}

/// An M/M/1 queue at rho = 0.9, started empty, over `duration`, with `warmup` deleted.
fn empty_mm1(duration: &str, warmup: Option<&str>) -> stormsim::model::Scenario {
    let warmup = warmup.map(|warmup| format!("warmup = \"{warmup}\"\n")).unwrap_or_default();
    let text = format!(
        "[simulation]\nduration = \"{duration}\"\ninterval = \"5m\"\n{warmup}\n\
         [classes.job]\n\n[sources.arrivals]\nclient = \"caller\"\nrate = \"0.9/s\"\n\n\
         [clients.caller]\ntarget = \"server\"\n\n\
         [services.server]\ninstances = 1\ncores = 1\nworkers = 1\n\
         queue = {{ capacity = \"unbounded\" }}\ncpu = {{ dist = \"exponential\", mean = \"1s\" }}\n"
    );
    stormsim::scenario::load_str(&text, "empty-mm1.toml").unwrap_or_else(|error| panic!("{error}")).scenario
}

/// Issue #18: a queue started empty waits less at first than in its steady state, so a short
/// run underestimates the wait; deleting a warm-up removes most of that bias. The same seeds
/// run with and without the warm-up (identical sample paths: only what is measured differs).
///
/// Measured over seeds 1-400 (40 minutes, 20 deleted): the mean wait in queue is 8.509 s
/// without the warm-up (bias -0.491 s, standard error 0.17 s) and 9.042 s with it (+0.042 s);
/// the mean queue length 7.680 and 8.180 (biases -0.420 and +0.080, closed form 8.1). Over
/// seeds 1001-1400 the biases were -0.499 and -0.115 s: the bias without the warm-up is about
/// three standard errors below zero, and the one left with it at most a quarter of it. The
/// test demands a bias below -0.3 without the warm-up, and less than half of it left with it.
#[test]
fn warm_up_removes_the_initial_transient_of_an_empty_mm1() {
    use stormsim::stats::summary::ServiceSummary;
    const SEEDS: u64 = 400;
    let steady_wait = theory::mm1_wait(0.9, 1.0).unwrap();
    let mean = |scenario: &stormsim::model::Scenario, figure: fn(&ServiceSummary) -> f64| {
        let sum: f64 =
            (1..=SEEDS).map(|seed| figure(&simulate(scenario, seed).summary.services["server"])).sum();
        sum / SEEDS as f64
    };
    let (cold, warmed) = (empty_mm1("40m", None), empty_mm1("40m", Some("20m")));
    let wait: fn(&ServiceSummary) -> f64 = |service| service.queue_wait_ms.mean.unwrap_or(0.0) / 1e3;
    let queue: fn(&ServiceSummary) -> f64 = |service| service.queue_length_mean;
    for (label, figure, steady) in
        [("wait in queue (s)", wait, steady_wait), ("queue length", queue, 0.9 * steady_wait)]
    {
        let (without, with) = (mean(&cold, figure) - steady, mean(&warmed, figure) - steady);
        println!(
            "M/M/1 rho 0.9 from empty, 40 min, {SEEDS} seeds, {label}: closed form {steady:.3}, \
             bias without warm-up {without:+.3}, with 20 min deleted {with:+.3}"
        );
        assert!(without < -0.3, "{label}: starting empty must show: bias {without:+.3}");
        assert!(
            with.abs() < 0.5 * without.abs(),
            "{label}: the warm-up must remove most of the bias: {with:+.3} against {without:+.3}"
        );
    }
}
