//! gRPC retry throttling (gRFC A6): a token bucket that stops retries when too many fail.

use super::check_range;
use crate::refusal::Refusal;

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
    pub fn validate(&self) -> Result<(), Refusal> {
        if !(1..=1000).contains(&self.max_tokens) {
            return Err(Refusal::new(format!("max_tokens must be in [1, 1000], got {}", self.max_tokens)));
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
