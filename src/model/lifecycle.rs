//! Instance lifecycle: provisioning (boot delay), ready (warm-up first), draining, stopped,
//! failed. The pool converges on `desired`: missing instances are launched, extra ones
//! cancelled (if still booting) or drained (if serving).
//!
//! Lifecycle changes are rare next to requests, so these methods may scan the pool.

use super::concurrency::LimitState;
use super::instance::Phase;
use super::service::ServiceState;
use crate::engine::SimTime;
use crate::ids::ZoneId;

/// The pool by phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolCounts {
    pub desired: u32,
    pub provisioning: u32,
    pub ready: u32,
    pub draining: u32,
}

impl PoolCounts {
    /// Instances that cost money: booting, serving or draining.
    pub fn running(&self) -> u32 {
        self.provisioning + self.ready + self.draining
    }
}

impl ServiceState {
    pub fn counts(&self) -> PoolCounts {
        let mut counts = PoolCounts { desired: self.desired, ..PoolCounts::default() };
        for instance in &self.instances {
            match instance.phase {
                Phase::Provisioning => counts.provisioning += 1,
                Phase::Ready => counts.ready += 1,
                Phase::Draining => counts.draining += 1,
                Phase::Stopped | Phase::Failed => {}
            }
        }
        counts
    }

    /// Sets the desired count and converges on it; `launched(instance, epoch)` is called
    /// for each instance that starts booting, so the caller can schedule its boot.
    pub fn set_desired(&mut self, now: SimTime, desired: u32, launched: impl FnMut(u32, u32)) {
        if desired != self.desired {
            self.desired = desired;
            self.desired_changed = now;
        }
        self.reconcile(launched);
    }

    /// Launches or removes instances until booting + ready equals `desired`.
    pub fn reconcile(&mut self, mut launched: impl FnMut(u32, u32)) {
        let counts = self.counts();
        let active = counts.provisioning + counts.ready;
        for _ in active..self.desired {
            let Some((instance, epoch)) = self.launch() else { break };
            launched(instance, epoch);
        }
        let mut extra = active.saturating_sub(self.desired);
        // Newest launches are cancelled first, then the highest-numbered ready instances
        // are drained.
        for idx in (0..self.instances.len()).rev() {
            if extra == 0 {
                return;
            }
            if self.instances[idx].phase == Phase::Provisioning {
                self.instances[idx].phase = Phase::Stopped;
                extra -= 1;
            }
        }
        while extra > 0 {
            let Some(&idx) = self.ready.iter().max() else { return };
            self.drain(idx);
            extra -= 1;
        }
    }

    /// Launches an instance in the zone that is up and has the fewest (a balanced
    /// auto-scaling group); with every zone down there is nowhere to launch (a lost
    /// region), and the pool waits for a zone to be restored.
    fn launch(&mut self) -> Option<(u32, u32)> {
        let mut per_zone = vec![0u32; self.zones_down.len()];
        for instance in &self.instances {
            if matches!(instance.phase, Phase::Provisioning | Phase::Ready) {
                per_zone[instance.zone.idx()] += 1;
            }
        }
        let zone = (0..per_zone.len()).filter(|&z| !self.zones_down[z]).min_by_key(|&z| per_zone[z])?;
        let free = self.instances.iter().position(|i| matches!(i.phase, Phase::Stopped | Phase::Failed));
        let idx = free.unwrap_or_else(|| {
            self.instances.push(Default::default());
            self.instances.len() - 1
        });
        let instance = &mut self.instances[idx];
        instance.zone = ZoneId::from_idx(zone);
        instance.phase = Phase::Provisioning;
        instance.epoch = instance.epoch.wrapping_add(1);
        if let Some(limit) = &self.concurrency_limit {
            instance.limit = LimitState::new(limit);
        }
        Some((idx as u32, instance.epoch))
    }

    /// A boot finished: the instance takes traffic, warming up until `warm_until`. False
    /// when the launch was cancelled or the slot relaunched since.
    pub fn boot(&mut self, idx: u32, epoch: u32, now: SimTime, warm_until: SimTime) -> bool {
        let instance = &mut self.instances[idx as usize];
        if instance.phase != Phase::Provisioning || instance.epoch != epoch {
            return false;
        }
        instance.phase = Phase::Ready;
        instance.warm_until = warm_until;
        instance.busy_area = 0;
        instance.busy_area_at(now);
        self.metrics.mark(idx, 0, now);
        self.ready.push(idx);
        true
    }

    fn drain(&mut self, idx: u32) {
        self.ready.retain(|&i| i != idx);
        self.instances[idx as usize].phase = Phase::Draining;
        self.stop_if_drained(idx);
    }

    /// A draining instance whose last attempt left stops. A rejection still burning its
    /// CPU there (it holds no worker) keeps the instance up until it is done.
    #[inline]
    pub fn stop_if_drained(&mut self, idx: u32) {
        let instance = &mut self.instances[idx as usize];
        if instance.phase == Phase::Draining
            && instance.workers_busy == 0
            && instance.worker_queue.is_empty()
            && instance.cores_busy == 0
        {
            instance.phase = Phase::Stopped;
        }
    }

    /// Ready instances to lose, highest-numbered first (the caller fails their attempts).
    pub fn victims(&self, count: u32) -> Vec<u32> {
        let mut ready = self.ready.clone();
        ready.sort_unstable_by(|a, b| b.cmp(a));
        ready.truncate(count as usize);
        ready
    }

    /// Instances booting or serving in `zone` (a zone loss takes them all).
    pub fn in_zone(&self, zone: ZoneId) -> Vec<u32> {
        (0..self.instances.len() as u32)
            .filter(|&i| {
                let instance = &self.instances[i as usize];
                instance.zone == zone
                    && matches!(instance.phase, Phase::Provisioning | Phase::Ready | Phase::Draining)
            })
            .collect()
    }

    /// Marks an instance failed and empties it. Its attempts must already be gone.
    pub fn fail(&mut self, idx: u32) {
        self.ready.retain(|&i| i != idx);
        let instance = &mut self.instances[idx as usize];
        instance.phase = Phase::Failed;
        instance.workers_busy = 0;
        instance.cores_busy = 0;
        instance.worker_queue.clear();
        instance.core_queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{RngStreams, SimDuration};
    use crate::model::spec::{CpuCost, Service};

    fn pool(instances: u32) -> ServiceState {
        let spec = Service {
            zones: vec!["a".into(), "b".into()],
            ..Service::plain(instances, 1, 1, CpuCost::Constant(SimDuration::from_millis(1)))
        };
        ServiceState::new(&spec, &RngStreams::new(1))
    }

    #[test]
    fn scale_out_boots_then_serves_and_scale_in_cancels_boots_first() {
        let mut pool = pool(2);
        let mut launched = Vec::new();
        pool.set_desired(SimTime::ZERO, 5, |i, e| launched.push((i, e)));
        assert_eq!(launched.len(), 3);
        assert_eq!(pool.counts(), PoolCounts { desired: 5, provisioning: 3, ready: 2, draining: 0 });
        let (first, epoch) = launched[0];
        assert!(pool.boot(first, epoch, SimTime(1), SimTime(1)));
        assert!(!pool.boot(first, epoch, SimTime(2), SimTime(2)), "booted once");
        pool.set_desired(SimTime(3), 3, |_, _| panic!("nothing to launch"));
        assert_eq!(pool.counts(), PoolCounts { desired: 3, provisioning: 0, ready: 3, draining: 0 });
        let (second, epoch) = launched[1];
        assert!(!pool.boot(second, epoch, SimTime(4), SimTime(4)), "a cancelled launch never boots");
    }

    #[test]
    fn busy_instances_drain_before_stopping_and_slots_are_reused() {
        let mut pool = pool(3);
        pool.instances[2].workers_busy = 1;
        pool.set_desired(SimTime::ZERO, 1, |_, _| {});
        assert_eq!(pool.counts(), PoolCounts { desired: 1, provisioning: 0, ready: 1, draining: 1 });
        assert_eq!(pool.ready, vec![0]);
        pool.instances[2].workers_busy = 0;
        pool.stop_if_drained(2);
        assert_eq!(pool.counts().draining, 0);
        let mut launched = Vec::new();
        pool.set_desired(SimTime(5), 3, |i, _| launched.push(i));
        assert_eq!(launched, vec![1, 2], "stopped slots are reused");
        assert_eq!(pool.instances.len(), 3);
    }

    #[test]
    fn launches_balance_zones_and_avoid_lost_ones() {
        let mut pool = pool(2);
        assert_eq!((pool.instances[0].zone, pool.instances[1].zone), (ZoneId(0), ZoneId(1)));
        pool.zones_down[1] = true;
        for idx in pool.in_zone(ZoneId(1)) {
            pool.fail(idx);
        }
        let mut launched = Vec::new();
        pool.set_desired(SimTime(1), 4, |i, _| launched.push(i));
        assert!(launched.iter().all(|&i| pool.instances[i as usize].zone == ZoneId(0)), "{launched:?}");
        pool.zones_down[0] = true;
        for idx in pool.in_zone(ZoneId(0)) {
            pool.fail(idx);
        }
        pool.set_desired(SimTime(2), 4, |_, _| panic!("every zone is down: nowhere to launch"));
        pool.zones_down[1] = false;
        let mut relaunched = Vec::new();
        pool.reconcile(|i, _| relaunched.push(i));
        assert_eq!(relaunched.len(), 4, "a restored zone takes the whole pool");
    }

    #[test]
    fn a_relaunched_instance_starts_from_the_initial_limit() {
        use crate::model::concurrency::{Aimd, ConcurrencyLimit, Sample};
        let limit = ConcurrencyLimit::Aimd(Aimd::NETFLIX);
        let mut spec = Service::plain(2, 1, 1, CpuCost::Constant(SimDuration::from_millis(1)));
        spec.overload.concurrency_limit = Some(limit);
        let mut pool = ServiceState::new(&spec, &RngStreams::new(1));
        let busy = Sample { rtt: SimDuration::from_millis(1), inflight: 100, dropped: false };
        for _ in 0..5 {
            pool.instances[1].limit.update(&limit, busy);
        }
        assert_eq!(pool.instances[1].limit.current(), 15);
        for idx in pool.victims(1) {
            pool.fail(idx);
        }
        let mut launched = Vec::new();
        pool.reconcile(|i, _| launched.push(i));
        assert_eq!(launched, vec![1], "the failed slot is reused");
        assert_eq!(pool.instances[1].limit.current(), 10, "Netflix's AIMD starts at 10");
        assert_eq!(pool.instances[0].limit.current(), 10);
    }

    #[test]
    fn failed_instances_are_replaced_by_reconcile() {
        let mut pool = pool(3);
        for idx in pool.victims(2) {
            pool.fail(idx);
        }
        assert_eq!(pool.ready, vec![0]);
        let mut launched = Vec::new();
        pool.reconcile(|i, _| launched.push(i));
        assert_eq!(launched.len(), 2);
        assert_eq!(pool.counts(), PoolCounts { desired: 3, provisioning: 2, ready: 1, draining: 0 });
    }
}
