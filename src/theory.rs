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

/// G/M/1 whose gaps between arrivals are gamma with mean `1 / lambda` and coefficient of
/// variation `cv` (cv = 1 is M/M/1): the probability an arrival waits, `sigma`, the root in
/// (0, 1) of `sigma = A*(mu (1 - sigma))` with `A*(s) = (k lambda / (k lambda + s))^k` the
/// gaps' Laplace transform, `k = 1 / cv^2` (Kleinrock, Queueing Systems I, 6.4); found by
/// iterating from 0, which increases to it.
pub fn gamma_m1_wait_probability(lambda: f64, mu: f64, cv: f64) -> Option<f64> {
    if lambda >= mu || cv.is_nan() || cv <= 0.0 {
        return None;
    }
    let k = 1.0 / (cv * cv);
    let transform = |s: f64| (k * lambda / (k * lambda + s)).powf(k);
    let mut sigma = 0.0;
    for _ in 0..100_000 {
        let next = transform(mu * (1.0 - sigma));
        if (next - sigma).abs() < 1e-15 {
            return Some(next);
        }
        sigma = next;
    }
    Some(sigma)
}

/// Mean wait in queue of that G/M/1: `sigma / (mu (1 - sigma))`.
pub fn gamma_m1_wait(lambda: f64, mu: f64, cv: f64) -> Option<f64> {
    gamma_m1_wait_probability(lambda, mu, cv).map(|sigma| sigma / (mu * (1.0 - sigma)))
}

/// Kingman's approximation of the mean wait in a G/G/1 queue: `rho / (1 - rho) x (ca^2 +
/// cs^2) / 2 x E[S]`, from the coefficients of variation of the gaps and of service.
pub fn kingman_wait(lambda: f64, mean_service: f64, ca: f64, cs: f64) -> Option<f64> {
    let rho = lambda * mean_service;
    (rho < 1.0).then(|| rho / (1.0 - rho) * (ca * ca + cs * cs) / 2.0 * mean_service)
}

/// A closed loop of `users` around one FIFO server with exponential service of mean
/// `service` and a think time of mean `think` (any law): the throughput and mean response
/// time by exact mean value analysis (Reiser and Lavenberg), for n = 1..users:
/// `R(n) = S (1 + Q(n-1))`, `X(n) = n / (R(n) + Z)`, `Q(n) = X(n) R(n)`.
pub fn mva_single_server(users: u32, service: f64, think: f64) -> (f64, f64) {
    let (mut throughput, mut response, mut queue) = (0.0, 0.0, 0.0);
    for n in 1..=users {
        response = service * (1.0 + queue);
        throughput = n as f64 / (response + think);
        queue = throughput * response;
    }
    (throughput, response)
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
    fn gm1_and_closed_loops_reduce_to_known_cases() {
        // Exponential gaps: M/M/1.
        assert!((gamma_m1_wait(0.8, 1.0, 1.0).unwrap() - 4.0).abs() < 1e-9);
        assert!((gamma_m1_wait_probability(0.8, 1.0, 1.0).unwrap() - 0.8).abs() < 1e-12);
        // Erlang-2 gaps (cv^2 = 1/2), lambda 0.5, mu 1: sigma = (1/(1 + 1 - sigma))^2 has the
        // root (3 - sqrt 5) / 2 = 0.381966.
        let sigma = gamma_m1_wait_probability(0.5, 1.0, 0.5f64.sqrt()).unwrap();
        assert!((sigma - (3.0 - 5f64.sqrt()) / 2.0).abs() < 1e-12, "{sigma}");
        // Burstier gaps wait longer; Kingman is exact for M/M/1.
        assert!(gamma_m1_wait(0.7, 1.0, 2.0).unwrap() > gamma_m1_wait(0.7, 1.0, 1.0).unwrap());
        assert!((kingman_wait(0.8, 1.0, 1.0, 1.0).unwrap() - 4.0).abs() < 1e-12);
        // One user never queues: R = S, X = 1 / (S + Z).
        let (x, r) = mva_single_server(1, 0.04, 1.0);
        assert!((r - 0.04).abs() < 1e-12 && (x - 1.0 / 1.04).abs() < 1e-12);
        // Many users saturate the server: X -> 1 / S, and Little's law holds: N = X (R + Z).
        let (x, r) = mva_single_server(200, 0.04, 1.0);
        assert!((x - 25.0).abs() < 1e-6, "{x}");
        assert!((x * (r + 1.0) - 200.0).abs() < 1e-9);
    }

    #[test]
    fn unstable_queues_have_no_answer() {
        assert_eq!(mm1_wait(1.0, 1.0), None);
        assert_eq!(mmc_wait(10.0, 1.0, 10), None);
        assert_eq!(mg1_wait(2.0, 0.5, 1.0), None);
    }
}
