//! Retry limiters and client protections: small state machines that decide, at one instant,
//! whether a client may send a retry (or any attempt at all).
//!
//! Each type follows one real system's documented semantics, cited on the type, so a
//! scenario that names a preset gets what that system does. Invariants: no I/O, no
//! allocation after construction, time only as `SimTime`, randomness only from a
//! `StreamRng` passed in. Memory is O(1) per limiter, except the circuit breaker's ring of
//! the last `window` outcomes, allocated once. Parameters are plain data checked by
//! `validate`; constructors assume validated parameters (the resolver's job).

use super::outcome::FailureReason;
use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime, StreamRng};
use rand::RngExt;

/// A sum over a sliding time window, kept as a ring of `N` equal slices.
///
/// A count added at `t` is forgotten once the clock enters the slice `N` slices after
/// `t`'s, i.e. between `window - window/N` and `window` later: the approximation
/// Finagle's `WindowedAdder` makes, bought for O(N) memory and O(1) amortised updates.
#[derive(Clone, Debug)]
struct WindowedSum<const N: usize> {
    /// Width of one slice in nanoseconds (at least 1).
    slice_ns: u64,
    /// Index of the slice the clock is in (`now / slice_ns`).
    epoch: u64,
    slices: [i64; N],
    /// Sum of `slices`, kept so reading is O(1).
    total: i64,
}

impl<const N: usize> WindowedSum<N> {
    fn new(window: SimDuration) -> Self {
        let slice_ns = (window.0 / N as u64).max(1);
        WindowedSum { slice_ns, epoch: 0, slices: [0; N], total: 0 }
    }

    /// Moves the clock to `now`, zeroing every slice it passes. Time never runs backwards
    /// in a simulation; an earlier `now` is treated as the current slice.
    fn advance(&mut self, now: SimTime) {
        let epoch = now.0 / self.slice_ns;
        if epoch <= self.epoch {
            return;
        }
        let n_steps = (epoch - self.epoch).min(N as u64);
        for step in 1..=n_steps {
            let idx = ((self.epoch + step) % N as u64) as usize;
            self.total = self.total.saturating_sub(self.slices[idx]);
            self.slices[idx] = 0;
        }
        self.epoch = epoch;
    }

    fn add(&mut self, now: SimTime, amount: i64) {
        self.advance(now);
        let idx = (self.epoch % N as u64) as usize;
        self.slices[idx] = self.slices[idx].saturating_add(amount);
        self.total = self.total.saturating_add(amount);
    }

    fn sum(&mut self, now: SimTime) -> i64 {
        self.advance(now);
        self.total
    }
}

/// Checks `low <= value <= high` (and that `value` is a number), naming the field otherwise.
fn check_range(field: &str, value: f64, low: f64, high: f64) -> Result<(), String> {
    if value.is_nan() || value < low || value > high {
        return Err(format!("{field} must be in [{low}, {high}], got {value}"));
    }
    Ok(())
}

/// Checks `value >= low`, naming the field otherwise.
fn check_at_least(field: &str, value: u64, low: u64) -> Result<(), String> {
    if value < low {
        return Err(format!("{field} must be at least {low}, got {value}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// gRPC retry throttling
// ---------------------------------------------------------------------------------------

/// Parameters of gRPC retry throttling [gRFC A6, "retryThrottling"].
#[derive(Clone, Debug, PartialEq)]
pub struct TokenBucketParams {
    /// Bucket size; gRPC's `service_config.proto` allows `(0, 1000]`.
    pub max_tokens: u32,
    /// Tokens a success puts back. gRFC A6 requires > 0 with up to three decimals and calls
    /// "between 0 and 1" typical; `[0.001, 1]` here, so every accepted value counts.
    pub token_ratio: f64,
}

impl TokenBucketParams {
    /// gRPC's documented example and the model's preset: 10 tokens, 0.1 per success.
    pub const GRPC: TokenBucketParams = TokenBucketParams { max_tokens: 10, token_ratio: 0.1 };

    /// Checks every field, naming the first bad one and its valid range.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.max_tokens) {
            return Err(format!("max_tokens must be in [1, 1000], got {}", self.max_tokens));
        }
        check_range("token_ratio", self.token_ratio, 0.001, 1.0)
    }
}

/// gRPC retry throttling [gRFC A6]: one bucket per client channel, starting full. Every
/// failed attempt takes a token (not below zero), every success returns `token_ratio`
/// (not above `max_tokens`), and retries are allowed only while the bucket is more than
/// half full, so a failing backend sees its clients fall back to first attempts only.
///
/// Tokens are kept in thousandths, as gRFC A6 specifies three decimals: the arithmetic
/// is exact and the threshold comparison has no rounding.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    max_milli: u32,
    ratio_milli: u32,
    milli_tokens: u32,
}

impl TokenBucket {
    /// A full bucket, as gRFC A6 starts it.
    pub fn new(params: &TokenBucketParams) -> TokenBucket {
        let max_milli = params.max_tokens.saturating_mul(1000);
        // Truncated to three decimals, as gRFC A6 says.
        let ratio_milli = (params.token_ratio * 1000.0) as u32;
        TokenBucket { max_milli, ratio_milli, milli_tokens: max_milli }
    }

    /// Whether a retry may be sent now: strictly more than half the bucket remains.
    pub fn allows_retry(&self) -> bool {
        self.milli_tokens > self.max_milli / 2
    }

    /// A failed attempt (first or retry) takes one token.
    pub fn on_failure(&mut self) {
        self.milli_tokens = self.milli_tokens.saturating_sub(1000);
    }

    /// A successful attempt returns `token_ratio` tokens.
    pub fn on_success(&mut self) {
        self.milli_tokens = (self.milli_tokens + self.ratio_milli).min(self.max_milli);
    }

    /// Tokens in the bucket, for reports and tests.
    pub fn tokens(&self) -> f64 {
        self.milli_tokens as f64 / 1000.0
    }
}

// ---------------------------------------------------------------------------------------
// AWS SDK standard retry quota
// ---------------------------------------------------------------------------------------

/// Parameters of the AWS SDKs' "standard" retry mode quota [AWS SDKs and Tools Reference
/// Guide, "Retry behavior"; aws-sdk-js-v3 `middleware-retry` constants `RETRY_COST`,
/// `TIMEOUT_RETRY_COST`, `NO_RETRY_INCREMENT`, `INITIAL_RETRY_TOKENS`]. These are the
/// long-standing standard-mode values; AWS's opt-in 2026 retry behaviour
/// (`AWS_NEW_RETRIES_2026`) changes the quota costs and is not modelled here.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryQuotaParams {
    /// Tokens the quota starts with and never exceeds.
    pub capacity: u32,
    /// Cost of a retry after an ordinary retryable error.
    pub retry_cost: u32,
    /// Cost of a retry after a timeout.
    pub timeout_retry_cost: u32,
    /// Refund when a request succeeds on its first attempt.
    pub no_retry_increment: u32,
}

impl RetryQuotaParams {
    /// AWS standard mode: 500 tokens, retry 5, retry after timeout 10, first-try success 1.
    pub const AWS_STANDARD: RetryQuotaParams =
        RetryQuotaParams { capacity: 500, retry_cost: 5, timeout_retry_cost: 10, no_retry_increment: 1 };

    /// Checks every field, naming the first bad one and its valid range.
    pub fn validate(&self) -> Result<(), String> {
        check_at_least("capacity", self.capacity as u64, 1)?;
        check_at_least("retry_cost", self.retry_cost as u64, 1)?;
        check_at_least("timeout_retry_cost", self.timeout_retry_cost as u64, 1)
    }
}

/// The AWS SDK standard-mode retry quota: a client-wide bucket that each retry must pay
/// into. A successful retry refunds what it paid, a first-attempt success refunds
/// `no_retry_increment`, and when the bucket cannot pay, the retry is refused, so a
/// sustained outage drains the quota and clients stop amplifying it.
#[derive(Clone, Debug)]
pub struct RetryQuota {
    params: RetryQuotaParams,
    tokens: u32,
}

impl RetryQuota {
    /// A full quota.
    pub fn new(params: &RetryQuotaParams) -> RetryQuota {
        RetryQuota { params: params.clone(), tokens: params.capacity }
    }

    /// Tries to pay for a retry; `after_timeout` picks the timeout cost. Returns the cost
    /// paid, which the caller hands back to `on_success` if the retry succeeds.
    pub fn try_acquire(&mut self, after_timeout: bool) -> Option<u32> {
        let cost = if after_timeout { self.params.timeout_retry_cost } else { self.params.retry_cost };
        if self.tokens < cost {
            return None;
        }
        self.tokens -= cost;
        Some(cost)
    }

    /// A request succeeded: `retry_cost` is what its last attempt paid (`None` for a
    /// first attempt, which earns `no_retry_increment`). Capped at `capacity`.
    pub fn on_success(&mut self, retry_cost: Option<u32>) {
        let refund = retry_cost.unwrap_or(self.params.no_retry_increment);
        self.tokens = self.tokens.saturating_add(refund).min(self.params.capacity);
    }

    /// Tokens left in the quota, for reports and tests.
    pub fn tokens(&self) -> u32 {
        self.tokens
    }
}

// ---------------------------------------------------------------------------------------
// Finagle RetryBudget
// ---------------------------------------------------------------------------------------

/// Parameters of Finagle's `RetryBudget.apply(ttl, minRetriesPerSec, percentCanRetry)`
/// [twitter/finagle `finagle-core/.../service/RetryBudget.scala`].
#[derive(Clone, Debug, PartialEq)]
pub struct RetryBudgetParams {
    /// How long a deposit counts; Finagle requires 1 s to 60 s (whole seconds count).
    pub ttl: SimDuration,
    /// Retries per second allowed on top of the percentage, for new or quiet clients.
    pub min_retries_per_sec: u32,
    /// Retries allowed per request, as a fraction (0.2 = 20%); Finagle allows 0 to 1000.
    pub percent_can_retry: f64,
}

impl RetryBudgetParams {
    /// Finagle's default `RetryBudget()`: ttl 10 s, 10 retries/s, 20% of requests.
    pub const FINAGLE: RetryBudgetParams = RetryBudgetParams {
        ttl: SimDuration::from_secs(10),
        min_retries_per_sec: 10,
        percent_can_retry: 0.2,
    };

    /// Checks every field, naming the first bad one and its valid range.
    pub fn validate(&self) -> Result<(), String> {
        if self.ttl < SimDuration::from_secs(1) || self.ttl > SimDuration::from_secs(60) {
            return Err(format!("ttl must be in [1s, 60s], got {}", self.ttl));
        }
        check_range("percent_can_retry", self.percent_can_retry, 0.0, RETRY_BUDGET_SCALE as f64)
    }
}

/// Finagle's `TokenRetryBudget` scale: token amounts are integers scaled by 1000 so that
/// `percent_can_retry` needs no floating point in the bucket.
const RETRY_BUDGET_SCALE: i64 = 1000;

/// Slices in the deposit window: Finagle's leaky `TokenBucket` uses a 10-slice
/// `WindowedAdder` over the ttl.
const RETRY_BUDGET_SLICES: usize = 10;

/// Finagle's retry budget: each request deposits 1000 tokens, each retry withdraws
/// `1000 / percent_can_retry` (5000 at 20%), and a constant reserve of
/// `min_retries_per_sec * ttl_secs` withdrawals is always there. Deposits and withdrawals
/// both expire after about `ttl`, so over any ttl the client sends at most
/// `percent_can_retry * requests + min_retries_per_sec * ttl_secs` retries.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    deposit_amount: i64,
    withdrawal_amount: i64,
    reserve: i64,
    window: WindowedSum<RETRY_BUDGET_SLICES>,
}

impl RetryBudget {
    /// An empty window: only the reserve is available at first.
    pub fn new(params: &RetryBudgetParams) -> RetryBudget {
        // Finagle: with no percentage, requests earn nothing and a retry costs 1.
        let (deposit_amount, withdrawal_amount) = if params.percent_can_retry == 0.0 {
            (0, 1)
        } else {
            (RETRY_BUDGET_SCALE, ((RETRY_BUDGET_SCALE as f64 / params.percent_can_retry) as i64).max(1))
        };
        let ttl_secs = (params.ttl.0 / NANOS_PER_SEC) as i64;
        let reserve =
            (params.min_retries_per_sec as i64).saturating_mul(ttl_secs).saturating_mul(withdrawal_amount);
        RetryBudget { deposit_amount, withdrawal_amount, reserve, window: WindowedSum::new(params.ttl) }
    }

    /// A request was issued (first attempts only, as Finagle's `RequeueFilter` does).
    pub fn deposit(&mut self, now: SimTime) {
        self.window.add(now, self.deposit_amount);
    }

    /// Withdraws one retry if the balance covers it; otherwise leaves the balance alone.
    pub fn try_withdraw(&mut self, now: SimTime) -> bool {
        let ok = self.balance_tokens(now) >= self.withdrawal_amount;
        if ok {
            self.window.add(now, -self.withdrawal_amount);
        }
        ok
    }

    /// Retries that could be made now (Finagle's `balance`).
    pub fn balance(&mut self, now: SimTime) -> i64 {
        self.balance_tokens(now) / self.withdrawal_amount
    }

    fn balance_tokens(&mut self, now: SimTime) -> i64 {
        self.window.sum(now).saturating_add(self.reserve)
    }
}

// ---------------------------------------------------------------------------------------
// Envoy retry budget
// ---------------------------------------------------------------------------------------

/// Parameters of Envoy's cluster `retry_budget` [Envoy API, `config.cluster.v3.
/// CircuitBreakers.Thresholds.RetryBudget`].
#[derive(Clone, Debug, PartialEq)]
pub struct ConcurrentRetryBudgetParams {
    /// Active retries allowed as a fraction of active requests (Envoy's `budget_percent`
    /// 20.0 is 0.2 here).
    pub budget_fraction: f64,
    /// Active retries always allowed, however few requests are active.
    pub min_retry_concurrency: u32,
}

impl ConcurrentRetryBudgetParams {
    /// Envoy's defaults: 20% of active requests, at least 3 concurrent retries.
    pub const ENVOY: ConcurrentRetryBudgetParams =
        ConcurrentRetryBudgetParams { budget_fraction: 0.2, min_retry_concurrency: 3 };

    /// Checks every field, naming the first bad one and its valid range.
    pub fn validate(&self) -> Result<(), String> {
        check_range("budget_fraction", self.budget_fraction, 0.0, 1.0)
    }
}

/// Envoy's retry budget: a limit on retries *in flight*, not on a rate. A retry may start
/// while active retries are fewer than `max(min_retry_concurrency, budget_fraction *
/// active requests)` (the product truncated, as Envoy's integer cast does). Active
/// requests count every attempt in flight, retries included, as Envoy's `rq_active` does.
#[derive(Clone, Debug)]
pub struct ConcurrentRetryBudget {
    params: ConcurrentRetryBudgetParams,
    active_requests: u32,
    active_retries: u32,
}

impl ConcurrentRetryBudget {
    /// Nothing in flight.
    pub fn new(params: &ConcurrentRetryBudgetParams) -> ConcurrentRetryBudget {
        ConcurrentRetryBudget { params: params.clone(), active_requests: 0, active_retries: 0 }
    }

    /// The most retries that may be in flight now.
    pub fn max_retries(&self) -> u32 {
        let share = (self.params.budget_fraction * self.active_requests as f64) as u32;
        share.max(self.params.min_retry_concurrency)
    }

    /// A first attempt was sent.
    pub fn start_request(&mut self) {
        self.active_requests = self.active_requests.saturating_add(1);
    }

    /// Starts a retry if the budget allows; it then counts as a request and a retry.
    pub fn try_start_retry(&mut self) -> bool {
        if self.active_retries >= self.max_retries() {
            return false;
        }
        self.active_retries += 1;
        self.active_requests = self.active_requests.saturating_add(1);
        true
    }

    /// An attempt finished, whatever its outcome; `was_retry` says which counter it held.
    pub fn finish(&mut self, was_retry: bool) {
        debug_assert!(self.active_requests > 0 && (!was_retry || self.active_retries > 0));
        self.active_requests = self.active_requests.saturating_sub(1);
        if was_retry {
            self.active_retries = self.active_retries.saturating_sub(1);
        }
    }

    /// Retries in flight, for reports and tests.
    pub fn active_retries(&self) -> u32 {
        self.active_retries
    }
}

// ---------------------------------------------------------------------------------------
// resilience4j circuit breaker
// ---------------------------------------------------------------------------------------

/// Parameters of a resilience4j count-based circuit breaker [resilience4j
/// `CircuitBreakerConfig`: `slidingWindowSize`, `minimumNumberOfCalls`,
/// `failureRateThreshold`, `waitDurationInOpenState`, `permittedNumberOfCallsInHalfOpenState`].
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitBreakerParams {
    /// Outcomes remembered while closed (the last `window` calls).
    pub window: u32,
    /// Outcomes needed before the failure rate is judged; resilience4j caps it at `window`.
    pub minimum_calls: u32,
    /// Failure rate that opens the breaker, as a fraction (resilience4j's 50 is 0.5 here).
    pub failure_rate_threshold: f64,
    /// How long the breaker stays open before letting trial calls through.
    pub wait_open: SimDuration,
    /// Trial calls permitted while half-open.
    pub half_open_calls: u32,
}

impl CircuitBreakerParams {
    /// resilience4j's defaults: 100 calls, min 100, 50%, open 60 s, 10 trial calls.
    pub const RESILIENCE4J: CircuitBreakerParams = CircuitBreakerParams {
        window: 100,
        minimum_calls: 100,
        failure_rate_threshold: 0.5,
        wait_open: SimDuration::from_secs(60),
        half_open_calls: 10,
    };

    /// Checks every field, naming the first bad one and its valid range.
    pub fn validate(&self) -> Result<(), String> {
        check_at_least("window", self.window as u64, 1)?;
        check_at_least("minimum_calls", self.minimum_calls as u64, 1)?;
        if !(self.failure_rate_threshold > 0.0 && self.failure_rate_threshold <= 1.0) {
            return Err(format!(
                "failure_rate_threshold must be in (0, 1], got {}",
                self.failure_rate_threshold
            ));
        }
        check_at_least("half_open_calls", self.half_open_calls as u64, 1)
    }
}

/// Where a circuit breaker is in its cycle; each state carries what it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow; outcomes fill the sliding window.
    Closed,
    /// Calls are refused locally until `until`.
    Open {
        /// When the wait ends and the next call becomes the first trial.
        until: SimTime,
    },
    /// Up to `half_open_calls` trial calls are let through and judged together.
    HalfOpen {
        /// Trial calls let through so far.
        n_permitted: u32,
        /// Trial outcomes recorded so far.
        n_recorded: u32,
        /// Of those, failures.
        n_failed: u32,
    },
}

/// resilience4j's count-based circuit breaker. Closed, it records the last `window`
/// outcomes and opens once at least `min(minimum_calls, window)` are recorded and the
/// failure rate is at or above the threshold. Open, it refuses every call for
/// `wait_open`; the first call after that moves it to half-open (resilience4j's default,
/// without automatic transition). Half-open, it permits exactly `half_open_calls` trial
/// calls and judges them once `min(minimum_calls, half_open_calls)` are recorded (all of
/// them with the defaults; resilience4j's half-open metrics cap the minimum the same
/// way): it re-opens if their failure rate is at or above the threshold, else closes with
/// an empty window. Outcomes recorded while open are ignored.
///
/// Cost: a ring of `window` booleans allocated at construction; every call is O(1).
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    params: CircuitBreakerParams,
    state: BreakerState,
    /// `true` marks a failure; only the first `n_recorded` slots are meaningful.
    ring: Vec<bool>,
    next_idx: usize,
    n_recorded: u32,
    n_failed: u32,
}

impl CircuitBreaker {
    /// A closed breaker with an empty window.
    pub fn new(params: &CircuitBreakerParams) -> CircuitBreaker {
        CircuitBreaker {
            params: params.clone(),
            state: BreakerState::Closed,
            ring: vec![false; params.window as usize],
            next_idx: 0,
            n_recorded: 0,
            n_failed: 0,
        }
    }

    /// The current state, for reports, tests and choosing a refusal.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a call may go out now. Counts the call as a trial when half-open.
    pub fn allow(&mut self, now: SimTime) -> bool {
        if let BreakerState::Open { until } = self.state {
            if now < until {
                return false;
            }
            self.state = BreakerState::HalfOpen { n_permitted: 0, n_recorded: 0, n_failed: 0 };
        }
        match &mut self.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen { n_permitted, .. } if *n_permitted < self.params.half_open_calls => {
                *n_permitted += 1;
                true
            }
            _ => false,
        }
    }

    /// The outcome of a call this breaker let through.
    pub fn record(&mut self, now: SimTime, success: bool) {
        match self.state {
            BreakerState::Closed => self.record_closed(now, success),
            BreakerState::HalfOpen { n_permitted, n_recorded, n_failed } => {
                self.record_half_open(now, success, n_permitted, n_recorded, n_failed)
            }
            BreakerState::Open { .. } => {}
        }
    }

    fn record_closed(&mut self, now: SimTime, success: bool) {
        if self.n_recorded as usize == self.ring.len() {
            self.n_failed -= self.ring[self.next_idx] as u32;
        } else {
            self.n_recorded += 1;
        }
        self.ring[self.next_idx] = !success;
        self.n_failed += !success as u32;
        self.next_idx = (self.next_idx + 1) % self.ring.len();
        let n_needed = self.params.minimum_calls.min(self.params.window);
        if self.n_recorded >= n_needed && self.trips(self.n_failed, self.n_recorded) {
            self.open(now);
        }
    }

    fn record_half_open(
        &mut self,
        now: SimTime,
        success: bool,
        n_permitted: u32,
        n_recorded: u32,
        n_failed: u32,
    ) {
        let (n_recorded, n_failed) = (n_recorded + 1, n_failed + !success as u32);
        if n_recorded < self.params.minimum_calls.min(self.params.half_open_calls) {
            self.state = BreakerState::HalfOpen { n_permitted, n_recorded, n_failed };
        } else if self.trips(n_failed, n_recorded) {
            self.open(now);
        } else {
            self.close();
        }
    }

    /// The failure-rate test, `n_failed / n >= threshold`, shared by both states.
    fn trips(&self, n_failed: u32, n: u32) -> bool {
        n_failed as f64 / n as f64 >= self.params.failure_rate_threshold
    }

    fn open(&mut self, now: SimTime) {
        self.state = BreakerState::Open { until: now.after(self.params.wait_open) };
    }

    fn close(&mut self) {
        self.state = BreakerState::Closed;
        self.next_idx = 0;
        self.n_recorded = 0;
        self.n_failed = 0;
    }
}

// ---------------------------------------------------------------------------------------
// Google SRE client-side adaptive throttling
// ---------------------------------------------------------------------------------------

/// Parameters of client-side adaptive throttling [Google SRE book, ch. 21 "Handling
/// Overload", "Client-side throttling"].
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveThrottleParams {
    /// The multiplier K: the backend may be sent about K times what it accepts.
    pub k: f64,
    /// How far back requests and accepts are counted.
    pub window: SimDuration,
}

impl AdaptiveThrottleParams {
    /// The SRE book's values: K = 2, two minutes of history.
    pub const SRE: AdaptiveThrottleParams =
        AdaptiveThrottleParams { k: 2.0, window: SimDuration::from_secs(120) };

    /// Checks every field, naming the first bad one and its valid range.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.k >= 1.0 && self.k.is_finite()) {
            return Err(format!("k must be a finite number of at least 1, got {}", self.k));
        }
        if self.window < SimDuration::from_secs(1) {
            return Err(format!("window must be at least 1s, got {}", self.window));
        }
        Ok(())
    }
}

/// Slices in the throttle's window: one per second for the SRE book's two minutes.
const THROTTLE_SLICES: usize = 120;

/// The SRE book's client-side throttling: the client counts the requests it wanted to send
/// and the ones the backend accepted, and rejects a new request locally with probability
/// `max(0, (requests - K * accepts) / (requests + 1))`. Locally rejected requests count as
/// requests, so the rejection rate rises as long as the backend keeps refusing.
#[derive(Clone, Debug)]
pub struct AdaptiveThrottle {
    k: f64,
    requests: WindowedSum<THROTTLE_SLICES>,
    accepts: WindowedSum<THROTTLE_SLICES>,
}

impl AdaptiveThrottle {
    /// No history. The formula has no warm-up: until the first answers return, requests in
    /// flight already count against zero accepts, so a client that sends faster than its
    /// latency sheds some of its first requests (`p = 1/2` for the second one).
    pub fn new(params: &AdaptiveThrottleParams) -> AdaptiveThrottle {
        AdaptiveThrottle {
            k: params.k,
            requests: WindowedSum::new(params.window),
            accepts: WindowedSum::new(params.window),
        }
    }

    /// The chance that a request made now is rejected locally.
    pub fn rejection_probability(&mut self, now: SimTime) -> f64 {
        let requests = self.requests.sum(now) as f64;
        let accepts = self.accepts.sum(now) as f64;
        ((requests - self.k * accepts) / (requests + 1.0)).max(0.0)
    }

    /// Counts a request and decides whether it may go out (`false`: reject locally). Draws
    /// from `rng` only when the probability is positive.
    pub fn allow(&mut self, now: SimTime, rng: &mut StreamRng) -> bool {
        let p = self.rejection_probability(now);
        self.requests.add(now, 1);
        p <= 0.0 || rng.random::<f64>() >= p
    }

    /// The backend accepted a request (answered it, whether or not with success).
    pub fn record_accept(&mut self, now: SimTime) {
        self.accepts.add(now, 1);
    }
}

// ---------------------------------------------------------------------------------------
// One type for a client: spec, preset, runtime limiter
// ---------------------------------------------------------------------------------------

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
    /// Checks the parameters of whichever kind this is.
    pub fn validate(&self) -> Result<(), String> {
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
    pub fn from_name(name: &str) -> Result<Preset, String> {
        Preset::ALL.into_iter().find(|preset| preset.name() == name).ok_or_else(|| {
            let expected: Vec<String> =
                Preset::ALL.iter().map(|preset| format!("\"{}\"", preset.name())).collect();
            format!("unknown limiter preset \"{name}\"; expected one of {}", expected.join(", "))
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
    /// the retry limiters.
    pub fn refusal_reason(&self) -> FailureReason {
        match self {
            Limiter::CircuitBreaker(_) => FailureReason::CircuitOpen,
            Limiter::AdaptiveThrottle(_) => FailureReason::Rejected,
            _ => FailureReason::RetryBudgetExhausted,
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

/// A permission that costs nothing to refund: `Some(0)` when allowed.
fn free_if(allowed: bool) -> Option<u32> {
    allowed.then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NANOS_PER_SEC)
    }

    #[test]
    fn windowed_sum_forgets_after_the_window() {
        let mut w = WindowedSum::<10>::new(SimDuration::from_secs(10));
        w.add(secs(0), 5);
        w.add(secs(3), 2);
        assert_eq!(w.sum(SimTime(10 * NANOS_PER_SEC - 1)), 7, "slice 0 still inside at 9.999 s");
        assert_eq!(w.sum(secs(10)), 2, "slice 0 gone at 10 s");
        assert_eq!(w.sum(secs(13)), 0);
        w.add(secs(1000), 1);
        assert_eq!(w.sum(secs(1000)), 1, "a long jump clears everything");
    }

    #[test]
    fn grpc_bucket_spends_and_refunds_tokens() {
        let mut bucket = TokenBucket::new(&TokenBucketParams::GRPC);
        assert_eq!(bucket.tokens(), 10.0, "starts full");
        bucket.on_failure();
        assert_eq!(bucket.tokens(), 9.0);
        bucket.on_success();
        assert_eq!(bucket.tokens(), 9.1);
        for _ in 0..20 {
            bucket.on_success();
        }
        assert_eq!(bucket.tokens(), 10.0, "capped at max_tokens");
        for _ in 0..20 {
            bucket.on_failure();
        }
        assert_eq!(bucket.tokens(), 0.0, "floored at zero");
    }

    #[test]
    fn grpc_bucket_refuses_retries_at_exactly_half() {
        let mut bucket = TokenBucket::new(&TokenBucketParams::GRPC);
        for _ in 0..4 {
            bucket.on_failure();
        }
        assert_eq!(bucket.tokens(), 6.0);
        assert!(bucket.allows_retry());
        bucket.on_failure();
        assert_eq!(bucket.tokens(), 5.0);
        assert!(!bucket.allows_retry(), "tokens == max_tokens / 2 is refused");
        bucket.on_success();
        assert_eq!(bucket.tokens(), 5.1);
        assert!(bucket.allows_retry(), "5.1 > 5");
    }

    #[test]
    fn grpc_bucket_threshold_with_an_odd_max() {
        let mut bucket = TokenBucket::new(&TokenBucketParams { max_tokens: 3, token_ratio: 0.5 });
        bucket.on_failure();
        assert_eq!(bucket.tokens(), 2.0);
        assert!(bucket.allows_retry(), "2 > 1.5");
        bucket.on_failure();
        bucket.on_success();
        assert_eq!(bucket.tokens(), 1.5);
        assert!(!bucket.allows_retry(), "1.5 is exactly half");
    }

    #[test]
    fn aws_quota_charges_retries_and_refunds_successes() {
        let mut quota = RetryQuota::new(&RetryQuotaParams::AWS_STANDARD);
        assert_eq!(quota.tokens(), 500);
        assert_eq!(quota.try_acquire(false), Some(5));
        assert_eq!(quota.tokens(), 495);
        assert_eq!(quota.try_acquire(true), Some(10), "a retry after a timeout costs 10");
        assert_eq!(quota.tokens(), 485);
        quota.on_success(Some(10));
        assert_eq!(quota.tokens(), 495, "a successful retry refunds its cost");
        quota.on_success(None);
        assert_eq!(quota.tokens(), 496, "a first-attempt success refunds 1");
        for _ in 0..10 {
            quota.on_success(None);
        }
        assert_eq!(quota.tokens(), 500, "capped at the capacity");
    }

    #[test]
    fn aws_quota_refuses_when_it_cannot_pay() {
        let mut quota = RetryQuota::new(&RetryQuotaParams::AWS_STANDARD);
        for _ in 0..100 {
            assert!(quota.try_acquire(false).is_some());
        }
        assert_eq!(quota.tokens(), 0);
        assert_eq!(quota.try_acquire(false), None);
        quota.on_success(Some(5));
        quota.on_success(Some(5));
        assert_eq!(quota.tokens(), 10);
        assert_eq!(quota.try_acquire(true), Some(10), "exactly enough is enough");
        assert_eq!(quota.try_acquire(false), None, "a refusal leaves the quota alone");
        assert_eq!(quota.tokens(), 0);
    }

    #[test]
    fn finagle_budget_reserve_is_min_retries_times_ttl() {
        let mut budget = RetryBudget::new(&RetryBudgetParams::FINAGLE);
        assert_eq!(budget.balance(secs(0)), 100, "10/s over 10 s");
        for _ in 0..100 {
            assert!(budget.try_withdraw(secs(0)));
        }
        assert!(!budget.try_withdraw(secs(0)));
        assert_eq!(budget.balance(secs(9)), 0);
        assert_eq!(budget.balance(secs(10)), 100, "withdrawals expire with the ttl");
    }

    #[test]
    fn finagle_budget_allows_twenty_percent_of_requests() {
        let params = RetryBudgetParams { min_retries_per_sec: 0, ..RetryBudgetParams::FINAGLE };
        let mut budget = RetryBudget::new(&params);
        assert!(!budget.try_withdraw(secs(0)), "no requests, no reserve, no retries");
        for _ in 0..50 {
            budget.deposit(secs(0));
        }
        assert_eq!(budget.balance(secs(0)), 10, "20% of 50");
        let n_allowed = (0..20).filter(|_| budget.try_withdraw(secs(1))).count();
        assert_eq!(n_allowed, 10);
        assert_eq!(budget.balance(secs(9)), 0);
        // The deposits (slice 0) expire at 10 s; the withdrawals (slice 1) at 11 s.
        assert_eq!(budget.balance(secs(10)), -10);
        assert_eq!(budget.balance(secs(11)), 0);
    }

    #[test]
    fn finagle_budget_without_percentage_lives_on_the_reserve() {
        let params = RetryBudgetParams { percent_can_retry: 0.0, ..RetryBudgetParams::FINAGLE };
        let mut budget = RetryBudget::new(&params);
        for _ in 0..1000 {
            budget.deposit(secs(0));
        }
        assert_eq!(budget.balance(secs(0)), 100, "deposits earn nothing");
    }

    #[test]
    fn envoy_budget_is_the_larger_of_minimum_and_share() {
        let mut budget = ConcurrentRetryBudget::new(&ConcurrentRetryBudgetParams::ENVOY);
        assert_eq!(budget.max_retries(), 3, "min_retry_concurrency with nothing active");
        for _ in 0..19 {
            budget.start_request();
        }
        assert_eq!(budget.max_retries(), 3, "20% of 19 truncates to 3");
        budget.start_request();
        assert_eq!(budget.max_retries(), 4, "20% of 20");
    }

    #[test]
    fn envoy_budget_counts_retries_in_flight() {
        let mut budget = ConcurrentRetryBudget::new(&ConcurrentRetryBudgetParams::ENVOY);
        budget.start_request();
        assert!(budget.try_start_retry());
        assert!(budget.try_start_retry());
        assert!(budget.try_start_retry());
        assert!(!budget.try_start_retry(), "3 active retries of 4 active requests");
        assert_eq!(budget.active_retries(), 3);
        budget.finish(true);
        assert!(budget.try_start_retry(), "a finished retry frees its place");
        budget.finish(false);
        assert_eq!(budget.active_retries(), 3);
    }

    #[test]
    fn validation_names_the_field_and_range() {
        let bad_ratio = TokenBucketParams { token_ratio: -0.1, ..TokenBucketParams::GRPC };
        assert_eq!(bad_ratio.validate().unwrap_err(), "token_ratio must be in [0.001, 1], got -0.1");
        let bad_max = TokenBucketParams { max_tokens: 0, ..TokenBucketParams::GRPC };
        assert_eq!(bad_max.validate().unwrap_err(), "max_tokens must be in [1, 1000], got 0");
        let bad_cost = RetryQuotaParams { retry_cost: 0, ..RetryQuotaParams::AWS_STANDARD };
        assert_eq!(bad_cost.validate().unwrap_err(), "retry_cost must be at least 1, got 0");
        let bad_ttl = RetryBudgetParams { ttl: SimDuration::from_millis(500), ..RetryBudgetParams::FINAGLE };
        assert_eq!(bad_ttl.validate().unwrap_err(), "ttl must be in [1s, 60s], got 500ms");
        let bad_share = ConcurrentRetryBudgetParams { budget_fraction: f64::NAN, min_retry_concurrency: 3 };
        assert_eq!(bad_share.validate().unwrap_err(), "budget_fraction must be in [0, 1], got NaN");
        assert!(TokenBucketParams::GRPC.validate().is_ok());
        assert!(RetryQuotaParams::AWS_STANDARD.validate().is_ok());
        assert!(RetryBudgetParams::FINAGLE.validate().is_ok());
        assert!(ConcurrentRetryBudgetParams::ENVOY.validate().is_ok());
    }

    fn breaker(window: u32, minimum_calls: u32) -> CircuitBreaker {
        CircuitBreaker::new(&CircuitBreakerParams {
            window,
            minimum_calls,
            ..CircuitBreakerParams::RESILIENCE4J
        })
    }

    /// Records `n` calls with the given outcome at `now`, each one first allowed.
    fn calls(b: &mut CircuitBreaker, now: SimTime, n: u32, success: bool) {
        for _ in 0..n {
            assert!(b.allow(now));
            b.record(now, success);
        }
    }

    fn open_breaker_at(now: SimTime) -> CircuitBreaker {
        let mut b = CircuitBreaker::new(&CircuitBreakerParams::RESILIENCE4J);
        calls(&mut b, now, 100, false);
        assert_eq!(b.state(), BreakerState::Open { until: now.after(SimDuration::from_secs(60)) });
        b
    }

    #[test]
    fn breaker_opens_at_exactly_the_threshold() {
        let mut b = breaker(100, 100);
        calls(&mut b, secs(0), 51, true);
        calls(&mut b, secs(0), 48, false);
        assert_eq!(b.state(), BreakerState::Closed, "99 calls: below minimum_calls");
        calls(&mut b, secs(1), 1, false);
        assert_eq!(b.state(), BreakerState::Closed, "49% of 100 stays closed");
        calls(&mut b, secs(2), 1, false);
        // The window slid: the oldest success left, a failure came in: 50 of 100.
        assert_eq!(b.state(), BreakerState::Open { until: secs(62) }, "50% of 100 opens");
        assert!(!b.allow(secs(3)));
    }

    #[test]
    fn breaker_respects_minimum_calls() {
        let mut b = breaker(100, 100);
        calls(&mut b, secs(0), 99, false);
        assert_eq!(b.state(), BreakerState::Closed, "99 failures of 99 calls: not judged yet");
        calls(&mut b, secs(0), 1, false);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        let mut small = breaker(10, 100);
        calls(&mut small, secs(0), 9, false);
        assert_eq!(small.state(), BreakerState::Closed);
        calls(&mut small, secs(0), 1, false);
        assert!(matches!(small.state(), BreakerState::Open { .. }), "minimum_calls capped at window");
    }

    #[test]
    fn breaker_waits_then_permits_exactly_the_trial_calls() {
        let mut b = open_breaker_at(secs(0));
        assert!(!b.allow(SimTime(60 * NANOS_PER_SEC - 1)), "still open just before 60 s");
        let n_permitted = (0..25).filter(|_| b.allow(secs(60))).count();
        assert_eq!(n_permitted, 10, "half_open_calls trials, no more");
        assert_eq!(b.state(), BreakerState::HalfOpen { n_permitted: 10, n_recorded: 0, n_failed: 0 });
    }

    #[test]
    fn breaker_reopens_when_trials_fail_at_the_threshold() {
        let mut b = open_breaker_at(secs(0));
        for idx in 0..10 {
            assert!(b.allow(secs(60)));
            b.record(secs(61), idx % 2 == 0);
        }
        assert_eq!(b.state(), BreakerState::Open { until: secs(121) }, "5 of 10 failed: 50% re-opens");
    }

    #[test]
    fn breaker_closes_with_a_fresh_window_when_trials_pass() {
        let mut b = open_breaker_at(secs(0));
        for idx in 0..10 {
            assert!(b.allow(secs(60)));
            b.record(secs(61), idx >= 4);
        }
        assert_eq!(b.state(), BreakerState::Closed, "4 of 10 failed: closes");
        calls(&mut b, secs(62), 99, false);
        assert_eq!(b.state(), BreakerState::Closed, "old failures forgotten: minimum_calls again");
        calls(&mut b, secs(62), 1, false);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
    }

    #[test]
    fn breaker_judges_trials_early_when_minimum_calls_is_smaller() {
        let params =
            CircuitBreakerParams { window: 10, minimum_calls: 4, ..CircuitBreakerParams::RESILIENCE4J };
        let mut b = CircuitBreaker::new(&params);
        calls(&mut b, secs(0), 2, true);
        calls(&mut b, secs(0), 2, false);
        assert_eq!(b.state(), BreakerState::Open { until: secs(60) }, "2 of 4: judged at minimum_calls");
        for _ in 0..4 {
            assert!(b.allow(secs(60)));
            b.record(secs(60), true);
        }
        assert_eq!(b.state(), BreakerState::Closed, "closed after 4 of the 10 permitted trials");
    }

    #[test]
    fn breaker_ignores_outcomes_while_open() {
        let mut b = open_breaker_at(secs(0));
        b.record(secs(1), true);
        assert_eq!(b.state(), BreakerState::Open { until: secs(60) });
    }

    #[test]
    fn throttle_probability_follows_the_sre_formula() {
        let mut throttle = AdaptiveThrottle::new(&AdaptiveThrottleParams::SRE);
        let mut rng = crate::engine::RngStreams::new(7).stream("throttle");
        assert_eq!(throttle.rejection_probability(secs(0)), 0.0);
        for _ in 0..100 {
            throttle.requests.add(secs(0), 1);
        }
        for _ in 0..20 {
            throttle.record_accept(secs(0));
        }
        let expected = (100.0 - 2.0 * 20.0) / 101.0;
        assert_eq!(throttle.rejection_probability(secs(1)), expected);
        for _ in 0..30 {
            throttle.record_accept(secs(1));
        }
        assert_eq!(throttle.rejection_probability(secs(1)), 0.0, "requests == K * accepts");
        assert!(throttle.allow(secs(1), &mut rng), "p = 0 never rejects");
        assert_eq!(throttle.rejection_probability(secs(1)), 1.0 / 102.0, "the allowed request counted");
    }

    #[test]
    fn throttle_rejects_at_about_the_stated_rate() {
        let mut throttle = AdaptiveThrottle::new(&AdaptiveThrottleParams::SRE);
        let mut rng = crate::engine::RngStreams::new(8).stream("throttle");
        for _ in 0..999 {
            throttle.requests.add(secs(0), 1);
        }
        // 999 requests, no accepts: p = 999/1000; it rises by a hair as requests add up.
        let n_allowed = (0..10_000).filter(|_| throttle.allow(secs(0), &mut rng)).count();
        assert!(n_allowed < 40, "{n_allowed}");
    }

    #[test]
    fn throttle_has_no_warm_up() {
        let mut throttle = AdaptiveThrottle::new(&AdaptiveThrottleParams::SRE);
        let mut rng = crate::engine::RngStreams::new(9).stream("throttle");
        assert!(throttle.allow(secs(0), &mut rng), "the first request always goes");
        assert_eq!(throttle.rejection_probability(secs(0)), 0.5, "one in flight, no accepts yet");
    }

    #[test]
    fn throttle_forgets_after_the_window() {
        let mut throttle = AdaptiveThrottle::new(&AdaptiveThrottleParams::SRE);
        for _ in 0..10 {
            throttle.requests.add(secs(0), 1);
        }
        assert_eq!(throttle.rejection_probability(secs(119)), 10.0 / 11.0);
        assert_eq!(throttle.rejection_probability(secs(120)), 0.0, "two minutes later");
    }

    #[test]
    fn protection_validation_names_the_field_and_range() {
        let bad_window = CircuitBreakerParams { window: 0, ..CircuitBreakerParams::RESILIENCE4J };
        assert_eq!(bad_window.validate().unwrap_err(), "window must be at least 1, got 0");
        let bad_rate =
            CircuitBreakerParams { failure_rate_threshold: 0.0, ..CircuitBreakerParams::RESILIENCE4J };
        assert_eq!(bad_rate.validate().unwrap_err(), "failure_rate_threshold must be in (0, 1], got 0");
        let bad_k = AdaptiveThrottleParams { k: 0.5, ..AdaptiveThrottleParams::SRE };
        assert_eq!(bad_k.validate().unwrap_err(), "k must be a finite number of at least 1, got 0.5");
        let bad_throttle_window =
            AdaptiveThrottleParams { window: SimDuration::ZERO, ..AdaptiveThrottleParams::SRE };
        assert_eq!(bad_throttle_window.validate().unwrap_err(), "window must be at least 1s, got 0s");
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
            Preset::from_name("gprc").unwrap_err(),
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
                    min_retry_concurrency: 3
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
        assert_eq!(spec.validate().unwrap_err(), "token_ratio must be in [0.001, 1], got 1.5");
    }

    #[test]
    fn retry_limiters_never_gate_first_attempts() {
        for preset in [Preset::Grpc, Preset::AwsStandard, Preset::Finagle, Preset::Envoy] {
            let mut limiter = preset.spec().build();
            for _ in 0..2000 {
                let permit = limiter.try_acquire(secs(0), AttemptKind::First, &mut rng());
                assert!(permit.is_ok(), "{}", preset.name());
                // Not released: for Envoy they stay active, for the others it does not matter.
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
