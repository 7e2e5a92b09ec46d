//! A count-based circuit breaker with resilience4j's semantics: closed, open, half-open.

use super::check_at_least;
use crate::engine::{SimDuration, SimTime};
use crate::refusal::Refusal;
use crate::stats::BreakerPhase;

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
    pub fn validate(&self) -> Result<(), Refusal> {
        check_at_least("window", self.window as u64, 1)?;
        check_at_least("minimum_calls", self.minimum_calls as u64, 1)?;
        if !(self.failure_rate_threshold > 0.0 && self.failure_rate_threshold <= 1.0) {
            return Err(Refusal::new(format!(
                "failure_rate_threshold must be in (0, 1], got {}",
                self.failure_rate_threshold
            )));
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
    /// Time spent open and half-open so far, for reports: credited at each transition
    /// out of the state, from `since`.
    history: BreakerHistory,
    since: SimTime,
}

/// How a breaker spent its time: for the summary and the time series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BreakerHistory {
    /// Times it opened (from closed or half-open).
    pub openings: u64,
    pub open: SimDuration,
    pub half_open: SimDuration,
}

impl BreakerHistory {
    pub fn plus(self, other: BreakerHistory) -> BreakerHistory {
        BreakerHistory {
            openings: self.openings + other.openings,
            open: SimDuration(self.open.0 + other.open.0),
            half_open: SimDuration(self.half_open.0 + other.half_open.0),
        }
    }

    /// What happened since `earlier`, a history of the same breakers.
    pub fn since(self, earlier: BreakerHistory) -> BreakerHistory {
        BreakerHistory {
            openings: self.openings.saturating_sub(earlier.openings),
            open: SimDuration(self.open.0.saturating_sub(earlier.open.0)),
            half_open: SimDuration(self.half_open.0.saturating_sub(earlier.half_open.0)),
        }
    }
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
            history: BreakerHistory::default(),
            since: SimTime::ZERO,
        }
    }

    /// The current state, for reports, tests and choosing a refusal.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// The state as a report sees it at `now`: an open breaker whose wait is over is
    /// half-open (it lets the next call through as a trial).
    pub fn phase(&self, now: SimTime) -> BreakerPhase {
        match self.state {
            BreakerState::Closed => BreakerPhase::Closed,
            BreakerState::Open { until } if now < until => BreakerPhase::Open,
            BreakerState::Open { .. } | BreakerState::HalfOpen { .. } => BreakerPhase::HalfOpen,
        }
    }

    /// Openings and time open and half-open up to `now`, the current stretch included.
    pub fn history(&self, now: SimTime) -> BreakerHistory {
        let mut history = self.history;
        match self.state {
            BreakerState::Closed => {}
            BreakerState::Open { until } => {
                history.open += now.min(until).since(self.since);
                history.half_open += now.since(until.min(now));
            }
            BreakerState::HalfOpen { .. } => history.half_open += now.since(self.since),
        }
        history
    }

    /// Whether a call may go out now. Counts the call as a trial when half-open.
    pub fn allow(&mut self, now: SimTime) -> bool {
        if let BreakerState::Open { until } = self.state {
            if now < until {
                return false;
            }
            self.history.open += until.since(self.since);
            self.since = until;
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

    /// A call this breaker let through was cancelled before its outcome was known: a
    /// trial's permission is handed back (resilience4j's `releasePermission`).
    pub fn cancel(&mut self) {
        if let BreakerState::HalfOpen { n_permitted, .. } = &mut self.state {
            *n_permitted = n_permitted.saturating_sub(1);
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
            self.close(now);
        }
    }

    /// The failure-rate test, `n_failed / n >= threshold`, shared by both states.
    fn trips(&self, n_failed: u32, n: u32) -> bool {
        n_failed as f64 / n as f64 >= self.params.failure_rate_threshold
    }

    fn open(&mut self, now: SimTime) {
        if let BreakerState::HalfOpen { .. } = self.state {
            self.history.half_open += now.since(self.since);
        }
        self.history.openings += 1;
        self.since = now;
        self.state = BreakerState::Open { until: now.after(self.params.wait_open) };
    }

    fn close(&mut self, now: SimTime) {
        self.history.half_open += now.since(self.since);
        self.state = BreakerState::Closed;
        self.next_idx = 0;
        self.n_recorded = 0;
        self.n_failed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NANOS_PER_SEC;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NANOS_PER_SEC)
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
    fn history_counts_openings_and_the_time_open_and_half_open() {
        let d = SimDuration::from_secs;
        let history =
            |openings, open, half_open| BreakerHistory { openings, open: d(open), half_open: d(half_open) };
        let mut b = breaker(4, 4);
        calls(&mut b, secs(10), 4, false);
        assert_eq!((b.phase(secs(30)), b.history(secs(30))), (BreakerPhase::Open, history(1, 20, 0)));
        // The wait ended at 70 s; no call has come yet, so it reports half-open since then.
        assert_eq!((b.phase(secs(80)), b.history(secs(80))), (BreakerPhase::HalfOpen, history(1, 60, 10)));
        // Four trials at 90 s succeed at 95 s: closed, half-open from 70 s to 95 s.
        for _ in 0..4 {
            assert!(b.allow(secs(90)));
        }
        for _ in 0..4 {
            b.record(secs(95), true);
        }
        assert_eq!((b.phase(secs(200)), b.history(secs(200))), (BreakerPhase::Closed, history(1, 60, 25)));
        // It opens again, and history keeps adding up.
        calls(&mut b, secs(300), 4, false);
        assert_eq!(b.history(secs(310)), history(2, 70, 25));
    }

    #[test]
    fn a_cancelled_trial_hands_its_permission_back() {
        let mut b = breaker(100, 100);
        calls(&mut b, secs(0), 100, false);
        for _ in 0..10 {
            assert!(b.allow(secs(61)));
        }
        assert!(!b.allow(secs(61)), "10 trials permitted");
        b.cancel();
        assert!(b.allow(secs(61)), "a cancelled trial frees a permission");
    }
}
