//! Users' requests counted by where they are homed (a region, a cell), with the pools
//! placed there added up: the figures regions and cells share.
//!
//! A home is an index; the recorder keeps one `Homes` for regions and one for cells, and
//! adds what is particular to each (a region's failover counters, a cell's release) beside
//! it. Counting allocates nothing: the tallies are sized when the recorder is built.

use super::histogram::LatencyHistogram;
use super::meter::{Capacity, ServiceMeter};
use super::recorder::{Tally, figures, merge, request_summary};
use super::series::{RequestFigures, ServiceFigures};
use super::summary::{PoolGroupSummary, RequestSummary, ServiceSummary};
use crate::engine::SimDuration;

#[derive(Clone, Debug, Default)]
pub(super) struct Homes {
    /// Per home: whole run (the closed intervals') and current interval.
    pub run: Vec<Tally>,
    pub interval: Vec<Tally>,
    /// Per home, the ids of the pools placed there, in id order.
    pools: Vec<Vec<usize>>,
    /// Per home, users' requests in flight when the warm-up ended; `None` without one.
    at_start: Option<Vec<u64>>,
}

impl Homes {
    /// `n` homes; `pool_homes` gives each pool's home, if it has one.
    pub fn new(n: usize, pool_homes: &[Option<usize>]) -> Homes {
        let pools = (0..n)
            .map(|home| (0..pool_homes.len()).filter(|&pool| pool_homes[pool] == Some(home)).collect())
            .collect();
        Homes { run: vec![Tally::default(); n], interval: vec![Tally::default(); n], pools, at_start: None }
    }

    /// The home's tally for the interval in progress; `close_interval` adds it into the
    /// run's.
    #[inline]
    pub fn tally(&mut self, home: usize) -> &mut Tally {
        &mut self.interval[home]
    }

    #[inline]
    pub fn succeeded(&mut self, home: usize, latency: SimDuration) {
        let tally = self.tally(home);
        tally.succeeded += 1;
        tally.latency.record(latency.0);
    }

    /// Restarts the whole-run tallies (the end of the warm-up), with the requests then in
    /// flight per home.
    pub fn start_measuring(&mut self, in_flight: Vec<u64>) {
        self.run.iter_mut().for_each(Tally::reset);
        self.at_start = Some(in_flight);
    }

    /// Closes the interval: each home's request figures (`keep`), its counts and latencies
    /// added into the run's; the interval tallies start again from zero.
    pub fn close_interval(&mut self, keep: bool) -> Vec<RequestFigures> {
        let mut res = Vec::with_capacity(if keep { self.run.len() } else { 0 });
        for (interval, run) in self.interval.iter_mut().zip(&mut self.run) {
            merge(run, interval);
            if keep {
                res.push(figures(interval));
            }
            interval.reset();
        }
        res
    }

    /// The home's pools in the row just closed, added up: utilisations over their summed
    /// capacity, counts and queue lengths summed, staleness the worst.
    pub fn pool_figures(
        &self,
        home: usize,
        meters: &[ServiceMeter],
        row: &[ServiceFigures],
    ) -> ServiceFigures {
        let mut capacity = Capacity::default();
        let mut sum = ServiceFigures::default();
        for &pool in &self.pools[home] {
            capacity = capacity.plus(meters[pool].interval_capacity);
            let f = &row[pool];
            sum.queue_length_mean += f.queue_length_mean;
            sum.queue_length_max = sum.queue_length_max.max(f.queue_length_max);
            sum.arrived += f.arrived;
            sum.completed += f.completed;
            sum.rejected += f.rejected;
            sum.wasted_cpu_s += f.wasted_cpu_s;
            sum.instances_ready += f.instances_ready;
            sum.instances_desired += f.instances_desired;
            sum.instances_provisioning += f.instances_provisioning;
            sum.instances_running_mean += f.instances_running_mean;
            sum.metrics_staleness_s = sum.metrics_staleness_s.max(f.metrics_staleness_s);
        }
        sum.cpu_utilisation = capacity.cpu_utilisation();
        sum.worker_utilisation = capacity.worker_utilisation();
        sum
    }

    /// The home's users' requests over the run, and its pools together (`services` are
    /// the pools' run summaries in id order).
    pub fn summary(
        &self,
        home: usize,
        meters: &[ServiceMeter],
        service_names: &[String],
        services: &[ServiceSummary],
        elapsed: SimDuration,
    ) -> (RequestSummary, PoolGroupSummary) {
        let pools = &self.pools[home];
        let capacity =
            pools.iter().fold(Capacity::default(), |sum, &idx| sum.plus(meters[idx].run_capacity()));
        let at_start = self.at_start.as_ref().map(|counts| counts.get(home).copied().unwrap_or(0));
        let requests = request_summary(&self.run[home], &LatencyHistogram::default(), (0, at_start), elapsed);
        let group = PoolGroupSummary {
            pools: pools.iter().map(|&idx| service_names[idx].clone()).collect(),
            cpu_utilisation: capacity.cpu_utilisation(),
            worker_utilisation: capacity.worker_utilisation(),
            queue_length_mean: pools.iter().map(|&idx| services[idx].queue_length_mean).sum(),
            instances: pools.iter().map(|&idx| services[idx].instances).sum(),
            instance_seconds: pools.iter().map(|&idx| services[idx].instance_seconds).sum(),
        };
        (requests, group)
    }
}
