//! Client-side adaptive throttling (Google SRE book, "Handling Overload").

use super::window::WindowedSum;
use crate::engine::{SimDuration, SimTime, StreamRng};
use crate::refusal::Refusal;
use rand::RngExt;

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
    pub fn validate(&self) -> Result<(), Refusal> {
        if !(self.k >= 1.0 && self.k.is_finite()) {
            return Err(Refusal::new(format!("k must be a finite number of at least 1, got {}", self.k)));
        }
        if self.window < SimDuration::from_secs(1) {
            return Err(Refusal::new(format!("window must be at least 1s, got {}", self.window)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NANOS_PER_SEC;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NANOS_PER_SEC)
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
}
