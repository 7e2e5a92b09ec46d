//! Statistics over replications: the mean of independent runs with a Student t confidence
//! interval, and paired differences of two configurations run on the same seeds (common
//! random numbers).
//!
//! Invariant: an interval needs at least two values; with fewer, `Estimate::interval` is
//! `None` and nothing downstream may call a difference significant.

use serde::Serialize;

/// The mean of a sample and, with two values or more, a two-sided confidence interval for
/// it from Student's t distribution with n - 1 degrees of freedom.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); `None` below two values.
    pub std_dev: Option<f64>,
    /// `(low, high)` at the requested confidence; `None` below two values.
    pub interval: Option<(f64, f64)>,
}

impl Estimate {
    /// The estimate of `values` at `confidence` (0.95 for a 95% interval); `None` when
    /// `values` is empty or holds a non-finite value.
    pub fn of(values: &[f64], confidence: f64) -> Option<Estimate> {
        let n = values.len();
        if n == 0 || values.iter().any(|value| !value.is_finite()) {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Some(Estimate { n, mean, std_dev: None, interval: None });
        }
        let variance = values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std_dev = variance.sqrt();
        let half_width = t_quantile(0.5 + confidence / 2.0, (n - 1) as f64) * std_dev / (n as f64).sqrt();
        Some(Estimate {
            n,
            mean,
            std_dev: Some(std_dev),
            interval: Some((mean - half_width, mean + half_width)),
        })
    }

    /// Half the width of the interval.
    pub fn half_width(&self) -> Option<f64> {
        self.interval.map(|(low, high)| (high - low) / 2.0)
    }
}

/// The estimate of `variant - baseline` over pairs run on the same seed; pairs where either
/// side has no value are left out.
pub fn paired_difference(
    baseline: &[Option<f64>],
    variant: &[Option<f64>],
    confidence: f64,
) -> Option<Estimate> {
    let differences: Vec<f64> =
        baseline.iter().zip(variant).filter_map(|(base, other)| Some((*other)? - (*base)?)).collect();
    Estimate::of(&differences, confidence)
}

/// The standard normal quantile of a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Wilson's score interval for a proportion: `hits` of `n` trials, at the confidence whose
/// two-sided normal quantile is `z`. Unlike the normal approximation it stays inside
/// [0, 1] and is not empty at 0 or n hits, which are the usual shares of a small sample
/// (Wilson 1927; Brown, Cai and DasGupta 2001 recommend it for n < 40). `None` for n = 0.
pub fn wilson(hits: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (n, p) = (n as f64, hits as f64 / n as f64);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The `p` quantile of Student's t distribution with `dof` degrees of freedom (`dof` > 0,
/// 0 < p < 1), by bisection on the distribution function.
pub fn t_quantile(p: f64, dof: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, dof);
    }
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    while t_cdf(high, dof) < p && high < 1e12 {
        high *= 2.0;
    }
    for _ in 0..200 {
        let mid = (low + high) / 2.0;
        if t_cdf(mid, dof) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + high) / 2.0
}

/// P(T <= t) for Student's t with `dof` degrees of freedom.
fn t_cdf(t: f64, dof: f64) -> f64 {
    let tail = 0.5 * regularized_beta(dof / (dof + t * t), dof / 2.0, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction
/// (Numerical Recipes, 3rd ed., section 6.4).
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of the incomplete beta function, by Lentz's method.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut res = d;
    for m in 1..300 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        for coefficient in [even, -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))] {
            d = 1.0 + coefficient * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            res *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    res
}

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, nine coefficients).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = COEFFICIENTS[1..]
        .iter()
        .enumerate()
        .fold(COEFFICIENTS[0], |sum, (idx, coefficient)| sum + coefficient / (x + idx as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    #[test]
    fn wilson_matches_published_intervals() {
        // Brown, Cai and DasGupta (2001), and R's prop.test(correct = FALSE).
        let (low, high) = super::wilson(3, 10, super::Z_95).unwrap();
        assert!((low - 0.1078).abs() < 1e-4 && (high - 0.6032).abs() < 1e-4, "{low} {high}");
        let (low, high) = super::wilson(0, 20, super::Z_95).unwrap();
        assert!(low == 0.0 && (high - 0.1611).abs() < 1e-4, "{low} {high}");
        let (low, high) = super::wilson(20, 20, super::Z_95).unwrap();
        assert!((low - 0.8389).abs() < 1e-4 && high == 1.0, "{low} {high}");
        assert_eq!(super::wilson(0, 0, super::Z_95), None);
    }

    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        // Two-sided 95% critical values from any statistics table.
        for (dof, expected) in [(1.0, 12.7062), (2.0, 4.3027), (4.0, 2.7764), (9.0, 2.2622), (29.0, 2.0452)] {
            let got = t_quantile(0.975, dof);
            assert!(close(got, expected, 5e-4), "dof {dof}: {got} vs {expected}");
        }
        assert!(close(t_quantile(0.995, 9.0), 3.2498, 5e-4));
        assert!(close(t_quantile(0.975, 1e6), 1.95996, 1e-4), "large samples tend to the normal");
        assert!(close(t_quantile(0.025, 9.0), -2.2622, 5e-4));
        assert_eq!(t_quantile(0.5, 3.0), 0.0);
    }

    #[test]
    fn the_t_interval_of_a_known_sample() {
        // Mean 5, sample variance 2.5 (s = 1.5811), n = 5: half width 2.7764 * 1.5811 / sqrt(5).
        let estimate = Estimate::of(&[3.0, 4.0, 5.0, 6.0, 7.0], 0.95).unwrap();
        assert_eq!(estimate.n, 5);
        assert!(close(estimate.mean, 5.0, 1e-12));
        assert!(close(estimate.std_dev.unwrap(), 2.5_f64.sqrt(), 1e-12));
        let (low, high) = estimate.interval.unwrap();
        assert!(close(low, 3.0368, 1e-3) && close(high, 6.9632, 1e-3), "{low} {high}");
        assert!(close(estimate.half_width().unwrap(), 1.9632, 1e-3));
    }

    #[test]
    fn one_value_has_a_mean_but_no_interval() {
        let estimate = Estimate::of(&[0.9], 0.95).unwrap();
        assert_eq!((estimate.mean, estimate.interval, estimate.std_dev), (0.9, None, None));
        assert!(Estimate::of(&[], 0.95).is_none());
        assert!(Estimate::of(&[1.0, f64::NAN], 0.95).is_none());
    }

    #[test]
    fn identical_values_give_a_zero_width_interval() {
        let estimate = Estimate::of(&[2.0, 2.0, 2.0], 0.95).unwrap();
        assert_eq!(estimate.interval, Some((2.0, 2.0)));
    }

    #[test]
    fn paired_differences_skip_missing_pairs() {
        let baseline = [Some(1.0), Some(2.0), None, Some(4.0)];
        let variant = [Some(2.0), Some(3.5), Some(9.0), Some(4.5)];
        let difference = paired_difference(&baseline, &variant, 0.95).unwrap();
        assert_eq!(difference.n, 3);
        assert!(close(difference.mean, 1.0, 1e-12));
        let (low, high) = difference.interval.unwrap();
        // d = 1, 1.5, 0.5: s = 0.5, t(0.975, 2) = 4.3027, half width 1.2421.
        assert!(close(low, -0.2421, 1e-3) && close(high, 2.2421, 1e-3), "{low} {high}");
    }
}
