//! A service's runtime state: its pool of instances (`instance.rs`), what is wanted of the
//! pool, its random streams and the draws made per attempt (CPU cost, connection setup,
//! errors, shedding, admission).
//!
//! How the pool changes lives in `lifecycle.rs` and what it reports in `metrics.rs`; both
//! work on this state, which depends on neither's logic.

use super::autoscaler::Autoscaler;
use super::balancer::BalancerState;
use super::concurrency::{ConcurrencyLimit, LimitState};
use super::ids::ClassId;
use super::instance::Instance;
use super::metrics::MetricsPipeline;
use super::region::PoolHealth;
use super::spec::{CpuCost, Service};
use super::timeline::AdmissionRamp;
use crate::engine::{RngStreams, SimDuration, SimTime, StreamRng};
use crate::ids::ZoneId;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// A service's runtime state: its instances, which are ready, what the operator or the
/// autoscaler wants, and its random streams.
pub struct ServiceState {
    pub instances: Vec<Instance>,
    /// Indices of instances that take traffic.
    pub ready: Vec<u32>,
    /// Instances wanted (by the scenario, an operator or the autoscaler).
    pub desired: u32,
    /// When `desired` last changed.
    pub desired_changed: SimTime,
    pub balancer: BalancerState,
    pub cpu_rng: StreamRng,
    /// The current CPU-cost multiplier (a release changes it).
    pub cpu_multiplier: f64,
    pub admission: AdmissionRamp,
    pub admission_rng: StreamRng,
    pub metrics: MetricsPipeline,
    pub autoscaler: Option<Autoscaler>,
    /// Draws of downstream calls' probabilities.
    pub calls_rng: StreamRng,
    /// Share of answers that are errors (a failing dependency); events change it.
    pub error_rate: f64,
    pub error_rng: StreamRng,
    /// Zones lost to a fault: no instance runs there.
    pub zones_down: Vec<bool>,
    /// Whether no instance is ready (a lost region, or one still booting back), and since
    /// when: what a router's health check sees.
    pub health: PoolHealth,
    /// Attempts here whose requests are homed in another region (a failover cap's count).
    pub foreign_in_flight: u32,
    /// Each instance's limit starts from this at launch.
    pub concurrency_limit: Option<ConcurrencyLimit>,
}

impl ServiceState {
    /// The initial instances start ready (the pool was up before the scenario begins).
    pub fn new(spec: &Service, streams: &RngStreams) -> ServiceState {
        let name = &spec.name;
        let zones = spec.zones.len().max(1) as u32;
        let concurrency_limit = spec.overload.concurrency_limit;
        let limit = concurrency_limit.as_ref().map(LimitState::new).unwrap_or_default();
        let instance = |idx: u32| Instance::ready(ZoneId(idx % zones), limit);
        ServiceState {
            instances: (0..spec.instances).map(instance).collect(),
            ready: (0..spec.instances).collect(),
            desired: spec.instances,
            desired_changed: SimTime::ZERO,
            balancer: BalancerState::new(spec.balancer, streams.stream(&format!("service/{name}/balancer"))),
            cpu_rng: streams.stream(&format!("service/{name}/cpu")),
            cpu_multiplier: spec.cpu_multiplier,
            admission: AdmissionRamp::default(),
            admission_rng: streams.stream(&format!("service/{name}/admission")),
            metrics: MetricsPipeline::default(),
            autoscaler: spec.autoscaler.clone().map(Autoscaler::new),
            calls_rng: streams.stream(&format!("service/{name}/calls")),
            error_rate: spec.error_rate,
            error_rng: streams.stream(&format!("service/{name}/errors")),
            zones_down: vec![false; zones as usize],
            health: PoolHealth::default(),
            foreign_in_flight: 0,
            concurrency_limit,
        }
    }

    /// This attempt's CPU time on `instance`: the class's cost times the release multiplier,
    /// and the warm-up factor while the instance is cold.
    #[inline]
    pub fn cpu_cost(&mut self, spec: &Service, class: ClassId, instance: u32, now: SimTime) -> SimDuration {
        let base = spec.cpu_of(class).sample(&mut self.cpu_rng);
        let mut factor = self.cpu_multiplier;
        if now < self.instances[instance as usize].warm_until {
            factor *= spec.lifecycle.warmup_cpu;
        }
        if factor == 1.0 { base } else { SimDuration::from_secs_f64(base.as_secs_f64() * factor) }
    }

    /// The connection setup this attempt pays on `instance`: every time without a pool,
    /// once per worker with one.
    #[inline]
    pub fn connection_cost(&mut self, spec: &Service, instance: u32) -> SimDuration {
        if spec.connection_cpu.0 == 0 {
            return SimDuration::ZERO;
        }
        let instance = &mut self.instances[instance as usize];
        if spec.pooled && instance.connections >= spec.workers {
            return SimDuration::ZERO;
        }
        instance.connections += 1;
        spec.connection_cpu
    }

    /// Whether this answer is an error (the service's current error rate).
    #[inline]
    pub fn answers_with_error(&mut self) -> bool {
        self.error_rate > 0.0 && (self.error_rate >= 1.0 || self.error_rng.random::<f64>() < self.error_rate)
    }

    /// Whether a sheddable attempt is refused because `instance` runs hot.
    #[inline]
    pub fn sheds(&mut self, spec: &Service, instance: u32, now: SimTime) -> bool {
        let Some(threshold) = spec.overload.shed_above else { return false };
        let instance = &mut self.instances[instance as usize];
        let area = instance.busy_area_at(now);
        instance.recent.update(now, area, spec.cores);
        instance.recent.utilisation >= threshold
    }

    /// Whether an arriving attempt gets past the door (drains and ramps).
    #[inline]
    pub fn admits(&mut self, now: SimTime) -> bool {
        let fraction = self.admission.at(now);
        fraction >= 1.0 || (fraction > 0.0 && self.admission_rng.random::<f64>() < fraction)
    }

    /// The concurrency limit in force, averaged over ready instances; `None` when the
    /// service has no limit or no instance is ready.
    pub fn mean_concurrency_limit(&self) -> Option<f64> {
        self.concurrency_limit.as_ref()?;
        let sum: u64 =
            self.ready.iter().map(|&idx| self.instances[idx as usize].limit.current() as u64).sum();
        (!self.ready.is_empty()).then(|| sum as f64 / self.ready.len() as f64)
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
    use crate::model::instance::Admission;
    use crate::model::instance::tests::{key, spec};
    use crate::model::overload::Discipline;

    #[test]
    fn the_concurrency_limit_turns_work_away_before_the_queue() {
        let mut spec = spec(2, 1, Some(10));
        spec.overload.concurrency_limit = Some(ConcurrencyLimit::Static { limit: 3 });
        let state = ServiceState::new(&spec, &RngStreams::new(1));
        let mut instance = Instance::default();
        instance.limit = state.instances[0].limit;
        let now = SimTime::ZERO;
        let admissions: Vec<Admission> = (0..5).map(|k| instance.admit(now, key(k), &spec)).collect();
        use Admission::{OverLimit, Queued, Worker};
        assert_eq!(admissions, [Worker, Worker, Queued, OverLimit, OverLimit]);
        assert_eq!(instance.outstanding(), 3, "never more than the limit in progress");
        instance.release_worker(now, &Discipline::Fifo);
        assert_eq!(instance.admit(now, key(5), &spec), Queued, "room again once one leaves");
        assert_eq!(state.mean_concurrency_limit(), Some(3.0));
    }

    #[test]
    fn lifo_serves_the_newest_and_a_pool_pays_setup_once_per_worker() {
        let spec = spec(1, 1, None);
        let mut instance = Instance::default();
        let now = SimTime::ZERO;
        for k in 0..4 {
            instance.admit(now, key(k), &spec);
        }
        assert_eq!(instance.release_worker(now, &Discipline::Lifo), Some(key(3)));
        assert_eq!(instance.release_worker(now, &Discipline::Fifo), Some(key(1)));

        let mut pooled =
            Service { connection_cpu: SimDuration::from_millis(8), pooled: true, ..spec.clone() };
        pooled.workers = 2;
        let mut state = ServiceState::new(&pooled, &RngStreams::new(1));
        let costs: Vec<u64> = (0..4).map(|_| state.connection_cost(&pooled, 0).0 / 1_000_000).collect();
        assert_eq!(costs, [8, 8, 0, 0]);
        let unpooled = Service { pooled: false, ..pooled };
        assert_eq!(state.connection_cost(&unpooled, 0), SimDuration::from_millis(8), "every attempt pays");
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
