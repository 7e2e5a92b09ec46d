//! The AWS SDK standard-mode retry quota: retries spend tokens, successes refund them.

use super::check_at_least;
use crate::refusal::Refusal;

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
    pub fn validate(&self) -> Result<(), Refusal> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
