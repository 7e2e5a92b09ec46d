//! Regions and the router: where a request's attempts go when its target is deployed in
//! several regions.
//!
//! A service deployed in regions is one pool per region (`scenario::resolve` makes them,
//! named `service@region`), so every pool figure, the autoscaler and zone losses work per
//! region unchanged. A client whose target has regions holds a `RouterSpec`: an ordered
//! list of destinations (a region and its pool) that each attempt is routed over. Nothing
//! here names a service: an external dependency's providers in priority order are the same
//! list, so the router can route over them too.
//!
//! Health as a router sees it is computed lazily from a few instants per destination, so a
//! router needs no events of its own, and the observed detector's window is a fixed ring of
//! buckets: routing allocates nothing per attempt.

use crate::engine::{SimDuration, SimTime};
use crate::ids::{RegionId, ServiceId};

/// A region: its zones hold the instances of the pools deployed there.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub name: String,
    /// Zone names, unique across regions.
    pub zones: Vec<String>,
}

/// A client's router over its target's regions.
#[derive(Clone, Debug, PartialEq)]
pub struct RouterSpec {
    /// The target's pools in priority order: a request's home first, then on down the
    /// list (wrapping round).
    pub destinations: Vec<Destination>,
    /// Detection delay of the health check (a region is down while its pool has no ready
    /// instance: its zones lost, or still booting back); `None`: no health check.
    pub health_check: Option<SimDuration>,
    /// Failover on the error rate or latency the router observes; `None`: none.
    pub observed: Option<ObservedDetector>,
    /// How long a region must look healthy again before traffic returns to it (and, for the
    /// observed detector, how long a region stays ejected: it sees nothing while ejected).
    pub fail_back_after: SimDuration,
    pub retry_region: RetryRegion,
    /// Isolation: `false` keeps every retry in the region of its previous attempt.
    pub cross_region_retries: bool,
    /// Isolation: the share of a region's workers that attempts homed elsewhere may hold;
    /// an attempt over it fails with `failover_capped`.
    pub failover_cap: Option<f64>,
    /// One-way delay of an attempt sent out of its request's home region.
    pub cross_region_latency: SimDuration,
}

/// One place a router can send an attempt: a service's pool in a region, or a
/// dependency's provider (no region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    pub region: Option<RegionId>,
    pub service: ServiceId,
}

/// Outlier detection on what the router sees: over a sliding `window`, with at least
/// `min_samples` outcomes, a destination whose failures reach `error_rate_above` or whose
/// mean answer latency reaches `latency_above` is ejected for `fail_back_after`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObservedDetector {
    pub window: SimDuration,
    pub min_samples: u32,
    pub error_rate_above: Option<f64>,
    pub latency_above: Option<SimDuration>,
}

/// Where a retry goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryRegion {
    /// Where a first attempt would go now: home, unless the detector says it is down.
    Same,
    /// The next region after the previous attempt's (resilient routing, incident 4).
    Next,
}

/// When a pool last went down (no instance ready) or came back: enough for a health check
/// with a detection delay to tell what it sees at any later instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolHealth {
    pub down: bool,
    /// When `down` last changed; `None` if it never did.
    pub changed: Option<SimTime>,
}

impl PoolHealth {
    /// Records the pool's state now; a no-op when it has not changed.
    pub fn set(&mut self, now: SimTime, down: bool) {
        if down != self.down {
            self.down = down;
            self.changed = Some(now);
        }
    }

    /// Whether a health check with `delay` keeps traffic away at `now`: from `delay` after
    /// the loss until `delay + fail_back` after the return. (A loss and return both within
    /// `delay` go unseen, as they would between probes.)
    #[inline]
    pub fn unhealthy(&self, now: SimTime, delay: SimDuration, fail_back: SimDuration) -> bool {
        let Some(changed) = self.changed else { return false };
        if self.down { now >= changed.after(delay) } else { now < changed.after(delay).after(fail_back) }
    }
}

/// Buckets of the observed detector's sliding window.
const BUCKETS: usize = 10;

/// A router's view of one destination: its sliding window of outcomes and, once ejected,
/// until when.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outliers {
    /// The window's last `BUCKETS` slices; a bucket from an older slice counts for nothing.
    buckets: [Bucket; BUCKETS],
    pub ejected_until: SimTime,
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    index: u64,
    samples: u32,
    failures: u32,
    answers: u32,
    latency_ns: u64,
}

impl Outliers {
    /// Whether the destination is ejected at `now`.
    #[inline]
    pub fn ejected(&self, now: SimTime) -> bool {
        now < self.ejected_until
    }

    /// Records one attempt's outcome (`latency` for an answer, `None` for a timeout or
    /// another failure without one) and ejects the destination if the window says so.
    /// True when this outcome ejected it.
    pub fn observe(
        &mut self,
        detector: &ObservedDetector,
        fail_back: SimDuration,
        now: SimTime,
        failed: bool,
        latency: Option<SimDuration>,
    ) -> bool {
        if self.ejected(now) {
            return false;
        }
        let width = (detector.window.0 / BUCKETS as u64).max(1);
        let index = now.0 / width;
        let bucket = &mut self.buckets[(index % BUCKETS as u64) as usize];
        if bucket.index != index {
            *bucket = Bucket { index, ..Bucket::default() };
        }
        bucket.samples += 1;
        bucket.failures += failed as u32;
        if let Some(latency) = latency {
            bucket.answers += 1;
            bucket.latency_ns = bucket.latency_ns.saturating_add(latency.0);
        }
        let oldest = index.saturating_sub(BUCKETS as u64 - 1);
        let (mut samples, mut failures, mut answers, mut latency_ns) = (0u64, 0u64, 0u64, 0u64);
        for bucket in self.buckets.iter().filter(|bucket| bucket.index >= oldest && bucket.index <= index) {
            samples += bucket.samples as u64;
            failures += bucket.failures as u64;
            answers += bucket.answers as u64;
            latency_ns = latency_ns.saturating_add(bucket.latency_ns);
        }
        if samples < detector.min_samples as u64 {
            return false;
        }
        let too_many_errors =
            detector.error_rate_above.is_some_and(|above| failures as f64 >= above * samples as f64);
        let too_slow =
            answers > 0 && detector.latency_above.is_some_and(|above| latency_ns / answers >= above.0);
        if too_many_errors || too_slow {
            self.ejected_until = now.after(fail_back);
            self.buckets = [Bucket::default(); BUCKETS];
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    #[test]
    fn a_health_check_sees_a_loss_after_its_delay_and_a_return_after_delay_plus_fail_back() {
        let (delay, fail_back) = (SimDuration::from_secs(30), SimDuration::from_secs(60));
        let mut health = PoolHealth::default();
        assert!(!health.unhealthy(secs(5), delay, fail_back));
        health.set(secs(100), true);
        assert!(!health.unhealthy(secs(129), delay, fail_back), "not seen yet");
        assert!(health.unhealthy(secs(130), delay, fail_back));
        health.set(secs(200), false);
        assert!(health.unhealthy(secs(289), delay, fail_back), "back, but not trusted yet");
        assert!(!health.unhealthy(secs(290), delay, fail_back));
    }

    #[test]
    fn the_observed_detector_ejects_on_errors_once_it_has_enough_samples() {
        let detector = ObservedDetector {
            window: SimDuration::from_secs(10),
            min_samples: 10,
            error_rate_above: Some(0.5),
            latency_above: None,
        };
        let fail_back = SimDuration::from_secs(30);
        let mut outliers = Outliers::default();
        for k in 0..9 {
            assert!(!outliers.observe(&detector, fail_back, secs(k), true, None), "too few samples");
        }
        assert!(outliers.observe(&detector, fail_back, secs(9), false, Some(SimDuration::from_millis(5))));
        assert!(outliers.ejected(secs(38)));
        assert!(!outliers.ejected(secs(39)), "fail back after 30 s");
        // Old failures have left the window: healthy answers do not eject it again.
        for k in 0..20 {
            assert!(!outliers.observe(
                &detector,
                fail_back,
                secs(40 + k),
                false,
                Some(SimDuration::from_millis(5))
            ));
        }
    }

    #[test]
    fn the_observed_detector_ejects_on_mean_latency() {
        let detector = ObservedDetector {
            window: SimDuration::from_secs(10),
            min_samples: 4,
            error_rate_above: None,
            latency_above: Some(SimDuration::from_millis(500)),
        };
        let fail_back = SimDuration::from_secs(30);
        let mut outliers = Outliers::default();
        let slow = Some(SimDuration::from_millis(800));
        let fast = Some(SimDuration::from_millis(100));
        assert!(!outliers.observe(&detector, fail_back, secs(1), false, fast));
        assert!(!outliers.observe(&detector, fail_back, secs(1), false, fast));
        assert!(!outliers.observe(&detector, fail_back, secs(1), false, slow));
        assert!(!outliers.observe(&detector, fail_back, secs(2), false, slow), "mean 450 ms");
        assert!(outliers.observe(&detector, fail_back, secs(2), false, slow), "mean 520 ms");
    }
}
