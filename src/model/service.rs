//! Services and their instances: workers, cores and the queue in front of the workers.
//!
//! An attempt holds a worker for its whole stay and a core only while it burns CPU. With
//! `workers == cores` an instance is an M/M/c server; with more workers than cores, CPU
//! contention slows every request (cores are handed out FIFO, without preemption).

use super::balancer::BalancerState;
use super::ids::AttemptId;
use super::spec::{CpuCost, Service};
use crate::engine::{RngStreams, SimDuration, StreamRng};
use rand_distr::{Distribution, Exp1, StandardNormal};
use std::collections::VecDeque;

/// What happened to an attempt arriving at an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A worker was free.
    Worker,
    /// All workers busy; it waits in the queue.
    Queued,
    /// The queue is full.
    Rejected,
}

#[derive(Debug, Default)]
pub struct Instance {
    pub workers_busy: u32,
    pub cores_busy: u32,
    /// Attempts waiting for a worker.
    pub worker_queue: VecDeque<AttemptId>,
    /// Attempts holding a worker, waiting for a core.
    pub core_queue: VecDeque<AttemptId>,
}

impl Instance {
    /// Attempts at this instance: queued or holding a worker (the balancers' load signal).
    #[inline]
    pub fn outstanding(&self) -> u32 {
        self.workers_busy + self.worker_queue.len() as u32
    }

    #[inline]
    pub fn admit(&mut self, attempt: AttemptId, spec: &Service) -> Admission {
        if self.workers_busy < spec.workers {
            self.workers_busy += 1;
            Admission::Worker
        } else if spec.queue_capacity.is_none_or(|cap| (self.worker_queue.len() as u32) < cap) {
            self.worker_queue.push_back(attempt);
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// Takes a core for an attempt holding a worker; false if it must wait for one.
    #[inline]
    pub fn acquire_core(&mut self, attempt: AttemptId, spec: &Service) -> bool {
        if self.cores_busy < spec.cores {
            self.cores_busy += 1;
            true
        } else {
            self.core_queue.push_back(attempt);
            false
        }
    }

    /// Frees a core; if an attempt was waiting for one it takes it and is returned.
    #[inline]
    pub fn release_core(&mut self) -> Option<AttemptId> {
        let next = self.core_queue.pop_front();
        if next.is_none() {
            self.cores_busy -= 1;
        }
        next
    }

    /// Frees a worker; if an attempt was queued it takes it and is returned.
    #[inline]
    pub fn release_worker(&mut self) -> Option<AttemptId> {
        let next = self.worker_queue.pop_front();
        if next.is_none() {
            self.workers_busy -= 1;
        }
        next
    }
}

/// A service's runtime state: its instances, which are ready, and its random streams.
pub struct ServiceState {
    pub instances: Vec<Instance>,
    /// Indices of instances that take traffic.
    pub ready: Vec<u32>,
    pub balancer: BalancerState,
    pub cpu_rng: StreamRng,
}

impl ServiceState {
    pub fn new(spec: &Service, streams: &RngStreams) -> ServiceState {
        let name = &spec.name;
        ServiceState {
            instances: (0..spec.instances).map(|_| Instance::default()).collect(),
            ready: (0..spec.instances).collect(),
            balancer: BalancerState::new(spec.balancer, streams.stream(&format!("service/{name}/balancer"))),
            cpu_rng: streams.stream(&format!("service/{name}/cpu")),
        }
    }

    /// Picks the instance for a new attempt; `None` when none is ready.
    #[inline]
    pub fn pick_instance(&mut self) -> Option<u32> {
        let instances = &self.instances;
        self.balancer.pick(&self.ready, |i| instances[i as usize].outstanding())
    }
}

impl CpuCost {
    /// Draws one request's CPU time.
    #[inline]
    pub fn sample(&self, rng: &mut StreamRng) -> SimDuration {
        match *self {
            CpuCost::Constant(d) => d,
            CpuCost::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                SimDuration::from_secs_f64(e * mean.as_secs_f64())
            }
            CpuCost::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                SimDuration::from_secs_f64((mu + sigma * z).exp())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Key;
    use crate::model::spec::Balancer;

    fn spec(workers: u32, cores: u32, queue_capacity: Option<u32>) -> Service {
        Service {
            name: "api".into(),
            instances: 1,
            cores,
            workers,
            queue_capacity,
            balancer: Balancer::RoundRobin,
            cpu: vec![CpuCost::Constant(SimDuration::from_millis(1))],
        }
    }

    fn key(slot: u32) -> AttemptId {
        Key { slot, generation: 0 }
    }

    #[test]
    fn workers_then_queue_then_rejection() {
        let spec = spec(2, 1, Some(1));
        let mut instance = Instance::default();
        assert_eq!(instance.admit(key(0), &spec), Admission::Worker);
        assert_eq!(instance.admit(key(1), &spec), Admission::Worker);
        assert_eq!(instance.admit(key(2), &spec), Admission::Queued);
        assert_eq!(instance.admit(key(3), &spec), Admission::Rejected);
        assert_eq!(instance.outstanding(), 3);
        assert_eq!(instance.release_worker(), Some(key(2)), "the queued attempt takes the worker");
        assert_eq!(instance.workers_busy, 2);
        assert_eq!(instance.release_worker(), None);
        assert_eq!(instance.workers_busy, 1);
    }

    #[test]
    fn cores_are_handed_out_fifo() {
        let spec = spec(3, 1, None);
        let mut instance = Instance::default();
        assert!(instance.acquire_core(key(0), &spec));
        assert!(!instance.acquire_core(key(1), &spec));
        assert!(!instance.acquire_core(key(2), &spec));
        assert_eq!(instance.release_core(), Some(key(1)));
        assert_eq!(instance.release_core(), Some(key(2)));
        assert_eq!(instance.release_core(), None);
        assert_eq!(instance.cores_busy, 0);
    }

    #[test]
    fn cpu_samples_have_the_configured_mean() {
        let mut rng = RngStreams::new(9).stream("cpu");
        let lognormal = CpuCost::lognormal_from_mean_p99(0.02, 0.06).unwrap();
        let exponential = CpuCost::Exponential { mean: SimDuration::from_millis(20) };
        for cost in [lognormal, exponential] {
            let n = 200_000;
            let mean = (0..n).map(|_| cost.sample(&mut rng).as_secs_f64()).sum::<f64>() / n as f64;
            assert!((mean - 0.02).abs() < 0.0003, "{cost:?}: {mean}");
        }
    }
}
