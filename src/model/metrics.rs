//! The metrics pipeline between the instances and the autoscaler: every period it samples
//! each reporting instance's CPU utilisation since the previous sample, and delivers the
//! mean after a delay. A fault makes only a fraction of instances report, or none: then
//! nothing is delivered and the autoscaler's newest sample grows stale.

use super::autoscaler::Sample;
use super::instance::Instance;
use crate::engine::{SimDuration, SimTime};
use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct MetricsPipeline {
    /// Fraction of instances whose data arrives (1 = healthy, 0 = outage).
    pub reporting: f64,
    /// Samples taken, not yet delivered (the delay is constant, so FIFO).
    in_transit: VecDeque<Sample>,
    /// The newest delivered sample.
    pub latest: Option<Sample>,
    /// Per instance: busy-core area and time at its previous sample.
    marks: Vec<(u128, SimTime)>,
}

impl Default for MetricsPipeline {
    fn default() -> MetricsPipeline {
        MetricsPipeline { reporting: 1.0, in_transit: VecDeque::new(), latest: None, marks: Vec::new() }
    }
}

impl MetricsPipeline {
    /// Whether an instance's data gets through when a `fraction` of instances report. A
    /// fixed hash of the instance number, so the same instances stay dark.
    pub fn reports(instance: u32, fraction: f64) -> bool {
        if fraction >= 1.0 {
            return true;
        }
        let mut x = (instance as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        ((x >> 11) as f64 / (1u64 << 53) as f64) < fraction
    }

    pub(crate) fn mark(&mut self, instance: u32, area: u128, now: SimTime) {
        let idx = instance as usize;
        if self.marks.len() <= idx {
            self.marks.resize(idx + 1, (0, SimTime::ZERO));
        }
        self.marks[idx] = (area, now);
    }

    /// The oldest sample in transit has arrived.
    pub fn deliver(&mut self) {
        if let Some(sample) = self.in_transit.pop_front() {
            self.latest = Some(sample);
        }
    }

    /// Age of the newest delivered sample (since t = 0 when none has arrived).
    pub fn staleness(&self, now: SimTime) -> SimDuration {
        now.since(self.latest.map_or(SimTime::ZERO, |sample| sample.taken))
    }

    /// Samples every ready instance's utilisation since its last sample; returns true when
    /// a sample went into the pipeline (some instance reported), to be delivered later.
    pub fn take_sample(
        &mut self,
        instances: &mut [Instance],
        ready: &[u32],
        now: SimTime,
        cores: u32,
    ) -> bool {
        let fraction = self.reporting;
        let (mut sum, mut reporting) = (0.0, 0u32);
        for &idx in ready {
            let area = instances[idx as usize].busy_area_at(now);
            let (previous, since) = self.marks.get(idx as usize).copied().unwrap_or((0, SimTime::ZERO));
            self.mark(idx, area, now);
            let span = now.since(since).0 as u128 * cores as u128;
            if span > 0 && MetricsPipeline::reports(idx, fraction) {
                sum += (area - previous) as f64 / span as f64;
                reporting += 1;
            }
        }
        if reporting == 0 {
            return false;
        }
        let ready = ready.len() as u32;
        let sample = Sample { taken: now, utilisation: sum / reporting as f64, reporting, ready };
        self.in_transit.push_back(sample);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporting_fraction_picks_a_stable_share_of_instances() {
        let count = |fraction| (0..10_000).filter(|&i| MetricsPipeline::reports(i, fraction)).count();
        assert_eq!(count(1.0), 10_000);
        assert_eq!(count(0.0), 0);
        let half = count(0.5);
        assert!((4_800..5_200).contains(&half), "{half}");
        // Stable as the fraction falls: an instance dark at 50% stays dark at 30%, so a
        // worsening fault only adds dark instances.
        let at = |fraction| (0..10_000).filter(move |&i| MetricsPipeline::reports(i, fraction));
        assert!(at(0.3).all(|i| MetricsPipeline::reports(i, 0.5)));
        assert!(at(0.3).count() < at(0.5).count());
    }

    #[test]
    fn delivery_is_fifo_and_staleness_counts_from_the_sample() {
        let mut pipeline = MetricsPipeline::default();
        let s = |x: u64| SimTime(x * 1_000_000_000);
        assert_eq!(pipeline.staleness(s(30)), SimDuration::from_secs(30));
        for t in [10, 20] {
            pipeline.in_transit.push_back(Sample { taken: s(t), utilisation: 0.5, reporting: 1, ready: 1 });
        }
        pipeline.deliver();
        assert_eq!(pipeline.latest.unwrap().taken, s(10));
        pipeline.deliver();
        assert_eq!(pipeline.staleness(s(50)), SimDuration::from_secs(30));
    }
}
