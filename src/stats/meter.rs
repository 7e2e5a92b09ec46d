//! Time-weighted levels of one service: busy cores, busy workers, queue length, attempts
//! present, ready instances. Each level change first credits the old level for the time
//! it held (`level x dt`), so averages are exact integrals, not samples.

use super::histogram::LatencyHistogram;
use super::series::ServiceFigures;
use super::summary::ServiceSummary;
use crate::engine::SimTime;

/// Integrals of the levels, in level-nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Areas {
    cores: u128,
    workers: u128,
    queued: u128,
    ready: u128,
    running: u128,
}

impl Areas {
    /// What was integrated since `mark`, an earlier reading.
    fn since(self, mark: Areas) -> Areas {
        Areas {
            cores: self.cores - mark.cores,
            workers: self.workers - mark.workers,
            queued: self.queued - mark.queued,
            ready: self.ready - mark.ready,
            running: self.running - mark.running,
        }
    }
}

/// Time integrals of busy and available cores and workers (ns), which add across pools.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Capacity {
    pub cores_busy: u128,
    pub cores: u128,
    pub workers_busy: u128,
    pub workers: u128,
}

impl Capacity {
    pub fn plus(self, other: Capacity) -> Capacity {
        Capacity {
            cores_busy: self.cores_busy + other.cores_busy,
            cores: self.cores + other.cores,
            workers_busy: self.workers_busy + other.workers_busy,
            workers: self.workers + other.workers,
        }
    }

    pub fn cpu_utilisation(self) -> f64 {
        ratio(self.cores_busy, self.cores)
    }

    pub fn worker_utilisation(self) -> f64 {
        ratio(self.workers_busy, self.workers)
    }
}

/// Counts that restart every interval (and also accumulate over the run).
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    arrived: u64,
    completed: u64,
    rejected: u64,
    /// Of `rejected`, those turned away by the concurrency limit.
    rejected_by_limit: u64,
    /// CPU burnt answering rejections (`reject_cpu` each).
    reject_cpu_ns: u128,
    wasted_cpu_ns: u128,
    wasted_attempts: u64,
    /// Queued attempts dropped because their caller had given up (never served).
    dropped_abandoned: u64,
    /// CPU of all completed attempts, and the connection-setup part of it.
    cpu_ns: u128,
    connection_cpu_ns: u128,
    queue_wait_sum_ns: u128,
    queue_waits: u64,
    queue_max: u64,
    /// Admitted attempts, and those of them that waited in the queue for a worker: P(wait),
    /// what Erlang C predicts for M/M/c.
    admitted: u64,
    waited: u64,
    /// Answers that were errors, to callers still waiting.
    errors: u64,
    /// Time at the instance of the completed attempts.
    stay_sum_ns: u128,
}

impl Counts {
    /// Adds `other`'s counts, and keeps the larger queue maximum.
    fn add(&mut self, other: &Counts) {
        self.arrived += other.arrived;
        self.completed += other.completed;
        self.rejected += other.rejected;
        self.rejected_by_limit += other.rejected_by_limit;
        self.reject_cpu_ns += other.reject_cpu_ns;
        self.wasted_cpu_ns += other.wasted_cpu_ns;
        self.wasted_attempts += other.wasted_attempts;
        self.dropped_abandoned += other.dropped_abandoned;
        self.cpu_ns += other.cpu_ns;
        self.connection_cpu_ns += other.connection_cpu_ns;
        self.queue_wait_sum_ns += other.queue_wait_sum_ns;
        self.queue_waits += other.queue_waits;
        self.queue_max = self.queue_max.max(other.queue_max);
        self.admitted += other.admitted;
        self.waited += other.waited;
        self.errors += other.errors;
        self.stay_sum_ns += other.stay_sum_ns;
    }
}

#[derive(Clone, Debug)]
pub struct ServiceMeter {
    pub cores_per_instance: u32,
    pub workers_per_instance: u32,
    /// The last closed interval's busy and available core-ns and worker-ns, so a region's
    /// pools add up exactly.
    pub interval_capacity: Capacity,
    /// When the attempts' levels (cores, workers, queue) were last credited: they change
    /// at nearly every event.
    last: u64,
    /// When the pool's levels (ready, running) were last credited: they change only when
    /// the pool does, so the hot path leaves them alone.
    pool_last: u64,
    cores_busy: u64,
    workers_busy: u64,
    queued: u64,
    ready: u64,
    ready_max: u64,
    ready_min: u64,
    /// Instances booting, ready or draining: what is paid for.
    running: u64,
    areas: Areas,
    interval_mark: Areas,
    /// The areas when measurement started (the end of the warm-up; zero without one).
    run_mark: Areas,
    /// Counts of the closed intervals since measurement started, and of the one in
    /// progress (where the hot path counts).
    run: Counts,
    interval: Counts,
    time_in_system_ns: u128,
    /// Lowest and highest concurrency limit any instance had, when the service has one.
    limit_range: Option<(u32, u32)>,
    pub queue_wait: LatencyHistogram,
    pub core_wait: LatencyHistogram,
    /// Time at the instance of each completed attempt, kept for a dependency's provider
    /// (its answer time); `None` for a service.
    pub stay: Option<LatencyHistogram>,
    /// Attempts that took a core, and those of them that waited for one.
    cores_taken: u64,
    core_waited: u64,
}

impl ServiceMeter {
    pub fn new(cores_per_instance: u32, workers_per_instance: u32, ready: u32) -> ServiceMeter {
        ServiceMeter {
            interval_capacity: Capacity::default(),
            cores_per_instance,
            workers_per_instance,
            last: 0,
            pool_last: 0,
            cores_busy: 0,
            workers_busy: 0,
            queued: 0,
            ready: ready as u64,
            running: ready as u64,
            ready_max: ready as u64,
            ready_min: ready as u64,
            areas: Areas::default(),
            interval_mark: Areas::default(),
            run_mark: Areas::default(),
            run: Counts::default(),
            interval: Counts::default(),
            time_in_system_ns: 0,
            limit_range: None,
            queue_wait: LatencyHistogram::default(),
            core_wait: LatencyHistogram::default(),
            stay: None,
            cores_taken: 0,
            core_waited: 0,
        }
    }

    /// A provider's meter: it also keeps the distribution of answer times.
    pub fn provider(self) -> ServiceMeter {
        ServiceMeter { stay: Some(LatencyHistogram::default()), ..self }
    }

    /// An answer that is an error reached its caller.
    #[inline]
    pub fn errored(&mut self) {
        self.counts().errors += 1;
    }

    /// Credits every level for the time since its last change: call before reading the
    /// areas.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        self.advance_load(now);
        let dt = now.0.saturating_sub(self.pool_last) as u128;
        if dt > 0 {
            self.areas.ready += self.ready as u128 * dt;
            self.areas.running += self.running as u128 * dt;
            self.pool_last = now.0;
        }
    }

    /// Credits the attempts' levels for the time since the last change. Attempts present
    /// are always those queued plus those holding a worker, so their area is not kept.
    #[inline]
    fn advance_load(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.last) as u128;
        if dt > 0 {
            self.areas.cores += self.cores_busy as u128 * dt;
            self.areas.workers += self.workers_busy as u128 * dt;
            self.areas.queued += self.queued as u128 * dt;
            self.last = now.0;
        }
    }

    /// The counts of the interval in progress: the hot path counts only there, and
    /// `fold_counts` adds them into the run's as the interval closes.
    #[inline]
    fn counts(&mut self) -> &mut Counts {
        &mut self.interval
    }

    /// An attempt reached an instance.
    #[inline]
    pub fn arrived(&mut self) {
        self.counts().arrived += 1;
    }

    /// An attempt was refused at the door.
    #[inline]
    pub fn rejected(&mut self) {
        self.counts().rejected += 1;
    }

    /// An attempt was refused at the door by the concurrency limit.
    #[inline]
    pub fn rejected_by_limit(&mut self) {
        let c = self.counts();
        c.rejected += 1;
        c.rejected_by_limit += 1;
    }

    /// A rejection took a core to burn its CPU (no worker, and no core wait recorded: the
    /// core wait is the admitted attempts').
    #[inline]
    pub fn rejection_core_taken(&mut self, now: SimTime) {
        self.advance_load(now);
        self.cores_busy += 1;
    }

    /// A rejection burnt its `cpu_ns` and answered (its core is released apart).
    #[inline]
    pub fn rejection_answered(&mut self, cpu_ns: u64) {
        self.counts().reject_cpu_ns += cpu_ns as u128;
    }

    /// A rejection vanished with its instance, `burning` a core or waiting for one.
    pub fn rejection_lost(&mut self, now: SimTime, burning: bool) {
        self.advance(now);
        self.cores_busy -= burning as u64;
    }

    /// An instance's concurrency limit is now `limit`, for the run's range.
    #[inline]
    pub fn limit_seen(&mut self, limit: u32) {
        let (low, high) = self.limit_range.get_or_insert((limit, limit));
        *low = (*low).min(limit);
        *high = (*high).max(limit);
    }

    /// An attempt was admitted: straight to a worker or into the queue.
    #[inline]
    pub fn admitted(&mut self, now: SimTime, queued: bool) {
        self.advance_load(now);
        let c = self.counts();
        c.admitted += 1;
        c.waited += u64::from(queued);
        if queued {
            self.queued += 1;
            let queued_now = self.queued;
            let c = self.counts();
            c.queue_max = c.queue_max.max(queued_now);
        } else {
            self.workers_busy += 1;
            // A wait of zero: counted, and left out of the histogram (`summary` adds them).
            self.counts().queue_waits += 1;
        }
    }

    /// A queued attempt took a worker after waiting `wait_ns`.
    #[inline]
    pub fn dequeued(&mut self, now: SimTime, wait_ns: u64) {
        self.advance_load(now);
        self.queued -= 1;
        self.workers_busy += 1;
        self.record_queue_wait(wait_ns);
    }

    /// Records a wait for a worker. The histogram holds the waits above zero; the zeros,
    /// most waits below saturation, are the count of waits less its count.
    #[inline]
    fn record_queue_wait(&mut self, wait_ns: u64) {
        if wait_ns > 0 {
            self.queue_wait.record(wait_ns);
        }
        let c = self.counts();
        c.queue_wait_sum_ns += wait_ns as u128;
        c.queue_waits += 1;
    }

    /// An attempt started burning CPU after waiting `wait_ns` for a core.
    #[inline]
    pub fn core_taken(&mut self, now: SimTime, wait_ns: u64) {
        self.advance_load(now);
        self.cores_busy += 1;
        self.cores_taken += 1;
        // As for the queue: the histogram holds the waits above zero.
        if wait_ns > 0 {
            self.core_waited += 1;
            self.core_wait.record(wait_ns);
        }
    }

    #[inline]
    pub fn core_released(&mut self, now: SimTime) {
        self.advance_load(now);
        self.cores_busy -= 1;
    }

    /// The pool changed: `ready` instances take traffic, `running` are paid for.
    pub fn set_pool(&mut self, now: SimTime, ready: u32, running: u32) {
        self.advance(now);
        self.ready = ready as u64;
        self.running = running as u64;
        self.ready_max = self.ready_max.max(self.ready);
        self.ready_min = self.ready_min.min(self.ready);
    }

    /// An attempt vanished with its instance: it was `queued` for a worker, or held one
    /// and was `burning` a core or waiting for one.
    pub fn lost(&mut self, now: SimTime, queued: bool, burning: bool) {
        self.advance(now);
        if queued {
            self.queued -= 1;
        } else {
            self.workers_busy -= 1;
            self.cores_busy -= burning as u64;
        }
    }

    /// A queued attempt was dropped before it got a worker: its caller had given up
    /// (`abandoned`), or it waited too long (a CoDel rejection).
    pub fn dropped(&mut self, now: SimTime, abandoned: bool) {
        self.advance(now);
        self.queued -= 1;
        let c = self.counts();
        if abandoned {
            c.dropped_abandoned += 1;
        } else {
            c.rejected += 1;
        }
    }

    /// An attempt will pay a connection setup of `cpu` on top of its own cost.
    #[inline]
    pub fn connection_setup(&mut self, cpu: crate::engine::SimDuration) {
        self.counts().connection_cpu_ns += cpu.0 as u128;
    }

    /// An attempt finished and left, after `stay_ns` at the instance.
    #[inline]
    pub fn completed(&mut self, now: SimTime, stay_ns: u64, cpu_ns: u64, wasted: bool) {
        self.advance_load(now);
        self.workers_busy -= 1;
        self.time_in_system_ns += stay_ns as u128;
        if let Some(stay) = &mut self.stay {
            stay.record(stay_ns);
        }
        let c = self.counts();
        c.completed += 1;
        c.stay_sum_ns += stay_ns as u128;
        c.cpu_ns += cpu_ns as u128;
        if wasted {
            c.wasted_cpu_ns += cpu_ns as u128;
            c.wasted_attempts += 1;
        }
    }

    /// Closes the interval ending at `now` and starts the next one.
    pub fn close_interval(&mut self, now: SimTime, span_ns: u64) -> ServiceFigures {
        self.advance(now);
        let d = self.areas.since(self.interval_mark);
        let c = self.interval;
        let figures = ServiceFigures {
            cpu_utilisation: ratio(d.cores, d.ready * self.cores_per_instance as u128),
            worker_utilisation: ratio(d.workers, d.ready * self.workers_per_instance as u128),
            queue_length_mean: ratio(d.queued, span_ns as u128),
            queue_length_max: c.queue_max,
            arrived: c.arrived,
            completed: c.completed,
            rejected: c.rejected,
            queue_wait_mean_ms: (c.queue_waits > 0)
                .then(|| c.queue_wait_sum_ns as f64 / c.queue_waits as f64 / 1e6),
            wait_probability: (c.admitted > 0).then(|| c.waited as f64 / c.admitted as f64),
            wasted_cpu_s: c.wasted_cpu_ns as f64 / 1e9,
            errors: c.errors,
            stay_mean_ms: (c.completed > 0).then(|| c.stay_sum_ns as f64 / c.completed as f64 / 1e6),
            instances_ready: self.ready as u32,
            instances_running_mean: ratio(d.running, span_ns as u128),
            ..ServiceFigures::default()
        };
        self.interval_capacity = Capacity {
            cores_busy: d.cores,
            cores: d.ready * self.cores_per_instance as u128,
            workers_busy: d.workers,
            workers: d.ready * self.workers_per_instance as u128,
        };
        self.interval_mark = self.areas;
        self.fold_counts();
        figures
    }

    /// Adds the interval's counts into the run's and starts them again; `close_interval`
    /// does it, and the recorder when an interval closes empty.
    pub fn fold_counts(&mut self) {
        self.run.add(&self.interval);
        self.interval = Counts { queue_max: self.queued, ..Counts::default() };
    }

    /// Restarts the whole-run figures at `now`, the end of the warm-up: levels are
    /// integrated from here, counts and histograms start from zero, the extremes from the
    /// present levels. Called as an interval closes (the warm-up ends on an interval
    /// boundary), since counts still in the open interval would reach the run's. The caller
    /// reports the concurrency limits in force again (`limit_seen`).
    pub fn start_measuring(&mut self, now: SimTime) {
        debug_assert!(
            self.interval.arrived + self.interval.admitted + self.interval.completed == 0,
            "the measured stretch starts as an interval closes"
        );
        self.advance(now);
        self.run_mark = self.areas;
        self.run = Counts { queue_max: self.queued, ..Counts::default() };
        self.time_in_system_ns = 0;
        self.ready_max = self.ready;
        self.ready_min = self.ready;
        self.limit_range = None;
        self.queue_wait.reset();
        self.core_wait.reset();
        if let Some(stay) = &mut self.stay {
            stay.reset();
        }
        self.cores_taken = 0;
        self.core_waited = 0;
    }

    /// Busy and available core-ns and worker-ns over the measured run so far.
    pub fn run_capacity(&self) -> Capacity {
        let a = self.areas.since(self.run_mark);
        Capacity {
            cores_busy: a.cores,
            cores: a.ready * self.cores_per_instance as u128,
            workers_busy: a.workers,
            workers: a.ready * self.workers_per_instance as u128,
        }
    }

    /// Whole-run figures over the `elapsed_ns` measured (call after the last `advance`);
    /// `instances` is the pool size at the end.
    pub fn summary(&self, elapsed_ns: u64, instances: u32) -> ServiceSummary {
        let a = self.areas.since(self.run_mark);
        let mut c = self.run;
        c.add(&self.interval);
        ServiceSummary {
            cpu_utilisation: ratio(a.cores, a.ready * self.cores_per_instance as u128),
            worker_utilisation: ratio(a.workers, a.ready * self.workers_per_instance as u128),
            queue_length_mean: ratio(a.queued, elapsed_ns as u128),
            queue_length_max: c.queue_max,
            arrived: c.arrived,
            completed: c.completed,
            rejected: c.rejected,
            errors: c.errors,
            queue_wait_ms: self
                .queue_wait
                .with_zeros(c.queue_waits - self.queue_wait.count())
                .percentiles_ms(),
            core_wait_ms: self.core_wait.with_zeros(self.cores_taken - self.core_waited).percentiles_ms(),
            wait_probability: (c.admitted > 0).then(|| c.waited as f64 / c.admitted as f64),
            core_wait_probability: (self.cores_taken > 0)
                .then(|| self.core_waited as f64 / self.cores_taken as f64),
            mean_in_system: ratio(a.workers + a.queued, elapsed_ns as u128),
            throughput_per_s: c.completed as f64 / (elapsed_ns as f64 / 1e9).max(f64::MIN_POSITIVE),
            mean_time_in_system_ms: if c.completed > 0 {
                self.time_in_system_ns as f64 / c.completed as f64 / 1e6
            } else {
                0.0
            },
            wasted_cpu_s: c.wasted_cpu_ns as f64 / 1e9,
            wasted_attempts: c.wasted_attempts,
            instances,
            instances_ready_max: self.ready_max as u32,
            instances_ready_min: self.ready_min as u32,
            dropped_abandoned: c.dropped_abandoned,
            cpu_per_completion_ms: if c.completed > 0 {
                c.cpu_ns as f64 / c.completed as f64 / 1e6
            } else {
                0.0
            },
            connection_cpu_s: c.connection_cpu_ns as f64 / 1e9,
            rejected_by_limit: c.rejected_by_limit,
            reject_cpu_s: c.reject_cpu_ns as f64 / 1e9,
            concurrency_limit_min: self.limit_range.map(|(low, _)| low),
            concurrency_limit_max: self.limit_range.map(|(_, high)| high),
            instance_seconds: a.running as f64 / 1e9,
            instance_hours: a.running as f64 / 1e9 / 3600.0,
        }
    }
}

fn ratio(numerator: u128, denominator: u128) -> f64 {
    if denominator == 0 { 0.0 } else { numerator as f64 / denominator as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_time_weighted() {
        // One instance, 2 cores: one core busy for the first 10 s, both for the next 10 s.
        let mut meter = ServiceMeter::new(2, 2, 1);
        let s = |x: u64| SimTime(x * 1_000_000_000);
        meter.admitted(s(0), false);
        meter.core_taken(s(0), 0);
        meter.admitted(s(10), false);
        meter.core_taken(s(10), 0);
        let figures = meter.close_interval(s(20), 20_000_000_000);
        assert!((figures.cpu_utilisation - 0.75).abs() < 1e-12);
        meter.core_released(s(20));
        meter.core_released(s(20));
        meter.completed(s(20), 20_000_000_000, 1, false);
        meter.completed(s(20), 10_000_000_000, 1, false);
        let next = meter.close_interval(s(40), 20_000_000_000);
        assert_eq!(next.cpu_utilisation, 0.0);
        let totals = meter.summary(40_000_000_000, 1);
        assert!((totals.cpu_utilisation - 0.375).abs() < 1e-12);
        // Little: L = 30 attempt-seconds / 40 s = 0.75; lambda = 2/40; W = 15 s.
        assert!((totals.mean_in_system - 0.75).abs() < 1e-12);
        assert!((totals.mean_time_in_system_ms - 15_000.0).abs() < 1e-9);
        assert!((totals.throughput_per_s * totals.mean_time_in_system_ms / 1e3 - 0.75).abs() < 1e-12);
    }

    #[test]
    fn measuring_from_the_end_of_the_warm_up_forgets_what_came_before() {
        // One core and worker. A burns 0-10 s; B queues at 5 s, gets the worker at 10 s (the
        // end of the warm-up), waits for the core until 20 s and burns it until 25 s.
        let mut meter = ServiceMeter::new(1, 1, 1);
        let s = |x: u64| SimTime(x * 1_000_000_000);
        meter.arrived();
        meter.admitted(s(0), false);
        meter.core_taken(s(0), 0);
        meter.arrived();
        meter.admitted(s(5), true);
        meter.core_released(s(10));
        meter.completed(s(10), 10_000_000_000, 10_000_000_000, false);
        meter.dequeued(s(10), 5_000_000_000);
        meter.close_interval(s(10), 10_000_000_000);
        meter.start_measuring(s(10));
        meter.core_taken(s(20), 10_000_000_000);
        meter.core_released(s(25));
        meter.completed(s(25), 20_000_000_000, 5_000_000_000, false);
        meter.advance(s(30));
        let totals = meter.summary(20_000_000_000, 1);
        assert!((totals.cpu_utilisation - 0.25).abs() < 1e-12, "{}", totals.cpu_utilisation);
        assert_eq!((totals.arrived, totals.completed), (0, 1), "only what happened after the cut");
        assert_eq!(totals.queue_wait_ms.count, 0, "both waits for a worker ended by the cut");
        assert_eq!(totals.core_wait_ms.count, 1);
        assert_eq!(totals.queue_length_max, 0);
        assert!((totals.mean_time_in_system_ms - 20_000.0).abs() < 1e-9, "B's whole stay");
        assert!((totals.instance_seconds - 20.0).abs() < 1e-12);
        // The series goes on: the next interval holds what came after the cut.
        let row = meter.close_interval(s(30), 20_000_000_000);
        assert!((row.cpu_utilisation - 0.25).abs() < 1e-12);
        assert_eq!((row.arrived, row.completed), (0, 1));
    }
}
