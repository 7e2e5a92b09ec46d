//! The operational side of the world: the timeline, instance lifecycle, the metrics
//! pipeline, the autoscaler and alerts. These events are rare next to requests, so their
//! handlers may scan a pool or allocate.

use super::World;
use crate::engine::{Sim, SimDuration, SimTime};
use crate::model::alert::{AlertChange, AlertMetric};
use crate::model::event::Event;
use crate::model::ids::{AlertId, ClassId, ClientId, RegionId, ServiceId, ZoneId};
use crate::model::spec::Service;
use crate::model::timeline::{Action, AdmissionRamp};
use crate::outcome::FailureReason;
use crate::stats::{BreakerFigures, MarkerKind};
use rand::RngExt;

/// A backlog being released: jobs left and the gap between them.
pub(super) struct Backlog {
    client: ClientId,
    class: Option<ClassId>,
    /// The jobs' home region; `None`: drawn evenly over the regions (if any).
    home: Option<RegionId>,
    remaining: u64,
    spacing: SimDuration,
}

impl World<'_> {
    /// Queues the timeline and each service's metrics sampling and autoscaler syncs.
    pub(super) fn schedule_operations(&mut self, sim: &mut Sim<Event>) {
        for (index, entry) in self.scenario.timeline.iter().enumerate() {
            sim.schedule(entry.at, Event::Timeline { index: index as u32 });
        }
        for (idx, spec) in self.scenario.services.iter().enumerate() {
            let service = ServiceId::from_idx(idx);
            let watched = self.scenario.alerts.iter().any(
                |alert| matches!(alert.metric, AlertMetric::MetricsStaleness { service: watched } if watched == service),
            );
            if spec.autoscaler.is_some() || watched {
                sim.schedule(SimTime::ZERO.after(spec.metrics.period), Event::MetricsSample { service });
            }
            if let Some(autoscaler) = &spec.autoscaler {
                sim.schedule(SimTime::ZERO.after(autoscaler.sync), Event::AutoscalerSync { service });
            }
        }
    }

    pub(super) fn on_timeline(&mut self, sim: &mut Sim<Event>, index: u32) {
        let entry = &self.scenario.timeline[index as usize];
        let mut label = self.describe(&entry.action);
        if let Some(note) = &entry.note {
            label = format!("{label} ({note})");
        }
        self.recorder.mark(sim.now(), MarkerKind::Timeline, label);
        self.apply(sim, &entry.action);
    }

    pub(super) fn on_operator_action(&mut self, sim: &mut Sim<Event>, alert: AlertId) {
        let spec = &self.scenario.alerts[alert.idx()];
        let Some(then) = &spec.then else { return };
        let mut label = format!("operator: {} (after alert \"{}\")", self.describe(&then.action), spec.name);
        if let Some(note) = &then.note {
            label = format!("{label}: {note}");
        }
        self.recorder.mark(sim.now(), MarkerKind::Operator, label);
        self.apply(sim, &then.action);
    }

    fn describe(&self, action: &Action) -> String {
        let services: Vec<String> = self.scenario.services.iter().map(|s| s.name.clone()).collect();
        let clients: Vec<String> = self.scenario.clients.iter().map(|c| c.name.clone()).collect();
        action.describe(&services, &clients)
    }

    pub(super) fn apply(&mut self, sim: &mut Sim<Event>, action: &Action) {
        let now = sim.now();
        match *action {
            Action::CpuMultiplier { service, value } | Action::LatencyMultiplier { service, value } => {
                self.services[service.idx()].cpu_multiplier = value
            }
            Action::Metrics { service, reporting } => {
                self.services[service.idx()].metrics.reporting = reporting;
            }
            Action::InstanceLoss { service, count } => {
                for instance in self.services[service.idx()].victims(count) {
                    self.lose_instance(sim, service, instance);
                }
                if self.scenario.services[service.idx()].lifecycle.replace_failed {
                    self.converge(sim, service, None);
                }
                self.meter_pool(now, service);
            }
            Action::Backlog { client, class, jobs, over, region } => {
                let spacing = SimDuration(over.0 / jobs.max(1));
                let backlog = self.backlogs.len() as u32;
                self.backlogs.push(Backlog { client, class, home: region, remaining: jobs, spacing });
                sim.schedule(now, Event::BacklogJob { backlog });
            }
            Action::ScaleTo { service, instances } => self.converge(sim, service, Some(instances)),
            Action::Admit { service, from, to, over } => {
                let state = &mut self.services[service.idx()];
                let from = from.unwrap_or_else(|| state.admission.at(now));
                state.admission = AdmissionRamp::new(from, to, now, over);
            }
            Action::ErrorRate { service, value } => self.services[service.idx()].error_rate = value,
            Action::ZoneLoss { service, zone, .. } => {
                self.lose_zone(sim, service, zone);
                self.after_loss(sim, service);
            }
            Action::ZoneRestore { service, zone, .. } => self.restore_zone(sim, service, zone),
            Action::RegionLoss { ref pools, .. } => {
                for &service in pools {
                    for zone in 0..self.services[service.idx()].zones_down.len() {
                        self.lose_zone(sim, service, ZoneId::from_idx(zone));
                    }
                    self.after_loss(sim, service);
                }
            }
            Action::RegionRestore { ref pools, .. } => {
                for &service in pools {
                    for zone in 0..self.services[service.idx()].zones_down.len() {
                        self.restore_zone(sim, service, ZoneId::from_idx(zone));
                    }
                }
            }
            Action::Limiter { client, ref limiter } => {
                let state = &mut self.clients[client.idx()];
                if let Some(old) = state.limiter.as_ref().and_then(|old| old.breaker()) {
                    state.breaker_retired = state.breaker_retired.plus(old.history(now));
                    state.had_breaker = true;
                }
                state.limiter = limiter.as_ref().map(|spec| spec.build());
                state.limiter_epoch = state.limiter_epoch.wrapping_add(1);
            }
        }
    }

    /// Every instance in the zone fails, and the zone takes no launches until restored.
    fn lose_zone(&mut self, sim: &mut Sim<Event>, service: ServiceId, zone: ZoneId) {
        self.services[service.idx()].zones_down[zone.idx()] = true;
        for instance in self.services[service.idx()].in_zone(zone) {
            self.lose_instance(sim, service, instance);
        }
    }

    /// After a loss: replacements launch in the zones still up, if the pool replaces
    /// failed instances.
    fn after_loss(&mut self, sim: &mut Sim<Event>, service: ServiceId) {
        if self.scenario.services[service.idx()].lifecycle.replace_failed {
            self.converge(sim, service, None);
        }
        self.meter_pool(sim.now(), service);
    }

    /// The zone takes launches again, and the pool launches what it misses (each instance
    /// boots first): a zone that comes back comes back empty.
    fn restore_zone(&mut self, sim: &mut Sim<Event>, service: ServiceId, zone: ZoneId) {
        self.services[service.idx()].zones_down[zone.idx()] = false;
        self.converge(sim, service, None);
    }

    /// Sets the desired count (if given) and converges the pool, scheduling boots.
    fn converge(&mut self, sim: &mut Sim<Event>, service: ServiceId, desired: Option<u32>) {
        let now = sim.now();
        let boot_delay = self.scenario.services[service.idx()].lifecycle.boot_delay;
        let state = &mut self.services[service.idx()];
        let desired = desired.unwrap_or(state.desired);
        state.set_desired(now, desired, |instance, epoch| {
            sim.schedule_in(boot_delay, Event::InstanceBooted { service, instance, epoch });
        });
        self.meter_pool(now, service);
    }

    /// Tells the service's meter how many instances are ready and running, and a health
    /// check whether any is ready.
    fn meter_pool(&mut self, now: SimTime, service: ServiceId) {
        let counts = self.services[service.idx()].counts();
        self.services[service.idx()].health.set(now, counts.ready == 0);
        self.recorder.service(service).set_pool(now, counts.ready, counts.running());
    }

    /// An instance dies: every attempt on it, rejections still burning their CPU included,
    /// fails with `no_capacity` (its caller may retry elsewhere), then it is marked failed.
    fn lose_instance(&mut self, sim: &mut Sim<Event>, service: ServiceId, instance: u32) {
        let now = sim.now();
        let doomed = self.attempts.keys_where(|a| a.service == service && a.instance == instance);
        for attempt_id in doomed {
            let state = &self.services[service.idx()].instances[instance as usize];
            let queued = state.worker_queue.contains(&attempt_id);
            let burning = !queued && !state.core_queue.contains(&attempt_id);
            let attempt = self.attempts.remove(attempt_id).expect("listed as alive");
            self.attempt_left(&attempt);
            let meter = self.recorder.service(service);
            if attempt.rejecting {
                meter.rejection_lost(now, burning);
            } else {
                meter.lost(now, queued, burning);
            }
            if !attempt.abandoned && !self.cancel_if_orphan(&attempt) {
                let reason = FailureReason::NoCapacity;
                self.release(now, attempt.client, attempt.limiter_epoch, attempt.permit, Err(reason));
                self.observe(now, attempt.client, attempt.slot, true, None);
                self.attempt_failed(sim, attempt.request, reason);
            }
        }
        self.services[service.idx()].fail(instance);
    }

    pub(super) fn on_instance_booted(
        &mut self,
        sim: &mut Sim<Event>,
        service: ServiceId,
        instance: u32,
        epoch: u32,
    ) {
        let now = sim.now();
        let warmup = self.scenario.services[service.idx()].lifecycle.warmup;
        if self.services[service.idx()].boot(instance, epoch, now, now.after(warmup)) {
            self.meter_pool(now, service);
        }
    }

    pub(super) fn on_backlog_job(&mut self, sim: &mut Sim<Event>, backlog: u32) {
        let job = &mut self.backlogs[backlog as usize];
        if job.remaining == 0 {
            return;
        }
        job.remaining -= 1;
        let (client, class, spacing, more) = (job.client, job.class, job.spacing, job.remaining > 0);
        let job_home = job.home;
        let class = class.unwrap_or_else(|| self.mix.pick(&mut self.backlog_rng));
        let n_regions = self.scenario.regions.len();
        let home = job_home.or_else(|| {
            (n_regions > 0).then(|| RegionId::from_idx(self.backlog_home_rng.random_range(0..n_regions)))
        });
        let cell = self.draw_cell(None);
        if more {
            sim.schedule_in(spacing, Event::BacklogJob { backlog });
        }
        self.start_request(sim, super::Origin { class, client, home, cell }, None);
    }

    pub(super) fn on_metrics_sample(&mut self, sim: &mut Sim<Event>, service: ServiceId) {
        let spec = &self.scenario.services[service.idx()];
        let state = &mut self.services[service.idx()];
        if state.metrics.take_sample(&mut state.instances, &state.ready, sim.now(), spec.cores) {
            sim.schedule_in(spec.metrics.delay, Event::MetricsDelivered { service });
        }
        sim.schedule_in(spec.metrics.period, Event::MetricsSample { service });
    }

    pub(super) fn on_autoscaler_sync(&mut self, sim: &mut Sim<Event>, service: ServiceId) {
        let now = sim.now();
        let state = &mut self.services[service.idx()];
        let Some(autoscaler) = &mut state.autoscaler else { return };
        let sync = autoscaler.spec.sync;
        let desired = autoscaler.decide(now, state.desired, state.metrics.latest.as_ref());
        if desired != state.desired {
            self.converge(sim, service, Some(desired));
        }
        sim.schedule_in(sync, Event::AutoscalerSync { service });
    }

    /// Adds the pool's and the pipeline's state to the interval row just closed.
    pub(super) fn annotate_interval(&mut self, now: SimTime) {
        let shares: Vec<f64> = self.scenario.classes.iter().map(|class| class.share).collect();
        let figures: Vec<_> = self
            .services
            .iter()
            .zip(&self.scenario.services)
            .map(|(state, spec)| {
                let counts = state.counts();
                let limit = state.mean_concurrency_limit();
                let staleness = state.metrics.staleness(now).as_secs_f64();
                let capacity = capacity_per_s(spec, &shares, state.cpu_multiplier, counts.ready);
                (counts.desired, counts.provisioning, staleness, limit, capacity)
            })
            .collect();
        let breakers: Vec<Option<BreakerFigures>> = (0..self.clients.len())
            .map(|idx| {
                let (history, state) = self.breaker_history(ClientId::from_idx(idx), now)?;
                let reported = &mut self.clients[idx].breaker_reported;
                let change = history.since(*reported);
                *reported = history;
                Some(BreakerFigures {
                    state,
                    openings: change.openings,
                    open_s: change.open.as_secs_f64(),
                    half_open_s: change.half_open.as_secs_f64(),
                })
            })
            .collect();
        self.recorder.annotate_last_row(|row| {
            for (service, (desired, provisioning, staleness, limit, capacity)) in
                row.services.iter_mut().zip(figures)
            {
                service.instances_desired = desired;
                service.instances_provisioning = provisioning;
                service.metrics_staleness_s = staleness;
                service.concurrency_limit = limit;
                service.capacity_per_s = capacity;
            }
            for (client, breaker) in row.clients.iter_mut().zip(breakers) {
                client.breaker = breaker;
            }
        });
        self.recorder.close_regions();
    }

    /// Feeds each alert the interval just closed; fired alerts are recorded and may start
    /// their operator action after its delay.
    pub(super) fn evaluate_alerts(&mut self, sim: &mut Sim<Event>) {
        let now = sim.now();
        let Some(row) = self.recorder.last_row() else { return };
        let start = row.start;
        let values: Vec<Option<f64>> = self
            .scenario
            .alerts
            .iter()
            .map(|spec| match spec.metric {
                AlertMetric::SuccessRate { class } => {
                    class.map_or(&row.total, |c| &row.classes[c.idx()]).success_rate()
                }
                AlertMetric::LatencyP99 { class } => {
                    class.map_or(&row.total, |c| &row.classes[c.idx()]).latency_p99_ms
                }
                AlertMetric::MetricsStaleness { service } => {
                    Some(self.services[service.idx()].metrics.staleness(now).as_secs_f64())
                }
                AlertMetric::CpuUtilisation { service } => Some(row.services[service.idx()].cpu_utilisation),
                AlertMetric::UnscaledUtilisation { service } => {
                    let acted = self.services[service.idx()].desired_changed > start;
                    Some(if acted { 0.0 } else { row.services[service.idx()].cpu_utilisation })
                }
            })
            .collect();
        for (idx, (spec, value)) in self.scenario.alerts.iter().zip(values).enumerate() {
            let alert = AlertId::from_idx(idx);
            match self.alerts[alert.idx()].evaluate(spec, start, now, value) {
                AlertChange::None => {}
                AlertChange::Fired { act } => {
                    self.recorder.alert_fired(now, alert);
                    self.recorder.mark(now, MarkerKind::Alert, format!("alert \"{}\" fired", spec.name));
                    if let (true, Some(then)) = (act, &spec.then) {
                        sim.schedule_in(then.after, Event::OperatorAction { alert });
                    }
                }
                AlertChange::Resolved => self.recorder.alert_resolved(now, alert),
            }
        }
    }
}

/// Requests per second `ready` instances of `spec` serve with every core busy, at the mean
/// CPU cost of a request: each class's mean weighted by its share, times `multiplier`, plus
/// the connection setup unless the service pools connections. Zero without a CPU cost.
fn capacity_per_s(spec: &Service, shares: &[f64], multiplier: f64, ready: u32) -> f64 {
    let weighted: f64 = spec.cpu.iter().zip(shares).map(|(cost, share)| cost.mean_secs() * share).sum();
    let setup = if spec.pooled { 0.0 } else { spec.connection_cpu.as_secs_f64() };
    let cost = weighted * multiplier + setup;
    if cost > 0.0 { f64::from(ready) * f64::from(spec.cores) / cost } else { 0.0 }
}
