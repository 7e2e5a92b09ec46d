//! Retry budgets: Finagle's (a share of recent requests plus a floor per second) and
//! Envoy's (a share of the requests active now).

use super::window::WindowedSum;
use super::{check_at_least, check_range};
use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::refusal::Refusal;

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
    pub fn validate(&self) -> Result<(), Refusal> {
        if self.ttl < SimDuration::from_secs(1) || self.ttl > SimDuration::from_secs(60) {
            return Err(Refusal::new(format!("ttl must be in [1s, 60s], got {}", self.ttl)));
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

/// Parameters of Envoy's cluster `retry_budget` [Envoy API, `config.cluster.v3.
/// CircuitBreakers.Thresholds.RetryBudget`].
#[derive(Clone, Debug, PartialEq)]
pub struct ConcurrentRetryBudgetParams {
    /// Active retries allowed as a fraction of active requests (Envoy's `budget_percent`
    /// 20.0 is 0.2 here).
    pub budget_fraction: f64,
    /// Active retries always allowed, however few requests are active.
    pub min_retry_concurrency: u32,
    /// Envoy's `max_requests` circuit-breaking threshold: no attempt starts while this
    /// many are active (a local 503 overflow, counted as `circuit_open`).
    pub max_requests: u32,
}

impl ConcurrentRetryBudgetParams {
    /// Envoy's defaults: 20% of active requests, at least 3 concurrent retries, at most
    /// 1024 requests active.
    pub const ENVOY: ConcurrentRetryBudgetParams =
        ConcurrentRetryBudgetParams { budget_fraction: 0.2, min_retry_concurrency: 3, max_requests: 1024 };

    /// Checks every field, naming the first bad one and its valid range.
    pub fn validate(&self) -> Result<(), Refusal> {
        check_range("budget_fraction", self.budget_fraction, 0.0, 1.0)?;
        check_at_least("max_requests", self.max_requests as u64, 1)
    }
}

/// Envoy's retry budget: a limit on retries *in flight*, not on a rate. A retry may start
/// while active retries are fewer than `max(min_retry_concurrency, budget_fraction *
/// active requests)` (the product truncated, as Envoy's integer cast does). Active
/// requests count every attempt in flight, retries included, as Envoy's `rq_active` does;
/// with `max_requests` of them active, nothing more starts (Envoy's circuit breaking).
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

    /// Whether the circuit-breaking threshold stops any attempt now.
    pub fn overflowing(&self) -> bool {
        self.active_requests >= self.params.max_requests
    }

    /// Starts a first attempt (the caller checked `overflowing`).
    pub fn start_request(&mut self) {
        self.active_requests = self.active_requests.saturating_add(1);
    }

    /// Starts a retry if the budget allows (the caller checked `overflowing`); it then
    /// counts as a request and a retry.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NANOS_PER_SEC;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NANOS_PER_SEC)
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
}
