//! Closed forms from queueing theory, the yardstick the engine is validated against.
//!
//! Rates are per second, times in seconds. `a = lambda / mu` is the offered load in
//! Erlangs. Each function returns `None` where the queue is unstable (`rho >= 1`).

/// Erlang B: probability an arrival finds all `c` servers busy in a loss system (M/M/c/c).
/// Computed with the stable recursion `B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))`.
pub fn erlang_b(a: f64, c: u32) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

/// Erlang C: probability an arrival must wait in M/M/c.
pub fn erlang_c(a: f64, c: u32) -> Option<f64> {
    let rho = a / c as f64;
    if rho >= 1.0 {
        return None;
    }
    let b = erlang_b(a, c);
    Some(b / (1.0 - rho * (1.0 - b)))
}

/// Mean wait in queue (before service) of M/M/c, FIFO.
pub fn mmc_wait(lambda: f64, mu: f64, c: u32) -> Option<f64> {
    erlang_c(lambda / mu, c).map(|p_wait| p_wait / (c as f64 * mu - lambda))
}

/// Mean wait in queue of M/M/1: `rho / (mu - lambda)`.
pub fn mm1_wait(lambda: f64, mu: f64) -> Option<f64> {
    let rho = lambda / mu;
    (rho < 1.0).then(|| rho / (mu - lambda))
}

/// Mean wait in queue of M/G/1 (Pollaczek-Khinchine): `lambda E[S^2] / (2 (1 - rho))`,
/// given the service time's first two moments.
pub fn mg1_wait(lambda: f64, mean_service: f64, second_moment: f64) -> Option<f64> {
    let rho = lambda * mean_service;
    (rho < 1.0).then(|| lambda * second_moment / (2.0 * (1.0 - rho)))
}

/// Server utilisation `lambda / (c mu)`.
pub fn utilisation(lambda: f64, mu: f64, c: u32) -> f64 {
    lambda / (c as f64 * mu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_published_values() {
        // M/M/1, lambda 0.8, mu 1: Wq = 4.
        assert!((mm1_wait(0.8, 1.0).unwrap() - 4.0).abs() < 1e-12);
        // Erlang C at c = 1 is rho; M/M/c at c = 1 is M/M/1.
        assert!((erlang_c(0.8, 1).unwrap() - 0.8).abs() < 1e-12);
        assert!((mmc_wait(0.8, 1.0, 1).unwrap() - 4.0).abs() < 1e-12);
        // M/M/10, lambda 9 (bench/analytic.py): P(wait) 0.668732, Wq 0.668732.
        assert!((erlang_c(9.0, 10).unwrap() - 0.668_732).abs() < 1e-6);
        assert!((mmc_wait(9.0, 1.0, 10).unwrap() - 0.668_732).abs() < 1e-6);
        // Erlang B tables: B(10 servers, 8 Erlangs) = 0.12166.
        assert!((erlang_b(8.0, 10) - 0.121_661).abs() < 1e-6);
        // P-K with exponential service (E[S^2] = 2) reduces to M/M/1.
        assert!((mg1_wait(0.8, 1.0, 2.0).unwrap() - 4.0).abs() < 1e-12);
        // Deterministic service halves the wait (M/D/1).
        assert!((mg1_wait(0.8, 1.0, 1.0).unwrap() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn unstable_queues_have_no_answer() {
        assert_eq!(mm1_wait(1.0, 1.0), None);
        assert_eq!(mmc_wait(10.0, 1.0, 10), None);
        assert_eq!(mg1_wait(2.0, 0.5, 1.0), None);
    }
}
