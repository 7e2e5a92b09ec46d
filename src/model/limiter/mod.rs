//! Retry limiters and client protections: small state machines that decide, at one instant,
//! whether a client may send a retry (or any attempt at all).
//!
//! Each type follows one real system's documented semantics, cited on the type, so a
//! scenario that names a preset gets what that system does. Invariants: no I/O, no
//! allocation after construction, time only as `SimTime`, randomness only from a
//! `StreamRng` passed in. Memory is O(1) per limiter, except the circuit breaker's ring of
//! the last `window` outcomes, allocated once. Parameters are plain data checked by
//! `validate`; constructors assume validated parameters (the resolver's job).

use crate::engine::{SimTime, StreamRng};
use crate::model::FailureReason;
use crate::refusal::Refusal;

mod breaker;
mod budget;
mod quota;
mod throttle;
mod token_bucket;
mod window;

pub use crate::stats::BreakerPhase;
pub use breaker::{BreakerHistory, BreakerState, CircuitBreaker, CircuitBreakerParams};
pub use budget::{ConcurrentRetryBudget, ConcurrentRetryBudgetParams, RetryBudget, RetryBudgetParams};
pub use quota::{RetryQuota, RetryQuotaParams};
pub use throttle::{AdaptiveThrottle, AdaptiveThrottleParams};
pub use token_bucket::{TokenBucket, TokenBucketParams};

/// A limiter's kind and parameters: the resolved form of a scenario's `preset` plus its
/// overrides. Plain data; `build` turns it into runtime state.
#[derive(Clone, Debug, PartialEq)]
pub enum LimiterSpec {
    /// gRPC retry throttling.
    TokenBucket(TokenBucketParams),
    /// AWS SDK standard-mode retry quota.
    RetryQuota(RetryQuotaParams),
    /// Finagle's retry budget.
    RetryBudget(RetryBudgetParams),
    /// Envoy's concurrent retry budget.
    ConcurrentRetryBudget(ConcurrentRetryBudgetParams),
    /// resilience4j's circuit breaker.
    CircuitBreaker(CircuitBreakerParams),
    /// SRE-book client-side throttling.
    AdaptiveThrottle(AdaptiveThrottleParams),
}

impl LimiterSpec {
    /// What kind of limiter this is, for markers and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            LimiterSpec::TokenBucket(_) => "token bucket",
            LimiterSpec::RetryQuota(_) => "retry quota",
            LimiterSpec::RetryBudget(_) => "retry budget",
            LimiterSpec::ConcurrentRetryBudget(_) => "concurrent retry budget",
            LimiterSpec::CircuitBreaker(_) => "circuit breaker",
            LimiterSpec::AdaptiveThrottle(_) => "adaptive throttling",
        }
    }

    /// Checks the parameters of whichever kind this is.
    pub fn validate(&self) -> Result<(), Refusal> {
        match self {
            LimiterSpec::TokenBucket(params) => params.validate(),
            LimiterSpec::RetryQuota(params) => params.validate(),
            LimiterSpec::RetryBudget(params) => params.validate(),
            LimiterSpec::ConcurrentRetryBudget(params) => params.validate(),
            LimiterSpec::CircuitBreaker(params) => params.validate(),
            LimiterSpec::AdaptiveThrottle(params) => params.validate(),
        }
    }

    /// Fresh runtime state. Assumes `validate` passed (the resolver's job).
    pub fn build(&self) -> Limiter {
        match self {
            LimiterSpec::TokenBucket(params) => Limiter::TokenBucket(TokenBucket::new(params)),
            LimiterSpec::RetryQuota(params) => Limiter::RetryQuota(RetryQuota::new(params)),
            LimiterSpec::RetryBudget(params) => Limiter::RetryBudget(RetryBudget::new(params)),
            LimiterSpec::ConcurrentRetryBudget(params) => {
                Limiter::ConcurrentRetryBudget(ConcurrentRetryBudget::new(params))
            }
            LimiterSpec::CircuitBreaker(params) => Limiter::CircuitBreaker(CircuitBreaker::new(params)),
            LimiterSpec::AdaptiveThrottle(params) => {
                Limiter::AdaptiveThrottle(Box::new(AdaptiveThrottle::new(params)))
            }
        }
    }
}

/// The named presets of design/model.md ("Clients and retries"), so a scenario can say
/// `preset = "grpc"` and get what that system documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// gRPC retry throttling: 10 tokens, 0.1 per success.
    Grpc,
    /// AWS SDK standard mode: 500-token quota, retry 5 (timeout 10), success refunds 1.
    AwsStandard,
    /// Finagle: 20% of requests plus 10 retries/s, deposits expire in 10 s.
    Finagle,
    /// Envoy: retries in flight up to 20% of active requests, at least 3.
    Envoy,
    /// resilience4j: 50% failures over 100 calls (min 100), open 60 s, 10 trial calls.
    Resilience4j,
    /// Google SRE: reject with p = max(0, (requests - 2 accepts) / (requests + 1)) over 2 min.
    Sre,
}

impl Preset {
    /// Every preset, in the order model.md lists them.
    pub const ALL: [Preset; 6] = [
        Preset::Grpc,
        Preset::AwsStandard,
        Preset::Finagle,
        Preset::Envoy,
        Preset::Resilience4j,
        Preset::Sre,
    ];

    /// The name a scenario uses.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Grpc => "grpc",
            Preset::AwsStandard => "aws-standard",
            Preset::Finagle => "finagle",
            Preset::Envoy => "envoy",
            Preset::Resilience4j => "resilience4j",
            Preset::Sre => "sre",
        }
    }

    /// Looks a preset up by name; the error lists the valid names.
    pub fn from_name(name: &str) -> Result<Preset, Refusal> {
        Preset::ALL.into_iter().find(|preset| preset.name() == name).ok_or_else(|| {
            let expected: Vec<String> =
                Preset::ALL.iter().map(|preset| format!("\"{}\"", preset.name())).collect();
            Refusal::new(format!("unknown limiter preset \"{name}\""))
                .expected(format!("one of {}", expected.join(", ")))
        })
    }

    /// The documented parameters; override any field on the result.
    pub fn spec(self) -> LimiterSpec {
        match self {
            Preset::Grpc => LimiterSpec::TokenBucket(TokenBucketParams::GRPC),
            Preset::AwsStandard => LimiterSpec::RetryQuota(RetryQuotaParams::AWS_STANDARD),
            Preset::Finagle => LimiterSpec::RetryBudget(RetryBudgetParams::FINAGLE),
            Preset::Envoy => LimiterSpec::ConcurrentRetryBudget(ConcurrentRetryBudgetParams::ENVOY),
            Preset::Resilience4j => LimiterSpec::CircuitBreaker(CircuitBreakerParams::RESILIENCE4J),
            Preset::Sre => LimiterSpec::AdaptiveThrottle(AdaptiveThrottleParams::SRE),
        }
    }
}

/// What a client is about to send, as the limiters need to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptKind {
    /// A request's first attempt.
    First,
    /// A retry, after an attempt that failed for `after` (AWS charges more after a timeout).
    Retry {
        /// Why the previous attempt failed.
        after: FailureReason,
    },
}

/// Proof that a limiter let an attempt through; handed back to `Limiter::release` when
/// the attempt ends, so the limiter can refund or free exactly what it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a permit must be released when its attempt ends"]
pub struct Permit {
    is_retry: bool,
    /// Tokens paid into an AWS retry quota (0 for other limiters and first attempts).
    cost: u32,
}

/// A client's limiter at run time: one protocol for all six kinds, so the client code asks
/// `try_acquire` before every attempt and calls `release` when it ends. Retry limiters
/// (token bucket, quota, budgets) always let first attempts through; the circuit breaker
/// and the adaptive throttle gate every attempt. A client with several protections holds
/// several `Limiter`s and asks each.
#[derive(Clone, Debug)]
pub enum Limiter {
    /// gRPC retry throttling.
    TokenBucket(TokenBucket),
    /// AWS SDK standard-mode retry quota.
    RetryQuota(RetryQuota),
    /// Finagle's retry budget.
    RetryBudget(RetryBudget),
    /// Envoy's concurrent retry budget.
    ConcurrentRetryBudget(ConcurrentRetryBudget),
    /// resilience4j's circuit breaker.
    CircuitBreaker(CircuitBreaker),
    /// Boxed: its two 120-slice windows are about 2 KiB, and every other variant is small.
    AdaptiveThrottle(Box<AdaptiveThrottle>),
}

impl Limiter {
    /// Asks to send an attempt now; on refusal, the reason to record (`refusal_reason`).
    pub fn try_acquire(
        &mut self,
        now: SimTime,
        kind: AttemptKind,
        rng: &mut StreamRng,
    ) -> Result<Permit, FailureReason> {
        let refusal = self.refusal_reason();
        let is_retry = kind != AttemptKind::First;
        if let Limiter::ConcurrentRetryBudget(budget) = self
            && budget.overflowing()
        {
            return Err(FailureReason::CircuitOpen);
        }
        // `Some(cost)` lets the attempt through; only the AWS quota charges a cost.
        let cost = match (self, kind) {
            (Limiter::CircuitBreaker(breaker), _) => free_if(breaker.allow(now)),
            (Limiter::AdaptiveThrottle(throttle), _) => free_if(throttle.allow(now, rng)),
            (Limiter::TokenBucket(_) | Limiter::RetryQuota(_), AttemptKind::First) => Some(0),
            (Limiter::TokenBucket(bucket), AttemptKind::Retry { .. }) => free_if(bucket.allows_retry()),
            (Limiter::RetryQuota(quota), AttemptKind::Retry { after }) => {
                quota.try_acquire(after == FailureReason::Timeout)
            }
            (Limiter::RetryBudget(budget), AttemptKind::First) => {
                budget.deposit(now);
                Some(0)
            }
            (Limiter::RetryBudget(budget), AttemptKind::Retry { .. }) => free_if(budget.try_withdraw(now)),
            (Limiter::ConcurrentRetryBudget(budget), AttemptKind::First) => {
                budget.start_request();
                Some(0)
            }
            (Limiter::ConcurrentRetryBudget(budget), AttemptKind::Retry { .. }) => {
                free_if(budget.try_start_retry())
            }
        };
        cost.map(|cost| Permit { is_retry, cost }).ok_or(refusal)
    }

    /// Why this limiter refuses: `CircuitOpen` for the breaker, `Rejected` for the
    /// throttle (a local 503, as the SRE book describes it), `RetryBudgetExhausted` for
    /// the retry limiters (Envoy's `max_requests` overflow is `CircuitOpen`, decided in
    /// `try_acquire`).
    pub fn refusal_reason(&self) -> FailureReason {
        match self {
            Limiter::CircuitBreaker(_) => FailureReason::CircuitOpen,
            Limiter::AdaptiveThrottle(_) => FailureReason::Rejected,
            _ => FailureReason::RetryBudgetExhausted,
        }
    }

    /// The attempt behind `permit` was cancelled (a hedge another attempt beat): what it
    /// holds is freed, and no outcome is recorded.
    pub fn cancel(&mut self, permit: Permit) {
        match self {
            Limiter::ConcurrentRetryBudget(budget) => budget.finish(permit.is_retry),
            Limiter::CircuitBreaker(breaker) => breaker.cancel(),
            _ => {}
        }
    }

    /// The circuit breaker, if this limiter is one (for its state over time).
    pub fn breaker(&self) -> Option<&CircuitBreaker> {
        match self {
            Limiter::CircuitBreaker(breaker) => Some(breaker),
            _ => None,
        }
    }

    /// The attempt behind `permit` ended with `outcome` (`Ok` for a success).
    pub fn release(&mut self, now: SimTime, permit: Permit, outcome: Result<(), FailureReason>) {
        let success = outcome.is_ok();
        match self {
            Limiter::TokenBucket(bucket) if success => bucket.on_success(),
            Limiter::TokenBucket(bucket) => bucket.on_failure(),
            Limiter::RetryQuota(quota) if success => quota.on_success(permit.is_retry.then_some(permit.cost)),
            Limiter::RetryQuota(_) | Limiter::RetryBudget(_) => {}
            Limiter::ConcurrentRetryBudget(budget) => budget.finish(permit.is_retry),
            Limiter::CircuitBreaker(breaker) => breaker.record(now, success),
            Limiter::AdaptiveThrottle(throttle) => {
                // The backend accepted the request if it answered, even with an error.
                if matches!(outcome, Ok(()) | Err(FailureReason::DependencyError)) {
                    throttle.record_accept(now);
                }
            }
        }
    }
}

/// Checks `low <= value <= high` (and that `value` is a number), naming the field otherwise.
fn check_range(field: &str, value: f64, low: f64, high: f64) -> Result<(), Refusal> {
    if value.is_nan() || value < low || value > high {
        return Err(Refusal::new(format!("{field} must be in [{low}, {high}], got {value}")));
    }
    Ok(())
}

/// Checks `value >= low`, naming the field otherwise.
fn check_at_least(field: &str, value: u64, low: u64) -> Result<(), Refusal> {
    if value < low {
        return Err(Refusal::new(format!("{field} must be at least {low}, got {value}")));
    }
    Ok(())
}

/// A permission that costs nothing to refund: `Some(0)` when allowed.
fn free_if(allowed: bool) -> Option<u32> {
    allowed.then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NANOS_PER_SEC;
    use crate::engine::SimDuration;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NANOS_PER_SEC)
    }

    #[test]
    fn validation_names_the_field_and_range() {
        let bad_ratio = TokenBucketParams { token_ratio: -0.1, ..TokenBucketParams::GRPC };
        assert_eq!(bad_ratio.validate().unwrap_err().message, "token_ratio must be in [0.001, 1], got -0.1");
        let bad_max = TokenBucketParams { max_tokens: 0, ..TokenBucketParams::GRPC };
        assert_eq!(bad_max.validate().unwrap_err().message, "max_tokens must be in [1, 1000], got 0");
        let bad_cost = RetryQuotaParams { retry_cost: 0, ..RetryQuotaParams::AWS_STANDARD };
        assert_eq!(bad_cost.validate().unwrap_err().message, "retry_cost must be at least 1, got 0");
        let bad_ttl = RetryBudgetParams { ttl: SimDuration::from_millis(500), ..RetryBudgetParams::FINAGLE };
        assert_eq!(bad_ttl.validate().unwrap_err().message, "ttl must be in [1s, 60s], got 500ms");
        let bad_share =
            ConcurrentRetryBudgetParams { budget_fraction: f64::NAN, ..ConcurrentRetryBudgetParams::ENVOY };
        assert_eq!(bad_share.validate().unwrap_err().message, "budget_fraction must be in [0, 1], got NaN");
        assert!(TokenBucketParams::GRPC.validate().is_ok());
        assert!(RetryQuotaParams::AWS_STANDARD.validate().is_ok());
        assert!(RetryBudgetParams::FINAGLE.validate().is_ok());
        assert!(ConcurrentRetryBudgetParams::ENVOY.validate().is_ok());
    }

    #[test]
    fn protection_validation_names_the_field_and_range() {
        let bad_window = CircuitBreakerParams { window: 0, ..CircuitBreakerParams::RESILIENCE4J };
        assert_eq!(bad_window.validate().unwrap_err().message, "window must be at least 1, got 0");
        let bad_rate =
            CircuitBreakerParams { failure_rate_threshold: 0.0, ..CircuitBreakerParams::RESILIENCE4J };
        assert_eq!(
            bad_rate.validate().unwrap_err().message,
            "failure_rate_threshold must be in (0, 1], got 0"
        );
        let bad_k = AdaptiveThrottleParams { k: 0.5, ..AdaptiveThrottleParams::SRE };
        assert_eq!(bad_k.validate().unwrap_err().message, "k must be a finite number of at least 1, got 0.5");
        let bad_throttle_window =
            AdaptiveThrottleParams { window: SimDuration::ZERO, ..AdaptiveThrottleParams::SRE };
        assert_eq!(bad_throttle_window.validate().unwrap_err().message, "window must be at least 1s, got 0s");
        assert!(CircuitBreakerParams::RESILIENCE4J.validate().is_ok());
        assert!(AdaptiveThrottleParams::SRE.validate().is_ok());
    }

    fn rng() -> StreamRng {
        crate::engine::RngStreams::new(1).stream("limiter")
    }

    const RETRY_AFTER_TIMEOUT: AttemptKind = AttemptKind::Retry { after: FailureReason::Timeout };
    const RETRY_AFTER_REJECTION: AttemptKind = AttemptKind::Retry { after: FailureReason::Rejected };

    #[test]
    fn presets_are_named_as_in_the_model() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Ok(preset));
            assert_eq!(preset.spec().validate(), Ok(()), "{}", preset.name());
        }
        assert_eq!(
            Preset::from_name("gprc").unwrap_err().to_string(),
            "unknown limiter preset \"gprc\"; expected one of \"grpc\", \"aws-standard\", \"finagle\", \
             \"envoy\", \"resilience4j\", \"sre\""
        );
    }

    #[test]
    fn presets_carry_the_documented_parameters() {
        let specs: Vec<LimiterSpec> = Preset::ALL.iter().map(|preset| preset.spec()).collect();
        let ten_secs = SimDuration::from_secs(10);
        assert_eq!(
            specs,
            vec![
                LimiterSpec::TokenBucket(TokenBucketParams { max_tokens: 10, token_ratio: 0.1 }),
                LimiterSpec::RetryQuota(RetryQuotaParams {
                    capacity: 500,
                    retry_cost: 5,
                    timeout_retry_cost: 10,
                    no_retry_increment: 1
                }),
                LimiterSpec::RetryBudget(RetryBudgetParams {
                    ttl: ten_secs,
                    min_retries_per_sec: 10,
                    percent_can_retry: 0.2
                }),
                LimiterSpec::ConcurrentRetryBudget(ConcurrentRetryBudgetParams {
                    budget_fraction: 0.2,
                    min_retry_concurrency: 3,
                    max_requests: 1024
                }),
                LimiterSpec::CircuitBreaker(CircuitBreakerParams {
                    window: 100,
                    minimum_calls: 100,
                    failure_rate_threshold: 0.5,
                    wait_open: SimDuration::from_secs(60),
                    half_open_calls: 10
                }),
                LimiterSpec::AdaptiveThrottle(AdaptiveThrottleParams {
                    k: 2.0,
                    window: SimDuration::from_secs(120)
                }),
            ]
        );
    }

    #[test]
    fn preset_fields_can_be_overridden() {
        let mut spec = Preset::Grpc.spec();
        if let LimiterSpec::TokenBucket(params) = &mut spec {
            params.max_tokens = 4;
        }
        let mut limiter = spec.build();
        let permit = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng()).unwrap();
        limiter.release(secs(0), permit, Err(FailureReason::Timeout));
        assert!(limiter.try_acquire(secs(0), RETRY_AFTER_TIMEOUT, &mut rng()).is_ok(), "3 > 2");
        let permit = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng()).unwrap();
        limiter.release(secs(0), permit, Err(FailureReason::Timeout));
        assert_eq!(
            limiter.try_acquire(secs(0), RETRY_AFTER_TIMEOUT, &mut rng()),
            Err(FailureReason::RetryBudgetExhausted),
            "2 tokens of 4: exactly half"
        );
        if let LimiterSpec::TokenBucket(params) = &mut spec {
            params.token_ratio = 1.5;
        }
        assert_eq!(spec.validate().unwrap_err().message, "token_ratio must be in [0.001, 1], got 1.5");
    }

    #[test]
    fn retry_limiters_never_gate_first_attempts() {
        for preset in [Preset::Grpc, Preset::AwsStandard, Preset::Finagle, Preset::Envoy] {
            let mut limiter = preset.spec().build();
            for _ in 0..2000 {
                // Each fails before the next starts (Envoy's `max_requests` caps attempts
                // in flight, first or not; tested on its own).
                let permit = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng());
                assert!(permit.is_ok(), "{}", preset.name());
                limiter.release(secs(0), permit.unwrap(), Err(FailureReason::Timeout));
            }
        }
    }

    #[test]
    fn aws_limiter_charges_by_the_previous_failure_and_refunds_on_success() {
        let mut limiter = Preset::AwsStandard.spec().build();
        let quota_tokens = |limiter: &Limiter| match limiter {
            Limiter::RetryQuota(quota) => quota.tokens(),
            _ => unreachable!(),
        };
        let after_timeout = limiter.try_acquire(secs(0), RETRY_AFTER_TIMEOUT, &mut rng()).unwrap();
        let after_rejection = limiter.try_acquire(secs(0), RETRY_AFTER_REJECTION, &mut rng()).unwrap();
        assert_eq!(quota_tokens(&limiter), 485);
        limiter.release(secs(1), after_timeout, Ok(()));
        assert_eq!(quota_tokens(&limiter), 495);
        limiter.release(secs(1), after_rejection, Err(FailureReason::Rejected));
        assert_eq!(quota_tokens(&limiter), 495, "a failed retry refunds nothing");
        let first = limiter.try_acquire(secs(1), AttemptKind::First, &mut rng()).unwrap();
        limiter.release(secs(1), first, Ok(()));
        assert_eq!(quota_tokens(&limiter), 496);
    }

    #[test]
    fn a_cancelled_attempt_frees_what_it_held_without_an_outcome() {
        let mut envoy = Preset::Envoy.spec().build();
        let permits: Vec<Permit> =
            (0..3).map(|_| envoy.try_acquire(secs(0), RETRY_AFTER_REJECTION, &mut rng()).unwrap()).collect();
        assert!(envoy.try_acquire(secs(0), RETRY_AFTER_REJECTION, &mut rng()).is_err());
        envoy.cancel(permits[0]);
        assert!(envoy.try_acquire(secs(0), RETRY_AFTER_REJECTION, &mut rng()).is_ok());
        // A cancelled call counts neither as a success nor as a failure for the breaker.
        let mut breaker = Preset::Resilience4j.spec().build();
        for _ in 0..1000 {
            let permit = breaker.try_acquire(secs(0), AttemptKind::First, &mut rng()).unwrap();
            breaker.cancel(permit);
        }
        let permit = breaker.try_acquire(secs(0), AttemptKind::First, &mut rng()).unwrap();
        breaker.release(secs(0), permit, Err(FailureReason::Timeout));
        assert_eq!(breaker.breaker().unwrap().state(), BreakerState::Closed);
    }

    #[test]
    fn envoy_circuit_breaking_caps_active_requests() {
        let params = ConcurrentRetryBudgetParams { max_requests: 5, ..ConcurrentRetryBudgetParams::ENVOY };
        let mut limiter = LimiterSpec::ConcurrentRetryBudget(params).build();
        let permits: Vec<Permit> =
            (0..5).map(|_| limiter.try_acquire(secs(0), AttemptKind::First, &mut rng()).unwrap()).collect();
        assert_eq!(
            limiter.try_acquire(secs(0), AttemptKind::First, &mut rng()),
            Err(FailureReason::CircuitOpen)
        );
        assert_eq!(
            limiter.try_acquire(secs(0), RETRY_AFTER_TIMEOUT, &mut rng()),
            Err(FailureReason::CircuitOpen)
        );
        limiter.release(secs(1), permits[0], Ok(()));
        assert!(
            limiter.try_acquire(secs(1), AttemptKind::First, &mut rng()).is_ok(),
            "one finished, one may start"
        );
        let zero = ConcurrentRetryBudgetParams { max_requests: 0, ..ConcurrentRetryBudgetParams::ENVOY };
        assert_eq!(zero.validate().unwrap_err().message, "max_requests must be at least 1, got 0");
    }

    #[test]
    fn envoy_limiter_frees_retries_on_release() {
        let mut limiter = Preset::Envoy.spec().build();
        let permits: Vec<Permit> = (0..3)
            .map(|_| limiter.try_acquire(secs(0), RETRY_AFTER_REJECTION, &mut rng()).unwrap())
            .collect();
        assert_eq!(
            limiter.try_acquire(secs(0), RETRY_AFTER_REJECTION, &mut rng()),
            Err(FailureReason::RetryBudgetExhausted)
        );
        limiter.release(secs(1), permits[0], Err(FailureReason::Timeout));
        assert!(limiter.try_acquire(secs(1), RETRY_AFTER_REJECTION, &mut rng()).is_ok());
    }

    #[test]
    fn finagle_limiter_deposits_on_first_attempts() {
        let params = RetryBudgetParams { min_retries_per_sec: 0, ..RetryBudgetParams::FINAGLE };
        let mut limiter = LimiterSpec::RetryBudget(params).build();
        assert!(limiter.try_acquire(secs(0), RETRY_AFTER_TIMEOUT, &mut rng()).is_err());
        for _ in 0..5 {
            let _ = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng());
        }
        assert!(limiter.try_acquire(secs(0), RETRY_AFTER_TIMEOUT, &mut rng()).is_ok(), "20% of 5");
        assert!(limiter.try_acquire(secs(0), RETRY_AFTER_TIMEOUT, &mut rng()).is_err());
    }

    #[test]
    fn breaker_limiter_gates_every_attempt_with_circuit_open() {
        let mut limiter = Preset::Resilience4j.spec().build();
        for _ in 0..100 {
            let permit = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng()).unwrap();
            limiter.release(secs(0), permit, Err(FailureReason::Timeout));
        }
        assert_eq!(
            limiter.try_acquire(secs(1), AttemptKind::First, &mut rng()),
            Err(FailureReason::CircuitOpen)
        );
    }

    #[test]
    fn throttle_limiter_counts_answers_as_accepts_but_not_timeouts() {
        let mut limiter = Preset::Sre.spec().build();
        let probability = |limiter: &mut Limiter| match limiter {
            Limiter::AdaptiveThrottle(throttle) => throttle.rejection_probability(secs(0)),
            _ => unreachable!(),
        };
        for outcome in [Ok(()), Err(FailureReason::DependencyError), Err(FailureReason::Timeout)] {
            let permit = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng()).unwrap();
            limiter.release(secs(0), permit, outcome);
        }
        assert_eq!(probability(&mut limiter), 0.0, "3 requests <= 2 x 2 accepts");
        for _ in 0..2 {
            let permit = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng());
            if let Ok(permit) = permit {
                limiter.release(secs(0), permit, Err(FailureReason::Rejected));
            }
        }
        assert_eq!(probability(&mut limiter), 1.0 / 6.0, "(5 - 2 x 2) / (5 + 1)");
    }
}
