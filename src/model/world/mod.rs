//! The world: every component's runtime state, and the one `match` that routes events.
//!
//! Request path (one hop):
//!
//! ```text
//! Source --Arrival--> Client --send--> Balancer --> Instance
//!                       ^                            | worker free? else queue (or reject)
//!                       |                            | core free?   else core queue
//!                       |  AttemptTimeout            v
//!                       +---- retry after backoff <- CpuDone --> answer (or wasted work)
//! ```
//!
//! Components never hold references to each other: they are `Vec`s indexed by ids, and
//! requests and attempts live in generational slabs. Nothing here allocates per event
//! once queues have grown to their working size.

mod calls;
mod cells;
mod operations;
mod routing;
mod users;

use super::alert::AlertState;
use super::concurrency::{LimitState, Sample};
use super::event::Event;
use super::ids::{AttemptId, CellId, ClassId, ClientId, RegionId, RequestId, ServiceId, SourceId};
use super::instance::Admission;
use super::limiter::{AttemptKind, BreakerHistory, BreakerPhase, Limiter, Permit};
use super::region::Outliers;
use super::request::{Attempt, NO_ROUTE, Request};
use super::service::ServiceState;
use super::source::{ArrivalProcess, ClassMix};
use super::spec::{Scenario, SourceKind};
use crate::engine::{Model, RngStreams, Sim, SimDuration, SimTime, Slab, StreamRng};
use crate::outcome::FailureReason;
use crate::stats::{InFlight, Recorder, ServiceMeter};
use cells::CellState;
use operations::Backlog;
use rand::RngExt;
use rand_distr::Exp1;
use routing::Route;
use std::sync::atomic::{AtomicBool, Ordering};
use users::ClosedLoop;

/// Which bound stopped a runaway run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardBound {
    /// `guard.max_in_flight`: requests plus attempts alive at once.
    MaxInFlight,
    /// `guard.max_events`: events handled.
    MaxEvents,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardTrip {
    pub bound: GuardBound,
    pub limit: u64,
    pub at: SimTime,
}

struct SourceState {
    /// When its requests start: open arrivals, or users who wait for their requests.
    inflow: Inflow,
    mix: ClassMix,
    client: ClientId,
    rng: StreamRng,
    /// Home regions of its requests (`None` without regions), drawn from their own stream
    /// so regions shift no other draw.
    home: Option<(ClassMix, StreamRng)>,
}

/// Where a user's request comes from.
#[derive(Clone, Copy)]
struct Origin {
    class: ClassId,
    client: ClientId,
    home: Option<RegionId>,
    cell: Option<CellId>,
}

/// How a source's requests start. The closed loop's state (with its random stream) is
/// the larger; a world has a handful of sources, so it is kept inline rather than boxed.
#[allow(clippy::large_enum_variant)]
enum Inflow {
    Open(ArrivalProcess),
    Closed(ClosedLoop),
}

struct ClientState {
    /// Backoff jitter draws.
    rng: StreamRng,
    /// The client's retry limiter or protection, if it has one.
    limiter: Option<Limiter>,
    /// Draws of a probabilistic limiter (adaptive throttling).
    limiter_rng: StreamRng,
    /// Bumped when the timeline swaps the limiter: permits of the old one are dropped.
    limiter_epoch: u32,
    /// Whether and when users try again by hand.
    human_rng: StreamRng,
    /// Circuit breakers the timeline has replaced: their history, and whether any.
    breaker_retired: BreakerHistory,
    had_breaker: bool,
    /// The breaker history as of the last interval row.
    breaker_reported: BreakerHistory,
    /// The router's observed detector, per destination (empty without one).
    outliers: Vec<Outliers>,
}

pub struct World<'a> {
    scenario: &'a Scenario,
    sources: Vec<SourceState>,
    clients: Vec<ClientState>,
    services: Vec<ServiceState>,
    alerts: Vec<AlertState>,
    backlogs: Vec<Backlog>,
    /// Class mix for backlog jobs without a class of their own.
    backlog_rng: StreamRng,
    /// Home regions of backlog jobs without a region of their own (even over the regions).
    backlog_home_rng: StreamRng,
    mix: ClassMix,
    /// Customers' cells and the staged release.
    cells: CellState,
    requests: Slab<Request>,
    attempts: Slab<Attempt>,
    pub recorder: Recorder,
    /// Each client's breaker history when the warm-up ended (empty before), which the
    /// summary's breaker figures count from.
    breakers_at_start: Vec<BreakerHistory>,
    pub tripped: Option<GuardTrip>,
    /// Set from outside (Ctrl-C) to stop the run at the next event.
    interrupt: Option<&'a AtomicBool>,
}

impl<'a> World<'a> {
    /// Builds the world and queues the first events (each source's first arrival, the first
    /// interval boundary).
    pub fn new(
        scenario: &'a Scenario,
        seed: u64,
        interrupt: Option<&'a AtomicBool>,
        sim: &mut Sim<Event>,
    ) -> World<'a> {
        let streams = RngStreams::new(seed);
        let shares = scenario.classes.iter().map(|class| class.share);
        let mix = ClassMix::new(shares);
        let sources = scenario
            .sources
            .iter()
            .map(|source| {
                let inflow = match &source.kind {
                    SourceKind::OpenLoop { profile, cv } => Inflow::Open(ArrivalProcess::new(profile, *cv)),
                    SourceKind::ClosedLoop { users, .. } => Inflow::Closed(ClosedLoop::new(
                        users,
                        streams.stream(&format!("source/{}/think", source.name)),
                    )),
                };
                let home = (!source.home.is_empty()).then(|| {
                    let shares = source.home.iter().map(|&(_, share)| share);
                    (ClassMix::new(shares), streams.stream(&format!("source/{}/home", source.name)))
                });
                SourceState {
                    inflow,
                    mix: mix.clone(),
                    client: source.client,
                    rng: streams.stream(&format!("source/{}", source.name)),
                    home,
                }
            })
            .collect();
        let clients = scenario
            .clients
            .iter()
            .map(|client| ClientState {
                rng: streams.stream(&format!("client/{}/backoff", client.name)),
                limiter: client.limiter.as_ref().map(|spec| spec.build()),
                limiter_rng: streams.stream(&format!("client/{}/limiter", client.name)),
                limiter_epoch: 0,
                human_rng: streams.stream(&format!("client/{}/human", client.name)),
                breaker_retired: BreakerHistory::default(),
                had_breaker: false,
                breaker_reported: BreakerHistory::default(),
                outliers: match &client.router {
                    Some(router) if router.observed.is_some() => {
                        vec![Outliers::default(); router.destinations.len()]
                    }
                    _ => vec![],
                },
            })
            .collect();
        let services = scenario.services.iter().map(|spec| ServiceState::new(spec, &streams)).collect();
        let meters = scenario
            .services
            .iter()
            .map(|spec| {
                let mut meter = ServiceMeter::new(spec.cores, spec.workers, spec.instances);
                if spec.external {
                    meter = meter.provider();
                }
                if let Some(limit) = &spec.overload.concurrency_limit {
                    meter.limit_seen(LimitState::new(limit).current());
                }
                meter
            })
            .collect();
        let mut world = World {
            scenario,
            sources,
            clients,
            services,
            alerts: vec![AlertState::default(); scenario.alerts.len()],
            backlogs: Vec::new(),
            backlog_rng: streams.stream("backlogs"),
            backlog_home_rng: streams.stream("backlogs/home"),
            mix,
            cells: CellState::new(scenario, &streams),
            requests: Slab::default(),
            attempts: Slab::default(),
            recorder: Recorder::new(scenario.classes.len(), scenario.clients.len(), meters)
                .with_regions(
                    scenario.regions.len(),
                    scenario.services.iter().map(|service| service.region).collect(),
                    scenario
                        .clients
                        .iter()
                        .any(|client| client.router.as_ref().is_some_and(|r| r.failover_cap.is_some())),
                )
                .with_cells(
                    scenario.cells.len(),
                    &scenario.services.iter().map(|service| service.cell).collect::<Vec<_>>(),
                    cells::release_log(scenario),
                ),
            breakers_at_start: Vec::new(),
            tripped: None,
            interrupt,
        };
        for idx in 0..world.sources.len() {
            let source = SourceId::from_idx(idx);
            match world.sources[idx].inflow {
                Inflow::Open(_) => world.schedule_next_arrival(sim, source),
                Inflow::Closed(_) => world.on_users_change(sim, source),
            }
        }
        sim.schedule(SimTime::ZERO.after(scenario.interval), Event::IntervalEnd);
        world.schedule_operations(sim);
        world.schedule_release(sim);
        world
    }

    fn schedule_next_arrival(&mut self, sim: &mut Sim<Event>, source: SourceId) {
        let state = &mut self.sources[source.idx()];
        let Inflow::Open(arrivals) = &mut state.inflow else { return };
        if let Some(at) = arrivals.next_arrival(sim.now(), &mut state.rng) {
            sim.schedule(at, Event::Arrival { source });
        }
    }

    fn on_arrival(&mut self, sim: &mut Sim<Event>, source: SourceId) {
        let origin = self.draw_origin(source);
        self.schedule_next_arrival(sim, source);
        self.start_request(sim, origin, None);
    }

    /// What a source's new request is: its class, client, home region and cell, drawn from
    /// the source's streams in that order.
    fn draw_origin(&mut self, source: SourceId) -> Origin {
        let state = &mut self.sources[source.idx()];
        let class = state.mix.pick(&mut state.rng);
        let client = state.client;
        let home = state.home.as_mut().map(|(mix, rng)| mix.pick_slot(rng));
        let home = home.map(|slot| self.scenario.sources[source.idx()].home[slot].0);
        let cell = self.draw_cell(Some(source));
        Origin { class, client, home, cell }
    }

    /// A user (or a released job) asks: a new request, and its first attempt. `user` is
    /// the closed-loop source whose user waits for it.
    fn start_request(&mut self, sim: &mut Sim<Event>, origin: Origin, user: Option<SourceId>) {
        let Origin { class, client, home, cell } = origin;
        self.recorder.offered(class);
        if let Some(home) = home {
            self.recorder.region_offered(home);
        }
        if let Some(cell) = cell {
            self.recorder.cell_offered(cell);
        }
        self.new_request(sim, class, client, None, None, home, cell, user);
    }

    /// Creates a request (a user's, or a downstream call of `parent`) and sends its first
    /// attempt.
    #[allow(clippy::too_many_arguments)]
    fn new_request(
        &mut self,
        sim: &mut Sim<Event>,
        class: ClassId,
        client: ClientId,
        parent: Option<AttemptId>,
        deadline: Option<SimTime>,
        home: Option<RegionId>,
        cell: Option<CellId>,
        user: Option<SourceId>,
    ) {
        self.recorder.hop_request(client);
        let spec = &self.scenario.clients[client.idx()];
        let own_deadline = spec.deadline.map(|deadline| sim.now().after(deadline));
        let request = self.requests.insert(Request {
            class,
            client,
            started: sim.now(),
            arrival: self.recorder.open_interval(),
            n_attempts: 0,
            last_sleep: spec.retry.backoff.base,
            last_failure: FailureReason::Timeout,
            parent,
            deadline: earliest(deadline, own_deadline),
            outstanding: 0,
            human_retries: 0,
            hedge_at: SimTime::ZERO,
            home,
            cell,
            user,
            slot: NO_ROUTE,
        });
        self.check_in_flight(sim.now());
        self.send_attempt(sim, request);
    }

    /// Sends the request's next attempt to an instance of its client's target service,
    /// if the client's limiter lets it go and its deadline has not passed.
    fn send_attempt(&mut self, sim: &mut Sim<Event>, request_id: RequestId) {
        let Some(request) = self.requests.get(request_id) else { return };
        let now = sim.now();
        let kind = match request.n_attempts {
            0 => AttemptKind::First,
            _ => AttemptKind::Retry { after: request.last_failure },
        };
        let (class, client_id, top_level, deadline, outstanding) =
            (request.class, request.client, request.parent.is_none(), request.deadline, request.outstanding);
        let (home, last_slot, cell) = (request.home, request.slot, request.cell);
        // A hedged request with attempts still out waits for them instead of failing.
        let give_up = |world: &mut Self, sim: &mut Sim<Event>, reason| {
            if outstanding == 0 {
                world.request_failed(sim, request_id, reason);
            }
        };
        if deadline.is_some_and(|deadline| now >= deadline) {
            give_up(self, sim, FailureReason::DeadlineExceeded);
            return;
        }
        let limiter_epoch = self.clients[client_id.idx()].limiter_epoch;
        let permit = match self.acquire(now, client_id, kind) {
            Ok(permit) => permit,
            Err(refusal) => {
                // A refusal by the client's own limiter is final: retrying it would only ask
                // the same limiter again (and a throttled hedging client sends no more hedges).
                give_up(self, sim, refusal);
                return;
            }
        };
        let client = &self.scenario.clients[client_id.idx()];
        let request = self.requests.get_mut(request_id).expect("looked up above");
        request.n_attempts += 1;
        request.outstanding += 1;
        self.recorder.attempt_sent(class, kind != AttemptKind::First, top_level, client_id);
        if let (true, Some(cell)) = (top_level, cell) {
            self.recorder.cell_attempt(cell, kind != AttemptKind::First);
        }
        if let Some(hedge) = client.hedge {
            if kind != AttemptKind::First {
                self.recorder.hedge_sent(client_id);
            }
            if request.n_attempts < hedge.max_attempts {
                request.hedge_at = now.after(hedge.delay);
                sim.schedule(request.hedge_at, Event::HedgeDue { request: request_id });
            } else {
                // The last attempt is out: a timer still pending is stale.
                request.hedge_at = SimTime::MAX;
            }
        }
        let route = match &client.router {
            None => Route::DIRECT,
            Some(router) => {
                let first = kind == AttemptKind::First;
                match self.route(now, client_id, router, home, first, last_slot) {
                    Ok(route) => {
                        self.requests.get_mut(request_id).expect("looked up above").slot = route.slot;
                        route
                    }
                    Err(reason) => {
                        self.release(now, client_id, limiter_epoch, permit, Err(reason));
                        self.attempt_failed(sim, request_id, reason);
                        return;
                    }
                }
            }
        };
        let service_id = route.service.unwrap_or_else(|| client.pool_in(cell));
        if route.crossing_delay.0 > 0 {
            self.send_across(sim, request_id, class, client_id, service_id, route, permit, limiter_epoch);
            return;
        }
        let service = &mut self.services[service_id.idx()];
        let Some(instance) = service.pick_instance() else {
            self.release(now, client_id, limiter_epoch, permit, Err(FailureReason::NoCapacity));
            self.observe(now, client_id, route.slot, true, None);
            self.attempt_failed(sim, request_id, FailureReason::NoCapacity);
            return;
        };
        if route.foreign {
            service.foreign_in_flight += 1;
        }
        let spec = &self.scenario.services[service_id.idx()];
        let mut cpu = service.cpu_cost(spec, class, instance, now);
        let setup = service.connection_cost(spec, instance);
        if setup.0 > 0 {
            cpu = SimDuration(cpu.0 + setup.0);
            self.recorder.service(service_id).connection_setup(setup);
        }
        // The caller gives up at its timeout, or at the request's deadline if sooner.
        let timeout_at = client.timeout.map(|timeout| now.after(timeout));
        let attempt_deadline = earliest(timeout_at, deadline);
        let attempt_id = self.attempts.insert(Attempt {
            request: request_id,
            client: client_id,
            class,
            service: service_id,
            instance,
            arrived: now,
            got_worker: now,
            cpu,
            abandoned: false,
            permit,
            limiter_epoch,
            deadline: attempt_deadline,
            call_cursor: 0,
            calls_pending: 0,
            top_level,
            hedged: client.hedge.is_some(),
            rejecting: false,
            sent: now,
            slot: route.slot,
            foreign: route.foreign,
        });
        self.check_in_flight(now);
        match (attempt_deadline, timeout_at) {
            (Some(at), Some(timeout_at)) if at == timeout_at => {
                // Every attempt of a client gets the same timeout: one FIFO lane per client.
                let timeout = client.timeout.expect("timeout_at comes from it");
                sim.schedule_in_lane(client_id.idx(), timeout, Event::AttemptTimeout { attempt: attempt_id });
            }
            (Some(at), _) => sim.schedule(at, Event::AttemptTimeout { attempt: attempt_id }),
            (None, _) => {}
        }
        self.admit(sim, attempt_id, class, service_id, instance);
    }

    /// An attempt reaches its instance: a worker, the queue, or a fast rejection.
    fn admit(
        &mut self,
        sim: &mut Sim<Event>,
        attempt_id: AttemptId,
        class: ClassId,
        service: ServiceId,
        instance: u32,
    ) {
        let now = sim.now();
        let spec = &self.scenario.services[service.idx()];
        let meter = self.recorder.service(service);
        meter.arrived();
        let state = &mut self.services[service.idx()];
        let shed = spec.overload.shed_above.is_some()
            && self.scenario.classes[class.idx()].sheddable
            && state.sheds(spec, instance, now);
        let admission = if !shed && state.admits(now) {
            state.instances[instance as usize].admit(now, attempt_id, spec)
        } else {
            Admission::Rejected
        };
        match admission {
            Admission::Worker => {
                meter.admitted(now, false);
                self.take_core(sim, attempt_id);
            }
            Admission::Queued => meter.admitted(now, true),
            Admission::Rejected | Admission::OverLimit => {
                if admission == Admission::OverLimit {
                    meter.rejected_by_limit();
                } else {
                    meter.rejected();
                }
                self.reject(sim, attempt_id, service, instance);
            }
        }
    }

    /// Turns an attempt away at the door: the 503 goes back at once, or, when the service
    /// states a `reject_cpu`, once that CPU is burnt on one of the instance's cores (no
    /// worker taken; it waits for a core like any CPU work). Meanwhile it stays in the slab,
    /// so a timeout or the instance's loss finds it.
    fn reject(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId, service: ServiceId, instance: u32) {
        let now = sim.now();
        let spec = &self.scenario.services[service.idx()];
        let reject_cpu = spec.overload.reject_cpu;
        if reject_cpu.0 == 0 {
            let attempt = self.attempts.remove(attempt_id).expect("attempt just inserted");
            self.attempt_left(&attempt);
            self.answer_rejection(sim, attempt);
            return;
        }
        let attempt = self.attempts.get_mut(attempt_id).expect("attempt just inserted");
        attempt.rejecting = true;
        attempt.cpu = reject_cpu;
        let state = &mut self.services[service.idx()].instances[instance as usize];
        if state.acquire_core(now, attempt_id, spec) {
            self.recorder.service(service).rejection_core_taken(now);
            sim.schedule_in(reject_cpu, Event::CpuDone { attempt: attempt_id });
        }
    }

    /// The 503 reaches the caller, which may retry.
    fn answer_rejection(&mut self, sim: &mut Sim<Event>, attempt: Attempt) {
        let now = sim.now();
        let reason = FailureReason::Rejected;
        self.release(now, attempt.client, attempt.limiter_epoch, attempt.permit, Err(reason));
        self.observe(now, attempt.client, attempt.slot, true, Some(now.since(attempt.sent)));
        if attempt.top_level {
            self.recorder.attempt_answered(attempt.class, now.since(attempt.sent));
        }
        self.attempt_failed(sim, attempt.request, reason);
    }

    /// A rejection has burnt its CPU: it answers, unless its caller has given up (then the
    /// 503 goes nowhere), and a draining instance it kept up may stop.
    fn rejection_burnt(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId) {
        let attempt = self.attempts.remove(attempt_id).expect("the burning attempt is alive");
        self.attempt_left(&attempt);
        self.recorder.service(attempt.service).rejection_answered(attempt.cpu.0);
        self.services[attempt.service.idx()].stop_if_drained(attempt.instance);
        if !attempt.abandoned && !self.cancel_if_orphan(&attempt) {
            self.answer_rejection(sim, attempt);
        }
    }

    /// An attempt holding a worker asks for a core; it burns its CPU now or waits.
    fn take_core(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId) {
        let attempt = self.attempts.get(attempt_id).expect("attempt holds a worker");
        let (service, instance, cpu) = (attempt.service, attempt.instance, attempt.cpu);
        let spec = &self.scenario.services[service.idx()];
        let instance = &mut self.services[service.idx()].instances[instance as usize];
        if instance.acquire_core(sim.now(), attempt_id, spec) {
            self.recorder.service(service).core_taken(sim.now(), 0);
            sim.schedule_in(cpu, Event::CpuDone { attempt: attempt_id });
        }
    }

    fn on_cpu_done(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId) {
        let now = sim.now();
        // A stale key: the attempt's instance was lost and its attempts failed.
        let Some(attempt) = self.attempts.get(attempt_id) else { return };
        let (service_id, instance_idx) = (attempt.service, attempt.instance as usize);
        let service = service_id.idx();
        let rejecting = attempt.rejecting;
        self.recorder.events.completions += 1;
        let meter = self.recorder.service(service_id);
        let instance = &mut self.services[service].instances[instance_idx];
        meter.core_released(now);
        if let Some(next_id) = instance.release_core(now) {
            let next = self.attempts.get(next_id).expect("queued attempt is alive");
            if next.rejecting {
                meter.rejection_core_taken(now);
            } else {
                meter.core_taken(now, now.since(next.got_worker).0);
            }
            sim.schedule_in(next.cpu, Event::CpuDone { attempt: next_id });
        }
        if rejecting {
            self.rejection_burnt(sim, attempt_id);
            return;
        }
        if self.services[service].answers_with_error() {
            if !self.attempts.get(attempt_id).expect("looked up above").abandoned {
                self.recorder.service(service_id).errored();
            }
            self.finish_attempt(sim, attempt_id, Err(FailureReason::DependencyError));
            return;
        }
        // Downstream calls hold the worker; the attempt answers once they are done.
        if self.scenario.services[service].calls.is_empty() || !self.start_calls(sim, attempt_id) {
            self.finish_attempt(sim, attempt_id, Ok(()));
        }
    }

    /// The attempt is done at its instance (its CPU burnt, its calls answered): it frees
    /// its worker and answers its caller, unless the caller has given up (wasted work).
    fn finish_attempt(
        &mut self,
        sim: &mut Sim<Event>,
        attempt_id: AttemptId,
        outcome: Result<(), FailureReason>,
    ) {
        let now = sim.now();
        let Some(attempt) = self.attempts.remove(attempt_id) else { return };
        self.attempt_left(&attempt);
        let meter = self.recorder.service(attempt.service);
        meter.completed(now, now.since(attempt.arrived).0, attempt.cpu.0, attempt.abandoned);
        self.sample_limit(now, &attempt);
        self.hand_over_worker(sim, attempt.service, attempt.instance);
        if attempt.abandoned || self.cancel_if_orphan(&attempt) {
            // A provider's answer time is no CPU of ours.
            if !self.scenario.services[attempt.service.idx()].external {
                self.recorder.wasted(attempt.class, attempt.cpu);
            }
            return;
        }
        self.release(now, attempt.client, attempt.limiter_epoch, attempt.permit, outcome);
        self.observe(now, attempt.client, attempt.slot, outcome.is_err(), Some(now.since(attempt.sent)));
        if attempt.top_level {
            self.recorder.attempt_answered(attempt.class, now.since(attempt.sent));
        }
        match outcome {
            Ok(()) => self.request_succeeded(sim, attempt.request),
            Err(reason) => self.attempt_failed(sim, attempt.request, reason),
        }
    }

    /// The instance's concurrency limit learns from a completed attempt: its time at the
    /// instance, whether its caller had given up, and the attempts in progress as it
    /// completes, itself included. (Netflix takes that count when the request starts; at
    /// completion it needs nothing kept per attempt, and under the sustained load where
    /// the limit matters the two agree.)
    #[inline]
    fn sample_limit(&mut self, now: SimTime, attempt: &Attempt) {
        let service = attempt.service.idx();
        let Some(spec) = &self.scenario.services[service].overload.concurrency_limit else { return };
        let instance = &mut self.services[service].instances[attempt.instance as usize];
        let sample = Sample {
            rtt: now.since(attempt.arrived),
            inflight: instance.outstanding(),
            dropped: attempt.abandoned,
        };
        let before = instance.limit.current();
        instance.limit.update(spec, sample);
        let after = instance.limit.current();
        if after != before {
            self.recorder.service(attempt.service).limit_seen(after);
        }
    }

    /// A worker came free: the next queued attempt the discipline picks takes it, unless
    /// overload control drops it first (its caller gave up, or CoDel says it waited too
    /// long), in which case the next one is tried.
    fn hand_over_worker(&mut self, sim: &mut Sim<Event>, service: ServiceId, instance: u32) {
        let now = sim.now();
        let overload = &self.scenario.services[service.idx()].overload;
        loop {
            let state = &mut self.services[service.idx()].instances[instance as usize];
            let nonempty_since = state.nonempty_since;
            let Some(next_id) = state.release_worker(now, &overload.discipline) else {
                self.services[service.idx()].stop_if_drained(instance);
                return;
            };
            let next = self.attempts.get_mut(next_id).expect("queued attempt is alive");
            let waited = now.since(next.arrived);
            let meter = self.recorder.service(service);
            let expired =
                overload.discipline.codel().is_some_and(|codel| waited > codel.max_wait(now, nonempty_since));
            let gave_up = next.abandoned || next.hedged && !self.requests.contains(next.request);
            if !(expired || overload.drop_abandoned && gave_up) {
                next.got_worker = now;
                meter.dequeued(now, waited.0);
                self.take_core(sim, next_id);
                return;
            }
            // Dropped: the worker goes to the queue's next attempt, round the loop.
            let dropped = self.attempts.remove(next_id).expect("queued attempt is alive");
            meter.dropped(now, gave_up);
            self.attempt_left(&dropped);
            if gave_up {
                self.cancel_if_orphan(&dropped);
            } else {
                let reason = FailureReason::Rejected;
                self.release(now, dropped.client, dropped.limiter_epoch, dropped.permit, Err(reason));
                self.observe(now, dropped.client, dropped.slot, true, Some(now.since(dropped.sent)));
                self.attempt_failed(sim, dropped.request, reason);
            }
        }
    }

    fn on_attempt_timeout(&mut self, sim: &mut Sim<Event>, attempt_id: AttemptId) {
        // A stale key means the attempt already finished: nothing to time out.
        let Some(attempt) = self.attempts.get_mut(attempt_id) else { return };
        attempt.abandoned = true;
        let (request, client, permit) = (attempt.request, attempt.client, attempt.permit.take());
        let (epoch, slot) = (attempt.limiter_epoch, attempt.slot);
        if attempt.hedged && !self.requests.contains(request) {
            // A hedge its request no longer waits for: cancelled, not timed out.
            self.cancel(client, epoch, permit);
            return;
        }
        self.release(sim.now(), client, epoch, permit, Err(FailureReason::Timeout));
        self.observe(sim.now(), client, slot, true, None);
        self.recorder.events.timeouts += 1;
        self.attempt_failed(sim, request, FailureReason::Timeout);
    }

    /// The client saw an attempt fail: retry after a backoff, or fail the request.
    fn attempt_failed(&mut self, sim: &mut Sim<Event>, request_id: RequestId, reason: FailureReason) {
        let Some(request) = self.requests.get_mut(request_id) else { return };
        request.last_failure = reason;
        request.outstanding -= 1;
        let client = &self.scenario.clients[request.client.idx()];
        let policy = &client.retry;
        if let Some(hedge) = client.hedge {
            // gRPC hedging: a fatal failure settles the request at once; a non-fatal one
            // sends the next hedge now, or waits for the attempts still out.
            if !policy.retry_on.covers(reason) {
                self.request_failed(sim, request_id, reason);
            } else if request.n_attempts < hedge.max_attempts {
                self.send_attempt(sim, request_id);
            } else if request.outstanding == 0 {
                self.request_failed(sim, request_id, reason);
            }
            return;
        }
        if policy.should_retry(request.n_attempts, reason) {
            let rng = &mut self.clients[request.client.idx()].rng;
            let delay = policy.backoff.delay(request.n_attempts, request.last_sleep, rng);
            request.last_sleep = delay;
            sim.schedule_in(delay, Event::BackoffElapsed { request: request_id });
        } else {
            self.request_failed(sim, request_id, reason);
        }
    }

    /// A request failed for good: the user sees it, or the calling attempt does.
    fn request_failed(&mut self, sim: &mut Sim<Event>, request_id: RequestId, reason: FailureReason) {
        let Some(request) = self.requests.remove(request_id) else { return };
        self.recorder.hop_finished(request.client, false);
        match request.parent {
            None if self.user_tries_again(sim, &request) => {}
            None => {
                self.recorder.failed(request.class, reason, request.arrival);
                if let Some(home) = request.home {
                    self.recorder.region_failed(home, reason);
                }
                if let Some(cell) = request.cell {
                    self.cell_finished(cell, Err(reason));
                }
                if let Some(source) = request.user {
                    self.user_settled(sim, source);
                }
            }
            Some(parent) => self.call_answered(sim, parent, Err(reason)),
        }
    }

    /// A user whose request just failed may try again by hand after a think time: a new
    /// request through the same client (a new round of its automatic retries), for the
    /// same offered request, so the user's latency still runs from the first try.
    fn user_tries_again(&mut self, sim: &mut Sim<Event>, failed: &Request) -> bool {
        let client = &self.scenario.clients[failed.client.idx()];
        let Some(human) = client.human_retry else { return false };
        let rng = &mut self.clients[failed.client.idx()].human_rng;
        if failed.human_retries >= human.max_retries || rng.random::<f64>() >= human.probability {
            return false;
        }
        let draw: f64 = rng.sample(Exp1);
        let think = SimDuration::from_secs_f64(human.think_time.as_secs_f64() * draw);
        let tries_at = sim.now().after(think);
        let request = self.requests.insert(Request {
            n_attempts: 0,
            last_sleep: client.retry.backoff.base,
            deadline: client.deadline.map(|deadline| tries_at.after(deadline)),
            outstanding: 0,
            human_retries: failed.human_retries + 1,
            slot: NO_ROUTE,
            ..*failed
        });
        self.recorder.hop_request(failed.client);
        self.recorder.human_retry(failed.class, failed.client);
        self.check_in_flight(sim.now());
        sim.schedule(tries_at, Event::BackoffElapsed { request });
        true
    }

    /// A hedge whose request another attempt has settled: its permit is handed back
    /// without an outcome (a cancelled call counts for no limiter). True if it was one.
    pub(super) fn cancel_if_orphan(&mut self, attempt: &Attempt) -> bool {
        if !attempt.hedged || self.requests.contains(attempt.request) {
            return false;
        }
        self.cancel(attempt.client, attempt.limiter_epoch, attempt.permit);
        true
    }

    /// Frees a permit without an outcome (a cancelled attempt).
    fn cancel(&mut self, client: ClientId, epoch: u32, permit: Option<Permit>) {
        if let (Some(permit), Some(limiter)) = (permit, self.limiter_of(client, epoch)) {
            limiter.cancel(permit);
        }
    }

    fn on_hedge_due(&mut self, sim: &mut Sim<Event>, request_id: RequestId) {
        // Stale: the request was settled, or a failure sent the next hedge early.
        let Some(request) = self.requests.get(request_id) else { return };
        if request.hedge_at == sim.now() {
            self.send_attempt(sim, request_id);
        }
    }

    /// Asks the client's limiter, if any, to let an attempt go.
    #[inline]
    fn acquire(
        &mut self,
        now: SimTime,
        client: ClientId,
        kind: AttemptKind,
    ) -> Result<Option<Permit>, FailureReason> {
        let state = &mut self.clients[client.idx()];
        match &mut state.limiter {
            Some(limiter) => limiter.try_acquire(now, kind, &mut state.limiter_rng).map(Some),
            None => Ok(None),
        }
    }

    /// Hands a permit back to the client's limiter with the attempt's outcome; a permit of
    /// a limiter the timeline has since replaced is dropped.
    #[inline]
    fn release(
        &mut self,
        now: SimTime,
        client: ClientId,
        epoch: u32,
        permit: Option<Permit>,
        outcome: Result<(), FailureReason>,
    ) {
        if let (Some(permit), Some(limiter)) = (permit, self.limiter_of(client, epoch)) {
            limiter.release(now, permit, outcome);
        }
    }

    /// The client's limiter, if it is still the one of `epoch` (the timeline may have
    /// replaced it since the permit was granted).
    #[inline]
    fn limiter_of(&mut self, client: ClientId, epoch: u32) -> Option<&mut Limiter> {
        let state = &mut self.clients[client.idx()];
        if epoch == state.limiter_epoch { state.limiter.as_mut() } else { None }
    }

    fn on_backoff_elapsed(&mut self, sim: &mut Sim<Event>, request: RequestId) {
        self.recorder.events.backoff_wakes += 1;
        self.send_attempt(sim, request);
    }

    fn request_succeeded(&mut self, sim: &mut Sim<Event>, request_id: RequestId) {
        let Some(request) = self.requests.remove(request_id) else { return };
        self.recorder.hop_finished(request.client, true);
        match request.parent {
            None => {
                let latency = sim.now().since(request.started);
                self.recorder.succeeded(request.class, latency, request.arrival);
                if let Some(home) = request.home {
                    self.recorder.region_succeeded(home, latency);
                }
                if let Some(cell) = request.cell {
                    self.cell_finished(cell, Ok(latency));
                }
                if let Some(source) = request.user {
                    self.user_settled(sim, source);
                }
            }
            Some(parent) => self.call_answered(sim, parent, Ok(())),
        }
    }

    fn on_interval_end(&mut self, sim: &mut Sim<Event>) {
        let now = sim.now();
        self.recorder.close_interval(now);
        self.annotate_interval(now);
        self.evaluate_alerts(sim);
        if now.0 == self.scenario.warmup.0 {
            self.start_measuring(now);
        }
        sim.schedule_in(self.scenario.interval, Event::IntervalEnd);
    }

    /// Ends the warm-up at `now`: the recorder restarts every whole-run figure, and learns
    /// what it cannot see itself (the users' requests in flight, each breaker's history so
    /// far, the concurrency limits in force).
    pub fn start_measuring(&mut self, now: SimTime) {
        let in_flight = self.users_in_flight();
        self.recorder.start_measuring(now, in_flight);
        self.breakers_at_start = (0..self.clients.len())
            .map(|idx| self.breaker_history(ClientId::from_idx(idx), now).map(|(history, _)| history))
            .map(Option::unwrap_or_default)
            .collect();
        for (idx, (service, spec)) in self.services.iter().zip(&self.scenario.services).enumerate() {
            let Some(limit) = &spec.overload.concurrency_limit else { continue };
            let limits: Vec<u32> =
                service.ready.iter().map(|&idx| service.instances[idx as usize].limit.current()).collect();
            let meter = self.recorder.service(ServiceId::from_idx(idx));
            if limits.is_empty() {
                meter.limit_seen(LimitState::new(limit).current());
            }
            for limit in limits {
                meter.limit_seen(limit);
            }
        }
    }

    #[inline]
    fn check_in_flight(&mut self, now: SimTime) {
        let in_flight = (self.requests.len() + self.attempts.len()) as u64;
        self.recorder.in_flight(in_flight);
        let limit = self.scenario.guard.max_in_flight;
        if in_flight > limit && self.tripped.is_none() {
            self.tripped = Some(GuardTrip { bound: GuardBound::MaxInFlight, limit, at: now });
        }
    }

    /// Closes the last (possibly short) interval at the end of the run.
    pub fn close_last_interval(&mut self, now: SimTime) {
        let rows_before = self.recorder.last_row().map(|row| row.end);
        self.recorder.close_interval(now);
        if self.recorder.last_row().map(|row| row.end) != rows_before {
            self.annotate_interval(now);
        }
    }

    /// Whether the run was asked to stop from outside.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// Users' requests alive now, per class (for the conservation figure at the end);
    /// downstream calls in flight belong to their users' requests.
    pub fn requests_in_flight_per_class(&self) -> Vec<u64> {
        let mut counts = vec![0; self.scenario.classes.len()];
        for request in self.requests.values().filter(|request| request.parent.is_none()) {
            counts[request.class.idx()] += 1;
        }
        counts
    }

    /// Users' requests alive now, by class, home region and cell.
    fn users_in_flight(&self) -> InFlight {
        let scenario = self.scenario;
        let mut res = InFlight {
            classes: vec![0; scenario.classes.len()],
            regions: vec![0; scenario.regions.len()],
            cells: vec![0; scenario.cells.len()],
        };
        for request in self.requests.values().filter(|request| request.parent.is_none()) {
            res.classes[request.class.idx()] += 1;
            if let Some(home) = request.home {
                res.regions[home.idx()] += 1;
            }
            if let Some(cell) = request.cell {
                res.cells[cell.idx()] += 1;
            }
        }
        res
    }

    /// A client's circuit breakers up to `now` (the current one and any the timeline
    /// replaced) and the current state; `None` if it never had one. With its breaker
    /// switched off, calls flow: closed.
    pub fn breaker_history(&self, client: ClientId, now: SimTime) -> Option<(BreakerHistory, BreakerPhase)> {
        let state = &self.clients[client.idx()];
        match state.limiter.as_ref().and_then(|limiter| limiter.breaker()) {
            Some(breaker) => Some((state.breaker_retired.plus(breaker.history(now)), breaker.phase(now))),
            None if state.had_breaker => Some((state.breaker_retired, BreakerPhase::Closed)),
            None => None,
        }
    }

    /// `breaker_history` over the measured stretch: since the warm-up ended, if it has.
    pub fn breaker_history_measured(
        &self,
        client: ClientId,
        now: SimTime,
    ) -> Option<(BreakerHistory, BreakerPhase)> {
        let (history, phase) = self.breaker_history(client, now)?;
        let at_start = self.breakers_at_start.get(client.idx()).copied().unwrap_or_default();
        Some((history.since(at_start), phase))
    }

    pub fn instances_per_service(&self) -> Vec<u32> {
        self.services.iter().map(|service| service.ready.len() as u32).collect()
    }
}

/// The earlier of two optional instants.
fn earliest(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Model for World<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, sim: &mut Sim<Event>, event: Event) {
        match event {
            Event::Arrival { source } => self.on_arrival(sim, source),
            Event::UserReady { source } => self.on_user_ready(sim, source),
            Event::UsersChange { source } => self.on_users_change(sim, source),
            Event::BackoffElapsed { request } => self.on_backoff_elapsed(sim, request),
            Event::AttemptTimeout { attempt } => self.on_attempt_timeout(sim, attempt),
            Event::AttemptArrives { attempt } => self.on_attempt_arrives(sim, attempt),
            Event::HedgeDue { request } => self.on_hedge_due(sim, request),
            Event::CpuDone { attempt } => self.on_cpu_done(sim, attempt),
            Event::IntervalEnd => self.on_interval_end(sim),
            Event::Timeline { index } => self.on_timeline(sim, index),
            Event::OperatorAction { alert } => self.on_operator_action(sim, alert),
            Event::BacklogJob { backlog } => self.on_backlog_job(sim, backlog),
            Event::InstanceBooted { service, instance, epoch } => {
                self.on_instance_booted(sim, service, instance, epoch)
            }
            Event::MetricsSample { service } => self.on_metrics_sample(sim, service),
            Event::MetricsDelivered { service } => self.services[service.idx()].metrics.deliver(),
            Event::AutoscalerSync { service } => self.on_autoscaler_sync(sim, service),
            Event::Release => self.on_release(sim),
        }
    }

    #[inline]
    fn should_stop(&self, sim: &Sim<Event>) -> bool {
        self.tripped.is_some() || sim.events_popped() >= self.scenario.guard.max_events || self.interrupted()
    }
}
