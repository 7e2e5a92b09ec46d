//! An instance of a service: its workers, its cores and the queue in front of the workers.
//!
//! An attempt holds a worker for its whole stay and a core only while it burns CPU. With
//! `workers == cores` an instance is an M/M/c server; with more workers than cores, CPU
//! contention slows every request (cores are handed out FIFO, without preemption).

use super::concurrency::LimitState;
use super::ids::AttemptId;
use super::overload::{Discipline, RecentLoad};
use super::spec::Service;
use crate::engine::SimTime;
use crate::ids::ZoneId;
use std::collections::VecDeque;

/// Where an instance is in its lifecycle (`lifecycle.rs` moves it along).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// A free slot.
    #[default]
    Stopped,
    /// Launched, booting; takes no traffic.
    Provisioning,
    /// Takes traffic (CPU dearer while warming up).
    Ready,
    /// Takes no new traffic, finishes what it has, then stops.
    Draining,
    /// Lost; its work was failed.
    Failed,
}

/// What happened to an attempt arriving at an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A worker was free.
    Worker,
    /// All workers busy; it waits in the queue.
    Queued,
    /// The queue is full.
    Rejected,
    /// The instance's attempts in progress are at its concurrency limit.
    OverLimit,
}

#[derive(Debug, Default)]
pub struct Instance {
    pub phase: Phase,
    /// Which of the service's zones it runs in.
    pub zone: ZoneId,
    /// Bumped at every launch, so a boot event for an earlier life of this slot is ignored.
    pub epoch: u32,
    /// CPU costs are multiplied by the warm-up factor until then.
    pub warm_until: SimTime,
    pub workers_busy: u32,
    pub cores_busy: u32,
    /// Attempts waiting for a worker.
    pub worker_queue: VecDeque<AttemptId>,
    /// Attempts holding a worker, waiting for a core.
    pub core_queue: VecDeque<AttemptId>,
    /// Busy-core nanoseconds since launch, for the metrics pipeline's samples.
    pub busy_area: u128,
    busy_last: u64,
    /// When the worker queue last went from empty to non-empty (CoDel, adaptive LIFO).
    pub nonempty_since: SimTime,
    /// Recent CPU utilisation, the shedding signal.
    pub recent: RecentLoad,
    /// Pooled connections opened so far (each paid the setup cost once).
    pub connections: u32,
    /// The concurrency limit, when the service has one; a launch starts it afresh.
    pub limit: LimitState,
}

impl Instance {
    /// An instance already serving when the run starts (the pool was up before it).
    pub fn ready(zone: ZoneId, limit: LimitState) -> Instance {
        Instance { phase: Phase::Ready, zone, limit, ..Instance::default() }
    }

    /// Attempts at this instance: queued or holding a worker (the balancers' load signal).
    #[inline]
    pub fn outstanding(&self) -> u32 {
        self.workers_busy + self.worker_queue.len() as u32
    }

    /// Lets an attempt in (to a worker or the queue) or turns it away: over the
    /// concurrency limit first, then when the queue is full.
    #[inline]
    pub fn admit(&mut self, now: SimTime, attempt: AttemptId, spec: &Service) -> Admission {
        if spec.overload.concurrency_limit.is_some() && !self.limit.admits(self.outstanding()) {
            Admission::OverLimit
        } else if self.workers_busy < spec.workers {
            self.workers_busy += 1;
            Admission::Worker
        } else if spec.queue_capacity.is_none_or(|cap| (self.worker_queue.len() as u32) < cap) {
            if self.worker_queue.is_empty() {
                self.nonempty_since = now;
            }
            self.worker_queue.push_back(attempt);
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// Credits the busy-core area up to `now`.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        self.busy_area += self.cores_busy as u128 * now.0.saturating_sub(self.busy_last) as u128;
        self.busy_last = now.0;
    }

    /// Busy-core nanoseconds up to `now`.
    pub fn busy_area_at(&mut self, now: SimTime) -> u128 {
        self.advance(now);
        self.busy_area
    }

    /// Takes a core for an attempt holding a worker; false if it must wait for one.
    #[inline]
    pub fn acquire_core(&mut self, now: SimTime, attempt: AttemptId, spec: &Service) -> bool {
        if self.cores_busy < spec.cores {
            self.advance(now);
            self.cores_busy += 1;
            true
        } else {
            self.core_queue.push_back(attempt);
            false
        }
    }

    /// Frees a core; if an attempt was waiting for one it takes it and is returned.
    #[inline]
    pub fn release_core(&mut self, now: SimTime) -> Option<AttemptId> {
        let next = self.core_queue.pop_front();
        if next.is_none() {
            self.advance(now);
            self.cores_busy -= 1;
        }
        next
    }

    /// Frees a worker; if an attempt was queued it takes it (in the discipline's order)
    /// and is returned.
    #[inline]
    pub fn release_worker(&mut self, now: SimTime, discipline: &Discipline) -> Option<AttemptId> {
        let next = if discipline.newest_first(now, self.nonempty_since) {
            self.worker_queue.pop_back()
        } else {
            self.worker_queue.pop_front()
        };
        if next.is_none() {
            self.workers_busy -= 1;
        }
        next
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::{Key, SimDuration};
    use crate::model::spec::CpuCost;

    /// One instance's service: `workers`, `cores`, a queue of `queue_capacity`, 1 ms a request.
    pub(crate) fn spec(workers: u32, cores: u32, queue_capacity: Option<u32>) -> Service {
        let cost = CpuCost::Constant(SimDuration::from_millis(1));
        Service { queue_capacity, ..Service::plain(1, cores, workers, cost) }
    }

    pub(crate) fn key(slot: u32) -> AttemptId {
        Key { slot, generation: 0 }
    }

    #[test]
    fn workers_then_queue_then_rejection() {
        let spec = spec(2, 1, Some(1));
        let mut instance = Instance::default();
        let now = SimTime::ZERO;
        assert_eq!(instance.admit(now, key(0), &spec), Admission::Worker);
        assert_eq!(instance.admit(now, key(1), &spec), Admission::Worker);
        assert_eq!(instance.admit(now, key(2), &spec), Admission::Queued);
        assert_eq!(instance.admit(now, key(3), &spec), Admission::Rejected);
        assert_eq!(instance.outstanding(), 3);
        let fifo = Discipline::Fifo;
        assert_eq!(instance.release_worker(now, &fifo), Some(key(2)), "the queued attempt takes the worker");
        assert_eq!(instance.workers_busy, 2);
        assert_eq!(instance.release_worker(now, &fifo), None);
        assert_eq!(instance.workers_busy, 1);
    }

    #[test]
    fn cores_are_handed_out_fifo() {
        let spec = spec(3, 1, None);
        let mut instance = Instance::default();
        let t = |s: u64| SimTime(s * 1_000_000_000);
        assert!(instance.acquire_core(t(0), key(0), &spec));
        assert!(!instance.acquire_core(t(0), key(1), &spec));
        assert!(!instance.acquire_core(t(0), key(2), &spec));
        assert_eq!(instance.release_core(t(1)), Some(key(1)));
        assert_eq!(instance.release_core(t(2)), Some(key(2)));
        assert_eq!(instance.release_core(t(3)), None);
        assert_eq!(instance.cores_busy, 0);
        assert_eq!(instance.busy_area_at(t(10)), 3_000_000_000, "one core busy for 3 s");
    }
}
