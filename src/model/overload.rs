//! Overload control on a service: which queued attempt a free worker takes (FIFO, LIFO,
//! adaptive LIFO), when a queued attempt is dropped instead (CoDel, and deadline-aware
//! dropping of work whose caller has given up), and which classes are shed when an
//! instance runs hot. The concurrency limit's algorithms live in `concurrency`.
//!
//! Sources: Facebook, "Fail at Scale" (CoDel: when the queue has not been empty for the
//! last `interval`, an attempt may wait only `target`; adaptive LIFO serves newest first
//! while the queue is in that state); folly's defaults of 5 ms and 100 ms; Google SRE,
//! "Handling Overload" (criticality: shed the sheddable first).

use super::concurrency::ConcurrencyLimit;
use crate::engine::{SimDuration, SimTime};

/// Overload-control settings of a service.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverloadControl {
    pub discipline: Discipline,
    /// Drop a queued attempt whose caller has already given up when it would get a worker,
    /// instead of serving it (wasted work).
    pub drop_abandoned: bool,
    /// Reject sheddable classes at the door while the instance's recent CPU utilisation is
    /// at least this.
    pub shed_above: Option<f64>,
    /// Reject arrivals at an instance whose attempts in progress (holding a worker or
    /// queued) are at its limit.
    pub concurrency_limit: Option<ConcurrencyLimit>,
    /// CPU a rejection at the door burns on one of the instance's cores, without a worker,
    /// before the 503 goes back ("fast and cheap but not free"), so under CPU saturation
    /// rejections wait for a core too. Queued attempts dropped later (CoDel, abandoned work)
    /// do not pay it: the cost stands for the check at the door. Zero answers at once.
    pub reject_cpu: SimDuration,
}

impl Default for OverloadControl {
    fn default() -> OverloadControl {
        OverloadControl {
            discipline: Discipline::Fifo,
            drop_abandoned: false,
            shed_above: None,
            concurrency_limit: None,
            reject_cpu: SimDuration::ZERO,
        }
    }
}

/// The order in which queued attempts get a worker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Discipline {
    Fifo,
    Lifo,
    /// FIFO until the queue has been non-empty for `interval`, then LIFO, with CoDel's
    /// queue-time limit.
    AdaptiveLifo {
        codel: CoDel,
    },
    /// FIFO with CoDel's queue-time limit.
    CoDel(CoDel),
}

/// Controlled delay as "Fail at Scale" describes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoDel {
    /// Longest wait while overloaded (folly: 5 ms).
    pub target: SimDuration,
    /// A queue non-empty for this long is overloaded, and this is the longest wait
    /// otherwise (folly: 100 ms).
    pub interval: SimDuration,
}

impl CoDel {
    pub const FOLLY: CoDel =
        CoDel { target: SimDuration::from_millis(5), interval: SimDuration::from_millis(100) };

    /// How long an attempt may have waited at `now`, given when the queue last became
    /// non-empty.
    #[inline]
    pub fn max_wait(&self, now: SimTime, nonempty_since: SimTime) -> SimDuration {
        if now.since(nonempty_since) > self.interval { self.target } else { self.interval }
    }
}

impl Discipline {
    /// The CoDel limit, if the discipline has one.
    #[inline]
    pub fn codel(&self) -> Option<&CoDel> {
        match self {
            Discipline::AdaptiveLifo { codel } | Discipline::CoDel(codel) => Some(codel),
            Discipline::Fifo | Discipline::Lifo => None,
        }
    }

    /// Whether the next attempt comes from the back of the queue.
    #[inline]
    pub fn newest_first(&self, now: SimTime, nonempty_since: SimTime) -> bool {
        match self {
            Discipline::Lifo => true,
            Discipline::AdaptiveLifo { codel } => now.since(nonempty_since) > codel.interval,
            Discipline::Fifo | Discipline::CoDel(_) => false,
        }
    }
}

/// CPU utilisation of one instance over the last complete `window`, for shedding.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecentLoad {
    mark_area: u128,
    mark_time: SimTime,
    pub utilisation: f64,
}

impl RecentLoad {
    /// The shedding signal's window: 1 s.
    pub const WINDOW: SimDuration = SimDuration::from_secs(1);

    /// Updates the estimate from the instance's busy-core area, once per window.
    #[inline]
    pub fn update(&mut self, now: SimTime, area: u128, cores: u32) {
        let span = now.since(self.mark_time);
        if span >= RecentLoad::WINDOW {
            self.utilisation = (area - self.mark_area) as f64 / (span.0 as f64 * cores as f64);
            self.mark_area = area;
            self.mark_time = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codel_shortens_the_allowed_wait_once_the_queue_stays_busy() {
        let ms = |m: u64| SimTime(m * 1_000_000);
        let codel = CoDel::FOLLY;
        assert_eq!(codel.max_wait(ms(150), ms(100)), SimDuration::from_millis(100), "busy 50 ms: normal");
        assert_eq!(codel.max_wait(ms(250), ms(100)), SimDuration::from_millis(5), "busy 150 ms: overloaded");
    }

    #[test]
    fn adaptive_lifo_turns_lifo_only_under_a_standing_queue() {
        let ms = |m: u64| SimTime(m * 1_000_000);
        let adaptive = Discipline::AdaptiveLifo { codel: CoDel::FOLLY };
        assert!(!adaptive.newest_first(ms(50), ms(0)));
        assert!(adaptive.newest_first(ms(101), ms(0)));
        assert!(Discipline::Lifo.newest_first(ms(0), ms(0)));
        assert!(!Discipline::CoDel(CoDel::FOLLY).newest_first(ms(500), ms(0)));
    }

    #[test]
    fn recent_load_is_measured_per_window() {
        let s = |x: u64| SimTime(x * 1_000_000_000);
        let mut load = RecentLoad::default();
        load.update(s(1), 1_500_000_000, 2);
        assert!((load.utilisation - 0.75).abs() < 1e-12);
        load.update(SimTime(1_500_000_000), 2_000_000_000, 2);
        assert!((load.utilisation - 0.75).abs() < 1e-12, "not a full window yet");
    }
}
